"""Selectors: turn per-row scores into a batch (top-k, or greedy picks whose distances are updated after each pick).

Ties always go to the lowest pool position, so every selector is deterministic without an rng.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from alcore.strategies.geometry import Geometry


def top_k(scores: np.ndarray, k: int, exclude: Sequence[int] = ()) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first, skipping ``exclude``; ties go to the lower position."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    if len(exclude):
        order = order[~np.isin(order, np.asarray(exclude, dtype=np.int64))]
    return order[:k].astype(np.int64)


def greedy_pick(
    geometry: Geometry,
    n: int,
    distances: np.ndarray,
    score: Callable[[np.ndarray], np.ndarray] = lambda distances: distances,
    taken: Sequence[int] = (),
) -> np.ndarray:
    """Add ``n`` rows to ``taken`` one at a time and return all of them (``taken`` first).

    Each pick is the row not yet taken that maximises ``score(distances)``; ``distances`` (each row's distance to the
    labelled set ∪ rows taken so far) then shrinks to the picked row. With the default score this is greedy k-center.
    """
    distances = np.array(distances, dtype=np.float32)
    picked = [int(i) for i in taken]
    is_taken = np.zeros(geometry.X.shape[0], dtype=bool)
    is_taken[picked] = True
    for _ in range(n):
        scores = np.array(score(distances), dtype=np.float64)
        scores[is_taken] = -np.inf
        i = int(np.argmax(scores))
        picked.append(i)
        is_taken[i] = True
        np.minimum(distances, geometry.distances_to_row(i), out=distances)
    return np.asarray(picked, dtype=np.int64)


def start_distances(geometry: Geometry, first_score: Callable[[], np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Distances to the labelled set, and the rows already taken, at the start of a greedy selection.

    With an empty labelled set every distance is +inf, so "farthest" means nothing: the first row is then the argmax of
    ``first_score()`` (e.g. centrality or uncertainty) and distances are measured from it.
    """
    if geometry.has_labelled:
        return geometry.distances_to_labelled(), []
    first = int(np.argmax(first_score()))
    return geometry.distances_to_row(first), [first]


def normalise_by_range(values: np.ndarray) -> np.ndarray:
    """Map to [0, 1] by the pool's min and max (all zeros when every value is equal)."""
    values = np.asarray(values, dtype=np.float64)
    low, span = values.min(), np.ptp(values)
    return (values - low) / span if span > 0 else np.zeros_like(values)
