"""Issue 8.2, in-process: ten app sessions (nine on Explore, one on Compare) step at the same time in threads, as
browser tabs on one server. No session sees another's state, each result is bit-identical to the same run done alone,
and nothing the app caches for all sessions (datasets, Problems) changes, or can be changed in place.

The sessions start together (a barrier) and act concurrently; their runs are replayed alone, through alcore, before
the concurrent phase. One session is also run alone through AppTest, to show that AppTest alone equals alcore alone.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_info

from alcore.comparison.grid import run_grid
from alcore.config import RunConfig
from alcore.loop import Problem, branch, prepare, run, step
from alcore.strategies import PoolView, select
from alcore.strategies.base import BLAS_SETTING_LOCK
from tests.hardening.sessions import (
    bare_mode,
    cached_resources,
    fingerprint,
    round_differences,
    shared_server,
    writeable_arrays,
)
from ui import datasets
from ui.compare_state import LAST_OUTCOME
from ui.threads import one_thread

APP = str(Path(__file__).resolve().parents[2] / "app.py")
BUDGET = 60
SMALL = {"n_initial": "10", "budget": str(BUDGET), "members": "3", "epochs": "20"}
COMMITTEE = {"n_members": 3, "hidden": [64, 64], "epochs": 20, "lr": 0.01}
REGISTERED, PROBLEMS = "ui.datasets._registered", "ui.datasets._problem"  # the shared caches
BOOKKEEPING = ("ui.datasets._map_jobs", "ui.datasets._map_executor")  # background-job records, mutable by design
TIMEOUT = 300  # seconds per AppTest run: ten sessions share two cores


@dataclass(frozen=True)
class Session:
    """One browser tab: its Explore link, and what it clicks (``("step", 3)``, ``("run_n", 3)``, ``("branch", s)``)."""

    name: str
    dataset: str
    strategy: str
    seed: int
    batch_size: int
    actions: tuple[tuple[str, object], ...]
    alpha: float | None = None

    def query(self) -> dict[str, str]:
        q = SMALL | {"dataset": self.dataset, "strategy": self.strategy, "seed": str(self.seed),
                     "batch_size": str(self.batch_size)}
        return q | ({"alpha": str(self.alpha)} if self.alpha is not None else {})

    def config(self) -> RunConfig:
        return RunConfig(
            dataset=self.dataset, strategy=self.strategy, seed=self.seed, batch_size=self.batch_size,
            strategy_params={"alpha": self.alpha} if self.alpha is not None else {},
            committee_params=dict(COMMITTEE), n_initial=10, budget=BUDGET,
        )

    def rounds_wanted(self) -> int:
        """Rounds of the plain run: round 0 on opening, then one per Step / N per Run N rounds."""
        return 1 + sum(int(arg) for kind, arg in self.actions if kind in ("step", "run_n"))


SESSIONS = (
    Session("si-random", "Si", "random", 0, 5, (("step", 3),)),
    Session("si-random-twin", "Si", "random", 0, 5, (("step", 2),)),  # same settings as another tab
    Session("si-uncertainty", "Si", "uncertainty", 1, 4, (("step", 3),)),
    Session("c-diversity", "C", "diversity", 0, 5, (("step", 3),)),
    Session("c-hybrid", "C", "hybrid", 2, 6, (("step", 3),), alpha=0.25),
    Session("fe-kcenter", "Fe", "kcenter", 0, 5, (("step", 3),)),
    Session("fe-cluster", "Fe", "cluster_uncertainty", 3, 3, (("step", 3),)),
    Session("tio2-run-n", "TiO2", "uncertainty", 0, 5, (("run_n", 3),)),
    Session("tio2-branch", "TiO2", "diversity", 0, 5, (("step", 2), ("branch", "kcenter"))),
)
COMPARE = {"cmp_dataset": "Si", "cmp_strategies": "random,kcenter", "cmp_seeds": "2", "cmp_budget": "20",
           "cmp_initial": "10", "cmp_batch": "5", "cmp_members": "3", "cmp_epochs": "20", "cmp_jobs": "1"}


def checked(action) -> AppTest:
    """Run the page after ``action`` (an AppTest or a widget just changed) and fail at once on a traceback or an error
    message (a later run could hide it)."""
    at = action.run(timeout=TIMEOUT)
    problems = [e.value for e in (*at.exception, *at.error)]
    if problems:
        raise AssertionError(f"the page showed {problems}")
    return at


def act(at: AppTest, session: Session) -> None:
    for kind, arg in session.actions:
        if kind == "step":
            for _ in range(int(arg)):
                checked(at.button(key="step").click())
        elif kind == "run_n":
            checked(at.number_input(key="n_rounds").set_value(int(arg)))
            checked(at.button(key="run_n").click())
        else:  # branch from the round shown (the last one) with another strategy
            checked(at.selectbox(key="branch_strategy").set_value(arg))
            checked(at.button(key="branch").click())


def open_explore(session: Session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(session.query())
    return at


def open_compare() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(COMPARE)
    return at.switch_page("pages/compare.py")


def compare_base() -> RunConfig:
    return RunConfig(dataset="Si", committee_params={"n_members": 3, "epochs": 20}, n_initial=10, batch_size=5,
                     budget=20)


@lru_cache(maxsize=None)
def data_of(dataset: str) -> Problem:
    return prepare(RunConfig(dataset=dataset, n_initial=10, budget=BUDGET))


def alone(config: RunConfig, n_rounds: int):
    """``config`` run alone through alcore: descriptors and split made outside the app (no app cache), one OpenMP
    thread as in the app (thread counts do not change results: tests/hardening/test_determinism_processes.py)."""
    with one_thread():
        return run(config, data_of(config.dataset).for_config(config), max_rounds=n_rounds)


def solo_runs() -> dict[str, object]:
    """Every session's run, done alone."""
    out: dict[str, object] = {}
    for s in SESSIONS:
        config = s.config()
        if any(kind == "branch" for kind, _ in s.actions):
            parent = alone(config, s.rounds_wanted())
            kept = len(parent.rounds) - 1  # the slider shows the last round: keep the rounds before it
            child_config = config.replace(strategy=next(a for k, a in s.actions if k == "branch"))
            with one_thread():
                out[s.name] = (parent, step(branch(parent, kept, child_config)))
        else:
            out[s.name] = alone(config, s.rounds_wanted())
    with one_thread():
        out["compare"] = run_grid(compare_base(), data_of("Si"), ["random", "kcenter"], [0, 1], n_jobs=1)
    return out


def blas_threads() -> set[int]:
    """The process-wide BLAS thread counts, read while no strategy has them lowered."""
    with BLAS_SETTING_LOCK:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@lru_cache(maxsize=None)
def dataset_fingerprints() -> dict[str, str]:
    from alcore.datasets import load_dataset

    return {name: load_dataset(name).fingerprint() for name in ("Si", "C", "Fe", "TiO2")}


@pytest.fixture(scope="module")
def concurrent():
    """Open every session at the same moment in its own thread and let each click through its actions."""
    solo = solo_runs()
    first = checked(open_explore(SESSIONS[0]))  # alone through AppTest; also settles st.navigation's pages mode
    act(first, SESSIONS[0])
    first_alone = first.session_state["explore"].state

    with bare_mode():  # fill the shared caches first, so that every entry has a "before"
        for s in SESSIONS:
            datasets.problem_for(s.config())
            datasets.problem_for(s.config()).structures.formulas  # the map's hover labels, computed once
    cached = [(name, value, fingerprint(value)) for name, values in cached_resources().items() for value in values]
    blas_before = blas_threads()
    apps = [open_explore(s) for s in SESSIONS] + [open_compare()]
    barrier = threading.Barrier(len(apps))
    windows: list[tuple[float, float]] = [(0.0, 0.0)] * len(apps)

    def drive(i: int) -> None:
        at = apps[i]
        barrier.wait(timeout=60)
        started = time.perf_counter()
        try:
            checked(at)
            if i < len(SESSIONS):
                act(at, SESSIONS[i])
            else:
                checked(at.button(key="cmp_run").click())
        except Exception as exc:
            raise AssertionError(f"session {i}: {exc!r}") from exc
        windows[i] = (started, time.perf_counter())

    t0 = time.perf_counter()
    with shared_server(), ThreadPoolExecutor(max_workers=len(apps)) as pool:
        errors = [f.exception() for f in [pool.submit(drive, i) for i in range(len(apps))]]
    seconds = time.perf_counter() - t0
    changed = [name for name, value, before in cached if fingerprint(value) != before and name not in BOOKKEEPING]
    blas_after = blas_threads()
    print(f"\n{len(apps)} concurrent sessions: {seconds:.1f} s")
    return {"alone": solo, "first_alone": first_alone, "apps": apps, "errors": errors, "windows": windows,
            "cached": [name for name, _, _ in cached], "changed": changed, "blas": (blas_before, blas_after)}


def explore_apps(concurrent):
    return zip(SESSIONS, concurrent["apps"][: len(SESSIONS)], strict=True)


def test_sessions_ran_at_the_same_time_without_an_exception(concurrent):
    assert [str(e) for e in concurrent["errors"] if e is not None] == []
    for at in concurrent["apps"]:
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
    windows = concurrent["windows"]
    assert max(start for start, _ in windows) < min(end for _, end in windows)  # every session was busy at once


def test_sessions_leave_the_process_blas_setting_as_they_found_it(concurrent):
    before, after = concurrent["blas"]
    assert after == before


def test_apptest_alone_equals_alcore_alone(concurrent):
    assert round_differences(concurrent["first_alone"].rounds, concurrent["alone"]["si-random"].rounds) == []


def test_each_session_holds_only_its_own_settings_and_runs(concurrent):
    for session, at in explore_apps(concurrent):
        explore = at.session_state["explore"]
        expected = session.config()
        assert at.session_state["dataset"] == session.dataset and at.session_state["strategy"] == session.strategy
        assert at.session_state["seed"] == session.seed and at.session_state["batch_size"] == session.batch_size
        branched = any(kind == "branch" for kind, _ in session.actions)
        assert len(explore.runs) == (2 if branched else 1), (session.name, list(explore.runs))
        parent = next(iter(explore.runs.values()))
        assert parent.config == expected, session.name
        for state in explore.runs.values():
            assert (state.config.dataset, state.config.seed) == (session.dataset, session.seed)
            assert state.problem.dataset_fingerprint == dataset_fingerprints()[session.dataset]
        for baseline in explore.baselines.values():
            assert baseline.config == expected.replace(strategy="random", strategy_params={}), session.name
        shown = explore.state
        assert at.metric[0].label == "Labels used"
        assert at.metric[0].value == str(shown.rounds[-1].n_labels), session.name


def test_each_session_equals_its_run_done_alone(concurrent):
    solo = concurrent["alone"]
    for session, at in explore_apps(concurrent):
        explore = at.session_state["explore"]
        if any(kind == "branch" for kind, _ in session.actions):
            parent, child = list(explore.runs.values())
            want_parent, want_child = solo[session.name]
            assert round_differences(parent.rounds, want_parent.rounds) == [], session.name
            assert round_differences(child.rounds, want_child.rounds) == [], session.name
            assert child.config.strategy == "kcenter" and explore.state is child
        else:
            assert round_differences(explore.state.rounds, solo[session.name].rounds) == [], session.name
        x, mae = explore.state.curve()
        want = solo[session.name][1] if isinstance(solo[session.name], tuple) else solo[session.name]
        want_x, want_mae = want.curve()
        assert np.array_equal(x, want_x) and mae.tobytes() == want_mae.tobytes(), session.name


def test_random_baselines_stepped_beside_the_runs_equal_random_alone(concurrent):
    """Each Step also fitted the random baseline in a second thread; it must be random's run alone."""
    for session, at in explore_apps(concurrent):
        for baseline in at.session_state["explore"].baselines.values():
            solo = alone(baseline.config, len(baseline.rounds))
            assert round_differences(baseline.rounds, solo.rounds) == [], session.name


def test_the_compare_session_equals_its_grid_run_alone(concurrent):
    outcome = concurrent["apps"][-1].session_state[LAST_OUTCOME]
    want = concurrent["alone"]["compare"]
    assert not outcome.from_cache
    assert [(r.strategy, r.seed) for r in outcome.results] == [(r.strategy, r.seed) for r in want]
    for got, expected in zip(outcome.results, want, strict=True):
        assert got.mae.tobytes() == expected.mae.tobytes(), (got.strategy, got.seed)
        assert all(np.array_equal(a, b) for a, b in zip(got.selected, expected.selected, strict=True))


def test_cached_resources_were_not_changed_by_the_sessions(concurrent):
    """Every object cached before the sessions ran (evicted since or not) has the same content after them."""
    assert {REGISTERED, PROBLEMS} <= set(concurrent["cached"])  # the datasets and Problems were cached before
    assert concurrent["changed"] == []


def test_cached_datasets_and_problems_cannot_be_changed_in_place(concurrent):
    cached = cached_resources()
    for name in (REGISTERED, PROBLEMS):
        for value in cached[name]:
            assert writeable_arrays(value) == [], f"{name}: writeable arrays {writeable_arrays(value)[:5]}"
    pool, positions = cached[PROBLEMS][0].split.pool, cached[REGISTERED][0].atoms[0].positions
    with pytest.raises(ValueError, match="read-only"):
        pool[0] = pool[0]  # the same value: were it writeable, nothing would change for later tests
    with pytest.raises(ValueError, match="read-only"):
        positions[0, 0] = positions[0, 0]


def test_concurrent_selections_leave_the_process_blas_threads_as_they_were():
    """OpenBLAS's thread count is one setting for the whole process; strategies lower it to one while they run.
    Overlapping selections (several sessions stepping) used to leave it at one thread for good."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    view = PoolView(mean=rng.normal(size=400), std=rng.random(400), X_pool=X, X_labelled=X[:10])
    barrier = threading.Barrier(4)

    def select_many(worker: int) -> None:
        barrier.wait(timeout=30)
        for k in range(150):
            select("kcenter", view, 5, np.random.default_rng([worker, k]))

    before = blas_threads()
    if before == {1}:
        pytest.skip("BLAS runs on one thread here already: there is no setting to leave behind")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(select_many, range(4)))
    assert blas_threads() == before


def test_sessions_finding_a_finished_map_job_together_both_get_the_map(monkeypatch):
    """Two sessions look for a structure map that is not there, find the same background job finished and both
    clear it: that used to raise KeyError in one of them (and two sessions arriving together could start two fits)."""
    first_look, meeting = threading.Barrier(2), threading.Barrier(2)
    looked = threading.local()
    submitted = []

    class MeetingFuture(Future):
        def done(self) -> bool:  # both sessions ask at the same moment (or after 2 s: the fixed code never waits)
            try:
                meeting.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
            return super().done()

    class FinishedAtOnce:
        def submit(self, fn, *args):
            submitted.append(args)
            future = MeetingFuture()
            future.set_result(None)
            return future

    def read_matching(path, fingerprint, phash, n):
        if path != "cache":
            return None
        if not getattr(looked, "once", False):
            looked.once = True
            first_look.wait(timeout=30)  # both sessions looked before the map was written
            return None
        return np.zeros((n, 2), dtype=np.float32)

    monkeypatch.setattr(datasets, "_map_executor", FinishedAtOnce)
    monkeypatch.setattr(datasets, "read_matching", read_matching)
    monkeypatch.setattr(datasets, "shipped_path", lambda name, descriptor: "shipped")
    monkeypatch.setattr(datasets, "cache_path", lambda fingerprint, descriptor, phash: "cache")
    monkeypatch.setattr(datasets, "params_hash", lambda descriptor, params: "test")
    with bare_mode(), ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(lambda _: datasets.structure_map("Si", "race-test"), range(2)))
    assert [s.message for s in statuses] == ["ready", "ready"]
    assert len(submitted) == 1
    assert not any(key[1] == "race-test" for key in datasets._map_jobs())
