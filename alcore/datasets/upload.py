"""Read a file uploaded through the app into a ``Dataset``, safely.

The importers read paths, so the bytes go into a private temporary folder under a sanitised name (basename only, safe
characters: no traversal, no hidden files), are read there with ``load_file`` and the folder is always deleted.
Uploads above ``UPLOAD_LIMIT`` are refused before anything is written. Every failure is a ``DatasetError`` that names
the file as the user uploaded it (never the temporary path), so the page can show it as is. Nothing is unpickled:
the importers only parse text, JSON, CSV and tar/zip members in memory (see ``alcore.datasets.archive``).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from alcore.datasets.archive import archive_kind
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS
from alcore.datasets.loading import GENERIC_UNKNOWN_FORMAT, detect_format, load_file
from alcore.datasets.text import reader_problem

UPLOAD_LIMIT = 50 * 1024**2
"""Largest upload accepted, in bytes (compressed size; archives are further capped by ``archive.MAX_TOTAL_BYTES``)."""

STRUCTURE_ONLY_FORMATS = ("cif", "poscar")
"""Formats without energies: a single file of these can never be a dataset, only an archive with ``energies.csv``."""

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")
_STEM_MAX, _SUFFIX_MAX = 80, 40
_FALLBACK_NAME = "upload"


def safe_filename(filename: str) -> str:
    """A harmless file name that keeps what format detection reads (suffixes, a ``POSCAR`` prefix).

    Only the last path component is kept (either slash), runs of unsafe characters become ``_``, leading dots are
    dropped (no ``..``, no hidden files) and over-long names are shortened.
    """
    base = PurePosixPath(str(filename).replace("\\", "/")).name
    base = _UNSAFE_CHARS.sub("_", base).lstrip(".")
    stem, dot, suffixes = base.partition(".")
    base = stem[:_STEM_MAX] + dot + suffixes[-_SUFFIX_MAX:]
    return base if base.strip("._") else _FALLBACK_NAME


def display_name(filename: str) -> str:
    """The uploaded file's own name, printable, for messages (the user should recognise it)."""
    base = PurePosixPath(str(filename).replace("\\", "/")).name
    shown = "".join(ch for ch in base if ch.isprintable())[:200]
    return shown or _FALLBACK_NAME


def load_upload(filename: str, data: bytes, format: str | None = None, max_bytes: int = UPLOAD_LIMIT) -> Dataset:
    """The dataset in an uploaded file; ``format`` (an ``IMPORTERS`` name) skips detection.

    Raises ``DatasetError`` naming ``filename`` and the problem for anything that is not a readable dataset.
    """
    shown = display_name(filename)
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"load_upload: data must be bytes, got {type(data).__name__}")
    if format is not None and format not in IMPORTERS:
        raise DatasetError(shown, f"unknown format {format!r}; known formats: {', '.join(IMPORTERS.names())}")
    size = len(data)
    if size > max_bytes:
        raise DatasetError(shown, f"the file is {_size(size)}, more than the {_size(max_bytes)} upload limit")
    if size == 0:
        raise DatasetError(shown, "the file is empty")
    name = safe_filename(filename)
    folder = Path(tempfile.mkdtemp(prefix="alcore-upload-"))  # mode 0o700: private to this user
    try:
        path = folder / name
        with open(path, "xb") as handle:
            handle.write(data)
        try:
            dataset = _read(path, format)
        except DatasetError as exc:
            raise _as_upload_error(exc, folder, name, shown) from None
        except Exception as exc:  # noqa: BLE001 - a last resort: the importers turn every known failure into words
            problem = reader_problem(Exception(_strip(str(exc), folder)))
            raise DatasetError(shown, f"could not be read: an unexpected problem in the reader ({problem})") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    provenance = {**dataset.provenance, "path": f"upload:{shown}", "uploaded_file": shown, "upload_bytes": size}
    return dataclasses.replace(dataset, provenance=provenance)


def _read(path: Path, format: str | None) -> Dataset:
    if format is None:
        try:
            format = detect_format(path)
        except DatasetError as exc:
            if not exc.problem.startswith(GENERIC_UNKNOWN_FORMAT):  # e.g. a broken archive: its own message is better
                raise
            raise DatasetError(
                path, f"cannot tell the format from the file name and content; choose a format ("
                f"{', '.join(IMPORTERS.names())}) or use a usual file name (e.g. data.extxyz, structures.zip)",
            ) from None
    if format in STRUCTURE_ONLY_FORMATS and not archive_kind(path):
        raise DatasetError(
            path,
            f"a single {format.upper()} file carries no energies; upload a .zip or .tar.gz holding the structure "
            "files and an energies.csv (columns 'id' (file name without extension) or 'filename', and "
            "'energy_per_atom' in eV/atom or total 'energy' in eV)",
        )
    return load_file(path, format=format)


def _as_upload_error(exc: DatasetError, folder: Path, name: str, shown: str) -> DatasetError:
    """The importer's message with the temporary folder removed and the file called by its uploaded name."""
    where = _strip(exc.path or name, folder)
    if where == name or where.startswith(name + ":"):
        where = shown + where[len(name):]
    return DatasetError(where, _strip(exc.problem, folder))


def _strip(text: str, folder: Path) -> str:
    return text.replace(f"{folder}/", "").replace(str(folder), "")


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1024**2:.1f} MB" if n_bytes >= 1024**2 else f"{n_bytes} bytes"
