"""The Learn page's computations (alcore.lessons) and its pure figures, on a small synthetic problem."""

from __future__ import annotations

import numpy as np
import pytest

from alcore.lessons import (
    committee_snapshot,
    disagreement_bins,
    learning_curves,
    lesson_config,
    lesson_strategies,
    pick_summary,
    strategy_picks,
)
from alcore.loop import start, step
from alcore.strategies import STRATEGIES
from tests.synthetic import synthetic_problem
from ui.figures.learn import (
    disagreement_map_figure,
    disagreement_vs_error_figure,
    learning_curve_figure,
    members_vs_truth_figure,
    pick_order_figure,
    picks_grid_figure,
)


@pytest.fixture(scope="module")
def lesson():
    config, problem = synthetic_problem(n=300, seed=3)
    return config, problem, committee_snapshot(problem, config)


def test_lesson_config_is_the_paper_protocol():
    config = lesson_config("Si", seed=4)
    assert (config.dataset, config.seed, config.n_initial, config.batch_size) == ("Si", 4, 30, 15)
    assert config.committee_params["n_members"] == 5


def test_snapshot_is_round_zero_of_the_loop(lesson):
    config, problem, snap = lesson
    first = step(start(config, problem)).rounds[0]
    np.testing.assert_array_equal(snap.labelled, problem.split.initial)
    np.testing.assert_array_equal(snap.pool, first.pool)
    np.testing.assert_allclose(snap.pool_std, first.pool_std, rtol=1e-6)
    np.testing.assert_allclose(snap.test_mean, first.test_mean, rtol=1e-6)
    n_members = config.committee_params["n_members"]
    assert snap.test_members.shape == (n_members, len(problem.split.test))
    assert not set(snap.pool) & set(snap.labelled) and not set(snap.pool) & set(snap.test)


def test_snapshot_is_deterministic(lesson):
    config, problem, snap = lesson
    again = committee_snapshot(problem, config)
    np.testing.assert_array_equal(again.test_members, snap.test_members)
    np.testing.assert_array_equal(again.pool_std, snap.pool_std)


def test_disagreement_and_error_are_consistent(lesson):
    _, _, snap = lesson
    np.testing.assert_allclose(snap.test_std, snap.test_members.std(axis=0))
    np.testing.assert_allclose(snap.abs_error, np.abs(snap.test_members.mean(axis=0) - snap.y_test))
    assert -1.0 <= snap.spearman <= 1.0


@pytest.mark.parametrize("name", lesson_strategies())
@pytest.mark.parametrize("options", ["default", "changed"])
def test_picks_are_what_the_loop_selects_first(lesson, name, options):
    config, problem, snap = lesson
    spec = STRATEGIES.spec(name)
    params = {o.name: o.example() for o in spec.options} if options == "changed" else {}
    picks = strategy_picks(problem, snap, config, [name], strategy_params={name: params})
    selected = step(start(config.replace(strategy=name, strategy_params=params), problem)).rounds[0].selected
    np.testing.assert_array_equal(picks[name], selected)
    assert len(picks[name]) == config.batch_size and set(picks[name]) <= set(snap.pool)


def test_hybrid_alpha_moves_between_kcenter_and_uncertainty(lesson):
    config, problem, snap = lesson
    at_one = strategy_picks(problem, snap, config, ["hybrid", "uncertainty"], strategy_params={"hybrid": {"alpha": 1}})
    at_zero = strategy_picks(problem, snap, config, ["hybrid", "kcenter"], strategy_params={"hybrid": {"alpha": 0}})
    assert set(at_one["hybrid"]) == set(at_one["uncertainty"])
    assert set(at_zero["hybrid"]) == set(at_zero["kcenter"])
    assert set(at_one["hybrid"]) != set(at_zero["hybrid"])


def test_unknown_strategy_is_named(lesson):
    config, problem, snap = lesson
    with pytest.raises(ValueError, match="no_such"):
        strategy_picks(problem, snap, config, ["no_such"])


def test_pick_summary_shows_uncertainty_chasing_disagreement(lesson):
    config, problem, snap = lesson
    picks = strategy_picks(problem, snap, config)
    table = pick_summary(problem, snap, picks).set_index("strategy")
    assert list(table.index) == lesson_strategies() == STRATEGIES.names()  # every spec has a lesson
    assert table.loc["random", "spread"] == pytest.approx(1.0)
    assert table.loc["uncertainty", "disagreement"] > table.loc["random", "disagreement"]
    assert table.loc["uncertainty", "disagreement"] == table["disagreement"].max()
    assert table.loc["kcenter", "spread"] > table.loc["uncertainty", "spread"]


def test_disagreement_bins_average_error_per_band():
    std = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    error = np.array([1.0, 3.0, 5.0, 7.0, 9.0, 11.0])
    bins = disagreement_bins(std[::-1], error[::-1], n_bins=3)
    assert bins["n"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(bins["mean_abs_error"], [2.0, 6.0, 10.0])
    np.testing.assert_allclose(bins["std"], [0.15, 0.35, 0.55])


@pytest.mark.parametrize(("std", "error", "n_bins"), [(np.ones(4), np.ones(3), 2), (np.ones(4), np.ones(4), 5)])
def test_disagreement_bins_rejects_bad_input(std, error, n_bins):
    with pytest.raises(ValueError):
        disagreement_bins(std, error, n_bins=n_bins)


def test_learning_curves_are_short_and_paired():
    config, problem = synthetic_problem(n=200, seed=1, budget=200)
    results = learning_curves(problem, config, ("random", "kcenter"), n_rounds=3, n_seeds=2)
    assert [(r.strategy, r.seed) for r in results] == [("random", 0), ("random", 1), ("kcenter", 0), ("kcenter", 1)]
    for r in results:
        assert r.n_labels.tolist() == [20, 30, 40]
    by = {(r.strategy, r.seed): r for r in results}
    for seed in (0, 1):  # same starting set, same first committee, so the first round is identical
        assert by["random", seed].mae[0] == by["kcenter", seed].mae[0]
    with pytest.raises(ValueError, match="n_rounds"):
        learning_curves(problem, config, n_rounds=0)


def test_figures_draw_every_piece(lesson):
    config, problem, snap = lesson
    embedding = np.asarray(problem.X[:, :2], dtype=np.float32)
    picks = strategy_picks(problem, snap, config)
    n_members = snap.test_members.shape[0]
    assert len(members_vs_truth_figure(snap).data) == n_members + 2
    bins = disagreement_bins(snap.test_std, snap.abs_error)
    assert len(disagreement_vs_error_figure(snap, bins).data) == 2
    assert len(disagreement_map_figure(embedding, snap).data) == 2
    grid = picks_grid_figure(embedding, snap, picks)
    assert len(grid.data) == 3 * len(picks)
    assert [a.text for a in grid.layout.annotations] == list(picks)
    order = pick_order_figure(embedding, snap, picks["kcenter"], "kcenter")
    assert list(order.data[-1].text) == [str(i) for i in range(1, config.batch_size + 1)]
    results = learning_curves(problem, config, ("random", "diversity"), n_rounds=2, n_seeds=2)
    curve = learning_curve_figure(results)
    assert len(curve.data) == 2 * (2 + 1)
