"""The real app in Chromium: every page loads without an error and draws its charts; the main interactions work."""

from __future__ import annotations

import re

import pytest

from tests.browser.driver import EXCEPTION, PLOT, metric_value, open_page, wait_idle, wait_metric_change

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

ERROR = '[data-testid="stAlertContentError"]'
BATCH_SIZE = 15
# A tiny comparison for the Compare page, set through its URL settings: 2 strategies x 2 seeds, 3 short rounds.
TINY_COMPARISON = ("cmp_dataset=Si&cmp_strategies=random,uncertainty&cmp_seeds=2&cmp_budget=60&cmp_epochs=20"
                   "&cmp_jobs=1")


def assert_healthy(page) -> None:
    """No traceback, no error message, and at least one plotly chart on screen."""
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
    errors = page.locator(ERROR).all_inner_texts()
    assert errors == []
    page.locator(PLOT).first.wait_for(state="visible")


@pytest.mark.parametrize("path", ["/", "/data", "/learn"])
def test_page_loads_with_charts(page, app_url, path):
    open_page(page, app_url + path)
    assert_healthy(page)


def test_explore_url_path_shows_explore(page, app_url):
    """Explore is the main page (``/``); an old ``/explore`` link lands on it too, with Streamlit's "page not found,
    running the main page" notice. Its Step button may appear a moment after the first run: wait for it."""
    open_page(page, app_url + "/explore")
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible", timeout=30_000)
    assert_healthy(page)


SEEN_START_MAP = """
window.__startMap = false;
document.addEventListener('load', e => {  // load events do not bubble; caught on their way down
  if (e.target.closest && e.target.closest('.st-key-map_start') && e.target.naturalWidth > 0) window.__startMap = true;
}, true);
"""


def test_explore_draws_the_starting_map_then_the_interactive_one(page, app_url):
    """A new session sees where the run starts (an SVG picture, drawn before the chart library has loaded) while
    round 0 trains; the interactive map then takes its place."""
    page.add_init_script(SEEN_START_MAP)
    open_page(page, app_url + "/?seed=11&epochs=2000&members=10")  # a slow round 0: time to draw
    assert page.evaluate("window.__startMap"), "the starting map was never drawn"
    assert page.locator(".st-key-map_start").count() == 0
    page.locator(".st-key-map .js-plotly-plot").wait_for(state="visible")
    assert_healthy(page)


def test_explore_step_clicked_while_round_zero_trains_counts_once(page, app_url):
    """Step is enabled as soon as the starting map is up; a click then waits for round 0 and makes round 1."""
    page.goto(app_url + "/?seed=12&epochs=2000&members=10")  # a slow round 0: the click lands during training
    page.locator(".st-key-map_start img").wait_for(state="visible")
    step = page.get_by_role("button", name="Step", exact=True)
    assert step.is_enabled()
    step.click()
    wait_metric_change(page, "Labels used", "30")
    wait_idle(page)
    assert metric_value(page, "Labels used") == str(30 + BATCH_SIZE)
    assert page.locator(".st-key-round").count() == 1  # the round slider: rounds 0 and 1
    assert_healthy(page)


def test_explore_step_labels_one_more_batch(page, app_url):
    open_page(page, app_url + "/")
    step = page.get_by_role("button", name="Step", exact=True)
    assert step.is_enabled()
    before = int(metric_value(page, "Labels used"))
    step.click()
    after = wait_metric_change(page, "Labels used", str(before))
    wait_idle(page)
    assert int(after) == before + BATCH_SIZE
    assert_healthy(page)


def test_explore_link_restores_its_settings(page, app_url):
    open_page(page, app_url + "/?strategy=kcenter&seed=3")
    sidebar = page.locator('[data-testid="stSidebar"]')
    # the widgets take their restored values when the browser renders the run; poll rather than read once
    expect(sidebar.get_by_role("combobox", name="Strategy")).to_have_value("kcenter", timeout=10_000)
    expect(sidebar.get_by_role("spinbutton", name="Seed")).to_have_value("3", timeout=10_000)
    assert re.search(r"strategy=kcenter", page.url) and re.search(r"seed=3", page.url)
    assert_healthy(page)


def test_compare_runs_a_tiny_comparison(page, app_url):
    open_page(page, f"{app_url}/compare?{TINY_COMPARISON}")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_role("combobox", name="Dataset").input_value() == "Si"
    page.get_by_role("button", name="Run comparison").click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    wait_idle(page)
    assert_healthy(page)
    assert page.get_by_text("4 runs").first.is_visible()


def test_learn_strategy_choice_redraws_its_map(page, app_url):
    open_page(page, app_url + "/learn")
    page.get_by_role("radiogroup").get_by_text("kcenter", exact=True).click()
    page.get_by_text("kcenter: its 15 picks").first.wait_for(state="visible")
    wait_idle(page)
    assert "learn_strategy=kcenter" in page.url
    assert_healthy(page)
