"""AppTest: the quick-run page really runs a strategy when Run is clicked."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_page_runs_and_draws_the_learning_curve():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert "run_state" not in at.session_state
    at.selectbox(key="dataset").set_value("TiO2")
    at.selectbox(key="strategy").set_value("kcenter")
    at.slider(key="budget").set_value(60)
    at.slider(key="epochs").set_value(50)
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    state = at.session_state["run_state"]
    assert [r.n_labels for r in state.rounds] == [30, 45, 60]
    assert state.config.strategy == "kcenter" and state.config.dataset == "TiO2"
    assert at.metric[0].value == "60"
    assert len(at.get("plotly_chart")) == 1
