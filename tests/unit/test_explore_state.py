"""Explore's per-session state: Steps with their random baseline, round 0 in the background, and clicks that arrive
while a round trains (Streamlit runs a click's callback while the page's previous run may still be busy)."""

from __future__ import annotations

import threading

import pytest

from tests.synthetic import synthetic_problem
from ui import explore_state as es


def _sessions(n: int, strategy: str = "uncertainty", budget: int = 90):
    """``n`` sessions showing the same new run (no round yet), and its config."""
    config, problem = synthetic_problem(strategy=strategy, budget=budget)
    sessions = [es.ExploreSession() for _ in range(n)]
    for s in sessions:
        es.follow_settings(s, config, problem)
    return config, problem, sessions


def _gated_steps(monkeypatch):
    """``es.step`` that signals when a round starts and waits to be released, so tests order threads exactly; returns
    the two events and the list of rounds trained (by their round number)."""
    started, release, real_step, trained = threading.Event(), threading.Event(), es.step, []

    def gated(state):
        trained.append(len(state.rounds))
        started.set()
        assert release.wait(30), "the test never released the round"
        return real_step(state)

    monkeypatch.setattr(es, "step", gated)
    return started, release, trained


def test_a_step_fits_the_random_baseline_alongside_and_equal_to_a_sequential_one():
    _, _, (together, alone) = _sessions(2, budget=60)
    for s in (together, alone):
        es.advance(s, 1)  # round 0, as the page trains it before Step is clicked
    for _ in range(2):
        es.step_with_baseline(together, True)
        es.advance(alone, 1)
    reference = es.baseline(alone, alone.state)
    (shadow,) = together.baselines.values()  # stepped alongside each Step, before the page asks for it
    assert es.baseline(together, together.state) is shadow
    assert len(shadow.rounds) == len(together.state.rounds) == 3
    assert all(a.same_results(b) for a, b in zip(shadow.rounds, reference.rounds))
    assert all(a.same_results(b) for a, b in zip(together.state.rounds, alone.state.rounds))
    assert shadow.config.strategy == "random"


def test_a_round_in_the_background_lets_the_page_draw_meanwhile_and_equals_a_plain_round(monkeypatch):
    _, _, (background, plain) = _sessions(2)
    es.advance(plain, 1)
    _, release, trained = _gated_steps(monkeypatch)  # the round cannot end before the page has drawn
    assert es.advance_in_background(background, meanwhile=release.set, after=0.05) == 1
    assert trained == [0] and background.state.rounds[0].same_results(plain.state.rounds[0])

    calls = []  # a round done within ``after``: nothing drawn meanwhile
    assert es.advance_in_background(background, meanwhile=lambda: calls.append(1), after=600) == 1
    assert calls == [] and len(background.state.rounds) == 2


def test_a_failing_round_in_the_background_raises_on_the_page(monkeypatch):
    _, _, (s,) = _sessions(1)

    def broken(state):
        raise ValueError("no committee today")

    monkeypatch.setattr(es, "step", broken)
    with pytest.raises(ValueError, match="no committee today"):
        es.advance_in_background(s, meanwhile=lambda: None, after=0.01)
    assert s.state.rounds == ()


def test_a_step_clicked_while_round_zero_trains_waits_for_it_and_makes_round_one(monkeypatch):
    _, _, (s, plain) = _sessions(2)
    es.advance(plain, 2)
    started, release, trained = _gated_steps(monkeypatch)
    page = threading.Thread(target=es.advance_in_background, args=(s, lambda: None, 600))
    page.start()
    assert started.wait(30)  # round 0 is training
    clicked = threading.Thread(target=es.step_with_baseline, args=(s, False))
    clicked.start()
    clicked.join(0.3)
    assert clicked.is_alive() and s.state.rounds == ()  # the click waits, it does not train round 0 a second time
    release.set()
    page.join(60), clicked.join(60)
    assert len(s.state.rounds) == 2 and trained == [0, 1]  # round 0 trained once
    assert all(a.same_results(b) for a, b in zip(s.state.rounds, plain.state.rounds))


def test_a_step_on_a_run_without_round_zero_makes_both():
    config, _, (s,) = _sessions(1)
    assert es.step_with_baseline(s, True) == 2
    assert [r.n_labels for r in s.state.rounds] == [config.n_initial, config.n_initial + config.batch_size]
    assert len(es.baseline(s, s.state).rounds) == 2


def test_a_round_finishing_after_a_settings_change_stays_with_its_own_run(monkeypatch):
    config, problem, (s,) = _sessions(1)
    first = s.active
    started, release, _ = _gated_steps(monkeypatch)
    page = threading.Thread(target=es.advance_in_background, args=(s, lambda: None, 600))
    page.start()
    assert started.wait(30)
    es.follow_settings(s, config.replace(strategy="random"), problem)  # the user picks another strategy meanwhile
    second = s.active
    release.set()
    page.join(60)
    assert second != first and s.active == second
    assert len(s.runs[first].rounds) == 1 and s.runs[second].rounds == ()
