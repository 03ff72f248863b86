"""OQMD through its REST API (``<base>/formationenergy``), with ``requests``, timeouts, paging and a deadline.

The query ``composition=Ti-O`` selects the Ti-O phase space and the filter ``ntypes=2`` keeps compounds of exactly
those elements (the endpoint's documented keywords; ``noduplicate=True`` drops OQMD's own duplicate entries). Pages
are ``limit`` / ``offset``; paging stops at ``meta.data_available`` or when ``links.next`` is empty.

OQMD gives formation energies (``delta_e``), not total energies, and writes fractional coordinates with three
significant digits (``"Ti @ 0.305 0.305 0"``); structures are rebuilt from ``unit_cell`` (rows = lattice vectors) and
``sites``.
"""

from __future__ import annotations

import math
from typing import Any

import requests

from alcore.datasets.base import DatasetError
from alcore.datasets.fetched.pool import FetchedPool, clean_structure, database_pool, new_record, number
from alcore.datasets.fetched.query import DEFAULT_TIMEOUT, FetchError, FetchQuery
from alcore.fetch.watchdog import Progress, Watchdog, run_watched
from alcore.fetch.web import connection_problem, normalise_url, one_line, package_version, user_agent

OQMD_URL = "http://oqmd.org/oqmdapi/"  # as in OQMD's RESTful API documentation
ROUTE = "formationenergy"
DEFAULT_PAGE_SIZE = 100
UNREACHABLE = "cannot reach OQMD"
OQMD_FIELDS = (
    "name",
    "entry_id",
    "spacegroup",
    "prototype",
    "volume",
    "natoms",
    "ntypes",
    "unit_cell",
    "sites",
    "band_gap",
    "delta_e",
    "stability",
)


def request_params(query: FetchQuery, limit: int, offset: int) -> dict[str, Any]:
    """The endpoint's parameters for one page of ``query``."""
    conditions = [f"ntypes={len(query.elements)}"]
    if query.stable_only:
        conditions.append("stability<=0")
    if query.max_e_above_hull is not None:
        conditions.append(f"stability<={query.max_e_above_hull:g}")
    if query.max_sites is not None:
        conditions.append(f"natoms<={query.max_sites}")
    return {
        "composition": query.chemsys,
        "filter": " AND ".join(conditions),
        "fields": ",".join(OQMD_FIELDS),
        "noduplicate": "True",
        "limit": limit,
        "offset": offset,
        "format": "json",
    }


def search_oqmd(
    query: FetchQuery,
    *,
    endpoint: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Progress | None = None,
) -> list[Any]:
    """Every entry matching ``query``, page by page; ``FetchError`` for every failure."""
    base = normalise_url(endpoint, OQMD_URL, "OQMD base URL")
    url = base + ROUTE
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")

    def work(watchdog: Watchdog) -> list[Any]:
        entries: list[Any] = []
        with requests.Session() as session:
            session.headers["User-Agent"] = user_agent()
            max_pages = None
            page = 0
            while max_pages is None or page < max_pages:
                doc = _page(session, url, request_params(query, page_size, len(entries)), timeout)
                data, meta = doc["data"], doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
                entries.extend(data)
                page += 1
                total = meta.get("data_available")
                if isinstance(total, int):
                    max_pages = math.ceil(total / page_size) + 1  # a server that keeps paging cannot loop forever
                watchdog.alive(f"OQMD: {len(entries)} of {total if isinstance(total, int) else '?'} entries")
                links = doc.get("links") if isinstance(doc.get("links"), dict) else {}
                if not data or (isinstance(total, int) and len(entries) >= total) or not links.get("next"):
                    break
        return entries

    if progress is not None:
        progress(f"Asking OQMD ({url}) for {query.describe()}…")
    return run_watched(work, idle_timeout=timeout, unreachable=UNREACHABLE, where=base, progress=progress)


def _page(session: requests.Session, url: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        response = session.get(url, params=params, timeout=(timeout, timeout))
    except requests.Timeout:
        raise FetchError(f"{UNREACHABLE}: {url} did not answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise FetchError(f"{UNREACHABLE}: {connection_problem(str(exc))} ({url})") from None
    status = response.status_code
    if status in (401, 403):
        raise FetchError(f"OQMD refused the request (HTTP {status}): {one_line(response.text, 200)}")
    if status == 429:
        raise FetchError("OQMD is limiting requests (HTTP 429): wait a minute, then try again")
    if status >= 500:
        raise FetchError(f"OQMD had a server error (HTTP {status}): try again later")
    if status != 200:
        raise FetchError(f"OQMD answered HTTP {status} for {response.url}: {one_line(response.text, 200)}")
    try:
        doc = response.json()
    except ValueError as exc:
        raise FetchError(f"OQMD answered with something that is not JSON ({url}): {one_line(str(exc))}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise FetchError(f"OQMD's answer is not in the documented format (no 'data' list) ({url})")
    return doc


def oqmd_structure(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """A pymatgen ``Structure`` dict from ``unit_cell`` and ``sites`` (``"Ti @ 0.5 0.5 0.5"``, fractional)."""
    from pymatgen.core import Lattice, Structure

    cell, sites = entry.get("unit_cell"), entry.get("sites")
    if not isinstance(cell, list) or len(cell) != 3 or not all(isinstance(r, list) and len(r) == 3 for r in cell):
        raise DatasetError(where, "no 3x3 'unit_cell'")
    if not isinstance(sites, list) or not sites:
        raise DatasetError(where, "no 'sites'")
    species, coords = [], []
    for k, site in enumerate(sites):
        element, at, rest = str(site).partition("@")
        parts = rest.split()
        if not at or len(parts) != 3 or not element.strip().isalpha():
            raise DatasetError(
                where, f"site {k} {site!r} is not 'Element @ x y z' (disordered and vacant sites are not supported)"
            )
        species.append(element.strip())
        coords.append([float(p) for p in parts])
    try:
        structure = Structure(Lattice([[float(v) for v in row] for row in cell]), species, coords)
    except (ValueError, TypeError, KeyError) as exc:
        raise DatasetError(where, f"malformed structure ({exc})") from None
    natoms = entry.get("natoms")
    if isinstance(natoms, int) and natoms != len(structure):
        raise DatasetError(where, f"{len(structure)} sites but natoms = {natoms}")
    return clean_structure(structure.as_dict(), where)


def oqmd_records(entries: list[Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Normalised records, and ``{id: reason}`` for the entries that cannot be used."""
    records: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        entry_id = entry.get("entry_id") if isinstance(entry, dict) else None
        if isinstance(entry_id, bool) or not isinstance(entry_id, (int, str)) or entry_id == "":
            skipped[f"item {i}"] = "no entry_id"
            continue
        record_id = f"oqmd-{entry_id}"
        if record_id in seen:
            continue
        try:
            structure = oqmd_structure(entry, record_id)
        except (DatasetError, ValueError) as exc:
            skipped[record_id] = exc.problem if isinstance(exc, DatasetError) else str(exc)
            continue
        delta_e = number(entry.get("delta_e"))
        if delta_e is None:
            skipped[record_id] = "no delta_e"
            continue
        stability = number(entry.get("stability"))
        seen.add(record_id)
        records.append(new_record(
            id=record_id,
            source="oqmd",
            formula=entry.get("name"),
            structure=structure,
            formation_energy_per_atom=delta_e,
            energy_above_hull=None if stability is None else max(stability, 0.0),
            band_gap=entry.get("band_gap"),
            volume=entry.get("volume"),
            nsites=len(structure["sites"]),
            is_stable=None if stability is None else stability <= 0,
            spacegroup=entry.get("spacegroup") if isinstance(entry.get("spacegroup"), str) else None,
            prototype=entry.get("prototype") if isinstance(entry.get("prototype"), str) else None,
        ))  # fmt: skip
    return records, skipped


def fetch_oqmd(
    query: FetchQuery,
    *,
    endpoint: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Progress | None = None,
) -> FetchedPool:
    """Fetch ``query`` from OQMD into a pool (not cached here: see ``fetch_pool``)."""
    base = normalise_url(endpoint, OQMD_URL, "OQMD base URL")
    entries = search_oqmd(query, endpoint=base, timeout=timeout, page_size=page_size, progress=progress)
    records, skipped = oqmd_records(entries)
    return database_pool("oqmd", query, records, skipped, none_found="OQMD has no entries", item="entries",
                         client={"requests": package_version("requests")}, endpoint=base,
                         notes={"coordinates": "OQMD gives fractional coordinates to 3 significant digits"})
