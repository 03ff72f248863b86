"""A strategy comparison as the dashboard runs it: one request, keyed by a content hash of everything that
determines its results, and an on-disk JSON cache, so a revisit or another session with the same settings never
recomputes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from alcore import __version__
from alcore.atomic import write_json
from alcore.comparison.grid import RunResult, result_from_json, result_to_json, run_grid
from alcore.config import DATA_LOCATION_FIELDS, RunConfig
from alcore.loop import Problem
from alcore.paths import cache_dir
from alcore.strategies import STRATEGIES

log = logging.getLogger(__name__)


CACHE_FORMAT = 3  # bump when the stored layout or the meaning of a result changes (2: relu default; 3: R² kept)


# Fields that name or locate the data rather than define it: the dataset fingerprint stands for them in the key.
_LABEL_FIELDS = DATA_LOCATION_FIELDS


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
        options = "; ".join(f"{s} " + ", ".join(f"{k}={v}" for k, v in p.items())
                            for s, p in self.strategy_params.items() if p)
        return (
            f"{b.dataset} · {b.target} · {b.descriptor} · energy reference {b.energy_reference} · "
            f"{len(self.strategies)} strategies x {len(self.seeds)} seeds · "
            f"budget {b.budget} ({b.n_initial} initial + {b.batch_size}/round) · {b.committee} committee ({committee})"
            + (f" · options: {options}" if options else "")
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


def cache_path(request: ComparisonRequest) -> Path:
    return cache_dir("comparisons") / f"{request.key()}.json"


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
            "runs": [result_to_json(r) for r in results],
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
        results = tuple(result_from_json(run) for run in data["runs"])
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
