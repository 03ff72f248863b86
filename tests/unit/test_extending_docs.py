"""docs/extending.md works: every ``python`` block runs, in order, in a fresh process (its registrations stay there)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "extending.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_recipes_run():
    blocks = python_blocks()
    assert len(blocks) >= 4, "a strategy, a descriptor, an Explore chart and an oracle"
    script = "\n\n".join(blocks) + "\nprint('recipes ok')\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recipes ok" in done.stdout
    assert "floored_uncertainty" in done.stdout and "option floor: float = 0.0" in done.stdout

