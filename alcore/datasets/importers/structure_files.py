"""Structure-only formats: CIF and POSCAR files (single, folder, zip/tar) and CSV tables with a ``cif`` column.

CIF and POSCAR carry no energies, so those come from a sidecar ``energies.csv`` (columns ``id`` or ``filename`` and
``energy_per_atom`` or total ``energy``; extra ``*_per_atom`` columns become extra targets). The Carbon-24 style
``csv-cif`` table has everything in one file: ``cif``, ``energy_per_atom`` (or ``energy``) and ``material_id``.

A CSV cut short is refused, naming the file and line (``csv_records``): a quoted field (a CIF) that is never closed,
or any row whose number of fields differs from the header's (pandas would pad a short row with empty values), is an
error. A file whose last line has no line break still loads, unless that line looks cut: its CIF or energy does not
parse (the error says the file may be truncated), or its final number has fewer digits than the column has elsewhere
(``_check_last_number``: fewer than a fixed-format column's, or two fewer than the shortest repr-style value). A cut
that leaves as many digits cannot be told from a shorter number, so the summary notes the missing line break.
Parsing is done by ``ase.io`` (its CIF reader is faster than pymatgen's on thousands of small cells).
"""

from __future__ import annotations

import io
import re
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from ase import Atoms

from alcore.datasets.archive import (
    SIDECAR,
    Member,
    archive_kind,
    is_poscar_name,
    read_collection,
    read_file,
    relative_ids,
)
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import MAX_ATOMS, Record, build_dataset, check_structure_count
from alcore.datasets.text import reader_problem, text_stream, utf8_bytes

ID_COLUMNS = ("id", "filename")
ENERGY_COLUMNS = ("energy_per_atom", "energy")


def is_cif(name: str) -> bool:
    return name.lower().endswith(".cif")


def is_poscar(name: str) -> bool:
    return is_poscar_name(name)


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
    records, lines, cut = [], table.attrs.get("lines"), table.attrs.get("unterminated")
    for row, values in enumerate(table.to_dict(orient="records")):
        sid = str(values[id_column]) if id_column else f"row-{row:06d}"
        line = lines[row] if lines else row + 2  # +2: header line, 1-based lines
        where, item = str(path), f"line {line} (row {row + 1}, {sid})"
        last = row == len(table) - 1
        truncated = " (the last line, which ends without a line break: is the file truncated?)" if last and cut else ""
        cif = values["cif"]
        if not isinstance(cif, str) or not cif.strip():
            hint = truncated or (" (the last row: is the file truncated?)" if last else "")
            raise DatasetError(where, f"{item}: empty cif{hint}")
        try:
            frames = _parse(cif, "cif", f"{where}: {item}")
        except DatasetError as exc:
            raise DatasetError(exc.path, exc.problem + truncated) from None
        if len(frames) != 1:
            held = "no structure (no cell or no atom sites)" if not frames else f"{len(frames)} structures"
            raise DatasetError(where, f"{item}: the cif holds {held}, expected 1")
        record = Record(atoms=frames[0], id=sid, where=where, item=item)
        setattr(record, energy_column, values[energy_column])
        record.extra = {c: values[c] for c in extra}
        records.append(record)
    provenance = {"energy_column": energy_column, "id_column": id_column}
    if cut:
        provenance["notes"] = [f"line {cut}: the last line ends without a line break; its last value "
                               f"{_quoted(table.iloc[-1, -1])} has as many digits as other rows, but a cut between "
                               "two digits cannot be ruled out"]  # fmt: skip
    try:
        return build_dataset(records, path=path, name=default_name(path), format="csv-cif", provenance=provenance)
    except DatasetError as exc:
        if cut and exc.problem.startswith(records[-1].item):
            raise DatasetError(exc.path, exc.problem + " (the last line ends without a line break: is the file "
                                                        "truncated?)") from None  # fmt: skip
        raise


def _read_structure_files(path: Path, ase_format: str, accept, what: str) -> Dataset:
    label = "cif" if ase_format == "cif" else "poscar"
    found, skipped = read_collection(path, lambda n: accept(n) or PurePosixPath(n).name == SIDECAR, what)
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
    return build_dataset(records, path=path, name=default_name(path), format=label, provenance=provenance,
                         skipped=None if single_file else skipped.summary())  # fmt: skip


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
    """The table; ``attrs["lines"]``: each row's first line, ``attrs["unterminated"]``: the last row's line when the
    file does not end with a line break (see the module doc for the truncation rule)."""
    data = utf8_bytes(data, where)
    if not data.strip():
        raise DatasetError(where, "empty file")
    lines, unterminated = csv_records(data, where)
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
    if len(lines) == len(table):  # (else pandas saw the rows differently, e.g. a whitespace-only line: row numbers)
        table.attrs["lines"] = lines
    table.attrs["unterminated"] = lines[-1] if unterminated and lines else None
    return table


_CSV_TOKENS = re.compile(rb'["\n,]')
_NUMBER = re.compile(rb"\s*[+-]?(\d*)\.?(\d*)(?:[eE][+-]?\d+)?\s*")
MIN_ROWS_FOR_DIGITS = 2
FIXED_FORMAT_ROWS = 5
"""With at least this many other rows all written with the same number of digits, the column has a fixed format and
any shorter last value is refused; otherwise (repr-style numbers vary by a digit or two) only one at least two digits
shorter than the shortest other value is."""


def _digits(value: bytes) -> int | None:
    """How many digits a plain number has (``-154.20`` -> 5); None for anything else."""
    match = _NUMBER.fullmatch(value)
    return len(match[1]) + len(match[2]) if match and (match[1] or match[2]) else None


def _check_last_number(value: bytes, others: list[bytes], where: str, line: int) -> None:
    """A last line without a line break whose final number has fewer digits than that column has in the other rows
    looks cut short (``-154.2`` of ``-154.2025``): refused, with the way out if the value is right."""
    mine, theirs = _digits(value), [_digits(v) for v in others if v.strip()]
    if mine is None or len(theirs) < MIN_ROWS_FOR_DIGITS or any(d is None for d in theirs):
        return
    fixed = len(theirs) >= FIXED_FORMAT_ROWS and len(set(theirs)) == 1
    if mine >= (min(theirs) if fixed else min(theirs) - 1):
        return
    raise DatasetError(
        where, f"line {line}: the last line ends without a line break and its last value "
        f"'{value.strip().decode('utf-8', 'replace')}' has {mine} digits where every other row has at least "
        f"{min(theirs)}: is the file truncated? If the value is right, end the file with a line break",
    )  # fmt: skip


def csv_records(data: bytes, where: str) -> tuple[list[int], bool]:
    """The first line of each data row and whether the file lacks a final line break; refuses a quoted field that
    is never closed and a row whose field count differs from the header's (the signs of a file cut short)."""
    records: list[tuple[int, int, int, int]] = []  # (first line, fields, start, end) of each record
    line, first, start, fields, quoted, quote_line, field_start = 1, 1, 0, 1, False, 0, 0
    last_fields: list[bytes] = []
    for token in _CSV_TOKENS.finditer(data):
        char = token.group()
        if char == b'"':
            quoted, quote_line = not quoted, quote_line if quoted else line
        elif char == b"\n":
            line += 1
            if not quoted:
                records.append((first, fields, start, token.start()))
                last_fields.append(data[field_start : token.start()])
                first, start, fields, field_start = line, token.end(), 1, token.end()
        elif not quoted:
            fields, field_start = fields + 1, token.end()
    if quoted:
        raise DatasetError(where, f"line {quote_line}: a quoted field that starts on this line is never closed (the "
                                  "file ends inside it): is the file truncated?")  # fmt: skip
    unterminated = bool(data[start:].strip())
    if unterminated:
        records.append((first, fields, start, len(data)))
        _check_last_number(data[field_start:], last_fields[1:], where, first)
    records = [r for r in records if data[r[2] : r[3]].strip()]  # blank lines: pandas skips them too
    if not records:
        return [], False
    header = records[0][1]
    for first, count, _, _ in records[1:]:
        if count != header:
            cut = " (the last line, which ends without a line break: is the file truncated?)" if (
                unterminated and first == records[-1][0] and count < header) else ""  # fmt: skip
            raise DatasetError(where, f"line {first}: {count} field{'s' if count != 1 else ''} where the header has "
                                      f"{header}{cut}")  # fmt: skip
    return [r[0] for r in records[1:]], unterminated


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
