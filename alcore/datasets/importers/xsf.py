"""aenet XSF files (single files, folders, tar/zip archives).

aenet's XSF differs from the XCrySDen XSF that ``ase.io`` reads: forces are in eV/Å (ASE's reader assumes Hartree/Å and
would scale them by 27.2) and the energy sits in a comment line ``# total energy = X eV`` that ASE ignores. Hence this
small parser, which also reports the exact line of any problem. Supported blocks: ``CRYSTAL`` + ``PRIMVEC`` +
``PRIMCOORD`` (periodic) and ``ATOMS`` (isolated); each atom line is ``symbol x y z [fx fy fz]``.

When isolated-atom reference energies are known (the named TiO2 source passes them), an extra target
``binding_energy_per_atom = (E - sum of references) / N`` is added and the references go into ``provenance``.
Each structure's kind is its reduced formula (e.g. ``TiO2``, ``Ti8O15``), which separates the oxygen-deficient cells.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols

from alcore.datasets.archive import Member, archive_kind, read_collection, relative_ids
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import MAX_ATOMS, Record, build_dataset, check_structure_count

_ENERGY = re.compile(r"^#\s*total\s+energy\s*=\s*(\S+)\s*(\w+)?", re.IGNORECASE)


def is_xsf(name: str) -> bool:
    return name.lower().endswith(".xsf")


@IMPORTERS.register("xsf")
def read_xsf(path: Path, references: dict[str, float] | None = None) -> Dataset:
    path = Path(path)
    members, skipped = read_collection(path, is_xsf, "*.xsf files")
    check_structure_count(len(members), path)
    single_file = path.is_file() and not archive_kind(path)
    ids = [default_name(path)] if single_file else relative_ids([m.name for m in members])
    records = [_parse(member, sid) for member, sid in zip(members, ids)]
    provenance: dict = {"energy": "total energy from '# total energy = X eV'"}
    if references:
        for record in records:
            missing = sorted(set(record.atoms.get_chemical_symbols()) - set(references))
            if missing:
                raise record.fail(f"no isolated-atom reference energy for {missing}")
            e_ref = sum(references[s] for s in record.atoms.get_chemical_symbols())
            record.extra["binding_energy_per_atom"] = (record.energy - e_ref) / len(record.atoms)
        provenance["reference_energies"] = dict(references)
        provenance["binding_energy_per_atom"] = "(E_total - sum of isolated-atom reference energies) / N_atoms"
    return build_dataset(records, path=path, name=default_name(path), format="xsf", provenance=provenance,
                         skipped=None if single_file else skipped.summary())  # fmt: skip


def _parse(member: Member, sid: str) -> Record:
    label = member.label
    if member.data.count(b"\n") > MAX_ATOMS + 100:  # one structure per file: refuse before splitting huge text
        raise DatasetError(label, f"more than {MAX_ATOMS + 100} lines; at most {MAX_ATOMS} atoms per structure are "
                                  "supported")  # fmt: skip
    lines = member.text().splitlines()
    if not any(line.strip() for line in lines):
        raise DatasetError(label, "empty file")
    energy = None
    body: list[tuple[int, list[str]]] = []  # (1-based line number, tokens) of non-comment lines
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            match = _ENERGY.match(stripped)
            if match:
                energy = _number(match.group(1), label, number, "total energy")
                unit = (match.group(2) or "eV").lower()
                if unit != "ev":
                    raise DatasetError(label, f"line {number}: energy unit {match.group(2)!r}, expected eV")
        elif stripped:
            body.append((number, stripped.split()))
    if energy is None:
        raise DatasetError(label, "no energy: no '# total energy = X eV' comment line")
    cell, atoms_block = _blocks(body, label)
    symbols, positions, forces = atoms_block
    atoms = Atoms(symbols=symbols, positions=positions, cell=cell, pbc=cell is not None)
    kind = atoms.symbols.formula.reduce()[0].format("metal")
    return Record(atoms=atoms, id=sid, where=label, energy=energy, forces=forces, kind=kind)


def _blocks(body: list[tuple[int, list[str]]], label: str):
    cell = None
    keywords = [tokens[0].upper() for _, tokens in body]
    if "PRIMCOORD" in keywords:
        if "PRIMVEC" not in keywords:
            raise DatasetError(label, "PRIMCOORD without a PRIMVEC cell")
        start = keywords.index("PRIMVEC") + 1
        rows = body[start : start + 3]
        if len(rows) < 3:
            raise DatasetError(label, "file ends inside PRIMVEC")
        cell = np.array([_numbers(tokens, 3, label, number, "a lattice vector") for number, tokens in rows])
        head = keywords.index("PRIMCOORD") + 1
        if head >= len(body):
            raise DatasetError(label, "file ends after PRIMCOORD")
        number, tokens = body[head]
        try:
            n_atoms = int(tokens[0])
        except ValueError:
            raise DatasetError(label, f"line {number}: expected the atom count after PRIMCOORD") from None
        if n_atoms <= 0:
            raise DatasetError(label, f"line {number}: atom count must be positive, got {n_atoms}")
        if n_atoms > MAX_ATOMS:
            problem = f"line {number}: {n_atoms} atoms; at most {MAX_ATOMS} per structure are supported"
            raise DatasetError(label, problem)
        atom_lines = body[head + 1 : head + 1 + n_atoms]
        if len(atom_lines) < n_atoms:
            raise DatasetError(label, f"PRIMCOORD declares {n_atoms} atoms but the file holds {len(atom_lines)}")
        if len(body) > head + 1 + n_atoms:
            extra_line = body[head + 1 + n_atoms][0]
            raise DatasetError(label, f"line {extra_line}: unexpected content after the {n_atoms} PRIMCOORD atoms")
    elif "ATOMS" in keywords:
        atom_lines = body[keywords.index("ATOMS") + 1 :]
        if not atom_lines:
            raise DatasetError(label, "ATOMS block is empty")
    else:
        raise DatasetError(label, "no PRIMCOORD or ATOMS block (is the file complete?)")
    return cell, _atom_lines(atom_lines, label)


def _atom_lines(atom_lines, label: str):
    first_number, first_tokens = atom_lines[0]
    width = len(first_tokens) - 1
    if width not in (3, 6):
        raise DatasetError(label, f"line {first_number}: expected 6 numbers (x y z fx fy fz; or 3 without forces)")
    symbols, rows = [], []
    for number, tokens in atom_lines:
        symbols.append(_symbol(tokens[0], label, number))
        rows.append(_numbers(tokens[1:], width, label, number, "x y z fx fy fz" if width == 6 else "x y z"))
    data = np.array(rows)
    return symbols, data[:, :3], (data[:, 3:] if width == 6 else None)


def _symbol(token: str, label: str, number: int) -> str:
    if token.isdigit() and 0 < int(token) < len(chemical_symbols):
        return chemical_symbols[int(token)]
    if token in atomic_numbers and atomic_numbers[token] > 0:  # "X" is ase's placeholder, not an element
        return token
    raise DatasetError(label, f"line {number}: unknown element {token!r}")


def _numbers(tokens: list[str], count: int, label: str, number: int, what: str) -> list[float]:
    if len(tokens) != count:
        raise DatasetError(label, f"line {number}: expected {count} numbers ({what}), found {len(tokens)}")
    return [_number(t, label, number, what) for t in tokens]


def _number(token: str, label: str, number: int, what: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise DatasetError(label, f"line {number}: {token!r} is not a number ({what})") from None
    if not math.isfinite(value):
        raise DatasetError(label, f"line {number}: {what} is not finite ({token})")
    return value
