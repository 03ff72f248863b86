"""Browser fixtures: one ``streamlit run app.py`` per test session, one Chromium, a fresh page per test.

Skips cleanly when Playwright or Chromium is missing. A failing test leaves a full-page screenshot and the server
log in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.browser.driver import REPO, VIEWPORT, full_screenshot, launch_browser, missing_requirement, start_app

ARTIFACTS = REPO / "test-artifacts"
PAGE_TIMEOUT_MS = 120_000  # the first run of a page trains a committee; a loaded CI machine is slow


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, _test_cache_dir):
    reason = missing_requirement()
    if reason:
        pytest.skip(reason)
    server = start_app(tmp_path_factory.mktemp("streamlit") / "server.log", os.environ["ALCORE_CACHE_DIR"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_url(app_server) -> str:
    return app_server.url


@pytest.fixture(scope="session")
def browser(app_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_server, request):
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            full_screenshot(tab, ARTIFACTS / f"{stem}.png")
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the test's own failure
            (ARTIFACTS / f"{stem}.screenshot-error.txt").write_text(str(exc))
        shutil.copy(app_server.log_path, ARTIFACTS / f"{stem}.server.log")
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the ``page`` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
