"""The active-learning loop as a pure function: ``step(state) -> new state``.

A round trains the committee on the labelled set, evaluates it on the held-out test split, predicts the pool and
(if the budget allows) selects the next batch. ``RunState`` is immutable; the UI keeps a list of states to scrub and
branch, and replaying a config gives bit-identical rounds.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from alcore.config import PROBLEM_FIELDS, RunConfig
from alcore.oracles import (
    DatasetOracle,
    Labels,
    Oracle,
    OracleError,
    is_precomputed,
    labelled_by,
    make_oracle,
    with_known,
)
from alcore.seeding import int_seed_for, rng_for
from alcore.splits import Split, make_split
from alcore.strategies import PoolView, select
from alcore.structures import Structures

__all__ = ["PROBLEM_FIELDS", "Model", "Problem", "RoundRecord", "RunState", "branch", "fit_model", "prepare", "run",
           "start", "step"]


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything a run reads but never changes: standardised descriptors, the structures, the oracle that labels
    them, the split, and the target values of the test split (the metrics need them).

    ``y`` holds the dataset's target column when the oracle's labels are precomputed (the ``dataset`` oracle); for
    any other oracle its test entries were labelled once by the oracle at ``prepare`` (also in ``test_labels``, and
    saved with runs and manifests) and the rest is NaN until a run labels them.
    """

    X: np.ndarray  # (n, d) float32 standardised descriptors of every structure
    y: np.ndarray  # (n,) target values (used for the test split metrics; training labels come from the oracle)
    split: Split
    oracle: Oracle
    structures: Structures
    dataset_fingerprint: str = ""
    feature_labels: tuple[str, ...] = ()
    test_labels: Labels | None = None  # the oracle's labels of the test split (None: y came with the dataset)

    @classmethod
    def from_arrays(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        config: RunConfig,
        fingerprint: str = "",
        feature_labels: tuple[str, ...] = (),
        *,
        structures: Structures | None = None,
        oracle: Oracle | None = None,
        test_labels: Labels | None = None,
    ) -> "Problem":
        """Split for ``config`` (its seed picks the initial set); the arrays are shared, not copied, between seeds.
        Without ``structures`` the rows are unnamed and have no atoms; without ``oracle``, ``y`` is revealed."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=float)
        if X.flags.writeable or y.flags.writeable:
            X, y = X.copy(), y.copy()
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"X must be (n, d) with n = len(y); got X {X.shape}, y {y.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("descriptors contain NaN or inf")
        structures = structures if structures is not None else Structures.unnamed(len(y))
        if len(structures) != len(y):
            raise ValueError(f"{len(structures)} structures for {len(y)} rows of descriptors")
        split = make_split(
            len(y),
            test_fraction=config.test_fraction,
            n_initial=config.n_initial,
            split_seed=config.split_seed,
            seed=config.seed,
        )
        for arr in (X, y, split.test, split.initial, split.pool):  # shared by every run (and app session) on it
            arr.setflags(write=False)
        return cls(X=X, y=y, split=split, oracle=oracle if oracle is not None else DatasetOracle(values=y),
                   structures=structures, dataset_fingerprint=fingerprint, feature_labels=tuple(feature_labels),
                   test_labels=test_labels)  # fmt: skip

    def for_config(self, config: RunConfig) -> "Problem":
        """The same data split for another config (another seed gives another initial set)."""
        return Problem.from_arrays(self.X, self.y, config, self.dataset_fingerprint, self.feature_labels,
                                   structures=self.structures, oracle=self.oracle, test_labels=self.test_labels)

    def with_known_labels(self, known: Labels | None) -> "Problem":
        """This problem with ``known`` labels (from a saved run or manifest) answered without asking the oracle."""
        oracle = with_known(self.oracle, known)
        return self if oracle is self.oracle else dataclasses.replace(self, oracle=oracle)

    def label(self, rows: np.ndarray) -> Labels:
        """Ask the oracle for the structures at ``rows`` (checked; an ``OracleError`` names a failing structure)."""
        return labelled_by(self.oracle, self.structures.take(rows))


@dataclass(frozen=True, eq=False)
class RoundRecord:
    round: int
    n_labels: int
    labelled: np.ndarray  # dataset indices the committee was trained on, in acquisition order
    selected: np.ndarray  # dataset indices picked this round (empty on the last round)
    pool: np.ndarray  # dataset indices of the pool the committee predicted this round
    pool_mean: np.ndarray
    pool_std: np.ndarray
    test_mean: np.ndarray
    test_std: np.ndarray
    mae: float
    rmse: float
    r2: float
    spearman: float  # Spearman(committee std, |error|) on the test split
    mean_pool_std: float
    fit_seconds: float
    select_seconds: float

    ARRAYS = ("labelled", "selected", "pool", "pool_mean", "pool_std", "test_mean", "test_std")
    SCALARS = ("round", "n_labels", "mae", "rmse", "r2", "spearman", "mean_pool_std", "fit_seconds", "select_seconds")
    TIMINGS = ("fit_seconds", "select_seconds")  # wall times: recorded, but not part of bit-identical replays

    def same_results(self, other: "RoundRecord") -> bool:
        """True when everything except wall times is identical (the replay guarantee)."""
        scalars = all(
            np.array_equal(getattr(self, k), getattr(other, k), equal_nan=True)
            for k in self.SCALARS
            if k not in self.TIMINGS
        )
        return scalars and all(np.array_equal(getattr(self, k), getattr(other, k)) for k in self.ARRAYS)


@dataclass(frozen=True, eq=False)
class RunState:
    config: RunConfig
    problem: Problem
    labelled: np.ndarray  # dataset indices labelled so far, in acquisition order
    rounds: tuple[RoundRecord, ...] = ()
    # Earlier segments of a branched run: (config, rounds made with it), oldest first; () for a plain run.
    lineage: tuple[tuple[RunConfig, int], ...] = ()
    labels: Labels | None = None  # the oracle's labels of ``labelled``, aligned with it (``start`` asks for them)

    def __post_init__(self) -> None:
        if self.labels is None or not np.array_equal(self.labels.indices, self.labelled):
            raise ValueError("a RunState needs the labels of its labelled set, in the same order (see loop.start)")

    @property
    def y_labelled(self) -> np.ndarray:
        """The labelled set's target values, aligned with ``labelled`` (what the committee trains on)."""
        return self.labels.target

    @property
    def done(self) -> bool:
        return bool(self.rounds) and len(self.rounds[-1].selected) == 0

    @property
    def budget(self) -> int:
        """Labels the run may use: the configured budget, capped by what the pool holds."""
        split = self.problem.split
        return min(self.config.budget, len(split.initial) + len(split.pool))

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(n_labels, MAE) per round: the learning curve."""
        return (
            np.array([r.n_labels for r in self.rounds], dtype=int),
            np.array([r.mae for r in self.rounds], dtype=float),
        )


def start(config: RunConfig, problem: Problem) -> RunState:
    """A run before its first round: the initial set, labelled once by the oracle."""
    labelled = problem.split.initial.copy()
    labelled.setflags(write=False)
    return RunState(config=config, problem=problem, labelled=labelled, labels=problem.label(labelled))


def _metrics(y_true: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[float, float, float, float]:
    err = mean - y_true
    mae = float(np.mean(np.abs(err)))
    rmse = float(np.sqrt(np.mean(err**2)))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = float(1.0 - np.sum(err**2) / ss_tot) if ss_tot > 0 else float("nan")
    if np.ptp(std) > 0 and np.ptp(np.abs(err)) > 0:
        # imported here, not at the top: keeps scikit-learn/SciPy (about 1 s of imports) off the app's first page
        from scipy.stats import spearmanr

        rho = float(spearmanr(std, np.abs(err)).statistic)
    else:
        rho = float("nan")
    return mae, rmse, r2, rho


def fit_committee(config: RunConfig, X: np.ndarray, y: np.ndarray, round_index: int):
    """Train the configured committee with the seed of this round (importing committees lazily keeps torch off
    the import path of code that only reads saved runs)."""
    from alcore.committee import make_committee

    params = dict(config.committee_params)
    params["random_state"] = int_seed_for(config.seed, "committee", round_index)
    return make_committee(config.committee, **params).fit(X, y)


@dataclass(frozen=True, eq=False)
class Model:
    """A committee trained on top of an energy reference (``alcore.references``): predictions in the target's own
    units, the reference's per-element baseline added back. ``reference_name`` is the resolved name (``auto``
    decided)."""

    committee: object
    reference: object
    reference_name: str
    problem: Problem

    def baseline(self, rows: np.ndarray) -> np.ndarray:
        composition = self.problem.structures.composition
        if self.reference_name == "none" or composition is None:
            return np.zeros(len(rows))
        return self.reference.predict(composition.take(rows))

    def predict(self, rows: np.ndarray, return_std: bool = False):
        """Committee mean (and std) for dataset ``rows``; the reference shifts the mean, never the disagreement."""
        mean, std = self.committee.predict(self.problem.X[rows], return_std=True)
        mean = mean + self.baseline(rows)
        return (mean, std) if return_std else mean

    def predict_members(self, rows: np.ndarray) -> np.ndarray:
        return self.committee.predict_members(self.problem.X[rows]) + self.baseline(rows)[None, :]


def fit_model(config: RunConfig, problem: Problem, rows: np.ndarray, y: np.ndarray, round_index: int) -> Model:
    """Fit ``config``'s energy reference on the labelled ``rows`` only, then the committee on what it leaves."""
    from alcore.references import make_reference, resolve

    composition = problem.structures.composition
    name = resolve(config, composition)
    reference = make_reference(config, name)
    if name != "none":
        reference.fit(composition.take(rows), y)
    model = Model(committee=None, reference=reference, reference_name=name, problem=problem)
    residual = np.asarray(y, dtype=float) - model.baseline(rows)
    committee = fit_committee(config, problem.X[rows], residual, round_index)
    return dataclasses.replace(model, committee=committee)


def step(state: RunState) -> RunState:
    """One round: fit, evaluate, predict the pool, select, then ask the oracle for the selected structures only.

    Labelling at the end of the step keeps ``labels`` aligned with ``labelled`` in every state. When the oracle
    fails, ``OracleError`` is raised and no new state exists: the run stays at ``state``. Calling it on a finished
    run is an error."""
    if state.done:
        raise RuntimeError("the run is finished: its budget is spent or its pool is empty")
    config, problem = state.config, state.problem
    r = len(state.rounds)
    labelled = state.labelled
    pool = np.setdiff1d(problem.split.pool, labelled, assume_unique=True)
    test = problem.split.test

    t0 = time.perf_counter()
    y_labelled = state.labels.target
    model = fit_model(config, problem, labelled, y_labelled, r)
    mean, std = model.predict(np.concatenate([test, pool]), return_std=True)
    fit_seconds = time.perf_counter() - t0
    test_mean, pool_mean = mean[: len(test)], mean[len(test) :]
    test_std, pool_std = std[: len(test)], std[len(test) :]
    mae, rmse, r2, rho = _metrics(problem.y[test], test_mean, test_std)

    t1 = time.perf_counter()
    n_pick = min(config.batch_size, state.budget - len(labelled), len(pool))
    if n_pick > 0:
        view = PoolView(mean=pool_mean, std=pool_std, X_pool=problem.X[pool], X_labelled=problem.X[labelled],
                        y_labelled=y_labelled)
        picked = select(config.strategy, view, n_pick, rng_for(config.seed, "strategy", r), **config.strategy_params)
        selected = pool[picked]
    else:
        selected = np.empty(0, dtype=np.int64)
    select_seconds = time.perf_counter() - t1

    record = RoundRecord(
        round=r,
        n_labels=len(labelled),
        labelled=labelled,
        selected=selected,
        pool=pool,
        pool_mean=pool_mean,
        pool_std=pool_std,
        test_mean=test_mean,
        test_std=test_std,
        mae=mae,
        rmse=rmse,
        r2=r2,
        spearman=rho,
        mean_pool_std=float(np.mean(pool_std)) if len(pool_std) else float("nan"),
        fit_seconds=fit_seconds,
        select_seconds=select_seconds,
    )
    new_labels = Labels.join([state.labels, problem.label(selected)])  # only the new picks
    new_labelled = np.concatenate([labelled, selected])
    new_labelled.setflags(write=False)
    return RunState(config=config, problem=problem, labelled=new_labelled, rounds=(*state.rounds, record),
                    lineage=state.lineage, labels=new_labels)  # fmt: skip


def branch(state: RunState, n_rounds_kept: int, config: RunConfig) -> RunState:
    """Keep the first ``n_rounds_kept`` rounds of ``state`` and continue them with ``config`` (another strategy,
    committee or batch size). The parent is untouched; the branch records its lineage so it replays exactly."""
    if not 1 <= n_rounds_kept <= len(state.rounds):
        raise ValueError(f"can branch after rounds 1..{len(state.rounds)}, not {n_rounds_kept}")
    changed = [f for f in PROBLEM_FIELDS if getattr(config, f) != getattr(state.config, f)]
    if changed:
        raise ValueError(f"a branch keeps its parent's data and initial set; it cannot change {', '.join(changed)}")
    kept = state.rounds[:n_rounds_kept]
    last = kept[-1]
    labelled = np.concatenate([last.labelled, last.selected])
    if len(labelled) > min(config.budget, len(state.problem.split.initial) + len(state.problem.split.pool)):
        raise ValueError(f"the branch's budget ({config.budget}) is below the {len(labelled)} labels already used")
    labelled.setflags(write=False)
    lineage = _trim_lineage(state.lineage, n_rounds_kept)
    made_by_current = n_rounds_kept - sum(n for _, n in lineage)
    if made_by_current > 0:
        lineage = (*lineage, (state.config, made_by_current))
    labels = state.labels.take(slice(0, len(labelled)))  # acquisition order: the branch's labels are a prefix
    return RunState(config=config, problem=state.problem, labelled=labelled, rounds=kept, lineage=lineage,
                    labels=labels)  # fmt: skip


def _trim_lineage(lineage: tuple[tuple[RunConfig, int], ...], n_rounds: int) -> tuple[tuple[RunConfig, int], ...]:
    """The segments that made the first ``n_rounds`` rounds."""
    out, left = [], n_rounds
    for config, n in lineage:
        if left <= 0:
            break
        out.append((config, min(n, left)))
        left -= n
    return tuple(out)


def replay_segments(
    segments: tuple[tuple[RunConfig, int], ...], problem: Problem, final: RunConfig, n_final: int | None = None
) -> RunState:
    """Re-run a (possibly branched) run from scratch: each segment's config for its rounds, then ``final``."""
    first = segments[0][0] if segments else final
    state = start(first, problem)
    done = 0
    for config, n in segments:
        if done:
            state = branch(state, done, config)
        state = run(config, problem, max_rounds=n, state=state)
        done += n
    if segments:
        state = branch(state, done, final)
    return run(final, problem, max_rounds=n_final, state=state)


def run(
    config: RunConfig,
    problem: Problem,
    *,
    max_rounds: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    state: RunState | None = None,
) -> RunState:
    """Step until the budget is spent (or ``max_rounds`` more rounds). ``state`` resumes an earlier run.

    An ``OracleError`` stops the run at its last good round: the error is raised with that state as ``exc.state``."""
    state = state or start(config, problem)
    expected = n_rounds(state)
    done_rounds = 0
    while not state.done and (max_rounds is None or done_rounds < max_rounds):
        try:
            state = step(state)
        except OracleError as exc:
            exc.state = state
            raise
        done_rounds += 1
        if progress is not None:
            progress(len(state.rounds), expected)
    return state


def n_rounds(state: RunState) -> int:
    """How many rounds a full run has: one per batch, plus the final evaluation at the budget."""
    start_labels = len(state.problem.split.initial)
    extra = max(0, state.budget - start_labels)
    return 1 + -(-extra // state.config.batch_size)


def prepare(
    config: RunConfig, progress: Callable[[int, int], None] | None = None, *, known: Labels | None = None
) -> Problem:
    """Load the dataset, compute (or read cached) descriptors and split: the expensive, shareable part of a run.
    ``known`` labels (saved with a run or manifest) are never asked of the oracle again."""
    from alcore.datasets import load_dataset

    return prepare_dataset(config, load_dataset(config.dataset, format=config.dataset_format), progress, known=known)


def prepare_dataset(
    config: RunConfig, dataset, progress: Callable[[int, int], None] | None = None, *, known: Labels | None = None
) -> Problem:
    """``prepare`` for a dataset already in memory (e.g. uploaded in the app); ``config.dataset`` is only a label.

    The oracle is made first, so a target it cannot provide is refused before any descriptor is computed. For an
    oracle without precomputed labels the test split is labelled here, once (the metrics need its values)."""
    from alcore.descriptors import compute_features

    oracle = with_known(make_oracle(config.oracle, config.oracle_params, target=config.target, dataset=dataset), known)
    if is_precomputed(oracle):
        dataset.check_target_varies(config.target)  # a constant target gives R² = NaN: refuse it, naming the file
    features = compute_features(dataset, config.descriptor, config.descriptor_params, progress=progress)
    shared = {"structures": Structures.from_dataset(dataset), "oracle": oracle}
    fingerprint, feature_labels = dataset.fingerprint(), tuple(features.labels)
    if is_precomputed(oracle):
        y = dataset.target(config.target)
        return Problem.from_arrays(features.X, y, config, fingerprint, feature_labels, **shared)
    unlabelled = Problem.from_arrays(features.X, np.full(len(dataset), np.nan), config, **shared)
    test_labels = unlabelled.label(unlabelled.split.test)
    y = np.full(len(dataset), np.nan)
    y[test_labels.indices] = test_labels.target
    return Problem.from_arrays(features.X, y, config, fingerprint, feature_labels, test_labels=test_labels, **shared)
