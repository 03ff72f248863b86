"""The ``dataset`` oracle: reveals labels computed in advance (pool-based active learning on a labelled dataset)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from alcore.oracles.base import ORACLES, OracleError
from alcore.oracles.labels import Labels
from alcore.structures import Structure


@ORACLES.register("dataset")
class DatasetOracle:
    """Looks the labels up by dataset index: the run's target column, and the dataset's energies, forces and stress
    where it has them. ``precomputed``: every label is known before the run, so the metrics read them directly."""

    name = "dataset"
    targets = None  # any target of the dataset (``prepare`` checks the dataset has it)
    precomputed = True

    def __init__(
        self,
        target: str = "energy_per_atom",
        dataset: Any = None,
        *,
        values: np.ndarray | None = None,
    ) -> None:
        if (dataset is None) == (values is None):
            raise ValueError("the dataset oracle needs a dataset or the target values, not both")
        if dataset is not None and target not in dataset.targets:
            raise ValueError(f"dataset {dataset.name!r} has no target {target!r}; it has {sorted(dataset.targets)}")
        self.values = np.asarray(dataset.target(target) if values is None else values, dtype=float)
        self.energy_per_atom = None if dataset is None else dataset.energy_per_atom
        self.forces = None if dataset is None else dataset.forces
        self.stress = None if dataset is None else dataset.stress
        has = {"energy": self.energy_per_atom is not None, "forces": self.forces is not None,
               "stress": self.stress is not None}  # fmt: skip
        self.provides = tuple(p for p, ok in has.items() if ok)

    def label(self, structures: Sequence[Structure]) -> Labels:
        idx = np.array([s.index for s in structures], dtype=np.int64)
        for s in structures:
            if not 0 <= s.index < len(self.values):
                raise OracleError(self.name, s, f"the dataset has rows 0..{len(self.values) - 1} only")
        pick = lambda seq: None if seq is None else tuple(seq[i] for i in idx.tolist())  # noqa: E731
        return Labels(
            idx,
            self.values[idx],
            None if self.energy_per_atom is None else self.energy_per_atom[idx],
            pick(self.forces),
            pick(self.stress),
        )
