"""Per-session state of the Compare page: the last outcome, a cancellable run with progress, and the interrupted-run
notice. Results themselves are shared between sessions through the on-disk cache of ``alcore.comparison``."""

from __future__ import annotations

import streamlit as st

from alcore.comparison.cache import ComparisonOutcome, ComparisonRequest, load_results, run_comparison
from alcore.loop import Problem
from ui.errors import RerunException, StopException

LAST_OUTCOME = "cmp_last_outcome"  # this session's latest ComparisonOutcome
RUNNING = "cmp_running_progress"  # {"done": k, "total": n} while a grid runs; left behind when a rerun interrupts it


def last_outcome() -> ComparisonOutcome | None:
    return st.session_state.get(LAST_OUTCOME)


def outcome_for(request: ComparisonRequest) -> ComparisonOutcome | None:
    """This session's outcome when it matches ``request``, else one another session (or an earlier visit) cached on
    disk; the latter becomes this session's last outcome."""
    last = last_outcome()
    if last is not None and last.key == request.key():
        return last
    cached = load_results(request)
    if cached is not None:
        st.session_state[LAST_OUTCOME] = cached
    return cached


def interrupted_run() -> tuple[int, int] | None:
    """(done, total) of a run that a rerun (Cancel, a changed widget, leaving the page) cut short; reported once."""
    marker = st.session_state.pop(RUNNING, None)
    return None if marker is None else (marker["done"], marker["total"])


def run_with_progress(request: ComparisonRequest, problem: Problem, n_jobs: int) -> ComparisonOutcome:
    """Run (or load) ``request`` with a progress bar and a Cancel button.

    Clicking Cancel makes Streamlit rerun the script; the rerun interrupts this one at the next progress update (the
    ``st.progress`` call raises), the grid's worker processes are terminated and the marker left in session state
    tells the rerun how far it got."""
    cached = load_results(request)
    if cached is not None:
        st.session_state[LAST_OUTCOME] = cached
        return cached
    total = request.n_runs
    box = st.empty()
    with box.container():
        bar = st.progress(0.0, text=f"0 / {total} runs (the first runs start the worker processes)")
        st.button("Cancel", key="cmp_cancel", help="Stops after the run in progress; nothing is kept or cached.")
    st.session_state[RUNNING] = {"done": 0, "total": total}

    def progress(done: int, total_runs: int) -> None:
        st.session_state[RUNNING] = {"done": done, "total": total_runs}
        bar.progress(done / total_runs, text=f"{done} / {total_runs} runs")

    try:
        outcome = run_comparison(request, problem, n_jobs=n_jobs, progress=progress, use_cache=False)
    except (StopException, RerunException):
        raise  # interrupted: the marker stays for the rerun to report (touching state here would raise again)
    except Exception:
        st.session_state.pop(RUNNING, None)  # a failed run is reported as an error, not as cancelled
        box.empty()
        raise
    st.session_state.pop(RUNNING, None)
    st.session_state[LAST_OUTCOME] = outcome
    box.empty()
    return outcome
