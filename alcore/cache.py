"""Where on-disk caches live: ``$ALCORE_CACHE_DIR`` or ``~/.cache/alcore``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    root = Path(os.environ.get("ALCORE_CACHE_DIR") or Path.home() / ".cache" / "alcore")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
