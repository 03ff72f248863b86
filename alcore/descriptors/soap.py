"""Structure-averaged SOAP (dscribe, ``average="inner"``): a smooth, rotation-invariant fingerprint of local order.

The averaged density coefficients are intensive, so a cell and its supercell share one vector. Species come from the
dataset unless given, so a unary pool gets a compact vector (50 numbers for one element, 180 per centre species for
two). With ``centres="species"`` (default) SOAP is averaged over the atoms of each species separately and each block
is weighted by that species' fraction, and a composition block is appended (``_composition``): one average over all
atoms blends Ti- and O-centred environments of a Ti-O cell (on tio2-aenet per-species blocks cut the random-sampling
pool-side MAE from 24 to 18 meV/atom). A unary pool gets the same SOAP numbers either way.
"""

from __future__ import annotations

from typing import Any, Literal

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
from alcore.descriptors._structure import cell_volume, checked_species, dataset_species
from alcore.descriptors.base import DESCRIPTORS
from alcore.registry import Option


@DESCRIPTORS.register(
    "soap",
    options={
        "centres": Option(help="average over each species' atoms (blocks weighted by fraction) or over all atoms"),
        "composition": COMPOSITION_OPTION,
    },
)
class SoapDescriptor:
    """Structure-averaged SOAP power spectrum (dscribe, periodic), one block per centre species, plus composition."""

    name = "soap"
    version = 2  # 2: per-species centres and the composition block

    def __init__(
        self,
        r_cut: float = 5.0,
        n_max: int = 4,
        l_max: int = 4,
        sigma: float = 0.5,
        species: list[str] | None = None,
        centres: Literal["species", "all"] = "species",
        composition: Composition = "magpie",
    ) -> None:
        self.r_cut = r_cut
        self.n_max = n_max
        self.l_max = l_max
        self.sigma = sigma
        self.species = species
        self.centres = centres
        self.composition = composition

    def params(self) -> dict[str, Any]:
        return {
            "r_cut": self.r_cut,
            "n_max": self.n_max,
            "l_max": self.l_max,
            "sigma": self.sigma,
            "species": None if self.species is None else list(self.species),
            "centres": self.centres,
            "composition": self.composition,
        }

    def fit(self, dataset: Dataset) -> "SoapDescriptor":
        """Fix the species (and so the feature layout) from the whole dataset before featurising it in chunks."""
        self.species_ = checked_species(self.species) if self.species is not None else dataset_species(dataset)
        self._soap_ = self._build(self.species_)
        return self

    def _build(self, species: list[str]):
        from dscribe.descriptors import SOAP

        if not (isinstance(self.r_cut, (int, float)) and self.r_cut > 1.0):
            raise ValueError(f"soap descriptor: r_cut must be a number > 1 Å, got {self.r_cut!r}")
        if not (isinstance(self.n_max, int) and 1 <= self.n_max <= 12):
            raise ValueError(f"soap descriptor: n_max must be an integer in 1..12, got {self.n_max!r}")
        if not (isinstance(self.l_max, int) and 0 <= self.l_max <= 10):
            raise ValueError(f"soap descriptor: l_max must be an integer in 0..10, got {self.l_max!r}")
        if not (isinstance(self.sigma, (int, float)) and self.sigma > 0):
            raise ValueError(f"soap descriptor: sigma must be a positive number (Å), got {self.sigma!r}")
        if self.centres not in ("species", "all"):
            raise ValueError(f"soap descriptor: centres must be 'species' or 'all', got {self.centres!r}")
        check_composition(self.composition, "soap")
        return SOAP(
            species=species,
            r_cut=float(self.r_cut),
            n_max=int(self.n_max),
            l_max=int(self.l_max),
            sigma=float(self.sigma),
            periodic=True,
            average="inner",
            sparse=False,
        )

    def _species_for_labels(self) -> list[str]:
        if hasattr(self, "species_"):
            return self.species_
        if self.species is not None:
            return checked_species(self.species)
        raise RuntimeError("soap descriptor: labels depend on the species; pass species=... or call fit/featurize")

    def feature_labels(self) -> list[str]:
        species = self._species_for_labels()
        soap = self._soap_ if hasattr(self, "_soap_") else self._build(species)
        labels = [""] * soap.get_number_of_features()
        for a_index, a in enumerate(species):
            for b in species[a_index:]:
                block = soap.get_location((a, b))
                for k, position in enumerate(range(block.start, block.stop)):
                    labels[position] = f"soap_{a}-{b}_{k}"
        if self.centres == "species" and len(species) > 1:
            labels = [f"{label}@{centre}" for centre in species for label in labels]
        return labels + composition_labels(self.composition, species)

    def featurize(self, dataset: Dataset) -> np.ndarray:
        if not hasattr(self, "_soap_"):
            self.fit(dataset)
        unknown = sorted(set(dataset_species(dataset)) - set(self.species_))
        if unknown:
            raise ValueError(f"soap descriptor: dataset {dataset.name!r} has species {unknown} outside {self.species_}")
        for atoms, sid in zip(dataset.atoms, dataset.ids, strict=True):
            cell_volume(atoms, sid)
        if self.centres == "all" or len(self.species_) == 1:
            soap = np.asarray(self._soap_.create(list(dataset.atoms), n_jobs=1), dtype=float).reshape(len(dataset), -1)
        else:
            soap = np.hstack([self._species_block(dataset, symbol) for symbol in self.species_])
        return np.hstack([soap, composition_features(dataset, self.composition, self.species_)])

    def _species_block(self, dataset: Dataset, symbol: str) -> np.ndarray:
        """SOAP inner-averaged over the atoms of one species, times its fraction (zeros where it is absent)."""
        block = np.zeros((len(dataset), self._soap_.get_number_of_features()))
        centres = [np.flatnonzero(atoms.numbers == atomic_numbers[symbol]).tolist() for atoms in dataset.atoms]
        rows = [row for row, c in enumerate(centres) if c]
        if rows:
            systems, chosen = [dataset.atoms[r] for r in rows], [centres[r] for r in rows]
            averaged = np.asarray(self._soap_.create(systems, centers=chosen, n_jobs=1), dtype=float)
            fraction = np.array([len(centres[r]) / len(dataset.atoms[r]) for r in rows])
            block[rows] = averaged.reshape(len(rows), -1) * fraction[:, None]
        return block
