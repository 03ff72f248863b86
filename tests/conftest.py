"""Shared fixtures: where the real DFT sets live, and small generated structures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("ALCORE_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder of real DFT sets; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"real DFT datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session", autouse=True)
def _test_cache_dir(tmp_path_factory):
    """The test session gets its own on-disk cache so tests never read or pollute a user's cache."""
    previous = os.environ.get("ALCORE_CACHE_DIR")
    os.environ["ALCORE_CACHE_DIR"] = str(tmp_path_factory.mktemp("alcore-cache"))
    yield
    if previous is None:
        os.environ.pop("ALCORE_CACHE_DIR", None)
    else:
        os.environ["ALCORE_CACHE_DIR"] = previous
