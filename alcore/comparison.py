"""A strategy comparison as the dashboard runs it: one request, cached on disk, and its tables, exports and bands.

``alcore.compare`` runs the grid and computes the statistics; this module decides *when* a grid must run (a content
hash of everything that determines the results keys an on-disk JSON cache, so a revisit or another session with the
same settings never recomputes) and turns results into the long CSV, the summary table and mean curves with std or
t-interval bands.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from alcore import __version__
from alcore.atomic import write_json
from alcore.cache import cache_dir
from alcore.compare import RunResult, run_grid, summarise
from alcore.config import RunConfig
from alcore.loop import Problem
from alcore.splits import make_split
from alcore.strategies import STRATEGIES

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # bump when the stored layout or the meaning of a result changes (2: relu became the default)
BANDS = ("std", "ci95")
CURVE_COLUMNS = ("strategy", "seed", "n_labels", "mae", "rmse", "spearman", "mean_pool_std")
# Fields that name or locate the data rather than define it: the dataset fingerprint stands for them in the key.
_LABEL_FIELDS = ("dataset", "dataset_format")
# Fields run_grid sets per run: they are the request's strategies, seeds and strategy_params.
_PER_RUN_FIELDS = ("strategy", "seed", "strategy_params")


@dataclass(frozen=True)
class ComparisonRequest:
    """Everything that determines a comparison's results: the base config, strategies x seeds, per-strategy params
    and the content of the dataset. Build it with ``create`` (it validates and normalises)."""

    base: RunConfig
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    strategy_params: Mapping[str, Mapping[str, Any]]
    dataset_fingerprint: str

    @classmethod
    def create(
        cls,
        base: RunConfig,
        strategies: Sequence[str],
        seeds: Sequence[int],
        dataset_fingerprint: str,
        strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> "ComparisonRequest":
        """Params of strategies that are not compared are dropped, so they never change the cache key."""
        strategies = tuple(strategies)
        if not strategies:
            raise ValueError("strategies: choose at least one strategy")
        if len(set(strategies)) != len(strategies):
            raise ValueError(f"strategies: each strategy once, got {list(strategies)}")
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            raise ValueError(f"strategies: unknown {unknown}; known: {STRATEGIES.names()}")
        seeds = tuple(seeds)
        if not seeds:
            raise ValueError("seeds: at least one seed is needed")
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
            raise ValueError(f"seeds must be non-negative integers, got {list(seeds)}")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds: each seed once, got {list(seeds)}")
        if not dataset_fingerprint:
            raise ValueError("dataset_fingerprint is empty: the cache key needs the dataset's content hash")
        given = strategy_params or {}
        params = {s: dict(given.get(s, base.strategy_params)) for s in strategies}
        return cls(
            base=base.replace(strategy=strategies[0], seed=int(seeds[0]), strategy_params={}),
            strategies=strategies,
            seeds=tuple(int(s) for s in seeds),
            strategy_params=params,
            dataset_fingerprint=dataset_fingerprint,
        )

    @property
    def n_runs(self) -> int:
        return len(self.strategies) * len(self.seeds)

    def key_payload(self) -> dict[str, Any]:
        base = {k: v for k, v in self.base.to_dict().items() if k not in _LABEL_FIELDS + _PER_RUN_FIELDS}
        return {
            "cache_format": CACHE_FORMAT,
            "alcore": __version__,
            "dataset_fingerprint": self.dataset_fingerprint,
            "base": base,
            "strategies": list(self.strategies),
            "seeds": list(self.seeds),
            "strategy_params": {s: dict(self.strategy_params[s]) for s in self.strategies},
        }

    def describe(self) -> str:
        """One line for people: what was compared, on what, with which protocol."""
        b = self.base
        committee = ", ".join(f"{k} {v}" for k, v in b.committee_params.items())
        return (
            f"{b.dataset} · {b.target} · {b.descriptor} · "
            f"{len(self.strategies)} strategies x {len(self.seeds)} seeds · "
            f"budget {b.budget} ({b.n_initial} initial + {b.batch_size}/round) · {b.committee} committee ({committee})"
        )

    def key(self) -> str:
        """A content hash of ``key_payload`` (order of strategies and seeds matters: it is the result order)."""
        text = json.dumps(self.key_payload(), sort_keys=True, default=_json_default)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class ComparisonOutcome:
    """Results in (strategy, seed) order, whether they came from the on-disk cache, and how long computing took."""

    request: ComparisonRequest
    results: tuple[RunResult, ...]
    from_cache: bool
    compute_seconds: float
    key: str = field(default="")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot put {type(obj).__name__} into a cache key")


# ---- on-disk cache ----------------------------------------------------------------------------------------------


def cache_path(request: ComparisonRequest) -> Path:
    return cache_dir("comparisons") / f"{request.key()}.json"


def _run_to_json(result: RunResult) -> dict[str, Any]:
    return result.to_dict() | {"selected": [np.asarray(s).tolist() for s in result.selected]}


def _floats(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{name} has {arr.size} values for {n} rounds")
    return arr


def _run_from_json(data: dict[str, Any]) -> RunResult:
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
        selected=tuple(np.asarray(s, dtype=np.int64) for s in data["selected"]),
        fit_seconds=float(data["fit_seconds"]),
        select_seconds=float(data["select_seconds"]),
    )


def save_results(request: ComparisonRequest, results: Sequence[RunResult], compute_seconds: float) -> Path:
    """Write the results atomically (a reader never sees half a file)."""
    path = cache_path(request)
    write_json(
        path,
        {
            "cache_format": CACHE_FORMAT,
            "key": request.key(),
            "request": request.key_payload(),
            "compute_seconds": float(compute_seconds),
            "runs": [_run_to_json(r) for r in results],
        },
    )
    return path


def load_results(request: ComparisonRequest) -> ComparisonOutcome | None:
    """The cached outcome of ``request``, or None when there is none. A damaged or mismatching file is ignored with a
    logged warning (the caller recomputes and overwrites it)."""
    path = cache_path(request)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("cache_format") != CACHE_FORMAT or data.get("key") != request.key():
            raise ValueError("it was written for other settings or by another cache format")
        results = tuple(_run_from_json(run) for run in data["runs"])
        expected = [(s, seed) for s in request.strategies for seed in request.seeds]
        if [(r.strategy, r.seed) for r in results] != expected:
            raise ValueError("its runs are not the requested strategies x seeds")
        seconds = float(data["compute_seconds"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("ignoring the damaged comparison cache file %s: %s", path, exc)
        return None
    return ComparisonOutcome(request, results, from_cache=True, compute_seconds=seconds, key=request.key())


def run_comparison(
    request: ComparisonRequest,
    problem: Problem,
    *,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    use_cache: bool = True,
) -> ComparisonOutcome:
    """The cached outcome when there is one, else run the grid (``alcore.compare.run_grid``) and cache it.

    An exception raised by ``progress`` (e.g. a UI cancelling the work) stops the grid: joblib's result generator is
    dropped, which terminates the worker processes, and nothing is cached.
    """
    if use_cache:
        cached = load_results(request)
        if cached is not None:
            return cached
    if problem.dataset_fingerprint != request.dataset_fingerprint:
        raise ValueError(
            f"the problem's dataset ({problem.dataset_fingerprint or 'no fingerprint'}) is not the requested one "
            f"({request.dataset_fingerprint})"
        )
    started = time.perf_counter()
    results = tuple(
        run_grid(
            request.base,
            problem,
            request.strategies,
            request.seeds,
            n_jobs=n_jobs,
            progress=progress,
            strategy_params={s: dict(p) for s, p in request.strategy_params.items()},
        )
    )
    seconds = time.perf_counter() - started
    try:
        save_results(request, results, seconds)
    except OSError as exc:  # a read-only or full cache folder must not lose the results just computed
        log.warning("could not cache the comparison in %s: %s", cache_path(request), exc)
    return ComparisonOutcome(request, results, from_cache=False, compute_seconds=seconds, key=request.key())


# ---- settings helpers -------------------------------------------------------------------------------------------


def max_labels(n_structures: int, test_fraction: float = RunConfig.test_fraction) -> int:
    """The largest budget a dataset allows: everything outside the held-out test split."""
    split = make_split(n_structures, test_fraction=test_fraction, n_initial=2)
    return len(split.initial) + len(split.pool)


def default_committee_params() -> dict[str, Any]:
    """Committee members from ``RunConfig`` and epochs from the committee's own default: the settings the CLI uses."""
    from alcore.committee import COMMITTEES

    params = dict(RunConfig().committee_params)
    epochs = inspect.signature(COMMITTEES.get(RunConfig.committee)).parameters["epochs"].default
    return {"n_members": params["n_members"], "epochs": params.get("epochs", epochs)}


def default_hybrid_alpha() -> float:
    return float(inspect.signature(STRATEGIES.get("hybrid")).parameters["alpha"].default)


def display_unit(target: str) -> tuple[str, float]:
    """(unit, factor) for showing errors of ``target``: per-atom energies are stored in eV/atom, shown in meV/atom."""
    if target.endswith("_per_atom"):
        return "meV/atom", 1000.0
    return "target units", 1.0


# ---- tables and exports -----------------------------------------------------------------------------------------


def curves_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    """One row per (run, round), in the dataset's units (eV/atom for energies): the long-format curves export."""
    frames = [
        pd.DataFrame(
            {
                "strategy": r.strategy,
                "seed": r.seed,
                "n_labels": r.n_labels,
                "mae": r.mae,
                "rmse": r.rmse,
                "spearman": r.spearman,
                "mean_pool_std": r.mean_pool_std,
            }
        )
        for r in results
    ]
    if not frames:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(CURVE_COLUMNS)]


def summary_frame(
    results: Sequence[RunResult], *, baseline: str = "random", unit: str = "meV/atom", scale: float = 1000.0
) -> pd.DataFrame:
    """The per-strategy table of ``alcore.compare.summarise``, errors multiplied by ``scale`` into ``unit``.

    Columns that need the baseline are empty when it was not run."""
    rows = []
    for name, s in summarise(results, baseline=baseline).items():
        rows.append(
            {
                "strategy": name,
                "runs": s.n_runs,
                f"final MAE ({unit})": s.final_mae_mean * scale,
                f"std ({unit})": s.final_mae_std * scale,
                f"vs {baseline} (%)": s.improvement_pct,
                f"labels to reach {baseline}'s final MAE": s.labels_to_target,
                "labels saved (%)": s.labels_saved_pct,
                f"AULC ({unit})": s.aulc * scale,
                "p Mann-Whitney": s.p_value,
                "p Wilcoxon (paired)": s.p_value_paired,
            }
        )
    frame = pd.DataFrame(rows)
    number_columns = [c for c in frame.columns if c not in ("strategy", "runs")]
    frame[number_columns] = frame[number_columns].astype(float)  # None -> NaN, shown as empty cells
    return frame


# ---- mean curves with bands -------------------------------------------------------------------------------------


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
    if metric not in CURVE_COLUMNS[3:]:
        raise ValueError(f"metric must be one of {CURVE_COLUMNS[3:]}, got {metric!r}")
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
