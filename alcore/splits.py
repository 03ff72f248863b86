"""Held-out test split, initial labelled set and pool.

The test split depends only on ``split_seed`` (fixed across a comparison), the initial set only on ``seed`` — never on
the strategy — so strategies compared with the same seed start from the same labelled set (paired comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alcore.seeding import rng_for


@dataclass(frozen=True)
class Split:
    test: np.ndarray  # dataset indices never used for training or selection
    initial: np.ndarray  # dataset indices labelled before round 0
    pool: np.ndarray  # dataset indices available to strategies (excludes test and initial)

    @property
    def n_total(self) -> int:
        return len(self.test) + len(self.initial) + len(self.pool)


def make_split(n: int, *, test_fraction: float = 0.2, n_initial: int = 30, split_seed: int = 0, seed: int = 0) -> Split:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if n_initial < 2:
        raise ValueError(f"n_initial must be at least 2 (a committee needs data to train on), got {n_initial}")
    n_test = max(1, round(n * test_fraction))
    if n - n_test < n_initial + 1:
        raise ValueError(
            f"dataset has {n} structures: too few for a {test_fraction:.0%} test split plus {n_initial} initial labels "
            "and a non-empty pool"
        )
    order = rng_for(split_seed, "split").permutation(n)
    test = np.sort(order[:n_test])
    rest = np.sort(order[n_test:])
    initial_pos = rng_for(seed, "initial", split_seed).choice(len(rest), size=n_initial, replace=False)
    initial = np.sort(rest[initial_pos])
    pool = np.setdiff1d(rest, initial, assume_unique=True)
    return Split(test=test, initial=initial, pool=pool)


def max_labels(n_structures: int, test_fraction: float = 0.2) -> int:
    """The largest budget a dataset allows: everything outside the held-out test split."""
    split = make_split(n_structures, test_fraction=test_fraction, n_initial=2)
    return len(split.initial) + len(split.pool)
