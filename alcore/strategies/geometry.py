"""Euclidean distances between pool rows and the labelled / chosen set, in float32 and by chunks.

The strategies only ever need one number per pool row (the distance to the nearest labelled or chosen point), so
rather than scikit-learn's ``pairwise_distances_chunked`` (which upcasts float32 blocks to float64 and hands back whole
blocks) we run ``|x|² + |y|² − 2 x·y`` over row chunks with a running minimum: a 100 000 × 100 pool against 500
labelled rows never holds more than ``CHUNK_BYTES`` of pairwise distances at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alcore.strategies.base import PoolView

CHUNK_BYTES = 32 * 2**20  # largest (rows × n_labelled) float32 block of pairwise distances held at once


@dataclass(frozen=True)
class Geometry:
    """The pool and labelled descriptors in float32, shifted so that pool row 0 is the origin.

    The shift leaves every distance unchanged, keeps ``|x|²`` small so the float32 expansion loses little to
    cancellation, and makes the result exactly invariant to a global translation of X (row 0 moves with the data).
    """

    X: np.ndarray  # (n_pool, d) float32
    sq_norms: np.ndarray  # (n_pool,) float32, |x|² of each pool row
    labelled: np.ndarray  # (n_labelled, d) float32, possibly 0 rows

    @property
    def has_labelled(self) -> bool:
        return self.labelled.shape[0] > 0

    def distances_to_labelled(self) -> np.ndarray:
        """Distance of each pool row to its nearest labelled row; +inf everywhere when nothing is labelled."""
        return min_distances(self.X, self.labelled, self.sq_norms)

    def distances_to_row(self, i: int) -> np.ndarray:
        """Distance of each pool row to pool row ``i`` (used to update running minima after a pick)."""
        x = self.X[i]
        sq = self.sq_norms + self.sq_norms[i] - 2.0 * (self.X @ x)
        return np.sqrt(np.maximum(sq, 0.0, out=sq), out=sq)

    def distances_to_mean(self) -> np.ndarray:
        """Distance of each pool row to the pool mean (centrality, used when nothing is labelled yet)."""
        mean = self.X.mean(axis=0, dtype=np.float64).astype(np.float32)
        return min_distances(self.X, mean[None, :], self.sq_norms)


def pool_geometry(view: PoolView) -> Geometry:
    """Check the descriptors of ``view`` and build its :class:`Geometry`. An empty labelled set may have any shape."""
    X_pool = np.asarray(view.X_pool)
    if X_pool.ndim != 2 or X_pool.shape[0] < 1 or X_pool.shape[1] < 1:
        raise ValueError(f"view.X_pool must be a non-empty (n_pool, d) array, got shape {X_pool.shape}")
    d = X_pool.shape[1]
    X_labelled = np.asarray(view.X_labelled)
    if X_labelled.size == 0:
        X_labelled = X_labelled.reshape(0, d)
    if X_labelled.ndim != 2 or X_labelled.shape[1] != d:
        raise ValueError(f"view.X_labelled must have shape (n_labelled, {d}) like X_pool, got {X_labelled.shape}")
    if not np.isfinite(X_pool).all():
        raise ValueError("view.X_pool contains NaN or infinite values")
    if not np.isfinite(X_labelled).all():
        raise ValueError("view.X_labelled contains NaN or infinite values")
    origin = X_pool[0].astype(np.float64)
    X = (X_pool - origin).astype(np.float32)
    labelled = (X_labelled - origin).astype(np.float32)
    return Geometry(X=X, sq_norms=np.einsum("ij,ij->i", X, X), labelled=labelled)


def min_distances(X: np.ndarray, Y: np.ndarray, X_sq_norms: np.ndarray | None = None) -> np.ndarray:
    """For each row of ``X``, the Euclidean distance to the nearest row of ``Y`` (float32, +inf if ``Y`` is empty)."""
    X = np.asarray(X, dtype=np.float32)
    Y = np.asarray(Y, dtype=np.float32)
    out = np.full(X.shape[0], np.inf, dtype=np.float32)
    if Y.shape[0] == 0:
        return out
    if X_sq_norms is None:
        X_sq_norms = np.einsum("ij,ij->i", X, X)
    Y_sq_norms = np.einsum("ij,ij->i", Y, Y)
    rows = max(1, CHUNK_BYTES // (4 * Y.shape[0]))
    for start in range(0, X.shape[0], rows):
        stop = min(start + rows, X.shape[0])
        block = X[start:stop] @ Y.T
        block *= -2.0
        block += Y_sq_norms
        out[start:stop] = block.min(axis=1) + X_sq_norms[start:stop]
    return np.sqrt(np.maximum(out, 0.0, out=out), out=out)
