"""Radial distribution fingerprint: per element-pair histograms of interatomic distances up to ``r_cut``.

Counts are divided by the number of atoms and by the shell volume, so the vector is intensive (a supercell gives the
same one) and keeps the density information. An optional Gaussian ``smearing`` makes it continuous in the positions,
so small rattles move the fingerprint a little instead of flipping bins; the Gaussian is cut at 4 sigma (the reach of
the neighbour search) and renormalised, so a bin far from every distance is exactly zero, not an erf tail of 1e-12
that standardisation would blow up into a z-score of sqrt(n). A composition block is appended (``_composition``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase.data import atomic_numbers

from alcore.datasets.base import Dataset
from alcore.descriptors._composition import (
    COMPOSITION_OPTION,
    Composition,
    check_composition,
    composition_features,
    composition_labels,
)
from alcore.descriptors._structure import cell_volume, checked_species, dataset_species, neighbor_pairs
from alcore.descriptors.base import DESCRIPTORS

SMEARING_REACH = 4.0  # Gaussian smearing is cut at this many sigma


@DESCRIPTORS.register("rdf", options={"composition": COMPOSITION_OPTION})
class RdfDescriptor:
    """Radial distribution histogram per element pair (per atom, per shell volume), plus composition."""

    name = "rdf"
    version = 2  # 2: truncated smearing and the composition block

    def __init__(
        self,
        r_cut: float = 6.0,
        n_bins: int = 30,
        smearing: float = 0.1,
        species: list[str] | None = None,
        composition: Composition = "magpie",
    ) -> None:
        self.r_cut = r_cut
        self.n_bins = n_bins
        self.smearing = smearing
        self.species = species
        self.composition = composition

    def params(self) -> dict[str, Any]:
        return {
            "r_cut": self.r_cut,
            "n_bins": self.n_bins,
            "smearing": self.smearing,
            "species": None if self.species is None else list(self.species),
            "composition": self.composition,
        }

    def fit(self, dataset: Dataset) -> "RdfDescriptor":
        """Fix the element pairs (and so the feature layout) from the whole dataset."""
        self._check_params()
        self.species_ = checked_species(self.species) if self.species is not None else dataset_species(dataset)
        return self

    def _check_params(self) -> None:
        if not (isinstance(self.r_cut, (int, float)) and 0 < self.r_cut <= 20):
            raise ValueError(f"rdf descriptor: r_cut must be a number in (0, 20] Å, got {self.r_cut!r}")
        if not (isinstance(self.n_bins, int) and 1 <= self.n_bins <= 1000):
            raise ValueError(f"rdf descriptor: n_bins must be an integer in 1..1000, got {self.n_bins!r}")
        if not (isinstance(self.smearing, (int, float)) and self.smearing >= 0):
            raise ValueError(f"rdf descriptor: smearing must be a number >= 0 (Å), got {self.smearing!r}")
        check_composition(self.composition, "rdf")

    def _layout_species(self) -> list[str]:
        if hasattr(self, "species_"):
            return self.species_
        if self.species is not None:
            return checked_species(self.species)
        raise RuntimeError("rdf descriptor: labels depend on the species; pass species=... or call fit/featurize")

    def _pairs(self) -> list[tuple[str, str]]:
        species = self._layout_species()
        return [(a, b) for k, a in enumerate(species) for b in species[k:]]

    def _edges(self) -> np.ndarray:
        return np.linspace(0.0, float(self.r_cut), int(self.n_bins) + 1)

    def feature_labels(self) -> list[str]:
        edges = self._edges()
        pairs = [f"rdf_{a}-{b}_{lo:.2f}-{hi:.2f}" for a, b in self._pairs() for lo, hi in zip(edges[:-1], edges[1:])]
        return pairs + composition_labels(self.composition, self._layout_species())

    def featurize(self, dataset: Dataset) -> np.ndarray:
        if not hasattr(self, "species_"):
            self.fit(dataset)
        self._check_params()
        unknown = sorted(set(dataset_species(dataset)) - set(self.species_))
        if unknown:
            raise ValueError(f"rdf descriptor: dataset {dataset.name!r} has species {unknown} outside {self.species_}")
        pairs = self._pairs()
        n_species = len(self.species_)
        block_of = np.full((n_species, n_species), -1, dtype=np.int64)
        for block, (a, b) in enumerate(pairs):
            ia, ib = self.species_.index(a), self.species_.index(b)
            block_of[ia, ib] = block_of[ib, ia] = block
        species_index = np.full(max(atomic_numbers.values()) + 1, -1, dtype=np.int64)
        species_index[[atomic_numbers[s] for s in self.species_]] = np.arange(n_species)
        edges = self._edges()
        shell_volume = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
        reach = float(self.r_cut) + SMEARING_REACH * float(self.smearing)  # distances past r_cut leak into the last bin
        out = np.zeros((len(dataset), len(pairs) * len(shell_volume)))
        for row, (atoms, sid) in enumerate(zip(dataset.atoms, dataset.ids, strict=True)):
            cell_volume(atoms, sid)
            i, j, d = neighbor_pairs(atoms, reach)
            kind = species_index[atoms.numbers]
            blocks = block_of[kind[i], kind[j]]
            weights = self._bin_weights(d, edges)
            histogram = np.zeros((len(pairs), len(shell_volume)))
            np.add.at(histogram, blocks, weights)
            out[row] = (histogram / (len(atoms) * shell_volume)).ravel()
        return np.hstack([out, composition_features(dataset, self.composition, self.species_)])

    def _bin_weights(self, distances: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """(n_pairs, n_bins) share of each distance in each bin: a hard histogram or an integrated Gaussian."""
        if self.smearing == 0:
            inside = distances < edges[-1]
            weights = np.zeros((len(distances), len(edges) - 1))
            bins = np.clip(np.searchsorted(edges, distances, side="right") - 1, 0, len(edges) - 2)
            weights[np.flatnonzero(inside), bins[inside]] = 1.0
            return weights
        # imported here, not at the top: keeps scikit-learn/SciPy (about 1 s of imports) off the app's first page
        from scipy.special import erf

        cut = SMEARING_REACH / np.sqrt(2.0)
        scaled = np.clip((edges[None, :] - distances[:, None]) / (np.sqrt(2.0) * float(self.smearing)), -cut, cut)
        cumulative = 0.5 * erf(scaled) / erf(cut)
        return cumulative[:, 1:] - cumulative[:, :-1]
