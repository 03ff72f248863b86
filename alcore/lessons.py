"""The small computations behind the Learn page: one committee, one round of picks, one short learning curve.

Everything here is what the real loop does, frozen at round 0 so students can look at it: the committee is trained
with the loop's own seed for round 0 and every strategy picks with the loop's own random stream, so a lesson's picks
are exactly what the Explore page would pick for the same dataset, seed and committee.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from scipy.stats import spearmanr

from alcore.comparison.grid import RunResult, run_grid
from alcore.config import RunConfig
from alcore.loop import Problem, fit_model
from alcore.seeding import rng_for
from alcore.strategies import STRATEGIES, PoolView, select


def lesson_strategies() -> list[str]:
    """Every registered strategy with a lesson text in its spec, in registration order (random first)."""
    return [s.name for s in STRATEGIES.specs() if s.lesson]


def lesson_config(dataset: str, seed: int = 0, **changes) -> RunConfig:
    """The paper protocol (30 starting labels, batches of 15, a committee of 5) on ``dataset``."""
    return RunConfig(dataset=dataset, seed=seed, committee_params={"n_members": 5}, **changes)


@dataclass(frozen=True, eq=False)
class CommitteeSnapshot:
    """A committee trained on the starting labels, and what it says about the test split and the pool."""

    labelled: np.ndarray  # dataset indices of the training labels
    pool: np.ndarray  # dataset indices of the unlabelled pool
    test: np.ndarray  # dataset indices of the held-out test split
    y_test: np.ndarray  # true targets on the test split
    test_members: np.ndarray  # (n_members, n_test) every member's prediction
    pool_mean: np.ndarray
    pool_std: np.ndarray

    @property
    def test_mean(self) -> np.ndarray:
        return self.test_members.mean(axis=0)

    @property
    def test_std(self) -> np.ndarray:
        """The committee disagreement: the spread of the members' predictions."""
        return self.test_members.std(axis=0)

    @property
    def abs_error(self) -> np.ndarray:
        return np.abs(self.test_mean - self.y_test)

    @property
    def spearman(self) -> float:
        """Rank correlation of disagreement and error on the test split (1: disagreement orders errors perfectly)."""
        std, err = self.test_std, self.abs_error
        if np.ptp(std) == 0 or np.ptp(err) == 0:
            return float("nan")
        return float(spearmanr(std, err).statistic)


def committee_snapshot(problem: Problem, config: RunConfig) -> CommitteeSnapshot:
    """Train ``config``'s committee on the starting labels exactly as round 0 of the loop does, and predict."""
    split = problem.split
    labelled = split.initial
    pool = np.setdiff1d(split.pool, labelled, assume_unique=True)
    model = fit_model(config, problem, labelled, problem.label(labelled).target, 0)
    test_members = model.predict_members(split.test)
    pool_mean, pool_std = model.predict(pool, return_std=True)
    return CommitteeSnapshot(
        labelled=labelled,
        pool=pool,
        test=split.test,
        y_test=problem.y[split.test],
        test_members=test_members,
        pool_mean=pool_mean,
        pool_std=pool_std,
    )


def disagreement_bins(std: np.ndarray, abs_error: np.ndarray, n_bins: int = 8) -> pd.DataFrame:
    """Mean |error| per disagreement bin (bins hold equal numbers of structures): the trend a scatter hides.

    Columns: ``std`` (bin median), ``mean_abs_error``, ``n``.
    """
    std, abs_error = np.asarray(std, dtype=float), np.asarray(abs_error, dtype=float)
    if std.shape != abs_error.shape or std.ndim != 1:
        raise ValueError(f"std and abs_error must be 1-D of one length; got {std.shape} and {abs_error.shape}")
    if not 1 <= n_bins <= len(std):
        raise ValueError(f"n_bins must be between 1 and the number of points ({len(std)}); got {n_bins}")
    order = np.argsort(std, kind="stable")
    rows = [
        {"std": float(np.median(std[part])), "mean_abs_error": float(abs_error[part].mean()), "n": len(part)}
        for part in np.array_split(order, n_bins)
    ]
    return pd.DataFrame(rows)


def strategy_picks(
    problem: Problem,
    snapshot: CommitteeSnapshot,
    config: RunConfig,
    strategies: Sequence[str] | None = None,
    *,
    strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, np.ndarray]:
    """Dataset indices each strategy picks next from ``snapshot`` (``config.batch_size`` of them, in pick order).

    Each strategy gets the loop's round-0 random stream, so its picks match what a run with that strategy selects
    first. ``strategies`` defaults to ``lesson_strategies()``; ``strategy_params[name]`` are one strategy's options.
    """
    strategies = lesson_strategies() if strategies is None else strategies
    strategy_params = strategy_params or {}
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategies {unknown}; known: {list(STRATEGIES.names())}")
    view = PoolView(
        mean=snapshot.pool_mean,
        std=snapshot.pool_std,
        X_pool=problem.X[snapshot.pool],
        X_labelled=problem.X[snapshot.labelled],
        y_labelled=problem.label(snapshot.labelled).target,
    )
    n = min(config.batch_size, len(snapshot.pool))
    picks = {}
    for name in strategies:
        positions = select(name, view, n, rng_for(config.seed, "strategy", 0), **strategy_params.get(name, {}))
        picks[name] = snapshot.pool[positions]
    return picks


def pick_summary(problem: Problem, snapshot: CommitteeSnapshot, picks: dict[str, np.ndarray]) -> pd.DataFrame:
    """Two numbers per strategy that say what its picks look like (columns ``strategy``, ``disagreement``,
    ``spread``).

    ``disagreement``: the picks' mean committee std over the pool's mean std (above 1: it goes where the committee
    is unsure). ``spread``: the picks' mean distance to their nearest other pick, in standardised descriptor units,
    divided by the same for the random strategy's picks when those are present (above 1: more spread out than random).
    """
    std_of = dict(zip(snapshot.pool.tolist(), snapshot.pool_std.tolist(), strict=True))
    pool_std_mean = float(np.mean(snapshot.pool_std))
    rows = []
    for name, chosen in picks.items():
        X = problem.X[chosen].astype(np.float64)
        gaps = cdist(X, X)
        np.fill_diagonal(gaps, np.inf)
        rows.append(
            {
                "strategy": name,
                "disagreement": float(np.mean([std_of[i] for i in chosen.tolist()])) / pool_std_mean,
                "spread": float(np.mean(gaps.min(axis=1))) if len(chosen) > 1 else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    if "random" in picks and len(table):
        table["spread"] = table["spread"] / float(table.loc[table["strategy"] == "random", "spread"].iloc[0])
    return table


def learning_curves(
    problem: Problem,
    config: RunConfig,
    strategies: Sequence[str] = ("random", "diversity"),
    *,
    n_rounds: int = 4,
    n_seeds: int = 3,
) -> list[RunResult]:
    """``n_rounds`` rounds of each strategy from ``n_seeds`` starting sets (seeds ``config.seed`` onwards), paired by
    seed, in one process: small enough for a page to wait for."""
    if n_rounds < 1 or n_seeds < 1:
        raise ValueError(f"n_rounds and n_seeds must be at least 1; got {n_rounds} and {n_seeds}")
    base = config.replace(budget=config.n_initial + config.batch_size * (n_rounds - 1))
    seeds = range(config.seed, config.seed + n_seeds)
    return run_grid(base, problem, list(strategies), list(seeds), n_jobs=1)
