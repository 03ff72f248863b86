"""Run a sweep's missing runs serially, in local processes (joblib/loky) or on a Dask cluster, saving each on arrival.

Only configs travel to workers: each worker process prepares (and keeps) the Problem of the datasets it meets, so no
descriptor matrix is shipped per task. Every run uses one torch / BLAS thread whatever the executor, which is what
makes the numbers identical serially, on local processes and on Dask.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TextIO

from alcore.comparison.grid import RunResult
from alcore.config import DATA_LOCATION_FIELDS, PREPARED_FIELDS, RunConfig
from alcore.sweep.store import SweepStore, run_key

Executor = Callable[[Sequence[RunConfig]], Iterator["TaskOutcome"]]

_PROBLEMS: OrderedDict[str, Any] = OrderedDict()  # per worker process: prepared Problems, most recent last
_MAX_PROBLEMS = 8
# RunConfig fields that decide the prepared data (the seed only picks the initial set, which for_config redoes).
_PROBLEM_FIELDS = DATA_LOCATION_FIELDS + PREPARED_FIELDS


@dataclass(frozen=True)
class TaskOutcome:
    """What a worker sends back: the result (or the error) of one run, and where and how long it ran."""

    key: str
    result: RunResult | None
    error: str | None
    dataset_fingerprint: str
    seconds: float
    worker: str


def _problem_for(config: RunConfig):
    from alcore.loop import prepare

    key = json.dumps({f: getattr(config, f) for f in _PROBLEM_FIELDS}, sort_keys=True)
    if key in _PROBLEMS:
        _PROBLEMS.move_to_end(key)
    else:
        _PROBLEMS[key] = prepare(config)
        while len(_PROBLEMS) > _MAX_PROBLEMS:
            _PROBLEMS.popitem(last=False)
    return _PROBLEMS[key]


def run_task(config: RunConfig) -> TaskOutcome:
    """One run, in whichever process executes it. Errors come back as text so one bad run never stops the sweep."""
    import torch
    from threadpoolctl import threadpool_limits

    from alcore.comparison.grid import run_one

    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    previous_threads = torch.get_num_threads()
    try:
        problem = _problem_for(config)
        with threadpool_limits(limits=1):
            result = run_one(config, problem, torch_threads=1)
    except Exception as exc:  # reported per run by the driver; the traceback says where
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        return TaskOutcome(run_key(config), None, error, "", time.perf_counter() - started, worker)
    finally:
        torch.set_num_threads(previous_threads)
    seconds = time.perf_counter() - started
    return TaskOutcome(run_key(config), result, None, problem.dataset_fingerprint, seconds, worker)


# ---- executors: configs in, outcomes out (in completion order) ---------------------------------------------------


def serial_executor(configs: Sequence[RunConfig]) -> Iterator[TaskOutcome]:
    for config in configs:
        yield run_task(config)


def process_executor(n_workers: int) -> Executor:
    """``n_workers`` local processes (joblib's loky backend), one run per dispatch so results arrive one by one."""
    if n_workers < 1:
        raise ValueError(f"--processes must be at least 1, got {n_workers}")

    def execute(configs: Sequence[RunConfig]) -> Iterator[TaskOutcome]:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_workers, backend="loky", batch_size=1, return_as="generator_unordered")
        outputs = parallel(delayed(run_task)(c) for c in configs)
        try:
            yield from outputs
        finally:
            outputs.close()  # the caller stopped early (Ctrl-C): abandon the runs in flight

    return execute


def dask_executor(client: Any) -> Executor:
    """Dask futures: every run is submitted at once (in grid order, so workers meet one dataset at a time) and
    collected with ``as_completed``. A run lost with its worker is reported as failed, not fatal."""

    def execute(configs: Sequence[RunConfig]) -> Iterator[TaskOutcome]:
        from dask.distributed import as_completed

        futures = {client.submit(run_task, c, key=f"alcore-run-{run_key(c)}", pure=False): c for c in configs}
        try:
            for future in as_completed(list(futures)):
                config = futures.pop(future)  # dropping the last reference lets the cluster forget the result
                try:
                    outcome = future.result()
                except Exception as exc:  # e.g. KilledWorker: the task's worker died too often
                    outcome = TaskOutcome(run_key(config), None, f"{type(exc).__name__}: {exc}", "", 0.0, "")
                yield outcome
        finally:
            client.cancel(list(futures))

    return execute


@contextmanager
def dask_client(
    scheduler: str | None = None,
    local_workers: int | None = None,
    *,
    dashboard_address: str = "127.0.0.1:8787",
    timeout: str = "30s",
    say: Callable[[str], None] = print,
) -> Iterator[Any]:
    """A client of the cluster at ``scheduler`` (``tcp://HOST:PORT``), or of a ``LocalCluster`` of ``local_workers``
    single-threaded worker processes on 127.0.0.1 that lives as long as the block."""
    from dask.distributed import Client, LocalCluster

    if (scheduler is None) == (local_workers is None):
        raise ValueError("give either a scheduler address or a number of local workers")
    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout)
        except OSError as exc:  # refused, unreachable or timed out
            raise RuntimeError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})") from None
    else:
        if local_workers < 1:
            raise ValueError(f"--local-workers must be at least 1, got {local_workers}")
        cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=dashboard_address)  # fmt: skip
        client = Client(cluster)
    try:
        n = len(client.scheduler_info(n_workers=-1)["workers"])
        say(f"Dask: {n} workers at {client.scheduler.address}; dashboard: {client.dashboard_link}"
            + ("" if _has_bokeh() else " (served only where bokeh>=3.1 is installed)"))  # fmt: skip
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


# ---- the driver: skip finished runs, save each new one at once, report progress -----------------------------------


@dataclass
class SweepReport:
    total: int
    skipped: int  # already on disk when the sweep started
    ran: list[str] = field(default_factory=list)  # run keys finished by this call, in completion order
    failed: dict[str, str] = field(default_factory=dict)  # run key -> error
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.skipped + len(self.ran) == self.total


def describe(config: RunConfig) -> str:
    """One short line naming a run."""
    dataset = Path(config.dataset).name if os.sep in config.dataset else config.dataset
    members = config.committee_params.get("n_members")
    return (f"{dataset} · {config.descriptor} · {members} members · batch {config.batch_size} · "
            f"{config.strategy} · seed {config.seed}")  # fmt: skip


class Progress:
    """``[done/total]`` lines with an ETA from this session's pace (elapsed / runs done here x runs left)."""

    def __init__(self, total: int, skipped: int, stream: TextIO | None) -> None:
        self.total, self.done, self.stream = total, skipped, stream
        self.session_done = 0
        self.started = time.perf_counter()

    def say(self, message: str) -> None:
        if self.stream is not None:
            print(message, file=self.stream, flush=True)

    def finished(self, config: RunConfig, outcome: TaskOutcome) -> None:
        self.done += 1
        self.session_done += 1
        elapsed = time.perf_counter() - self.started
        left = self.total - self.done
        eta = _clock(elapsed / self.session_done * left)
        status = f"{outcome.seconds:5.1f} s" if outcome.error is None else "FAILED"
        width = len(str(self.total))
        self.say(f"[{self.done:{width}d}/{self.total}] {describe(config)}  {status}  elapsed {_clock(elapsed)}"
                 f"  ETA {eta}")  # fmt: skip


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run_sweep(
    configs: Sequence[RunConfig], store: SweepStore, execute: Executor, *, stream: TextIO | None = sys.stderr
) -> SweepReport:
    """Run every config not yet in ``store`` with ``execute``, saving each result the moment it arrives, then write
    the summary of everything finished (also when interrupted)."""
    started = time.perf_counter()
    finished = store.finished(configs)
    todo = {run_key(c): c for c in configs if run_key(c) not in finished}
    report = SweepReport(total=len(configs), skipped=len(configs) - len(todo))
    progress = Progress(report.total, report.skipped, stream)
    progress.say(f"sweep: {report.total} runs, {report.skipped} already finished in {store.out}, {len(todo)} to run")
    try:
        for outcome in execute(list(todo.values())):
            config = todo[outcome.key]
            if outcome.error is None:
                store.save(config, outcome.result, dataset_fingerprint=outcome.dataset_fingerprint,
                           seconds=outcome.seconds, worker=outcome.worker)  # fmt: skip
                report.ran.append(outcome.key)
            else:
                report.failed[outcome.key] = outcome.error
                progress.say(f"run {outcome.key} ({describe(config)}) failed: {outcome.error}")
            progress.finished(config, outcome)
    finally:
        report.seconds = time.perf_counter() - started
        store.write_summary(configs)
    done = report.skipped + len(report.ran)
    progress.say(f"sweep: {done}/{report.total} runs finished ({len(report.ran)} now, {len(report.failed)} failed) "
                 f"in {report.seconds:.1f} s; summary in {store.out / 'summary.csv'}")  # fmt: skip
    return report


def sweep_file(
    config_path: str | Path,
    out: str | Path | None = None,
    *,
    scheduler: str | None = None,
    local_workers: int | None = None,
    processes: int | None = None,
    serial: bool = False,
    stream: TextIO | None = sys.stderr,
) -> SweepReport:
    """``python -m alcore sweep``: expand the TOML grid and run what is missing on the chosen executor (default: one
    local process per core). ``out`` defaults to ``./<config stem>-sweep``."""
    from alcore.sweep.grid import load_grid

    chosen = [scheduler is not None, local_workers is not None, processes is not None, serial]
    if sum(chosen) > 1:
        raise ValueError("choose one of --scheduler, --local-workers, --processes, --serial")
    grid = load_grid(config_path)
    store = SweepStore(out if out is not None else Path(f"{Path(config_path).stem}-sweep"))
    say = (lambda message: print(message, file=stream, flush=True)) if stream is not None else (lambda message: None)
    if scheduler is not None or local_workers is not None:
        with dask_client(scheduler, local_workers, say=say) as client:
            return run_sweep(grid.runs, store, dask_executor(client), stream=stream)
    if serial or processes == 1:
        return run_sweep(grid.runs, store, serial_executor, stream=stream)
    return run_sweep(grid.runs, store, process_executor(processes or os.cpu_count() or 1), stream=stream)
