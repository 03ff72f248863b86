"""Drive the real app in a real browser: start ``streamlit run app.py``, open Debian's Chromium with Playwright, and
wait for Streamlit to finish a run. Shared by the browser tests, ``benchmarks/bench_app.py`` and
``scripts/screenshots.py``, so all three wait for the app the same way.

Playwright's own browser download does not work offline; we use the distribution's Chromium instead
(``apt-get install chromium``; another binary via ``$ALCORE_CHROMIUM``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ALCORE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1400, "height": 900}
APP = '[data-testid="stApp"]'
IDLE_APP = f'{APP}[data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
RUNNING_ICON = '[data-testid="stStatusWidgetRunningIcon"]'
PLOT = '[data-testid="stPlotlyChart"] .js-plotly-plot'
EXCEPTION = '[data-testid="stException"]'


def missing_requirement() -> str | None:
    """Why browser runs cannot work on this machine (no Playwright package, no Chromium), else None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ALCORE_CHROMIUM)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    """A ``streamlit run app.py`` in its own process group (so its worker processes stop with it)."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def start_app(
    log_path: Path, cache_dir: str | None = None, timeout: float = 120.0, extra_args: tuple[str, ...] = ()
) -> AppServer:
    """Start the app on a free local port and wait until ``/_stcore/health`` answers ``ok``. ``extra_args`` are more
    ``streamlit run`` options (e.g. ``("--client.toolbarMode", "minimal")``)."""
    port = free_port()
    env = dict(os.environ)
    if cache_dir is not None:
        env["ALCORE_CACHE_DIR"] = str(cache_dir)
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", *extra_args,
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = AppServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"streamlit did not answer its health check within {timeout:.0f} s:\n{server.log_tail()}")


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


def wait_idle(page, timeout: float = 120.0, settle: float = 0.4) -> None:
    """Until the app is connected and has finished running its script, and stays so for ``settle`` seconds (a click
    takes a moment to start a rerun, so an idle app right after a click is not yet proof of anything)."""
    deadline = time.monotonic() + timeout
    while True:
        left_ms = max(1.0, (deadline - time.monotonic()) * 1000)
        page.wait_for_selector(IDLE_APP, state="attached", timeout=left_ms)
        page.wait_for_timeout(settle * 1000)
        if page.locator(IDLE_APP).count() and not page.locator(RUNNING_ICON).count():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app was still running after {timeout:.0f} s")


def open_page(page, url: str, timeout: float = 120.0) -> None:
    """Load ``url`` and wait for the app's first run to finish."""
    page.goto(url)
    page.wait_for_selector(APP, state="attached", timeout=timeout * 1000)
    wait_idle(page, timeout)


def metric_value(page, label: str) -> str:
    """The displayed value of the ``st.metric`` labelled ``label``."""
    metric = page.locator('[data-testid="stMetric"]', has=page.locator('[data-testid="stMetricLabel"]',
                                                                         has_text=label))
    return metric.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def wait_metric_change(page, label: str, before: str, timeout: float = 120.0) -> str:
    """Until the metric shows another value than ``before``; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = metric_value(page, label)
        except Exception:  # noqa: BLE001 - the element is briefly replaced during a rerun
            value = before
        if value != before:
            return value
        page.wait_for_timeout(50)
    raise TimeoutError(f"metric {label!r} still showed {before!r} after {timeout:.0f} s")


def full_screenshot(page, path: Path | str) -> None:
    """A screenshot of the whole app. Streamlit scrolls inside its main container, so Playwright's ``full_page``
    sees only one viewport; grow the viewport to the content's height first, then restore it."""
    size = page.viewport_size or VIEWPORT
    page.mouse.move(0, size["height"] - 1)  # no hover tooltip in the picture
    height = page.evaluate(
        """() => Math.max(window.innerHeight,
            ...['stMain', 'stAppViewContainer', 'stSidebar']
                .map(id => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean).map(e => e.scrollHeight))"""
    )
    page.set_viewport_size({"width": size["width"], "height": int(height)})
    page.wait_for_timeout(500)  # let plotly and the layout settle at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
