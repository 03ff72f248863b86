"""Every place alcore reads or writes on disk, in one module: the bundled data, the shared real datasets beside the
checkout, and the cache folder. Environment variables are read at call time, so tests can redirect them."""

from __future__ import annotations

import os
from pathlib import Path

from alcore.filenames import check_name

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout (or installed tree) that holds ``alcore/`` and ``data/``."""

DATA_DIR = REPO_ROOT / "data"
"""Where the bundled pools live: ``<repo>/data``."""

BUNDLED_SYSTEMS = ("C", "Si", "Fe", "TiO2")
"""The material systems of the bundled pools (one ``data/<system>.extxyz.gz`` each)."""

SHARED_ENV = "ALCORE_SHARED_DATASETS"
CACHE_ENV = "ALCORE_CACHE_DIR"


def bundled_pool_path(system: str, out: Path = DATA_DIR) -> Path:
    return Path(out) / f"{system}.extxyz.gz"


def bundled_manifest_path(system: str, out: Path = DATA_DIR) -> Path:
    return Path(out) / f"{system}.manifest.json"


def shipped_parsed_path(system: str, out: Path = DATA_DIR) -> Path:
    """Where a pool's parsed arrays ship (``data/parsed/<system>.npz``): the app reads them instead of parsing."""
    return Path(out) / "parsed" / f"{system}.npz"


def shipped_features_dir(out: Path = DATA_DIR) -> Path:
    """Precomputed descriptors of the bundled pools (``data/features``)."""
    return Path(out) / "features"


def shipped_embeddings_dir(out: Path | None = None) -> Path:
    """Precomputed 2-D maps of the bundled pools (``data/embeddings``)."""
    return Path(out or DATA_DIR) / "embeddings"


def shared_datasets_root() -> Path:
    """``$ALCORE_SHARED_DATASETS`` or ``<repo root>/../shared/datasets``."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "datasets"


def cache_root() -> Path:
    """``$ALCORE_CACHE_DIR`` or ``~/.cache/alcore``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "alcore")


def cache_dir(*parts: str) -> Path:
    """The cache folder ``<root>/<parts...>``, created if needed; each part must pass ``check_name``."""
    for part in parts:
        check_name(part, "cache folder")
    path = cache_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
