"""The built-in strategies. Each is a score (one number per pool row) composed with a selector; the pieces live in
``geometry`` (distances), ``selectors`` (top-k, greedy) and ``clustering`` (k-means), so nothing is written twice.

Every strategy has the contract signature ``f(view, n, rng, **options)``; options are keyword-only and checked.
"""

from __future__ import annotations

import numpy as np

from alcore.registry import Option
from alcore.strategies.base import STRATEGIES, PoolView
from alcore.strategies.clustering import cluster_visits, clusters_largest_first, kmeans
from alcore.strategies.geometry import Geometry, pool_geometry
from alcore.strategies.selectors import greedy_pick, normalise_by_range, start_distances, top_k
from alcore.strategies.validation import check_batch, checked_clusters, checked_fraction, checked_std

K_OPTION = Option(low=1, help="number of k-means clusters (none: the batch size)",
                  label="Clusters k (empty = batch size)")


@STRATEGIES.register(
    "random",
    display_name="Random",
    summary="n pool rows drawn uniformly at random: the baseline every other strategy must beat.",
    colour="#7f7f7f",
    rule="random picks uniformly, so its picks need no reason",
    lesson="Draw 15 structures from the pool at random, like names from a hat. It costs nothing and knows "
    "nothing: it is the **baseline** every clever strategy must beat to be worth using.",
)
def random_sample(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct pool rows drawn uniformly with ``rng``: the baseline every other strategy must beat."""
    check_batch(view, n)
    return rng.choice(view.n_pool, size=n, replace=False).astype(np.int64)


@STRATEGIES.register(
    "uncertainty",
    display_name="Uncertainty",
    summary="The n rows with the largest committee standard deviation (query by committee).",
    colour="#d62728",
    citation="Seung, Opper & Sompolinsky (1992), Query by committee, Proc. COLT '92, 287-294",
    rule="uncertainty picks the structures with the largest committee std",
    lesson="Take the 15 structures the five models **disagree about most** (largest standard deviation). "
    "It asks exactly where the committee is unsure. Its weakness: similar structures are unsure together, so the "
    "batch can bunch up in one corner and teach the model the same lesson 15 times.",
)
def uncertainty(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """The ``n`` rows with the largest committee std (ties: lowest position first). ``rng`` is unused."""
    check_batch(view, n)
    return top_k(checked_std(view), n)


@STRATEGIES.register(
    "diversity",
    display_name="Diversity",
    summary="k-means on the pool descriptors, then the member of each cluster farthest from the labelled set.",
    colour="#1f77b4",
    options={"k": K_OPTION},
    rule="diversity clusters the pool (k = batch size unless set) and takes from each cluster the member farthest "
    "from the labelled set",
    lesson="Ignore the committee and **cover the map**. Split the pool into 15 groups of similar structures "
    "(k-means clustering with k = 15). Then, largest group first, take from each group the structure *farthest* "
    "from everything already labelled or already picked (farthest-point refinement), updating distances after each "
    "pick. One structure from every region.",
)
def diversity(view: PoolView, n: int, rng: np.random.Generator, *, k: int | None = None) -> np.ndarray:
    """k-means on the pool descriptors, then farthest-point refinement (the paper's strategy).

    Exact rule: cluster the pool with ``k`` clusters (None: k = ``n``; scikit-learn ``KMeans`` seeded from ``rng``;
    ``MiniBatchKMeans`` above ``clustering.MINIBATCH_ABOVE`` rows). Visit the non-empty clusters largest first (equal
    sizes: lower cluster label first), as ``clustering.cluster_visits`` orders them: k = n visits each once, k < n
    goes round the list again until ``n`` visits, k > n visits only the ``n`` largest. At each visit take the member
    not yet chosen that is farthest from the labelled set ∪ the rows already chosen; distances are updated after every
    pick. Among equally far members (e.g. every distance is +inf because nothing is labelled and nothing is chosen
    yet) take the one nearest its cluster centre, then the lowest position. Picks still missing (empty or exhausted
    clusters) are plain farthest-point (k-center) picks.
    """
    check_batch(view, n)
    k = checked_clusters(k, n, view.n_pool)
    geometry = pool_geometry(view)
    labels, centres = kmeans(geometry.X, k, rng)
    distances = geometry.distances_to_labelled()
    picked: list[int] = []
    for members in cluster_visits(clusters_largest_first(labels, k), k, n):
        left = members[~np.isin(members, picked)]
        if len(left):
            i = _farthest_member(geometry, left, distances, centres[labels[members[0]]])
            picked.append(i)
            np.minimum(distances, geometry.distances_to_row(i), out=distances)
    return greedy_pick(geometry, n - len(picked), distances, taken=picked)


@STRATEGIES.register(
    "hybrid",
    display_name="Hybrid",
    summary="Greedy on alpha x scaled std + (1 - alpha) x scaled distance to the labelled set and earlier picks.",
    colour="#9467bd",
    options={"alpha": Option(low=0.0, high=1.0, help="weight of uncertainty vs distance (1 = uncertainty, "
                             "0 = kcenter)", label="Hybrid alpha (1 = uncertainty, 0 = distance)")},
    rule="hybrid greedily maximises alpha x scaled std + (1 - alpha) x scaled distance to the labelled set",
    lesson="A mix with a dial, **α**. Each structure scores α × disagreement + (1 − α) × distance to the nearest "
    "labelled-or-picked structure (both scaled to 0..1). The best is picked, distances are updated, and the next "
    "pick is scored again, so the batch does not bunch up. α = 1 is pure uncertainty, α = 0 is kcenter.",
)
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


@STRATEGIES.register(
    "kcenter",
    display_name="k-center",
    summary="Greedy k-center (core-set): each pick is the row farthest from the labelled set and earlier picks.",
    colour="#2ca02c",
    citation="Sener & Savarese (2018), Active learning for convolutional neural networks: a core-set approach, ICLR",
    rule="kcenter greedily picks the structure farthest from the labelled set and the picks so far",
    lesson="**Farthest first.** Each pick is the structure farthest from everything labelled so far and "
    "everything picked earlier in this batch, like placing new weather stations as far as possible from the "
    "existing ones. Also called core-set selection.",
)
def kcenter(view: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-center (core-set): each pick is the row farthest from the labelled set ∪ rows already picked.

    With nothing labelled, the first pick is the row nearest the pool mean. ``rng`` is unused.
    """
    check_batch(view, n)
    geometry = pool_geometry(view)
    distances, taken = start_distances(geometry, lambda: -geometry.distances_to_mean())
    return greedy_pick(geometry, n - len(taken), distances, taken=taken)


@STRATEGIES.register(
    "cluster_uncertainty",
    display_name="Cluster uncertainty",
    summary="k-means on the pool descriptors, then the highest-std member of each cluster.",
    colour="#ff7f0e",
    options={"k": K_OPTION},
    rule="cluster_uncertainty clusters the pool (k = batch size unless set) and takes the highest-std member "
    "of each cluster",
    lesson="Diversity and uncertainty together: split the pool into 15 groups with k-means (as "
    "diversity does), then take from each group the structure the committee **disagrees about most**.",
)
def cluster_uncertainty(view: PoolView, n: int, rng: np.random.Generator, *, k: int | None = None) -> np.ndarray:
    """k-means (k = n unless set, as in ``diversity``), then the highest-std member of each cluster.

    Clusters are visited as in ``diversity`` (``clustering.cluster_visits``: largest first, round-robin when k < n,
    the ``n`` largest when k > n); each visit takes the cluster's highest-std member not yet picked. Ties go to the
    lowest position; picks still missing (empty or exhausted clusters) come from the global top-std rows.
    """
    check_batch(view, n)
    k = checked_clusters(k, n, view.n_pool)
    std = checked_std(view)
    geometry = pool_geometry(view)
    labels, _ = kmeans(geometry.X, k, rng)
    picked: list[int] = []
    for members in cluster_visits(clusters_largest_first(labels, k), k, n):
        left = members[~np.isin(members, picked)]
        if len(left):
            picked.append(int(left[np.argmax(std[left])]))
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
