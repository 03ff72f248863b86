"""FitSNAP JSON training files (single files, group folders, tar/zip archives).

Each file is an optional ``#`` comment line (FitSNAP's JSON scraper skips the first line) followed by
``{"Dataset": {"Data": [{"AtomTypes", "Positions", "Lattice", "Energy", "Forces", "Stress", "Spins"}], "...Style"}}``.
``Lattice`` rows are the cell vectors, positions are Cartesian Å, ``Energy`` is the total energy (eV).
The kind of a structure is its group: the folder the file sits in (FitSNAP's unit of weighting).

Stress sign: ``StressStyle`` ``kB`` tensors are pressure-like, positive = compressive (the VASP/LAMMPS-pressure
convention FitSNAP fits against). Checked on the Fe ``EOS_100`` group: the mean diagonal is +160 kB for the most
compressed cells (10.7 Å^3/atom) and -100 kB for the most expanded (13.2 Å^3/atom). So ASE stress = -Stress x 0.1 GPa.
``Spins`` rows ``[|m|, x, y, z]`` become initial magnetic moment vectors ``|m| * (x, y, z)``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from alcore.datasets.archive import Member, archive_kind, read_collection, relative_ids
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import MAX_ATOMS, Record, build_dataset, check_structure_count
from alcore.datasets.text import parse_json
from alcore.datasets.units import pressure_tensor_kbar_to_ase_stress

EXPECTED_STYLES = {
    "LatticeStyle": "angstrom",
    "EnergyStyle": "electronvolt",
    "StressStyle": "kB",
    "AtomTypeStyle": "chemicalsymbol",
    "PositionsStyle": "angstrom",
    "ForcesStyle": "electronvoltperangstrom",
}


def is_json(name: str) -> bool:
    return name.lower().endswith(".json")


@IMPORTERS.register("fitsnap")
def read_fitsnap(path: Path) -> Dataset:
    path = Path(path)
    members, skipped = read_collection(path, is_json, "*.json files")
    single = path.is_file() and not archive_kind(path)
    ids = [default_name(path)] if single else relative_ids([m.name for m in members])
    records = []
    for member, sid in zip(members, ids):
        group = PurePosixPath(member.name).parent.name or (path.parent.name if single else default_name(path))
        records.extend(_records(member, sid, group))
        check_structure_count(len(records), path)
    provenance = {
        "stress_conversion": "FitSNAP Stress (kB, pressure-like: + compressive) -> ASE eV/Å^3 (+ tensile)",
        "groups": sorted({r.kind for r in records}),
    }
    return build_dataset(records, path=path, name=default_name(path), format="fitsnap", provenance=provenance,
                         skipped=None if single else skipped.summary())  # fmt: skip


def parse_fitsnap_text(text: str, label: str) -> dict:
    """The JSON object of a FitSNAP file (first-line ``#`` comment removed), or a ``DatasetError`` with the line."""
    skipped = 0
    if text.lstrip().startswith("#"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        skipped = 1
    if not text.strip():
        raise DatasetError(label, "empty file (no JSON after the comment line)" if skipped else "empty file")
    document = parse_json(text, label, skipped_lines=skipped)
    if not isinstance(document, dict) or not isinstance(document.get("Dataset"), dict):
        raise DatasetError(label, "no top-level 'Dataset' object")
    return document["Dataset"]


def _records(member: Member, sid: str, group: str) -> list[Record]:
    dataset = parse_fitsnap_text(member.text(), member.label)
    for key, expected in EXPECTED_STYLES.items():
        if key in dataset and str(dataset[key]) != expected:
            raise DatasetError(member.label, f"{key} is {dataset[key]!r}; only {expected!r} is supported")
    data = dataset.get("Data")
    if not isinstance(data, list) or not data:
        raise DatasetError(member.label, "'Dataset.Data' is missing or empty")
    check_structure_count(len(data), member.label)
    ids = [sid] if len(data) == 1 else [f"{sid}:{k}" for k in range(len(data))]
    return [_record(entry, ids[k], group, member.label, k) for k, entry in enumerate(data)]


def _record(entry: dict, sid: str, group: str, label: str, k: int) -> Record:
    item = f"Data[{k}]"
    if not isinstance(entry, dict):
        raise DatasetError(label, f"{item}: not an object")
    missing = [key for key in ("AtomTypes", "Positions", "Lattice", "Energy") if key not in entry]
    if missing:
        raise DatasetError(label, f"{item}: missing {', '.join(missing)}")
    types = entry["AtomTypes"]
    if not isinstance(types, list):
        raise DatasetError(label, f"{item}: AtomTypes must be a list of element symbols")
    if len(types) > MAX_ATOMS:
        raise DatasetError(label, f"{item}: {len(types)} atoms; at most {MAX_ATOMS} per structure are supported")
    unknown = next((t for t in types if not isinstance(t, str) or t not in atomic_numbers or t == "X"), None)
    if unknown is not None:
        raise DatasetError(label, f"{item}: unknown element {unknown!r} in AtomTypes")
    try:
        positions = np.asarray(entry["Positions"], dtype=float)
        cell = np.asarray(entry["Lattice"], dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise DatasetError(label, f"{item}: Positions and Lattice must be arrays of numbers") from None
    if cell.shape != (3, 3):
        raise DatasetError(label, f"{item}: Lattice has shape {cell.shape}, expected (3, 3)")
    if positions.shape != (len(types), 3):
        raise DatasetError(label, f"{item}: Positions has shape {positions.shape}, expected ({len(types)}, 3)")
    atoms = Atoms(symbols=types, positions=positions, cell=cell, pbc=True)
    n = entry.get("NumAtoms", len(atoms))
    if n != len(atoms):
        raise DatasetError(label, f"{item}: NumAtoms is {n} but {len(atoms)} atoms are listed")
    record = Record(atoms=atoms, id=sid, where=label, item=item, energy=entry["Energy"], kind=group)
    record.forces = entry.get("Forces")
    if entry.get("Stress") is not None:
        try:
            record.stress = pressure_tensor_kbar_to_ase_stress(entry["Stress"])
        except (TypeError, ValueError) as exc:
            raise record.fail(f"Stress: {exc}") from None
    spins = entry.get("Spins")
    if spins is not None:
        try:
            s = np.asarray(spins, dtype=float)
        except (TypeError, ValueError):
            raise record.fail("Spins is not a numeric array") from None
        if s.shape != (len(atoms), 4):
            raise record.fail(f"Spins has shape {s.shape}, expected ({len(atoms)}, 4) rows of [|m|, x, y, z]")
        atoms.set_initial_magnetic_moments(s[:, :1] * s[:, 1:])
    return record
