"""The paper's descriptor: Magpie composition statistics plus density, symmetry and local-environment features.

Magpie (matminer ``ElementProperty.from_preset("magpie")``) depends only on the fractional composition, so it is
computed once per unique composition: a pool of 2 500 Fe cells costs one matminer call. The structural part is cheap
per structure (spglib and a compiled neighbour list), avoiding per-site pymatgen analysers such as CrystalNN.
"""

from __future__ import annotations

import warnings
from collections import Counter
from functools import lru_cache
from typing import Any, Iterable

import numpy as np
from ase import Atoms
from ase.data import covalent_radii

from alcore.datasets.base import Dataset
from alcore.descriptors._structure import cell_volume, neighbor_pairs
from alcore.descriptors.base import DESCRIPTORS

AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660  # 1 amu / Å^3 in g / cm^3
MAX_NEIGHBOR_CUTOFF = 10.0  # Å; an atom with nobody closer counts as isolated (coordination 0)

STRUCTURE_LABELS = (
    "density",
    "volume_per_atom",
    "n_sites",
    "spacegroup_number",
    "packing_fraction",
    "coordination_mean",
    "coordination_std",
    "coordination_min",
    "coordination_max",
    "bond_length_mean",
    "bond_length_std",
    "bond_length_min",
    "bond_length_max",
)
INTENSIVE_STRUCTURE_LABELS = tuple(label for label in STRUCTURE_LABELS if label != "n_sites")


@lru_cache(maxsize=1)
def _magpie():
    from matminer.featurizers.composition import ElementProperty

    return ElementProperty.from_preset("magpie")


def magpie_labels() -> list[str]:
    return list(_magpie().feature_labels())


def composition_key(composition) -> tuple[tuple[str, float], ...]:
    """Elements with their atomic fractions: FeO, Fe2O2 and Fe0.5O0.5 share one key."""
    fractions = composition.fractional_composition.get_el_amt_dict()
    return tuple(sorted((el, round(float(x), 10)) for el, x in fractions.items() if x > 0))


def magpie_table(compositions: Iterable, memo: dict | None = None) -> np.ndarray:
    """Magpie features (n, 132) for pymatgen compositions, calling matminer once per unique fractional composition."""
    memo = {} if memo is None else memo
    rows = []
    for comp in compositions:
        key = composition_key(comp)
        if key not in memo:
            memo[key] = np.asarray(_magpie().featurize(comp), dtype=float)
        rows.append(memo[key])
    return np.vstack(rows) if rows else np.empty((0, len(magpie_labels())))


def atoms_composition(atoms: Atoms):
    from pymatgen.core import Composition

    return Composition(Counter(atoms.get_chemical_symbols()))


@lru_cache(maxsize=None)
def _element_mass_and_radius(number: int) -> tuple[float, float]:
    """pymatgen's atomic mass and atomic radius (matminer's DensityFeatures uses exactly these)."""
    from pymatgen.core import Element

    element = Element.from_Z(number)
    radius = element.atomic_radius
    return float(element.atomic_mass), float("nan") if radius is None else float(radius)


def spacegroup_number(atoms: Atoms, symprec: float) -> int:
    """International space-group number from spglib; 1 (P1) when spglib cannot decide."""
    import spglib

    cell = (atoms.cell.array, atoms.get_scaled_positions(wrap=True), atoms.numbers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # spglib's notice about its error-handling mode
            found = spglib.get_symmetry_dataset(cell, symprec=symprec)
    except Exception:  # spglib raises SpglibError (or returns None) on degenerate cells
        return 1
    return 1 if found is None else int(found.number)


def local_environment(atoms: Atoms, bond_tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom coordination numbers and the bond lengths behind them.

    A neighbour j counts for atom i when d_ij <= (1 + bond_tol) * (nearest-neighbour distance of i). The search radius
    starts from the covalent radii and grows until it covers every atom's shell (or reaches ``MAX_NEIGHBOR_CUTOFF``).
    """
    n = len(atoms)
    cutoff = max(2.0, 2.5 * float(covalent_radii[np.unique(atoms.numbers)].max()))
    while True:
        i, j, d = neighbor_pairs(atoms, cutoff)
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, i, d)
        shell = (1.0 + bond_tol) * nearest
        if cutoff >= MAX_NEIGHBOR_CUTOFF or np.all(shell <= cutoff):
            break
        missing = ~np.isfinite(shell)
        wanted = 2.0 * cutoff if missing.any() else float(shell.max()) * (1.0 + 1e-6)
        cutoff = min(MAX_NEIGHBOR_CUTOFF, wanted)
    bonded = d <= shell[i]
    coordination = np.bincount(i[bonded], minlength=n).astype(float)
    return coordination, d[bonded]


def _stats(values: np.ndarray) -> list[float]:
    if values.size == 0:
        return [np.nan] * 4
    return [float(values.mean()), float(values.std()), float(values.min()), float(values.max())]


def structure_features(atoms: Atoms, structure_id: str, symprec: float, bond_tol: float) -> np.ndarray:
    """The 13 ``STRUCTURE_LABELS`` features of one structure."""
    volume = cell_volume(atoms, structure_id)
    n = len(atoms)
    masses, radii = zip(*(_element_mass_and_radius(int(z)) for z in atoms.numbers), strict=True)
    packing = 4.0 * np.pi * float(np.sum(np.asarray(radii) ** 3)) / (3.0 * volume)
    coordination, bonds = local_environment(atoms, bond_tol)
    return np.array(
        [
            float(np.sum(masses)) * AMU_PER_A3_TO_G_PER_CM3 / volume,
            volume / n,
            float(n),
            float(spacegroup_number(atoms, symprec)),
            packing,
            *_stats(coordination),
            *_stats(bonds),
        ]
    )


@DESCRIPTORS.register("paper")
class PaperDescriptor:
    """Magpie composition statistics + density, volume/atom, sites, space group, packing, coordination, bond lengths."""

    name = "paper"
    version = 1

    def __init__(self, symprec: float = 0.1, bond_tol: float = 0.1) -> None:
        self.symprec = symprec
        self.bond_tol = bond_tol

    def params(self) -> dict[str, Any]:
        return {"symprec": self.symprec, "bond_tol": self.bond_tol}

    def feature_labels(self) -> list[str]:
        return magpie_labels() + list(STRUCTURE_LABELS)

    def featurize(self, dataset: Dataset) -> np.ndarray:
        if not (isinstance(self.symprec, (int, float)) and self.symprec > 0):
            raise ValueError(f"paper descriptor: symprec must be a positive number (Å), got {self.symprec!r}")
        if not (isinstance(self.bond_tol, (int, float)) and 0 <= self.bond_tol < 1):
            raise ValueError(f"paper descriptor: bond_tol must be in [0, 1), got {self.bond_tol!r}")
        memo = self.__dict__.setdefault("_magpie_memo", {})  # shared across the pipeline's chunks
        compositional = magpie_table((atoms_composition(a) for a in dataset.atoms), memo)
        structural = np.vstack(
            [
                structure_features(atoms, sid, float(self.symprec), float(self.bond_tol))
                for atoms, sid in zip(dataset.atoms, dataset.ids, strict=True)
            ]
        )
        return np.hstack([compositional, structural])
