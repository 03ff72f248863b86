"""The paper benchmark's statistics and verdicts, on made-up numbers whose answers are known."""

import json

import numpy as np
import pytest

from alcore.bench import paper_stats as stats
from alcore.bench.paper_results import case_summary, json_ready, speed_summary, verdicts
from alcore.bench.paper_runs import CaseRun, SpeedRun
from alcore.comparison.grid import RunResult


def test_improvement_is_positive_when_the_strategy_has_the_lower_error():
    assert stats.improvement_pct([0.9, 0.9], [1.0, 1.0]) == pytest.approx(10.0)
    assert stats.improvement_pct([1.2], [1.0]) == pytest.approx(-20.0)


def test_paired_bootstrap_uses_the_pairing():
    """Seeds differ a lot from each other but the strategy is ~10 % better on every seed: the paired interval
    is narrow around 10 % and excludes 0, although the unpaired spread of the finals overlaps completely."""
    rng = np.random.default_rng(0)
    baseline = np.linspace(1.0, 3.0, 10)
    strategy = baseline * (0.9 + 0.01 * rng.normal(size=10))
    interval = stats.paired_bootstrap_improvement(strategy, baseline, seed=1)
    assert 8.0 < interval.low < 10.0 < interval.high < 12.0
    assert stats.classify(interval) == "superior"
    assert stats.paired_bootstrap_improvement(strategy, baseline, seed=1) == interval  # seeded: reproducible


def test_paired_bootstrap_needs_two_pairs_and_some_spread():
    assert stats.paired_bootstrap_improvement([1.0], [2.0]) is None
    assert stats.paired_bootstrap_improvement([1.0, 1.0, 1.0], [2.0, 2.0, 2.0]) is None
    with pytest.raises(ValueError, match="paired 1-D"):
        stats.paired_bootstrap_improvement([1.0, 2.0], [1.0, 2.0, 3.0])


def test_paired_bootstrap_difference_brackets_the_mean_difference():
    ours = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    theirs = ours + np.array([0.5, 0.4, 0.6, 0.5, 0.45, 0.55])
    interval = stats.paired_bootstrap_difference(ours, theirs, seed=0)
    assert interval.high < 0 and interval.contains(float(np.mean(ours - theirs)))
    assert stats.paired_bootstrap_difference([1.0, 2.0], [1.5, 2.5]) is None  # constant difference: no spread


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (stats.Interval(0.5, 3.0), "superior"),
        (stats.Interval(-1.0, 3.0), "competitive"),
        (stats.Interval(0.0, 3.0), "competitive"),
        (stats.Interval(-4.0, -0.1), "worse"),
        (None, "undetermined"),
    ],
)
def test_classify(interval, expected):
    assert stats.classify(interval) == expected


def test_round_summary_is_the_median_of_per_round_medians_and_their_range():
    values = np.array([[0.1, 0.5, np.nan], [0.3, 0.7, np.nan], [0.2, 0.9, np.nan]])
    assert stats.round_summary(values) == pytest.approx({"median": 0.45, "low": 0.2, "high": 0.7})
    assert stats.round_summary(np.full((2, 3), np.nan)) == {"median": None, "low": None, "high": None}


def test_the_papers_p_value_is_the_floor_of_five_against_five_seeds():
    assert stats.min_mann_whitney_p(5, 5) == pytest.approx(2 / 252)
    assert stats.min_mann_whitney_p(10, 10) < stats.min_mann_whitney_p(5, 5)


def test_combine():
    R, P, N, T = stats.REPRODUCED, stats.PARTLY, stats.NOT_REPRODUCED, stats.NOT_TESTED
    assert stats.combine([R, R]) == R
    assert stats.combine([N, N, T]) == N
    assert stats.combine([R, N]) == P
    assert stats.combine([P]) == P
    assert stats.combine([T]) == T


def _case(name, pct, ci):
    return {"name": name, "improvement_pct": pct, "improvement_ci": ci}


def test_competitive_verdict_counts_cases_and_says_when_diversity_never_wins():
    every = stats.verdict_competitive([_case("A", 1.0, [-2.0, 4.0]), _case("B", 5.0, [1.0, 9.0])])
    assert every.status == stats.REPRODUCED
    assert "superior in 1, competitive in 1, worse in 0" in every.evidence and "A: +1.0 %" in every.evidence
    some = stats.verdict_competitive([_case("A", -5.0, [-9.0, -1.0]), _case("B", 1.0, [-2.0, 4.0])])
    assert some.status == stats.PARTLY and "never beat random significantly" in some.evidence
    none = stats.verdict_competitive([_case("A", -5.0, [-9.0, -1.0])])
    assert none.status == stats.NOT_REPRODUCED
    assert stats.verdict_competitive([]).status == stats.NOT_TESTED


@pytest.mark.parametrize(
    ("improvement", "interval", "p", "expected"),
    [
        (11.0, [6.0, 15.0], 0.002, stats.REPRODUCED),  # significant, 10.9 inside the interval
        (20.0, [14.0, 26.0], 0.002, stats.REPRODUCED),  # significant, larger than claimed
        (4.0, [2.0, 6.0], 0.002, stats.PARTLY),  # significant but smaller than claimed
        (11.0, [-1.0, 20.0], 0.2, stats.PARTLY),  # better on average, not significant
        (11.0, [6.0, 15.0], 0.08, stats.PARTLY),  # interval above 0 but the paired test disagrees
        (-3.0, [-8.0, 2.0], 0.4, stats.NOT_REPRODUCED),
        (None, None, None, stats.NOT_TESTED),
    ],
)
def test_tio2_case_status(improvement, interval, p, expected):
    assert stats.tio2_case_status(improvement, interval, p) == expected


@pytest.mark.parametrize(
    ("saved", "expected"),
    [(8.0, stats.REPRODUCED), (20.0, stats.REPRODUCED), (2.0, stats.PARTLY), (0.0, stats.NOT_REPRODUCED),
     (-4.0, stats.NOT_REPRODUCED), (None, stats.NOT_REPRODUCED)],
)  # fmt: skip
def test_labels_case_status(saved, expected):
    assert stats.labels_case_status(saved) == expected


def test_a_not_comparable_labels_saved_is_evidence_neither_way():
    assert stats.labels_case_status(None, "random's curve is flat") == stats.NOT_TESTED
    assert stats.labels_case_status(40.0, "the budget uses the whole pool") == stats.NOT_TESTED
    flat = {"name": "B", "labels_saved_pct": None, "labels_saved_note": "random's curve is flat",
            "best_strategy": None, "best_saved_pct": None}  # fmt: skip
    won = {"name": "A", "labels_saved_pct": 8.0, "best_strategy": "diversity", "best_saved_pct": 8.0}
    verdict = stats.verdict_labels([won, flat])
    assert verdict.status == stats.REPRODUCED  # B neither confirms nor refutes
    assert "B: not comparable (random's curve is flat)" in verdict.evidence
    assert "1 of 2 cases not comparable, counted neither way" in verdict.evidence
    assert stats.verdict_labels([flat]).status == stats.NOT_TESTED


def test_the_p_value_floors_are_the_comparison_ones():
    from alcore.comparison import caveats

    assert stats.min_wilcoxon_p is caveats.min_wilcoxon_p and stats.min_mann_whitney_p is caveats.min_mann_whitney_p
    assert stats.min_wilcoxon_p(5) == pytest.approx(0.0625)


def test_labels_verdict_names_a_better_strategy():
    verdict = stats.verdict_labels(
        [{"name": "A", "labels_saved_pct": None, "best_strategy": "kcenter", "best_saved_pct": 12.0}]
    )
    assert verdict.status == stats.NOT_REPRODUCED
    assert "never reached" in verdict.evidence and "kcenter +12.0 %" in verdict.evidence


def test_cost_verdict_checks_time_and_memory():
    fast = {"name": "A", "seconds": 600.0, "peak_mb": 2000.0}
    slow = {"name": "B", "seconds": 5 * 3600.0, "peak_mb": 2000.0}
    assert stats.verdict_cost([fast]).status == stats.REPRODUCED
    assert stats.verdict_cost([fast, slow]).status == stats.PARTLY
    assert stats.verdict_cost([{"name": "C", "seconds": 1.0, "peak_mb": None}]).status == stats.PARTLY
    assert "10.0 min, 1.95 GB peak" in stats.verdict_cost([fast]).evidence


def _run(strategy, seed, final, fit=1.0, select=0.5, rounds=3, committee_offset=0.0):
    mae = np.linspace(final + 0.3, final, rounds) + committee_offset
    return RunResult(
        strategy=strategy, seed=seed, n_labels=np.arange(30, 30 + 15 * rounds, 15), mae=mae, rmse=mae * 1.3,
        spearman=np.full(rounds, 0.3), mean_pool_std=np.full(rounds, 0.1), selected=(), fit_seconds=fit,
        select_seconds=select,
    )  # fmt: skip


def test_speed_summary_ratios_and_targets():
    pairs = [(s, seed) for s in ("random", "diversity") for seed in range(4)]
    ours = tuple(_run(s, seed, 0.10 + 0.01 * seed, fit=0.2, select=0.1) for s, seed in pairs)
    theirs = tuple(_run(s, seed, 0.11 + 0.01 * seed + 0.001 * (seed % 2), fit=1.5, select=0.1) for s, seed in pairs)
    runs = {"mlp": SpeedRun("Si", "mlp", ours, 20.0, None), "sk": SpeedRun("Si", "sk", theirs, 80.0, None)}
    s = speed_summary(runs, "mlp", "sk")
    assert s["ratio_protocol"] == pytest.approx(0.25)
    assert s["ratio_round"] == pytest.approx((0.3 * 8 / 24) / (1.6 * 8 / 24))
    assert s["equal_or_lower_mae"] and s["target_speedup_met"] and s["target_60s_met"]
    assert s["strategies"] == ["random", "diversity"] and s["n_rounds"] == 3
    slower = {**runs, "mlp": SpeedRun("Si", "mlp", ours, 61.0, None)}
    s = speed_summary(slower, "mlp", "sk")
    assert not s["target_speedup_met"] and not s["target_60s_met"]


def _summary_case(name, elements, div_pct, div_ci, p, saved):
    strategies = {
        "random": {"improvement_pct": 0.0, "improvement_ci": None, "labels_saved_pct": 0.0, "p_wilcoxon": None,
                   "p_mann_whitney": None},
        "diversity": {"improvement_pct": div_pct, "improvement_ci": div_ci, "labels_saved_pct": saved,
                      "p_wilcoxon": p, "p_mann_whitney": p},
        "kcenter": {"improvement_pct": 1.0, "improvement_ci": None, "labels_saved_pct": 30.0, "p_wilcoxon": None,
                    "p_mann_whitney": None},
    }  # fmt: skip
    return {"name": name, "dataset": name.split()[0], "elements": elements, "seeds": list(range(10)),
            "strategies": strategies, "first5": None, "seconds": {"total": 60.0}, "peak_mb": 900.0}  # fmt: skip


def test_verdicts_skip_cases_whose_labels_saved_is_not_comparable():
    case = _summary_case("Si / rdf", ["Si"], 3.0, [-1.0, 6.0], 0.3, None)
    case["strategies"]["diversity"]["labels_saved_note"] = "every strategy ends on the same labelled set"
    case["strategies"]["kcenter"]["labels_saved_pct"] = None
    claim = verdicts([case])[2]
    assert claim["status"] == stats.NOT_TESTED
    assert "Si / rdf: not comparable (every strategy ends on the same labelled set)" in claim["evidence"]


def test_verdicts_are_computed_from_the_case_numbers():
    cases = [
        _summary_case("TiO2 / paper", ["O", "Ti"], 12.0, [5.0, 18.0], 0.004, 9.0),
        _summary_case("Si / paper", ["Si"], -3.0, [-6.0, -0.5], 0.03, None),
    ]
    claims = verdicts(cases)
    assert [c["status"] for c in claims] == [stats.PARTLY, stats.REPRODUCED, stats.PARTLY, stats.REPRODUCED]
    assert "TiO2 / paper: +12.0 %" in claims[1]["evidence"] and "Si / paper" not in claims[1]["evidence"]
    assert "best: kcenter +30.0 %" in claims[2]["evidence"]


def _case_run(results, reference=0.1):
    seeds = sorted({r.seed for r in results})
    return CaseRun(
        dataset="TiO2", descriptor="paper", elements=("O", "Ti"), n_structures=100, n_features=5, n_initial=30,
        n_pool=50, n_test=20, results=tuple(results), reference_mae=dict.fromkeys(seeds, reference),
        initial_calibration=dict.fromkeys(seeds, 1.5),
        final_calibration={(r.strategy, r.seed): 2.0 for r in results}, refit_deviation=0.0,
        seconds={"total": 12.0}, peak_mb=800.0,
    )  # fmt: skip


def test_case_summary_numbers():
    random = [_run("random", seed, 0.20 + 0.01 * seed) for seed in range(6)]
    diversity = [_run("diversity", seed, 0.18 + 0.01 * seed + 0.002 * (seed % 2)) for seed in range(6)]
    blown = _run("diversity", 6, 0.2)
    blown.mae[1] = 50.0  # a later round far above 10 x the reference
    case = case_summary(_case_run([*random, *diversity, _run("random", 6, 0.21), blown]), budget=300)
    div = case["strategies"]["diversity"]
    finals_r = [0.20 + 0.01 * s for s in range(6)] + [0.21]
    finals_d = [0.18 + 0.01 * s + 0.002 * (s % 2) for s in range(6)] + [0.2]
    assert div["improvement_pct"] == pytest.approx((np.mean(finals_r) - np.mean(finals_d)) / np.mean(finals_r) * 100)
    assert div["improvement_ci"][0] < div["improvement_pct"] < div["improvement_ci"][1]
    assert div["versus_random"] == "superior" and case["strategies"]["random"]["versus_random"] is None
    assert div["runs_with_blowup"] == 1 and case["strategies"]["random"]["runs_with_blowup"] == 0
    assert case["seeds_with_initial_blowup"] == []
    assert case["budget"] == 80 and case["budget_exhausts_pool"]  # 30 initial + 50 pool < 300
    assert case["reference"] == pytest.approx({"n_labels": 80, "mae_mean": 0.1, "mae_std": 0.0})
    assert case["first5"]["improvement_pct"] == pytest.approx(
        (np.mean(finals_r[:5]) - np.mean(finals_d[:5])) / np.mean(finals_r[:5]) * 100
    )
    assert json.loads(json.dumps(json_ready(case), allow_nan=False)) == json_ready(case)
    assert "labels_saved_note" in case["strategies"]["diversity"]  # why labels saved has no number, if it has none


def test_case_summary_and_report_show_not_comparable_instead_of_a_number():
    from alcore.bench.paper_report import case_section

    flat = [_run("random", seed, 0.20 + 0.01 * seed, rounds=3) for seed in range(5)]
    for r in flat:
        r.mae[:] = r.mae[-1]  # random's curve does not decrease
    diversity = [_run("diversity", seed, 0.19) for seed in range(5)]
    case = json_ready(case_summary(_case_run([*flat, *diversity]), budget=300))
    div = case["strategies"]["diversity"]
    assert div["labels_saved_pct"] is None and div["labels_saved_note"]
    text = case_section(case, "figures/x.png", "meV/atom", 1000.0)
    row = next(line for line in text.splitlines() if line.startswith("| diversity |"))
    assert f"not comparable ({div['labels_saved_note']})" in row
    assert "smallest possible two-sided p is 0.00794 (Mann-Whitney, 5 vs 5) and 0.0625 (paired Wilcoxon)" in text
    assert "not a strategy comparison at the final round" in text  # 30 + 50 < 300: the whole-pool note


def test_json_ready_makes_strict_json():
    doc = {"a": float("nan"), "b": (np.float64(1.5), np.int64(2)), 3: [float("inf")]}
    assert json_ready(doc) == {"a": None, "b": [1.5, 2], "3": [None]}
