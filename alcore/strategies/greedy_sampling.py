"""Greedy sampling for regression (iGS, and its input-only and output-only variants GSx and GSy).

Wu, Lin & Huang (2019), "Active learning for regression using greedy sampling", Information Sciences 474:90-105.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from alcore.registry import Option
from alcore.strategies.base import STRATEGIES, PoolView
from alcore.strategies.geometry import CHUNK_BYTES, Geometry, pool_geometry
from alcore.strategies.validation import check_batch


@STRATEGIES.register(
    "igs",
    display_name="Greedy sampling (iGS)",
    summary="Greedy: the row maximising min over labelled-or-picked rows of descriptor distance x target distance.",
    colour="#8c564b",
    citation="Wu, Lin & Huang (2019), Active learning for regression using greedy sampling, Information Sciences "
    "474:90-105",
    options={"space": Option(help="xy: iGS (distance x target gap), x: GSx (distance only), y: GSy (target gap only)",
                             label="Greedy sampling space (xy = iGS, x = GSx, y = GSy)")},
    rule="igs greedily picks the structure whose smallest (descriptor distance x gap between its predicted energy "
    "and a labelled or picked one's) is largest",
    lesson="**Different in input and in output.** A structure is worth labelling if it is far from every labelled "
    "structure in descriptor space *and* its predicted energy is far from theirs. iGS scores each structure by its "
    "smallest distance × energy gap to anything labelled or already picked, takes the best, and scores again. It "
    "uses the committee's mean prediction, not its disagreement.",
)
def igs(view: PoolView, n: int, rng: np.random.Generator, *, space: Literal["xy", "x", "y"] = "xy") -> np.ndarray:
    """Greedy: each pick maximises min over m in labelled ∪ picked of d_x(n, m) · d_y(n, m).

    d_x is the Euclidean distance in descriptor space; d_y = |ŷ_n − y_m| with ``view.mean`` as ŷ and
    ``view.y_labelled`` as the label of a labelled row (the prediction ŷ_m for a row picked earlier in the batch).
    ``space="x"`` drops d_y (GSx, i.e. k-center), ``space="y"`` drops d_x (GSy). With nothing labelled the first pick
    is the row nearest the pool mean in descriptor space (the paper starts from the centroid). Ties go to the lowest
    position. ``rng`` is unused.
    """
    check_batch(view, n)
    if space not in ("xy", "x", "y"):
        raise ValueError(f"option space must be one of 'xy', 'x', 'y', got {space!r}")
    geometry = pool_geometry(view)
    mean = _checked(view.mean, view.n_pool, "view.mean")
    y_labelled = np.empty(0)
    if geometry.has_labelled and space != "x":
        if view.y_labelled is None:
            raise ValueError("igs needs view.y_labelled (the labels of the labelled set) unless space='x'")
        y_labelled = _checked(view.y_labelled, geometry.labelled.shape[0], "view.y_labelled")
    if geometry.has_labelled:
        scores, picked = _to_labelled(geometry, mean, y_labelled, space), []
    else:
        first = int(np.argmin(geometry.distances_to_mean()))
        scores, picked = _to_row(geometry, mean, first, space), [first]
    taken = np.zeros(view.n_pool, dtype=bool)
    taken[picked] = True
    while len(picked) < n:
        masked = np.where(taken, -np.inf, scores)
        i = int(np.argmax(masked))
        picked.append(i)
        taken[i] = True
        np.minimum(scores, _to_row(geometry, mean, i, space), out=scores)
    return np.asarray(picked, dtype=np.int64)


def _to_row(geometry: Geometry, mean: np.ndarray, i: int, space: str) -> np.ndarray:
    """Each pool row's score against pool row ``i`` (a pick: its target is its prediction)."""
    d_x = geometry.distances_to_row(i).astype(np.float64) if space != "y" else 1.0
    d_y = np.abs(mean - mean[i]) if space != "x" else 1.0
    return np.broadcast_to(d_x * d_y, mean.shape).copy()


def _to_labelled(geometry: Geometry, mean: np.ndarray, y: np.ndarray, space: str) -> np.ndarray:
    """min over labelled rows of d_x · d_y, by row chunks so at most ``CHUNK_BYTES`` of pairs are held at once."""
    labelled = geometry.labelled
    out = np.empty(len(mean))
    rows = max(1, CHUNK_BYTES // (8 * labelled.shape[0]))
    l_sq = np.einsum("ij,ij->i", labelled, labelled)
    for start in range(0, len(mean), rows):
        stop = min(start + rows, len(mean))
        block = np.ones((stop - start, labelled.shape[0]))
        if space != "y":
            sq = geometry.sq_norms[start:stop, None] + l_sq[None, :] - 2.0 * (geometry.X[start:stop] @ labelled.T)
            block *= np.sqrt(np.maximum(sq, 0.0))
        if space != "x":
            block *= np.abs(mean[start:stop, None] - y[None, :])
        out[start:stop] = block.min(axis=1)
    return out


def _checked(values: np.ndarray, length: int, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (length,) or not np.isfinite(values).all():
        raise ValueError(f"{name} must hold {length} finite values, got shape {values.shape}")
    return values
