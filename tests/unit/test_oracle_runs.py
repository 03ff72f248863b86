"""Runs labelled by an oracle: only new picks are asked, labels are stored, resume and replay never ask again, and a
failing oracle stops the run at its last good round."""

import json
import time

import numpy as np
import pytest
from ase.calculators.emt import EMT

from alcore.config import RunConfig
from alcore.loop import branch, prepare_dataset, run, start, step
from alcore.manifest import parse_manifest, replay_manifest, run_manifest
from alcore.oracles import CALCULATORS, AseCalculatorOracle, OracleError
from alcore.runs import load_run, save_run
from tests.synthetic import FAST_COMMITTEE, small_cu_al_dataset

EMT_ORACLE = {"oracle": "ase-calculator", "oracle_params": {"calculator": "emt"}}


def _config(**changes):
    options = dict(dataset="cu-al", descriptor="rdf", strategy="uncertainty", committee_params=FAST_COMMITTEE,
                   n_initial=8, batch_size=4, budget=20, test_fraction=0.25) | EMT_ORACLE | changes  # fmt: skip
    return RunConfig(**options)


def _emt(atoms) -> float:
    a = atoms.copy()
    a.calc = EMT()
    return a.get_potential_energy() / len(a)


@pytest.fixture
def asked(monkeypatch):
    """Every structure index the real ase-calculator oracle was asked for, call by call."""
    calls: list[list[int]] = []
    real = AseCalculatorOracle.label

    def counting(self, structures):
        calls.append([s.index for s in structures])
        return real(self, structures)

    monkeypatch.setattr(AseCalculatorOracle, "label", counting)
    return calls


@pytest.fixture(scope="module")
def dataset():
    return small_cu_al_dataset(40)


def test_an_emt_run_asks_only_for_new_picks_and_learns_emt_energies(dataset, asked):
    config = _config()
    problem = prepare_dataset(config, dataset)
    test = problem.split.test
    assert asked == [test.tolist()]  # the test split, once, at prepare
    np.testing.assert_array_equal(problem.y[test], [_emt(dataset.atoms[i]) for i in test])
    assert np.isnan(problem.y[problem.split.pool]).all()  # nothing else is known before a run labels it
    state = run(config, problem)
    assert asked[1] == problem.split.initial.tolist()  # start: the initial set
    assert asked[2:] == [r.selected.tolist() for r in state.rounds if len(r.selected)]  # then each round's picks
    assert sorted(i for call in asked[1:] for i in call) == sorted(state.labelled.tolist())  # nobody twice
    np.testing.assert_array_equal(state.y_labelled, [_emt(dataset.atoms[i]) for i in state.labelled])
    assert state.labels.forces[0].shape == (4, 3) and state.labels.stress[0].shape == (6,)
    assert np.isfinite(state.rounds[-1].mae) and state.rounds[-1].n_labels == config.budget
    # a branch keeps its parent's labels and asks only for its own picks
    before = len(asked)
    child = run(config.replace(strategy="random"), problem, state=branch(state, 2, config.replace(strategy="random")))
    assert [len(c) for c in asked[before:]] == [len(r.selected) for r in child.rounds[2:] if len(r.selected)]


def test_the_target_an_oracle_cannot_provide_is_refused_at_prepare(dataset):
    from alcore.datasets import Dataset

    with_formation = Dataset("cu-al", dataset.atoms, {"energy_per_atom": np.zeros(40),
                             "formation_energy_per_atom": np.zeros(40)}, dataset.ids)  # fmt: skip
    with pytest.raises(ValueError, match="'ase-calculator' cannot provide the target 'formation_energy_per_atom'"):
        prepare_dataset(_config(target="formation_energy_per_atom"), with_formation)


def test_saved_runs_and_manifests_keep_the_labels_so_resume_and_replay_never_ask_again(dataset, asked, tmp_path):
    config = _config()
    full = run(config, prepare_dataset(config, dataset))
    partial = run(config, prepare_dataset(config, dataset), max_rounds=2)
    saved = load_run(save_run(partial, tmp_path / "run.json"))
    assert saved.meta["format"] == "alcore-run/2"
    assert saved.labels.same(partial.labels) and saved.test_labels.same(partial.problem.test_labels)

    del asked[:]
    problem = prepare_dataset(config, dataset, known=saved.known_labels)
    resumed = saved.resume(problem)
    assert asked == []  # neither the test split nor the labelled set is asked again
    finished = run(config, problem, state=resumed)
    assert asked == [r.selected.tolist() for r in finished.rounds[2:] if len(r.selected)]
    assert all(a.same_results(b) for a, b in zip(finished.rounds, full.rounds, strict=True))
    assert finished.labels.same(full.labels)

    manifest = parse_manifest(json.loads(json.dumps(run_manifest(full))), "m.json")
    assert manifest.labels.same(full.labels)
    del asked[:]
    replayed, differences = replay_manifest(manifest, prepare_dataset(config, dataset, known=manifest.known_labels))
    assert differences == [] and asked == []
    assert replayed.labels.same(full.labels)


class FlakyEMT(EMT):
    """EMT that fails on structures flagged ``info["fail"]``: raises, hangs or returns NaN."""

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        flag = atoms.info.get("fail") if atoms is not None else None
        if flag == "raise":
            raise RuntimeError("SCF did not converge")
        if flag == "hang":
            time.sleep(2.0)
        super().calculate(atoms, properties, system_changes)
        if flag == "nan":
            self.results["energy"] = float("nan")


if "flaky-emt" not in CALCULATORS:
    CALCULATORS.add("flaky-emt", FlakyEMT)
FLAKY = {"calculator": "flaky-emt", "timeout": 0.5}


@pytest.mark.parametrize("mode, message", [("raise", "SCF did not converge"), ("hang", "no answer within the timeout"),
                                           ("nan", "target is not finite")])  # fmt: skip
def test_a_failing_oracle_names_the_structure_and_the_run_stays_at_its_last_good_round(mode, message, tmp_path):
    params = {"oracle_params": FLAKY}
    clean = run(_config(**params), prepare_dataset(_config(**params), small_cu_al_dataset(40)), max_rounds=2)
    bad = int(clean.rounds[1].selected[0])  # picked in round 1: labelled at the end of the second step
    flagged = small_cu_al_dataset(40, flags={bad: mode})
    config = _config(**params)
    problem = prepare_dataset(config, flagged)
    first = step(start(config, problem))
    save_run(first, tmp_path / "run.json")
    saved_before = (tmp_path / "run.json").read_bytes()
    with pytest.raises(OracleError, match=message) as caught:
        step(first)
    error = caught.value
    assert (error.structure.index, error.structure.id) == (bad, f"cual{bad}")
    assert f"structure 'cual{bad}' (index {bad})" in str(error)
    with pytest.raises(OracleError) as caught:
        run(config, problem)
    last_good = caught.value.state
    assert len(last_good.rounds) == 1 and last_good.rounds[0].same_results(first.rounds[0])
    assert last_good.labels.same(first.labels)
    assert (tmp_path / "run.json").read_bytes() == saved_before  # nothing saved is lost
    assert load_run(tmp_path / "run.json").labels.same(first.labels)


def test_a_structure_failing_in_the_test_split_stops_prepare_with_its_name():
    config = _config()
    probe = prepare_dataset(config, small_cu_al_dataset(40))
    bad = int(probe.split.test[0])
    with pytest.raises(OracleError, match=f"structure 'cual{bad}' \\(index {bad}\\)"):
        prepare_dataset(_config(oracle_params=FLAKY), small_cu_al_dataset(40, flags={bad: "raise"}))


def test_exports_and_the_map_show_the_oracle_labels_not_the_dataset_placeholders(dataset):
    from alcore.explain import map_frame
    from alcore.exports import training_set

    config = _config()
    state = run(config, prepare_dataset(config, dataset), max_rounds=2)
    exported = training_set(state, 1)
    rows = [dataset.ids.index(i) for i in exported.ids]
    assert rows == state.labelled.tolist()
    np.testing.assert_array_equal(exported.energy_per_atom, [_emt(dataset.atoms[i]) for i in rows])
    np.testing.assert_array_equal(exported.forces[0], state.labels.forces[0])
    assert exported.target("al_round").tolist() == [0.0] * 8 + [1.0] * 4 + [2.0] * 4
    frame = map_frame(state, 0, np.zeros((40, 2)))
    assert frame["id"].tolist() == list(dataset.ids) and frame["formula"].iloc[0] == "Al4"
    known = np.concatenate([state.rounds[0].labelled, state.rounds[0].selected])
    np.testing.assert_array_equal(frame["target"].to_numpy()[known], state.labels.target[: len(known)])
    later = np.setdiff1d(state.labelled, known)
    assert frame["target"].iloc[later].isna().all()  # labelled only after the round shown: not shown yet


def test_an_emt_comparison_on_two_processes_matches_the_serial_one(dataset):
    from alcore.comparison.grid import run_grid

    config = _config(budget=12)
    problem = prepare_dataset(config, dataset)
    serial = run_grid(config, problem, ["random", "uncertainty"], [0, 1], n_jobs=1)
    parallel = run_grid(config, problem, ["random", "uncertainty"], [0, 1], n_jobs=2)
    assert [r.mae.tolist() for r in parallel] == [r.mae.tolist() for r in serial]


def test_the_cli_saves_the_last_good_round_before_reporting_an_oracle_failure(tmp_path):
    from alcore.cli import _save_on_oracle_error

    config = _config(oracle_params=FLAKY)
    clean = run(config, prepare_dataset(config, small_cu_al_dataset(40)), max_rounds=3)
    bad = int(clean.rounds[2].selected[0])
    problem = prepare_dataset(config, small_cu_al_dataset(40, flags={bad: "raise"}))
    with pytest.raises(OracleError, match=f"cual{bad}"), _save_on_oracle_error(tmp_path / "run.json"):
        run(config, problem)
    saved = load_run(tmp_path / "run.json")
    assert len(saved.rounds) == 2 and all(a.same_results(b) for a, b in zip(saved.rounds, clean.rounds[:2]))
    assert bad not in saved.labels.indices
