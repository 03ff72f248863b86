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
from alcore.datasets.records import MAX_ATOMS, Record, build_dataset, check_structure_count
from alcore.datasets.text import reader_problem, text_stream, utf8_bytes

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
    table = _read_csv(read_file(path), str(path))
    check_structure_count(len(table), path)
    if "cif" not in table.columns:
        raise DatasetError(path, f"no 'cif' column (columns: {_columns(table)})")
    energy_column = _energy_column(table, str(path))
    id_column = next((c for c in ("material_id", "id") if c in table.columns), None)
    extra = [c for c in table.columns if c.endswith("_per_atom") and c != "energy_per_atom"]
    records = []
    for row, values in enumerate(table.to_dict(orient="records")):
        sid = str(values[id_column]) if id_column else f"row-{row:06d}"
        where, item = str(path), f"row {row + 2} ({sid})"  # +2: header line, 1-based lines
        cif = values["cif"]
        if not isinstance(cif, str) or not cif.strip():
            last = " (the last row: is the file truncated?)" if row == len(table) - 1 else ""
            raise DatasetError(where, f"{item}: empty cif{last}")
        frames = _parse(cif, "cif", f"{where}: {item}")
        if len(frames) != 1:
            held = "no structure (no cell or no atom sites)" if not frames else f"{len(frames)} structures"
            raise DatasetError(where, f"{item}: the cif holds {held}, expected 1")
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
    check_structure_count(len(members), path)
    if not members:
        raise DatasetError(path, f"no {what} found")
    inside = [m for m in found if m.path.name == SIDECAR]
    energies, sidecar = _find_energies(path, label, min(inside, key=lambda m: len(m.path.parts)) if inside else None)
    names = [m.name for m in members]
    single_file = path.is_file() and not archive_kind(path)
    ids = [default_name(path)] if single_file else relative_ids(names)
    records, used = [], set()
    for member, sid in zip(members, ids):
        frames = _parse(member.data, ase_format, member.label)
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


MAX_CIF_LINES = MAX_ATOMS + 1000
"""Longest CIF file or cell text read: ase's CIF tokenizer takes ~0.35 ms per line."""

MAX_SYMMETRY_ATOMS = 1000
"""Most atoms a CIF with symmetry operations may expand to: ase's expansion compares every new site with every site
so far (4 s for 1000 atoms, 30 s for 2000). P1 files (no expansion, most generated CIFs) are read directly."""


def _parse(source: str | bytes, ase_format: str, label: str) -> list[Atoms]:
    """The structures of one CIF or POSCAR text (``bytes``: a file's raw content)."""
    kind = "CIF" if ase_format == "cif" else "POSCAR"
    data = utf8_bytes(source, label) if isinstance(source, bytes) else source.encode("utf-8")
    limit = MAX_CIF_LINES if ase_format == "cif" else 2 * MAX_ATOMS + 20
    if data.count(b"\n") > limit:
        raise DatasetError(label, f"the {kind} text has more than {limit} lines; at most {MAX_ATOMS} atoms per "
                                  "structure are supported")  # fmt: skip
    try:
        import ase.io  # imported on use: the app's start never needs it

        frames = _read_cif(data, label) if ase_format == "cif" else ase.io.read(text_stream(data), index=":",
                                                                                   format=ase_format)  # fmt: skip
    except DatasetError:
        raise
    except Exception as exc:  # ase's parsers raise many types on malformed text; all mean "not readable"
        raise DatasetError(label, f"not a readable {kind} ({reader_problem(exc)})") from None
    return [Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc) for a in frames]


def _read_cif(data: bytes, label: str) -> list[Atoms]:
    """ase's CIF reading, without its quadratic symmetry expansion for P1 files and refusing disordered sites (ase
    would keep the majority species and silently drop the rest)."""
    from ase.io.cif import parse_cif

    frames = []
    for block in parse_cif(io.BytesIO(data)):
        if not block.has_structure():
            continue
        occupancies = block.get("_atom_site_occupancy")
        if occupancies is not None:
            partial = [k for k, value in enumerate(occupancies) if _is_float(value) and float(value) < 1 - 1e-6]
            if partial:
                raise DatasetError(label, f"site {partial[0]} has occupancy {occupancies[partial[0]]}: disordered "
                                          "structures (partial occupancies) are not supported")  # fmt: skip
        try:
            cell = block.get_cell()
        except (AssertionError, ValueError, KeyError, TypeError):
            cell = None
        if cell is None or cell.rank not in (0, 3):
            raise DatasetError(label, "the CIF cell has zero volume (its lengths and angles are inconsistent)")
        if cell.rank == 0:
            frames.append(block.get_unsymmetrized_structure())
            continue
        spacegroup = block.get_spacegroup(True)
        operations = spacegroup.get_symop()
        rotation, translation = operations[0]
        if len(operations) == 1 and np.array_equal(rotation, np.eye(3)) and not np.any(translation % 1.0):
            sites = block.get_unsymmetrized_structure()
            frames.append(Atoms(sites.get_chemical_symbols(), scaled_positions=sites.get_scaled_positions() % 1.0,
                                cell=cell, pbc=True))  # fmt: skip
            continue
        n_sites = len(block.get_symbols())
        if n_sites * len(operations) > MAX_SYMMETRY_ATOMS:
            raise DatasetError(
                label, f"{n_sites} sites x {len(operations)} symmetry operations is too many to expand (at most "
                f"{MAX_SYMMETRY_ATOMS} atoms); save the structure with P1 symmetry",
            )  # fmt: skip
        frames.append(block.get_atoms())
    return frames


def _find_energies(path: Path, label: str, inside: Member | None) -> tuple[dict[str, dict], str]:
    """Rows of the sidecar ``energies.csv`` keyed by id/filename, and where it was found.

    ``inside`` is the shallowest ``energies.csv`` read from the folder/archive itself; otherwise the one next to
    ``path`` is used.
    """
    data, where = None, None
    if inside is not None:
        data, where = inside.data, inside.label
    else:
        candidate = path.parent / SIDECAR
        if candidate.is_file():
            data, where = read_file(candidate), str(candidate)
    if data is None:
        raise DatasetError(
            path,
            f"{label.upper()} files carry no energies: add a file {SIDECAR!r} "
            f"{'inside the archive or next to it' if archive_kind(path) else 'next to them'} with a column "
            f"'id' (file name without extension) or 'filename', and a column 'energy_per_atom' (eV/atom) "
            f"or 'energy' (total eV)",
        )
    table = _read_csv(data, where)
    key_column = next((c for c in ID_COLUMNS if c in table.columns), None)
    if key_column is None:
        raise DatasetError(where, f"needs a column 'id' or 'filename' (columns: {_columns(table)})")
    energy_column = _energy_column(table, where)
    extra = [c for c in table.columns if c.endswith("_per_atom") and c != energy_column]
    rows: dict[str, dict] = {}
    for entry in table.to_dict(orient="records"):
        key = str(entry[key_column])
        if key in rows:
            raise DatasetError(where, f"{key_column} {key!r} appears twice")
        rows[key] = {c: entry[c] for c in (energy_column, *extra)}
    return rows, where


def _read_csv(data: bytes, where: str) -> pd.DataFrame:
    data = utf8_bytes(data, where)
    if not data.strip():
        raise DatasetError(where, "empty file")
    try:
        as_text = {c: str for c in ("id", "filename", "material_id")}
        table = pd.read_csv(io.BytesIO(data), encoding="utf-8", dtype=as_text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise DatasetError(where, f"not a readable CSV table ({reader_problem(exc)})") from None
    if table.empty:
        raise DatasetError(where, "CSV table has no rows")
    if not isinstance(table.index, pd.RangeIndex):  # pandas' reading of a first row with one field too many
        raise DatasetError(where, "the first row has more fields than the header (a stray comma, or a missing "
                                  "column name?)")  # fmt: skip
    return table


def _columns(table: pd.DataFrame) -> str:
    """The column names for a message: printable, each shortened, at most ten."""
    names = ["".join(ch if ch.isprintable() else " " for ch in str(c)) for c in table.columns]
    shown = [f"'{n if len(n) <= 30 else n[:29] + '…'}'" for n in names[:10]]
    return ", ".join(shown) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _energy_column(table: pd.DataFrame, where: str) -> str:
    """The energy column, converted to numbers in place (``1e400`` arrives as text and becomes inf)."""
    for column in ENERGY_COLUMNS:
        if column in table.columns:
            values = table[column]
            if not np.issubdtype(values.dtype, np.number):
                numbers = [_float_or_none(v) for v in values]
                bad = next((v for v, x in zip(values, numbers) if x is None), None)
                if bad is not None:
                    raise DatasetError(where, f"column '{column}' holds a non-number: {_quoted(bad)}")
                table[column] = numbers
            return column
    raise DatasetError(
        where, f"needs a column 'energy_per_atom' (eV/atom) or 'energy' (total eV); got {_columns(table)}"
    )


def _float_or_none(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _quoted(value) -> str:
    text = str(value)
    return f"'{text if len(text) <= 40 else text[:39] + '…'}'"


def _is_float(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
