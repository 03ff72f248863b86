"""Corrupted variants of valid dataset files, for the bad-input hardening tests.

Valid base files are written with ase / pymatgen in every format the importers read (extxyz plain and compressed,
pymatgen JSON, mlearn JSON, FitSNAP JSON single and archived, aenet XSF single / tar.gz / zip, CIF and POSCAR archives
with an energies.csv, a CSV with a cif column, a fetched pool). Each ``Case`` is one variant with an id that says what
it is: truncated, empty, garbage, wrong encodings, NaN / inf / huge energies, missing labels, degenerate cells,
overlapping atoms, 100 000-atom cells, wrong keys and columns, hostile archives (bombs, traversal, links, non-UTF-8
names, nesting, thousands of members). ``REAL_CASES`` build the same kinds of variants from slices of the real DFT sets
in ``../shared/datasets`` (read at test time, never stored).

Everything is pure and seeded: the same seed gives the same bytes. Bytes are made lazily (``Case.data``), so collecting
the tests costs nothing and the big variants are built only when a test runs them.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import re
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

ZIP_DATE = (2020, 1, 1, 0, 0, 0)
N_FRAMES = 3
BIG_ATOMS = 100_000
BOMB_BYTES = 160 * 1024**2
"""Uncompressed size of the bombs: above the importers' 128 MiB cap on uncompressed content."""

# Problems the messages must name (case-insensitive regular expressions).
TRUNCATED = (r"truncat|ends |end of|incomplete|complete\?|invalid json|not a readable|expected|declares|no .* found|"
             r"unexpected|empty")
GARBAGE = r"not a readable|not utf-8|invalid json|cannot tell|not a .*(zip|tar|gzip)|decompress|damaged|no .* found"
NOT_UTF8 = r"not utf-8|utf-16|cannot tell"
EMPTY = r"empty"
NOT_FINITE = r"not finite|nan|inf"
IMPLAUSIBLE = r"plausible|too large"
NO_ENERGY = r"no energy|energy.* missing|missing .*energy|no 'energy|'energy'"
FORCES_SHAPE = r"forces.*shape|expected 6 numbers|expected \d+ numbers|not a readable|columns"
CELL = r"cell|volume|overlap|apart"
OVERLAP = r"overlap|apart"
TOO_MANY_ATOMS = r"100\s?000 atoms|too many atoms|at most"
ELEMENT = r"element|symbol|species|not a readable"
UNSAFE = r"unsafe name"
TOO_BIG = r"exceeds|more than|upload limit|too large|refusing"


@dataclass(frozen=True)
class Case:
    """One variant. ``problem`` is None when the variant is still a valid dataset (then ``check`` says what holds)."""

    id: str
    filename: str
    make: Callable[[], bytes] = field(repr=False, compare=False)
    native: str | None
    problem: str | None
    check: Callable[[Any], None] | None = field(default=None, repr=False, compare=False)
    big: bool = False
    """Large: run through the native importer, detection and the upload only (not every other importer)."""

    @cached_property
    def data(self) -> bytes:
        return self.make()


# --------------------------------------------------------------------------------------------- labelled frames


@dataclass
class Frame:
    """A labelled structure before it is written: ``energy`` total eV (str: written verbatim; None: left out)."""

    atoms: Atoms
    energy: float | str | None
    forces: Any
    stress: Any  # ASE Voigt, eV/Å^3
    id: str
    kind: str = "rattle"


def base_frames(seed: int = 0, n: int = N_FRAMES) -> list[Frame]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        atoms = bulk("Si", "diamond", a=5.43, cubic=True)
        atoms.positions += rng.normal(0.0, 0.03, atoms.positions.shape)
        energy = float(-5.42 * len(atoms) + rng.normal(0.0, 0.05))
        forces = rng.normal(0.0, 0.2, (len(atoms), 3))
        stress = rng.normal(0.0, 1e-3, 6)
        frames.append(Frame(atoms, energy, forces, stress, f"s{i}"))
    return frames


def expect(n: int = N_FRAMES, forces: str = "all", energies: list[float] | None = None) -> Callable[[Any], None]:
    """A check for a variant that must still load: ``n`` structures, forces on "all" / "some" / "none"."""

    def check(dataset) -> None:
        assert len(dataset) == n, f"{len(dataset)} structures, expected {n}"
        present = [] if dataset.forces is None else [f is not None for f in dataset.forces]
        if forces == "none":
            assert not any(present)
        elif forces == "some":
            assert any(present) and not all(present)
        elif forces == "all":
            assert present and all(present)
        if energies is not None:
            np.testing.assert_allclose(dataset.energy_per_atom, energies, rtol=1e-9)
        assert np.all(np.isfinite(dataset.energy_per_atom))
        for sid in dataset.ids:  # ids are shown and exported: printable, valid UTF-8
            assert sid.isprintable() and sid.encode("utf-8"), repr(sid)

    return check


def per_atom(frames: list[Frame]) -> list[float]:
    return [float(f.energy) / len(f.atoms) for f in frames]


# --------------------------------------------------------------------------------------------- writers


PLACEHOLDER = 4321.5
"""A value written in place of a literal the writers cannot produce (``1e400``), then replaced in the text."""


def _swap_placeholder(text: str, literal: str | None) -> str:
    if literal is None:
        return text
    return re.sub(r"4321\.50*(?![0-9])", literal, text)


def _literal(value: Any) -> tuple[Any, str | None]:
    """(value to write, literal that replaces it afterwards) for a value given as a string like ``"1e400"``."""
    return (PLACEHOLDER, value) if isinstance(value, str) else (value, None)


def write_extxyz(frames: list[Frame]) -> str:
    import ase.io

    images, literal = [], None
    for frame in frames:
        atoms = Atoms(numbers=frame.atoms.numbers, positions=frame.atoms.positions, cell=frame.atoms.cell,
                      pbc=frame.atoms.pbc)  # fmt: skip
        atoms.info.update(id=frame.id, kind=frame.kind)
        results: dict[str, Any] = {}
        if frame.energy is not None:
            results["energy"], lit = _literal(frame.energy)
            literal = literal or lit
        if frame.forces is not None:
            results["forces"] = np.asarray(frame.forces, dtype=float)
        if frame.stress is not None:
            results["stress"] = np.asarray(frame.stress, dtype=float)
        atoms.calc = SinglePointCalculator(atoms, **results)
        images.append(atoms)
    text = io.StringIO()
    ase.io.write(text, images, format="extxyz")
    return _swap_placeholder(text.getvalue(), literal)


def structure_dict(atoms: Atoms) -> dict:
    """A pymatgen ``Structure.as_dict()``; hand-built when the cell is singular (pymatgen cannot make one)."""
    cell = np.asarray(atoms.cell.array, dtype=float)
    if abs(np.linalg.det(cell)) > 1e-6 and np.all(np.abs(atoms.positions) < 1e6) and len(atoms) < 1000:
        from pymatgen.core import Lattice, Structure

        structure = Structure(Lattice(cell), atoms.get_chemical_symbols(), atoms.positions, coords_are_cartesian=True)
        return structure.as_dict()
    frac = atoms.positions @ np.linalg.pinv(cell) if np.any(cell) else atoms.positions
    frac = np.round(frac, 6)
    return {
        "@module": "pymatgen.core.structure", "@class": "Structure", "charge": 0,
        "lattice": {"matrix": cell.tolist(), "pbc": [True, True, True]},
        "sites": [{"species": [{"element": s, "occu": 1}], "abc": list(map(float, f)), "label": s, "properties": {}}
                  for s, f in zip(atoms.get_chemical_symbols(), frac)],
    }  # fmt: skip


def _dumps(document: Any, literal: str | None, big: bool = False) -> str:
    return _swap_placeholder(json.dumps(document, indent=None if big else 1, allow_nan=True), literal)


def _is_big(frames: list[Frame]) -> bool:
    return any(len(f.atoms) > 1000 for f in frames)


def write_pymatgen_json(frames: list[Frame]) -> str:
    items, literal = [], None
    for frame in frames:
        item: dict[str, Any] = {"structure": structure_dict(frame.atoms), "id": frame.id, "kind": frame.kind}
        if frame.energy is not None:
            item["energy"], lit = _literal(frame.energy)
            literal = literal or lit
        items.append(item)
    return _dumps(items, literal, _is_big(frames))


def write_mlearn(frames: list[Frame]) -> str:
    items, literal = [], None
    for frame in frames:
        outputs: dict[str, Any] = {}
        if frame.energy is not None:
            outputs["energy"], lit = _literal(frame.energy)
            literal = literal or lit
        if frame.forces is not None:
            outputs["forces"] = np.asarray(frame.forces).tolist()
        if frame.stress is not None:
            outputs["virial_stress"] = (np.asarray(frame.stress) * -1602.1766).tolist()
        items.append({"structure": structure_dict(frame.atoms), "outputs": outputs, "group": frame.kind,
                      "description": frame.id})  # fmt: skip
    return _dumps(items, literal)


def fitsnap_document(frames: list[Frame]) -> tuple[dict, str | None]:
    data, literal = [], None
    for frame in frames:
        entry: dict[str, Any] = {
            "AtomTypes": frame.atoms.get_chemical_symbols(),
            "Positions": frame.atoms.positions.tolist(),
            "Lattice": frame.atoms.cell.array.tolist(),
            "NumAtoms": len(frame.atoms),
        }
        if frame.energy is not None:
            entry["Energy"], lit = _literal(frame.energy)
            literal = literal or lit
        if frame.forces is not None:
            entry["Forces"] = np.asarray(frame.forces).tolist()
        if frame.stress is not None:
            s = np.asarray(frame.stress, dtype=float) * -1602.1766
            entry["Stress"] = [[s[0], s[5], s[4]], [s[5], s[1], s[3]], [s[4], s[3], s[2]]]
        data.append(entry)
    document = {"Dataset": {"Data": data, "PositionsStyle": "angstrom", "AtomTypeStyle": "chemicalsymbol",
                            "LatticeStyle": "angstrom", "EnergyStyle": "electronvolt",
                            "ForcesStyle": "electronvoltperangstrom", "StressStyle": "kB"}}  # fmt: skip
    return document, literal


def write_fitsnap(frames: list[Frame]) -> str:
    document, literal = fitsnap_document(frames)
    return "# FitSNAP training file written by the hardening tests\n" + _dumps(document, literal, _is_big(frames))


def xsf_text(frame: Frame) -> str:
    lines = []
    if frame.energy is not None:
        lines += [f"# total energy = {frame.energy} eV", ""]
    lines += ["CRYSTAL", "PRIMVEC"]
    lines += ["  " + "  ".join(f"{x:.10f}" for x in row) for row in frame.atoms.cell.array]
    lines += ["PRIMCOORD", f"{len(frame.atoms)} 1"]
    forces = frame.forces
    symbols = frame.atoms.get_chemical_symbols()
    if forces is None and len(symbols) > 1000:  # the 100 000-atom variant: numpy formats it in a fraction of the time
        table = io.StringIO()
        np.savetxt(table, frame.atoms.positions, fmt="%.4f")
        lines += [f"{s}  {row}" for s, row in zip(symbols, table.getvalue().splitlines())]
        return "\n".join(lines) + "\n"
    for k, (symbol, position) in enumerate(zip(symbols, frame.atoms.positions)):
        values = list(position)
        if forces is not None and k < len(forces):
            values += list(np.atleast_1d(forces[k]))
        lines.append(symbol + "  " + "  ".join(_xsf_number(v) for v in values))
    return "\n".join(lines) + "\n"


def _xsf_number(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:.10f}"


def write_cif(atoms: Atoms) -> str:
    """ase's CIF; hand-written for a degenerate cell (ase cannot compute its fractional coordinates) and, in P1,
    for the 100 000-atom variant (quicker)."""
    import ase.io

    if len(atoms) > 1000:
        table = io.StringIO()
        np.savetxt(table, atoms.get_scaled_positions(), fmt="%.5f")
        a, b, c, alpha, beta, gamma = atoms.cell.cellpar()
        head = ["data_big", f"_cell_length_a {a:.6f}", f"_cell_length_b {b:.6f}", f"_cell_length_c {c:.6f}",
                f"_cell_angle_alpha {alpha:.4f}", f"_cell_angle_beta {beta:.4f}", f"_cell_angle_gamma {gamma:.4f}",
                "_space_group_name_H-M_alt 'P 1'", "loop_", "_atom_site_type_symbol", "_atom_site_fract_x",
                "_atom_site_fract_y", "_atom_site_fract_z"]  # fmt: skip
        rows = [f"{s} {row}" for s, row in zip(atoms.get_chemical_symbols(), table.getvalue().splitlines())]
        return "\n".join(head + rows) + "\n"
    out = io.BytesIO()
    try:
        ase.io.write(out, atoms, format="cif")
    except (np.linalg.LinAlgError, AssertionError):
        a, b, c, alpha, beta, gamma = atoms.cell.cellpar()
        lines = ["data_degenerate", f"_cell_length_a {a:.6f}", f"_cell_length_b {b:.6f}", f"_cell_length_c {c:.6f}",
                 f"_cell_angle_alpha {alpha:.6f}", f"_cell_angle_beta {beta:.6f}", f"_cell_angle_gamma {gamma:.6f}",
                 "_space_group_name_H-M_alt 'P 1'", "loop_", "_atom_site_type_symbol", "_atom_site_fract_x",
                 "_atom_site_fract_y", "_atom_site_fract_z"]  # fmt: skip
        lines += [f"{s} {k / len(atoms):.6f} 0.25 0.25" for k, s in enumerate(atoms.get_chemical_symbols())]
        return "\n".join(lines) + "\n"
    return out.getvalue().decode()


def write_poscar(atoms: Atoms) -> str:
    """ase's POSCAR; hand-written (Cartesian) for a degenerate cell, which ase refuses to write."""
    import ase.io

    out = io.StringIO()
    try:
        ase.io.write(out, atoms, format="vasp", direct=True)
    except (RuntimeError, np.linalg.LinAlgError):
        symbols = atoms.get_chemical_symbols()
        rows = lambda array: ["  ".join(f"{x:.8f}" for x in row) for row in array]  # noqa: E731
        lines = ["degenerate cell", "1.0", *rows(atoms.cell.array), symbols[0], str(len(symbols)), "Cartesian",
                 *rows(atoms.positions)]  # fmt: skip
        return "\n".join(lines) + "\n"
    return out.getvalue()


def symmetric_cif(n_sites: int) -> str:
    """A diamond-structure CIF (space group Fd-3m, 192 operations): one Si site gives the 8-atom cell, more general
    sites expand to 192 atoms each."""
    sites = ["Si0 Si 0.0 0.0 0.0"] + [f"Si{k} Si {0.05 + 0.013 * k:.3f} {0.11 + 0.007 * k:.3f} {0.17 + 0.005 * k:.3f}"
                                      for k in range(1, n_sites)]  # fmt: skip
    return "\n".join([
        "data_diamond", "_cell_length_a 5.43", "_cell_length_b 5.43", "_cell_length_c 5.43", "_cell_angle_alpha 90",
        "_cell_angle_beta 90", "_cell_angle_gamma 90", "_symmetry_space_group_name_H-M 'F d -3 m'",
        "_symmetry_Int_Tables_number 227", "loop_", "_atom_site_label", "_atom_site_type_symbol",
        "_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z", *sites,
    ]) + "\n"  # fmt: skip


def energies_csv(frames: list[Frame]) -> str:
    rows = ["id,energy"] + [f"{f.id},{f.energy}" for f in frames if f.energy is not None]
    return "\n".join(rows) + "\n"


def write_csv_cif(frames: list[Frame]) -> str:
    table = pd.DataFrame({
        "material_id": [f.id for f in frames],
        "cif": [write_cif(f.atoms) for f in frames],
        "energy_per_atom": [_per_atom_text(f) for f in frames],
    })  # fmt: skip
    return table.to_csv(index=False, lineterminator="\n")


def _per_atom_text(frame: Frame) -> str:
    if frame.energy is None:
        return ""
    if isinstance(frame.energy, str):
        return frame.energy
    return repr(frame.energy / len(frame.atoms))


def write_ase_db(frames: list[Frame]) -> bytes:
    """An ASE SQLite database of the frames, with its timestamps and unique ids fixed so the bytes are seeded too."""
    import sqlite3
    import tempfile

    import ase.db

    with tempfile.TemporaryDirectory(prefix="corrupt-db-") as folder:
        path = Path(folder) / "si.db"
        with ase.db.connect(str(path), use_lock_file=False) as db:
            for frame in frames:
                atoms = Atoms(numbers=frame.atoms.numbers, positions=frame.atoms.positions, cell=frame.atoms.cell,
                              pbc=frame.atoms.pbc)  # fmt: skip
                results = {k: np.asarray(v, dtype=float) if k != "energy" else v
                           for k, v in (("energy", frame.energy), ("forces", frame.forces), ("stress", frame.stress))
                           if v is not None}  # fmt: skip
                if results:
                    atoms.calc = SinglePointCalculator(atoms, **results)
                db.write(atoms, name=frame.id, kind=frame.kind)
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE systems SET ctime = 0, mtime = 0, unique_id = printf('%032d', id)")
        connection.close()
        with sqlite3.connect(path) as connection:
            connection.execute("VACUUM")
        connection.close()
        return path.read_bytes()


def write_fetched_pool(frames: list[Frame]) -> str:
    records, literal = [], None
    for frame in frames:
        record: dict[str, Any] = {"id": f"mp-{frame.id}", "structure": structure_dict(frame.atoms), "source": "mp"}
        if frame.energy is not None:
            value = frame.energy if isinstance(frame.energy, str) else frame.energy / len(frame.atoms)
            record["energy_per_atom"], lit = _literal(value)
            literal = literal or lit
        records.append(record)
    document = {
        "format": "alcore-fetched-pool", "version": 1, "name": "mp-Si-test", "source": "mp",
        "query": {"chemsys": "Si"}, "client": {"test": "1"}, "endpoint": {"mp": "http://mp.test/"},
        "fetched_at": "2026-01-01T00:00:00Z", "n_records": len(records), "notes": {}, "records": records,
    }  # fmt: skip
    return _dumps(document, literal)


# --------------------------------------------------------------------------------------------- archives


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def tar_bytes(members: list[tuple[str, bytes]], compress: bool = True, extra: Callable | None = None) -> bytes:
    """A deterministic (.gz) tar of regular files; ``extra(tf)`` may add special members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tf.addfile(info, io.BytesIO(data))
        if extra is not None:
            extra(tf)
    return gz(buffer.getvalue()) if compress else buffer.getvalue()


def zip_bytes(members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, ZIP_DATE)
            if info.compress_type == zipfile.ZIP_STORED and not isinstance(name, zipfile.ZipInfo):
                info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def xsf_members(frames: list[Frame], folder: str = "si_xsf") -> list[tuple[str, bytes]]:
    return [(f"{folder}/{f.id}.xsf", xsf_text(f).encode()) for f in frames]


def cif_members(frames: list[Frame], sidecar: str | bytes | None = None) -> list[tuple[str, bytes]]:
    members = [(f"cifs/{f.id}.cif", write_cif(f.atoms).encode()) for f in frames]
    sidecar = energies_csv(frames) if sidecar is None else sidecar
    return [*members, ("cifs/energies.csv", sidecar if isinstance(sidecar, bytes) else sidecar.encode())]


def poscar_members(frames: list[Frame], sidecar: str | bytes | None = None) -> list[tuple[str, bytes]]:
    members = [(f"poscars/{f.id}.vasp", write_poscar(f.atoms).encode()) for f in frames]
    sidecar = energies_csv(frames) if sidecar is None else sidecar
    return [*members, ("poscars/energies.csv", sidecar if isinstance(sidecar, bytes) else sidecar.encode())]


def fitsnap_members(frames: list[Frame]) -> list[tuple[str, bytes]]:
    groups = ["Bulk", "Bulk", "Vacancy"]
    return [(f"Si_JSON/{groups[k % 3]}/{f.id}.json", write_fitsnap([f]).encode()) for k, f in enumerate(frames)]


def _deflate_zeros(n_bytes: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``n_bytes`` zeros and its CRC-32, built in milliseconds: every MiB compresses to the
    same bytes after a full flush, so the stream is one compressed MiB repeated."""
    mib = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    n_mib, rest = divmod(n_bytes, 1 << 20)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = tail.compress(bytes(rest)) + tail.flush()
    crc = 0
    for _ in range(n_mib):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(bytes(rest), crc)
    return block * n_mib + end, crc


def zip_bomb(name: str, n_bytes: int, declared: int | None = None) -> bytes:
    """A zip with one deflated member of ``n_bytes`` zeros; ``declared`` lies about its size in the headers."""
    stream, crc = _deflate_zeros(n_bytes)
    size = n_bytes if declared is None else declared
    encoded = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stream), size, len(encoded), 0)
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(stream), size,
                          len(encoded), 0, 0, 0, 0, 0o644 << 16, 0)  # fmt: skip
    offset_cd = len(local) + len(encoded) + len(stream)
    size_cd = len(central) + len(encoded)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, size_cd, offset_cd, 0)
    return local + encoded + stream + central + encoded + end


def tar_gz_bomb(name: str, n_bytes: int) -> bytes:
    """A .tar.gz whose one member is ``n_bytes`` zeros (honestly declared in the tar header)."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime = n_bytes, 0
    header = info.tobuf(format=tarfile.USTAR_FORMAT)
    padding = (-n_bytes) % 512
    trailer_zeros = padding + 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    zeros, _ = _deflate_zeros(n_bytes + trailer_zeros)
    crc = zlib.crc32(header)
    mib = bytes(1 << 20)
    total = n_bytes + trailer_zeros
    for _ in range(total >> 20):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(bytes(total & ((1 << 20) - 1)), crc)
    size = (len(header) + total) & 0xFFFFFFFF
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + zeros + struct.pack("<2L", crc, size)


def tar_bz2_bomb(name: str, n_bytes: int) -> bytes:
    """A .tar.bz2 whose one member is ``n_bytes`` zeros, as concatenated bzip2 streams (one compressed MiB repeated;
    bzip2 readers continue across streams)."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime = n_bytes, 0
    n_mib, rest = divmod(n_bytes, 1 << 20)
    tail = bytes(rest + (-n_bytes) % 512 + 1024)
    head = bz2.compress(info.tobuf(format=tarfile.USTAR_FORMAT))
    return head + bz2.compress(bytes(1 << 20)) * n_mib + bz2.compress(tail)


def gz_bomb(n_bytes: int) -> bytes:
    """A gzip stream of ``n_bytes`` zeros (a decompression bomb for ``.xyz.gz``)."""
    stream, crc = _deflate_zeros(n_bytes)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream + struct.pack("<2L", crc, n_bytes & 0xFFFFFFFF)


def zip_central_directory_bomb(n_entries: int) -> bytes:
    """A zip whose central directory lists ``n_entries`` one-letter members (tens of MB of directory, no data):
    parsing it naively costs ~0.5 kB of memory per entry."""
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0x21, 0, 0, 0, 1, 0) + b"a"
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    directory = entry * n_entries
    count = min(n_entries, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(local), 0)
    return local + directory + end


# --------------------------------------------------------------------------------------------- bases


@dataclass(frozen=True)
class Base:
    """A valid file: its name, format, bytes maker, whether it is text (encoding variants apply) and how many
    structures it holds."""

    key: str
    filename: str
    format: str
    make: Callable[[], bytes]
    text: bool
    n: int = N_FRAMES
    forces: str = "all"


def _compress(opener: Callable, data: bytes) -> bytes:
    if opener is gzip.open:
        return gz(data)
    return bz2.compress(data) if opener is bz2.open else lzma.compress(data)


def bases(seed: int = 0) -> list[Base]:
    f = lambda: base_frames(seed)  # noqa: E731
    xyz = lambda: write_extxyz(f()).encode()  # noqa: E731
    return [
        Base("extxyz", "si.xyz", "extxyz", xyz, True),
        Base("extxyz-gz", "si.extxyz.gz", "extxyz", lambda: _compress(gzip.open, xyz()), False),
        Base("extxyz-bz2", "si.xyz.bz2", "extxyz", lambda: _compress(bz2.open, xyz()), False),
        Base("extxyz-xz", "si.xyz.xz", "extxyz", lambda: _compress(lzma.open, xyz()), False),
        Base("pymatgen", "si_structures.json", "pymatgen-json", lambda: write_pymatgen_json(f()).encode(), True,
             forces="none"),
        Base("mlearn", "si_mlearn.json", "mlearn", lambda: write_mlearn(f()).encode(), True),
        Base("fitsnap", "si_fitsnap.json", "fitsnap", lambda: write_fitsnap(f()).encode(), True),
        Base("fitsnap-tgz", "Si_JSON.tar.gz", "fitsnap", lambda: tar_bytes(fitsnap_members(f())), False),
        Base("xsf", "s0.xsf", "xsf", lambda: xsf_text(f()[0]).encode(), True, n=1),
        Base("xsf-tgz", "si_xsf.tar.gz", "xsf", lambda: tar_bytes(xsf_members(f())), False),
        Base("xsf-zip", "si_xsf.zip", "xsf", lambda: zip_bytes(xsf_members(f())), False),
        Base("cif-zip", "si_cifs.zip", "cif", lambda: zip_bytes(cif_members(f())), False, forces="none"),
        Base("poscar-tgz", "si_poscars.tar.gz", "poscar", lambda: tar_bytes(poscar_members(f())), False,
             forces="none"),
        Base("csv-cif", "si_table.csv", "csv-cif", lambda: write_csv_cif(f()).encode(), True, forces="none"),
        Base("fetched", "mp-Si-test.json", "fetched-pool", lambda: write_fetched_pool(f()).encode(), True,
             forces="none"),
        Base("ase-db", "si.db", "ase-db", lambda: write_ase_db(f()), False),
    ]  # fmt: skip


# Writers for the semantic variants: frames -> (file name, bytes). The archive formats carry one structure per member.
WRITERS: dict[str, tuple[str, str, Callable[[list[Frame]], bytes]]] = {
    "extxyz": ("si.xyz", "extxyz", lambda fr: write_extxyz(fr).encode()),
    "pymatgen": ("si_structures.json", "pymatgen-json", lambda fr: write_pymatgen_json(fr).encode()),
    "mlearn": ("si_mlearn.json", "mlearn", lambda fr: write_mlearn(fr).encode()),
    "fitsnap": ("si_fitsnap.json", "fitsnap", lambda fr: write_fitsnap(fr).encode()),
    "xsf-tgz": ("si_xsf.tar.gz", "xsf", lambda fr: tar_bytes(xsf_members(fr))),
    "cif-zip": ("si_cifs.zip", "cif", lambda fr: zip_bytes(cif_members(fr))),
    "poscar-tgz": ("si_poscars.tar.gz", "poscar", lambda fr: tar_bytes(poscar_members(fr))),
    "csv-cif": ("si_table.csv", "csv-cif", lambda fr: write_csv_cif(fr).encode()),
    "fetched": ("mp-Si-test.json", "fetched-pool", lambda fr: write_fetched_pool(fr).encode()),
    "ase-db": ("si.db", "ase-db", write_ase_db),
}
WITH_FORCES = ("extxyz", "mlearn", "fitsnap", "xsf-tgz", "ase-db")
WITH_LITERALS = ("extxyz", "pymatgen", "mlearn", "fitsnap", "xsf-tgz", "fetched")


# --------------------------------------------------------------------------------------------- byte-level variants


def _mid_line_cut(data: bytes, fraction: float) -> int:
    """A cut point near ``fraction`` of the file that is not at a line end (so no complete file is left)."""
    cut = max(1, int(len(data) * fraction))
    while cut < len(data) - 1 and data[cut - 1 : cut] in (b"\n", b"\r", b" "):
        cut += 1
    return cut


def byte_cases(base: Base, seed: int) -> list[Case]:
    rng_seed = [seed, zlib.crc32(base.key.encode())]

    def garbage() -> bytes:
        return np.random.default_rng(rng_seed).integers(0, 256, 4096, dtype=np.uint8).tobytes()

    def with_ff() -> bytes:
        data = bytearray(base.make())
        data[len(data) // 2] = 0xFF
        return bytes(data)

    cases = [
        Case(f"{base.key}-truncated-{int(fr * 100)}pct", base.filename,
             lambda fr=fr: base.make()[: _mid_line_cut(base.make(), fr)], base.format, TRUNCATED)
        for fr in (0.13, 0.5, 0.87)
    ]  # fmt: skip
    cases += [
        Case(f"{base.key}-empty", base.filename, lambda: b"", base.format, EMPTY),
        Case(f"{base.key}-binary-garbage", base.filename, garbage, base.format, GARBAGE),
    ]  # fmt: skip
    if base.format != "ase-db":  # SQLite keeps no checksum of its content: a changed byte inside a value is a value
        cases.append(Case(f"{base.key}-byte-0xff-in-the-middle", base.filename, with_ff, base.format,
                          NOT_UTF8 + "|" + GARBAGE + "|crc|" + TRUNCATED))  # fmt: skip
    if not base.text:
        cases.append(Case(f"{base.key}-last-byte-missing", base.filename, lambda: base.make()[:-1], base.format,
                          TRUNCATED + "|" + GARBAGE))  # fmt: skip
    return cases


def text_cases(base: Base, seed: int) -> list[Case]:
    """Encoding and line-ending variants of a text file (the valid ones must give the very same energies)."""
    same = expect(base.n, base.forces, energies=per_atom(base_frames(seed)[: base.n]))
    latin = lambda: _add_non_ascii(base, base.make().decode()).encode("latin-1")  # noqa: E731
    return [
        Case(f"{base.key}-whitespace-only", base.filename, lambda: b"  \n\t\n \n", base.format, EMPTY),
        Case(f"{base.key}-utf16-with-bom", base.filename, lambda: base.make().decode().encode("utf-16"),
             base.format, None, same),
        Case(f"{base.key}-utf16le-without-bom", base.filename, lambda: base.make().decode().encode("utf-16-le"),
             base.format, NOT_UTF8),
        Case(f"{base.key}-utf8-bom", base.filename, lambda: b"\xef\xbb\xbf" + base.make(), base.format, None, same),
        Case(f"{base.key}-latin1-non-ascii", base.filename, latin, base.format, r"not utf-8.*line \d+"),
        Case(f"{base.key}-utf8-non-ascii", base.filename, lambda: _add_non_ascii(base, base.make().decode()).encode(),
             base.format, None, same),
        Case(f"{base.key}-crlf-line-ends", base.filename, lambda: base.make().replace(b"\n", b"\r\n"),
             base.format, None, same),
        Case(f"{base.key}-nul-byte", base.filename, lambda: _insert(base.make(), b"\x00"), base.format,
             r"not a readable|invalid json|element|not a number|nul|control|expected|number"),
    ]  # fmt: skip


def _insert(data: bytes, what: bytes) -> bytes:
    """``what`` inserted in the middle of a line near the middle of the file."""
    cut = _mid_line_cut(data, 0.5)
    return data[:cut] + what + data[cut:]


def _add_non_ascii(base: Base, text: str) -> str:
    """The file with a harmless non-ASCII text ("Café Müller") where the format allows free text."""
    note = "Café Müller"
    if base.format == "extxyz":
        return re.sub(r"kind=rattle", f'kind=rattle note="{note}"', text)
    if base.format in ("pymatgen-json", "mlearn", "fetched-pool"):
        return re.sub(r'"structure":', f'"note": "{note}", "structure":', text, count=1)
    if base.format == "fitsnap":
        return text.replace("# FitSNAP", f"# {note} FitSNAP", 1)
    if base.format == "xsf":
        return f"# {note}\n{text}"
    if base.format == "csv-cif":
        lines = text.split("\n", 1)
        return f"{lines[0]},note\n" + _append_column(lines[1], note)
    raise ValueError(base.format)


def _append_column(body: str, value: str) -> str:
    table = pd.read_csv(io.StringIO("material_id,cif,energy_per_atom\n" + body))
    table["note"] = value
    return table.to_csv(index=False, header=False, lineterminator="\n")


# --------------------------------------------------------------------------------------------- semantic variants


def _set(index: int, **changes) -> Callable[[list[Frame]], list[Frame]]:
    def edit(frames: list[Frame]) -> list[Frame]:
        for key, value in changes.items():
            setattr(frames[index], key, value)
        return frames

    return edit


def _all(**changes) -> Callable[[list[Frame]], list[Frame]]:
    def edit(frames: list[Frame]) -> list[Frame]:
        for frame in frames:
            for key, value in changes.items():
                setattr(frame, key, value)
        return frames

    return edit


def _cell(index: int, cell) -> Callable[[list[Frame]], list[Frame]]:
    def edit(frames: list[Frame]) -> list[Frame]:
        atoms = frames[index].atoms
        scaled = atoms.get_scaled_positions(wrap=False)
        atoms.set_cell(cell, scale_atoms=False)
        atoms.positions = scaled @ np.asarray(cell, dtype=float) if np.any(cell) else atoms.positions
        return frames

    return edit


def _positions(index: int, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[list[Frame]], list[Frame]]:
    def edit(frames: list[Frame]) -> list[Frame]:
        frames[index].atoms.positions = change(frames[index].atoms.positions.copy())
        return frames

    return edit


def _overlap(distance: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(positions: np.ndarray) -> np.ndarray:
        positions[3] = positions[2] + [distance, 0.0, 0.0]
        return positions

    return change


def _big_cell(frames: list[Frame]) -> list[Frame]:
    """Structure 1 becomes a 100 000-atom silicon supercell (the forces follow)."""
    rng = np.random.default_rng(7)
    atoms = bulk("Si", "diamond", a=5.43, cubic=True).repeat((25, 25, 20))
    assert len(atoms) == BIG_ATOMS
    atoms.positions = np.round(atoms.positions + rng.normal(0.0, 0.01, atoms.positions.shape), 4)
    frames[1] = Frame(atoms, -5.42 * len(atoms), None, frames[1].stress, "s1")  # short numbers, no forces: fast
    return frames


def _coordinate(value) -> Callable[[np.ndarray], np.ndarray]:
    def change(positions: np.ndarray) -> np.ndarray:
        positions[0, 0] = value
        return positions

    return change


def _skew(frames: list[Frame]) -> list[Frame]:
    """Structure 1 described by the same lattice with b -> b + 6a: only 0.9 Å between lattice planes, a legitimate
    (if unreduced) cell that must load."""
    atoms = frames[1].atoms
    cell = atoms.cell.array.copy()
    cell[1] += 6 * cell[0]
    atoms.set_cell(cell, scale_atoms=False)
    return frames


def _element(frames: list[Frame]) -> list[Frame]:
    frames[1].atoms.numbers[0] = 0  # "X": no element
    return frames


SEMANTIC: list[tuple[str, Callable[[list[Frame]], list[Frame]], str | None, tuple[str, ...]]] = [
    # (id, edit, problem or None when still valid, writers it applies to)
    ("energy-nan", _set(1, energy=float("nan")), NOT_FINITE, tuple(WRITERS)),
    ("energy-inf", _set(1, energy=float("inf")), NOT_FINITE, tuple(WRITERS)),
    ("energy-minus-inf", _set(1, energy=float("-inf")), NOT_FINITE, tuple(WRITERS)),
    ("energy-1e308", _set(1, energy=1e308), IMPLAUSIBLE, tuple(WRITERS)),
    ("energy-literal-1e400", _set(1, energy="1e400"), NOT_FINITE, (*WITH_LITERALS, "csv-cif", "cif-zip")),
    ("energy-text", _set(1, energy="minus five"), r"not a number|non-number|not a readable|invalid json",
     ("extxyz", "xsf-tgz", "csv-cif", "poscar-tgz")),
    ("energy-missing-in-one", _set(1, energy=None), NO_ENERGY + "|not finite|nan", tuple(WRITERS)),
    ("energy-missing-everywhere", _all(energy=None), NO_ENERGY + "|not finite|nan|no rows|needs a column",
     tuple(WRITERS)),
    ("forces-missing-everywhere", _all(forces=None), None, WITH_FORCES),
    ("forces-missing-in-one", _set(1, forces=None), None, WITH_FORCES),
    ("forces-one-row-short", lambda fr: _set(1, forces=fr[1].forces[:-1])(fr), FORCES_SHAPE,
     ("mlearn", "fitsnap", "xsf-tgz")),
    ("forces-nan", lambda fr: _set(1, forces=np.where(np.eye(8, 3) > 0, np.nan, fr[1].forces))(fr),
     NOT_FINITE, WITH_FORCES),
    ("forces-1e308", lambda fr: _set(1, forces=fr[1].forces * 0 + 1e308)(fr), IMPLAUSIBLE, WITH_FORCES),
    ("cell-zero", _cell(1, np.zeros((3, 3))), CELL, tuple(w for w in WRITERS if w not in ("cif-zip", "csv-cif"))),
    ("cell-coplanar", _cell(1, [[5.43, 0, 0], [0, 5.43, 0], [5.43, 5.43, 0]]), CELL, tuple(WRITERS)),
    ("cell-left-handed-negative-volume", _cell(1, np.diag([5.43, 5.43, -5.43])), None,
     ("extxyz", "pymatgen", "mlearn", "fitsnap", "xsf-tgz", "poscar-tgz", "fetched")),
    ("cell-skewed-but-valid", _skew, None, ("extxyz", "pymatgen", "xsf-tgz", "poscar-tgz", "fetched")),
    ("cell-with-a-0.3A-vector", _cell(1, np.diag([5.43, 5.43, 0.3])), OVERLAP + "|image",
     ("extxyz", "pymatgen", "fitsnap", "xsf-tgz", "poscar-tgz")),
    ("atoms-on-top-of-each-other", _positions(1, _overlap(0.0)), OVERLAP, tuple(WRITERS)),
    ("atoms-0.1A-apart", _positions(1, _overlap(0.1)), OVERLAP, tuple(WRITERS)),
    ("fractional-coordinates-as-cartesian", _positions(1, lambda p: p / 5.43), OVERLAP + "|fractional",
     ("extxyz", "fitsnap", "xsf-tgz")),
    ("coordinate-1e308", _positions(1, _coordinate(1e308)), IMPLAUSIBLE + "|" + NOT_FINITE,
     ("extxyz", "pymatgen", "mlearn", "fitsnap", "xsf-tgz", "fetched")),
    ("unknown-element", _element, ELEMENT, ("extxyz", "pymatgen", "mlearn", "xsf-tgz", "poscar-tgz", "fetched")),
    ("cell-with-100000-atoms", _big_cell, TOO_MANY_ATOMS + "|lines", ("extxyz", "pymatgen", "fitsnap", "xsf-tgz",
                                                                      "cif-zip", "csv-cif")),
]


def semantic_cases(seed: int) -> list[Case]:
    cases = []
    for name, edit, problem, writers in SEMANTIC:
        for key in writers:
            filename, fmt, write = WRITERS[key]
            frames_of = lambda edit=edit: edit(base_frames(seed))  # noqa: E731
            check = None
            if problem is None:
                n_forces = "none" if key not in WITH_FORCES else ("none" if "everywhere" in name else "some")
                n_forces = "all" if ("left-handed" in name or "skewed" in name) and key in WITH_FORCES else n_forces
                check = expect(N_FRAMES, n_forces)
            cases.append(Case(f"{key}-{name}", filename, lambda w=write, fr=frames_of: w(fr()), fmt, problem, check,
                              big="100000" in name))  # fmt: skip
    return cases


# --------------------------------------------------------------------------------------------- format-specific


def _text_edit(key: str, edit: Callable[[str], str], seed: int) -> Callable[[], bytes]:
    filename, fmt, write = WRITERS[key]
    return lambda: edit(write(base_frames(seed)).decode()).encode()


def _json_edit(key: str, edit: Callable[[Any], Any], seed: int) -> Callable[[], bytes]:
    filename, fmt, write = WRITERS[key]

    def make() -> bytes:
        text = write(base_frames(seed)).decode()
        head = ""
        if text.startswith("#"):
            head, text = text.split("\n", 1)
            head += "\n"
        return (head + json.dumps(edit(json.loads(text)))).encode()

    return make


def _first_line(text: str, new: str) -> str:
    return new + text[text.index("\n") :]


def _edit_item(index: int, change: Callable[[dict], None]) -> Callable[[Any], Any]:
    def edit(items):
        change(items[index])
        return items

    return edit


def _edit_fitsnap(change: Callable[[dict], None]) -> Callable[[Any], Any]:
    def edit(document):
        change(document)
        return document

    return edit


def _edit_pool(change: Callable[[dict], None]) -> Callable[[Any], Any]:
    return _edit_fitsnap(change)


def specific_cases(seed: int) -> list[Case]:
    s = seed
    cases: list[tuple[str, str, Callable[[], bytes], str | None]] = []  # (id, writer key, make, problem)
    add = lambda cid, key, make, problem: cases.append((cid, key, make, problem))  # noqa: E731

    # extended XYZ
    add("extxyz-atom-count-too-large", "extxyz", _text_edit("extxyz", lambda t: _first_line(t, "9"), s), TRUNCATED)
    add("extxyz-atom-count-too-small", "extxyz", _text_edit("extxyz", lambda t: _first_line(t, "7"), s),
        r"not a readable|expected")
    add("extxyz-atom-count-negative", "extxyz", _text_edit("extxyz", lambda t: _first_line(t, "-1"), s),
        r"not a readable|atom count")
    add("extxyz-atom-count-not-a-number", "extxyz", _text_edit("extxyz", lambda t: _first_line(t, "eight"), s),
        r"not a readable|number of atoms")
    add("extxyz-atom-count-1e12", "extxyz", _text_edit("extxyz", lambda t: _first_line(t, "1000000000000"), s),
        TOO_MANY_ATOMS + "|not a readable|expected")
    add("extxyz-lattice-with-8-numbers", "extxyz",
        _text_edit("extxyz", lambda t: re.sub(r'Lattice="([^"]*) [^ "]+"', r'Lattice="\1"', t), s),
        r"not a readable|lattice")
    add("extxyz-properties-without-pos", "extxyz", _text_edit("extxyz", lambda t: t.replace(":pos:", ":where:"), s),
        r"not a readable|position|pos")
    add("extxyz-energy-key-capitalised", "extxyz", _text_edit("extxyz", lambda t: t.replace(" energy=", " Energy="), s),
        None)  # energy names are matched without regard to case
    add("extxyz-energy-key-unknown", "extxyz", _text_edit("extxyz", lambda t: t.replace(" energy=", " E0="), s),
        NO_ENERGY)
    add("extxyz-energy-and-per-atom-disagree", "extxyz",
        _text_edit("extxyz", lambda t: t.replace(" energy=", " energy_per_atom=-1.0 energy=", 1), s), r"disagree")
    add("extxyz-forces-and-dft-force-disagree", "extxyz",
        _text_edit("extxyz", lambda t: re.sub(r"(\nSi(?:\s+\S+){6})", r"\1 9.0 9.0 9.0", t).replace(
            ":forces:R:3", ":forces:R:3:dft_force:R:3"), s), r"two forces labels")
    add("extxyz-virial-and-stress-disagree", "extxyz",
        _text_edit("extxyz", lambda t: t.replace(" stress=", ' virial="1 0 0 0 1 0 0 0 1" stress=', 1), s),
        r"disagree")
    add("extxyz-extra-column-ignored-by-ase", "extxyz",
        _text_edit("extxyz", lambda t: re.sub(r"(\nSi[^\n]*)", r"\1 0.5", t, count=1), s), None)
    add("extxyz-comment-line-missing", "extxyz",
        _text_edit("extxyz", lambda t: t.split("\n", 2)[0] + "\n" + t.split("\n", 2)[2], s),
        r"not a readable|expected the number of atoms")
    add("extxyz-pbc-garbage-ignored-by-ase", "extxyz",
        _text_edit("extxyz", lambda t: t.replace('pbc="T T T"', 'pbc="X Y Z"'), s), None)
    add("extxyz-tabs-instead-of-spaces", "extxyz", _text_edit("extxyz", lambda t: t.replace("    ", "\t"), s), None)
    add("extxyz-no-final-newline", "extxyz", _text_edit("extxyz", lambda t: t.rstrip("\n"), s), None)
    add("extxyz-stress-with-5-numbers", "extxyz",
        _text_edit("extxyz", lambda t: re.sub(r'stress="([^"]*) [^ "]+"', r'stress="\1"', t), s),
        r"stress|not a readable")

    # JSON files
    for key in ("pymatgen", "mlearn", "fitsnap", "fetched"):
        head = "# FitSNAP\n" if key == "fitsnap" else ""
        add(f"{key}-top-level-number", key, lambda h=head: (h + "42").encode(),
            r"expected|not a fetched pool|no top-level|cannot tell")
        add(f"{key}-top-level-string", key, lambda h=head: (h + '"structures"').encode(),
            r"expected|not a fetched pool|no top-level|cannot tell")
        add(f"{key}-trailing-garbage", key, lambda k=key: WRITERS[k][2](base_frames(s)) + b"\n}}} and more",
            r"invalid json|not valid json|extra data")
        add(f"{key}-deeply-nested", key, lambda h=head: (h + "[" * 100_000 + "]" * 100_000).encode(),
            r"nest|deep|expected|not a fetched pool|no top-level|cannot tell")
        add(f"{key}-5000-digit-integer", key,
            lambda k=key: re.sub(rb"(\"[Ee]nergy(?:_per_atom)?\": )-?[0-9.e+-]+", b"\\g<1>" + b"9" * 5000,
                                 WRITERS[k][2](base_frames(s)), count=1), r"digits|too large|too long|plausible")
        add(f"{key}-python-repr-not-json", key,
            lambda k=key: WRITERS[k][2](base_frames(s)).replace(b'"', b"'"), r"invalid json|not valid json|cannot tell")
    add("pymatgen-top-level-empty-list", "pymatgen", lambda: b"[]", r"non-empty|no structures|cannot tell")
    add("pymatgen-structure-key-renamed", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it.update(structures=it.pop("structure"))), s),
        r"'structure'|structure")
    add("pymatgen-energy-key-renamed", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it.update(Energy=it.pop("energy"))), s), NO_ENERGY)
    add("pymatgen-disordered-site", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"]["sites"][0].update(
            species=[{"element": "Si", "occu": 0.5}, {"element": "Ge", "occu": 0.5}])), s), r"disordered")
    add("pymatgen-molecule-not-structure", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"].update({"@class": "Molecule"})), s),
        r"Molecule|periodic")
    add("pymatgen-lattice-missing", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"].pop("lattice")), s), r"lattice")
    add("pymatgen-abc-with-2-numbers", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"]["sites"][0].update(abc=[0.1, 0.2])), s),
        r"malformed|coordinates|abc")
    add("pymatgen-abc-as-text", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"]["sites"][0].update(abc="0 0 0")), s),
        r"malformed|coordinates|abc")
    add("pymatgen-species-element-number", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"]["sites"][0]["species"][0].update(element=14)),
                   s), r"malformed|element|species")
    add("pymatgen-lattice-matrix-as-text", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it["structure"]["lattice"].update(matrix="5.43 0 0")), s),
        r"malformed|lattice")
    add("pymatgen-energy-true", "pymatgen", _json_edit("pymatgen", _edit_item(1, lambda it: it.update(energy=True)), s),
        r"not a number")
    add("pymatgen-energy-list", "pymatgen",
        _json_edit("pymatgen", _edit_item(1, lambda it: it.update(energy=[-43.0])), s), r"not a number")
    add("mlearn-outputs-renamed", "mlearn",
        _json_edit("mlearn", _edit_item(1, lambda it: it.update(output=it.pop("outputs"))), s),
        r"outputs|mlearn item|no 'energy")
    add("mlearn-outputs-not-object", "mlearn",
        _json_edit("mlearn", _edit_item(1, lambda it: it.update(outputs=[1])), s), r"outputs|mlearn item")
    add("mlearn-virial-stress-5-values", "mlearn",
        _json_edit("mlearn", _edit_item(1, lambda it: it["outputs"].update(virial_stress=[1, 2, 3, 4, 5])), s),
        r"virial_stress|stress")
    add("mlearn-forces-not-numeric", "mlearn",
        _json_edit("mlearn", _edit_item(1, lambda it: it["outputs"].update(forces=[["a", "b", "c"]] * 8)), s),
        r"forces")
    add("fitsnap-dataset-key-lowercase", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d.update(dataset=d.pop("Dataset"))), s),
        r"'Dataset'|cannot tell")
    add("fitsnap-data-empty", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"].update(Data=[])), s), r"missing or empty")
    add("fitsnap-atomtypes-as-string", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"]["Data"][1].update(AtomTypes="SiSiSiSiSiSiSiSi")), s),
        r"AtomTypes|malformed|element")
    add("fitsnap-numatoms-mismatch", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"]["Data"][1].update(NumAtoms=9)), s), r"NumAtoms")
    add("fitsnap-stress-2x2", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"]["Data"][1].update(Stress=[[1, 0], [0, 1]])), s),
        r"Stress")
    add("fitsnap-stress-style-gpa", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"].update(StressStyle="GPa")), s), r"StressStyle")
    add("fitsnap-comment-line-only", "fitsnap", lambda: b"# only a comment\n", r"empty")
    add("fitsnap-positions-flat", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"]["Data"][1].update(
            Positions=[0.0] * 24)), s), r"malformed|Positions|shape")
    add("fitsnap-lattice-2x3", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"]["Data"][1].update(
            Lattice=[[5.43, 0, 0], [0, 5.43, 0]])), s), r"Lattice|malformed|shape")
    add("fitsnap-spins-wrong-shape", "fitsnap",
        _json_edit("fitsnap", _edit_fitsnap(lambda d: d["Dataset"]["Data"][1].update(Spins=[[1, 0, 0]])), s),
        r"Spins")
    add("fetched-wrong-version", "fetched", _json_edit("fetched", _edit_pool(lambda d: d.update(version=99)), s),
        r"version")
    add("fetched-no-records", "fetched", _json_edit("fetched", _edit_pool(lambda d: d.update(records=[])), s),
        r"no records")
    add("fetched-record-without-id", "fetched",
        _json_edit("fetched", _edit_pool(lambda d: d["records"][1].pop("id")), s), r"'id'")
    add("fetched-format-missing", "fetched", _json_edit("fetched", _edit_pool(lambda d: d.pop("format")), s),
        r"not a fetched pool|cannot tell|structure")

    # aenet XSF (one file)
    def xsf(edit: Callable[[str], str]) -> Callable[[], bytes]:
        return lambda: edit(xsf_text(base_frames(s)[0])).encode()

    add("xsf-primvec-with-2-rows", "xsf", xsf(lambda t: re.sub(r"PRIMVEC\n[^\n]*\n", "PRIMVEC\n", t)),
        r"PRIMVEC|expected|lattice")
    add("xsf-primcoord-count-too-large", "xsf", xsf(lambda t: t.replace("\n8 1\n", "\n9 1\n")), r"declares")
    add("xsf-primcoord-count-1e9", "xsf", xsf(lambda t: t.replace("\n8 1\n", "\n1000000000 1\n")),
        TOO_MANY_ATOMS + "|declares")
    add("xsf-primcoord-count-text", "xsf", xsf(lambda t: t.replace("\n8 1\n", "\neight 1\n")), r"atom count")
    add("xsf-no-primcoord", "xsf", xsf(lambda t: t.replace("PRIMCOORD", "PRIMCORD")), r"PRIMCOORD")
    add("xsf-energy-unit-rydberg", "xsf", xsf(lambda t: t.replace(" eV\n", " Ry\n", 1)), r"unit")
    add("xsf-energy-comment-renamed", "xsf", xsf(lambda t: t.replace("total energy", "energy")), r"total energy")
    add("xsf-atom-line-with-5-numbers", "xsf", xsf(lambda t: re.sub(r"(\nSi(?:\s+\S+){4})\s+\S+", r"\1", t, count=1)),
        r"expected \d numbers|line")
    out = []
    for cid, key, make, problem in cases:
        filename, fmt, _ = WRITERS.get(key, ("s0.xsf", "xsf", None))
        n = 1 if key == "xsf" else N_FRAMES
        forces = "none" if key in ("pymatgen", "fetched", "csv-cif") else "all"
        check = expect(n, forces) if problem is None else None
        out.append(Case(cid, filename, make, fmt, problem, check))
    return out + csv_cases(seed) + structure_archive_cases(seed) + archive_cases(seed)


def csv_cases(seed: int) -> list[Case]:
    frames = lambda: base_frames(seed)  # noqa: E731
    table = lambda: write_csv_cif(frames())  # noqa: E731

    def rename(old: str, new: str) -> Callable[[], bytes]:
        return lambda: _first_line(table(), table().split("\n", 1)[0].replace(old, new)).encode()

    def cif_of(index: int, value: str) -> Callable[[], bytes]:
        def make() -> bytes:
            t = pd.read_csv(io.StringIO(table()), dtype=str)
            t.loc[index, "cif"] = value
            return t.to_csv(index=False, lineterminator="\n").encode()

        return make

    def disordered(text: str) -> str:
        return re.sub(r"(Si\d+\s+1\.0(?:\s+\S+){3}\s+)1\.0000", r"\g<1>0.5000", text, count=1)

    name = "si_table.csv"
    return [
        Case("csv-cif-column-renamed-CIF", name, rename("cif", "CIF"), "csv-cif", r"'cif'|cannot tell"),
        Case("csv-cif-energy-column-renamed", name, rename("energy_per_atom", "E"), "csv-cif",
             r"energy_per_atom"),
        Case("csv-cif-header-missing", name, lambda: table().split("\n", 1)[1].encode(), "csv-cif",
             r"'cif'|cannot tell"),
        Case("csv-cif-semicolon-separated", name, lambda: table().replace(",", ";").encode(), "csv-cif",
             r"'cif'|cannot tell|not a readable"),
        Case("csv-cif-unclosed-quote", name, lambda: table().rsplit('"', 1)[0].encode(), "csv-cif",
             r"not a readable|quote|EOF|end of"),
        Case("csv-cif-empty-cif-cell", name, cif_of(1, ""), "csv-cif", r"empty cif"),
        Case("csv-cif-garbage-cif", name, cif_of(1, "data_x\n_cell_length_a 5\nnothing else"), "csv-cif",
             r"not a readable CIF|no structure|cell|atoms"),
        Case("csv-cif-disordered-cif", name, cif_of(1, disordered(write_cif(frames()[1].atoms))), "csv-cif",
             r"disordered|occupan"),
        Case("csv-cif-duplicate-ids", name, lambda: table().replace("\ns1,", "\ns0,").encode(), "csv-cif",
             r"not unique|twice"),
        Case("csv-cif-header-only", name, lambda: (table().split("\n", 1)[0] + "\n").encode(), "csv-cif",
             r"no rows"),
        Case("csv-cif-one-row-with-an-extra-field", name,
             lambda: re.sub(r'("\s*,\s*-?[0-9.e+-]+)\n', r"\1,7\n", table(), count=1).encode(), "csv-cif",
             r"not a readable|expected|fields"),
        Case("csv-cif-extra-column", name, lambda: _append_csv_column(table()), "csv-cif", None,
             expect(N_FRAMES, "none")),
        Case("csv-cif-no-final-newline", name, lambda: table().rstrip("\n").encode(), "csv-cif", None,
             expect(N_FRAMES, "none", energies=per_atom(frames()))),
        Case("csv-cif-cut-inside-the-last-energy", name, lambda: table().rstrip("\n")[:-9].encode(), "csv-cif",
             r"line \d+: .*truncated"),
        Case("csv-cif-cut-after-the-last-cif", name, lambda: table()[: table().rindex('",') + 1].encode(), "csv-cif",
             r"line \d+: .*fields.*truncated"),
        Case("csv-cif-cut-inside-the-last-cif", name, lambda: table()[: table().rindex('",') - 40].encode(),
             "csv-cif", r"line \d+: .*never closed.*truncated"),
        Case("csv-cif-short-row-in-the-middle", name, lambda: re.sub(r'("\s*),\s*-?[0-9.e+-]+\n', r"\1\n", table(),
                                                                     count=1).encode(), "csv-cif",
             r"line \d+: 2 fields where the header has 3"),
    ]  # fmt: skip


def _append_csv_column(text: str) -> bytes:
    table = pd.read_csv(io.StringIO(text), dtype=str)
    table["band_gap"] = "1.1"
    return table.to_csv(index=False, lineterminator="\n").encode()


def structure_archive_cases(seed: int) -> list[Case]:
    frames = lambda: base_frames(seed)  # noqa: E731
    zipped = lambda sidecar: lambda: zip_bytes(cif_members(frames(), sidecar))  # noqa: E731
    tarred = lambda sidecar: lambda: tar_bytes(poscar_members(frames(), sidecar))  # noqa: E731
    good_csv = lambda: energies_csv(frames())  # noqa: E731
    same = expect(N_FRAMES, "none")
    out = []
    for key, name, fmt, pack in (("cif-zip", "si_cifs.zip", "cif", zipped), ("poscar-tgz", "si_poscars.tar.gz",
                                                                            "poscar", tarred)):  # fmt: skip
        out += [
            Case(f"{key}-energies-csv-missing", name,
                 lambda k=key: (zip_bytes(cif_members(frames())[:-1]) if k == "cif-zip"
                                else tar_bytes(poscar_members(frames())[:-1])), fmt, r"energies\.csv"),
            Case(f"{key}-energies-csv-wrong-columns", name, pack("name,E\ns0,-43\ns1,-43\ns2,-43\n"), fmt,
                 r"needs a column"),
            Case(f"{key}-energies-csv-ids-do-not-match", name, pack("id,energy\nx0,-43\nx1,-43\nx2,-43\n"), fmt,
                 r"no energy for structure"),
            Case(f"{key}-energies-csv-duplicate-id", name, pack("id,energy\ns0,-43\ns0,-43\ns1,-43\ns2,-43\n"), fmt,
                 r"twice"),
            Case(f"{key}-energies-csv-utf16", name, lambda p=pack: p(good_csv().encode("utf-16"))(), fmt, None, same),
            Case(f"{key}-energies-csv-utf8-bom", name, lambda p=pack: p(b"\xef\xbb\xbf" + good_csv().encode())(),
                 fmt, None, same),
            Case(f"{key}-energies-csv-latin1", name,
                 lambda p=pack: p(good_csv().replace("id,energy", "id,energy,note").replace("\ns", ",Café\ns")
                                  .encode("latin-1"))(), fmt, r"not utf-8"),
            Case(f"{key}-energies-csv-empty", name, pack(""), fmt, r"empty|no rows|not a readable"),
            Case(f"{key}-energies-csv-binary", name, pack(bytes(range(256)) * 4), fmt, NOT_UTF8 + "|not a readable"),
        ]  # fmt: skip
    def bad_member() -> bytes:  # s1.cif broken, s0, s2 and energies.csv as they are
        good = cif_members(frames())
        return zip_bytes([("cifs/s1.cif", b"data_broken\nloop_\n_atom_site_label\n"), good[0], good[2], good[3]])

    out += [
        Case("cif-zip-garbage-member", "si_cifs.zip", bad_member, "cif", r"not a readable CIF|no structure|s1"),
        Case("cif-zip-symmetric-cif-valid", "si_cifs.zip",
             lambda: zip_bytes([("cifs/d.cif", symmetric_cif(1).encode()), ("cifs/energies.csv", b"id,energy\nd,-43.2\n")]),
             "cif", None, expect(1, "none", energies=[-43.2 / 8])),
        Case("cif-zip-symmetry-expands-to-too-many-atoms", "si_cifs.zip",
             lambda: zip_bytes([("cifs/d.cif", symmetric_cif(12).encode()), ("cifs/energies.csv", b"id,energy\nd,-1\n")]),
             "cif", r"symmetry operations"),
        Case("poscar-tgz-counts-line-wrong", "si_poscars.tar.gz",
             lambda: tar_bytes([(n, re.sub(rb"\n(\s*)8\n", rb"\n\g<1>9\n", d, count=1)) if "s1" in n
                                else (n, d) for n, d in poscar_members(frames())]), "poscar",
             r"not a readable POSCAR|s1"),
    ]  # fmt: skip
    return out


def archive_cases(seed: int) -> list[Case]:
    frames = lambda: base_frames(seed)  # noqa: E731
    members = lambda: xsf_members(frames())  # noqa: E731
    good = lambda: xsf_text(frames()[0]).encode()  # noqa: E731

    def tar_with(extra: Callable, keep: bool = True) -> Callable[[], bytes]:
        return lambda: tar_bytes(members() if keep else [], extra=extra)

    def link(name: str, target: str, kind=tarfile.SYMTYPE) -> Callable:
        def add(tf: tarfile.TarFile) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, target, 0
            tf.addfile(info)

        return add

    def fifo(tf: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("si_xsf/pipe.xsf")
        info.type, info.mtime = tarfile.FIFOTYPE, 0
        tf.addfile(info)

    def zip_link(keep: bool) -> Callable[[], bytes]:
        info = zipfile.ZipInfo("si_xsf/link.xsf", ZIP_DATE)
        info.external_attr = (0o120777 << 16)
        return lambda: zip_bytes([*(members() if keep else []), (info, b"/etc/passwd")])

    def latin1_tar_name() -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tf:
            for name, data in [("si_xsf/café.xsf", good()), *members()[1:]]:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 0
                tf.addfile(info, io.BytesIO(data))
        return gz(buffer.getvalue())

    def zip_name_bytes(raw: bytes, utf8_flag: bool) -> bytes:
        data = zip_bytes([("si_xsf/XXXX.xsf", good()), *members()[1:]])
        placeholder = b"si_xsf/XXXX.xsf"
        new = b"si_xsf/" + raw + b".xsf"
        assert len(new) == len(placeholder)
        if utf8_flag:  # set bit 11 (UTF-8 names) in the local and central headers of the first member
            data = data.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x00\x08", 1)
            data = re.sub(rb"(PK\x01\x02.{4})\x00\x00", lambda m: m.group(1) + b"\x00\x08", data, count=1, flags=re.S)
        return data.replace(placeholder, new)

    def encrypted() -> bytes:  # the "encrypted" flag set in both headers (zipfile cannot write encrypted members)
        data = zip_bytes([("si_xsf/s0.xsf", good())])
        data = data.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x01\x00", 1)
        return re.sub(rb"(PK\x01\x02.{4})\x00\x00", lambda m: m.group(1) + b"\x01\x00", data, count=1, flags=re.S)

    def unsupported_method() -> bytes:
        info = zipfile.ZipInfo("si_xsf/s0.xsf", ZIP_DATE)
        info.compress_type = zipfile.ZIP_STORED
        data = zip_bytes([(info, good())])
        data = data.replace(b"PK\x03\x04\x14\x00\x00\x00\x00\x00", b"PK\x03\x04\x14\x00\x00\x00\x63\x00", 1)
        return re.sub(rb"(PK\x01\x02.{6})\x00\x00", lambda m: m.group(1) + b"\x63\x00", data, count=1, flags=re.S)

    def zip_bzip2() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as zf:
            for name, data in members():
                zf.writestr(zipfile.ZipInfo(name, ZIP_DATE), data, compress_type=zipfile.ZIP_BZIP2)
        return buffer.getvalue()

    def many(n: int, name: Callable[[int], str], data: bytes) -> Callable[[], bytes]:
        return lambda: zip_bytes([(name(i), data) for i in range(n)])

    def many_valid() -> bytes:
        frames = [Frame(bulk("Si", "diamond", a=5.43 + 1e-4 * i), -10.8 + 1e-3 * i, None, None, f"s{i}")
                  for i in range(800)]  # fmt: skip
        return tar_bytes([(f"many/{f.id}.xsf", xsf_text(f).encode()) for f in frames])

    def mixed() -> bytes:  # CIF structures (with their energies) and XSF files in one zip
        return zip_bytes([*cif_members(frames()), *members()])

    def with_droppings() -> bytes:
        return zip_bytes([*members(), ("si_xsf/README.md", b"# notes"), ("LICENSE", b"MIT"),
                          ("__MACOSX/si_xsf/._s0.xsf", b"\x00\x05\x16\x07"), ("si_xsf/.DS_Store", b"\x00"),
                          ("si_xsf/energies.csv", b"id,energy\n"), ("si_xsf/plot.png", b"\x89PNG")])  # fmt: skip

    def skipped_listed(dataset) -> None:
        expect(N_FRAMES, "all")(dataset)
        files = dataset.provenance["read"]["skipped_files"]
        assert files["count"] == 6, files

    cases = [
        Case("zip-cif-and-xsf-mixed", "mixed.zip", mixed, "xsf", r"more than one dataset format.*cif.*xsf|"
             r"more than one dataset format.*xsf.*cif"),
        Case("zip-xsf-with-readme-license-macosx-sidecar", "tidy.zip", with_droppings, "xsf", None, skipped_listed),
        Case("zip-member-dotdot", "evil.zip", lambda: zip_bytes([*members(), ("../../x.xsf", good())]), "xsf", UNSAFE),
        Case("zip-member-absolute", "evil.zip", lambda: zip_bytes([*members(), ("/etc/x.xsf", good())]), "xsf", UNSAFE),
        Case("zip-member-windows-dotdot", "evil.zip", lambda: zip_bytes([("..\\..\\x.xsf", good())]), "xsf", UNSAFE),
        Case("zip-member-drive-letter", "evil.zip", lambda: zip_bytes([("C:/x.xsf", good())]), "xsf", UNSAFE),
        Case("tar-member-dotdot", "evil.tar.gz", lambda: tar_bytes([*members(), ("a/../../x.xsf", good())]), "xsf",
             UNSAFE),
        Case("tar-member-absolute", "evil.tar.gz", lambda: tar_bytes([("/tmp/x.xsf", good()), *members()]), "xsf",
             UNSAFE),
        Case("tar-symlink-only", "links.tar.gz", tar_with(link("si_xsf/s0.xsf", "/etc/passwd"), keep=False), "xsf",
             r"link"),
        Case("tar-symlink-beside-real-files", "links.tar.gz", tar_with(link("si_xsf/x.xsf", "/etc/passwd")), "xsf",
             None, expect(N_FRAMES)),
        Case("tar-symlink-escaping", "links.tar.gz", tar_with(link("si_xsf/x.xsf", "../../../../etc/passwd")), "xsf",
             None, expect(N_FRAMES)),
        Case("tar-hardlink-beside-real-files", "links.tar.gz",
             tar_with(link("si_xsf/h.xsf", "si_xsf/s0.xsf", tarfile.LNKTYPE)), "xsf", None, expect(N_FRAMES)),
        Case("tar-fifo-member", "odd.tar.gz", tar_with(fifo), "xsf", None, expect(N_FRAMES)),
        Case("zip-symlink-only", "links.zip", zip_link(keep=False), "xsf", r"link"),
        Case("zip-symlink-beside-real-files", "links.zip", zip_link(keep=True), "xsf", None, expect(N_FRAMES)),
        Case("tar-member-name-latin1-bytes", "names.tar.gz", latin1_tar_name, "xsf", None, expect(N_FRAMES)),
        Case("zip-member-name-cp437-bytes", "names.zip", lambda: zip_name_bytes(b"\x81\x94\xe9\xff", False), "xsf",
             None, expect(N_FRAMES)),
        Case("zip-member-name-invalid-utf8-flagged", "names.zip", lambda: zip_name_bytes(b"\xff\xfe\xe9\x80", True),
             "xsf", r"name|not a readable zip"),
        Case("zip-nested-zip", "nested.zip", lambda: zip_bytes([("inner.zip", zip_bytes(members()))]), "xsf",
             r"inside|nested"),
        Case("zip-nested-tar-gz", "nested.zip", lambda: zip_bytes([("inner.tar.gz", tar_bytes(members()))]), "xsf",
             r"inside|nested"),
        Case("tar-nested-zip", "nested.tar.gz", lambda: tar_bytes([("inner.zip", zip_bytes(members()))]), "xsf",
             r"inside|nested"),
        Case("zip-duplicate-member-names", "dups.zip", lambda: zip_bytes([*members(), members()[0]]), "xsf",
             r"not unique|twice|duplicate"),
        Case("zip-encrypted-member", "locked.zip", encrypted, "xsf", r"encrypted|password"),
        Case("zip-unsupported-compression", "odd.zip", unsupported_method, "xsf", r"compression"),
        Case("zip-empty-archive", "empty.zip", lambda: zip_bytes([]), "xsf", r"no .* found|empty|cannot tell"),
        Case("tar-only-directories", "dirs.tar.gz",
             tar_with(lambda tf: tf.addfile(_dir("si_xsf/sub")), keep=False), "xsf", r"no .* found|cannot tell"),
        Case("zip-3000-junk-members", "junk.zip", many(3000, lambda i: f"junk/{i}.txt", b"x"), "xsf",
             r"no .* found|cannot tell"),
        Case("zip-2000-empty-xsf-members", "hollow.zip", many(2000, lambda i: f"d/{i}.xsf", b""), "xsf", EMPTY),
        Case("tar-800-valid-xsf-members", "many.tar.gz", many_valid, "xsf", None, expect(800, "none")),
        Case("zip-bomb-honest-size", "bomb.zip", lambda: zip_bomb("si_xsf/s0.xsf", BOMB_BYTES), "xsf", TOO_BIG,
             big=True),
        Case("zip-bomb-lying-size", "bomb.zip", lambda: zip_bomb("si_xsf/s0.xsf", BOMB_BYTES, declared=1000), "xsf",
             r"damaged|crc|not a readable", big=True),
        Case("tar-gz-bomb", "bomb.tar.gz", lambda: tar_gz_bomb("si_xsf/s0.xsf", BOMB_BYTES), "xsf", TOO_BIG, big=True),
        Case("tar-bz2-bomb", "bomb.tar.bz2", lambda: tar_bz2_bomb("si_xsf/s0.xsf", BOMB_BYTES), "xsf", TOO_BIG,
             big=True),
        Case("extxyz-gz-bomb", "bomb.xyz.gz", lambda: gz_bomb(BOMB_BYTES), "extxyz", TOO_BIG, big=True),
        Case("zip-bzip2-compressed-member", "bzip2.zip", zip_bzip2, "xsf", r"compression method"),
        Case("zip-central-directory-bomb", "bomb.zip", lambda: zip_central_directory_bomb(1_000_000), "xsf", TOO_BIG,
             big=True),
        Case("json-bomb-15-million-empty-lists", "si_structures.json", lambda: b"[" + b"[]," * 15_000_000 + b"[]]",
             "pymatgen-json", r"more than can be read safely|cannot tell", big=True),
        Case("extxyz-60000-one-atom-frames", "si.xyz", lambda: ONE_ATOM_FRAME * 60_000, "extxyz",
             r"more than 50000 structures", big=True),
    ]  # fmt: skip
    return cases


ONE_ATOM_FRAME = b'1\nLattice="3 0 0 0 3 0 0 0 3" energy=-1.0 pbc="T T T"\nSi 0 0 0\n'


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mtime = tarfile.DIRTYPE, 0
    return info


def synthetic_cases(seed: int = 0) -> list[Case]:
    """Every synthetic variant (several hundred), ids unique."""
    cases = []
    for base in bases(seed):
        cases += byte_cases(base, seed)
        if base.text:
            cases += text_cases(base, seed)
    cases += semantic_cases(seed) + specific_cases(seed)
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    return cases


# --------------------------------------------------------------------------------------------- real sets


@dataclass(frozen=True)
class RealCase:
    """A variant of a slice of a real DFT set: ``build(shared_folder) -> Case``."""

    id: str
    build: Callable[[Path], Case] = field(repr=False)


@lru_cache(maxsize=4)
def _mlearn_head(folder: Path, n: int = 3) -> str:
    return json.dumps(json.loads((folder / "si_mlearn" / "training.json").read_text())[:n])


def _slice_mlearn(folder: Path) -> list[dict]:
    """The first three items of the real Si training set (a fresh copy: variants edit it)."""
    return json.loads(_mlearn_head(folder))


def _tar_slice(path: Path, n: int, accept: Callable[[str], bool]) -> list[tuple[str, bytes]]:
    """The first ``n`` accepted regular files of a tar archive, as (name, bytes)."""
    out = []
    with tarfile.open(path, "r|*") as tf:
        for info in tf:
            if info.isfile() and accept(info.name):
                out.append((info.name, tf.extractfile(info).read()))
                if len(out) == n:
                    break
    return out


def _real_mlearn(cid: str, edit: Callable[[list[dict]], Any] | None, problem: str | None, raw: int = 0) -> RealCase:
    def build(folder: Path) -> Case:
        def make() -> bytes:
            if raw:
                return (folder / "si_mlearn" / "training.json").read_bytes()[:raw]
            items = _slice_mlearn(folder)
            if edit is not None:
                edit(items)
            return json.dumps(items).encode()

        return Case(cid, "si_training_slice.json", make, "mlearn", problem, expect(3) if problem is None else None)

    return RealCase(cid, build)


def _real_xsf(cid: str, edit: Callable[[str], str] | None, problem: str | None, raw: float = 0.0,
              rename: str | None = None) -> RealCase:  # fmt: skip
    def build(folder: Path) -> Case:
        path = folder / "tio2_aenet" / "dir_xsf.tar.gz"

        def make() -> bytes:
            if raw:
                data = path.read_bytes()
                return data[: int(len(data) * raw)]
            members = _tar_slice(path, 6, lambda n: n.endswith(".xsf"))
            if edit is not None:
                name, data = members[1]
                members[1] = (rename or name, edit(data.decode()).encode())
            return tar_bytes(members)

        return Case(cid, "tio2_slice.tar.gz" if not raw else "dir_xsf.tar.gz", make, "xsf", problem,
                    expect(6, "all") if problem is None else None)

    return RealCase(cid, build)


def _real_carbon(cid: str, edit: Callable[[pd.DataFrame], pd.DataFrame] | None, problem: str | None,
                 raw: int = 0, text_edit: Callable[[str], bytes] | None = None) -> RealCase:  # fmt: skip
    def build(folder: Path) -> Case:
        path = folder / "c_carbon24" / "val.csv"

        def make() -> bytes:
            if raw:
                return path.read_bytes()[:raw]
            table = pd.read_csv(path, nrows=20, dtype={"material_id": str})
            if edit is not None:
                table = edit(table)
            text = table.to_csv(index=False, lineterminator="\n")
            return text_edit(text) if text_edit is not None else text.encode()

        return Case(cid, "carbon24_slice.csv", make, "csv-cif", problem,
                    expect(20, "none") if problem is None else None)

    return RealCase(cid, build)


def _real_fitsnap(cid: str, edit: Callable[[dict], None] | None, problem: str | None, raw: float = 0.0) -> RealCase:
    def build(folder: Path) -> Case:
        path = folder / "fe_fitsnap" / "Fe_Linear_NPJ2021_JSON.tar.gz"

        def make() -> bytes:
            if raw:
                data = path.read_bytes()
                return data[: int(len(data) * raw)]
            members = _tar_slice(path, 5, lambda n: n.endswith(".json"))
            if edit is not None:
                name, data = members[1]
                head, body = data.decode().split("\n", 1)
                document = json.loads(body)
                edit(document)
                members[1] = (name, (head + "\n" + json.dumps(document)).encode())
            return tar_bytes(members)

        return Case(cid, "fe_slice.tar.gz" if not raw else "Fe_Linear_NPJ2021_JSON.tar.gz", make, "fitsnap", problem,
                    expect(5, "all") if problem is None else None)

    return RealCase(cid, build)


def _entry(document: dict) -> dict:
    return document["Dataset"]["Data"][0]


def _set_item(path: tuple, value: Any) -> Callable[[Any], None]:
    def edit(obj) -> None:
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return edit


REAL_CASES: list[RealCase] = [
    _real_mlearn("real-si-mlearn-slice-valid", None, None),
    _real_mlearn("real-si-mlearn-first-300kB", None, TRUNCATED, raw=300_000),
    _real_mlearn("real-si-mlearn-energy-nan", _set_item((1, "outputs", "energy"), float("nan")), NOT_FINITE),
    _real_mlearn("real-si-mlearn-energy-missing", lambda items: items[1]["outputs"].pop("energy"), NO_ENERGY),
    _real_mlearn("real-si-mlearn-forces-row-missing", lambda items: items[1]["outputs"]["forces"].pop(), FORCES_SHAPE),
    _real_mlearn("real-si-mlearn-virial-5-values", lambda items: items[1]["outputs"]["virial_stress"].pop(),
                 r"virial_stress"),
    _real_mlearn("real-si-mlearn-lattice-zero", _set_item((1, "structure", "lattice", "matrix"), [[0.0] * 3] * 3),
                 CELL),
    _real_mlearn("real-si-mlearn-element-unknown",
                 lambda items: items[1]["structure"]["sites"][0]["species"][0].update(element="Xx"), ELEMENT),
    _real_mlearn("real-si-mlearn-site-duplicated",
                 lambda items: items[1]["structure"]["sites"].append(items[1]["structure"]["sites"][0]),
                 OVERLAP + "|forces"),
    _real_xsf("real-tio2-xsf-slice-valid", None, None),
    _real_xsf("real-tio2-xsf-archive-truncated-30pct", None, TRUNCATED + "|" + GARBAGE, raw=0.3),
    _real_xsf("real-tio2-xsf-archive-truncated-90pct", None, TRUNCATED + "|" + GARBAGE, raw=0.9),
    _real_xsf("real-tio2-xsf-member-cut-in-half", lambda t: t[: len(t) // 2], r"declares|expected|line"),
    _real_xsf("real-tio2-xsf-energy-nan", lambda t: re.sub(r"(total energy\s*=\s*)\S+", r"\1nan", t), NOT_FINITE),
    _real_xsf("real-tio2-xsf-energy-line-removed", lambda t: re.sub(r"#\s*total energy[^\n]*\n", "", t),
              r"total energy"),
    _real_xsf("real-tio2-xsf-element-unknown", lambda t: re.sub(r"\nTi ", "\nTq ", t, count=1), r"unknown element"),
    _real_xsf("real-tio2-xsf-utf8-comment", lambda t: "# Café\n" + t, None),
    _real_xsf("real-tio2-xsf-member-dotdot", lambda t: t, UNSAFE, rename="../../x.xsf"),
    _real_carbon("real-c24-slice-valid", None, None),
    _real_carbon("real-c24-first-100kB", None, r"line \d+: .*truncated", raw=100_000),
    _real_carbon("real-c24-cif-column-renamed", lambda t: t.rename(columns={"cif": "structure"}), r"'cif'|cannot tell"),
    _real_carbon("real-c24-energy-nan", lambda t: t.assign(energy_per_atom=[*t.energy_per_atom[:5], float("nan"),
                                                                            *t.energy_per_atom[6:]]), NOT_FINITE),
    _real_carbon("real-c24-energy-text", lambda t: t.astype({"energy_per_atom": str}).assign(
        energy_per_atom=lambda d: d.energy_per_atom.where(d.index != 3, "n/a")), r"non-number|not a number"),
    _real_carbon("real-c24-cif-garbage", lambda t: t.assign(cif=[*t.cif[:4], "data_x\n_cell_length_a 1\n", *t.cif[5:]]),
                 r"not a readable CIF|no structure|cell"),
    _real_carbon("real-c24-duplicate-ids", lambda t: t.assign(material_id=[t.material_id[0]] * len(t)),
                 r"not unique|twice"),
    _real_carbon("real-c24-latin1", None, r"not utf-8.*line \d+",
                 text_edit=lambda text: text.replace("material_id,", "material_id,note,", 1)
                 .replace("\n", "\nCafé,", 1).encode("latin-1")),
    _real_carbon("real-c24-utf16", None, None, text_edit=lambda text: text.encode("utf-16")),
    _real_fitsnap("real-fe-fitsnap-slice-valid", None, None),
    _real_fitsnap("real-fe-fitsnap-archive-truncated-5pct", None, TRUNCATED + "|" + GARBAGE, raw=0.05),
    _real_fitsnap("real-fe-fitsnap-archive-truncated-60pct", None, TRUNCATED + "|" + GARBAGE, raw=0.6),
    _real_fitsnap("real-fe-fitsnap-energy-nan", lambda d: _entry(d).update(Energy=float("nan")), NOT_FINITE),
    _real_fitsnap("real-fe-fitsnap-lattice-zero", lambda d: _entry(d).update(Lattice=[[0.0] * 3] * 3), CELL),
    _real_fitsnap("real-fe-fitsnap-stress-2x2", lambda d: _entry(d).update(Stress=[[1, 0], [0, 1]]), r"Stress"),
    _real_fitsnap("real-fe-fitsnap-element-unknown", lambda d: _entry(d).update(
        AtomTypes=["Xx"] * len(_entry(d)["AtomTypes"])), r"AtomTypes|element|malformed"),
    _real_fitsnap("real-fe-fitsnap-forces-nan", lambda d: _entry(d)["Forces"][0].__setitem__(0, float("nan")),
                  NOT_FINITE),
    _real_fitsnap("real-fe-fitsnap-stress-style-gpa", lambda d: d["Dataset"].update(StressStyle="GPa"),
                  r"StressStyle"),
]


@lru_cache(maxsize=2)
def real_cases(folder: Path) -> dict[str, Case]:
    """Every real-set variant built from ``folder`` (bytes still made lazily), shared by the test modules."""
    return {real.id: real.build(folder) for real in REAL_CASES}
