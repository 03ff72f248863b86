"""A comparison's tables and exports: the long per-round curves and the per-strategy summary, in display units.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from alcore.comparison.grid import RunResult
from alcore.comparison.labels_saved import saved_text
from alcore.comparison.stats import summarise

LABELS_SAVED_NOTE = "labels saved: why no number"

CURVE_COLUMNS = ("run", "strategy", "seed", "round", "n_labels", "mae", "rmse", "r2", "spearman", "mean_pool_std")


def curves_frame(results: Sequence[RunResult], names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (run, round), in the dataset's units (eV/atom for energies): the long-format curves export of
    Compare, sweeps, the paper benchmark and Explore. ``names`` labels the runs (default ``<strategy> seed <k>``)."""
    if names is not None and len(names) != len(results):
        raise ValueError(f"{len(names)} names for {len(results)} runs")
    frames = [
        pd.DataFrame(
            {
                "run": names[i] if names is not None else f"{r.strategy} seed {r.seed}",
                "strategy": r.strategy,
                "seed": r.seed,
                "round": np.arange(len(r.n_labels)),
                "n_labels": r.n_labels,
                "mae": r.mae,
                "rmse": r.rmse,
                "r2": r.r2_or_nan(),
                "spearman": r.spearman,
                "mean_pool_std": r.mean_pool_std,
            }
        )
        for i, r in enumerate(results)
    ]
    if not frames:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(CURVE_COLUMNS)]


def summary_frame(
    results: Sequence[RunResult], *, baseline: str = "random", unit: str = "meV/atom", scale: float = 1000.0
) -> pd.DataFrame:
    """The per-strategy table of ``alcore.compare.summarise``, errors multiplied by ``scale`` into ``unit``.

    Columns that need the baseline are empty when it was not run. Labels saved is empty where it is not a number,
    and ``LABELS_SAVED_NOTE`` says why: "not comparable (reason)" or "not reached"."""
    rows = []
    for name, s in summarise(results, baseline=baseline).items():
        missing = s.labels_saved_pct is None and s.improvement_pct is not None
        rows.append(
            {
                "strategy": name,
                "runs": s.n_runs,
                f"final MAE ({unit})": s.final_mae_mean * scale,
                f"std ({unit})": s.final_mae_std * scale,
                f"vs {baseline} (%)": s.improvement_pct,
                f"labels to reach {baseline}'s final MAE": s.labels_to_target,
                "labels saved (%)": s.labels_saved_pct,
                LABELS_SAVED_NOTE: saved_text(None, s.labels_saved_note, s.labels_to_target) if missing else "",
                f"AULC ({unit})": s.aulc * scale,
                "p Mann-Whitney": s.p_value,
                "p Wilcoxon (paired)": s.p_value_paired,
            }
        )
    frame = pd.DataFrame(rows)
    number_columns = [c for c in frame.columns if c not in ("strategy", "runs", LABELS_SAVED_NOTE)]
    frame[number_columns] = frame[number_columns].astype(float)  # None -> NaN, shown as empty cells
    return frame
