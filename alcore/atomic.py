"""Atomic file writes: write to a temporary file in the same folder, fsync, then rename over the target.

A reader sees either the old file or the new one, never a half-written file, even if the writer is killed (the folder
is fsynced after the rename too, so the new name also survives a power cut). A killed writer leaves its temporary file
behind: it is hidden (``.<target>.<host>-<pid>.<random>.tmp``), never matches the target's name, and the next write
into the same folder removes it once its writer is known to be dead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import tempfile
import time
import zipfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np

TEMP_NAME_CHARS = 64
"""How much of the target's name a temporary file repeats (keeps temp names short whatever the target's length)."""
FOREIGN_TEMP_SECONDS = 24 * 3600
"""A temporary file written from another host or container (a shared folder) is stale only after this long: its pid
means nothing here."""


@lru_cache(maxsize=1)
def _host_tag() -> str:
    """Who can judge a pid: this host *and* this pid namespace (two containers sharing a folder and a host name
    still see different processes under one pid)."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    return hashlib.sha256(f"{socket.gethostname()}|{namespace}".encode("utf-8", "replace")).hexdigest()[:8]


def _temp_prefix(target: Path) -> str:
    return f".{target.name[:TEMP_NAME_CHARS]}."


_TEMP_NAME = re.compile(r"\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[A-Za-z0-9_]+(\.[A-Za-z0-9]+)?\.tmp")


def _writer_is_gone(host: str, pid: int, mtime: float) -> bool:
    if host != _host_tag():
        return time.time() - mtime > FOREIGN_TEMP_SECONDS
    if pid == os.getpid():
        return False  # another thread of this process may be writing it right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: the process exists under another user
        return False
    return False


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed writers left in ``folder``; returns what was removed.

    Only files named like this module's temporary files are considered, and only when their writer process no
    longer exists (same host) or they are older than ``FOREIGN_TEMP_SECONDS`` (written from another host). A dead
    writer's file is garbage whatever its target: a content-addressed target may never be written again."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if _writer_is_gone(match["host"], int(match["pid"]), entry.stat(follow_symlinks=False).st_mtime):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # raced with another cleaner, or not ours to remove
    return removed


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (best effort: some file systems and platforms cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{_temp_prefix(target)}{_host_tag()}-{os.getpid()}.", suffix=suffix + ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_folder(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=True) + "\n")


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Compressed ``.npz`` written atomically (``np.savez`` appends ``.npz`` to names, so we hand it a file object)."""
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def read_json(path: str | os.PathLike, what: str) -> Any:
    """Parse a JSON document; a missing file or bad JSON is reported naming the file (``what`` says what it is)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such {what}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load arrays with ``allow_pickle=False``: a saved file never carries executable objects.

    Any damage (truncation, garbage, object arrays) is a ``ValueError`` naming the file.
    """
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a bare .npy array: not one of our files
            raise ValueError("a single .npy array, not an .npz archive")
        with loaded as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path}: damaged or unreadable array file ({exc})") from None
