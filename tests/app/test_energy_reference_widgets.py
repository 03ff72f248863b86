"""AppTest: the energy-reference selector on Explore, Compare and Learn reaches the run's config (and the URL)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.compare_state import LAST_OUTCOME

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FAST = {"dataset": "TiO2", "epochs": "20", "members": "3", "budget": "60"}
ENERGIES = "Ti=-1604.6, O=-432.5"


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCORE_CACHE_DIR", str(tmp_path))


def shown_config(at: AppTest):
    return at.session_state["explore"].state.config


def test_explore_reference_selector_changes_the_run_and_checks_given_energies():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(FAST)
    at.run()
    assert not at.exception and not at.error
    assert shown_config(at).energy_reference == "auto"
    assert any("energy reference: fitted (auto: 2 elements" in c.value for c in at.caption)
    assert not at.text_input  # the energies field only appears for "given"
    at.selectbox(key="energy_reference").set_value("none").run()
    assert not at.exception and shown_config(at).energy_reference == "none"
    assert at.query_params["energy_reference"] == "none"

    at.selectbox(key="energy_reference").set_value("given").run()
    assert at.text_input(key="reference_energies")
    assert at.error and "needs energies" in at.error[0].value  # nothing typed yet: a message, not a traceback
    at.text_input(key="reference_energies").input(ENERGIES).run()
    assert not at.exception and not at.error
    config = shown_config(at)
    assert config.energy_reference == "given"
    assert config.energy_reference_params == {"energies": {"Ti": -1604.6, "O": -432.5}}
    assert len(at.session_state["explore"].state.rounds) == 1  # round 0 of the new run was trained

    at.text_input(key="reference_energies").input("Ti=-1604.6, O=oops").run()
    assert not at.exception and "ELEMENT=ENERGY" in at.error[0].value


def test_compare_runs_with_the_chosen_reference_and_says_so():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"cmp_dataset": "TiO2", "cmp_strategies": "random", "cmp_seeds": "1", "cmp_budget": "45",
                            "cmp_members": "3", "cmp_epochs": "20", "cmp_jobs": "1"})  # fmt: skip
    at.switch_page("pages/compare.py").run()
    at.selectbox(key="cmp_energy_reference").set_value("fitted").run()
    assert any("energy reference fitted" in c.value for c in at.caption)
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state[LAST_OUTCOME].request.base.energy_reference == "fitted"


def test_learn_lesson_follows_the_reference():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"learn_dataset": "TiO2"})
    at.switch_page("pages/learn.py").run()
    assert not at.exception
    before = at.get("plotly_chart")[0].proto.spec
    at.selectbox(key="learn_energy_reference").set_value("none").run()
    assert not at.exception and at.query_params["learn_energy_reference"] == "none"
    assert at.get("plotly_chart")[0].proto.spec != before  # another committee: fitted on absolute energies
