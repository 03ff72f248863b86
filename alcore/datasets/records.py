"""What every importer produces per structure (a ``Record``) and the one place that turns records into a ``Dataset``.

Keeping validation here means every format gets the same checks and the same messages: energies must be finite,
forces must be (n_atoms, 3), stress must have 6 or 3x3 components, ids must be unique. A failing record names the file
(or archive member) and the item; nothing half-loaded is ever returned.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from ase import Atoms

from alcore.datasets.base import DEFAULT_TARGET, Dataset, DatasetError
from alcore.datasets.units import as_voigt_stress

UNITS = {
    "energy_per_atom": "eV/atom",
    "forces": "eV/Å",
    "stress": "eV/Å^3, Voigt [xx, yy, zz, yz, xz, xy], ASE sign (positive = tensile)",
}

UNKNOWN_KIND = "unknown"


@dataclass
class Record:
    """One labelled structure as read from a file.

    Give either ``energy`` (total, eV) or ``energy_per_atom`` (eV/atom). ``stress`` is already in the ASE convention
    (eV/Å^3, positive = tensile), as a Voigt 6-vector or a 3x3 tensor. ``where`` names the file or archive member and
    ``item`` the entry inside it (e.g. ``"item 12"``), for error messages.
    """

    atoms: Atoms
    id: str
    where: str
    item: str = ""
    energy: float | None = None
    energy_per_atom: float | None = None
    forces: Any = None
    stress: Any = None
    kind: str | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def fail(self, problem: str) -> DatasetError:
        prefix = f"{self.item}: " if self.item else ""
        return DatasetError(self.where, prefix + problem)


def build_dataset(
    records: Iterable[Record], *, path: str | Path, name: str, format: str, provenance: dict[str, Any] | None = None
) -> Dataset:
    """Validate records and assemble an immutable ``Dataset`` (raises ``DatasetError`` naming the bad record)."""
    records = list(records)
    if not records:
        raise DatasetError(path, "no structures found")
    for r in records:
        _check_geometry(r)
    energies = [_energy_per_atom(r) for r in records]
    forces = [_forces(r) for r in records]
    stress = [_stress(r) for r in records]
    targets: dict[str, np.ndarray] = {DEFAULT_TARGET: np.array(energies, dtype=float)}
    dropped: list[str] = []
    for key in sorted({k for r in records for k in r.extra}):
        if key == DEFAULT_TARGET:
            continue
        if not all(key in r.extra for r in records):
            dropped.append(key)
            continue
        targets[key] = np.array([_as_float(r, key, r.extra[key]) for r in records], dtype=float)
    ids = [str(r.id) for r in records]
    duplicates = [i for i, c in Counter(ids).items() if c > 1]
    if duplicates:
        raise DatasetError(path, f"structure ids are not unique: {duplicates[:5]}")
    has_kinds = any(r.kind is not None for r in records)
    for r in records:
        r.atoms.calc = None
        r.atoms.info = {}
    prov: dict[str, Any] = {"format": format, "path": str(path), "units": dict(UNITS)}
    prov.update(provenance or {})
    if dropped:
        prov["dropped_targets"] = {k: "missing on some structures" for k in dropped}
    return Dataset(
        name=name,
        atoms=tuple(r.atoms for r in records),
        targets=targets,
        ids=tuple(ids),
        forces=tuple(forces) if any(f is not None for f in forces) else None,
        stress=tuple(stress) if any(s is not None for s in stress) else None,
        kinds=tuple(r.kind if r.kind is not None else UNKNOWN_KIND for r in records) if has_kinds else None,
        provenance=prov,
    )


def _as_float(record: Record, label: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise record.fail(f"{label} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise record.fail(f"{label} is not finite ({number}) for structure {record.id!r}")
    return number


def _check_geometry(record: Record) -> None:
    if len(record.atoms) == 0:
        raise record.fail(f"structure {record.id!r} has no atoms")
    if not np.all(np.isfinite(record.atoms.positions)) or not np.all(np.isfinite(record.atoms.cell.array)):
        raise record.fail(f"structure {record.id!r} has NaN or inf positions or cell")


def _energy_per_atom(record: Record) -> float:
    n = len(record.atoms)
    if record.energy_per_atom is not None:
        return _as_float(record, "energy_per_atom", record.energy_per_atom)
    if record.energy is not None:
        return _as_float(record, "energy", record.energy) / n
    raise record.fail(f"structure {record.id!r} has no energy")


def _forces(record: Record) -> np.ndarray | None:
    if record.forces is None:
        return None
    try:
        f = np.array(record.forces, dtype=float)
    except (TypeError, ValueError):
        raise record.fail(f"forces of {record.id!r} are not a numeric array") from None
    if f.shape != (len(record.atoms), 3):
        raise record.fail(f"forces of {record.id!r} have shape {f.shape}, expected ({len(record.atoms)}, 3)")
    if not np.all(np.isfinite(f)):
        raise record.fail(f"forces of {record.id!r} contain NaN or inf")
    f.setflags(write=False)
    return f


def _stress(record: Record) -> np.ndarray | None:
    if record.stress is None:
        return None
    try:
        s = as_voigt_stress(record.stress)
    except (TypeError, ValueError) as exc:
        raise record.fail(f"stress of {record.id!r}: {exc}") from None
    if not np.all(np.isfinite(s)):
        raise record.fail(f"stress of {record.id!r} contains NaN or inf")
    s.setflags(write=False)
    return s
