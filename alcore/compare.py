"""Strategies x seeds on paired initial sets, run in parallel processes, and the statistics that compare them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from scipy.stats import mannwhitneyu, wilcoxon

from alcore.config import RunConfig
from alcore.loop import Problem, run


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
            "fit_seconds": self.fit_seconds,
            "select_seconds": self.select_seconds,
        }


def run_one(config: RunConfig, problem: Problem, torch_threads: int | None = None) -> RunResult:
    """Run one config to its budget. In a worker process, ``torch_threads`` keeps processes from oversubscribing."""
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    state = run(config, problem.for_config(config))
    rounds = state.rounds
    col = lambda key: np.array([getattr(r, key) for r in rounds], dtype=float)  # noqa: E731
    return RunResult(
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
    )


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


@dataclass(frozen=True)
class StrategySummary:
    strategy: str
    n_runs: int
    final_mae_mean: float
    final_mae_std: float
    improvement_pct: float | None  # lower final MAE than random, in % of random's (positive = better)
    labels_to_target: float | None  # labels at which the mean curve first reaches random's final mean MAE
    labels_saved_pct: float | None  # % fewer labels than random needed for that MAE
    aulc: float  # area under the MAE-vs-labels curve, divided by the label range (a mean MAE over the run)
    p_value: float | None  # Mann-Whitney U (two-sided) on final MAEs vs random
    p_value_paired: float | None  # Wilcoxon signed-rank on per-seed final MAEs vs random (paired by seed)

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in self.__dict__.items()}


def mean_curve(results: Sequence[RunResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_labels, mean MAE, std MAE) over runs; runs must share the label grid (same protocol)."""
    grid = results[0].n_labels
    for r in results:
        if not np.array_equal(r.n_labels, grid):
            raise ValueError("runs do not share a label grid: compare runs of the same protocol only")
    maes = np.stack([r.mae for r in results])
    std = maes.std(axis=0, ddof=1) if len(results) > 1 else np.zeros(len(grid))
    return grid, maes.mean(axis=0), std


def labels_to_reach(n_labels: np.ndarray, mae: np.ndarray, target: float) -> float | None:
    """First label count where the curve reaches ``target``, linearly interpolated between rounds; None if never."""
    hits = np.nonzero(mae <= target)[0]
    if len(hits) == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(n_labels[0])
    x0, x1, y0, y1 = n_labels[i - 1], n_labels[i], mae[i - 1], mae[i]
    return float(x0 + (y0 - target) * (x1 - x0) / (y0 - y1))


def aulc(n_labels: np.ndarray, mae: np.ndarray) -> float:
    """Trapezoidal area under the learning curve over its label range (equal to a mean MAE; lower is better)."""
    span = float(n_labels[-1] - n_labels[0])
    if span <= 0:
        return float(mae[0])
    return float(np.trapezoid(mae, n_labels) / span)


def summarise(results: Sequence[RunResult], baseline: str = "random") -> dict[str, StrategySummary]:
    """Per-strategy statistics against ``baseline`` (when it was run)."""
    by_strategy: dict[str, list[RunResult]] = {}
    for r in results:
        by_strategy.setdefault(r.strategy, []).append(r)
    base_runs = by_strategy.get(baseline)
    base_final = {r.seed: r.mae[-1] for r in base_runs} if base_runs else {}
    base_target = float(np.mean(list(base_final.values()))) if base_final else None
    base_labels = None
    if base_runs:
        grid, base_mean, _ = mean_curve(base_runs)
        base_labels = labels_to_reach(grid, base_mean, base_target)

    summary = {}
    for name, runs in by_strategy.items():
        grid, mean, _ = mean_curve(runs)
        finals = np.array([r.mae[-1] for r in runs])
        improvement = labels = saved = p = p_paired = None
        if base_target is not None:
            improvement = float((base_target - finals.mean()) / base_target * 100.0)
            labels = labels_to_reach(grid, mean, base_target)
            if labels is not None and base_labels:
                saved = float((base_labels - labels) / base_labels * 100.0)
            if name != baseline:
                p = _mann_whitney(finals, np.array(list(base_final.values())))
                p_paired = _paired_wilcoxon({r.seed: r.mae[-1] for r in runs}, base_final)
        summary[name] = StrategySummary(
            strategy=name,
            n_runs=len(runs),
            final_mae_mean=float(finals.mean()),
            final_mae_std=float(finals.std(ddof=1)) if len(finals) > 1 else 0.0,
            improvement_pct=improvement,
            labels_to_target=labels,
            labels_saved_pct=saved,
            aulc=float(np.mean([aulc(r.n_labels, r.mae) for r in runs])),
            p_value=p,
            p_value_paired=p_paired,
        )
    return summary


def _mann_whitney(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _paired_wilcoxon(a: dict[int, float], b: dict[int, float]) -> float | None:
    seeds = sorted(set(a) & set(b))
    diffs = np.array([a[s] - b[s] for s in seeds])
    if len(seeds) < 2 or np.all(diffs == 0):
        return None
    return float(wilcoxon(diffs).pvalue)
