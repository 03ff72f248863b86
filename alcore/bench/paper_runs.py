"""Running the paper benchmark: one case (a dataset with one descriptor family) and the speed protocol.

A case is the strategies x seeds grid of ``alcore.compare.run_grid`` plus what the grid does not record: the MAE of
the committee trained on the whole pool (the reference line) and the committee's calibration on the test split at
the first and last round. ``RunResult`` keeps no test predictions, so those committees are refitted here from the
run's own seeds and acquisition order, exactly as ``loop.step`` fits them (the refit reproduces the run's final MAE;
the report prints the largest deviation). Wall time and the peak memory of the whole process tree are measured per
case.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from alcore.comparison.grid import RunResult, run_grid
from alcore.config import RunConfig
from alcore.explain import calibration
from alcore.loop import Problem, fit_model, prepare_dataset


class PeakMemory:
    """Peak resident memory (MB) of this process plus all its descendants (the loky workers), sampled by a thread.

    Pages shared between processes (torch's libraries, mapped by every worker) count once per process, so the sum
    is an upper bound of the physical memory used. ``peak_mb`` is None when psutil is missing."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_mb: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "PeakMemory":
        try:
            import psutil
        except ImportError:
            return self
        self._process = psutil.Process()
        self._psutil = psutil
        self.peak_mb = self._sample()
        self._thread = threading.Thread(target=self._watch, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak_mb = max(self.peak_mb or 0.0, self._sample())

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb or 0.0, self._sample())

    def _sample(self) -> float:
        total = 0
        for proc in [self._process, *self._process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                continue  # a worker that exited between listing and reading
        return total / 2**20


@dataclass
class CaseRun:
    """Everything measured for one dataset x descriptor family (errors in the dataset's units, e.g. eV/atom)."""

    dataset: str
    descriptor: str
    elements: tuple[str, ...]
    n_structures: int
    n_features: int
    n_initial: int
    n_pool: int
    n_test: int
    results: tuple[RunResult, ...]
    reference_mae: dict[int, float]  # seed -> test MAE of the committee trained on initial + whole pool
    initial_calibration: dict[int, float]  # seed -> RMSE / RMS(std) of the round-0 committee (shared by strategies)
    final_calibration: dict[tuple[str, int], float]  # (strategy, seed) -> RMSE / RMS(std) at the last round
    refit_deviation: float  # largest |refitted final MAE - the run's final MAE| (0 when the refit is exact)
    seconds: dict[str, float] = field(default_factory=dict)  # descriptors, grid, extra fits, total
    peak_mb: float | None = None
    energy_reference: str = "none"  # the reference the committees learned on top of ("auto" resolved)

    @property
    def name(self) -> str:
        """``dataset / descriptor``, and the energy reference where the dataset has two or more elements (a
        reference of one element is a constant shift, so there it is always ``none``)."""
        text = f"{self.dataset} / {self.descriptor}"
        return text + (f" / {self.energy_reference}" if len(self.elements) > 1 else "")


def _extra_fits(
    base: RunConfig,
    problem: Problem,
    seed: int,
    runs: Sequence[tuple[str, tuple[np.ndarray, ...]]],
    threads: int | None,
) -> dict:
    """For one seed: calibration of the round-0 committee, the whole-pool reference, and for every strategy's run
    (its per-round selections) the calibration and MAE of its last committee, refitted as ``loop.step`` fitted it."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    config = base.replace(seed=seed)
    p = problem.for_config(config)
    test, y_test = p.split.test, p.y[p.split.test]
    last_round = len(runs[0][1]) - 1

    def fitted(labelled: np.ndarray, round_index: int):
        """Test mean and std of the committee trained on ``labelled`` with the seed of that round."""
        pool = np.setdiff1d(p.split.pool, labelled, assume_unique=True)
        model = fit_model(config, p, labelled, p.label(labelled).target, round_index)
        mean, std = model.predict(np.concatenate([test, pool]), return_std=True)  # as loop.step predicts
        return mean[: len(test)], std[: len(test)]

    mean0, std0 = fitted(p.split.initial, 0)
    everything = np.concatenate([p.split.initial, p.split.pool])
    model = fit_model(config, p, everything, p.label(everything).target, last_round)
    reference = float(np.mean(np.abs(model.predict(test) - y_test)))
    finals = {}
    for strategy, selected in runs:
        mean, std = fitted(np.concatenate([p.split.initial, *selected]), last_round)
        finals[strategy] = (float(np.mean(np.abs(mean - y_test))), calibration(std, mean - y_test).ratio)
    return {"seed": seed, "initial": calibration(std0, mean0 - y_test).ratio, "reference": reference, "finals": finals}


def _parallel(function, tasks: list[tuple], n_jobs: int) -> list:
    """``function(*task, threads)`` for every task, in loky processes (in order), one torch thread per process share."""
    if n_jobs == 1 or len(tasks) == 1:
        return [function(*task, None) for task in tasks]
    from joblib import Parallel, delayed

    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    return list(Parallel(n_jobs=n_jobs, backend="loky")(delayed(function)(*task, threads) for task in tasks))


def run_case(
    dataset, descriptor: str, base: RunConfig, strategies: Sequence[str], seeds: Sequence[int], n_jobs: int,
    energy_reference: str = "none",
) -> CaseRun:
    """The grid, the reference line and the calibration of one case, timed, with the process tree's peak memory.
    ``energy_reference`` is a resolved name (``paper.case_references`` decides ``auto``)."""
    base = base.replace(dataset=dataset.name, descriptor=descriptor, energy_reference=energy_reference)
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        problem = prepare_dataset(base, dataset)
        t1 = time.perf_counter()
        results = tuple(run_grid(base, problem, strategies, seeds, n_jobs=n_jobs))
        t2 = time.perf_counter()
        by_seed = {seed: [(r.strategy, r.selected) for r in results if r.seed == seed] for seed in seeds}
        extras = _parallel(_extra_fits, [(base, problem, seed, by_seed[seed]) for seed in seeds], n_jobs)
        t3 = time.perf_counter()
    final_mae = {(r.strategy, r.seed): r.mae[-1] for r in results}
    deviation = max(
        (abs(mae - final_mae[(s, e["seed"])]) for e in extras for s, (mae, _) in e["finals"].items()), default=0.0
    )
    split = problem.split
    return CaseRun(
        dataset=dataset.name,
        descriptor=descriptor,
        elements=tuple(sorted({s for atoms in dataset.atoms for s in atoms.get_chemical_symbols()})),
        n_structures=len(dataset),
        n_features=int(problem.X.shape[1]),
        n_initial=len(split.initial),
        n_pool=len(split.pool),
        n_test=len(split.test),
        results=results,
        reference_mae={e["seed"]: e["reference"] for e in extras},
        initial_calibration={e["seed"]: e["initial"] for e in extras},
        final_calibration={(s, e["seed"]): ratio for e in extras for s, (_, ratio) in e["finals"].items()},
        refit_deviation=float(deviation),
        seconds={"descriptors": t1 - t0, "grid": t2 - t1, "extra_fits": t3 - t2, "total": t3 - t0},
        peak_mb=memory.peak_mb,
        energy_reference=energy_reference,
    )


@dataclass(frozen=True)
class DescriptorChoice:
    """The structural family chosen for one dataset and the validation MAE of every candidate."""

    chosen: str
    validation_mae: dict[str, float]
    seconds: float


def choose_structural(
    dataset, base: RunConfig, candidates: Sequence[str], seeds: Sequence[int] = (0, 1, 2)
) -> DescriptorChoice:
    """Pick the candidate family whose committee, trained on ``base.budget`` random labelled rows, has the lowest
    MAE on the other initial + pool rows (mean over ``seeds``). The test split is never looked at, so choosing does
    not bias the test numbers of the report; the rule is cheap (a few fits) and guards against a family that makes
    the committee extrapolate wildly on a dataset (e.g. ``rdf`` on very compressed cells)."""
    start = time.perf_counter()
    scores = {}
    for family in candidates:
        problem = prepare_dataset(base.replace(dataset=dataset.name, descriptor=family), dataset)
        rows = np.concatenate([problem.split.initial, problem.split.pool])
        errors = []
        for seed in seeds:
            order = np.random.default_rng([seed, len(rows)]).permutation(rows)
            train, validation = order[: min(base.budget, len(rows) // 2)], order[min(base.budget, len(rows) // 2) :]
            model = fit_model(base.replace(seed=seed), problem, train, problem.y[train], 0)
            errors.append(float(np.mean(np.abs(model.predict(validation) - problem.y[validation]))))
        scores[family] = float(np.mean(errors))
    return DescriptorChoice(min(scores, key=scores.get), scores, time.perf_counter() - start)


@dataclass
class SpeedRun:
    """One committee's paper protocol on one dataset: its runs and the wall time of the whole protocol."""

    dataset: str
    committee: str
    results: tuple[RunResult, ...]
    seconds: float
    peak_mb: float | None

    def round_seconds(self) -> float:
        """Mean fit + predict + select seconds per round over every run."""
        rounds = sum(len(r.n_labels) for r in self.results)
        return sum(r.fit_seconds + r.select_seconds for r in self.results) / max(rounds, 1)


def run_speed(
    dataset, base: RunConfig, committees: Sequence[str], strategies: Sequence[str], seeds: Sequence[int], n_jobs: int
) -> dict[str, SpeedRun]:
    """The same protocol (paper descriptors of ``base``) with each committee, one after the other, each timed from
    scratch. The descriptors are computed first and a 2-round warm-up runs every committee in the worker processes,
    so neither timing pays for process start-up, imports or the first torch/BLAS calls."""
    problem = prepare_dataset(base.replace(dataset=dataset.name), dataset)
    warm_budget = base.n_initial + base.batch_size
    for committee in committees:
        warm = base.replace(committee=committee, budget=warm_budget, committee_params={"n_members": 2, "epochs": 2})
        run_grid(warm, problem, strategies[:1], range(max(1, n_jobs)), n_jobs=n_jobs)
    runs = {}
    for committee in committees:
        config = base.replace(committee=committee)
        with PeakMemory() as memory:
            start = time.perf_counter()
            results = tuple(run_grid(config, problem, strategies, seeds, n_jobs=n_jobs))
            seconds = time.perf_counter() - start
        runs[committee] = SpeedRun(dataset.name, committee, results, seconds, memory.peak_mb)
    return runs
