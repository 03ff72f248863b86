"""The fetch cache: one JSON file per query, ``<cache_dir("fetch")>/<pool name>.json``, written atomically.

A query fetched once is reused from here without any network access (``fetch_pool(refresh=False)``), and every
cached pool is listed as a registered dataset (``alcore.datasets.sources`` asks ``cached_pools()`` at call time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alcore.atomic import read_json, write_json
from alcore.datasets.base import DatasetError
from alcore.datasets.fetched.pool import FetchedPool
from alcore.filenames import check_name
from alcore.paths import cache_dir

FOLDER = "fetch"


def pool_path(name: str) -> Path:
    """The cache file of the pool ``name``; a name that is not one safe file name is a ``ValueError``."""
    check_name(name, "pool name")
    return cache_dir(FOLDER) / f"{name}.json"


def save_pool(pool: FetchedPool) -> Path:
    path = pool_path(pool.name)
    write_json(path, pool.to_document())
    return path


def load_pool(path: str | Path) -> FetchedPool:
    """A cached pool; a missing, damaged or foreign file is a ``DatasetError`` naming it."""
    try:
        doc = read_json(path, "fetched pool")
    except (FileNotFoundError, ValueError) as exc:
        raise DatasetError(path, str(exc).removeprefix(f"{path}: ")) from None
    return FetchedPool.from_document(doc, path)


def find_cached(name: str) -> FetchedPool | None:
    """The cached pool called ``name``, or None when there is none or it cannot be read (then it is fetched again)."""
    path = pool_path(name)
    if not path.is_file():
        return None
    try:
        return load_pool(path)
    except DatasetError:
        return None


@dataclass(frozen=True)
class CachedPool:
    name: str
    path: Path
    description: str


_HEADERS: dict[Path, tuple[tuple[int, int], CachedPool | None]] = {}


def cached_pools() -> list[CachedPool]:
    """Every readable pool in the cache folder, by name. Unreadable files are skipped; a folder that cannot be created
    (read-only home) means no pools. Files are re-read only when their size or mtime changed."""
    try:
        folder = cache_dir(FOLDER)
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return []
    found = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        signature = (st.st_size, st.st_mtime_ns)
        memo = _HEADERS.get(path)
        if memo is None or memo[0] != signature:
            memo = (signature, _header(path))
            _HEADERS[path] = memo
        if memo[1] is not None:
            found.append(memo[1])
    return found


def _header(path: Path) -> CachedPool | None:
    try:
        pool = FetchedPool.from_document(json.loads(path.read_text(encoding="utf-8")), path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, DatasetError):
        return None
    if pool.name != path.stem:  # renamed by hand: its name and content disagree, so it is not listed
        return None
    return CachedPool(pool.name, path, pool.describe())
