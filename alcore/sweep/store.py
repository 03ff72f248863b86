"""The output folder of a sweep: one JSON file per finished run, and summary tables built from whatever has finished.

A run's file is named by a hash of its config and written atomically the moment the run finishes, so a killed sweep
loses at most the runs in flight and a rerun skips everything already on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from alcore.atomic import write_json, write_text
from alcore.comparison.grid import RunResult, result_from_json, result_to_json
from alcore.comparison.tables import curves_frame, summary_frame
from alcore.config import RunConfig
from alcore.units import display_unit

log = logging.getLogger(__name__)

STORE_FORMAT = 1  # bump when the stored layout or the meaning of a result changes (old files are then rerun)
GROUP_COLUMNS = ("dataset", "descriptor", "n_members", "batch_size")
# What varies inside one comparison group: everything else must match for runs to be compared.
_WITHIN_GROUP = ("strategy", "seed", "strategy_params")


def run_key(config: RunConfig) -> str:
    """A content hash of the whole config (and the store format): the run's file name."""
    text = json.dumps({"format": STORE_FORMAT, "config": config.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def group_key(config: RunConfig) -> str:
    """Runs with the same group key differ only in strategy and seed, so their statistics can be compared."""
    rest = {k: v for k, v in config.to_dict().items() if k not in _WITHIN_GROUP}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def group_labels(config: RunConfig) -> dict[str, Any]:
    return {
        "dataset": config.dataset,
        "descriptor": config.descriptor,
        "n_members": config.committee_params.get("n_members"),
        "batch_size": config.batch_size,
    }


class SweepStore:
    """``OUT/runs/<run_key>.json`` per finished run; ``OUT/summary.csv`` and ``OUT/curves.csv`` for the sweep."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.runs_dir = self.out / "runs"

    def path_for(self, config: RunConfig) -> Path:
        return self.runs_dir / f"{run_key(config)}.json"

    def save(self, config: RunConfig, result: RunResult, *, dataset_fingerprint: str, seconds: float,
             worker: str = "") -> Path:  # fmt: skip
        path = self.path_for(config)
        write_json(
            path,
            {
                "format": STORE_FORMAT,
                "key": run_key(config),
                "config": config.to_dict(),
                "dataset_fingerprint": dataset_fingerprint,
                "seconds": float(seconds),
                "worker": worker,
                "result": result_to_json(result),
            },
        )
        return path

    def load(self, config: RunConfig) -> RunResult | None:
        """The stored result of ``config``; None when it is missing, damaged or was written for another config."""
        path = self.path_for(config)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != STORE_FORMAT or data.get("config") != json.loads(json.dumps(config.to_dict())):
                raise ValueError("it was written for another config or store format")
            result = result_from_json(data["result"])
            if (result.strategy, result.seed) != (config.strategy, config.seed):
                raise ValueError(f"its result is of {result.strategy} seed {result.seed}, not of this config")
            return result
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("ignoring the damaged run file %s (it will be rerun): %s", path, exc)
            return None

    def finished(self, configs: Sequence[RunConfig]) -> dict[str, RunResult]:
        """run_key -> result for every config of ``configs`` already on disk."""
        done = {}
        for config in configs:
            result = self.load(config)
            if result is not None:
                done[run_key(config)] = result
        return done

    def write_summary(self, configs: Sequence[RunConfig]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(summary, curves) of the finished runs of ``configs``, also written as CSV into the output folder."""
        summary, curves = summarise_sweep(configs, self.finished(configs))
        write_text(self.out / "summary.csv", summary.to_csv(index=False))
        write_text(self.out / "curves.csv", curves.to_csv(index=False))
        return summary, curves


def summarise_sweep(configs: Sequence[RunConfig], finished: dict[str, RunResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Comparison statistics (``alcore.comparison.summary_frame``) per group of runs that differ only in strategy and
    seed, prefixed by the group's settings; ``planned`` counts the group's runs in the grid, ``runs`` the finished."""
    groups: dict[str, list[RunConfig]] = {}
    for config in configs:
        groups.setdefault(group_key(config), []).append(config)
    curve_columns = [*GROUP_COLUMNS, *curves_frame([]).columns]
    summaries, curves = [], []
    for members in groups.values():
        results = [finished[k] for k in map(run_key, members) if k in finished]
        if not results:
            continue
        labels = group_labels(members[0])
        unit, scale = display_unit(members[0].target)
        table = summary_frame(results, unit=unit, scale=scale)
        planned = pd.Series([c.strategy for c in members]).value_counts()
        table.insert(1, "planned", table["strategy"].map(planned).astype(int))
        summaries.append(table.assign(**labels)[[*GROUP_COLUMNS, *table.columns]])
        curves.append(curves_frame(results).assign(**labels)[curve_columns])
    if not summaries:
        return pd.DataFrame(columns=[*GROUP_COLUMNS, "strategy", "planned", "runs"]), pd.DataFrame(columns=curve_columns)
    return pd.concat(summaries, ignore_index=True), pd.concat(curves, ignore_index=True)
