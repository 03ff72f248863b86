"""Structure-only formats: CIF and POSCAR files (single, folder, zip/tar) and CSV tables with a ``cif`` column.

CIF and POSCAR carry no energies, so those come from a sidecar ``energies.csv`` (columns ``id`` or ``filename`` and
``energy_per_atom`` or total ``energy``; extra ``*_per_atom`` columns become extra targets). The Carbon-24 style
``csv-cif`` table has everything in one file: ``cif``, ``energy_per_atom`` (or ``energy``) and ``material_id``.
Parsing is done by ``ase.io`` (its CIF reader is faster than pymatgen's on thousands of small cells).
"""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from ase import Atoms

from alcore.datasets.archive import Member, archive_kind, read_file, read_members, relative_ids
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import Record, build_dataset

SIDECAR = "energies.csv"
ID_COLUMNS = ("id", "filename")
ENERGY_COLUMNS = ("energy_per_atom", "energy")


def is_cif(name: str) -> bool:
    return name.lower().endswith(".cif")


def is_poscar(name: str) -> bool:
    base = PurePosixPath(name).name
    return base.upper().startswith(("POSCAR", "CONTCAR")) or base.lower().endswith((".vasp", ".poscar"))


@IMPORTERS.register("cif")
def read_cif(path: Path) -> Dataset:
    return _read_structure_files(Path(path), "cif", is_cif, "*.cif files")


@IMPORTERS.register("poscar")
def read_poscar(path: Path) -> Dataset:
    return _read_structure_files(Path(path), "vasp", is_poscar, "POSCAR/CONTCAR/*.vasp files")


@IMPORTERS.register("csv-cif")
def read_csv_cif(path: Path) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, "no such file")
    table = _read_csv(io.BytesIO(read_file(path)), str(path))
    if "cif" not in table.columns:
        raise DatasetError(path, f"no 'cif' column (columns: {list(table.columns)})")
    energy_column = _energy_column(table, str(path))
    id_column = next((c for c in ("material_id", "id") if c in table.columns), None)
    extra = [c for c in table.columns if c.endswith("_per_atom") and c != "energy_per_atom"]
    records = []
    for row, values in enumerate(table.to_dict(orient="records")):
        sid = str(values[id_column]) if id_column else f"row-{row:06d}"
        where, item = str(path), f"row {row + 2} ({sid})"  # +2: header line, 1-based lines
        cif = values["cif"]
        if not isinstance(cif, str) or not cif.strip():
            raise DatasetError(where, f"{item}: empty cif")
        frames = _parse(cif, "cif", f"{where}: {item}")
        if len(frames) != 1:
            raise DatasetError(where, f"{item}: cif holds {len(frames)} structures, expected 1")
        record = Record(atoms=frames[0], id=sid, where=where, item=item)
        setattr(record, energy_column, values[energy_column])
        record.extra = {c: values[c] for c in extra}
        records.append(record)
    return build_dataset(
        records, path=path, name=default_name(path), format="csv-cif",
        provenance={"energy_column": energy_column, "id_column": id_column},
    )  # fmt: skip


def _read_structure_files(path: Path, ase_format: str, accept, what: str) -> Dataset:
    label = "cif" if ase_format == "cif" else "poscar"
    found = read_members(path, lambda n: accept(n) or PurePosixPath(n).name == SIDECAR, what)
    members = [m for m in found if m.path.name != SIDECAR]
    if not members:
        raise DatasetError(path, f"no {what} found")
    inside = [m for m in found if m.path.name == SIDECAR]
    energies, sidecar = _find_energies(path, label, min(inside, key=lambda m: len(m.path.parts)) if inside else None)
    names = [m.name for m in members]
    single_file = path.is_file() and not archive_kind(path)
    ids = [default_name(path)] if single_file else relative_ids(names)
    records, used = [], set()
    for member, sid in zip(members, ids):
        frames = _parse(member.text(), ase_format, member.label)
        if not frames:
            raise DatasetError(member.label, "no structure found (empty file?)")
        for k, atoms in enumerate(frames):
            frame_id = sid if len(frames) == 1 else f"{sid}:{k}"
            keys = (frame_id, member.name, PurePosixPath(member.name).name)
            row = next((energies[key] for key in keys if key in energies), None)
            if row is None:
                raise DatasetError(sidecar, f"no energy for structure {frame_id!r} ({member.label})")
            used.add(id(row))
            record = Record(atoms=atoms, id=frame_id, where=member.label, item=f"structure {k}" if k else "")
            for column, value in row.items():
                if column in ENERGY_COLUMNS:
                    setattr(record, column, value)
                else:
                    record.extra[column] = value
            records.append(record)
    provenance = {"energies_from": str(sidecar), "unused_energy_rows": len(energies) - len(used)}
    return build_dataset(records, path=path, name=default_name(path), format=label, provenance=provenance)


def _parse(text: str, ase_format: str, label: str) -> list[Atoms]:
    try:
        import ase.io  # imported on use: the app's start never needs it

        frames = ase.io.read(io.StringIO(text), index=":", format=ase_format)
    except Exception as exc:  # ase's parsers raise many types on malformed text; all mean "not readable"
        kind = "CIF" if ase_format == "cif" else "POSCAR"
        raise DatasetError(label, f"not a readable {kind} ({type(exc).__name__}: {exc})") from None
    return [Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc) for a in frames]


def _find_energies(path: Path, label: str, inside: Member | None) -> tuple[dict[str, dict], str]:
    """Rows of the sidecar ``energies.csv`` keyed by id/filename, and where it was found.

    ``inside`` is the shallowest ``energies.csv`` read from the folder/archive itself; otherwise the one next to
    ``path`` is used.
    """
    text, where = None, None
    if inside is not None:
        text, where = inside.text(), inside.label
    else:
        candidate = path.parent / SIDECAR
        if candidate.is_file():
            text, where = read_file(candidate).decode("utf-8", errors="replace"), str(candidate)
    if text is None:
        raise DatasetError(
            path,
            f"{label.upper()} files carry no energies: add a file {SIDECAR!r} "
            f"{'inside the archive or next to it' if archive_kind(path) else 'next to them'} with a column "
            f"'id' (file name without extension) or 'filename', and a column 'energy_per_atom' (eV/atom) "
            f"or 'energy' (total eV)",
        )
    table = _read_csv(io.StringIO(text), where)
    key_column = next((c for c in ID_COLUMNS if c in table.columns), None)
    if key_column is None:
        raise DatasetError(where, f"needs a column 'id' or 'filename' (columns: {list(table.columns)})")
    energy_column = _energy_column(table, where)
    extra = [c for c in table.columns if c.endswith("_per_atom") and c != energy_column]
    rows: dict[str, dict] = {}
    for entry in table.to_dict(orient="records"):
        key = str(entry[key_column])
        if key in rows:
            raise DatasetError(where, f"{key_column} {key!r} appears twice")
        rows[key] = {c: entry[c] for c in (energy_column, *extra)}
    return rows, where


def _read_csv(source, where: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(source, dtype={c: str for c in ("id", "filename", "material_id")})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(where, f"not a readable CSV table ({type(exc).__name__}: {exc})") from None
    if table.empty:
        raise DatasetError(where, "CSV table has no rows")
    return table


def _energy_column(table: pd.DataFrame, where: str) -> str:
    for column in ENERGY_COLUMNS:
        if column in table.columns:
            if not np.issubdtype(table[column].dtype, np.number):
                bad = next(v for v in table[column] if not _is_float(v))
                raise DatasetError(where, f"column {column!r} holds a non-number: {bad!r}")
            return column
    raise DatasetError(
        where, f"needs a column 'energy_per_atom' (eV/atom) or 'energy' (total eV); got {list(table.columns)}"
    )


def _is_float(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
