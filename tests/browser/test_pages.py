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
