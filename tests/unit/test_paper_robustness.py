"""The paper report's robustness section: per-dataset agreement of cases and rules stated only where they hold."""

from alcore.bench.paper import case_references
from alcore.bench.paper_robustness import dataset_rows, robustness, robustness_section, rule_checks
from alcore.config import RunConfig
from tests.synthetic import small_si_c_dataset


def case(dataset, descriptor, maes, verdicts):
    """A case summary as ``paper_results.case_summary`` writes it (only the fields the section reads)."""
    strategies = {s: {"final_mae_mean": m, "versus_random": verdicts.get(s)} for s, m in maes.items()}
    return {"dataset": dataset, "descriptor": descriptor, "name": f"{dataset} / {descriptor}",
            "strategies": strategies}  # fmt: skip


CASES = [
    case("A", "paper", {"random": 1.0, "diversity": 0.8, "uncertainty": 1.2, "kcenter": 0.9},
         {"diversity": "superior", "uncertainty": "worse", "kcenter": "competitive"}),
    case("A", "soap", {"random": 1.0, "diversity": 0.85, "uncertainty": 1.1, "kcenter": 0.95},
         {"diversity": "superior", "uncertainty": "worse", "kcenter": "competitive"}),
    case("B", "paper", {"random": 1.0, "diversity": 1.1, "uncertainty": 1.3, "kcenter": 0.9},
         {"diversity": "worse", "uncertainty": "worse", "kcenter": "superior"}),
]  # fmt: skip


def test_datasets_report_their_best_strategies_and_agreement():
    rows = {r["dataset"]: r for r in dataset_rows(CASES)}
    assert rows["A"]["best"] == {"A / paper": "diversity", "A / soap": "diversity"}
    assert rows["A"]["same_best"] and rows["A"]["min_kendall_tau"] == 1.0
    assert rows["B"]["best"] == {"B / paper": "kcenter"} and rows["B"]["min_kendall_tau"] is None


def test_a_rule_is_general_only_when_it_holds_on_every_dataset():
    rules = {r["rule"]: r for r in rule_checks(CASES)}
    beats = rules["some active-learning strategy beats random significantly (95 % CI above 0)"]
    assert beats["general"] and beats["holds"] == ["A", "B"]
    diversity = rules["diversity is competitive with or better than random"]
    assert not diversity["general"] and diversity["holds"] == ["A"] and diversity["failing_cases"] == ["B / paper"]
    assert rules["uncertainty has the highest final MAE of the active-learning strategies"]["general"]
    assert not any("igs" in r for r in rules)  # a strategy that was not run tests nothing
    text = robustness_section({"robustness": robustness(CASES)})
    assert "**What varies**" in text
    assert "diversity is competitive with or better than random: holds on A; not on B" in text
    general = text.split("**Rules that hold on every dataset**")[1].split("**What varies**")[0]
    assert "some active-learning strategy beats random" in general and "diversity" not in general


def test_references_are_resolved_per_dataset_and_run_once():
    base = RunConfig()
    assert case_references(small_si_c_dataset(10), base, ("auto", "none")) == ["fitted", "none"]
    si = small_si_c_dataset(10).subset([1, 3, 5])  # Si cells only
    assert case_references(si, base, ("auto", "none")) == ["none"]
