"""``load_file``: read any supported file, folder or archive, detecting its format from names and a peek at content."""

from __future__ import annotations

import codecs
import dataclasses
import re
from collections import Counter
from pathlib import Path, PurePosixPath

from alcore.datasets.archive import archive_kind, describe_kinds, file_kind, scan_names
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS
from alcore.datasets.importers.mlearn import SPLIT_FILES
from alcore.datasets.importers.structure_files import SIDECAR, is_cif, is_poscar
from alcore.datasets.text import utf8_bytes

SNIFF_BYTES = 1 << 20
"""How much of a JSON/CSV file detection reads (mlearn items put ``outputs`` after a ~30 kB structure)."""

_EXTXYZ = (".xyz", ".extxyz", ".xyz.gz", ".extxyz.gz", ".xyz.bz2", ".extxyz.bz2", ".xyz.xz", ".extxyz.xz")


def load_file(path: str | Path, format: str | None = None, name: str | None = None) -> Dataset:
    """Read ``path`` (file, folder or archive) as a ``Dataset``; ``format`` skips detection, ``name`` renames it."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(path, "no such file or folder")
    if format is None:
        format = detect_format(path)
    elif format not in IMPORTERS:
        raise ValueError(f"unknown dataset format {format!r}; known formats: {', '.join(IMPORTERS.names())}")
    dataset = IMPORTERS.get(format)(path)
    return dataclasses.replace(dataset, name=name) if name else dataset


def detect_format(path: str | Path) -> str:
    """The importer name for ``path``, or a ``DatasetError`` that lists the known formats."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(path, "no such file or folder")
    if path.is_dir() or archive_kind(path):
        found = _detect_collection(path)
    else:
        found = _detect_file(path)
    if found is None:
        raise DatasetError(path, f"{GENERIC_UNKNOWN_FORMAT}; pass format= one of: {', '.join(IMPORTERS.names())}")
    return found


GENERIC_UNKNOWN_FORMAT = "cannot tell the dataset format"
DATASET_FILES = ".xsf, .cif, POSCAR/CONTCAR/.vasp or FitSNAP .json files"


def _detect_file(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(_EXTXYZ):
        return "extxyz"
    if is_cif(name):
        return "cif"
    if is_poscar(path.name):
        return "poscar"
    if name.endswith(".xsf"):
        return "xsf"
    if name.endswith(".db"):
        return "ase-db"
    if name.endswith((".csv", ".json")):
        sample = _peek(path)
        if not sample.strip():
            raise DatasetError(path, "empty file")
        if name.endswith(".json"):
            return _sniff_json(sample)
        lines = sample.splitlines() or [""]
        return "csv-cif" if "cif" in [c.strip().strip('"') for c in lines[0].split(",")] else None
    return None


def _detect_collection(path: Path) -> str | None:
    if path.is_dir():
        splits = [path / f for f in SPLIT_FILES if (path / f).is_file()]
        if splits and _sniff_json(_peek(splits[0])) == "mlearn":
            return "mlearn"
    all_names, skipped = scan_names(path)
    names = [n for n in all_names if PurePosixPath(n).name != SIDECAR]
    data = [n for n in names if file_kind(n) is not None]
    kinds = Counter(_kind_of_name(n) for n in data)
    where = "a folder" if path.is_dir() else "an archive"
    if len(set(map(file_kind, data))) > 1:  # one format per folder or archive: never read some and drop the rest
        raise DatasetError(path, f"holds files of more than one dataset format: {describe_kinds(data)}; {where} "
                                 "is read as one format, so the other files would be left out. Put each format in "
                                 "its own archive, or remove the files that are not part of the dataset")  # fmt: skip
    kinds.pop(None, None)
    if not kinds:
        held = f"the {where[2:].strip()} is empty" if not all_names else (
            f"none of the {len(all_names)} files in the {where[2:].strip()} is one")
        if data:
            held = f"it holds {describe_kinds(data)}, which are read one file at a time, not from {where}"
        raise DatasetError(path, f"no dataset files found ({DATASET_FILES}): {held}{skipped.reason()}")
    kind = kinds.most_common(1)[0][0]
    if kind != "json":
        return kind
    if path.is_dir():
        first = sorted(n for n in names if n.lower().endswith(".json"))[0]
        sniffed = _sniff_json(_peek(path / first))
        return sniffed if sniffed in ("fitsnap", "mlearn") else None
    return "fitsnap"  # the one JSON format read from archives


def _kind_of_name(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".xsf"):
        return "xsf"
    if is_cif(lower):
        return "cif"
    if is_poscar(name):
        return "poscar"
    if lower.endswith(".json"):
        return "json"
    return None


def _peek(path: Path) -> str:
    """The start of a text file, decoded as the importers will (a UTF-8 or UTF-16 byte-order mark is honoured); a
    small file that is not text at all is refused here with the importers' message."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if len(head) < SNIFF_BYTES:
        return utf8_bytes(head, str(path)).decode("utf-8")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8-sig", errors="replace")


def _sniff_json(sample: str) -> str | None:
    head = sample.lstrip()
    if head.startswith("{") and re.search(r'^\{\s*"format"\s*:\s*"alcore-fetched-pool"', head):
        return "fetched-pool"
    if head.startswith("#") or (head.startswith("{") and re.search(r'"Dataset"\s*:', head)):
        return "fitsnap"
    if re.search(r'"outputs"\s*:', head) and head.startswith("["):
        return "mlearn"
    if re.search(r'"structure"\s*:', head) and head[:1] in ("[", "{"):
        return "pymatgen-json"
    return None
