"""Pools fetched from the Materials Project (through the official ``mp-api`` client) and OQMD (its REST API).

``fetch_pool("mp" | "oqmd" | "both", FetchQuery("Ti-O", ...))`` fetches once, caches one JSON file per query under
``alcore.paths.cache_dir("fetch")`` and afterwards works offline; cached pools are registered datasets (format
``fetched-pool``, named e.g. ``mp-Ti-O``). Network clients are imported lazily, so importing this package is cheap:
``fetch_pool`` and its companions load ``alcore.fetch.runner`` (and with it ``requests``, 0.06 s) on first access;
listing the cached pools, which the app does on every start, does not need them.
"""

from typing import Any

from alcore.datasets.fetched.cache import cached_pools, load_pool, save_pool
from alcore.datasets.fetched.pool import FetchedPool
from alcore.datasets.fetched.query import DEFAULT_TIMEOUT, FetchError, FetchQuery
from alcore.datasets.fetched.to_dataset import pool_to_dataset
from alcore.fetch.combine import combine

__all__ = [
    "DEFAULT_TIMEOUT",
    "SOURCE_CHOICES",
    "FetchError",
    "FetchQuery",
    "FetchResult",
    "FetchedPool",
    "cached_pools",
    "combine",
    "fetch_pool",
    "load_pool",
    "pool_to_dataset",
    "save_pool",
]
_FETCH_NAMES = ("SOURCE_CHOICES", "FetchResult", "fetch_pool")


def __getattr__(name: str) -> Any:
    if name in _FETCH_NAMES:
        from alcore.fetch import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
