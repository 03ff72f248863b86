"""Comparison statistics on hand-made curves, when labels saved is not a number, the p-value floors, and the grid
runner (serial == parallel)."""

from math import comb

import numpy as np
import pytest

from alcore.comparison import labels_saved as ls
from alcore.comparison.caveats import min_mann_whitney_p, min_wilcoxon_p, p_floor_text, whole_pool_warning
from alcore.comparison.grid import RunResult, run_grid
from alcore.comparison.stats import aulc, labels_to_reach, summarise
from alcore.comparison.tables import LABELS_SAVED_NOTE, summary_frame
from tests.synthetic import synthetic_problem


def _result(strategy, seed, mae, selected=()):
    mae = np.asarray(mae, dtype=float)
    n = np.arange(30, 30 + 15 * len(mae), 15)
    z = np.zeros(len(mae))
    return RunResult(strategy, seed, n, mae, mae, z, z, tuple(np.asarray(s) for s in selected), 0.0, 0.0)


def test_labels_to_reach_interpolates_linearly():
    n = np.array([30, 45, 60])
    assert labels_to_reach(n, np.array([1.0, 0.6, 0.2]), 0.4) == pytest.approx(52.5)
    assert labels_to_reach(n, np.array([1.0, 0.6, 0.2]), 1.5) == 30.0
    assert labels_to_reach(n, np.array([1.0, 0.9, 0.8]), 0.5) is None


def test_labels_to_reach_forgives_rounding_and_takes_an_explicit_tolerance():
    n = np.array([30, 45, 60])
    curve = np.stack([[1.5, 1.2, 0.7]] * 10).mean(axis=0)  # 0.7000000000000001: the mean of ten 0.7s, by column
    assert curve[-1] > 0.7 and labels_to_reach(n, curve, 0.7, rtol=0.0) is None  # the old exact comparison
    assert labels_to_reach(n, curve, 0.7) == pytest.approx(60.0)
    # within 50 % of 0.4 = at most 0.6: reached exactly at the second round
    assert labels_to_reach(n, np.array([1.0, 0.6, 0.2]), 0.4, rtol=0.5) == pytest.approx(45.0)
    with pytest.raises(ValueError, match="rtol"):
        labels_to_reach(n, curve, 0.7, rtol=-0.1)


def test_random_reaches_its_own_final_mean_despite_rounding():
    results = [_result("random", s, [1.5, 1.2, 0.7]) for s in range(10)]
    results += [_result("diversity", s, [1.5, 0.9, 0.6]) for s in range(10)]
    summary = summarise(results)
    assert summary["random"].labels_to_target == pytest.approx(60.0)
    assert summary["random"].labels_saved_pct == pytest.approx(0.0)
    assert summary["diversity"].labels_saved_pct > 0 and summary["diversity"].labels_saved_note is None


def _picks(seed, strategy_offset, whole):
    """Per-round picks of a run: the same pool rows for every strategy when ``whole``, else strategy-specific."""
    rows = np.arange(30) + (0 if whole else 100 * strategy_offset) + 1000 * seed
    return [rows[:15], rows[15:], np.empty(0, dtype=int)]


def test_labels_saved_is_not_comparable_when_every_strategy_ends_on_the_same_labelled_set():
    def runs(whole):
        out = [_result("random", s, [1.0, 0.8, 0.6 + 0.01 * s], _picks(s, 0, whole)) for s in range(5)]
        return out + [_result("diversity", s, [1.0, 0.6, 0.5 + 0.01 * s], _picks(s, 1, whole)) for s in range(5)]

    whole = summarise(runs(whole=True))
    for s in whole.values():
        assert s.labels_saved_pct is None and s.labels_saved_note == ls.WHOLE_POOL
    assert whole["diversity"].improvement_pct > 0  # still a number: the warning says what it is worth
    assert whole["diversity"].labels_to_target is not None
    part = summarise(runs(whole=False))
    assert part["diversity"].labels_saved_pct > 0 and part["diversity"].labels_saved_note is None
    only_random = summarise([r for r in runs(whole=True) if r.strategy == "random"])
    assert only_random["random"].labels_saved_note is None  # nothing to compare with: no claim either way


def test_labels_saved_is_not_comparable_when_random_does_not_decrease():
    """Random flat within its noise: diversity's 2.7 % lower MAE must not become tens of % fewer labels."""
    results = [_result("random", s, [0.62 + 0.02 * (s - 2), 0.61 + 0.02 * (s - 2), 0.62 + 0.02 * (s - 2)])
               for s in range(5)]  # fmt: skip
    results += [_result("diversity", s, [0.62 + 0.02 * (s - 2), 0.60, 0.603]) for s in range(5)]
    summary = summarise(results)
    div = summary["diversity"]
    assert div.improvement_pct == pytest.approx(2.74, abs=0.01)
    assert div.labels_to_target is not None and div.labels_saved_pct is None
    assert div.labels_saved_note == ls.RANDOM_FLAT and summary["random"].labels_saved_note == ls.RANDOM_FLAT


def test_labels_saved_is_not_comparable_where_the_later_curve_is_already_flat():
    spread = [0.03 * (s - 2) for s in range(5)]  # random's finals: 0.62 ± 0.047, t-interval half-width 0.059
    results = [_result("random", s, [1.0, 0.7, 0.635, 0.62 + d]) for s, d in enumerate(spread)]
    results += [_result("diversity", s, [1.0, 0.66, 0.60, 0.55]) for s in range(5)]
    results += [_result("hybrid", s, [1.0, 0.5, 0.45, 0.44]) for s in range(5)]
    summary = summarise(results)
    # diversity reaches 0.62 at 55 labels, where random's mean (0.657) is already within 0.059 of it
    assert summary["diversity"].labels_to_target == pytest.approx(55.0)
    assert summary["diversity"].labels_saved_pct is None
    assert "random is already within noise of its final MAE at 55 labels" == summary["diversity"].labels_saved_note
    # hybrid reaches it where random is still far above: a number
    hybrid = summary["hybrid"]
    assert hybrid.labels_saved_note is None and hybrid.labels_saved_pct == pytest.approx(
        (summary["random"].labels_to_target - hybrid.labels_to_target) / summary["random"].labels_to_target * 100
    )


def test_labels_lost_are_not_comparable_where_the_later_curve_is_already_flat():
    spread = [0.03 * (s - 2) for s in range(5)]
    results = [_result("random", s, [1.0, 0.7, 0.60, 0.62 + d]) for s, d in enumerate(spread)]  # reaches at 57
    results += [_result("kcenter", s, [1.0, 0.68, 0.66, 0.61]) for s in range(5)]  # 72; 0.664 at 57 labels
    results += [_result("uncertainty", s, [1.0, 0.9, 0.65, 0.61]) for s in range(5)]  # 71.25; 0.70 at 57 labels
    summary = summarise(results)
    assert summary["random"].labels_to_target == pytest.approx(57.0)
    kcenter, uncertainty = summary["kcenter"], summary["uncertainty"]
    assert kcenter.labels_to_target == pytest.approx(72.0) and kcenter.labels_saved_pct is None
    assert kcenter.labels_saved_note == "this curve is already within noise of random's final MAE at 57 labels"
    assert uncertainty.labels_saved_note is None and uncertainty.labels_saved_pct == pytest.approx(-25.0)


def test_the_noise_is_the_t_interval_of_randoms_final_mean_and_at_least_the_tolerance():
    assert ls.target_noise([0.5, 0.5, 0.5]) == pytest.approx(0.5 * ls.RTOL)
    assert ls.target_noise([0.4]) == pytest.approx(0.4 * ls.RTOL)
    finals = np.array([0.5, 0.6, 0.7])
    assert ls.target_noise(finals) == pytest.approx(4.302653 * 0.1 / np.sqrt(3), rel=1e-6)


def test_saved_text_says_why_there_is_no_number():
    assert ls.saved_text(12.345, None, 80.0) == "+12.3"
    assert ls.saved_text(None, ls.WHOLE_POOL, 80.0) == f"not comparable ({ls.WHOLE_POOL})"
    assert ls.saved_text(None, None, None) == "not reached"


def test_summary_frame_explains_a_missing_labels_saved():
    flat = [_result("random", s, [0.62 + 0.02 * (s - 2)] * 3) for s in range(5)]
    flat += [_result("diversity", s, [0.62 + 0.02 * (s - 2), 0.60, 0.60]) for s in range(5)]
    table = summary_frame(flat).set_index("strategy")
    assert np.isnan(table.loc["diversity", "labels saved (%)"])
    assert table.loc["diversity", LABELS_SAVED_NOTE] == f"not comparable ({ls.RANDOM_FLAT})"
    never = [_result("random", s, [1.0, 0.8, 0.6]) for s in range(3)]
    never += [_result("uncertainty", s, [1.0, 0.9, 0.8]) for s in range(3)]
    table = summary_frame(never).set_index("strategy")
    assert table.loc["uncertainty", LABELS_SAVED_NOTE] == "not reached"
    assert table.loc["random", LABELS_SAVED_NOTE] == "" and table.loc["random", "labels saved (%)"] == 0.0
    assert (summary_frame(never[3:])[LABELS_SAVED_NOTE] == "").all()  # no random: nothing to explain


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
def test_p_value_floors_match_the_closed_forms(n):
    assert min_mann_whitney_p(n, n) == pytest.approx(2 / comb(2 * n, n))
    assert min_wilcoxon_p(n) == pytest.approx(2 / 2**n)


def test_p_value_floors_for_five_seeds_and_the_text():
    assert min_mann_whitney_p(5, 5) == pytest.approx(0.0079, abs=1e-4)
    assert min_wilcoxon_p(5) == pytest.approx(0.0625)
    text = p_floor_text(5)
    assert "smallest possible two-sided p is 0.00794 (Mann-Whitney, 5 vs 5) and 0.0625 (paired Wilcoxon)" in text
    assert "no p-values" in p_floor_text(1)
    # what summarise reports never goes below the floor: complete separation gives it exactly
    results = [_result("random", s, [1.0, 0.9 + 0.01 * s]) for s in range(5)]
    results += [_result("diversity", s, [1.0, 0.5 + 0.01 * s]) for s in range(5)]
    div = summarise(results)["diversity"]
    assert div.p_value == pytest.approx(min_mann_whitney_p(5, 5))
    assert div.p_value_paired == pytest.approx(min_wilcoxon_p(5))


def test_whole_pool_warning_from_the_budget():
    assert whole_pool_warning(300, 1370) is None
    assert whole_pool_warning(1369, 1370) is None
    for budget in (1370, 2000):
        text = whole_pool_warning(budget, 1370)
        assert "uses the whole pool" in text and "not strategies" in text and "below 1370" in text


def test_a_real_grid_with_the_whole_pool_is_flagged():
    # 12 test, 20 initial, 28 pool: a budget of 48 labels everything
    config, problem = synthetic_problem(n=60, budget=48, batch_size=14, committee_params={"n_members": 2,
                                        "hidden": [8], "epochs": 10})  # fmt: skip
    results = run_grid(config, problem, ["random", "uncertainty"], [0, 1], n_jobs=1)
    assert all(r.n_labels.tolist() == [20, 34, 48] for r in results)
    summary = summarise(results)
    assert {s.labels_saved_note for s in summary.values()} == {ls.WHOLE_POOL}
    partial = summarise(run_grid(config.replace(budget=47), problem, ["random", "uncertainty"], [0, 1], n_jobs=1))
    assert ls.WHOLE_POOL not in {s.labels_saved_note for s in partial.values()}


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
