"""The oracle contract: whoever supplies a label when a strategy asks for one.

In a benchmark the labels are already known (``DatasetOracle`` reveals them); in production an oracle would run DFT or
a universal potential. The loop only ever asks the oracle for the labels of structures it has selected.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from alcore.registry import Registry


class Oracle(Protocol):
    def label(self, indices: np.ndarray) -> np.ndarray: ...


ORACLES: Registry[type] = Registry("oracle")


@ORACLES.register("dataset")
class DatasetOracle:
    """Reveals labels that were computed in advance (pool-based active learning on a labelled dataset)."""

    def __init__(self, y: np.ndarray) -> None:
        self.y = np.asarray(y, dtype=float)

    def label(self, indices: np.ndarray) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.y)):
            raise IndexError(f"oracle asked for indices outside 0..{len(self.y) - 1}")
        labels = self.y[idx]
        if not np.all(np.isfinite(labels)):
            bad = idx[~np.isfinite(labels)]
            raise ValueError(f"oracle has no finite label for structures {bad[:10].tolist()}")
        return labels
