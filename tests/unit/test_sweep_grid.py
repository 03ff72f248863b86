"""Sweep TOML -> runs, its validation messages, run keys and the result store (no runs are executed here)."""

import json

import numpy as np
import pytest

from alcore.comparison.grid import RunResult
from alcore.config import RunConfig
from alcore.sweep import GridError, SweepStore, load_grid, parse_grid, run_key, summarise_sweep

GOOD = """
[sweep]
systems = ["Si", "C"]
descriptors = ["rdf"]
strategies = ["random", "hybrid"]
seeds = 2
n_members = [2, 3]
batch_sizes = [5, 10]

[base]
n_initial = 10
budget = 40
committee_params = { epochs = 20, hidden = [16] }

[strategy_params.hybrid]
alpha = 0.3
"""


def write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_grid_expands_every_combination_with_strategy_and_seed_fastest(tmp_path):
    grid = load_grid(write(tmp_path, GOOD))
    assert len(grid) == 2 * 1 * 2 * 2 * 2 * 2
    first = grid.runs[:4]
    assert [(c.strategy, c.seed) for c in first] == [("random", 0), ("random", 1), ("hybrid", 0), ("hybrid", 1)]
    assert {c.dataset for c in first} == {"Si"} and grid.runs[-1].dataset == "C"
    assert grid.axes["seeds"] == (0, 1)
    combos = {(c.dataset, c.committee_params["n_members"], c.batch_size, c.strategy, c.seed) for c in grid.runs}
    assert len(combos) == len(grid)
    for c in grid.runs:
        assert c.committee_params == {"epochs": 20, "hidden": [16], "n_members": c.committee_params["n_members"]}
        assert c.strategy_params == ({"alpha": 0.3} if c.strategy == "hybrid" else {})
        assert (c.n_initial, c.budget, c.descriptor) == (10, 40, "rdf")


def test_dataset_paths_are_relative_to_the_sweep_file(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mine.extxyz").write_text("")
    doc = {"sweep": {"datasets": ["data/mine.extxyz"], "strategies": ["random"], "seeds": [4, 2]}}
    grid = parse_grid(doc, "x.toml", base_dir=tmp_path)
    assert grid.runs[0].dataset == str((tmp_path / "data" / "mine.extxyz").resolve())
    assert [c.seed for c in grid.runs] == [4, 2]
    assert grid.runs[0].committee_params == RunConfig().committee_params  # defaults fill the missing axes
    doc["sweep"]["datasets"] = ["data/mine.extxyz", "./data/../data/mine.extxyz"]
    with pytest.raises(GridError, match="sweep.datasets: two entries name the same dataset"):
        parse_grid(doc, "x.toml", base_dir=tmp_path)


BAD = [
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 2\n[extra]\na = 1\n", "extra", "unknown table"),
    ("[base]\nbudget = 10\n", "[sweep]", "missing table"),
    ("[sweep]\ndatasets = ['Si']\nseeds = 2\n", "sweep.strategies", "required axis"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 2\nmembers = [3]\n", "sweep.members", "unknown axis"),
    ("[sweep]\ndatasets = []\nstrategies = ['random']\nseeds = 2\n", "sweep.datasets", "non-empty list"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random', 'random']\nseeds = 2\n", "sweep.strategies", "each value once"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = [0, 'a']\n", "sweep.seeds", "must be a int"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 0\n", "sweep.seeds", "at least 1"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = [-1]\n", "sweep.seeds", "at least 0"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 1\nn_members = [0]\n", "sweep.n_members", "at least 1"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['magic']\nseeds = 1\n", "sweep.strategies", "unknown ['magic']"),
    ("[sweep]\ndatasets = ['Si']\ndescriptors = ['mace']\nstrategies = ['random']\nseeds = 1\n", "sweep.descriptors",
     "unknown ['mace']"),
    ("[sweep]\ndatasets = ['Nope']\nstrategies = ['random']\nseeds = 1\n", "sweep.datasets", "neither a registered"),
    ("[sweep]\nsystems = ['Si']\ndatasets = ['C']\nstrategies = ['random']\nseeds = 1\n", "sweep.systems", "not both"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 1\n[base]\nseed = 3\n", "base.seed", "axes"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 1\n[base]\nbugdet = 3\n", "base.bugdet", "unknown"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 1\n[base]\ncommittee_params = {n_members = 3}\n",
     "base.committee_params.n_members", "sweep.n_members"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 1\n[base]\nbudget = 5\nn_initial = 10\n", "base",
     "smaller than the initial set"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['random']\nseeds = 1\n[strategy_params.hybrid]\nalpha = 1\n",
     "strategy_params.hybrid", "not on the sweep's axis"),
    ("[sweep]\ndatasets = ['Si']\nstrategies = ['hybrid']\nseeds = 1\n[strategy_params.hybrid]\nbeta = 1\n",
     "strategy_params.hybrid", "no option(s) ['beta']"),
    ("[sweep]\ndatasets = ['Si']\ndescriptors = ['rdf']\nstrategies = ['random']\nseeds = 1\n"
     "[descriptor_params.rdf]\nrcut = 1\n", "descriptor_params.rdf", "no option(s) ['rcut']"),
    ("[sweep\ndatasets = ['Si']\n", "(file)", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "key", "problem"), BAD, ids=[b[1] + ":" + b[2][:12] for b in BAD])
def test_bad_sweep_files_name_the_file_and_the_key(tmp_path, text, key, problem):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(GridError) as info:
        load_grid(path)
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(info.value).startswith(f"{path}: {key}: ")


def test_a_missing_sweep_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.toml: no such sweep file"):
        load_grid(tmp_path / "nothere.toml")


def test_run_key_changes_with_any_setting_and_not_with_dict_order():
    a = RunConfig(committee_params={"n_members": 3, "epochs": 5})
    assert run_key(a) == run_key(RunConfig(committee_params={"epochs": 5, "n_members": 3}))
    assert len({run_key(a), run_key(a.replace(seed=1)), run_key(a.replace(committee_params={"n_members": 4})),
                run_key(a.replace(strategy_params={"alpha": 0.1}))}) == 4  # fmt: skip


def fake_result(strategy, seed, final_mae):
    return RunResult(strategy, seed, np.array([10, 15]), np.array([1.0, final_mae]), np.array([1.5, 1.2]),
                     np.array([0.1, np.nan]), np.array([0.3, 0.2]), (np.array([3, 4]), np.array([], dtype=np.int64)),
                     0.5, 0.1)  # fmt: skip


def test_store_round_trip_and_damaged_files_count_as_missing(tmp_path):
    store = SweepStore(tmp_path)
    config = RunConfig(strategy="diversity", seed=2, n_initial=10, budget=15, batch_size=5)
    assert store.load(config) is None
    path = store.save(config, fake_result("diversity", 2, 0.25), dataset_fingerprint="abc", seconds=1.5)
    assert path == tmp_path / "runs" / f"{run_key(config)}.json"
    back = store.load(config)
    assert back.mae.tolist() == [1.0, 0.25] and np.isnan(back.spearman[1])
    assert [s.tolist() for s in back.selected] == [[3, 4], []]
    assert json.loads(path.read_text())["dataset_fingerprint"] == "abc"

    other = config.replace(seed=3)
    store.path_for(other).write_text(path.read_text())  # a file whose content belongs to another config
    assert store.load(other) is None
    path.write_text('{"format": 1, "config"')  # truncated
    assert store.load(config) is None


def test_summary_groups_runs_that_differ_only_in_strategy_and_seed():
    configs = [
        RunConfig(dataset="Si", strategy=s, seed=seed, batch_size=b, n_initial=10, budget=15)
        for b in (5, 10) for s in ("random", "diversity") for seed in (0, 1)
    ]  # fmt: skip
    finished = {run_key(c): fake_result(c.strategy, c.seed, 0.4 if c.strategy == "random" else 0.2)
                for c in configs if not (c.batch_size == 10 and c.strategy == "diversity" and c.seed == 1)}  # fmt: skip
    summary, curves = summarise_sweep(configs, finished)
    assert list(summary.columns[:6]) == ["dataset", "descriptor", "n_members", "batch_size", "strategy", "planned"]
    assert summary[["batch_size", "strategy", "planned", "runs"]].values.tolist() == [
        [5, "random", 2, 2], [5, "diversity", 2, 2], [10, "random", 2, 2], [10, "diversity", 2, 1]
    ]  # fmt: skip
    assert summary["vs random (%)"].tolist() == pytest.approx([0.0, 50.0, 0.0, 50.0])
    # every fake run picked rows 3 and 4: the same final labelled set, so labels saved is no number, and says why
    assert summary["labels saved (%)"].isna().all()
    assert set(summary["labels saved: why no number"]) == {
        "not comparable (every strategy ends on the same labelled set: the budget uses the whole pool)"
    }
    assert len(curves) == 7 * 2 and set(curves["batch_size"]) == {5, 10}
    empty_summary, empty_curves = summarise_sweep(configs, {})
    assert empty_summary.empty and empty_curves.empty


def test_a_sweep_sets_the_energy_reference_in_its_base_table():
    doc = {"sweep": {"datasets": ["Si"], "strategies": ["random"], "seeds": 1},
           "base": {"energy_reference": "given", "energy_reference_params": {"energies": {"Si": -5.4}}}}  # fmt: skip
    grid = parse_grid(doc, "x.toml")
    assert {r.energy_reference for r in grid.runs} == {"given"}
    doc["base"] = {"energy_reference": "formation"}
    with pytest.raises(GridError, match="unknown energy reference 'formation'"):
        parse_grid(doc, "x.toml")
