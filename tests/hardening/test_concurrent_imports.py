"""A figure built in one session's thread while another session's thread imports pandas for the first time.

plotly's validators look pandas up in ``sys.modules`` without importing it and failed on the half-initialised
module ("partially initialized module 'pandas' has no attribute 'Series'") when several tabs opened a fresh server at
once. Without the fix in ``ui/figures/__init__.py`` this script fails every time; each run needs a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys

from tests.hardening.project_files import REPO

RACE = """
import sys, threading
assert "pandas" not in sys.modules
errors = []

def draw():
    from ui.figures.style import loading_placeholder
    for _ in range(300):
        try:
            loading_placeholder("loading")
        except Exception as exc:
            errors.append(repr(exc))
            return

thread = threading.Thread(target=draw)
thread.start()
import alcore.datasets  # imports pandas, as a session loading its data does
thread.join()
print(errors[0] if errors else "ok")
"""


def test_a_figure_drawn_while_another_thread_imports_pandas_does_not_fail():
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", RACE], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ok"
