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
