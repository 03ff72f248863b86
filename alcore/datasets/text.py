"""Text from user files: decoding the encodings people actually produce, and parser failures in plain words.

Every importer decodes user bytes here: UTF-8, with or without a byte-order mark, and UTF-16 with a byte-order mark
(what Windows editors and PowerShell write) are read; anything else is refused naming the line and the byte, and so is
text holding NUL bytes (binary data, or UTF-16 without a byte-order mark). ``reader_problem`` turns an exception
raised by a third-party parser (ase, pandas, pymatgen, json) into a short sentence without Python class names or
escaped reprs, because it is shown to the user as is.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from typing import Any

from alcore.datasets.base import DatasetError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

MAX_JSON_CONTAINERS = 2_000_000
MAX_JSON_VALUES = 6_000_000
"""Caps on the lists/objects and on the values of one JSON document. Python needs ~70 bytes per empty list and ~30
per number, so 45 MB of ``[[],[],...]`` would take 1 GB to parse; a real 50 MB mlearn file has ~1.6 million lists
and objects and ~3 million values."""
_CHECK_CHUNK = 1 << 20
MAX_PROBLEM_CHARS = 200


def utf8_bytes(data: bytes, label: str) -> bytes:
    """``data`` as UTF-8 without a byte-order mark (UTF-16 with a mark is converted), or a ``DatasetError``.

    The check runs over 1 MiB pieces, so a large file is not copied just to be validated.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(label, f"damaged UTF-16 text (byte {exc.start})") from None
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHECK_CHUNK):
            decoder.decode(view[start : start + _CHECK_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise DatasetError(label, _not_utf8_problem(data)) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DatasetError(label, _nul_problem(data, nul))
    return data


def decode_text(data: bytes, label: str) -> str:
    """The text of a user file (see ``utf8_bytes`` for what is accepted)."""
    return utf8_bytes(data, label).decode("utf-8")


def text_stream(data: bytes) -> io.TextIOWrapper:
    """A text file object over bytes ``utf8_bytes`` returned, for parsers that read line by line (ase): decoded
    piece by piece, with universal newlines, instead of one more full-size (and 4-byte-per-character) copy."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None)


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _nul_problem(data: bytes, position: int) -> str:
    head = data[:200]
    if head.count(b"\x00") * 3 >= len(head):
        return "this looks like UTF-16 text without a byte-order mark, or binary data; save the file as UTF-8 text"
    return f"line {_line_of(data, position)} contains a NUL byte: the file is binary or damaged"


def _not_utf8_problem(data: bytes) -> str:
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        bad = data[exc.start]
        if line == 1 and exc.start < 4:
            return f"not UTF-8 text (byte {bad:#04x} at the start): a binary file, or text in another encoding"
        return f"not UTF-8 text: line {line} has the byte {bad:#04x}; save the file as UTF-8"
    return "not UTF-8 text"


def parse_json(text: str, label: str, skipped_lines: int = 0) -> Any:
    """``json.loads(text)``; any failure is a ``DatasetError`` saying where and what (``skipped_lines``: lines removed
    from the top before parsing, so line numbers match the file)."""
    containers, values = text.count("[") + text.count("{"), text.count(",")
    if containers > MAX_JSON_CONTAINERS or values > MAX_JSON_VALUES:
        raise DatasetError(
            label, f"the JSON holds {containers} lists and objects and {values} separators, more than can be read "
            f"safely (at most {MAX_JSON_CONTAINERS} and {MAX_JSON_VALUES})",
        )  # fmt: skip
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = exc.lineno + skipped_lines
        if exc.pos >= len(text.rstrip()) - 1:
            problem = f"line {line}: invalid JSON ({exc.msg}): it ends too early; truncated file?"
            raise DatasetError(label, problem) from None
        raise DatasetError(label, f"line {line}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise DatasetError(label, "the JSON is nested too deeply to be a dataset") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise DatasetError(label, f"invalid JSON ({reader_problem(exc)})") from None


_PYTHON_PHRASES = (
    (re.compile(r"invalid literal for int\(\) with base 10: (.*)", re.S), r"\1 is not a whole number"),
    (re.compile(r"could not convert string to float: (.*)", re.S), r"\1 is not a number"),
    (re.compile(r"Exceeds the limit \(\d+ digits\) for integer string conversion.*", re.S),
     "a number has too many digits"),
    (re.compile(r"Error tokenizing data\. C error: EOF inside string starting at row (\d+)", re.S),
     r"a quoted field that starts at row \1 is never closed; is the file truncated?"),
    (re.compile(r"Error tokenizing data\. C error: (.*)", re.S), r"\1"),
    (re.compile(r"No columns to parse from file"), "no columns (empty table)"),
    (re.compile(r"could not broadcast input array from shape.*", re.S),
     "a line holds the wrong number of values, or the file ends too early"),
)  # fmt: skip
_MODULE_PREFIX = re.compile(r"^(?:[a-z_]+\.)+[a-z_]+:\s*")
_ESCAPES = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[nrt0])")


def reader_problem(exc: BaseException) -> str:
    """What a parser's exception says, in words: no class name, no module prefix, no escape sequences, short."""
    if isinstance(exc, KeyError) and exc.args:
        message = f"unknown or missing name '{exc.args[0]}'"
    else:
        message = str(exc)
    message = _MODULE_PREFIX.sub("", message.strip())
    for pattern, replacement in _PYTHON_PHRASES:
        message = pattern.sub(replacement, message)
    message = _ESCAPES.sub(" ", message)
    message = "".join(ch if ch.isprintable() else " " for ch in message)
    message = re.sub(r"\s+", " ", message).strip()
    if not message:
        return "the content does not have the expected layout"
    if len(message) > MAX_PROBLEM_CHARS:
        message = message[: MAX_PROBLEM_CHARS - 1].rstrip() + "…"
    return message
