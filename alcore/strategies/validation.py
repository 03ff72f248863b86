"""Argument checks shared by the strategies: a bad view or option fails loudly with the name of what is wrong."""

from __future__ import annotations

import numpy as np

from alcore.strategies.base import PoolView


def check_batch(view: PoolView, n: int) -> None:
    """Strategies may be called directly, not only through ``select``: check the batch size here too."""
    X_pool = np.asarray(view.X_pool)
    if X_pool.ndim != 2 or X_pool.shape[0] < 1 or X_pool.shape[1] < 1:
        raise ValueError(f"view.X_pool must be a non-empty (n_pool, d) array, got shape {X_pool.shape}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise ValueError(f"batch size n must be an integer, got {n!r}")
    if not 1 <= n <= X_pool.shape[0]:
        raise ValueError(f"batch size n must be between 1 and the pool size {X_pool.shape[0]}, got {n}")


def checked_std(view: PoolView) -> np.ndarray:
    """The committee std as float64, after checking it has one finite, non-negative value per pool row."""
    std = np.asarray(view.std, dtype=np.float64)
    if std.shape != (view.n_pool,):
        raise ValueError(f"view.std must have shape ({view.n_pool},) (one value per pool row), got {std.shape}")
    if not np.isfinite(std).all():
        raise ValueError("view.std contains NaN or infinite values")
    if (std < 0).any():
        raise ValueError("view.std contains negative values; a standard deviation is >= 0")
    return std


def checked_fraction(name: str, value: float) -> float:
    """A weight in [0, 1] (e.g. hybrid's ``alpha``)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"option {name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"option {name} must be in [0, 1], got {value}")
    return value


def checked_clusters(k: int | None, n: int, n_pool: int) -> int:
    """The cluster count: ``n`` (the batch size) when ``k`` is None, else an integer in 1..n_pool."""
    if k is None:
        return n
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"option k must be an integer or None, got {k!r}")
    if not 1 <= k <= n_pool:
        raise ValueError(f"option k must be between 1 and the pool size {n_pool}, got {k}")
    return int(k)
