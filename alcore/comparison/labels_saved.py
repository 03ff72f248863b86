"""Labels to reach random's final mean MAE, and when "labels saved" may be given as a number at all.

"Labels saved" is the horizontal gap between two mean learning curves at the height of random's final mean MAE
(the target). It means something only where the curves still fall through that height; otherwise a tiny vertical
difference becomes a large horizontal one. It is reported as *not comparable*, with the reason, when:

1. every strategy ends on the same labelled set, seed by seed (the budget uses the whole pool): the target is where
   every strategy ends anyway, and the final-round differences are training-order noise;
2. random's curve does not decrease: its first-round mean MAE is within ``noise`` of its final mean (this includes
   reaching the target at the first round);
3. the curve that reaches the target later is already within ``noise`` of it where the other curve reaches it (the
   curve is flat over the part the gap is read on).

``noise`` is the half-width of the 95 % Student-t interval of random's final mean MAE over seeds (how well the
target is known), and never less than ``rtol`` x target.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import t as student_t

RTOL = 1e-9  # relative tolerance of "reaches": absorbs floating-point rounding (a mean curve vs a mean of finals)
WHOLE_POOL = "every strategy ends on the same labelled set: the budget uses the whole pool"
RANDOM_FLAT = "random's curve does not decrease beyond the noise of its final MAE"


def labels_to_reach(n_labels: np.ndarray, mae: np.ndarray, target: float, *, rtol: float = RTOL) -> float | None:
    """First label count where the curve gets to ``target`` · (1 + ``rtol``) or below, linearly interpolated between
    rounds to that level; None if never. The default ``rtol`` only forgives rounding, so random's mean curve reaches
    its own final mean; pass a larger one (e.g. 0.02) to ask "within 2 % of the target"."""
    if rtol < 0:
        raise ValueError(f"rtol must be >= 0, got {rtol}")
    level = target + rtol * abs(target)
    hits = np.nonzero(np.asarray(mae) <= level)[0]
    if len(hits) == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(n_labels[0])
    x0, x1, y0, y1 = n_labels[i - 1], n_labels[i], mae[i - 1], mae[i]
    return float(x0 + (y0 - level) * (x1 - x0) / (y0 - y1))


def target_noise(finals: Sequence[float], *, rtol: float = RTOL) -> float:
    """Half-width of the 95 % t-interval of the mean of ``finals`` (0 with one value), at least ``rtol`` x mean."""
    finals = np.asarray(finals, dtype=float)
    floor = rtol * abs(float(finals.mean()))
    if len(finals) < 2:
        return floor
    half = student_t.ppf(0.975, len(finals) - 1) * finals.std(ddof=1) / np.sqrt(len(finals))
    return max(float(half), floor)


def final_labelled(selected: Sequence[np.ndarray], n_rounds: int) -> np.ndarray | None:
    """The picks that make a run's final labelled set (beside its seed's initial set), sorted; None when the run
    kept no picks (e.g. hand-made results)."""
    if len(selected) != n_rounds:
        return None
    picks = [np.asarray(s, dtype=np.int64) for s in selected]
    return np.sort(np.concatenate(picks)) if picks else np.empty(0, dtype=np.int64)


def same_final_sets(finals: dict[str, dict[int, np.ndarray | None]], baseline: str) -> bool:
    """True when every other strategy's final labelled set equals the baseline's for the same seed (the initial set
    depends on the seed only). ``finals``: strategy -> seed -> ``final_labelled``. False without another strategy."""
    base = finals.get(baseline, {})
    others = [(seed, picks) for name, runs in finals.items() if name != baseline for seed, picks in runs.items()]
    if not others:
        return False
    return all(
        picks is not None and base.get(seed) is not None and np.array_equal(picks, base[seed]) for seed, picks in others
    )


def saving(
    curve: tuple[np.ndarray, np.ndarray],
    base_curve: tuple[np.ndarray, np.ndarray],
    target: float,
    noise: float,
    *,
    rtol: float = RTOL,
) -> tuple[float | None, float | None, str | None]:
    """(labels to reach ``target``, % labels saved against the baseline, reason it is not comparable) for one mean
    curve, by rules 2 and 3 of the module docstring (rule 1 needs the runs: see ``summarise``)."""
    labels = labels_to_reach(*curve, target, rtol=rtol)
    base_labels = labels_to_reach(*base_curve, target, rtol=rtol)
    if base_curve[1][0] - target <= noise:
        return labels, None, RANDOM_FLAT
    if labels is None or not base_labels:
        return labels, None, None
    if labels < base_labels and np.interp(labels, *base_curve) - target <= noise:
        return labels, None, f"random is already within noise of its final MAE at {labels:.0f} labels"
    if labels > base_labels and np.interp(base_labels, *curve) - target <= noise:
        return labels, None, f"this curve is already within noise of random's final MAE at {base_labels:.0f} labels"
    return labels, float((base_labels - labels) / base_labels * 100.0), None


def saved_text(pct: float | None, note: str | None, labels: float | None, spec: str = "+.1f") -> str:
    """How a table shows labels saved: the number, "not comparable (reason)", or "not reached"."""
    if note:
        return f"not comparable ({note})"
    if pct is not None:
        return format(pct, spec)
    return "not reached" if labels is None else "–"
