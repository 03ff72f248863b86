"""The statistics that compare strategies: final MAE vs a baseline, labels to reach its MAE, AULC, Mann-Whitney and
paired Wilcoxon p-values, and mean curves with std or t-interval bands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.stats import mannwhitneyu, wilcoxon
from scipy.stats import t as student_t

from alcore.comparison.grid import RunResult
from alcore.comparison.labels_saved import (
    RTOL,
    WHOLE_POOL,
    final_labelled,
    labels_to_reach,  # noqa: F401  (its home before labels_saved existed)
    same_final_sets,
    saving,
    target_noise,
)


@dataclass(frozen=True)
class StrategySummary:
    strategy: str
    n_runs: int
    final_mae_mean: float
    final_mae_std: float
    improvement_pct: float | None  # lower final MAE than random, in % of random's (positive = better)
    labels_to_target: float | None  # labels at which the mean curve first reaches random's final mean MAE
    labels_saved_pct: float | None  # % fewer labels than random needed for that MAE (None: see the note)
    aulc: float  # area under the MAE-vs-labels curve, divided by the label range (a mean MAE over the run)
    p_value: float | None  # Mann-Whitney U (two-sided) on final MAEs vs random
    p_value_paired: float | None  # Wilcoxon signed-rank on per-seed final MAEs vs random (paired by seed)
    labels_saved_note: str | None = None  # why labels saved is not comparable (alcore.comparison.labels_saved)

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


def aulc(n_labels: np.ndarray, mae: np.ndarray) -> float:
    """Trapezoidal area under the learning curve over its label range (equal to a mean MAE; lower is better)."""
    span = float(n_labels[-1] - n_labels[0])
    if span <= 0:
        return float(mae[0])
    return float(np.trapezoid(mae, n_labels) / span)


def summarise(
    results: Sequence[RunResult], baseline: str = "random", *, rtol: float = RTOL
) -> dict[str, StrategySummary]:
    """Per-strategy statistics against ``baseline`` (when it was run). ``rtol``: how close to the baseline's final
    mean MAE a curve must get to "reach" it; labels saved is None with a reason where it is not comparable."""
    by_strategy: dict[str, list[RunResult]] = {}
    for r in results:
        by_strategy.setdefault(r.strategy, []).append(r)
    base_runs = by_strategy.get(baseline)
    base_final = {r.seed: r.mae[-1] for r in base_runs} if base_runs else {}
    base_target = float(np.mean(list(base_final.values()))) if base_final else None
    base_curve = mean_curve(base_runs)[:2] if base_runs else None
    noise = target_noise(list(base_final.values()), rtol=rtol) if base_final else 0.0
    picks = {name: {r.seed: final_labelled(r.selected, len(r.n_labels)) for r in runs}
             for name, runs in by_strategy.items()}  # fmt: skip
    whole_pool = base_runs is not None and same_final_sets(picks, baseline)

    summary = {}
    for name, runs in by_strategy.items():
        grid, mean, _ = mean_curve(runs)
        finals = np.array([r.mae[-1] for r in runs])
        improvement = labels = saved = note = p = p_paired = None
        if base_target is not None:
            improvement = float((base_target - finals.mean()) / base_target * 100.0)
            labels, saved, note = saving((grid, mean), base_curve, base_target, noise, rtol=rtol)
            if whole_pool:
                saved, note = None, WHOLE_POOL
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
            labels_saved_note=note,
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


BANDS = ("std", "ci95")
CURVE_METRICS = ("mae", "rmse", "spearman", "mean_pool_std")


@dataclass(frozen=True)
class CurveBand:
    """A strategy's mean curve over seeds with a band; ``n_runs`` counts the finite values per round."""

    strategy: str
    n_labels: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_runs: np.ndarray


def band_limits(values: np.ndarray, band: str = "std", level: float = 0.95) -> tuple[np.ndarray, ...]:
    """(mean, lower, upper, n) per column of ``values`` (runs x rounds), ignoring NaN.

    ``std``: mean ± sample std. ``ci95``: the two-sided Student-t interval for the mean at ``level`` (mean ±
    t_{(1+level)/2, n-1} · std/√n). With one finite value the band has zero width; with none, everything is NaN."""
    if band not in BANDS:
        raise ValueError(f"band must be one of {BANDS}, got {band!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n = np.sum(np.isfinite(values), axis=0)
    safe = np.where(np.isfinite(values), values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, safe.sum(axis=0) / n, np.nan)
        sq = np.where(np.isfinite(values), (values - mean) ** 2, 0.0).sum(axis=0)
        std = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)), 0.0)
        if band == "std":
            half = std
        else:
            quantile = student_t.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1))
            half = np.where(n > 1, quantile * std / np.sqrt(np.maximum(n, 1)), 0.0)
    half = np.where(n > 0, half, np.nan)
    return mean, mean - half, mean + half, n


def curve_bands(
    results: Sequence[RunResult], metric: str = "mae", band: str = "std", level: float = 0.95
) -> dict[str, CurveBand]:
    """Mean ``metric`` vs labels per strategy (in the order the strategies first appear) with its band."""
    if metric not in CURVE_METRICS:
        raise ValueError(f"metric must be one of {CURVE_METRICS}, got {metric!r}")
    by_strategy: dict[str, list[RunResult]] = {}
    for r in results:
        by_strategy.setdefault(r.strategy, []).append(r)
    bands = {}
    for name, runs in by_strategy.items():
        grid = runs[0].n_labels
        if any(not np.array_equal(r.n_labels, grid) for r in runs):
            raise ValueError(f"the runs of {name!r} do not share a label grid: compare runs of one protocol only")
        mean, lower, upper, n = band_limits(np.stack([getattr(r, metric) for r in runs]), band, level)
        bands[name] = CurveBand(name, np.asarray(grid), mean, lower, upper, n)
    return bands
