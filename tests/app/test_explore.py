"""AppTest: the Explore page really steps, runs, scrubs, branches, resets and keeps its settings in the URL."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.explore_charts import EXPLORE_CHARTS

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FAST = {"dataset": "Si", "epochs": "20", "members": "3", "budget": "90"}


def open_explore(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(FAST | params)
    return at.run()


def shown(at: AppTest):
    return at.session_state["explore"].state


def test_first_load_trains_round_zero_and_draws_every_view():
    at = open_explore()
    assert not at.exception and not at.error
    state = shown(at)
    assert [r.n_labels for r in state.rounds] == [30]
    assert state.config.dataset == "Si" and state.config.committee_params["epochs"] == 20
    assert at.metric[0].label == "Labels used" and at.metric[0].value == "30"
    assert len(at.get("plotly_chart")) == 1 + len(EXPLORE_CHARTS)  # the map and every registered round chart


def test_step_run_n_scrub_and_reset():
    at = open_explore(strategy="uncertainty")
    at.button(key="step").click().run()
    assert not at.exception
    assert [r.n_labels for r in shown(at).rounds] == [30, 45]
    assert at.metric[0].value == "45"
    at.number_input(key="n_rounds").set_value(2).run()
    at.button(key="run_n").click().run()
    state = shown(at)
    assert [r.n_labels for r in state.rounds] == [30, 45, 60, 75]
    assert at.metric[0].value == "75" and len(at.get("plotly_chart")) == 6
    at.select_slider(key="round").set_value(1).run()
    assert at.metric[0].value == "45"  # every view follows the slider
    assert len(shown(at).rounds) == 4  # scrubbing does not step
    at.button(key="reset").click().run()
    assert [r.n_labels for r in shown(at).rounds] == [30]
    assert len(at.session_state["explore"].runs) == 1


def test_branch_keeps_the_original_and_continues_with_another_strategy():
    at = open_explore(strategy="uncertainty")
    at.number_input(key="n_rounds").set_value(3).run()
    at.button(key="run_n").click().run()
    original = shown(at)
    at.select_slider(key="round").set_value(2).run()
    at.selectbox(key="branch_strategy").set_value("kcenter").run()
    at.button(key="branch").click().run()
    assert not at.exception and not at.error
    session = at.session_state["explore"]
    assert len(session.runs) == 2
    child = session.state
    assert child.config.strategy == "kcenter" and child.lineage == ((original.config, 2),)
    assert [r.n_labels for r in child.rounds] == [30, 45, 60]
    assert child.rounds[:2] == original.rounds[:2]
    assert list(session.runs.values())[0] is original  # the original run is untouched
    assert at.selectbox(key="explore_run").value == session.active
    at.selectbox(key="explore_run").set_value(list(session.runs)[0]).run()
    assert at.session_state["explore"].state is original


def test_settings_come_from_and_go_to_the_url():
    at = open_explore(strategy="hybrid", alpha="0.25", seed="4", colour_by="std")
    state = shown(at)
    assert state.config.strategy == "hybrid" and state.config.strategy_params == {"alpha": 0.25}
    assert state.config.seed == 4
    assert at.selectbox(key="colour_by").value == "std"
    at.selectbox(key="strategy").set_value("kcenter").run()
    assert at.query_params["strategy"] == "kcenter"
    assert shown(at).config.strategy == "kcenter"
    assert len(at.session_state["explore"].runs) == 2


def test_a_bad_url_value_is_ignored_with_a_warning():
    at = open_explore(strategy="nonsense")
    assert not at.exception
    assert any("strategy" in w.value for w in at.warning)
    assert shown(at).config.strategy == "diversity"


def test_impossible_settings_show_a_message_not_a_traceback():
    at = open_explore()
    at.number_input(key="n_initial").set_value(120).run()
    assert not at.exception
    assert any("budget (90) is smaller than the initial set (120)" in e.value for e in at.error)


def test_inspecting_a_pick_explains_it():
    at = open_explore(strategy="uncertainty")
    picks = at.selectbox(key="inspect_pick").options[1:]
    assert len(picks) == 15
    at.selectbox(key="inspect_pick").set_value(picks[0]).run()
    text = " ".join(m.value for m in at.markdown)
    assert "Picked 1st this round: std rank 1 of" in text


def test_autoplay_steps_until_the_budget_then_stops():
    at = open_explore(budget="60")
    at.session_state["autoplay_seconds"] = 0.5
    at.toggle(key="autoplay").set_value(True).run()
    assert not at.exception
    assert [r.n_labels for r in shown(at).rounds] == [30, 45, 60]
    assert shown(at).done and at.session_state["autoplay"] is False
    assert any("Budget reached" in s.value for s in at.success)


def test_exports_are_offered():
    at = open_explore()
    labels = [b.label for b in at.get("download_button")]
    assert any("extxyz" in label for label in labels)
    assert any("manifest" in label for label in labels)
    assert any("CSV" in label for label in labels)


def test_two_sessions_never_see_each_others_runs():
    first, second = open_explore(strategy="kcenter"), open_explore(strategy="random")
    first.button(key="step").click().run()
    second.run()
    assert [r.n_labels for r in shown(first).rounds] == [30, 45]
    assert [r.n_labels for r in shown(second).rounds] == [30]
    assert shown(second).config.strategy == "random" and len(second.session_state["explore"].runs) == 1
    assert shown(first).problem is shown(second).problem  # the heavy part is shared ...
    assert not shown(first).problem.X.flags.writeable  # ... and cannot be changed by anyone


def test_the_next_round_is_computed_ahead_and_equals_the_round_computed_on_click():
    from alcore.loop import step
    from ui import lookahead

    at = open_explore(strategy="diversity")
    s = at.session_state["explore"]
    shown_state, baseline = s.state, next(iter(s.baselines.values()))
    ahead = {id(x) for x in (shown_state, baseline)}
    assert ahead <= set(lookahead._ahead)  # both the run and its random baseline are being computed ahead
    expected = step(shown_state)  # computed here, in this thread, with nothing ahead
    at.button(key="step").click().run()
    assert not at.exception
    got = shown(at)
    assert got.rounds[-1].selected.tobytes() == expected.rounds[-1].selected.tobytes()
    assert got.rounds[-1].pool_std.tobytes() == expected.rounds[-1].pool_std.tobytes()
    assert not ahead & set(lookahead._ahead)  # handed out once
