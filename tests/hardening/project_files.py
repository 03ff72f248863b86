"""The project's own Python sources, as the code audits of the hardening tests read them."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Hashable, Iterable, Mapping

REPO = Path(__file__).resolve().parents[2]
PROJECT_SOURCES = ("alcore", "ui", "pages", "benchmarks", "scripts", "app.py")


def project_files() -> list[Path]:
    """Every ``.py`` file of ``PROJECT_SOURCES`` (tests excluded: they write and load on purpose)."""
    files = []
    for entry in PROJECT_SOURCES:
        path = REPO / entry
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


Hit = tuple[int, Hashable, str]  # line, allow-list key, what to report


def audit_project(hits: Callable[[str, str], Iterable[Hit]], allowed: Mapping[Hashable, str]
                  ) -> tuple[list[str], set, int]:
    """Run ``hits(relative path, source)`` over every project file. A hit whose key is in ``allowed`` is excused;
    returns the others as ``path:line: what``, the allow-list keys no hit used (stale entries), and the file count."""
    files = project_files()
    used, problems = set(), []
    for path in files:
        relative = path.relative_to(REPO).as_posix()
        for line, key, what in hits(relative, path.read_text(encoding="utf-8")):
            if key in allowed:
                used.add(key)
            else:
                problems.append(f"{relative}:{line}: {what}")
    return problems, set(allowed) - used, len(files)
