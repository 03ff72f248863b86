"""What every importer produces per structure (a ``Record``) and the one place that turns records into a ``Dataset``.

Keeping validation here means every format gets the same checks and the same messages: energies must be finite and
plausible, forces must be (n_atoms, 3), stress must have 6 or 3x3 components, ids must be unique, every atom must be a
chemical element, a periodic cell must have a volume, and no two atoms (or an atom and its image) may sit on top of
each other. A failing record
names the file (or archive member) and the item; nothing half-loaded is ever returned.

The plausibility bounds are far outside anything DFT produces and only catch broken files (a 1e308 energy would turn
every fit into inf/NaN, overlapping atoms usually mean duplicated lines or fractional coordinates read as Å, and a
100 000-atom cell would stall the descriptors for minutes).
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

MAX_ATOMS = 10_000
"""Most atoms in one structure (DFT training sets have up to a few hundred)."""

MAX_STRUCTURES = 50_000
"""Most structures in one dataset. ase needs a few kB per parsed structure, so 100 MB of one-atom frames would
take gigabytes; importers check this before parsing where they can (``check_structure_count``)."""

MIN_DISTANCE = 0.5
"""Closest two atoms (or an atom and its periodic image) may be, in Å (the shortest bond, H2, is 0.74 Å)."""

MAX_ABS_COORDINATE = 1e5
"""Largest |coordinate| or cell component, in Å."""

MAX_ABS_TARGET = 1e7
"""Largest |value| of a per-structure target, e.g. eV/atom (all-electron totals of the heaviest atoms are ~1e6)."""

MAX_ABS_FORCE = 1e5
"""Largest |force component|, in eV/Å."""

MAX_ABS_STRESS = 1e4
"""Largest |stress component|, in eV/Å^3 (about 1.6e6 GPa)."""

DENSE_CONTACT_ATOMS = 1000
"""Up to this many atoms, close contacts are found from all pairs at once; above, with ase's neighbour list."""


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
    sources: dict[str, str] = field(default_factory=dict)
    """Where each field came from in the file (``{"forces": "arrays 'dft_force'"}``), for the read summary."""
    ignored: list[str] = field(default_factory=list)
    """Keys of the file that no field was read from (``"info 'config_type'"``), for the read summary."""

    def fail(self, problem: str) -> DatasetError:
        prefix = f"{self.item}: " if self.item else ""
        return DatasetError(self.where, prefix + problem)


def check_structure_count(n: int, where: str | Path) -> None:
    if n > MAX_STRUCTURES:
        raise DatasetError(where, f"more than {MAX_STRUCTURES} structures ({n}); split the dataset")


def build_dataset(
    records: Iterable[Record], *, path: str | Path, name: str, format: str, provenance: dict[str, Any] | None = None,
    skipped: dict[str, Any] | None = None,
) -> Dataset:
    """Validate records and assemble an immutable ``Dataset`` (raises ``DatasetError`` naming the bad record).

    ``skipped`` (``archive.Skipped.summary()``) lists the files of a folder or archive that were not read; it goes
    into the read summary (``provenance["read"]``, see ``read_summary``) with the fields read and keys ignored."""
    records = list(records)
    if not records:
        raise DatasetError(path, "no structures found")
    check_structure_count(len(records), path)
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
        targets[key] = np.array([_target(r, key, r.extra[key]) for r in records], dtype=float)
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
    prov["read"] = read_summary(records, forces, stress, targets, skipped)
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


def read_summary(records: list[Record], forces: list, stress: list, targets: dict[str, np.ndarray],
                 skipped: dict[str, Any] | None) -> dict[str, Any]:
    """What the file gave: per field, how many structures have it and which keys it came from; the keys no field
    was read from (with the number of structures that have them); the files of a folder or archive not read."""
    counts = {"ids": len(records), "kinds": sum(r.kind is not None for r in records),
              "forces": sum(f is not None for f in forces), "stress": sum(s is not None for s in stress),
              **{key: len(records) for key in targets}}  # fmt: skip
    fields: dict[str, Any] = {}
    for key, count in counts.items():
        if not count:
            continue
        fields[key] = {"structures": int(count)}
        origins = sorted({r.sources[key] for r in records if key in r.sources})
        if origins:
            fields[key]["from"] = origins
    ignored = Counter(key for r in records for key in dict.fromkeys(r.ignored))
    summary: dict[str, Any] = {"fields": fields, "ignored": dict(sorted(ignored.items()))}
    if skipped is not None:
        summary["skipped_files"] = skipped
    return summary


def _as_float(record: Record, label: str, value: Any) -> float:
    try:
        if isinstance(value, (bool, np.bool_)):  # JSON true/false would silently become 1.0/0.0
            raise TypeError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise record.fail(f"{label} is not a number: {_shown(value)}") from None
    if math.isnan(number):
        raise record.fail(f"{label} is not finite (NaN: missing or not a number) for structure {record.id!r}")
    if not math.isfinite(number):
        raise record.fail(f"{label} is not finite ({number}) for structure {record.id!r}")
    return number


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _target(record: Record, label: str, value: Any, per_atom_divisor: int = 1) -> float:
    number = _as_float(record, label, value) / per_atom_divisor
    if abs(number) > MAX_ABS_TARGET:
        unit = " per atom" if per_atom_divisor != 1 else ""
        raise record.fail(
            f"{label}{unit} of {number:.3g} for structure {record.id!r} is not a plausible value "
            f"(more than {MAX_ABS_TARGET:.0e} in size)"
        )
    return number


def _check_geometry(record: Record) -> None:
    atoms, sid = record.atoms, record.id
    if len(atoms) == 0:
        raise record.fail(f"structure {sid!r} has no atoms")
    if len(atoms) > MAX_ATOMS:
        raise record.fail(f"structure {sid!r} has {len(atoms)} atoms; at most {MAX_ATOMS} per structure are supported")
    unknown = np.flatnonzero((atoms.numbers <= 0) | (atoms.numbers > 118))
    if unknown.size:
        raise record.fail(f"structure {sid!r}: atom {unknown[0]} is not a chemical element (symbol 'X' or number 0)")
    positions, cell = atoms.positions, atoms.cell.array
    if not np.all(np.isfinite(positions)) or not np.all(np.isfinite(cell)):
        raise record.fail(f"structure {sid!r} has NaN or inf positions or cell")
    largest = max(float(np.abs(positions).max()), float(np.abs(cell).max()))
    if largest > MAX_ABS_COORDINATE:
        raise record.fail(
            f"structure {sid!r} has a coordinate or cell component of {largest:.3g} Å, which is not plausible "
            f"(more than {MAX_ABS_COORDINATE:.0e} Å)"
        )
    _check_contacts(record, _check_cell(record))


def _check_cell(record: Record) -> tuple[np.ndarray, np.ndarray] | None:
    """A periodic direction needs a cell vector, and the cell a volume (coplanar vectors describe no crystal).

    Returns the (completed) cell and its inverse for the contact check, or None for a structure with no periodicity.
    """
    pbc = np.asarray(record.atoms.pbc, dtype=bool)
    if not pbc.any():
        return None
    cell = np.asarray(record.atoms.cell.array, dtype=float)
    for axis in np.flatnonzero(pbc):
        if np.linalg.norm(cell[axis]) < 1e-6:
            raise record.fail(f"structure {record.id!r} is periodic along {'abc'[axis]} but that cell vector is zero")
    full = cell if pbc.all() else np.asarray(record.atoms.cell.complete().array, dtype=float)
    if abs(float(np.linalg.det(full))) < 1e-6:
        raise record.fail(f"the cell of structure {record.id!r} has zero volume (its vectors are zero or coplanar); "
                          "check the lattice vectors")  # fmt: skip
    return full, np.linalg.inv(full)


def _check_contacts(record: Record, cell: tuple[np.ndarray, np.ndarray] | None) -> None:
    pair = _closest_pair(record.atoms, cell)
    if pair is None:
        return
    distance, i, j = pair
    symbols = record.atoms.get_chemical_symbols()
    if i == j:
        raise record.fail(f"structure {record.id!r}: atom {i} ({symbols[i]}) is {distance:.2f} Å from its own "
                          "periodic image: the cell is far too small; check the lattice vectors")  # fmt: skip
    hint = ""
    if np.all(record.atoms.positions > -0.01) and np.all(record.atoms.positions < 1.01):
        hint = "; are fractional coordinates written where Cartesian Å are expected?"
    raise record.fail(
        f"structure {record.id!r}: atoms {i} ({symbols[i]}) and {j} ({symbols[j]}) are {distance:.2f} Å apart "
        f"(closer than {MIN_DISTANCE} Å): overlapping atoms{hint}"
    )


def _closest_pair(atoms: Atoms, cell: tuple[np.ndarray, np.ndarray] | None) -> tuple[float, int, int] | None:
    """The closest two atoms, or an atom and its own periodic image (i == j), if closer than ``MIN_DISTANCE``.

    Small structures in cells at least ``2 * MIN_DISTANCE`` thick along every periodic vector: all pairs at once, the
    nearest image found by rounding fractional differences (exact for distances below half the thickness). Anything
    else (large, or a skewed cell with thin layers): ase's neighbour list, which handles any cell.
    """
    n = len(atoms)
    pbc = np.asarray(atoms.pbc, dtype=bool)
    thick = cell is None or bool(np.all(1.0 / np.linalg.norm(cell[1], axis=0)[pbc] >= 2 * MIN_DISTANCE))
    if n > DENSE_CONTACT_ATOMS or not thick:
        from ase.neighborlist import neighbor_list

        i, j, d = neighbor_list("ijd", atoms, MIN_DISTANCE, self_interaction=False)
        mask = i <= j
        if not mask.any():
            return None
        k = int(np.argmin(np.where(mask, d, np.inf)))
        return float(d[k]), int(i[k]), int(j[k])
    if n < 2:
        return None
    positions = atoms.positions
    if cell is None:
        diff = positions[:, None, :] - positions[None, :, :]
    else:
        full, inverse = cell
        frac = positions @ inverse
        diff = frac[:, None, :] - frac[None, :, :]
        diff[..., pbc] -= np.round(diff[..., pbc])
        diff = diff @ full
    dist = np.einsum("ijk,ijk->ij", diff, diff)
    dist[np.tril_indices(n)] = np.inf
    k = int(np.argmin(dist))
    i, j = divmod(k, n)
    return (float(np.sqrt(dist[i, j])), i, j) if dist[i, j] < MIN_DISTANCE**2 else None


def _energy_per_atom(record: Record) -> float:
    n = len(record.atoms)
    if record.energy_per_atom is not None:
        return _target(record, "energy_per_atom", record.energy_per_atom)
    if record.energy is not None:
        return _target(record, "energy", record.energy, per_atom_divisor=n)
    raise record.fail(f"structure {record.id!r} has no energy")


def _forces(record: Record) -> np.ndarray | None:
    if record.forces is None:
        return None
    try:
        f = np.array(record.forces, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise record.fail(f"forces of {record.id!r} are not a numeric array") from None
    if f.shape != (len(record.atoms), 3):
        raise record.fail(f"forces of {record.id!r} have shape {f.shape}, expected ({len(record.atoms)}, 3)")
    if not np.all(np.isfinite(f)):
        raise record.fail(f"forces of {record.id!r} contain NaN or inf (not finite)")
    if f.size and np.abs(f).max() > MAX_ABS_FORCE:
        raise record.fail(f"forces of {record.id!r} reach {np.abs(f).max():.3g} eV/Å, which is not plausible "
                          f"(more than {MAX_ABS_FORCE:.0e} eV/Å)")  # fmt: skip
    f.setflags(write=False)
    return f


def _stress(record: Record) -> np.ndarray | None:
    if record.stress is None:
        return None
    try:
        s = as_voigt_stress(record.stress)
    except (TypeError, ValueError, OverflowError) as exc:
        raise record.fail(f"stress of {record.id!r}: {exc}") from None
    if not np.all(np.isfinite(s)):
        raise record.fail(f"stress of {record.id!r} contains NaN or inf (not finite)")
    if np.abs(s).max() > MAX_ABS_STRESS:
        raise record.fail(f"stress of {record.id!r} reaches {np.abs(s).max():.3g} eV/Å^3, which is not plausible "
                          f"(more than {MAX_ABS_STRESS:.0e} eV/Å^3)")  # fmt: skip
    s.setflags(write=False)
    return s
