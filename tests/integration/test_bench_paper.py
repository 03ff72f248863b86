"""``python -m alcore bench paper`` end to end on a tiny configuration (bundled Si, shipped features, 2 seeds,
2 rounds, short training), and the consistency of the report with its raw data."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from alcore.bench import main as bench_main
from alcore.bench.paper import main
from alcore.comparison.tables import CURVE_COLUMNS

STRATEGIES = ("random", "diversity")
TINY = [
    "--systems", "Si", "--seeds", "2", "--budget", "45", "--strategies", ",".join(STRATEGIES), "--epochs", "15",
    "--members", "3", "--descriptors", "paper,auto", "--speed-seeds", "2", "--speed-strategies", "random,diversity",
    "--jobs", "1", "-q",
]  # fmt: skip


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench") / "paper"
    assert bench_main(["paper", *TINY, "--out", str(folder)]) == 0  # through the benchmark registry
    return folder


@pytest.fixture(scope="module")
def results(out):
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def chosen(results):
    """The structural family ``auto`` chose for Si (soap or rdf, by the validation rule)."""
    choice = results["descriptor_choice"]["Si"]
    assert set(choice["validation_mae"]) == {"soap", "rdf"}
    assert choice["chosen"] == min(choice["validation_mae"], key=choice["validation_mae"].get)
    return choice["chosen"]


def test_every_file_is_written(out, chosen):
    for name in ("report.md", "results.json", "meta.json", "curves.csv", "speed_curves.csv", "runs.json"):
        assert (out / name).is_file(), name
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == sorted(["Si-paper.png", f"Si-{chosen}.png", "improvement.png", "speed.png"])
    assert all((out / "figures" / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figures)


def test_report_has_its_sections_and_links_only_existing_files(out, chosen):
    text = (out / "report.md").read_text()
    for heading in ("## Protocol", "## Verdicts on the paper's claims", "## Speed against scikit-learn", "## Cost",
                    "## Descriptor families", "`auto` chose", "### Si / paper", f"### Si / {chosen}",
                    "**Reduced run**", "## Robustness", "**Rules that hold on every dataset**"):  # fmt: skip
        assert heading in text, heading
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert "figures/Si-paper.png" in links and "curves.csv" in links
    assert all((out / link).is_file() for link in links)
    for column in ("vs random (%)", "95 % CI (%)", "labels saved (%)", "AULC", "p Mann-Whitney", "p Wilcoxon",
                   "Spearman", "RMSE / RMS(std)"):  # fmt: skip
        assert column in text, column
    header = next(line for line in text.splitlines() if line.startswith("| strategy |"))
    row = next(line for line in text.splitlines() if line.startswith("| diversity |"))
    assert header.count(" | ") == row.count(" | ")  # no stray '|' inside a cell


def test_curves_csv_holds_every_run_and_round(out):
    curves = pd.read_csv(out / "curves.csv")
    assert list(curves.columns) == ["dataset", "descriptor", "energy_reference", *CURVE_COLUMNS]
    assert set(curves.energy_reference) == {"none"}  # Si has one element: auto resolves to none, run once
    assert len(curves) == 2 * len(STRATEGIES) * 2 * 2  # descriptors x strategies x seeds x rounds (30, 45)
    assert sorted(curves.n_labels.unique()) == [30, 45]
    speed = pd.read_csv(out / "speed_curves.csv")
    assert set(speed.committee) == {"mlp", "sklearn-mlp"} and len(speed) == 2 * 2 * 2 * 2


def test_report_numbers_come_from_the_raw_curves(out, results):
    curves = pd.read_csv(out / "curves.csv")
    text = (out / "report.md").read_text()
    for case in results["cases"]:
        mine = curves[(curves.dataset == case["dataset"]) & (curves.descriptor == case["descriptor"])]
        finals = mine[mine.n_labels == mine.n_labels.max()].groupby("strategy").mae
        for strategy, s in case["strategies"].items():
            assert s["final_mae_mean"] == pytest.approx(finals.mean()[strategy])
            assert s["final_mae_std"] == pytest.approx(finals.std(ddof=1)[strategy])
        random_final, div_final = finals.mean()["random"], finals.mean()["diversity"]
        assert case["strategies"]["diversity"]["improvement_pct"] == pytest.approx(
            (random_final - div_final) / random_final * 100
        )
        section = text.split(f"### {case['name']}")[1]
        assert f"| random | {random_final * 1000:.1f} ± " in section  # shown in meV/atom
        assert case["refit_deviation"] < 1e-9  # the refitted last committee is the run's own


def test_reference_and_calibration_are_reported(results):
    for case in results["cases"]:
        assert case["reference"]["n_labels"] == case["n_pool"] + case["n_initial"]
        assert 0 < case["reference"]["mae_mean"] < case["strategies"]["random"]["final_mae_mean"]
        assert case["calibration_initial_median"] > 0
        assert all(s["calibration_final_median"] > 0 for s in case["strategies"].values())


def test_verdicts_and_speed(results):
    assert [v["status"] for v in results["verdicts"]][1] == "not tested"  # no Ti-O dataset in this run
    assert all(v["status"] in ("reproduced", "partly", "not reproduced", "not tested") for v in results["verdicts"])
    (speed,) = results["speed"]
    ours, theirs = speed["committees"]["mlp"], speed["committees"]["sklearn-mlp"]
    assert speed["ratio_protocol"] == pytest.approx(ours["seconds"] / theirs["seconds"])
    assert speed["target_60s_met"] == (ours["seconds"] < 60)
    # our committee's speed runs equal the main grid's (same protocol, seeds, data): the grid is deterministic
    paper = next(c for c in results["cases"] if c["descriptor"] == "paper")
    assert ours["final_mae_mean"] == pytest.approx(
        np.mean([s["final_mae_mean"] for s in paper["strategies"].values()])
    )


def test_meta_records_command_versions_and_machine(out):
    meta = json.loads((out / "meta.json").read_text())
    assert meta["command"].startswith("python -m alcore bench paper --systems Si")
    for key in ("python", "torch", "numpy", "sklearn", "git_commit", "cpu_count", "date", "seconds"):
        assert key in meta, key


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--systems", "Unobtainium"], "Unobtainium"),
        (["--systems", "Si", "--strategies", "random,bogus"], "bogus"),
        (["--systems", "Si", "--descriptors", "nope"], "nope"),
        (["--systems", "Si", "--speed-systems", "C"], "--speed-systems"),
    ],
)
def test_bad_options_fail_before_any_work(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x"), "-q"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_default_systems_skip_missing_real_sets(tmp_path, monkeypatch):
    from alcore.bench.paper import BUNDLED, REAL_DFT, parse_args, resolve
    from alcore.strategies import STRATEGIES as REGISTERED

    monkeypatch.setenv("ALCORE_SHARED_DATASETS", str(tmp_path / "absent"))
    systems, strategies, speed, _ = resolve(parse_args([]))
    assert systems == list(BUNDLED) and speed == list(BUNDLED) and strategies == REGISTERED.names()
    assert not set(REAL_DFT) & set(systems)
