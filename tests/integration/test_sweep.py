"""Sweeps end to end on a small extxyz dataset: a real Dask LocalCluster (2 worker processes on 127.0.0.1), local
processes and serial give identical numbers; a sweep killed half-way resumes with only the missing runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from alcore.cli import main
from alcore.datasets import write_extxyz
from alcore.sweep import (
    SweepStore,
    dask_client,
    dask_executor,
    load_grid,
    process_executor,
    run_key,
    run_sweep,
    serial_executor,
)
from tests.synthetic import small_si_c_dataset

REPO = Path(__file__).resolve().parents[2]

SWEEP = """
[sweep]
datasets = ["small.extxyz"]
descriptors = ["rdf"]
strategies = ["random", "diversity"]
seeds = {seeds}
n_members = [2]
batch_sizes = [5]

[base]
n_initial = 10
budget = 20
committee_params = {{ epochs = {epochs}, hidden = [16] }}
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """80 strained/rattled Si and C cells with a smooth fake energy per atom, beside the sweep files."""
    folder = tmp_path_factory.mktemp("sweep")
    ds = small_si_c_dataset()
    write_extxyz(ds, folder / "small.extxyz")
    (folder / "small.toml").write_text(SWEEP.format(seeds=2, epochs=20))
    (folder / "kill.toml").write_text(SWEEP.format(seeds=4, epochs=60))
    return folder


def stored(store, configs):
    return [store.load(c) for c in configs]


def same_numbers(a, b):
    for x, y in zip(a, b, strict=True):
        assert (x.strategy, x.seed) == (y.strategy, y.seed)
        for name in ("n_labels", "mae", "rmse", "spearman", "mean_pool_std"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
        assert all(np.array_equal(s, t) for s, t in zip(x.selected, y.selected, strict=True))


@pytest.fixture(scope="module")
def serial_reference(sweep_dir, tmp_path_factory):
    grid = load_grid(sweep_dir / "small.toml")
    store = SweepStore(tmp_path_factory.mktemp("serial"))
    assert run_sweep(grid.runs, store, serial_executor, stream=None).complete
    return grid, store


def test_a_local_dask_cluster_gives_the_serial_results(serial_reference, tmp_path):
    grid, serial = serial_reference
    messages = []
    store = SweepStore(tmp_path / "dask")
    with dask_client(local_workers=2, dashboard_address="127.0.0.1:0", say=messages.append) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2 and all(address.startswith("tcp://127.0.0.1:") for address in workers)
        report = run_sweep(grid.runs, store, dask_executor(client), stream=None)
    assert report.complete and sorted(report.ran) == sorted(run_key(c) for c in grid.runs)
    assert "2 workers" in messages[0] and "dashboard: http://127.0.0.1:" in messages[0]
    same_numbers(stored(serial, grid.runs), stored(store, grid.runs))
    ran_in = {stored_worker(store, c) for c in grid.runs}
    assert all(w and not w.endswith(f":{os.getpid()}") for w in ran_in)  # the runs really ran in worker processes
    assert (serial.out / "summary.csv").read_text() == (store.out / "summary.csv").read_text()


def test_local_processes_give_the_serial_results(serial_reference, tmp_path):
    grid, serial = serial_reference
    store = SweepStore(tmp_path / "processes")
    assert run_sweep(grid.runs, store, process_executor(2), stream=None).complete
    same_numbers(stored(serial, grid.runs), stored(store, grid.runs))


def stored_worker(store, config):
    return json.loads(store.path_for(config).read_text())["worker"]


def test_a_killed_sweep_resumes_with_only_the_missing_runs(sweep_dir, tmp_path, capsys):
    out = tmp_path / "out"
    runs = out / "runs"
    command = [sys.executable, "-m", "alcore", "sweep", str(sweep_dir / "kill.toml"), "--out", str(out), "--serial"]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    try:
        while len(list(runs.glob("*.json"))) < 2:
            assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no run finished within 120 s"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        stderr = proc.communicate()[1]
    assert "[1/8]" in stderr and "ETA" in stderr
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert 2 <= len(before) < 8, "the kill came too late to leave missing runs"
    assert not (out / "summary.csv").exists()  # the killed driver never got to its summary

    assert main(["sweep", str(sweep_dir / "kill.toml"), "--out", str(out), "--serial"]) == 0
    err = capsys.readouterr().err
    assert f"8 runs, {len(before)} already finished" in err
    assert err.count(" s  elapsed ") == 8 - len(before)  # one progress line per missing run, none for the others
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert len(after) == 8 and all(after[name] == mtime for name, mtime in before.items())
    summary = (out / "summary.csv").read_text().splitlines()
    assert len(summary) == 3 and all(",4,4," in line for line in summary[1:])  # planned 4, finished 4 per strategy


def test_a_failing_run_is_reported_and_the_others_finish(sweep_dir, tmp_path, capsys):
    (tmp_path / "broken.extxyz").write_text("this is not an extxyz file\n")
    (tmp_path / "small.extxyz").symlink_to(sweep_dir / "small.extxyz")
    text = SWEEP.format(seeds=1, epochs=10).replace('["small.extxyz"]', '["small.extxyz", "broken.extxyz"]')
    (tmp_path / "mixed.toml").write_text(text)
    assert main(["sweep", str(tmp_path / "mixed.toml"), "--out", str(tmp_path / "out"), "--serial"]) == 1
    err = capsys.readouterr().err
    assert err.count("failed:") >= 2 and "broken.extxyz" in err
    assert len(list((tmp_path / "out" / "runs").glob("*.json"))) == 2


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(RuntimeError, match="--scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler"):
        with dask_client("tcp://127.0.0.1:1", timeout="1s"):
            pass
