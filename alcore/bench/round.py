"""``python -m alcore.bench round``: wall time of one active-learning round, our committee vs scikit-learn's.

A round = fit the committee on the labelled rows + predict mean/std on the pool + pick the ``--select`` rows of
highest committee std. Both committees see the same data and options (same widths, epochs, members); the test MAE
shows what the speed buys. A second measurement times one round of our committee on a large synthetic pool and
reports the process's peak memory (``resource.getrusage`` max RSS: torch allocations are invisible to tracemalloc).
Thread counts are whatever torch / BLAS chose (set ``OMP_NUM_THREADS`` to change them).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alcore.atomic import read_npz

COMPARED = ("mlp", "sklearn-mlp")
N_LATENT = 6  # hidden coordinates behind the synthetic descriptors


def synthetic_descriptors(
    n_rows: int, n_features: int = 100, seed: int = 0, chunk: int = 16384
) -> tuple[np.ndarray, np.ndarray]:
    """Descriptor-like data: ``n_features`` correlated, smooth functions of six hidden coordinates
    (standardised, float32) and an energy-per-atom-like target (about -7.5 eV/atom with ~0.13 eV spread) that is a
    smooth nonlinear function of the same coordinates. Built in chunks so a 100 000-row pool stays near its own size.
    """
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(N_LATENT, n_features)) * (1.5 / np.sqrt(N_LATENT))
    offset = rng.normal(size=n_features)
    Z = rng.normal(size=(n_rows, N_LATENT))
    X = np.empty((n_rows, n_features), dtype=np.float32)
    for start in range(0, n_rows, chunk):
        z = Z[start : start + chunk]
        X[start : start + chunk] = np.tanh(z @ mixing + offset) + 0.05 * rng.normal(size=(len(z), n_features))
    X -= X.mean(axis=0, dtype=np.float64).astype(np.float32)
    X /= np.maximum(X.std(axis=0, dtype=np.float64), 1e-12).astype(np.float32)
    smooth = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] ** 2 + 0.5 * Z[:, 2] * Z[:, 3] + np.tanh(Z[:, 4]) - 0.3 * Z[:, 5]
    y = -7.5 + 0.1 * smooth + 0.002 * rng.normal(size=n_rows)
    return X, y


def load_features(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``X`` (n, d) and ``y`` (n,) from an ``.npz`` written by the user (read without pickle)."""
    try:
        arrays = read_npz(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read as .npz ({exc})") from None
    missing = [key for key in ("X", "y") if key not in arrays]
    if missing:
        raise ValueError(f"{path}: missing array(s) {missing}; expected X (n, d) and y (n,), found {sorted(arrays)}")
    X, y = np.asarray(arrays["X"], dtype=np.float32), np.asarray(arrays["y"], dtype=float)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"{path}: X must be (n, d) and y (n,), got X {X.shape} and y {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError(f"{path}: X or y contains NaN or inf")
    return X, y


@dataclass
class RoundResult:
    fit: float
    predict: float
    select: float
    test_mae: float
    epochs: float

    @property
    def total(self) -> float:
        return self.fit + self.predict + self.select


def timed_round(committee, X_lab, y_lab, X_pool, n_select, X_test=None, y_test=None, strategy="diversity") -> RoundResult:
    """Fit, predict the pool, and select with a registered strategy, exactly as a loop round does."""
    from alcore.strategies import PoolView, select

    t0 = time.perf_counter()
    committee.fit(X_lab, y_lab)
    t1 = time.perf_counter()
    mean, std = committee.predict(X_pool, return_std=True)
    t2 = time.perf_counter()
    view = PoolView(mean=mean, std=std, X_pool=X_pool, X_labelled=X_lab)
    select(strategy, view, n_select, np.random.default_rng(0))
    t3 = time.perf_counter()
    mae = float("nan") if X_test is None else float(np.mean(np.abs(committee.predict(X_test) - y_test)))
    return RoundResult(t1 - t0, t2 - t1, t3 - t2, mae, float(np.mean(committee.n_epochs_)))


def current_rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def split_rows(n_rows: int, n_labelled: int, n_pool: int, n_test: int, seed: int):
    """Shuffle rows with ``seed`` into labelled / pool / test, shrinking pool and test to fit small files."""
    if n_rows < n_labelled + 2:
        raise ValueError(f"need more than {n_labelled} rows for {n_labelled} labelled rows, got {n_rows}")
    order = np.random.default_rng(seed).permutation(n_rows)
    rest = n_rows - n_labelled
    n_test = min(n_test, max(1, rest // 3))
    n_pool = min(n_pool, rest - n_test)
    lab, test = order[:n_labelled], order[n_labelled : n_labelled + n_test]
    return lab, order[n_labelled + n_test : n_labelled + n_test + n_pool], test


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m alcore.bench round", description=__doc__.splitlines()[0])
    parser.add_argument("--features", help="an .npz with arrays X (n, d) and y (n,); default: synthetic data")
    parser.add_argument("--labelled", type=int, default=500)
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--select", type=int, default=15)
    parser.add_argument("--strategy", default="diversity", help="registered selection strategy (default: %(default)s)")
    parser.add_argument("--n-features", type=int, default=100, help="columns of the synthetic data")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="default: the committees' default")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per committee (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--large-pool", type=int, default=100_000, help="rows of the large-pool round (0 skips it)")
    parser.add_argument("--large-features", type=int, default=100)
    args = parser.parse_args(argv)
    for name in ("labelled", "pool", "test", "select", "n_features", "members", "repeats", "large_features"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.large_pool and args.large_pool < args.select:
        parser.error("--large-pool must be 0 (skip) or at least --select")
    return args


def committee_params(args, repeat: int) -> dict:
    params = {"n_members": args.members, "random_state": args.seed + repeat}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    return params


def run_large_pool(args) -> None:
    from alcore.committee import make_committee

    n_rows = args.labelled + args.large_pool
    X, y = synthetic_descriptors(n_rows, args.large_features, seed=args.seed + 1)
    X_lab, y_lab, X_pool = X[: args.labelled], y[: args.labelled], X[args.labelled :]
    warm_up = {**committee_params(args, 0), "epochs": 2}
    make_committee("mlp", **warm_up).fit(X_lab[:50], y_lab[:50])  # untimed: first calls initialise torch kernels
    rss_before = current_rss_mb()
    result = timed_round(
        make_committee("mlp", **committee_params(args, 0)), X_lab, y_lab, X_pool, args.select, strategy=args.strategy
    )
    peak = peak_rss_mb()
    above = "" if rss_before is None else f", {peak - rss_before:.0f} MB above the RSS before the round"
    print(
        f"large pool: {args.large_pool} x {args.large_features} pool, {args.labelled} labelled, mlp committee, "
        f"{args.strategy} selection: "
        f"round {result.total:.2f} s (fit {result.fit:.2f}, predict {result.predict:.2f}, select {result.select:.3f}); "
        f"process peak RSS {peak:.0f} MB{above}"
    )
    print(f"  target < 5 s and < 2 GB: {'met' if result.total < 5 and peak < 2048 else 'NOT met'}")


def run_comparison(args) -> None:
    from alcore.committee import make_committee

    if args.features:
        X, y = load_features(args.features)
        source = f"{args.features} ({X.shape[1]} features)"
    else:
        X, y = synthetic_descriptors(args.labelled + args.pool + args.test, args.n_features, seed=args.seed)
        source = f"synthetic descriptor-like data, {args.n_features} features, seed {args.seed}"
    lab, pool, test = split_rows(len(y), args.labelled, args.pool, args.test, args.seed)
    print(f"data: {source}; {len(lab)} labelled, {len(pool)} pool, {len(test)} test; select {args.select} with {args.strategy}")
    if args.select > len(pool):
        raise ValueError(f"--select {args.select} is larger than the pool ({len(pool)} rows)")

    results: dict[str, list[RoundResult]] = {}
    for name in COMPARED:
        make_committee(name, **{**committee_params(args, 0), "epochs": 2}).fit(X[lab[:50]], y[lab[:50]])  # warm-up
        results[name] = [
            timed_round(make_committee(name, **committee_params(args, r)), X[lab], y[lab], X[pool], args.select,
                        X[test], y[test], strategy=args.strategy)
            for r in range(args.repeats)
        ]
    header = ("committee", "round s", "fit s", "predict s", "select s", "test MAE", "epochs")
    print(f"{header[0]:<12} " + " ".join(f"{h:>9}" for h in header[1:]))
    medians = {}
    for name, runs in results.items():
        med = {key: statistics.median(getattr(r, key) for r in runs) for key in ("total", "fit", "predict", "select")}
        mae = float(np.mean([r.test_mae for r in runs]))
        epochs = float(np.mean([r.epochs for r in runs]))
        medians[name] = (med["total"], mae, med["fit"] + med["predict"])
        print(
            f"{name:<12} {med['total']:>9.3f} {med['fit']:>9.3f} {med['predict']:>9.3f} {med['select']:>9.4f} "
            f"{mae:>9.4f} {epochs:>9.0f}"
        )
    (ours, ours_mae, ours_model), (theirs, theirs_mae, theirs_model) = medians["mlp"], medians["sklearn-mlp"]
    seeds = f"random_state {args.seed}..{args.seed + args.repeats - 1}"
    print(f"(times: median of {args.repeats} rounds, {seeds}; test MAE: their mean, in the units of y)")
    print(
        f"speed-up mlp vs sklearn-mlp: {theirs / ours:.1f}x per round, {theirs_model / ours_model:.1f}x for the "
        f"committee alone (fit + predict); MAE ratio mlp/sklearn-mlp: {ours_mae / theirs_mae:.2f}"
    )
    met = theirs / ours >= 3 and ours_mae <= theirs_mae
    print(f"  target >= 3x at equal or lower MAE: {'met' if met else 'NOT met'}")
    print(f"  target < 0.3 s per round: {'met' if ours < 0.3 else 'NOT met'} ({ours:.3f} s)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import sklearn
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"alcore round benchmark: python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    try:
        if args.large_pool:
            run_large_pool(args)  # first: the peak RSS then reflects this round, not the comparison
        run_comparison(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
