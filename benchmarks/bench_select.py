"""Time and peak memory of every registered strategy on synthetic pools (5 000 and 100 000 rows × 100 features,
500 labelled, batch 15). Each measurement runs in a fresh process so its peak RSS is its own.

    python benchmarks/bench_select.py [--sizes 5000 100000] [--repeats 3]

Target: every strategy < 2 s (the whole round, model included, must stay < 5 s) and < 2 GB at 100 000 rows.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing alcore

N_FEATURES = 100
N_LABELLED = 500
BATCH = 15


def synthetic_view(n_pool: int, seed: int = 0):
    """A standardised-looking pool: a mixture of 30 Gaussian blobs, plus a fake committee std."""
    from alcore.strategies import PoolView

    g = np.random.default_rng(seed)
    centres = g.normal(0.0, 2.0, size=(30, N_FEATURES))
    X = centres[g.integers(30, size=n_pool + N_LABELLED)] + g.normal(size=(n_pool + N_LABELLED, N_FEATURES))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return PoolView(mean=g.normal(size=n_pool), std=g.gamma(2.0, 0.05, size=n_pool), X_pool=X[:n_pool],
                    X_labelled=X[n_pool:])


def peak_rss_mb(reset: bool = False) -> float:
    """The process's peak RSS in MB. On Linux ``reset`` restarts the peak from the current RSS (``clear_refs`` 5), so
    building the synthetic pool does not hide the selection's own peak; elsewhere the peak is since process start."""
    status = Path("/proc/self/status")
    if not status.exists():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, n_pool: int, repeats: int) -> tuple[float, float, float]:
    """(median seconds, RSS in MB before selecting, peak RSS in MB while selecting) for one strategy, in this (fresh)
    process."""
    from alcore.strategies import select

    select(name, synthetic_view(200, seed=1), BATCH, np.random.default_rng(0))  # warm up imports and thread pools
    view = synthetic_view(n_pool)
    before = peak_rss_mb(reset=True)
    times = []
    for repeat in range(repeats):
        start = time.perf_counter()
        select(name, view, BATCH, np.random.default_rng(repeat))
        times.append(time.perf_counter() - start)
    return statistics.median(times), before, peak_rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from alcore.strategies import STRATEGIES

    print(f"{'pool':>8} {'strategy':<20} {'select s':>9} {'RSS before MB':>14} {'peak RSS MB':>12}")
    for n_pool in args.sizes:
        for name in STRATEGIES.names():
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as executor:
                seconds, before, peak = executor.submit(measure, name, n_pool, args.repeats).result()
            print(f"{n_pool:>8} {name:<20} {seconds:>9.3f} {before:>14.0f} {peak:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
