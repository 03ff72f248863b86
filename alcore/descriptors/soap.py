"""Structure-averaged SOAP (dscribe, ``average="inner"``): a smooth, rotation-invariant fingerprint of local order.

The averaged density coefficients are intensive, so a cell and its supercell share one vector. Species come from the
dataset unless given, so a unary pool gets a compact vector; defaults keep the size at 50 (one element) to 180 (two).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alcore.datasets.base import Dataset
from alcore.descriptors._structure import cell_volume, checked_species, dataset_species
from alcore.descriptors.base import DESCRIPTORS


@DESCRIPTORS.register("soap")
class SoapDescriptor:
    """Structure-averaged SOAP power spectrum (dscribe, periodic, inner average)."""

    name = "soap"
    version = 1

    def __init__(
        self,
        r_cut: float = 5.0,
        n_max: int = 4,
        l_max: int = 4,
        sigma: float = 0.5,
        species: list[str] | None = None,
    ) -> None:
        self.r_cut = r_cut
        self.n_max = n_max
        self.l_max = l_max
        self.sigma = sigma
        self.species = species

    def params(self) -> dict[str, Any]:
        return {
            "r_cut": self.r_cut,
            "n_max": self.n_max,
            "l_max": self.l_max,
            "sigma": self.sigma,
            "species": None if self.species is None else list(self.species),
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
        return labels

    def featurize(self, dataset: Dataset) -> np.ndarray:
        if not hasattr(self, "_soap_"):
            self.fit(dataset)
        unknown = sorted(set(dataset_species(dataset)) - set(self.species_))
        if unknown:
            raise ValueError(f"soap descriptor: dataset {dataset.name!r} has species {unknown} outside {self.species_}")
        for atoms, sid in zip(dataset.atoms, dataset.ids, strict=True):
            cell_volume(atoms, sid)
        features = self._soap_.create(list(dataset.atoms), n_jobs=1)
        return np.asarray(features, dtype=float).reshape(len(dataset), -1)
