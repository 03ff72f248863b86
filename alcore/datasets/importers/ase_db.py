"""ASE databases (``ase.db``, SQLite ``.db`` files), read with ``ase.db`` and never written to.

Each row is one structure. Its labels are read as in an extended XYZ frame (``extxyz._record``, same names and the
same refusal of conflicting keys): the energy is the row's calculator ``energy`` (total eV) or a ``key_value_pairs``
energy (``energy``, ``dft_energy``, ... or ``energy_per_atom``), forces the calculator's (or a per-atom ``data``
array named like ``dft_force``), stress the calculator's (eV/Å^3, ASE sign) or a ``key_value_pairs``/``data``
stress or virial. The id is the key ``name`` (ase reserves ``id``), else ``<file name>-<row id>``; the kind is the key
``kind`` or ``config_type``; ``*_per_atom`` keys become extra targets. Everything else is listed as ignored in the read
summary, labelled by where it sits (``key_value_pairs 'x'``, ``data 'x'``, ``calculator 'x'``).

Read-only: the file is opened through an SQLite ``mode=ro`` URI, so neither ase (which creates its tables in an empty
file) nor SQLite writes anything. A file shorter than its header says is refused as truncated; ``PRAGMA quick_check``
refuses a damaged one. ``ase.db`` decodes stored arrays and objects from JSON and raw numbers (no pickle).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from ase import Atoms

from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.importers.extxyz import _record
from alcore.datasets.records import MAX_ATOMS, Record, build_dataset, check_structure_count
from alcore.datasets.text import reader_problem

SQLITE_MAGIC = b"SQLite format 3\x00"
UNREADABLE = "not a readable ASE database"
ID_KEYS = ("id", "name")


@IMPORTERS.register("ase-db")
def read_ase_db(path: Path) -> Dataset:
    path = Path(path)
    _check_file(path)
    stem = default_name(path)
    records = []
    try:
        db = _open(path)
        n_rows = db.count()
        check_structure_count(n_rows, path)
        for index, row in enumerate(db.select()):
            records.append(_row_record(row, index, path, stem))
    except DatasetError:
        raise
    except Exception as exc:  # sqlite3 and ase's decoding raise many types on a damaged file; all mean "unreadable"
        raise DatasetError(path, f"{UNREADABLE} ({reader_problem(exc)})") from None
    if not records:
        raise DatasetError(path, "no structures found (the database has no rows)")
    return build_dataset(records, path=path, name=stem, format="ase-db", provenance={"rows": len(records)})


def _check_file(path: Path) -> None:
    """A non-empty SQLite file, as long as its header says, with ASE's ``systems`` table and no damage."""
    if not path.is_file():
        raise DatasetError(path, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise DatasetError(path, "empty file")
    with open(path, "rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise DatasetError(path, f"{UNREADABLE} (not an SQLite file)")
    if len(header) < 100:
        raise DatasetError(path, f"{UNREADABLE} (it ends inside its header; is the file truncated?)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, changes, valid_for = (int.from_bytes(header[k : k + 4], "big") for k in (28, 24, 92))
    if pages and changes == valid_for and size < pages * page_size:
        raise DatasetError(path, f"{UNREADABLE} (it is {size} bytes but its header says {pages * page_size}; is "
                                 "the file truncated?)")  # fmt: skip
    try:
        with _connect(path) as connection:
            check = connection.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise DatasetError(path, f"{UNREADABLE} ({reader_problem(exc)}; damaged or truncated?)") from None
    if not check or check[0] != "ok":
        raise DatasetError(path, f"{UNREADABLE} (SQLite finds it damaged; is the file truncated?)")
    if "systems" not in tables:
        raise DatasetError(path, f"{UNREADABLE}: an SQLite file without ASE's 'systems' table")


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _open(path: Path):
    from ase.db.sqlite import SQLite3Database

    class ReadOnlyDatabase(SQLite3Database):
        """ase's SQLite reader on a read-only connection."""

        def _connect(self):
            return _connect(Path(self.filename))

    return ReadOnlyDatabase(str(path), create_indices=False, use_lock_file=False)


def _row_record(row, index: int, path: Path, stem: str) -> Record:
    """The row as an extended XYZ frame would be read: key-value pairs and data as ``info``/``arrays``."""
    if int(row.natoms) > MAX_ATOMS:
        raise DatasetError(path, f"row {row.id}: {row.natoms} atoms; at most {MAX_ATOMS} per structure are supported")
    atoms = row.toatoms()
    origin: dict[str, str] = {f"info '{k}'": "calculator" for k in (atoms.calc.results if atoms.calc else {})}
    origin.update({f"arrays '{k}'": "calculator" for k in (atoms.calc.results if atoms.calc else {})})
    info = dict(row.key_value_pairs)
    origin.update({f"info '{k}'": "key_value_pairs" for k in info})
    for key, value in dict(row.get("data") or {}).items():
        per_atom = isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == len(atoms)
        if per_atom:
            atoms.arrays[key] = value
            origin[f"arrays '{key}'"] = "data"
        elif key not in info:
            info[key] = value
            origin[f"info '{key}'"] = "data"
    atoms.info = info
    record = _record(atoms, index, path, stem)
    record.where, record.item = str(path), f"row {row.id}"
    name = next((k for k in ID_KEYS if k in row.key_value_pairs), None)
    record.id = str(row.key_value_pairs[name]) if name else f"{stem}-{row.id}"
    record.sources["ids"] = f"key_value_pairs '{name}'" if name else "generated: file name + row id"
    record.ignored = [k for k in record.ignored if k != f"info '{name}'"]
    relabel = lambda label: _relabel(label, origin)  # noqa: E731
    record.sources = {field: relabel(label) for field, label in record.sources.items()}
    record.ignored = [relabel(label) for label in record.ignored]
    return record


def _relabel(label: str, origin: dict[str, str]) -> str:
    """``info 'energy'`` -> ``calculator 'energy'``: where the value sits in the database, not in an extxyz frame."""
    key = label.split(" (", 1)[0]
    where = origin.get(key)
    if where is None:
        return label
    return where + " " + label.split(" ", 1)[1]


def write_ase_db(frames: list[Atoms], path: str | Path) -> Path:
    """Write ``frames`` (with their calculators, ``info`` as key-value pairs) to a new database, atomically: tests
    and examples use it to make files the importer reads."""
    import ase.db

    from alcore.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        with ase.db.connect(str(tmp), type="db", append=False, use_lock_file=False) as db:
            for atoms in frames:
                db.write(atoms, key_value_pairs={k: v for k, v in atoms.info.items() if k != "id"})
    return path
