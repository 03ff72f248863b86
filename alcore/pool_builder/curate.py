"""Curation of a labelled pool: drop non-finite labels, unphysical entries and duplicates; count what each rule removed.

Rules, applied in this order (each sees only what survived the previous ones):

1. ``non_finite``: energy, forces or stress contain NaN/inf.
2. ``max_force``: some atom has |F| > ``MAX_FORCE`` (50 eV/Å): atoms nearly on top of each other, where the
   surrogate's labels mean nothing.
3. ``below_floor``: energy per atom below a caller-given floor (the build passes "0.1 eV/atom below the relaxed
   elemental ground state" for one-element systems: nothing can be lower, so such a label is a model artefact).
4. ``energy_margin``: energy per atom more than ``ENERGY_MARGIN`` (5 eV/atom) above the lowest energy of the same
   reduced composition: a wildly unphysical cell that would dominate any error metric.
5. ``duplicate``: same reduced formula, energies within ``DUPLICATE_ENERGY_TOL`` (1 meV/atom), and pymatgen's
   ``StructureMatcher`` with tight tolerances (``ltol=stol=0.01``, ``angle_tol=0.5``, no volume scaling, so strained
   copies stay distinct) says they are the same crystal. The first entry (lowest index) is kept. The energy window
   keeps the number of matcher calls small: a 2 000-structure pool needs seconds, not minutes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from ase import Atoms

MAX_FORCE = 50.0  # eV/Å
ENERGY_MARGIN = 5.0  # eV/atom above the lowest energy of the same reduced composition
DUPLICATE_ENERGY_TOL = 1e-3  # eV/atom
MATCHER_TOLERANCES = {"ltol": 0.01, "stol": 0.01, "angle_tol": 0.5}
RULES = ("non_finite", "max_force", "below_floor", "energy_margin", "duplicate")


@dataclass(frozen=True, eq=False)
class Curation:
    """Which entries survive (sorted indices into the input) and how many each rule removed."""

    kept: np.ndarray
    removed: dict[str, int]
    duplicate_of: dict[int, int] = field(default_factory=dict)  # removed index -> the kept index it duplicates

    def to_dict(self) -> dict:
        return {"kept": int(len(self.kept)), "removed": dict(self.removed), "rules": rule_summary()}


def rule_summary() -> dict[str, str]:
    """The thresholds, for the manifest and the data card."""
    return {
        "non_finite": "energy, forces or stress not finite",
        "max_force": f"max |F| > {MAX_FORCE:g} eV/Å",
        "below_floor": "energy below the caller's floor (one-element systems: ground state - 0.1 eV/atom)",
        "energy_margin": f"energy > lowest of the same reduced composition + {ENERGY_MARGIN:g} eV/atom",
        "duplicate": f"same reduced formula, |ΔE| <= {DUPLICATE_ENERGY_TOL * 1000:g} meV/atom and StructureMatcher"
        f"({', '.join(f'{k}={v}' for k, v in MATCHER_TOLERANCES.items())}, scale=False) match; first kept",
    }


def curate(
    structures: Sequence[Atoms],
    energy_per_atom: np.ndarray,
    forces: Sequence[np.ndarray | None],
    stress: Sequence[np.ndarray | None] | None = None,
    *,
    energy_floor: float | None = None,
) -> Curation:
    """Apply the rules of the module docstring; ``energy_floor`` (eV/atom) enables ``below_floor``."""
    n = len(structures)
    energy = np.asarray(energy_per_atom, dtype=float)
    if energy.shape != (n,) or len(forces) != n or (stress is not None and len(stress) != n):
        raise ValueError(f"curate: {n} structures but energies {energy.shape}, {len(forces)} forces"
                         + ("" if stress is None else f", {len(stress)} stresses"))
    alive = np.ones(n, dtype=bool)
    removed = dict.fromkeys(RULES, 0)

    def drop(rule: str, mask: np.ndarray) -> None:
        hit = alive & mask
        removed[rule] += int(hit.sum())
        alive[hit] = False

    finite = np.array([
        np.isfinite(energy[i])
        and (forces[i] is None or bool(np.all(np.isfinite(forces[i]))))
        and (stress is None or stress[i] is None or bool(np.all(np.isfinite(stress[i]))))
        for i in range(n)
    ], dtype=bool)  # fmt: skip
    drop("non_finite", ~finite)
    fmax = np.array([0.0 if f is None or not alive[i] else float(np.linalg.norm(f, axis=1).max(initial=0.0))
                     for i, f in enumerate(forces)])
    drop("max_force", fmax > MAX_FORCE)
    if energy_floor is not None:
        drop("below_floor", np.where(alive, energy, np.inf) < energy_floor)
    formulas = [reduced_formula(a) for a in structures]
    lowest: dict[str, float] = {}
    for i in np.flatnonzero(alive):
        lowest[formulas[i]] = min(lowest.get(formulas[i], np.inf), energy[i])
    margin = np.array([alive[i] and energy[i] > lowest[formulas[i]] + ENERGY_MARGIN for i in range(n)], dtype=bool)
    drop("energy_margin", margin)
    duplicate_of = find_duplicates(structures, energy, candidates=np.flatnonzero(alive), formulas=formulas)
    drop("duplicate", np.isin(np.arange(n), list(duplicate_of)))
    return Curation(kept=np.flatnonzero(alive), removed=removed, duplicate_of=duplicate_of)


def reduced_formula(atoms: Atoms) -> str:
    from pymatgen.core import Composition

    return Composition(atoms.get_chemical_formula(mode="metal")).reduced_formula


def find_duplicates(
    structures: Sequence[Atoms],
    energy_per_atom: np.ndarray,
    *,
    candidates: Sequence[int] | None = None,
    formulas: Sequence[str] | None = None,
) -> dict[int, int]:
    """Index -> earlier index it duplicates (rule 5), among ``candidates`` (default: all), processed in index order."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    energy = np.asarray(energy_per_atom, dtype=float)
    idx = sorted(int(i) for i in (range(len(structures)) if candidates is None else candidates))
    formulas = formulas if formulas is not None else [reduced_formula(a) for a in structures]
    matcher = StructureMatcher(**MATCHER_TOLERANCES, primitive_cell=True, scale=False)
    pmg: dict[int, object] = {}

    def structure(i: int):
        if i not in pmg:
            pmg[i] = AseAtomsAdaptor.get_structure(structures[i])
        return pmg[i]

    kept_by_formula: dict[str, list[int]] = defaultdict(list)
    duplicate_of: dict[int, int] = {}
    for i in idx:
        kept = kept_by_formula[formulas[i]]
        close = [j for j in kept if abs(energy[j] - energy[i]) <= DUPLICATE_ENERGY_TOL]
        match = next((j for j in close if matcher.fit(structure(j), structure(i))), None)
        if match is None:
            kept.append(i)
        else:
            duplicate_of[i] = match
    return duplicate_of
