"""Selection strategies on small hand-built pools with fake committee predictions."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from alcore.strategies import STRATEGIES, PoolView, select
from alcore.strategies import geometry as geometry_module
from alcore.strategies.clustering import kmeans
from alcore.strategies.geometry import min_distances

NAMES = STRATEGIES.names()
DISTANCE_BASED = ["diversity", "kcenter", "hybrid"]


def make_view(X_pool, X_labelled=None, std=None) -> PoolView:
    X_pool = np.asarray(X_pool, dtype=np.float64)
    if X_labelled is None:
        X_labelled = np.empty((0, X_pool.shape[1]))
    if std is None:
        std = np.ones(len(X_pool))
    y_labelled = np.linspace(-1.0, 1.0, len(X_labelled))  # labels for strategies that compare predictions with them
    return PoolView(mean=np.zeros(len(X_pool)), std=np.asarray(std, float), X_pool=X_pool, X_labelled=X_labelled,
                    y_labelled=y_labelled)


def random_view(seed: int = 0, n_pool: int = 120, d: int = 4, n_labelled: int = 10) -> PoolView:
    g = np.random.default_rng(seed)
    return make_view(g.normal(size=(n_pool, d)), g.normal(size=(n_labelled, d)), g.random(n_pool))


def blobs(n_blobs: int, per_blob: int, d: int = 3, seed: int = 0, spread: float = 0.1):
    """``n_blobs`` tight blobs whose centres are 100 apart; returns (X, blob id of each row)."""
    g = np.random.default_rng(seed)
    centres = 100.0 * np.eye(max(n_blobs, d))[:n_blobs, :d] if n_blobs <= d else g.normal(0, 100, (n_blobs, d))
    blob = np.repeat(np.arange(n_blobs), per_blob)
    return centres[blob] + spread * g.normal(size=(len(blob), d)), blob


def test_registry_lists_the_built_in_strategies_first_in_order():
    assert NAMES[:6] == ["random", "uncertainty", "diversity", "hybrid", "kcenter", "cluster_uncertainty"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("labelled", [10, 0])
def test_returns_n_unique_positions_in_range(name, labelled):
    view = random_view(n_labelled=labelled)
    picked = STRATEGIES.get(name)(view, 7, np.random.default_rng(3))
    assert picked.shape == (7,)
    assert len(set(picked.tolist())) == 7
    assert picked.min() >= 0 and picked.max() < view.n_pool
    np.testing.assert_array_equal(select(name, view, 7, np.random.default_rng(3)), picked)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_batch(name):
    view = random_view(seed=1)
    first = select(name, view, 9, np.random.default_rng(42))
    again = select(name, view, 9, np.random.default_rng(42))
    np.testing.assert_array_equal(first, again)


def test_random_depends_on_the_seed():
    view = random_view()
    one, other = (select("random", view, 9, np.random.default_rng(seed)) for seed in (1, 2))
    assert not np.array_equal(one, other)


@pytest.mark.parametrize("name", NAMES)
def test_can_take_the_whole_pool(name):
    view = random_view(n_pool=12)
    assert sorted(select(name, view, 12, np.random.default_rng(0)).tolist()) == list(range(12))


@pytest.mark.parametrize("name", NAMES)
def test_batch_larger_than_pool_is_a_clear_error(name):
    view = random_view(n_pool=5)
    with pytest.raises(ValueError, match="pool holds only 5"):
        select(name, view, 6, np.random.default_rng(0))
    with pytest.raises(ValueError, match="between 1 and the pool size 5"):
        STRATEGIES.get(name)(view, 6, np.random.default_rng(0))


@pytest.mark.parametrize("name", ["uncertainty", "hybrid", "cluster_uncertainty"])
def test_bad_std_is_a_clear_error(name):
    view = random_view()
    wrong_shape = make_view(view.X_pool, view.X_labelled, view.std[:-1])
    with pytest.raises(ValueError, match=r"view.std must have shape \(120,\)"):
        select(name, wrong_shape, 3, np.random.default_rng(0))
    with_nan = make_view(view.X_pool, view.X_labelled, np.where(np.arange(120) == 4, np.nan, view.std))
    with pytest.raises(ValueError, match="NaN"):
        select(name, with_nan, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="negative"):
        select(name, make_view(view.X_pool, view.X_labelled, -view.std), 3, np.random.default_rng(0))


@pytest.mark.parametrize("name", DISTANCE_BASED + ["cluster_uncertainty"])
def test_bad_descriptors_are_a_clear_error(name):
    view = random_view()
    with pytest.raises(ValueError, match=r"X_labelled must have shape \(n_labelled, 4\)"):
        select(name, make_view(view.X_pool, np.ones((3, 5)), view.std), 3, np.random.default_rng(0))
    X_bad = view.X_pool.copy()
    X_bad[2, 1] = np.inf
    with pytest.raises(ValueError, match="X_pool contains NaN or infinite"):
        select(name, make_view(X_bad, view.X_labelled, view.std), 3, np.random.default_rng(0))


@pytest.mark.parametrize("alpha", [-0.1, 1.5, "half", None])
def test_hybrid_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha must be"):
        select("hybrid", random_view(), 3, np.random.default_rng(0), alpha=alpha)


def test_unknown_option_is_rejected():
    with pytest.raises(TypeError, match="alhpa"):
        select("hybrid", random_view(), 3, np.random.default_rng(0), alhpa=0.3)


def test_uncertainty_takes_the_top_std_with_ties_by_position():
    std = np.array([0.1, 0.9, 0.5, 0.9, 0.2, 0.7])
    view = make_view(np.arange(12.0).reshape(6, 2), std=std)
    np.testing.assert_array_equal(select("uncertainty", view, 3, np.random.default_rng(0)), [1, 3, 5])


def test_kcenter_first_pick_is_the_farthest_from_the_labelled_set():
    X_pool = np.array([[1.0, 0.0], [0.0, 3.0], [-2.0, 0.0], [10.0, 10.0], [0.5, 0.5], [0.0, 2.9]])
    view = make_view(X_pool, X_labelled=np.array([[0.0, 0.0], [9.0, 9.0]]))
    picked = select("kcenter", view, 2, np.random.default_rng(0))
    assert picked[0] == 1  # distance 3 beats 2.9 (row 5), 2 (row 2) and sqrt(2) (row 3)
    assert picked[1] == 2  # row 5 is now 0.1 from the chosen row 1, so row 2 (distance 2) is the farthest left


def test_kcenter_with_nothing_labelled_starts_from_the_centre():
    X_pool = np.array([[-5.0, 0.0], [0.1, 0.0], [5.0, 0.0], [0.0, 4.0], [0.0, -4.0]])
    picked = select("kcenter", make_view(X_pool), 3, np.random.default_rng(0))
    assert picked[0] == 1
    assert set(picked[1:].tolist()) <= {0, 2}


@pytest.mark.parametrize("name", DISTANCE_BASED)
def test_distance_strategies_skip_pool_copies_of_labelled_points(name):
    X, _ = blobs(3, 30, seed=4, spread=1.0)
    labelled = X[[0, 1, 30, 31, 60, 61]]
    pool = np.vstack([X, labelled + 1e-9])  # the last 6 pool rows duplicate labelled structures
    view = make_view(pool, labelled, std=np.ones(len(pool)))
    picked = select(name, view, 6, np.random.default_rng(0))
    assert not set(picked.tolist()) & (set(range(len(X), len(pool))) | {0, 1, 30, 31, 60, 61})


def test_diversity_takes_one_point_per_separated_blob():
    X, blob = blobs(5, 40, d=5, seed=1)
    view = make_view(X, X_labelled=X[[3]] + 0.01)
    picked = select("diversity", view, 5, np.random.default_rng(7))
    assert sorted(blob[picked].tolist()) == [0, 1, 2, 3, 4]


def test_diversity_with_nothing_labelled_takes_each_blob_once():
    X, blob = blobs(4, 25, d=4, seed=2)
    picked = select("diversity", make_view(X), 4, np.random.default_rng(0))
    assert sorted(blob[picked].tolist()) == [0, 1, 2, 3]


def test_diversity_with_nothing_labelled_starts_from_the_member_nearest_its_centre():
    X = np.random.default_rng(9).normal(size=(50, 3))
    picked = select("diversity", make_view(X), 1, np.random.default_rng(0))  # one cluster: its centre is the mean
    assert picked[0] == np.argmin(np.linalg.norm(X - X.mean(axis=0), axis=1))


def test_diversity_takes_the_member_farthest_from_the_labelled_set():
    X, _ = blobs(2, 20, d=2, seed=3, spread=1.0)
    labelled = np.array([[100.0, 0.0], [0.0, 100.0]])  # the two blob centres
    picked = select("diversity", make_view(X, labelled), 2, np.random.default_rng(0))
    distances = cdist(X, labelled).min(axis=1)
    for members in (np.arange(20), np.arange(20, 40)):
        assert members[np.argmax(distances[members])] in picked


@pytest.mark.parametrize("name", ["diversity", "cluster_uncertainty"])
def test_cluster_strategies_fill_when_clusters_are_empty(name):
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 4, axis=0)  # 3 distinct rows, asked for 5
    std = np.linspace(0.0, 1.0, len(X))
    picked = select(name, make_view(X, np.array([[1.0, 1.0]]), std), 5, np.random.default_rng(0))
    assert len(set(picked.tolist())) == 5


def test_cluster_uncertainty_takes_the_most_uncertain_point_of_each_blob():
    X, blob = blobs(3, 30, seed=5)
    std = np.random.default_rng(0).random(len(X))
    std[blob == 0] *= 5.0  # a global top-k would take blob 0 only
    view = make_view(X, X[[0]], std)
    picked = select("cluster_uncertainty", view, 3, np.random.default_rng(0))
    expected = {int(np.flatnonzero(blob == b)[np.argmax(std[blob == b])]) for b in range(3)}
    assert set(picked.tolist()) == expected


@pytest.mark.parametrize("labelled", [10, 0])
def test_hybrid_limits_are_uncertainty_and_kcenter(labelled):
    view = random_view(seed=6, n_labelled=labelled)
    rng = np.random.default_rng
    np.testing.assert_array_equal(
        select("hybrid", view, 8, rng(0), alpha=1.0), select("uncertainty", view, 8, rng(0))
    )
    np.testing.assert_array_equal(select("hybrid", view, 8, rng(0), alpha=0.0), select("kcenter", view, 8, rng(0)))


def test_hybrid_balances_uncertainty_against_distance():
    X_pool = np.array([[0.1, 0.0], [5.0, 0.0], [2.0, 0.0]])
    view = make_view(X_pool, np.zeros((1, 2)), std=np.array([1.0, 0.0, 0.8]))
    # scores 0.5 * std_n + 0.5 * distance / 5: row 0 -> 0.51, row 1 -> 0.5, row 2 -> 0.6
    assert select("hybrid", view, 1, np.random.default_rng(0), alpha=0.5)[0] == 2


def test_min_distances_matches_scipy_across_chunks(monkeypatch):
    g = np.random.default_rng(0)
    X, Y = g.normal(size=(500, 6)), g.normal(size=(37, 6))
    monkeypatch.setattr(geometry_module, "CHUNK_BYTES", 4 * 37 * 16)  # 16 rows per chunk
    np.testing.assert_allclose(min_distances(X, Y), cdist(X, Y).min(axis=1), rtol=1e-4, atol=1e-3)
    assert np.isinf(min_distances(X, np.empty((0, 6)))).all()


def test_min_distances_never_holds_the_full_distance_matrix(monkeypatch):
    g = np.random.default_rng(0)
    X = g.normal(size=(20_000, 20)).astype(np.float32)
    Y = g.normal(size=(2_000, 20)).astype(np.float32)  # a dense 20 000 × 2 000 float32 matrix would be 160 MB
    monkeypatch.setattr(geometry_module, "CHUNK_BYTES", 2**20)
    tracemalloc.start()
    try:
        min_distances(X, Y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_kmeans_minibatch_path_recovers_blobs():
    X, blob = blobs(3, 50, seed=8)
    labels, centres = kmeans(X.astype(np.float32), 3, np.random.default_rng(0), minibatch_above=10)
    assert centres.shape == (3, 3)
    assert len({(b, lab) for b, lab in zip(blob, labels, strict=True)}) == 3


CLUSTERED = [s.name for s in STRATEGIES.specs() if "k" in s.option_names()]
rng = np.random.default_rng


def test_diversity_type_strategies_expose_k():
    assert {"diversity", "cluster_uncertainty"} <= set(CLUSTERED)


@pytest.mark.parametrize("name", CLUSTERED)
def test_k_none_is_the_batch_size(name):
    view = random_view(seed=2)
    np.testing.assert_array_equal(select(name, view, 7, rng(5)), select(name, view, 7, rng(5), k=7))
    np.testing.assert_array_equal(select(name, view, 7, rng(5)), select(name, view, 7, rng(5), k=None))


@pytest.mark.parametrize("name", CLUSTERED)
def test_fewer_clusters_than_picks_go_round_robin(name):
    X, blob = blobs(3, 20, seed=1)
    std = np.random.default_rng(0).random(len(X))
    picked = select(name, make_view(X, std=std), 6, rng(0), k=3)
    assert sorted(np.bincount(blob[picked], minlength=3).tolist()) == [2, 2, 2]
    if name == "cluster_uncertainty":  # each visit takes the cluster's most uncertain member not yet picked
        for b in range(3):
            members = np.flatnonzero(blob == b)
            assert set(picked[blob[picked] == b]) == set(members[np.argsort(-std[members])[:2]])


@pytest.mark.parametrize("name", CLUSTERED)
def test_more_clusters_than_picks_use_the_largest(name):
    X, blob = blobs(4, 1, d=4, seed=2)
    sizes = [30, 20, 10, 5]
    X = np.concatenate([X[b] + 0.1 * np.random.default_rng(b).normal(size=(s, 4)) for b, s in enumerate(sizes)])
    blob = np.repeat(np.arange(4), sizes)
    picked = select(name, make_view(X), 2, rng(0), k=4)
    assert sorted(blob[picked].tolist()) == [0, 1]


@pytest.mark.parametrize("name", CLUSTERED)
@pytest.mark.parametrize("k", [0, -1, True, 2.5, "3", 121])
def test_k_must_be_a_cluster_count_the_pool_can_hold(name, k):
    with pytest.raises(ValueError, match="option k must be"):
        select(name, random_view(), 3, rng(0), k=k)
