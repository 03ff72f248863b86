"""Shared low-level helpers for descriptor families: cell checks, species lists and a fast periodic neighbour list."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols

from alcore.datasets.base import Dataset


def cell_volume(atoms: Atoms, structure_id: str) -> float:
    """Volume of the cell; structural descriptors are per volume, so a structure without a 3-D cell is an error."""
    volume = abs(float(np.linalg.det(atoms.cell.array)))
    if not np.isfinite(volume) or volume <= 1e-8:
        raise ValueError(f"structure {structure_id!r} has no 3-D cell (volume {volume:g} Å^3); descriptors need one")
    return volume


def dataset_species(dataset: Dataset) -> list[str]:
    """Element symbols present in ``dataset``, ordered by atomic number (the order dscribe uses)."""
    numbers = sorted({int(z) for atoms in dataset.atoms for z in np.unique(atoms.numbers)})
    return [chemical_symbols[z] for z in numbers]


def checked_species(species: list[str] | tuple[str, ...], argument: str = "species") -> list[str]:
    """Validate a user-given species list and order it by atomic number."""
    unknown = [s for s in species if s not in atomic_numbers or s == "X"]
    if unknown or not species:
        raise ValueError(f"{argument} must be a non-empty list of element symbols, got {list(species)!r}")
    return sorted(set(species), key=atomic_numbers.__getitem__)


def neighbor_pairs(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs ``(i, j, distance)`` with ``0 < distance <= cutoff`` under the atoms' periodic boundaries.

    Same result as ``ase.neighborlist.neighbor_list("ijd", atoms, cutoff)`` (tested), but through pymatgen's compiled
    ``find_points_in_spheres`` which is ~100x faster on 50-atom cells; descriptors of thousands of structures need it.
    """
    from pymatgen.optimization.neighbors import find_points_in_spheres

    positions = np.ascontiguousarray(atoms.positions, dtype=float)
    lattice = np.ascontiguousarray(atoms.cell.array, dtype=float)
    pbc = np.ascontiguousarray(atoms.pbc, dtype=np.int64)
    i, j, offsets, d = find_points_in_spheres(positions, positions, float(cutoff), pbc, lattice, 1e-8)
    not_self = ~((i == j) & np.all(offsets == 0, axis=1))
    keep = not_self & (d <= cutoff)
    return i[keep].astype(np.int64), j[keep].astype(np.int64), np.asarray(d[keep], dtype=float)
