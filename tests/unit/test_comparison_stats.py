"""Comparison statistics on hand-made curves, and the grid runner (serial == parallel)."""

import numpy as np
import pytest

from alcore.comparison.grid import RunResult, run_grid
from alcore.comparison.stats import aulc, labels_to_reach, summarise
from tests.synthetic import synthetic_problem


def _result(strategy, seed, mae):
    mae = np.asarray(mae, dtype=float)
    n = np.arange(30, 30 + 15 * len(mae), 15)
    z = np.zeros(len(mae))
    return RunResult(strategy, seed, n, mae, mae, z, z, (), 0.0, 0.0)


def test_labels_to_reach_interpolates_linearly():
    n = np.array([30, 45, 60])
    assert labels_to_reach(n, np.array([1.0, 0.6, 0.2]), 0.4) == pytest.approx(52.5)
    assert labels_to_reach(n, np.array([1.0, 0.6, 0.2]), 1.5) == 30.0
    assert labels_to_reach(n, np.array([1.0, 0.9, 0.8]), 0.5) is None


def test_aulc_is_a_mean_mae_over_the_label_range():
    n = np.array([30, 45, 60])
    assert aulc(n, np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert aulc(n, np.array([1.0, 0.5, 0.0])) == pytest.approx(0.5)


def test_summary_against_random():
    results = [_result("random", s, [1.0, 0.8, 0.6 + 0.01 * s]) for s in range(5)]
    results += [_result("diversity", s, [1.0, 0.6, 0.5 + 0.01 * s]) for s in range(5)]
    summary = summarise(results)
    rnd, div = summary["random"], summary["diversity"]
    assert rnd.improvement_pct == pytest.approx(0.0)
    assert rnd.p_value is None and rnd.n_runs == 5
    assert div.final_mae_mean == pytest.approx(0.52)
    assert div.improvement_pct == pytest.approx((0.62 - 0.52) / 0.62 * 100)
    # diversity's mean curve (1.0, 0.6, 0.52) reaches random's final 0.62 between 30 and 45 labels
    assert div.labels_to_target == pytest.approx(30 + (1.0 - 0.62) / 0.4 * 15)
    assert rnd.labels_to_target == pytest.approx(60.0)
    assert div.labels_saved_pct > 0
    assert div.p_value == pytest.approx(0.0079, abs=1e-3)  # 5 vs 5, complete separation
    assert div.p_value_paired is not None and div.aulc < rnd.aulc


def test_summary_without_random_has_no_relative_numbers():
    summary = summarise([_result("kcenter", s, [1.0, 0.5]) for s in range(3)])
    assert summary["kcenter"].improvement_pct is None and summary["kcenter"].p_value is None


def test_grid_is_identical_serial_and_parallel():
    config, problem = synthetic_problem(budget=40)
    serial = run_grid(config, problem, ["random", "diversity"], [0, 1], n_jobs=1)
    parallel = run_grid(config, problem, ["random", "diversity"], [0, 1], n_jobs=2)
    assert [(r.strategy, r.seed) for r in serial] == [("random", 0), ("random", 1), ("diversity", 0), ("diversity", 1)]
    for a, b in zip(serial, parallel, strict=True):
        assert np.array_equal(a.mae, b.mae)
        assert all(np.array_equal(x, y) for x, y in zip(a.selected, b.selected, strict=True))
    # paired: both strategies start from the same initial set, so round-0 MAEs agree per seed
    assert serial[0].mae[0] == serial[2].mae[0]
