"""Per-session state of the Explore page: the runs stepped so far (plain runs and branches), which one is shown,
and the random baselines that shadow them. Everything lives in ``st.session_state`` (never in a shared cache), and
every run is an immutable ``RunState``, so stepping makes a new state and history stays scrubbable."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

import streamlit as st

from alcore.config import RunConfig
from alcore.loop import PROBLEM_FIELDS, Problem, RunState, branch, start
from alcore.loop import step as _step
from ui import lookahead
from ui.threads import one_thread

KEY = "explore"


def _compute_round(state: RunState) -> RunState:
    with one_thread():
        return _step(state)


def step(state: RunState) -> RunState:
    """The next round of ``state``; taken from ``ui.lookahead`` when it was computed while the page was viewed."""
    return lookahead.take(state, _compute_round)


def look_ahead(*states: RunState | None) -> None:
    """Compute the next round of these runs (the shown one, its random baseline) in the background."""
    for state in states:  # a random run is its own baseline: prefetch skips a state already under way
        lookahead.prefetch(state, _compute_round)


@dataclass
class ExploreSession:
    runs: dict[str, RunState] = field(default_factory=dict)  # label -> run, in creation order
    keys: dict[str, str] = field(default_factory=dict)  # config key -> label of the plain run with that config
    baselines: dict[str, RunState] = field(default_factory=dict)  # problem key -> random run from that initial set
    active: str | None = None
    settings_key: str | None = None  # the sidebar config the page last saw
    n_branches: int = 0
    # Held while a run is stepped, reset or branched. Streamlit starts a click's rerun (and its callback) while the
    # previous run of the page may still be training in its own thread; the click then waits for that round.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def state(self) -> RunState | None:
        return self.runs.get(self.active) if self.active else None


def session() -> ExploreSession:
    if KEY not in st.session_state:
        st.session_state[KEY] = ExploreSession()
    return st.session_state[KEY]


def config_key(config: RunConfig) -> str:
    return json.dumps(config.to_dict(), sort_keys=True, default=str)


def problem_key(config: RunConfig) -> str:
    """Runs with equal problem keys share data, split and initial set, so their curves belong on one chart."""
    return json.dumps({f: getattr(config, f) for f in PROBLEM_FIELDS}, sort_keys=True, default=str)


def strategy_label(config: RunConfig) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(config.strategy_params.items()))
    return f"{config.strategy} ({params})" if params else config.strategy


def run_label(config: RunConfig) -> str:
    return f"{strategy_label(config)} · seed {config.seed} · {config.dataset}/{config.descriptor}"


def follow_settings(s: ExploreSession, config: RunConfig, problem: Problem) -> bool:
    """Show the run of the sidebar's settings when they changed (creating it, with no round yet, if new: the page
    draws the starting map first and trains round 0 after). Returns True when a new run was made."""
    key = config_key(config)
    if s.settings_key == key and s.active in s.runs:
        return False
    s.settings_key = key
    created = key not in s.keys
    if created:
        label = run_label(config)
        if label in s.runs:
            label = f"{label} #{len(s.runs) + 1}"
        s.keys[key] = label
        s.runs[label] = start(config, problem)
    s.active = s.keys[key]
    return created


def advance(s: ExploreSession, n_rounds: int, progress: Callable[[int, int], None] | None = None) -> int:
    """Step the shown run up to ``n_rounds`` times (fewer if its budget runs out); returns rounds made."""
    made = 0
    with s.lock:
        label = s.active  # the run shown when asked; a settings change meanwhile shows another run, not this round
        for _ in range(n_rounds):
            state = s.runs.get(label) if label else None
            if state is None or state.done:
                break
            s.runs[label] = step(state)
            made += 1
            if progress is not None:
                progress(made, n_rounds)
    return made


def advance_in_background(s: ExploreSession, meanwhile: Callable[[], None], after: float) -> int:
    """``advance(s, 1)`` in a second thread; ``meanwhile()`` runs on the page's thread if the round is not done after
    ``after`` seconds (the page draws something while it waits, which cannot be done from another thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        made = pool.submit(advance, s, 1)
        if not wait([made], after).done:
            meanwhile()
        return made.result()


def step_with_baseline(s: ExploreSession, with_baseline: bool) -> int:
    """One round of the shown run after the one on screen. When the learning curve shows the random baseline, the
    baseline's matching round is fitted at the same time in a second thread (torch releases the GIL), so a Step waits
    for one fit, not two. A click while round 0 trains (the page shows the starting map) waits for it, or makes it."""
    with s.lock:
        first = advance(s, 1) if s.state is not None and not s.state.rounds else 0
        state = s.state
        if not with_baseline or state is None or state.done:
            return first + advance(s, 1)
        with ThreadPoolExecutor(max_workers=1) as pool:
            shadow = pool.submit(baseline, s, state, True, len(state.rounds) + 1)
            made = advance(s, 1)
            shadow.result()
        return first + made


def baseline(s: ExploreSession, state: RunState, enabled: bool = True, n_rounds: int | None = None
             ) -> RunState | None:
    """The random run from the same initial set, stepped as far as ``state`` (or ``n_rounds``; for a random run:
    itself)."""
    if not enabled:
        return None
    root = state.lineage[0][0] if state.lineage else state.config
    if root.strategy == "random" and not state.lineage:
        return state
    config = root.replace(strategy="random", strategy_params={}, budget=max(root.budget, state.config.budget))
    key = config_key(config)
    current = s.baselines.get(key) or start(config, state.problem)
    wanted = len(state.rounds) if n_rounds is None else n_rounds
    while len(current.rounds) < wanted and not current.done:
        current = step(current)
    s.baselines[key] = current
    return current


def related_runs(s: ExploreSession, state: RunState) -> dict[str, RunState]:
    """The runs of this session on the same data and initial set as ``state`` (plotted together)."""
    key = problem_key(state.config)
    return {name: run for name, run in s.runs.items() if problem_key(run.config) == key}


def make_branch(s: ExploreSession, n_rounds_kept: int, config: RunConfig) -> str:
    """Branch the shown run after ``n_rounds_kept`` rounds with ``config``, step it once, and show it."""
    with s.lock:
        parent_label, parent = s.active, s.state
        if parent is None:
            raise ValueError("there is no run to branch from yet")
        child = step(branch(parent, n_rounds_kept, config))
        s.n_branches += 1
        label = f"branch {s.n_branches}: {strategy_label(config)} from round {n_rounds_kept} of {parent_label}"
        s.runs[label] = child
        s.active = label
        return label


def reset(s: ExploreSession) -> None:
    """Forget every run of this session (the next page run starts the current settings afresh)."""
    with s.lock:
        s.runs.clear()
        s.keys.clear()
        s.baselines.clear()
        s.active = None
        s.settings_key = None
        s.n_branches = 0
