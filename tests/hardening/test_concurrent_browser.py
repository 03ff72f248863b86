"""Issue 8.2 against a real server: eight browser tabs (separate browser contexts, so separate sessions) open Explore on
one ``streamlit run`` with different links, press Step together twice, and download their run manifests. Each tab's
manifest must be its own settings and exactly the run done alone in this process (same selected indices in every
round, same MAE to the last bit), and the metrics row must show it.

The tabs are driven from one thread (Playwright's sync API): each round clicks Step in all eight before waiting for
any, so the server runs the eight reruns at the same time. The server is the browser tests' ``app_server`` fixture,
imported here, so this module gets a fresh server of its own: eight sessions also race to fill its empty caches.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from alcore.config import RunConfig
from alcore.loop import prepare, run
from tests.browser.conftest import app_server  # noqa: F401 - the browser tests' server fixture (one for this module)
from tests.browser.driver import EXCEPTION, VIEWPORT, launch_browser, metric_value, wait_idle, wait_metric_change
from ui.threads import one_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # about 60 s: eight tabs of Chromium on two cores

STEPS = 2
BUDGET = 60
COMMITTEE = {"n_members": 3, "hidden": [64, 64], "epochs": 20, "lr": 0.01}
ERROR = '[data-testid="stAlertContentError"]'
TIMEOUT = 180.0  # seconds for one wait: eight sessions and eight tabs share two cores


@dataclass(frozen=True)
class Tab:
    dataset: str
    strategy: str
    seed: int
    batch_size: int
    baseline: bool  # whether the learning curve shows (and each Step also fits) the random baseline

    def link(self, base: str) -> str:
        query = {"dataset": self.dataset, "strategy": self.strategy, "seed": self.seed, "batch_size": self.batch_size,
                 "n_initial": 10, "budget": BUDGET, "members": 3, "epochs": 20,
                 "show_baseline": str(self.baseline).lower()}
        return f"{base}/?{urlencode(query)}"

    def config(self) -> RunConfig:
        return RunConfig(dataset=self.dataset, strategy=self.strategy, seed=self.seed, batch_size=self.batch_size,
                         committee_params=dict(COMMITTEE), n_initial=10, budget=BUDGET)


TABS = (
    Tab("Si", "uncertainty", 0, 5, True),
    Tab("Si", "kcenter", 1, 4, False),
    Tab("C", "random", 0, 5, False),
    Tab("C", "cluster_uncertainty", 2, 6, True),
    Tab("Fe", "diversity", 0, 5, True),
    Tab("Fe", "uncertainty", 3, 3, False),
    Tab("TiO2", "kcenter", 0, 5, False),
    Tab("TiO2", "cluster_uncertainty", 1, 4, True),
)


def manifest_of(page) -> dict:
    """Open the Export expander and download the run manifest of what the tab shows."""
    page.locator('[data-testid="stExpander"]', has_text="Export").locator("summary").click()
    button = page.get_by_role("button", name="Run manifest (JSON, replays exactly)")
    with page.expect_download(timeout=TIMEOUT * 1000) as download:
        button.click()
    return json.loads(Path(download.value.path()).read_text(encoding="utf-8"))


def solo(tab: Tab):
    """The tab's run done alone in this process (one OpenMP thread as in the app; thread counts do not change
    results: test_determinism_processes.py)."""
    config = tab.config()
    with one_thread():
        return run(config, prepare(config), max_rounds=1 + STEPS)


def drive_tabs(url: str) -> tuple[list[dict], list[tuple[str, str]]]:
    """Open the eight tabs, press Step in all of them together ``STEPS`` times, and return each tab's manifest and
    its (labels used, test MAE) metrics."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        try:
            # reduced motion: eight tabs waiting for the server would otherwise repaint Streamlit's running animation
            contexts = [chromium.new_context(viewport=VIEWPORT, accept_downloads=True, reduced_motion="reduce")
                        for _ in TABS]
            pages = [context.new_page() for context in contexts]
            started = time.perf_counter()
            for page, tab in zip(pages, TABS, strict=True):
                page.set_default_timeout(TIMEOUT * 1000)
                page.goto(tab.link(url))  # returns once the page has loaded; the sessions then run together
            for page in pages:
                wait_idle(page, timeout=TIMEOUT)  # its first run (round 0) has finished
            opened = time.perf_counter() - started
            for _ in range(STEPS):
                before = [metric_value(page, "Labels used") for page in pages]
                for page in pages:
                    page.get_by_role("button", name="Step", exact=True).click()
                for page, labels in zip(pages, before, strict=True):
                    wait_metric_change(page, "Labels used", labels, timeout=TIMEOUT)
                for page in pages:
                    wait_idle(page, timeout=TIMEOUT)
            stepped = time.perf_counter() - started - opened
            shown = [(metric_value(page, "Labels used"), metric_value(page, "Test MAE (meV/atom)")) for page in pages]
            manifests = [manifest_of(page) for page in pages]
            for page in pages:
                assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
                assert page.locator(ERROR).all_inner_texts() == []
            print(f"\n{len(TABS)} tabs: opened in {opened:.1f} s, {STEPS} concurrent Steps in {stepped:.1f} s")
        finally:
            chromium.close()
    return manifests, shown


def test_eight_tabs_step_together_and_each_gets_its_run_alone(app_server):  # noqa: F811
    # a thread of its own: Playwright's sync API cannot start while the browser tests' Chromium runs in this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        manifests, shown = pool.submit(drive_tabs, app_server.url).result()

    for tab, manifest, (labels, mae_text) in zip(TABS, manifests, shown, strict=True):
        alone = solo(tab)
        want = json.loads(json.dumps(tab.config().to_dict()))
        assert manifest["config"] == want, tab  # its own settings, nobody else's
        assert manifest["lineage"] == []
        assert manifest["selected"] == [r.selected.tolist() for r in alone.rounds], tab
        assert manifest["curve"]["mae"] == [r.mae for r in alone.rounds], tab  # exact: JSON keeps every bit
        assert labels == str(alone.rounds[-1].n_labels) == str(10 + STEPS * tab.batch_size)
        assert mae_text == f"{alone.rounds[-1].mae * 1000:.1f}"
