"""Which names may become file names (cache entries, fetched pools, run files).

Cache entries and fetched pools are named after things users type (a chemical system, a dataset name), so every
name that becomes one path component goes through ``check_name`` first: nothing can point outside its folder.
"""

from __future__ import annotations

import re

MAX_NAME_BYTES = 180
"""Longest accepted name (UTF-8 bytes): room for a suffix and our temporary-file prefix within the usual 255."""

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_WINDOWS_DEVICES = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)


def check_name(name: object, what: str = "name") -> str:
    """``name`` if it is usable as one file or folder name on any platform, else a ``ValueError`` saying why.

    Refused: empty, not a string, ``.``/``..`` or a leading dot (hidden files and our temporary files), separators
    (``/`` and ``\\``), control characters (NUL...), characters Windows forbids (``:*?"<>|``), Windows device names,
    a trailing dot or space, lone surrogates, and names longer than ``MAX_NAME_BYTES`` bytes.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} {name!r} cannot be a file name: it must be a non-empty string")
    shown = repr(name) if len(name) <= 60 else repr(name[:40]) + f"... ({len(name)} characters)"
    problem = None
    bad = _FORBIDDEN.search(name)
    if name.startswith("."):
        problem = "it starts with '.'"
    elif bad is not None:
        problem = f"it contains {bad.group()!r}"
    elif name.endswith((" ", ".")) or _WINDOWS_DEVICES.fullmatch(name):
        problem = "it is not portable (a Windows device name, or a trailing dot or space)"
    else:
        try:
            size = len(name.encode("utf-8"))
        except UnicodeEncodeError:
            size, problem = 0, "it is not valid Unicode text (a lone surrogate)"
        if size > MAX_NAME_BYTES:
            problem = f"it is {size} bytes long (at most {MAX_NAME_BYTES})"
    if problem is not None:
        raise ValueError(f"{what} {shown} cannot be a file name: {problem}")
    return name
