"""AppTest: the Compare page runs a small grid, draws curves and the table, offers exports, and reuses the cache."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alcore.comparison.labels_saved import WHOLE_POOL
from alcore.comparison.tables import LABELS_SAVED_NOTE
from ui.compare_state import LAST_OUTCOME, RUNNING

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SMALL = {
    "cmp_dataset": "TiO2",
    "cmp_strategies": "random,uncertainty",
    "cmp_seeds": "2",
    "cmp_budget": "60",
    "cmp_members": "3",
    "cmp_epochs": "20",
    "cmp_jobs": "1",  # worker start-up would dominate four tiny runs
}


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCORE_CACHE_DIR", str(tmp_path))


def open_compare(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(SMALL | params)
    return at.switch_page("pages/compare.py").run()


def test_run_draws_curves_table_and_exports_then_a_new_session_reads_the_cache():
    at = open_compare()
    assert not at.exception and not at.error
    assert LAST_OUTCOME not in at.session_state
    assert not at.get("plotly_chart")

    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    outcome = at.session_state[LAST_OUTCOME]
    assert not outcome.from_cache
    assert [(r.strategy, r.seed) for r in outcome.results] == [
        ("random", 0), ("random", 1), ("uncertainty", 0), ("uncertainty", 1)
    ]
    assert all(r.n_labels.tolist() == [30, 45, 60] for r in outcome.results)
    assert "Computed 4 runs" in at.success[0].value
    assert len(at.get("plotly_chart")) == 1
    assert at.dataframe[0].value["strategy"].tolist() == ["random", "uncertainty"]
    assert not at.warning  # a budget of 60 leaves most of the pool unlabelled
    assert any("smallest possible two-sided p is 0.333 (Mann-Whitney, 2 vs 2) and 0.5 (paired Wilcoxon)" in c.value
               for c in at.caption)  # fmt: skip
    downloads = {b.key for b in at.get("download_button")}
    assert downloads == {"cmp_dl_curves", "cmp_dl_summary", "cmp_dl_html"}
    assert RUNNING not in at.session_state  # a finished run leaves no interrupted-run marker

    at.radio(key="cmp_band").set_value("ci95").run()
    at.selectbox(key="cmp_extra").set_value("spearman").run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
    assert at.session_state[LAST_OUTCOME] is outcome  # changing the display recomputes nothing

    at.button(key="cmp_run").click().run()
    assert at.session_state[LAST_OUTCOME].from_cache
    assert "Loaded from the result cache" in at.info[0].value

    other_session = open_compare()
    assert not other_session.exception
    cached = other_session.session_state[LAST_OUTCOME]
    assert cached.from_cache and cached.key == outcome.key
    assert (cached.results[3].mae == outcome.results[3].mae).all()
    assert len(other_session.get("plotly_chart")) == 1


def test_bad_settings_show_a_message_and_disable_run():
    at = open_compare(cmp_budget="15")
    assert not at.exception
    assert "budget (15) is smaller than the initial set (30)" in at.error[0].value
    assert at.button(key="cmp_run").disabled
    at.number_input(key="cmp_budget").set_value(60)
    at.multiselect(key="cmp_strategies").set_value([]).run()
    assert not at.exception and "choose at least one strategy" in at.error[0].value


def test_an_interrupted_run_is_reported_once():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(SMALL)
    at.session_state[RUNNING] = {"done": 3, "total": 4}  # what a Cancel click leaves behind
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert "Cancelled after 3 / 4 runs" in at.warning[0].value
    at.run()
    assert not at.warning


def test_a_failing_run_is_an_error_message_not_a_cancellation(monkeypatch):
    import alcore.comparison.cache

    def failing_grid(*args, progress=None, **kwargs):
        progress(1, 4)
        raise RuntimeError("worker ran out of memory")

    monkeypatch.setattr(alcore.comparison.cache, "run_grid", failing_grid)
    at = open_compare()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert "Running the comparison failed: worker ran out of memory" in at.error[0].value
    assert RUNNING not in at.session_state and LAST_OUTCOME not in at.session_state
    at.run()
    assert not at.warning and not at.error


def test_an_initial_set_the_dataset_cannot_hold_is_reported_when_run():
    at = open_compare(cmp_initial="1370", cmp_budget="1370")
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert "too few" in at.error[0].value and LAST_OUTCOME not in at.session_state


def test_a_budget_that_labels_the_whole_pool_is_warned_about_and_labels_saved_is_not_a_number():
    """TiO2: 1370 structures outside the test split; 1340 initial + 2 rounds of 15 label all of them."""
    at = open_compare(cmp_initial="1340", cmp_batch="15", cmp_budget="1370")
    assert not at.exception
    assert "These settings, before you run them: The budget (1370 labels) uses the whole pool" in at.warning[0].value

    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    outcome = at.session_state[LAST_OUTCOME]
    assert all(r.n_labels.tolist() == [1340, 1355, 1370] for r in outcome.results)
    (warning,) = at.warning
    assert "uses the whole pool" in warning.value and "the % vs random and the p-values compare" in warning.value
    table = at.dataframe[0].value
    assert table["labels saved (%)"].isna().all()
    assert set(table[LABELS_SAVED_NOTE]) == {f"not comparable ({WHOLE_POOL})"}
    assert any("not comparable (reason)" in c.value for c in at.caption)

    at.number_input(key="cmp_budget").set_value(1355).run()  # the shown result is still the whole-pool one
    assert any("uses the whole pool" in w.value for w in at.warning)
    assert not any("These settings, before you run them" in w.value for w in at.warning)
