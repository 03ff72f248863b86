"""Branching a run and replaying it (and plain runs) from an exported manifest."""

import json

import numpy as np
import pytest

from alcore.loop import branch, replay_segments, run, start
from alcore.manifest import parse_manifest, read_manifest, replay_manifest, run_manifest
from alcore.runs import load_run, save_run
from tests.synthetic import synthetic_problem


@pytest.fixture(scope="module")
def parent():
    config, problem = synthetic_problem(strategy="uncertainty", budget=70)
    return run(config, problem)


def test_branch_keeps_the_parent_and_continues_with_the_new_strategy(parent):
    child = branch(parent, 2, parent.config.replace(strategy="diversity"))
    assert len(child.rounds) == 2 and child.lineage == ((parent.config, 2),)
    np.testing.assert_array_equal(child.labelled, parent.rounds[2].labelled)
    finished = run(child.config, child.problem, state=child)
    assert finished.rounds[:2] == parent.rounds[:2]
    assert [r.n_labels for r in finished.rounds] == [r.n_labels for r in parent.rounds]
    assert not np.array_equal(finished.rounds[2].selected, parent.rounds[2].selected)
    assert len(parent.rounds) == 6  # the parent is unchanged


def test_branch_refuses_to_change_the_data_or_go_out_of_range(parent):
    with pytest.raises(ValueError, match="cannot change seed"):
        branch(parent, 2, parent.config.replace(seed=3))
    with pytest.raises(ValueError, match="rounds 1..6"):
        branch(parent, 0, parent.config)
    with pytest.raises(ValueError, match="budget"):
        branch(parent, 4, parent.config.replace(budget=40))


def test_branch_of_a_branch_replays_exactly(parent):
    b1 = run(None, None, state=branch(parent, 2, parent.config.replace(strategy="random")), max_rounds=2)
    b2 = run(None, None, state=branch(b1, 3, parent.config.replace(strategy="kcenter")))
    assert [n for _, n in b2.lineage] == [2, 1]
    again = replay_segments(b2.lineage, parent.problem, b2.config)
    assert len(again.rounds) == len(b2.rounds)
    assert all(a.same_results(b) for a, b in zip(again.rounds, b2.rounds))


def test_manifest_round_trip_replays_identically(parent, tmp_path):
    child = run(None, None, state=branch(parent, 3, parent.config.replace(strategy="hybrid", strategy_params={"alpha": 0.3})))
    path = tmp_path / "m.json"
    path.write_text(json.dumps(run_manifest(child)))
    manifest = read_manifest(path)
    assert manifest.n_rounds == len(child.rounds)
    state, differences = replay_manifest(manifest, parent.problem)
    assert differences == []
    doc = run_manifest(child)
    doc["selected"][1][0] = int(doc["selected"][1][0]) + 1
    _, differences = replay_manifest(parse_manifest(doc), parent.problem)
    assert differences == ["round 1: different structures selected"]


def test_manifest_errors_name_the_source(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        read_manifest(bad)
    with pytest.raises(ValueError, match="x.json: not an alcore run manifest"):
        parse_manifest({"format": "other"}, "x.json")
    with pytest.raises(ValueError, match="incomplete"):
        parse_manifest({"format": "alcore-manifest/1", "config": {}}, "y.json")


def test_saved_branch_keeps_its_lineage(parent, tmp_path):
    child = branch(parent, 2, parent.config.replace(strategy="random"))
    loaded = load_run(save_run(child, tmp_path / "b.json"))
    assert loaded.lineage == child.lineage
    assert loaded.resume(parent.problem).lineage == child.lineage
    assert start(parent.config, parent.problem).lineage == ()


def test_training_set_export_reads_back_with_the_round_of_each_label():
    import io

    import ase.io

    from alcore.config import RunConfig
    from alcore.datasets import load_dataset
    from alcore.exports import extxyz_bytes, training_set
    from alcore.loop import prepare

    config = RunConfig(dataset="Si", budget=60, committee_params={"n_members": 2, "epochs": 5})
    state = run(config, prepare(config))
    exported = training_set(state, 1)
    assert len(exported) == 60
    frames = ase.io.read(io.StringIO(extxyz_bytes(exported).decode()), index=":", format="extxyz")
    assert [f.info["al_round"] for f in frames] == [0.0] * 30 + [1.0] * 15 + [2.0] * 15
    dataset = load_dataset("Si")
    first = dataset.ids.index(frames[0].info["id"])
    assert frames[0].get_potential_energy() == pytest.approx(dataset.energy_per_atom[first] * len(frames[0]))


def test_a_manifest_without_labels_format_1_replays_with_the_dataset_oracle(parent):
    doc = run_manifest(parent)
    assert doc["format"] == "alcore-manifest/2" and doc["labels"]["indices"] == parent.labelled.tolist()
    old = {k: v for k, v in doc.items() if k not in ("labels", "test_labels")} | {"format": "alcore-manifest/1"}
    manifest = parse_manifest(json.loads(json.dumps(old)), "old.json")
    assert manifest.labels is None
    state, differences = replay_manifest(manifest, parent.problem)
    assert differences == [] and state.labels.same(parent.labels)
