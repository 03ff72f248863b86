"""Pure parts of the UI layer: URL settings parsing and the Explore figures (no Streamlit runtime needed)."""

import numpy as np
import pytest

from alcore.insight import calibration, map_frame
from alcore.loop import run
from tests.synthetic import synthetic_problem
from ui.figures import explore as figs
from ui.urlstate import Setting


def test_settings_parse_and_format_round_trip():
    choice = Setting("strategy", "random", str, options=["random", "kcenter"])
    assert choice.parse("kcenter") == "kcenter"
    with pytest.raises(ValueError, match="not one of"):
        choice.parse("nope")
    number = Setting("seed", 0, int, bounds=(0, 10))
    assert number.parse("7") == 7 and number.format(7) == "7"
    with pytest.raises(ValueError, match="outside"):
        number.parse("11")
    with pytest.raises(ValueError):
        number.parse("x")
    flag = Setting("show", True, bool)
    assert flag.parse("false") is False and flag.format(True) == "true"
    with pytest.raises(ValueError, match="true or false"):
        flag.parse("maybe")
    many = Setting("s", ["a"], str, options=["a", "b", "c"], multi=True)
    assert many.parse("a,c") == ["a", "c"] and many.parse(["a", "b"]) == ["a", "b"]
    assert many.format(["b", "c"]) == "b,c" and many.valid(["a"]) and not many.valid(["z"])


@pytest.fixture(scope="module")
def state():
    config, problem = synthetic_problem(strategy="diversity", budget=50)
    return run(config, problem)


def test_structure_map_draws_each_role_and_keeps_indices_for_clicks(state):
    n = len(state.problem.y)
    emb = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    frame = map_frame(state, 1, emb, tuple(map(str, range(n))), ["Si2"] * n, None)
    fig = figs.structure_map(frame, "role", show_test=False, show_random=True, highlight=int(frame["index"][0]))
    names = [t.name for t in fig.data]
    assert any(name.startswith("selected (10)") for name in names)
    assert any(name.startswith("random would pick (10)") for name in names)
    assert not any(name.startswith("test") for name in names)
    pool = next(t for t in fig.data if t.name.startswith("pool"))
    assert set(pool.customdata[:, 0].astype(int)) == set(frame[frame.role == "pool"]["index"])
    coloured = figs.structure_map(frame, "std", show_test=True, show_random=False)
    assert coloured.data[0].marker.showscale and len(coloured.data[0].x) == n - (frame.role == "unused").sum()


def test_round_figures_use_meV_and_report_their_statistics(state):
    record = state.rounds[1]
    y_test = state.problem.y[state.problem.split.test]
    hist = figs.std_histogram(record, state.rounds[0])
    assert len(hist.data) == 2 and np.allclose(hist.data[1].x, record.pool_std * 1000)
    assert f"{record.spearman:.2f}" in figs.std_vs_error(record, y_test).layout.title.subtitle.text
    cal = calibration(record.test_std, record.test_mean - y_test)
    assert f"{cal.ratio:.2f}" in figs.calibration_plot(cal).layout.title.subtitle.text
    curves = figs.learning_curves({"a": state}, state, "a", record.n_labels)
    assert len(curves.data) == 2 and np.allclose(curves.data[1].y, state.curve()[1] * 1000)
    assert len(figs.parity(record, y_test).data[1].x) == len(y_test)


def test_a_step_fits_the_random_baseline_alongside_and_equal_to_a_sequential_one():
    from ui import explore_state as es

    config, problem = synthetic_problem(strategy="uncertainty", budget=60)
    together, alone = es.ExploreSession(), es.ExploreSession()
    for s in (together, alone):
        es.follow_settings(s, config, problem)
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
    import threading

    from ui import explore_state as es

    config, problem = synthetic_problem(strategy="uncertainty", budget=60)
    background, plain = es.ExploreSession(), es.ExploreSession()
    for s in (background, plain):
        es.follow_settings(s, config, problem)
    es.advance(plain, 1)
    drawn = threading.Event()
    real_step = es.step

    def step_after_drawing(state):  # the round cannot end before the page has drawn: no race with the timeout
        assert drawn.wait(30), "the page was not let draw while the round trained"
        return real_step(state)

    monkeypatch.setattr(es, "step", step_after_drawing)
    assert es.advance_in_background(background, meanwhile=drawn.set, after=0.05) == 1
    assert background.state.rounds[0].same_results(plain.state.rounds[0])

    monkeypatch.setattr(es, "step", real_step)  # a round done within ``after``: nothing drawn meanwhile
    calls = []
    assert es.advance_in_background(background, meanwhile=lambda: calls.append(1), after=600) == 1
    assert calls == [] and len(background.state.rounds) == 2


def test_a_failing_round_in_the_background_raises_on_the_page(monkeypatch):
    from ui import explore_state as es

    config, problem = synthetic_problem(strategy="uncertainty", budget=60)
    s = es.ExploreSession()
    es.follow_settings(s, config, problem)

    def broken(state):
        raise ValueError("no committee today")

    monkeypatch.setattr(es, "step", broken)
    with pytest.raises(ValueError, match="no committee today"):
        es.advance_in_background(s, meanwhile=lambda: None, after=0.01)
    assert s.state.rounds == ()


def _gated_steps(monkeypatch, es):
    """``es.step`` that signals when a round starts and waits to be released, so tests order threads exactly; returns
    the two events and the list of rounds trained (by their round number)."""
    import threading

    started, release, real_step, trained = threading.Event(), threading.Event(), es.step, []

    def gated(state):
        trained.append(len(state.rounds))
        started.set()
        assert release.wait(30), "the test never released the round"
        return real_step(state)

    monkeypatch.setattr(es, "step", gated)
    return started, release, trained


def test_a_step_clicked_while_round_zero_trains_waits_for_it_and_makes_round_one(monkeypatch):
    """Streamlit runs a click's callback while the page's previous run may still train round 0 in its own thread."""
    import threading

    from ui import explore_state as es

    config, problem = synthetic_problem(strategy="uncertainty", budget=90)
    s, plain = es.ExploreSession(), es.ExploreSession()
    for session in (s, plain):
        es.follow_settings(session, config, problem)
    es.advance(plain, 2)
    started, release, trained = _gated_steps(monkeypatch, es)
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


def test_a_step_on_a_run_without_round_zero_makes_both(monkeypatch):
    from ui import explore_state as es

    config, problem = synthetic_problem(strategy="uncertainty", budget=90)
    s = es.ExploreSession()
    es.follow_settings(s, config, problem)
    assert es.step_with_baseline(s, True) == 2
    assert [r.n_labels for r in s.state.rounds] == [config.n_initial, config.n_initial + config.batch_size]
    assert len(es.baseline(s, s.state).rounds) == 2


def test_a_round_finishing_after_a_settings_change_stays_with_its_own_run(monkeypatch):
    import threading

    from ui import explore_state as es

    config, problem = synthetic_problem(strategy="uncertainty", budget=90)
    s = es.ExploreSession()
    es.follow_settings(s, config, problem)
    first = s.active
    started, release, _ = _gated_steps(monkeypatch, es)
    page = threading.Thread(target=es.advance_in_background, args=(s, lambda: None, 600))
    page.start()
    assert started.wait(30)
    es.follow_settings(s, config.replace(strategy="random"), problem)  # the user picks another strategy meanwhile
    second = s.active
    release.set()
    page.join(60)
    assert second != first and s.active == second
    assert len(s.runs[first].rounds) == 1 and s.runs[second].rounds == ()
