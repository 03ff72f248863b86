"""What a round of active learning did and why: the numbers behind the Explore page's views.

Everything here is a pure function of a ``RunState`` (its problem names the structures), so the app only draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alcore.loop import RoundRecord, RunState
from alcore.seeding import rng_for
from alcore.strategies import STRATEGIES, PoolView, select
from alcore.strategies.clustering import kmeans
from alcore.strategies.geometry import min_distances, pool_geometry


def labelled_at(state: RunState) -> np.ndarray:
    """For every dataset row, the round whose training set first contained it (0 = initial set), else -1."""
    rounds = np.full(len(state.problem.y), -1, dtype=int)
    rounds[state.problem.split.initial] = 0
    for r in state.rounds:
        rounds[r.selected] = r.round + 1
    return rounds


def random_counterfactual(state: RunState, round_index: int) -> np.ndarray:
    """The dataset rows the ``random`` strategy would have picked in this round, from the very same state and seed
    (for a random run, exactly what it did pick)."""
    record = state.rounds[round_index]
    n = len(record.selected)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    view = _round_view(state, record)
    picked = select("random", view, n, rng_for(state.config.seed, "strategy", record.round))
    return record.pool[picked]


def _round_view(state: RunState, record: RoundRecord) -> PoolView:
    """What the strategy saw in that round (as ``loop.step`` built it)."""
    X = state.problem.X
    n = len(record.labelled)  # the round's training set is a prefix of the run's labelled set (acquisition order)
    if not np.array_equal(state.labelled[:n], record.labelled):
        raise ValueError(f"round {record.round} does not belong to this run's labelled set")
    return PoolView(mean=record.pool_mean, std=record.pool_std, X_pool=X[record.pool], X_labelled=X[record.labelled],
                    y_labelled=state.y_labelled[:n])


@dataclass(frozen=True)
class Calibration:
    """Per std bin (equal counts): predicted spread vs observed error, both as root-mean-squares in target units."""

    bin_rms_std: np.ndarray  # sqrt(mean(std^2)) in the bin: the error the committee expects
    bin_rmse: np.ndarray  # sqrt(mean(error^2)) in the bin: the error it makes
    bin_count: np.ndarray
    ratio: float  # overall RMSE / RMS std (1 = calibrated, > 1 = over-confident)


def calibration(std: np.ndarray, error: np.ndarray, n_bins: int = 8) -> Calibration:
    """Bin test points by committee std (quantiles) and compare expected with observed error (an RMSE-vs-RMV plot)."""
    std, error = np.asarray(std, dtype=float), np.asarray(error, dtype=float)
    if std.shape != error.shape or std.ndim != 1 or len(std) == 0:
        raise ValueError(f"std and error must be equal-length 1-D arrays, got {std.shape} and {error.shape}")
    order = np.argsort(std, kind="stable")
    bins = [b for b in np.array_split(order, min(n_bins, len(std))) if len(b)]
    rms_std = np.array([np.sqrt(np.mean(std[b] ** 2)) for b in bins])
    rmse = np.array([np.sqrt(np.mean(error[b] ** 2)) for b in bins])
    overall_std = float(np.sqrt(np.mean(std**2)))
    ratio = float(np.sqrt(np.mean(error**2)) / overall_std) if overall_std > 0 else float("inf")
    return Calibration(rms_std, rmse, np.array([len(b) for b in bins]), ratio)


def why_selected(state: RunState, round_index: int) -> pd.DataFrame:
    """One row per pool structure of this round, with what the strategies look at: std and its rank (1 = most
    uncertain), distance to the labelled set in descriptor space and its rank, and the k-means cluster (k = the run's
    ``k`` option, else the batch size, seeded as ``diversity`` and ``cluster_uncertainty`` seed it, so for them it is
    the very clustering used).
    ``pick_order`` is 1.. for the rows this round selected, else 0."""
    record = state.rounds[round_index]
    geometry = pool_geometry(_round_view(state, record))
    distance = min_distances(geometry.X, geometry.labelled, geometry.sq_norms)
    k = state.config.strategy_params.get("k") or len(record.selected) or state.config.batch_size
    k = max(1, min(k, len(record.pool)))
    clusters, _ = kmeans(geometry.X, k, rng_for(state.config.seed, "strategy", record.round))
    pick_order = np.zeros(len(record.pool), dtype=int)
    position = {row: i for i, row in enumerate(record.pool)}
    for order, row in enumerate(record.selected, start=1):
        pick_order[position[int(row)]] = order
    return pd.DataFrame(
        {
            "index": record.pool,
            "std": record.pool_std,
            "std_rank": _rank_descending(record.pool_std),
            "distance_to_labelled": distance,
            "distance_rank": _rank_descending(distance),
            "cluster": clusters,
            "pick_order": pick_order,
        }
    )


def _rank_descending(values: np.ndarray) -> np.ndarray:
    """1 for the largest value; ties keep the lower position first (as the strategies' tie rule)."""
    order = np.argsort(-np.asarray(values, dtype=float), kind="stable")
    ranks = np.empty(len(order), dtype=int)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def map_frame(state: RunState, round_index: int | None, embedding: np.ndarray) -> pd.DataFrame:
    """Every structure on the 2-D map with its role this round (labelled / selected / pool / test), the committee's
    std and absolute error where it predicted one, its target value (the oracle's, where known by then) and the
    round it was labelled in. ``round_index=None`` is the start of a run, before any committee was trained."""
    record = state.rounds[round_index] if round_index is not None else None
    problem = state.problem
    structures = problem.structures
    n = len(problem.y)
    if embedding.shape != (n, 2):
        raise ValueError(f"the map has shape {embedding.shape}, expected ({n}, 2) for this dataset")
    labelled = record.labelled if record is not None else state.labelled
    pool = record.pool if record is not None else np.setdiff1d(problem.split.pool, labelled)
    role = np.full(n, "unused", dtype=object)
    role[problem.split.test] = "test"
    role[pool] = "pool"
    role[labelled] = "labelled"
    std = np.full(n, np.nan)
    prediction = np.full(n, np.nan)
    random_pick = np.zeros(n, dtype=bool)
    when = labelled_at(state)
    known = len(labelled) + (len(record.selected) if record is not None else 0)  # labels obtained by then
    target = problem.y.copy()
    target[state.labels.indices[:known]] = state.labels.target[:known]
    if record is not None:
        role[record.selected] = "selected"
        std[record.pool], prediction[record.pool] = record.pool_std, record.pool_mean
        std[problem.split.test], prediction[problem.split.test] = record.test_std, record.test_mean
        when[when > record.round] = -1  # labelled only after the round shown
        random_pick[random_counterfactual(state, round_index)] = True
    return pd.DataFrame(
        {
            "index": np.arange(n),
            "x": embedding[:, 0],
            "y": embedding[:, 1],
            "role": role,
            "id": list(structures.ids),
            "formula": structures.formulas,
            "kind": list(structures.kinds) if structures.kinds is not None else ["-"] * n,
            "target": target,
            "prediction": prediction,
            "std": std,
            "abs_error": np.abs(prediction - target),
            "labelled_in_round": when,
            "random_would_pick": random_pick,
        }
    )


def round_metrics(rounds: tuple[RoundRecord, ...], round_index: int) -> dict[str, float | int | None]:
    """The headline numbers of a round and the MAE change since the previous one."""
    record = rounds[round_index]
    previous = rounds[round_index - 1] if round_index > 0 else None
    return {
        "n_labels": record.n_labels,
        "mae": record.mae,
        "mae_change": None if previous is None else record.mae - previous.mae,
        "mean_pool_std": record.mean_pool_std,
        "spearman": record.spearman,
        "n_selected": len(record.selected),
    }


def explain_pick(row: pd.Series, table: pd.DataFrame, strategy: str) -> str:
    """A sentence on why one pool structure was (or was not) picked this round, from a ``why_selected`` row; the rule
    is the strategy's ``rule`` in its registry spec."""
    n = len(table)
    cluster = int(row.cluster)
    facts = (
        f"std rank {int(row.std_rank)} of {n}, distance-to-labelled rank {int(row.distance_rank)} of {n}, "
        f"cluster {cluster} ({int((table.cluster == cluster).sum())} members)"
    )
    rule = (STRATEGIES.spec(strategy).rule if strategy in STRATEGIES else "") or f"{strategy} is a custom strategy"
    if row.pick_order > 0:
        return f"Picked {_ordinal(int(row.pick_order))} this round: {facts}. Rule: {rule}."
    return f"Not picked this round: {facts}. Rule: {rule}."


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"
