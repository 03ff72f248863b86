"""The built-in strategies. Each is a score (one number per pool row) composed with a selector; the pieces live in
``geometry`` (distances), ``selectors`` (top-k, greedy) and ``clustering`` (k-means), so nothing is written twice.

Every strategy has the contract signature ``f(view, n, rng, **options)``; options are keyword-only and checked.
"""

from __future__ import annotations

import numpy as np

from alcore.strategies.base import STRATEGIES, PoolView
from alcore.strategies.clustering import clusters_largest_first, kmeans
from alcore.strategies.geometry import Geometry, pool_geometry
from alcore.strategies.selectors import greedy_pick, normalise_by_range, start_distances, top_k
from alcore.strategies.validation import check_batch, checked_fraction, checked_std


@STRATEGIES.register("random")
def random_sample(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct pool rows drawn uniformly with ``rng``: the baseline every other strategy must beat."""
    check_batch(view, n)
    return rng.choice(view.n_pool, size=n, replace=False).astype(np.int64)


@STRATEGIES.register("uncertainty")
def uncertainty(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """The ``n`` rows with the largest committee std (ties: lowest position first). ``rng`` is unused."""
    check_batch(view, n)
    return top_k(checked_std(view), n)


@STRATEGIES.register("diversity")
def diversity(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means with k = n on the pool descriptors, then farthest-point refinement (the paper's strategy).

    Exact rule: cluster the pool with k = ``n`` (scikit-learn ``KMeans`` seeded from ``rng``; ``MiniBatchKMeans``
    above ``clustering.MINIBATCH_ABOVE`` rows). Visit the non-empty clusters largest first (equal sizes: lower cluster
    label first). From each, take the member farthest from the labelled set ∪ the rows already chosen; distances are
    updated after every pick. Among equally far members (e.g. every distance is +inf because nothing is labelled and
    nothing is chosen yet) take the one nearest its cluster centre, then the lowest position. If some clusters are
    empty (fewer distinct rows than ``n``), the remaining picks are plain farthest-point (k-center) picks.
    """
    check_batch(view, n)
    geometry = pool_geometry(view)
    labels, centres = kmeans(geometry.X, n, rng)
    distances = geometry.distances_to_labelled()
    picked: list[int] = []
    for members in clusters_largest_first(labels, n):
        i = _farthest_member(geometry, members, distances, centres[labels[members[0]]])
        picked.append(i)
        np.minimum(distances, geometry.distances_to_row(i), out=distances)
    return greedy_pick(geometry, n - len(picked), distances, taken=picked)


@STRATEGIES.register("hybrid")
def hybrid(view: PoolView, n: int, rng: np.random.Generator, *, alpha: float = 0.5) -> np.ndarray:
    """Greedy on ``alpha * std_n + (1 - alpha) * dist_n``; ``alpha=1`` is uncertainty, ``alpha=0`` is kcenter.

    ``std_n`` is the std scaled to [0, 1] by its pool range. ``dist_n`` is each row's distance to the labelled set ∪
    rows already picked, divided by the largest distance *before* the first greedy pick, so the scale stays fixed
    while distances shrink. With nothing labelled, the first pick maximises ``alpha * std_n + (1 - alpha) *
    centrality`` (centrality = 1 − distance to the pool mean / its maximum); distances, and their scale, are then
    measured from that first pick.
    ``rng`` is unused.
    """
    alpha = checked_fraction("alpha", alpha)
    check_batch(view, n)
    std_n = normalise_by_range(checked_std(view))
    geometry = pool_geometry(view)
    distances, taken = start_distances(geometry, lambda: alpha * std_n + (1.0 - alpha) * _centrality(geometry))
    scale = float(distances.max()) or 1.0
    return greedy_pick(
        geometry, n - len(taken), distances, lambda d: alpha * std_n + (1.0 - alpha) * (d / scale), taken
    )


@STRATEGIES.register("kcenter")
def kcenter(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-center (core-set): each pick is the row farthest from the labelled set ∪ rows already picked.

    With nothing labelled, the first pick is the row nearest the pool mean. ``rng`` is unused.
    """
    check_batch(view, n)
    geometry = pool_geometry(view)
    distances, taken = start_distances(geometry, lambda: -geometry.distances_to_mean())
    return greedy_pick(geometry, n - len(taken), distances, taken=taken)


@STRATEGIES.register("cluster_uncertainty")
def cluster_uncertainty(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means with k = n (as in ``diversity``), then the highest-std member of each cluster (largest cluster first).

    Ties go to the lowest position; if some clusters are empty, the rest come from the global top-std rows.
    """
    check_batch(view, n)
    std = checked_std(view)
    geometry = pool_geometry(view)
    labels, _ = kmeans(geometry.X, n, rng)
    picked = [int(members[np.argmax(std[members])]) for members in clusters_largest_first(labels, n)]
    fill = top_k(std, n - len(picked), exclude=picked)
    return np.concatenate([np.asarray(picked, dtype=np.int64), fill])


def _farthest_member(geometry: Geometry, members: np.ndarray, distances: np.ndarray, centre: np.ndarray) -> int:
    """The member with the largest distance; among equals, the one nearest ``centre``, then the lowest position."""
    farthest = members[distances[members] == distances[members].max()]
    offsets = geometry.X[farthest] - centre.astype(np.float32)
    return int(farthest[np.argmin(np.einsum("ij,ij->i", offsets, offsets))])


def _centrality(geometry: Geometry) -> np.ndarray:
    """1 at the pool mean, 0 at the row farthest from it."""
    to_mean = geometry.distances_to_mean().astype(np.float64)
    farthest = to_mean.max()
    return 1.0 - to_mean / farthest if farthest > 0 else np.ones_like(to_mean)
