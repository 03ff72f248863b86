"""Saved runs: round trip, resume = continuation, corruption reported, atomic replacement."""

import json

import numpy as np
import pytest

from alcore.loop import run
from alcore.runs import load_run, save_run
from tests.synthetic import synthetic_problem as _problem


def test_save_load_round_trip_is_exact(tmp_path):
    config, problem = _problem(strategy="diversity")
    state = run(config, problem)
    path = save_run(state, tmp_path / "run.json")
    saved = load_run(path)
    assert saved.config == config
    assert all(a.same_results(b) for a, b in zip(saved.rounds, state.rounds, strict=True))
    assert [r.fit_seconds for r in saved.rounds] == [r.fit_seconds for r in state.rounds]


def test_resume_gives_exactly_the_continuation(tmp_path):
    config, problem = _problem(strategy="hybrid")
    full = run(config, problem)
    partial = run(config, problem, max_rounds=2)
    saved = load_run(save_run(partial, tmp_path / "partial"))
    resumed = run(config, problem, state=saved.resume(problem))
    assert all(a.same_results(b) for a, b in zip(resumed.rounds, full.rounds, strict=True))


def test_resume_refuses_another_dataset(tmp_path):
    config, problem = _problem(strategy="random")
    saved = load_run(save_run(run(config, problem, max_rounds=1), tmp_path / "r"))
    _, other = _problem(seed=3, strategy="random")
    other = type(other)(**{**other.__dict__, "dataset_fingerprint": "different"})
    with pytest.raises(ValueError, match="dataset"):
        saved.resume(other)


def test_overwrite_keeps_one_consistent_pair(tmp_path):
    config, problem = _problem(strategy="random")
    path = tmp_path / "run.json"
    save_run(run(config, problem, max_rounds=1), path)
    save_run(run(config, problem, max_rounds=3), path)
    assert len(list(tmp_path.glob("run.*.npz"))) == 1
    assert len(load_run(path).rounds) == 3
    assert not list(tmp_path.glob(".*tmp"))


def test_corruption_is_reported_with_the_file_name(tmp_path):
    config, problem = _problem(strategy="random")
    path = save_run(run(config, problem, max_rounds=1), tmp_path / "run.json")
    npz = next(tmp_path.glob("run.*.npz"))
    npz.write_bytes(npz.read_bytes()[:100])
    with pytest.raises(ValueError, match="run"):
        load_run(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=str(path.name)):
        load_run(path)
    path.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not an alcore run"):
        load_run(path)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_run(tmp_path / "missing.json")


def test_tampered_arrays_fail_the_hash(tmp_path):
    config, problem = _problem(strategy="random")
    path = save_run(run(config, problem, max_rounds=1), tmp_path / "run.json")
    npz = next(tmp_path.glob("run.*.npz"))
    arrays = dict(np.load(npz))
    arrays["r0_selected"] = arrays["r0_selected"][::-1].copy()
    with open(npz, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    with pytest.raises(ValueError, match="do not match the hash"):
        load_run(path)


def _as_format_1(path):
    """Rewrite a saved run as alcore 0.x wrote it (format alcore-run/1): no labels in its arrays, no oracle in its
    config."""
    from alcore.atomic import read_npz, write_npz
    from alcore.runs import _npz_digest

    doc = json.loads(path.read_text(encoding="utf-8"))
    arrays = {k: v for k, v in read_npz(path.with_name(doc["arrays"]["file"])).items() if not k.startswith("labels_")}
    assert len(arrays) < len(read_npz(path.with_name(doc["arrays"]["file"])))
    digest = _npz_digest(arrays)
    write_npz(path.with_name(f"{path.stem}.{digest}.npz"), **arrays)
    for config in [doc["config"]] + [seg["config"] for seg in doc["lineage"]]:
        del config["oracle"], config["oracle_params"]
    doc |= {"format": "alcore-run/1", "arrays": {"file": f"{path.stem}.{digest}.npz", "sha256": digest}}
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_runs_saved_in_format_1_still_load_and_resume_exactly(tmp_path):
    config, problem = _problem(strategy="uncertainty")
    full = run(config, problem)
    path = save_run(run(config, problem, max_rounds=2), tmp_path / "old.json")
    _as_format_1(path)
    saved = load_run(path)
    assert saved.meta["format"] == "alcore-run/1" and saved.labels is None and saved.config == config
    resumed = saved.resume(problem)  # the dataset oracle reveals the labels again
    np.testing.assert_array_equal(resumed.y_labelled, problem.y[resumed.labelled])
    finished = run(config, problem, state=resumed)
    assert all(a.same_results(b) for a, b in zip(finished.rounds, full.rounds, strict=True))
    assert load_run(save_run(finished, path)).meta["format"] == "alcore-run/2"  # saved again in the new format


def test_an_unknown_run_format_is_refused_with_its_version(tmp_path):
    config, problem = _problem(strategy="random")
    path = save_run(run(config, problem, max_rounds=1), tmp_path / "run.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(doc | {"format": "alcore-run/9"}), encoding="utf-8")
    with pytest.raises(ValueError, match="run.json: saved in format 'alcore-run/9', which this alcore cannot read"):
        load_run(path)


def test_saved_labels_that_do_not_match_the_labelled_set_are_refused(tmp_path):
    config, problem = _problem(strategy="random")
    saved = load_run(save_run(run(config, problem, max_rounds=1), tmp_path / "run.json"))
    shifted = type(saved)(**{**saved.__dict__, "labels": saved.labels.take(slice(1, None))})
    with pytest.raises(ValueError, match="labels do not match its labelled set"):
        shifted.resume(problem)
