"""The project's own Python sources, as the code audits of the hardening tests read them."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT_SOURCES = ("alcore", "ui", "pages", "benchmarks", "scripts", "app.py")


def project_files() -> list[Path]:
    """Every ``.py`` file of ``PROJECT_SOURCES`` (tests excluded: they write and load on purpose)."""
    files = []
    for entry in PROJECT_SOURCES:
        path = REPO / entry
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files
