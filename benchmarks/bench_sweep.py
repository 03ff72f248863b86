"""Sweep throughput on a Dask LocalCluster: 40 small runs with 2 workers vs 1 worker (target: >= 1.7x).

    python benchmarks/bench_sweep.py [--runs 40] [--epochs 150] [--repeats 2]

Prints numbers; it is not a test. Workers are warmed first (imports + the prepared Problem), so the timings compare
the runs themselves; the warm-up and cluster start are printed separately. On a shared machine other work takes
cores away, so the script also prints the load average, the time inside a run on each side, and the speed-up two
plain processes get at the same moment (the ceiling for any scheduler).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing alcore


def grid_doc(n_runs: int, epochs: int) -> dict:
    strategies = ["random", "uncertainty", "diversity", "hybrid"]
    if n_runs % len(strategies):
        raise SystemExit(f"--runs must be a multiple of {len(strategies)}")
    return {
        "sweep": {"datasets": ["Si"], "descriptors": ["rdf"], "strategies": strategies,
                  "seeds": n_runs // len(strategies), "n_members": [3], "batch_sizes": [10]},  # fmt: skip
        "base": {"n_initial": 20, "budget": 60, "committee_params": {"epochs": epochs, "hidden": [32]}},
    }


def warm(config_dict: dict) -> int:
    """Import the heavy libraries and prepare the Problem in this worker process (what a first task would do)."""
    from alcore.config import RunConfig
    from alcore.sweep.execute import _problem_for

    _problem_for(RunConfig.from_dict(config_dict))
    return os.getpid()


def serial_seconds(config_dicts: list[dict]) -> float:
    """Wall time of running ``config_dicts`` one after another in this process (after one warm-up run)."""
    from alcore.config import RunConfig
    from alcore.sweep.execute import run_task

    configs = [RunConfig.from_dict(c) for c in config_dicts]
    run_task(configs[0])
    started = time.perf_counter()
    for config in configs:
        run_task(config)
    return time.perf_counter() - started


def machine_ceiling(runs) -> float:
    """The speed-up two plain processes get right now (no Dask): 2 x (one alone) / (two at once). On an idle
    2-core machine it is ~2; when other work holds a core it drops, and no scheduler can beat it."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    dicts = [c.to_dict() for c in runs[:12]]
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        alone = pool.submit(serial_seconds, dicts).result()
        pair = [pool.submit(serial_seconds, dicts) for _ in range(2)]
        slowest = max(future.result() for future in pair)
    return 2 * alone / slowest


def timed_sweep(n_workers: int, runs, out: Path) -> tuple[float, float, float]:
    """(cluster start s, warm-up s, sweep s) on a fresh LocalCluster of ``n_workers`` single-threaded processes."""
    from alcore.sweep import SweepStore, dask_client, dask_executor, run_sweep

    t0 = time.perf_counter()
    with dask_client(local_workers=n_workers, dashboard_address="127.0.0.1:0", say=lambda m: None) as client:
        t1 = time.perf_counter()
        client.run(warm, runs[0].to_dict())
        t2 = time.perf_counter()
        report = run_sweep(runs, SweepStore(out), dask_executor(client), stream=None)
        t3 = time.perf_counter()
    if not report.complete:
        raise SystemExit(f"{len(report.failed)} runs failed: {next(iter(report.failed.values()))}")
    return t1 - t0, t2 - t1, t3 - t2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=2, help="alternating 1- and 2-worker sweeps; medians reported")
    args = parser.parse_args()

    from alcore.sweep import SweepStore, parse_grid

    runs = parse_grid(grid_doc(args.runs, args.epochs), "bench_sweep").runs
    print(f"{len(runs)} runs: {runs[0].dataset} / {runs[0].descriptor}, budget {runs[0].budget}, "
          f"{runs[0].committee_params}; {os.cpu_count()} CPUs; load average before {os.getloadavg()}")  # fmt: skip
    timings: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for n in (1, 2) if repeat % 2 == 0 else (2, 1):
                timings[n].append(timed_sweep(n, runs, Path(tmp) / f"w{n}-{repeat}"))
                print(f"  repeat {repeat}, {n} worker(s): {timings[n][-1][2]:.1f} s; load {os.getloadavg()[0]:.2f}")
        per_run = {n: float(np.mean([json.loads(p.read_text())["seconds"] for p in (Path(tmp) / f"w{n}-0").glob("runs/*.json")]))
                   for n in (1, 2)}  # fmt: skip
        same = all(
            np.array_equal(a.mae, b.mae) and all(np.array_equal(x, y) for x, y in zip(a.selected, b.selected))
            for a, b in zip(*(SweepStore(Path(tmp) / f"w{n}-0").finished(runs).values() for n in (1, 2)))
        )
    median = {n: float(np.median([t[2] for t in ts])) for n, ts in timings.items()}
    for n, ts in timings.items():
        start, warmup = np.median([t[0] for t in ts]), np.median([t[1] for t in ts])
        print(f"{n} worker(s): cluster start {start:5.1f} s, warm-up {warmup:5.1f} s, "
              f"{len(runs)} runs {median[n]:6.1f} s median ({median[n] / len(runs):.2f} s/run)")  # fmt: skip
    print(f"speed-up 2 vs 1 worker: {median[1] / median[2]:.2f}x (target >= 1.7x); identical results: {same}")
    print(f"mean time inside a run (worker side): 1 worker {per_run[1]:.2f} s, 2 workers {per_run[2]:.2f} s "
          "(a rise means the workers compete for the CPUs)")
    ceiling = machine_ceiling(runs)
    print(f"ceiling now: two plain processes (no Dask) run {ceiling:.2f}x as fast as one; load average after "
          f"{os.getloadavg()}")  # fmt: skip


if __name__ == "__main__":
    main()
