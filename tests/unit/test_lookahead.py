"""Rounds computed ahead in the background are exactly the rounds a click computes, and are handed only to the
state they continue."""

import threading

import numpy as np
import pytest

from alcore.loop import start, step
from tests.synthetic import synthetic_problem
from ui import lookahead


@pytest.fixture
def state():
    config, problem = synthetic_problem(n=120, n_initial=10, batch_size=5, budget=30)
    return start(config, problem)


def counting(fn):
    calls = []

    def wrapped(s):
        calls.append(threading.current_thread().name)
        return fn(s)

    return wrapped, calls


def started(fn):
    """``fn`` and an event set when the worker has begun it (a round not begun yet is computed on the click)."""
    event = threading.Event()

    def wrapped(s):
        event.set()
        return fn(s)

    return wrapped, event


def test_a_round_computed_ahead_is_bit_identical_to_one_computed_on_click(state):
    ahead_fn, calls = counting(step)
    ahead_fn, begun = started(ahead_fn)
    lookahead.prefetch(state, ahead_fn)
    assert begun.wait(10)
    ahead = lookahead.take(state, lambda s: pytest.fail("should use the round computed ahead"))
    direct = step(state)
    assert calls and calls[0].startswith("alcore-lookahead")
    np.testing.assert_array_equal(ahead.labelled, direct.labelled)
    assert ahead.rounds[-1].selected.tobytes() == direct.rounds[-1].selected.tobytes()
    assert ahead.rounds[-1].pool_std.tobytes() == direct.rounds[-1].pool_std.tobytes()
    assert ahead.rounds[-1].mae == direct.rounds[-1].mae


def test_without_a_round_ahead_the_round_is_computed_now(state):
    fn, calls = counting(step)
    result = lookahead.take(state, fn)
    assert len(calls) == 1 and len(result.rounds) == 1


def test_prefetching_twice_computes_once_and_a_round_is_handed_out_once(state):
    fn, calls = counting(step)
    ahead_fn, begun = started(fn)
    lookahead.prefetch(state, ahead_fn)
    lookahead.prefetch(state, ahead_fn)
    assert begun.wait(10)
    lookahead.take(state, fn)
    assert len(calls) == 1
    lookahead.take(state, fn)  # taken already: computed again
    assert len(calls) == 2


def test_another_state_never_gets_the_round_ahead(state):
    other = start(state.config, state.problem)  # equal content, another session's object
    ahead_fn, begun = started(lambda s: "ahead for the first state")
    lookahead.prefetch(state, ahead_fn)
    assert begun.wait(10)
    assert lookahead.take(other, lambda s: "computed now") == "computed now"
    assert lookahead.take(state, lambda s: "computed now") == "ahead for the first state"


def test_finished_runs_and_no_run_are_not_prefetched(state):
    before = lookahead.pending()
    lookahead.prefetch(None, step)
    done = state
    while not done.done:
        done = step(done)
    lookahead.prefetch(done, step)
    assert lookahead.pending() == before


def test_a_failure_ahead_is_raised_when_the_round_is_taken(state):
    def broken(s):
        raise ValueError("the committee could not be fitted")

    broken, begun = started(broken)
    lookahead.prefetch(state, broken)
    assert begun.wait(10)
    with pytest.raises(ValueError, match="could not be fitted"):
        lookahead.take(state, step)


def test_a_round_not_begun_yet_is_computed_on_the_click(state):
    gate = threading.Event()
    lookahead.prefetch(start(state.config, state.problem), lambda s: gate.wait(10))  # keeps the worker busy
    lookahead.prefetch(state, lambda s: pytest.fail("queued behind another round: must be cancelled"))
    assert lookahead.take(state, lambda s: "computed now") == "computed now"
    gate.set()


def test_at_most_keep_rounds_are_held(state):
    states = [start(state.config, state.problem) for _ in range(lookahead.KEEP + 5)]
    for s in states:
        lookahead.prefetch(s, lambda s: s)
    assert lookahead.pending() <= lookahead.KEEP
    for s in states:
        lookahead.take(s, lambda s: s)
    assert lookahead.pending() == 0
