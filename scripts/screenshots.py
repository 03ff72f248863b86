"""Screenshots of every page for the README, taken in a real browser after a little use, so the charts have content.

    python scripts/screenshots.py [--out docs/screenshots]

Writes explore.png (after a few Steps), compare.png (after a small comparison), data.png (one structure selected)
and learn.png: each the whole page at 1400 px wide, saved as a 256-colour PNG. Needs Playwright and Chromium (see
requirements-dev.txt and .ci/run). Uses a fresh cache folder, so no earlier result shows up as "loaded from the cache".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing alcore

from tests.browser.driver import (  # noqa: E402
    EXCEPTION,
    REPO,
    VIEWPORT,
    full_screenshot,
    launch_browser,
    metric_value,
    missing_requirement,
    open_page,
    start_app,
    wait_idle,
    wait_metric_change,
)

EXPLORE_STEPS = 4
SMALL_COMPARISON = "cmp_dataset=Si&cmp_strategies=random,uncertainty,diversity,kcenter&cmp_seeds=3&cmp_budget=150"
DATA_STRUCTURE = "data_dataset=TiO2&data_structure=3"
MAX_PNG_BYTES = 400_000


def explore(page, url: str) -> None:
    open_page(page, url + "/")
    step = page.get_by_role("button", name="Step", exact=True)
    for _ in range(EXPLORE_STEPS):
        before = metric_value(page, "Labels used")
        step.click()
        wait_metric_change(page, "Labels used", before)
        wait_idle(page)


def compare(page, url: str) -> None:
    open_page(page, f"{url}/compare?{SMALL_COMPARISON}")
    page.get_by_role("button", name="Run comparison").click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    wait_idle(page)


def data(page, url: str) -> None:
    open_page(page, f"{url}/data?{DATA_STRUCTURE}")


def learn(page, url: str) -> None:
    open_page(page, url + "/learn")


def shrink_png(path: Path) -> None:
    """A 256-colour palette: a third of the size, and screenshots of flat UI colours look the same."""
    from PIL import Image  # Pillow comes with streamlit

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    palette.save(path, optimize=True)


PAGES = {"explore": explore, "compare": compare, "data": data, "learn": learn}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES))
    args = parser.parse_args()
    reason = missing_requirement()
    if reason:
        print(f"screenshots: cannot run: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="alcore-shots-") as tmp, sync_playwright() as playwright:
        server = start_app(Path(tmp) / "server.log", tmp, extra_args=("--client.toolbarMode", "minimal"))
        browser = launch_browser(playwright)
        try:
            for name in args.pages:
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(300_000)
                PAGES[name](page, server.url)
                path = args.out / f"{name}.png"
                full_screenshot(page, path)
                shrink_png(path)
                errors = page.locator(EXCEPTION).count()
                size = path.stat().st_size
                note = "" if size <= MAX_PNG_BYTES else f"  (larger than {MAX_PNG_BYTES // 1000} kB)"
                trouble = f"  ({errors} exceptions on the page!)" if errors else ""
                print(f"{path}: {size / 1000:.0f} kB{note}{trouble}")
                if errors:
                    failed.append(name)
                page.close()
        finally:
            browser.close()
            server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
