"""Pure statistics of the paper benchmark: bootstrap intervals over seeds, per-round summaries and the verdicts.

Everything here takes plain arrays or dicts and returns numbers or text, so the verdicts of the report are computed
from the measured values (never typed by hand) and can be tested on made-up numbers.

Definitions used throughout (the report repeats them):
- improvement vs random (%) = (mean final MAE of random - mean of the strategy) / mean of random x 100, over seeds;
  its 95 % interval is a paired bootstrap over seeds (BCa, ``scipy.stats.bootstrap``, seeded).
- superior: the interval lies above 0; worse: it lies below 0; competitive: it contains 0.
  "Competitive or superior" = the interval's upper end is >= 0 (random is not significantly better).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy.stats import bootstrap

from alcore.comparison.caveats import min_mann_whitney_p, min_wilcoxon_p  # noqa: F401  (the report reads them here)

CLAIMED_TIO2_IMPROVEMENT = 10.9  # % lower MAE than random on TiO2 (paper, 5 seeds)
CLAIMED_TIO2_P = 0.008
CLAIMED_TIO2_SEEDS = 5
CLAIMED_LABELS_SAVED = (5.0, 13.0)  # % fewer labels than random for equal accuracy
CLAIMED_HOURS = 4.0
CLAIMED_MEMORY_GB = 8.0
SIGNIFICANCE = 0.05

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTED = "reproduced", "partly", "not reproduced", "not tested"


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_list(self) -> list[float]:
        return [self.low, self.high]


def _improvement(strategy: np.ndarray, baseline: np.ndarray, axis: int = -1) -> np.ndarray:
    base = np.mean(baseline, axis=axis)
    return (base - np.mean(strategy, axis=axis)) / base * 100.0


def improvement_pct(strategy: Sequence[float], baseline: Sequence[float]) -> float:
    """% lower mean than the baseline (positive = the strategy has the lower error)."""
    return float(_improvement(np.asarray(strategy, dtype=float), np.asarray(baseline, dtype=float)))


def paired_bootstrap_improvement(
    strategy: Sequence[float], baseline: Sequence[float], *, seed: int = 0, level: float = 0.95, n_resamples: int = 9999
) -> Interval | None:
    """Bootstrap interval of ``improvement_pct`` resampling seeds as pairs (position ``i`` of both = seed ``i``).

    None with fewer than 2 pairs or when every resample gives the same value (no spread to estimate)."""
    a, b = np.asarray(strategy, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"strategy and baseline must be paired 1-D arrays, got shapes {a.shape} and {b.shape}")
    if len(a) < 2:
        return None
    return _bca((a, b), _improvement, paired=True, seed=seed, level=level, n_resamples=n_resamples)


def paired_bootstrap_difference(
    ours: Sequence[float], theirs: Sequence[float], *, seed: int = 0, level: float = 0.95, n_resamples: int = 9999
) -> Interval | None:
    """Bootstrap interval of mean(ours - theirs) over pairs (BCa); None with fewer than 2 pairs or no spread."""
    diff = np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)
    if diff.ndim != 1 or len(diff) < 2:
        return None
    return _bca((diff,), np.mean, paired=False, seed=seed, level=level, n_resamples=n_resamples)


def _bca(data: tuple[np.ndarray, ...], statistic, *, paired: bool, seed: int, level: float, n_resamples: int):
    """scipy's BCa interval, or None when the resamples have no spread (scipy then warns and returns NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate data: reported as None below
        result = bootstrap(
            data, statistic, paired=paired, vectorized=True, n_resamples=n_resamples, confidence_level=level,
            method="BCa", rng=np.random.default_rng(seed),
        )  # fmt: skip
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)) or low == high:
        return None
    return Interval(low, high)


def classify(interval: Interval | None) -> str:
    """``superior`` / ``competitive`` / ``worse`` from the interval of the improvement; ``undetermined`` without one."""
    if interval is None:
        return "undetermined"
    if interval.low > 0:
        return "superior"
    if interval.high < 0:
        return "worse"
    return "competitive"


def round_summary(values: np.ndarray) -> dict[str, float | None]:
    """Median over rounds of the per-round median across runs, and the range (min, max) of those per-round medians.

    ``values`` is (runs, rounds); NaN (e.g. an undefined Spearman on a constant std) is ignored."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    finite_rounds = np.isfinite(values).any(axis=0)
    if not finite_rounds.any():
        return {"median": None, "low": None, "high": None}
    per_round = np.nanmedian(values[:, finite_rounds], axis=0)
    return {"median": float(np.median(per_round)), "low": float(per_round.min()), "high": float(per_round.max())}


def combine(statuses: Iterable[str]) -> str:
    """One verdict from per-case verdicts: all reproduced -> reproduced, none reproduced or partly -> not."""
    statuses = [s for s in statuses if s != NOT_TESTED]
    if not statuses:
        return NOT_TESTED
    if all(s == REPRODUCED for s in statuses):
        return REPRODUCED
    if all(s == NOT_REPRODUCED for s in statuses):
        return NOT_REPRODUCED
    return PARTLY


@dataclass(frozen=True)
class Verdict:
    claim: str
    status: str
    evidence: str

    def to_dict(self) -> dict[str, str]:
        return {"claim": self.claim, "status": self.status, "evidence": self.evidence}


def _pct(value: float | None, spec: str = "+.1f") -> str:
    return "n/a" if value is None else f"{value:{spec}} %"


def _ci(interval: Sequence[float] | None) -> str:
    return "no interval" if interval is None else f"95 % CI [{interval[0]:+.1f}, {interval[1]:+.1f}] %"


def verdict_competitive(cases: Sequence[Mapping], strategy: str = "diversity") -> Verdict:
    """Claim 1: ``strategy`` is competitive with or superior to random, in every case (dataset x descriptor).

    Each case is a mapping with ``name``, ``improvement_pct`` and ``improvement_ci`` ([low, high] or None) of
    ``strategy``."""
    claim = f"{strategy} is competitive with or superior to random"
    if not cases:
        return Verdict(claim, NOT_TESTED, f"{strategy} or random was not run")
    classes = {c["name"]: classify(c["improvement_ci"] and Interval(*c["improvement_ci"])) for c in cases}
    counts = {k: sum(v == k for v in classes.values()) for k in ("superior", "competitive", "worse", "undetermined")}
    ok = counts["superior"] + counts["competitive"]
    decided = len(cases) - counts["undetermined"]
    if decided == 0:
        status = NOT_TESTED
    elif ok == decided:
        status = REPRODUCED
    elif ok == 0:
        status = NOT_REPRODUCED
    else:
        status = PARTLY
    parts = [
        f"{c['name']}: {_pct(c['improvement_pct'])} ({_ci(c['improvement_ci'])}, {classes[c['name']]})" for c in cases
    ]
    summary = (
        f"final MAE vs random over {len(cases)} dataset x descriptor cases: superior in {counts['superior']}, "
        f"competitive in {counts['competitive']}, worse in {counts['worse']}"
        + (f", undetermined in {counts['undetermined']}" if counts["undetermined"] else "")
    )
    if counts["superior"] == 0:
        summary += f". {strategy} never beat random significantly"
    return Verdict(claim, status, summary + ". " + "; ".join(parts) + ".")


def tio2_case_status(improvement: float | None, interval: Sequence[float] | None, p_paired: float | None) -> str:
    """Claim 2 for one TiO2 case: reproduced = significantly better than random (interval above 0 and paired
    Wilcoxon p < 0.05) with the claimed 10.9 % inside or below the interval; partly = better, but not significantly
    or by less than claimed; not reproduced = no lower mean MAE than random."""
    if improvement is None:
        return NOT_TESTED
    if improvement <= 0:
        return NOT_REPRODUCED
    significant = interval is not None and interval[0] > 0 and p_paired is not None and p_paired < SIGNIFICANCE
    if significant and interval[1] >= CLAIMED_TIO2_IMPROVEMENT:
        return REPRODUCED
    return PARTLY


def verdict_tio2(cases: Sequence[Mapping]) -> Verdict:
    """Claim 2 over the Ti-O cases. Each case: ``name``, ``improvement_pct``, ``improvement_ci``, ``p_paired``,
    ``p_mann_whitney``, ``n_seeds`` and, when seeds 0-4 were run, ``first5_improvement_pct``/``first5_p``."""
    claim = (
        f"diversity has {CLAIMED_TIO2_IMPROVEMENT} % lower MAE than random on TiO2 "
        f"(p = {CLAIMED_TIO2_P}, {CLAIMED_TIO2_SEEDS} seeds)"
    )
    if not cases:
        return Verdict(claim, NOT_TESTED, "no Ti-O dataset (elements exactly Ti and O) with diversity and random")
    statuses, parts = [], []
    for c in cases:
        status = tio2_case_status(c["improvement_pct"], c["improvement_ci"], c["p_paired"])
        statuses.append(status)
        text = (
            f"{c['name']}: {_pct(c['improvement_pct'])} ({_ci(c['improvement_ci'])}), paired Wilcoxon p = "
            f"{_p(c['p_paired'])}, Mann-Whitney p = {_p(c['p_mann_whitney'])} over {c['n_seeds']} seeds -> {status}"
        )
        if c.get("first5_improvement_pct") is not None:
            text += (
                f" (seeds 0-4 only, as in the paper: {_pct(c['first5_improvement_pct'])}, "
                f"Mann-Whitney p = {_p(c['first5_p'])})"
            )
        parts.append(text)
    floor = min_mann_whitney_p(CLAIMED_TIO2_SEEDS, CLAIMED_TIO2_SEEDS)
    note = (
        f"Note: {floor:.4f} is the smallest two-sided Mann-Whitney p that {CLAIMED_TIO2_SEEDS} vs "
        f"{CLAIMED_TIO2_SEEDS} seeds can give (every diversity run better than every random run)"
    )
    return Verdict(claim, combine(statuses), "; ".join(parts) + ". " + note + ".")


def labels_case_status(saved_pct: float | None, note: str | None = None) -> str:
    """Claim 3 for one case: reproduced when >= 5 % fewer labels (at least the claim's lower end), partly when fewer
    but by less, not reproduced when no saving or random's final MAE is never reached; not tested when labels saved
    is not comparable there (``note``: the budget uses the whole pool, or random's curve is flat), which is evidence
    neither way."""
    if note:
        return NOT_TESTED
    if saved_pct is None or saved_pct <= 0:
        return NOT_REPRODUCED
    return REPRODUCED if saved_pct >= CLAIMED_LABELS_SAVED[0] else PARTLY


def verdict_labels(cases: Sequence[Mapping], strategy: str = "diversity") -> Verdict:
    """Claim 3 over every case. Each case: ``name``, ``labels_saved_pct`` (None = never reached random's final MAE,
    or not comparable), ``labels_saved_note`` (why not comparable, optional), ``best_strategy`` and
    ``best_saved_pct`` (the strategy that saved the most labels in that case, among comparable ones)."""
    low, high = CLAIMED_LABELS_SAVED
    claim = f"{strategy} needs {low:g}-{high:g} % fewer labels than random for equal accuracy"
    if not cases:
        return Verdict(claim, NOT_TESTED, f"{strategy} or random was not run")
    parts = []
    for c in cases:
        saved, note = c["labels_saved_pct"], c.get("labels_saved_note")
        if note:
            text = f"{c['name']}: not comparable ({note})"
        else:
            text = f"{c['name']}: " + ("never reached random's final MAE" if saved is None else f"{saved:+.1f} %")
        if c.get("best_strategy") and c["best_strategy"] != strategy:
            text += f" (best: {c['best_strategy']} {_pct(c['best_saved_pct'])})"
        parts.append(text)
    status = combine(labels_case_status(c["labels_saved_pct"], c.get("labels_saved_note")) for c in cases)
    skipped = sum(bool(c.get("labels_saved_note")) for c in cases)
    if skipped:
        parts.append(f"{skipped} of {len(cases)} cases not comparable, counted neither way")
    return Verdict(claim, status, "; ".join(parts) + ".")


def verdict_cost(datasets: Sequence[Mapping]) -> Verdict:
    """Claim 4: each dataset's whole protocol (all its descriptor families) under 4 h and 8 GB. Each entry:
    ``name``, ``seconds``, ``peak_mb`` (None when memory could not be measured)."""
    claim = f"under {CLAIMED_HOURS:g} h and {CLAIMED_MEMORY_GB:g} GB per system"
    if not datasets:
        return Verdict(claim, NOT_TESTED, "no dataset was run")
    statuses, parts = [], []
    for d in datasets:
        time_ok = d["seconds"] < CLAIMED_HOURS * 3600
        mem_ok = d["peak_mb"] is not None and d["peak_mb"] < CLAIMED_MEMORY_GB * 1024
        statuses.append(REPRODUCED if time_ok and mem_ok else NOT_REPRODUCED if not (time_ok or mem_ok) else PARTLY)
        memory = "memory not measured" if d["peak_mb"] is None else f"{d['peak_mb'] / 1024:.2f} GB peak"
        parts.append(f"{d['name']}: {d['seconds'] / 60:.1f} min, {memory}")
    return Verdict(claim, combine(statuses), "; ".join(parts) + ".")


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"
