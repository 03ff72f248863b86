"""Which conclusions of the paper benchmark survive a change of dataset, descriptor family and energy reference.

A case is one dataset x descriptor family x energy reference. Per dataset: the best strategy of each case and how
well the cases agree on the whole ranking (Kendall's tau between their orders of final MAE). Then candidate rules,
each checked on every case: a rule is stated as a rule only when it holds on every dataset; otherwise the report
says where it holds and where it does not. Nothing here is tuned to a result: the rules are fixed in ``RULES``.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Callable, Mapping, Sequence

BASELINE = "random"
NOT_WORSE = ("superior", "competitive")


def _others(case: Mapping) -> dict[str, Mapping]:
    return {k: v for k, v in case["strategies"].items() if k != BASELINE}


def ranking(case: Mapping) -> list[str]:
    """Strategies from lowest to highest mean final MAE."""
    return sorted(case["strategies"], key=lambda s: case["strategies"][s]["final_mae_mean"])


def _kendall(a: Sequence[str], b: Sequence[str]) -> float | None:
    from scipy.stats import kendalltau

    common = [s for s in a if s in b]
    if len(common) < 3:
        return None
    return float(kendalltau([a.index(s) for s in common], [b.index(s) for s in common]).statistic)


def _al_beats_random(case: Mapping) -> bool | None:
    verdicts = [v.get("versus_random") for v in _others(case).values()]
    return None if not verdicts else any(v == "superior" for v in verdicts)


def _strategy_not_worse(name: str) -> Callable[[Mapping], bool | None]:
    def check(case: Mapping) -> bool | None:
        verdict = case["strategies"].get(name, {}).get("versus_random")
        return None if verdict in (None, "undetermined") else verdict in NOT_WORSE

    return check


def _uncertainty_riskiest(case: Mapping) -> bool | None:
    """Uncertainty has the highest final MAE of the active-learning strategies."""
    others = _others(case)
    if "uncertainty" not in others or len(others) < 2:
        return None
    return max(others, key=lambda s: others[s]["final_mae_mean"]) == "uncertainty"


RULES: tuple[tuple[str, Callable[[Mapping], bool | None]], ...] = (
    ("some active-learning strategy beats random significantly (95 % CI above 0)", _al_beats_random),
    ("diversity is competitive with or better than random", _strategy_not_worse("diversity")),
    ("uncertainty is competitive with or better than random", _strategy_not_worse("uncertainty")),
    ("uncertainty has the highest final MAE of the active-learning strategies", _uncertainty_riskiest),
    ("cluster_uncertainty is competitive with or better than random", _strategy_not_worse("cluster_uncertainty")),
    ("kcenter is competitive with or better than random", _strategy_not_worse("kcenter")),
    ("hybrid is competitive with or better than random", _strategy_not_worse("hybrid")),
    ("igs is competitive with or better than random", _strategy_not_worse("igs")),
)


def _by_dataset(cases: Sequence[Mapping]) -> dict[str, list[Mapping]]:
    out: dict[str, list[Mapping]] = {}
    for c in cases:
        out.setdefault(c["dataset"], []).append(c)
    return out


def dataset_rows(cases: Sequence[Mapping]) -> list[dict[str, Any]]:
    """Per dataset: each case's best strategy, whether one strategy is best in every case, and the lowest Kendall
    tau between two cases' rankings (1 = same order everywhere)."""
    rows = []
    for dataset, group in _by_dataset(cases).items():
        orders = {c["name"]: ranking(c) for c in group}
        taus = [t for a, b in combinations(orders.values(), 2) if (t := _kendall(a, b)) is not None]
        best = {name: order[0] for name, order in orders.items()}
        rows.append({
            "dataset": dataset,
            "best": best,
            "same_best": len(set(best.values())) == 1,
            "min_kendall_tau": min(taus) if taus else None,
            "cases": len(group),
        })  # fmt: skip
    return rows


def rule_checks(cases: Sequence[Mapping]) -> list[dict[str, Any]]:
    """Each rule on each dataset: it holds on a dataset when it holds in every case of it that could test it."""
    out = []
    by_dataset = _by_dataset(cases)
    for text, check in RULES:
        holds, fails, failing_cases = [], [], []
        for dataset, group in by_dataset.items():
            results = {c["name"]: check(c) for c in group}
            tested = {k: v for k, v in results.items() if v is not None}
            if not tested:
                continue
            if all(tested.values()):
                holds.append(dataset)
            else:
                fails.append(dataset)
                failing_cases += [k for k, v in tested.items() if not v]
        if holds or fails:
            out.append({"rule": text, "holds": holds, "fails": fails, "failing_cases": failing_cases,
                        "general": not fails})  # fmt: skip
    return out


def robustness(cases: Sequence[Mapping]) -> dict[str, Any]:
    return {"datasets": dataset_rows(cases), "rules": rule_checks(cases)}


def robustness_section(doc: Mapping) -> str:
    """The report's "Robustness" section from ``doc["robustness"]``."""
    data = doc["robustness"]
    lines = [
        "## Robustness: what holds across datasets, descriptor families and energy references",
        "",
        "A case is one dataset x descriptor family x energy reference (the reference is varied only where the dataset "
        "has two or more elements). Best = lowest mean final MAE. Kendall's tau compares two cases' orders of all "
        "strategies by final MAE (1: the same order); the lowest over every pair of a dataset's cases is shown.",
        "",
        "| dataset | best strategy per case | one best everywhere | lowest Kendall tau |",
        "|---|---|---|---|",
    ]
    for row in data["datasets"]:
        best = "; ".join(f"{name.split(' / ', 1)[1]}: {s}" for name, s in row["best"].items())
        tau = "–" if row["min_kendall_tau"] is None else f"{row['min_kendall_tau']:+.2f}"
        lines.append(f"| {row['dataset']} | {best} | {'yes' if row['same_best'] else 'no'} | {tau} |")
    general = [r for r in data["rules"] if r["general"]]
    varies = [r for r in data["rules"] if not r["general"]]
    lines += ["", "**Rules that hold on every dataset** (in every case that tests them):", ""]
    lines += [f"- {r['rule']} ({len(r['holds'])} datasets)." for r in general] or ["- none."]
    lines += ["", "**What varies** (no rule is stated for these):", ""]
    for r in varies:
        held = ", ".join(r["holds"]) or "no dataset"
        lines.append(f"- {r['rule']}: holds on {held}; not on {', '.join(r['fails'])} "
                     f"(fails in {', '.join(r['failing_cases'])}).")  # fmt: skip
    if not varies:
        lines.append("- nothing among the rules checked.")
    return "\n".join(lines)


__all__ = ["RULES", "dataset_rows", "ranking", "robustness", "robustness_section", "rule_checks"]
