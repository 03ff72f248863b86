"""k-means on the pool (scikit-learn), and the clusters in the order the cluster-based strategies visit them."""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import ThreadpoolController

from alcore.strategies.base import BLAS_SETTING_LOCK

MINIBATCH_ABOVE = 20_000  # pools with more rows use MiniBatchKMeans (full Lloyd passes cost too much per round)
MINIBATCH_SIZE = 4_096  # fewer, larger steps than scikit-learn's 1 024: ~0.3 s instead of ~0.4 s on 100 000 × 100


def kmeans(
    X: np.ndarray, k: int, rng: np.random.Generator, minibatch_above: int = MINIBATCH_ABOVE
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the rows of ``X`` into ``k`` groups; returns ``(labels, centres)``. Seeded from ``rng``.

    A pool with fewer distinct rows than ``k`` leaves some clusters empty; scikit-learn warns about it, but the callers
    handle empty clusters explicitly, so that warning is silenced here. MiniBatchKMeans runs on one OpenMP thread: its
    steps are so small that thread start-up dominates (100 000 × 100, k = 15: 0.3 s on one thread, 2.2 s on two busy
    cores).
    """
    from sklearn.cluster import (  # imported here, not at the top: keeps scikit-learn/SciPy (about 1 s of imports) off the app's first page
        KMeans,
        MiniBatchKMeans,
    )
    from sklearn.exceptions import ConvergenceWarning

    seed = int(rng.integers(np.iinfo(np.int32).max))
    minibatch = X.shape[0] > minibatch_above
    if minibatch:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init="auto", batch_size=MINIBATCH_SIZE)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init="auto")
    # scikit-learn lowers the process-wide BLAS setting inside fit, so k-means takes its turn (see strategies.base)
    openmp = ThreadpoolController().select(user_api="openmp")
    with warnings.catch_warnings(), BLAS_SETTING_LOCK, openmp.limit(limits=1 if minibatch else None):
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(X)
    return labels.astype(np.int64), model.cluster_centers_


def clusters_largest_first(labels: np.ndarray, k: int) -> list[np.ndarray]:
    """Member positions (ascending) of each non-empty cluster, largest cluster first, ties by cluster label."""
    sizes = np.bincount(labels, minlength=k)
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.cumsum(sizes)[:-1])
    return [groups[c] for c in np.argsort(-sizes, kind="stable") if sizes[c] > 0]


def cluster_visits(clusters: list[np.ndarray], k: int, n: int) -> list[np.ndarray]:
    """The clusters a cluster-based strategy visits, one pick per visit: the list (largest first) repeated
    ⌈n / k⌉ times, cut to ``n`` visits. k = n: each cluster once; k < n: round-robin; k > n: the ``n`` largest."""
    return (clusters * -(-n // k))[:n]
