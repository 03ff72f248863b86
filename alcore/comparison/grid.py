"""The grid runner: strategies x seeds on paired initial sets, in parallel processes, and ``RunResult``, the light
summary of one finished run (what crosses process boundaries and what the caches store).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from alcore.config import RunConfig
from alcore.loop import Problem, RoundRecord, run


@dataclass(frozen=True)
class RunResult:
    """The light summary of one finished run that a comparison needs (what crosses process boundaries)."""

    strategy: str
    seed: int
    n_labels: np.ndarray
    mae: np.ndarray
    rmse: np.ndarray
    spearman: np.ndarray
    mean_pool_std: np.ndarray
    selected: tuple[np.ndarray, ...]
    fit_seconds: float
    select_seconds: float
    r2: np.ndarray | None = None  # None in results cached before R² was kept (shown as NaN)

    @classmethod
    def from_rounds(cls, config: RunConfig, rounds: Sequence[RoundRecord]) -> "RunResult":
        """The summary of a run's rounds (a finished grid run, or a run stepped in the app)."""
        col = lambda key: np.array([getattr(r, key) for r in rounds], dtype=float)  # noqa: E731
        return cls(
            strategy=config.strategy,
            seed=config.seed,
            n_labels=np.array([r.n_labels for r in rounds], dtype=int),
            mae=col("mae"),
            rmse=col("rmse"),
            spearman=col("spearman"),
            mean_pool_std=col("mean_pool_std"),
            selected=tuple(r.selected for r in rounds),
            fit_seconds=float(col("fit_seconds").sum()),
            select_seconds=float(col("select_seconds").sum()),
            r2=col("r2"),
        )

    def r2_or_nan(self) -> np.ndarray:
        return self.r2 if self.r2 is not None else np.full(len(self.n_labels), np.nan)

    def to_dict(self) -> dict[str, Any]:
        clean = lambda a: [None if not np.isfinite(v) else float(v) for v in a]  # noqa: E731
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "n_labels": self.n_labels.tolist(),
            "mae": clean(self.mae),
            "rmse": clean(self.rmse),
            "spearman": clean(self.spearman),
            "mean_pool_std": clean(self.mean_pool_std),
            "r2": clean(self.r2_or_nan()),
            "fit_seconds": self.fit_seconds,
            "select_seconds": self.select_seconds,
        }


def run_one(config: RunConfig, problem: Problem, torch_threads: int | None = None) -> RunResult:
    """Run one config to its budget. In a worker process, ``torch_threads`` keeps processes from oversubscribing."""
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    state = run(config, problem.for_config(config))
    return RunResult.from_rounds(config, state.rounds)


def run_grid(
    base: RunConfig,
    problem: Problem,
    strategies: Sequence[str],
    seeds: Sequence[int],
    *,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    strategy_params: dict[str, dict[str, Any]] | None = None,
) -> list[RunResult]:
    """Every strategy x seed from ``base``. Runs with the same seed share their initial set and test split.

    ``n_jobs`` processes (joblib/loky; default: all cores). Results come back in (strategy, seed) order whatever the
    completion order, and are identical for any ``n_jobs``.
    """
    strategy_params = strategy_params or {}
    configs = [
        base.replace(strategy=s, seed=int(seed), strategy_params=dict(strategy_params.get(s, base.strategy_params)))
        for s in strategies
        for seed in seeds
    ]
    n_jobs = n_jobs or os.cpu_count() or 1
    total = len(configs)
    if n_jobs == 1 or total == 1:
        results = []
        for i, cfg in enumerate(configs):
            results.append(run_one(cfg, problem))
            if progress:
                progress(i + 1, total)
        return results
    from joblib import Parallel, delayed

    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator", backend="loky")
    results = []
    outputs = parallel(delayed(run_one)(cfg, problem, threads) for cfg in configs)
    try:
        for i, res in enumerate(outputs):
            results.append(res)
            if progress:
                progress(i + 1, total)
    finally:
        outputs.close()  # if progress raised (e.g. a cancelled page), abandon the remaining runs now
    return results


def result_to_json(result: RunResult) -> dict[str, Any]:
    return result.to_dict() | {"selected": [np.asarray(s).tolist() for s in result.selected]}


def _floats(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{name} has {arr.size} values for {n} rounds")
    return arr


def result_from_json(data: dict[str, Any]) -> RunResult:
    n_labels = np.asarray(data["n_labels"], dtype=int)
    n = len(n_labels)
    if n == 0:
        raise ValueError("a run without rounds")
    return RunResult(
        strategy=str(data["strategy"]),
        seed=int(data["seed"]),
        n_labels=n_labels,
        mae=_floats(data["mae"], n, "mae"),
        rmse=_floats(data["rmse"], n, "rmse"),
        spearman=_floats(data["spearman"], n, "spearman"),
        mean_pool_std=_floats(data["mean_pool_std"], n, "mean_pool_std"),
        r2=_floats(data["r2"], n, "r2") if "r2" in data else None,
        selected=tuple(np.asarray(s, dtype=np.int64) for s in data["selected"]),
        fit_seconds=float(data["fit_seconds"]),
        select_seconds=float(data["select_seconds"]),
    )
