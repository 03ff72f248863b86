"""``fetch_pool``: a pool from the Materials Project, OQMD or both, from the cache when it was fetched before.

This is what the CLI and the app call. A cached pool answers the same query (chemical system, filters, endpoint,
offsets) without any network access, so a query fetched once keeps working offline; ``refresh=True`` fetches again
and overwrites the file. Only successful fetches are written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from alcore.datasets.fetched.cache import find_cached, pool_path, save_pool
from alcore.datasets.fetched.pool import FetchedPool, pool_name
from alcore.datasets.fetched.query import DEFAULT_TIMEOUT, FetchQuery
from alcore.fetch.combine import combine, combined_name
from alcore.fetch.mp import DEFAULT_PAGE_SIZE as MP_PAGE_SIZE
from alcore.fetch.mp import MP_ENDPOINT, fetch_mp
from alcore.fetch.oqmd import DEFAULT_PAGE_SIZE as OQMD_PAGE_SIZE
from alcore.fetch.oqmd import OQMD_URL, fetch_oqmd
from alcore.fetch.watchdog import Progress
from alcore.fetch.web import normalise_url

SOURCE_CHOICES = ("mp", "oqmd", "both")


@dataclass(frozen=True)
class FetchResult:
    pool: FetchedPool
    path: Path
    from_cache: bool


def fetch_pool(
    source: str,
    query: FetchQuery,
    *,
    api_key: str | None = None,
    mp_endpoint: str | None = None,
    oqmd_endpoint: str | None = None,
    offsets: Mapping[str, float] | None = None,
    deduplicate: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    refresh: bool = False,
    page_size: int | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """Fetch (or reuse) ``query`` from ``source`` ("mp", "oqmd" or "both" = MP + OQMD combined) and cache it."""
    if source not in SOURCE_CHOICES:
        raise ValueError(f"source must be one of {SOURCE_CHOICES}, got {source!r}")
    mp_url = normalise_url(mp_endpoint, MP_ENDPOINT, "Materials Project endpoint")
    oqmd_url = normalise_url(oqmd_endpoint, OQMD_URL, "OQMD base URL")
    if source != "both" and offsets:
        raise ValueError("offsets only apply when combining (source 'both')")

    def single(database: str) -> FetchResult:
        url = mp_url if database == "mp" else oqmd_url
        cached = None if refresh else _reusable(pool_name(database, query.label()), query, {database: url})
        if cached is not None:
            return _announce(cached, progress)
        if database == "mp":
            pool = fetch_mp(query, api_key=api_key, endpoint=url, timeout=timeout,
                            page_size=page_size or MP_PAGE_SIZE, progress=progress)  # fmt: skip
        else:
            pool = fetch_oqmd(query, endpoint=url, timeout=timeout, page_size=page_size or OQMD_PAGE_SIZE,
                              progress=progress)  # fmt: skip
        return FetchResult(pool, save_pool(pool), from_cache=False)

    if source != "both":
        return single(source)
    parts = [single("mp"), single("oqmd")]
    name = combined_name(["mp", "oqmd"], query, offsets, deduplicate)
    cached = find_cached(name) if all(p.from_cache for p in parts) else None
    if cached is not None and cached.notes.get("parts") == {p.pool.name: p.pool.fetched_at for p in parts}:
        return _announce(FetchResult(cached, pool_path(name), from_cache=True), progress)
    if progress is not None:
        progress("Combining the two databases and removing duplicate structures…")
    pool = combine([p.pool for p in parts], offsets=offsets, deduplicate=deduplicate)
    return FetchResult(pool, save_pool(pool), from_cache=all(p.from_cache for p in parts))


def _reusable(name: str, query: FetchQuery, endpoint: dict[str, str]) -> FetchResult | None:
    pool = find_cached(name)
    if pool is None or pool.endpoint != endpoint:
        return None
    if json.dumps(pool.query, sort_keys=True) != json.dumps(query.to_dict(), sort_keys=True):
        return None
    return FetchResult(pool, pool_path(name), from_cache=True)


def _announce(result: FetchResult, progress: Progress | None) -> FetchResult:
    if progress is not None:
        pool = result.pool
        progress(f"Using the cached {pool.name} ({len(pool)} structures, fetched {pool.fetched_at})")
    return result
