"""The Compare page's computational side: cache key, on-disk cache, exports and confidence bands."""

import json
import logging
import warnings

import numpy as np
import pytest
from scipy import stats

from alcore.comparison import cache as comparison
from alcore.comparison.cache import ComparisonRequest, cache_path, load_results, run_comparison, save_results
from alcore.comparison.grid import RunResult
from alcore.comparison.stats import band_limits, curve_bands
from alcore.comparison.tables import CURVE_COLUMNS, curves_frame, summary_frame
from alcore.config import RunConfig
from alcore.splits import max_labels
from tests.synthetic import synthetic_problem

FAST = {"n_members": 2, "hidden": [8], "epochs": 15}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCORE_CACHE_DIR", str(tmp_path))
    return tmp_path


def _result(strategy, seed, mae, spearman=None):
    mae = np.asarray(mae, dtype=float)
    n = np.arange(30, 30 + 15 * len(mae), 15)
    rho = np.full(len(mae), 0.3) if spearman is None else np.asarray(spearman, dtype=float)
    selected = tuple(np.arange(3) + 10 * i for i in range(len(mae) - 1)) + (np.empty(0, dtype=np.int64),)
    return RunResult(strategy, seed, n, mae, mae * 1.3, rho, mae / 2, selected, 1.5, 0.25)


def _request(**changes):
    options = dict(strategies=("random", "hybrid"), seeds=(0, 1), dataset_fingerprint="abc123",
                   strategy_params={"hybrid": {"alpha": 0.5}})
    base = changes.pop("base", RunConfig(dataset="TiO2", committee_params=dict(FAST), budget=60))
    options.update(changes)
    return ComparisonRequest.create(base, **options)


def test_key_is_stable_and_changes_with_every_setting():
    key = _request().key()
    assert _request().key() == key
    base = RunConfig(dataset="TiO2", committee_params=dict(FAST), budget=60)
    variants = [
        _request(strategies=("random", "uncertainty")),
        _request(strategies=("hybrid", "random")),
        _request(seeds=(0, 2)),
        _request(dataset_fingerprint="abc124"),
        _request(strategy_params={"hybrid": {"alpha": 0.7}}),
        _request(base=base.replace(budget=75)),
        _request(base=base.replace(n_initial=20)),
        _request(base=base.replace(batch_size=10)),
        _request(base=base.replace(target="formation_energy_per_atom")),
        _request(base=base.replace(descriptor="soap")),
        _request(base=base.replace(committee_params=FAST | {"epochs": 16})),
        _request(base=base.replace(committee_params=FAST | {"n_members": 3})),
        _request(base=base.replace(test_fraction=0.25)),
        _request(base=base.replace(split_seed=1)),
    ]
    keys = {v.key() for v in variants}
    assert key not in keys and len(keys) == len(variants)


def test_key_ignores_what_does_not_change_results():
    base = RunConfig(dataset="TiO2", committee_params=dict(FAST), budget=60)
    key = _request(base=base).key()
    # the dataset's name is a label (the fingerprint is its content); run_grid sets strategy and seed per run
    assert _request(base=base.replace(dataset="upload:TiO2", strategy="kcenter", seed=7)).key() == key
    # params of a strategy that is not compared do not matter
    only_random = dict(strategies=("random",), strategy_params={"hybrid": {"alpha": 0.9}})
    assert _request(**only_random).key() == _request(**only_random | {"strategy_params": {}}).key()


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"strategies": ()}, "at least one strategy"),
        ({"strategies": ("random", "random")}, "each strategy once"),
        ({"strategies": ("random", "nope")}, "unknown"),
        ({"seeds": ()}, "at least one seed"),
        ({"seeds": (0, -1)}, "non-negative"),
        ({"dataset_fingerprint": ""}, "fingerprint"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(changes, problem):
    with pytest.raises(ValueError, match=problem):
        _request(**changes)


def test_cache_round_trip_keeps_every_field(cache):
    request = _request()
    results = [_result(s, seed, [1.0, 0.5 + seed, 0.25], spearman=[np.nan, 0.2, 0.4])
               for s in request.strategies for seed in request.seeds]
    path = save_results(request, results, compute_seconds=12.5)
    assert path == cache_path(request) and path.parent == cache / "comparisons"
    loaded = load_results(request)
    assert loaded.from_cache and loaded.compute_seconds == 12.5 and loaded.key == request.key()
    for got, want in zip(loaded.results, results, strict=True):
        assert (got.strategy, got.seed, got.fit_seconds, got.select_seconds) == (want.strategy, want.seed, 1.5, 0.25)
        for field in ("n_labels", "mae", "rmse", "spearman", "mean_pool_std"):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
        assert [s.tolist() for s in got.selected] == [s.tolist() for s in want.selected]
    assert load_results(_request(seeds=(0, 2))) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: "not json",
        lambda text: json.dumps(json.loads(text) | {"runs": json.loads(text)["runs"][:1]}),
        lambda text: json.dumps(json.loads(text) | {"key": "other"}),
        lambda text: text.replace('"mae": [', '"mae": [1.0, '),
    ],
    ids=["truncated", "garbage", "missing-runs", "other-key", "ragged-curve"],
)
def test_damaged_cache_file_is_ignored_with_a_warning_and_recomputed(cache, caplog, damage):
    config, problem = synthetic_problem(committee_params=FAST, budget=40)
    request = ComparisonRequest.create(config, ["random"], [0, 1], problem.dataset_fingerprint)
    path = save_results(request, [_result("random", seed, [9.0, 9.0]) for seed in (0, 1)], compute_seconds=1.0)
    assert load_results(request).results[1].mae.tolist() == [9.0, 9.0]
    path.write_text(damage(path.read_text()))
    with caplog.at_level(logging.WARNING, logger="alcore.comparison.cache"):
        assert load_results(request) is None
        again = run_comparison(request, problem, n_jobs=1)
    assert "damaged comparison cache" in caplog.text and str(path) in caplog.text
    assert not again.from_cache
    assert again.results[1].n_labels.tolist() == [20, 30, 40]  # really recomputed
    reloaded = load_results(request)  # the recomputed results replaced the damaged file
    assert reloaded.from_cache
    np.testing.assert_array_equal(reloaded.results[1].mae, again.results[1].mae)


def test_run_comparison_computes_once_then_reads_the_cache(cache, monkeypatch):
    config, problem = synthetic_problem(committee_params=FAST, budget=40)
    request = ComparisonRequest.create(config, ["random", "uncertainty"], [0, 1], problem.dataset_fingerprint)
    calls = []
    first = run_comparison(request, problem, n_jobs=1, progress=lambda k, n: calls.append((k, n)))
    assert not first.from_cache and calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [(r.strategy, r.seed) for r in first.results] == [(s, i) for s in ("random", "uncertainty") for i in (0, 1)]

    monkeypatch.setattr(comparison, "run_grid", lambda *a, **k: pytest.fail("the cached result was recomputed"))
    second = run_comparison(request, problem, n_jobs=1)
    assert second.from_cache
    for a, b in zip(first.results, second.results, strict=True):
        np.testing.assert_array_equal(a.mae, b.mae)
        np.testing.assert_array_equal(a.spearman, b.spearman)


def test_run_comparison_refuses_a_problem_of_another_dataset(cache):
    config, problem = synthetic_problem(committee_params=FAST, budget=40)
    request = ComparisonRequest.create(config, ["random"], [0], "another-dataset")
    with pytest.raises(ValueError, match="not the requested one"):
        run_comparison(request, problem, n_jobs=1)


def test_exception_from_progress_cancels_the_worker_processes_and_caches_nothing(cache):
    """How the page's Cancel works: Streamlit raises inside the progress update; the grid must stop, not finish."""
    config, problem = synthetic_problem(committee_params=FAST | {"epochs": 40}, budget=60)
    request = ComparisonRequest.create(config, ["random", "uncertainty"], [0, 1, 2], problem.dataset_fingerprint)

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Cancelled):
            run_comparison(request, problem, n_jobs=2, progress=cancel)
    # joblib reports the tasks it dropped when its result generator is closed early
    assert any("cancelled" in str(w.message) or "not used" in str(w.message) for w in caught)
    assert not cache_path(request).exists()


def test_curves_frame_is_long_format_in_result_order():
    results = [_result("random", 0, [0.3, 0.2]), _result("uncertainty", 0, [0.3, 0.1, 0.05])]
    frame = curves_frame(results)
    assert tuple(frame.columns) == CURVE_COLUMNS
    assert len(frame) == 5
    assert frame["strategy"].tolist() == ["random"] * 2 + ["uncertainty"] * 3
    assert frame["n_labels"].tolist() == [30, 45, 30, 45, 60]
    np.testing.assert_allclose(frame["rmse"], np.array([0.3, 0.2, 0.3, 0.1, 0.05]) * 1.3)
    assert tuple(curves_frame([]).columns) == CURVE_COLUMNS


def test_summary_frame_scales_errors_and_leaves_missing_statistics_empty():
    results = [_result("random", s, [1.0, 0.8, 0.6 + 0.01 * s]) for s in range(3)]
    results += [_result("diversity", s, [1.0, 0.6, 0.5 + 0.01 * s]) for s in range(3)]
    table = summary_frame(results, unit="meV/atom", scale=1000.0).set_index("strategy")
    assert table.loc["diversity", "final MAE (meV/atom)"] == pytest.approx(510.0)
    assert table.loc["diversity", "std (meV/atom)"] == pytest.approx(10.0)
    assert table.loc["diversity", "vs random (%)"] == pytest.approx((0.61 - 0.51) / 0.61 * 100)
    assert table.loc["diversity", "runs"] == 3
    assert np.isnan(table.loc["random", "p Mann-Whitney"])
    assert 0.0 < table.loc["diversity", "p Mann-Whitney"] <= 1.0
    no_baseline = summary_frame(results[3:])
    assert no_baseline["vs random (%)"].isna().all()


def test_std_band_is_mean_plus_minus_sample_std():
    values = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    mean, lower, upper, n = band_limits(values, "std")
    np.testing.assert_allclose(mean, [3.0, 2.0])
    np.testing.assert_allclose(upper - mean, [2.0, 0.0])
    np.testing.assert_allclose(mean - lower, [2.0, 0.0])
    assert n.tolist() == [3, 3]


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_ci_band_is_scipys_t_interval(rng, level):
    values = rng.normal(0.1, 0.02, size=(5, 4))
    mean, lower, upper, _ = band_limits(values, "ci95", level=level)
    for j in range(values.shape[1]):
        ci = stats.ttest_1samp(values[:, j], 0.0).confidence_interval(confidence_level=level)
        assert lower[j] == pytest.approx(ci.low) and upper[j] == pytest.approx(ci.high)
        assert mean[j] == pytest.approx(values[:, j].mean())


def test_bands_ignore_nan_and_have_no_width_for_a_single_run():
    values = np.array([[0.2, np.nan, np.nan], [0.4, 0.5, np.nan]])
    mean, lower, upper, n = band_limits(values, "ci95")
    assert n.tolist() == [2, 1, 0]
    assert mean[1] == lower[1] == upper[1] == 0.5
    assert np.isnan([mean[2], lower[2], upper[2]]).all()
    with pytest.raises(ValueError, match="band"):
        band_limits(values, "iqr")


def test_curve_bands_per_strategy_and_metric():
    results = [_result("random", s, [1.0, 0.8 + 0.1 * s]) for s in range(2)] + [_result("kcenter", 0, [1.0, 0.5])]
    bands = curve_bands(results, "mae", "std")
    assert list(bands) == ["random", "kcenter"]
    np.testing.assert_allclose(bands["random"].mean, [1.0, 0.85])
    np.testing.assert_allclose(bands["random"].upper, [1.0, 0.85 + np.std([0.8, 0.9], ddof=1)])
    np.testing.assert_allclose(curve_bands(results, "mean_pool_std")["kcenter"].mean, [0.5, 0.25])
    with pytest.raises(ValueError, match="metric"):
        curve_bands(results, "r2")
    with pytest.raises(ValueError, match="label grid"):
        curve_bands(results + [_result("kcenter", 1, [1.0, 0.5, 0.4])])


def test_max_labels_is_everything_outside_the_test_split():
    assert max_labels(1000) == 800
    assert max_labels(1713) == 1713 - round(1713 * 0.2)
