"""The CLI end to end on a small extxyz dataset written by the test (no shared data needed)."""

import json

import pytest

from alcore.cli import main
from alcore.datasets import write_extxyz
from tests.synthetic import small_si_c_dataset


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """80 strained/rattled Si and C cells with a smooth fake energy per atom."""
    ds = small_si_c_dataset()
    return write_extxyz(ds, tmp_path_factory.mktemp("cli") / "small.extxyz")


ARGS = ["--initial", "10", "--batch", "5", "--budget", "25", "--members", "3", "--epochs", "40", "--hidden", "16"]


def test_run_saves_and_replays_identically(small_dataset, tmp_path, capsys):
    run_json = tmp_path / "run.json"
    assert main(["run", "--dataset", str(small_dataset), "--strategy", "hybrid", "--alpha", "0.3", "-q",
                 "--save", str(run_json), *ARGS]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "labels" in out and "saved run" in out
    saved = json.loads(run_json.read_text())
    assert saved["config"]["strategy_params"] == {"alpha": 0.3}
    assert [r["n_labels"] for r in saved["rounds"]] == [10, 15, 20, 25]
    assert main(["replay", str(run_json)]) == 0
    assert "identical" in capsys.readouterr().out


def test_compare_writes_the_documented_json(small_dataset, tmp_path, capsys):
    out_json = tmp_path / "cmp.json"
    code = main(["compare", "--dataset", str(small_dataset), "--strategies", "random,diversity,kcenter",
                 "--seeds", "2", "--n-jobs", "1", "-q", "--json", str(out_json), *ARGS])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "diversity" in printed and "kcenter" in printed
    doc = json.loads(out_json.read_text())
    assert set(doc["summary"]) == {"random", "diversity", "kcenter"}
    for entry in doc["summary"].values():
        assert {"final_mae_mean", "final_mae_std", "improvement_pct", "labels_to_target", "aulc", "p_value"} <= set(entry)
    assert len(doc["runs"]) == 6
    assert all(r["n_labels"] == [10, 15, 20, 25] and len(r["mae"]) == 4 for r in doc["runs"])
    assert doc["config"]["seeds"] == [0, 1]
    assert "With 2 seeds the smallest possible two-sided p is 0.333" in printed and "warning" not in printed


def test_compare_warns_when_the_budget_labels_the_whole_pool(small_dataset, tmp_path, capsys):
    """80 structures: 16 in the test split, 64 = initial + pool; a budget of 64 ends every strategy on one set."""
    out_json = tmp_path / "whole.json"
    whole = ["--initial", "10", "--batch", "27", "--budget", "64", "--members", "2", "--epochs", "10", "--hidden", "8"]
    code = main(["compare", "--dataset", str(small_dataset), "--strategies", "random,diversity", "--seeds", "2",
                 "--n-jobs", "1", "-q", "--json", str(out_json), *whole])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    warning, *rest = printed.splitlines()
    assert warning.startswith("warning: The budget (64 labels) uses the whole pool")
    assert "not strategies" in warning
    row = next(line for line in rest if line.startswith("diversity"))
    assert " n/c " in row
    assert "not comparable for random, diversity: every strategy ends on the same labelled set" in printed
    doc = json.loads(out_json.read_text())
    assert all(r["n_labels"][-1] == 64 for r in doc["runs"])
    assert {e["labels_saved_note"] for e in doc["summary"].values()} == {
        "every strategy ends on the same labelled set: the budget uses the whole pool"
    }
    assert all(e["labels_saved_pct"] is None for e in doc["summary"].values())


def test_errors_are_one_line_messages(small_dataset, capsys):
    assert main(["run", "--dataset", str(small_dataset), "--strategy", "nope", "-q", *ARGS]) == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err
    assert main(["run", "--dataset", "no/such/file.xyz", "-q"]) == 2
    assert "no/such/file.xyz" in capsys.readouterr().err
    assert main(["compare", "--dataset", str(small_dataset), "--strategies", "random,bogus", "-q"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_datasets_lists_and_describes(small_dataset, capsys):
    assert main(["datasets"]) == 0
    assert "si-mlearn" in capsys.readouterr().out
    assert main(["datasets", "--describe", str(small_dataset)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_structures"] == 80 and info["elements"] == ["C", "Si"]


def test_replay_in_a_separate_process_is_bit_identical(small_dataset, tmp_path):
    """Determinism across processes: a run saved by one interpreter replays identically in another."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    run_json = tmp_path / "proc.json"
    cmd = [sys.executable, "-m", "alcore"]
    subprocess.run([*cmd, "run", "--dataset", str(small_dataset), "--strategy", "diversity", "-q",
                    "--save", str(run_json), *ARGS], cwd=repo, check=True, capture_output=True)  # fmt: skip
    replay = subprocess.run([*cmd, "replay", str(run_json)], cwd=repo, capture_output=True, text=True)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "4 rounds replayed: identical" in replay.stdout


def test_replay_checks_a_branched_manifest_and_reports_tampering(tmp_path, capsys):
    from alcore.config import RunConfig
    from alcore.loop import branch, prepare, run
    from alcore.manifest import run_manifest

    config = RunConfig(dataset="Si", strategy="uncertainty", budget=60, committee_params={"n_members": 2, "epochs": 10})
    parent = run(config, prepare(config))
    child = run(config, None, state=branch(parent, 2, config.replace(strategy="kcenter")))
    doc = run_manifest(child)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(doc))
    assert main(["replay", str(path)]) == 0
    assert "3 rounds replayed: identical" in capsys.readouterr().out
    doc["curve"]["mae"][1] += 1e-6
    path.write_text(json.dumps(doc))
    assert main(["replay", str(path)]) == 1
    assert "round 1: MAE" in capsys.readouterr().out


EMT_ARGS = ["--oracle", "ase-calculator", "--oracle-option", "calculator=emt", "--descriptor", "rdf",
            "--initial", "8", "--batch", "4", "--budget", "20", "--members", "3", "--epochs", "40", "--hidden", "16"]


def test_run_resume_and_replay_with_the_emt_oracle(tmp_path, capsys):
    from tests.synthetic import small_cu_al_dataset

    data = write_extxyz(small_cu_al_dataset(40), tmp_path / "cual.extxyz")
    run_json = tmp_path / "run.json"
    assert main(["run", "--dataset", str(data), "-q", "--rounds", "2", "--save", str(run_json), *EMT_ARGS]) == 0
    saved = json.loads(run_json.read_text())
    assert saved["format"] == "alcore-run/2"
    assert saved["config"]["oracle"] == "ase-calculator" and saved["config"]["oracle_params"] == {"calculator": "emt"}
    assert main(["resume", str(run_json), "-q"]) == 0
    assert "resumed after round 1" in capsys.readouterr().out
    assert main(["replay", str(run_json)]) == 0
    assert "identical" in capsys.readouterr().out
    assert main(["run", "--dataset", str(data), "-q", "--target", "formation_energy_per_atom", *EMT_ARGS]) == 2
    assert "cannot provide the target 'formation_energy_per_atom'" in capsys.readouterr().err
    assert main(["run", "--dataset", str(data), "-q", "--oracle", "dft"]) == 2
    assert "unknown oracle 'dft'; known: dataset, ase-calculator" in capsys.readouterr().err
