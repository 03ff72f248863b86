"""The strategy contract.

A strategy is a pure function ``f(view: PoolView, n: int, rng: np.random.Generator, **options) -> np.ndarray`` that
returns ``n`` unique positions into the pool (``0 <= i < len(view.X_pool)``). Positions, not dataset indices: the loop
maps them back. Because the labelled set is passed separately (``X_labelled``), a strategy can never pick a labelled
structure. Register with ``@STRATEGIES.register("name", display_name=..., colour=..., rule=..., lesson=...,
options={"alpha": Option(low=0, high=1)})``: options are the function's keyword-only parameters, and the CLI, the app
pages and the docs are built from that spec (``alcore.registry.PluginSpec``).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from alcore.registry import Registry


@dataclass(frozen=True)
class PoolView:
    """What a strategy may look at: committee prediction on the pool and the descriptors of pool and labelled set."""

    mean: np.ndarray  # (n_pool,) committee mean on the pool
    std: np.ndarray  # (n_pool,) committee standard deviation on the pool
    X_pool: np.ndarray  # (n_pool, d) standardised descriptors
    X_labelled: np.ndarray  # (n_labelled, d)
    y_labelled: np.ndarray | None = None  # (n_labelled,) the labels, for strategies that compare predictions with them

    @property
    def n_pool(self) -> int:
        return int(self.X_pool.shape[0])


class Strategy(Protocol):
    def __call__(self, view: PoolView, n: int, rng: np.random.Generator, **options) -> np.ndarray: ...


STRATEGIES: Registry[Callable[..., np.ndarray]] = Registry("strategy")

# OpenBLAS's thread count is one setting for the whole process, and threadpoolctl lets one thread at a time change it:
# overlapping limits from several threads (app sessions stepping together) left the process at one BLAS thread for
# good. Code that changes it (strategies, scikit-learn's k-means) therefore takes turns under this lock; selections
# are short next to the committee fits, which still run in parallel.
BLAS_SETTING_LOCK = threading.RLock()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """One BLAS thread for the duration, restoring only the BLAS setting (``threadpool_limits`` restores every
    library's, so it could undo another thread's limit half-way)."""
    with BLAS_SETTING_LOCK, ThreadpoolController().select(user_api="blas").limit(limits=1):
        yield


def select(name: str, view: PoolView, n: int, rng: np.random.Generator, **options) -> np.ndarray:
    """Run the registered strategy ``name`` and check its contract (unique, in range, exactly ``n``)."""
    if n < 1:
        raise ValueError(f"batch size must be at least 1, got {n}")
    if n > view.n_pool:
        raise ValueError(f"asked for {n} structures but the pool holds only {view.n_pool}")
    strategy = STRATEGIES.get(name)
    options = STRATEGIES.spec(name).check_options(options)  # unknown names and out-of-bounds values fail here
    # One BLAS thread: the distance products here are small, and multi-threaded OpenBLAS leaves its workers
    # spinning after the call, which slowed the committee fit that follows by ~60 % (0.12 s -> 0.20 s, 2 cores).
    with one_blas_thread():
        picked = np.asarray(strategy(view, n, rng, **options), dtype=np.int64)
    if picked.shape != (n,) or len(np.unique(picked)) != n or picked.min() < 0 or picked.max() >= view.n_pool:
        raise RuntimeError(f"strategy {name!r} broke its contract: returned {picked!r}")
    return picked
