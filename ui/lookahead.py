"""Compute the next round while the user looks at the current one, so a Step click only has to draw it.

A round is a pure function of the run's state (every random choice comes from the run's seed and the round number),
so a round computed ahead is exactly the one a click would compute: results never depend on whether it was ready.
Rounds ahead are keyed by the state object they continue (states are immutable and belong to one session, so no
session can be handed another's round). One worker thread serves every session, so looking ahead never takes more
than one core from the server; a click whose round has not started yet cancels it and computes it at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from alcore.loop import RunState

KEEP = 32  # rounds ahead kept in the process (about two per active session); the oldest are dropped first

_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alcore-lookahead")
_ahead: OrderedDict[int, tuple[RunState, Future]] = OrderedDict()
_lock = threading.Lock()


def prefetch(state: RunState | None, step: Callable[[RunState], RunState]) -> None:
    """Start computing ``step(state)`` in the background, unless it is under way already or the run is finished."""
    if state is None or state.done:
        return
    with _lock:
        entry = _ahead.get(id(state))
        if entry is not None and entry[0] is state:
            return
        while len(_ahead) >= KEEP:
            _ahead.popitem(last=False)[1][1].cancel()
        _ahead[id(state)] = (state, _worker.submit(step, state))


def take(state: RunState, step: Callable[[RunState], RunState]) -> RunState:
    """``step(state)``: the round computed ahead when there is one (waiting for it if it is being computed), else
    computed now. A failure of the round ahead is raised here, as computing it now would raise it."""
    with _lock:
        entry = _ahead.pop(id(state), None)
    if entry is not None and entry[0] is state and not entry[1].cancel():
        return entry[1].result()
    return step(state)


def pending() -> int:
    """Rounds ahead held (for tests and diagnostics)."""
    with _lock:
        return len(_ahead)
