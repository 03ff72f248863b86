"""The Materials Project through its official client, ``mp_api.client.MPRester`` (summary route), with a deadline.

The key comes from the argument or ``$MP_API_KEY``; it goes to the client and nowhere else (never into a pool, a
message or a file). Documents are requested as plain JSON (``use_document_model=False``): no pydantic or monty
decoding, and the structure dicts go through the importers' sanitiser. Paging is the client's own (``_limit`` /
``_skip`` pages of ``page_size``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from alcore.datasets.base import DatasetError
from alcore.datasets.fetched.pool import FetchedPool, clean_structure, database_pool, new_record, number
from alcore.datasets.fetched.query import DEFAULT_TIMEOUT, FetchError, FetchQuery
from alcore.fetch.watchdog import Progress, Watchdog, run_watched
from alcore.fetch.web import connection_problem, http_status, normalise_url, one_line, package_version, scrub

MP_ENDPOINT = "https://api.materialsproject.org/"
KEY_ENV = "MP_API_KEY"
KEY_LENGTH = 32
DEFAULT_PAGE_SIZE = 1000
UNREACHABLE = "cannot reach the Materials Project"
NO_RATE_LIMIT_RETRY = Retry(total=2, read=0, status_forcelist=[502, 504], backoff_factor=0.1)
"""The client's own retry policy minus 429 and read retries: both would wait past our deadline and hide the cause."""
MP_FIELDS = (
    "material_id",
    "formula_pretty",
    "structure",
    "energy_per_atom",
    "uncorrected_energy_per_atom",
    "formation_energy_per_atom",
    "energy_above_hull",
    "band_gap",
    "density",
    "volume",
    "nsites",
    "symmetry",
    "total_magnetization",
    "is_stable",
)


def resolve_api_key(api_key: str | None = None) -> str:
    """The key to use: ``api_key``, else ``$MP_API_KEY``. Missing or malformed keys fail here, before any request."""
    key = (api_key or "").strip() or os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise FetchError(
            f"no Materials Project API key: set ${KEY_ENV} (or enter it in the app); "
            "a free key is at https://materialsproject.org/api"
        )
    if len(key) != KEY_LENGTH or not key.isalnum():
        raise FetchError(
            f"invalid Materials Project API key: keys are {KEY_LENGTH} letters and digits; "
            "copy yours from https://materialsproject.org/api"
        )
    return key


def search_criteria(query: FetchQuery) -> dict[str, Any]:
    """``SummaryRester.search`` arguments for ``query`` (exactly the elements of the chemical system)."""
    criteria: dict[str, Any] = {"chemsys": query.alphabetical_chemsys, "deprecated": False}
    if query.max_e_above_hull is not None:
        criteria["energy_above_hull"] = (0.0, query.max_e_above_hull)
    if query.max_sites is not None:
        criteria["num_sites"] = (1, query.max_sites)
    if query.stable_only:
        criteria["is_stable"] = True
    return criteria


def search_mp(
    query: FetchQuery,
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Progress | None = None,
) -> list[Any]:
    """The summary documents (plain dicts) matching ``query``; ``FetchError`` for every failure."""
    key = resolve_api_key(api_key)
    url = normalise_url(endpoint, MP_ENDPOINT, "Materials Project endpoint")
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")
    if progress is not None:
        progress(f"Asking the Materials Project ({url}) for {query.describe()}…")
    from mp_api.client import MPRester  # slow the first time (~4 s): imported before the clock starts

    def work(watchdog: Watchdog) -> list[Any]:
        with MPRester(api_key=key, endpoint=url, use_document_model=False, mute_progress_bars=True) as mpr:
            watchdog.alive(f"Connected to the Materials Project (database {mpr.db_version or 'version unknown'})")
            pages: list[int] = []

            def answered(response: requests.Response, *args: Any, **kwargs: Any) -> None:
                pages.append(response.status_code)
                watchdog.alive(f"The Materials Project answered ({len(pages)} page{'s' if len(pages) > 1 else ''})")

            mpr.session.hooks["response"].append(answered)
            for prefix in ("http://", "https://"):  # a 429 is reported at once, not slept on (Retry-After)
                mpr.session.mount(prefix, HTTPAdapter(max_retries=NO_RATE_LIMIT_RETRY))
            search = mpr.materials.summary.search
            rester = getattr(search, "__self__", None)  # the summary rester behind the client's lazy proxy
            if rester is not None and hasattr(rester, "timeout"):
                rester.timeout = timeout  # its per-request timeout (default 20 s): abandoned threads end sooner
            return search(**search_criteria(query), fields=list(MP_FIELDS), chunk_size=page_size)

    try:
        docs = run_watched(work, idle_timeout=timeout, unreachable=UNREACHABLE, where=url, progress=progress)
    except FetchError:
        raise
    except Exception as exc:  # noqa: BLE001 - every client failure becomes one clear message
        raise explain_error(exc, url, timeout, key) from None
    if not isinstance(docs, list):
        raise FetchError(f"the Materials Project answered with something that is not a list of materials ({url})")
    return docs


def explain_error(exc: Exception, url: str, timeout: float, key: str | None = None) -> FetchError:
    """A ``FetchError`` saying what went wrong, from whatever the client raised (its messages carry the status)."""
    full = scrub(str(exc), key)
    text = one_line(full)
    if isinstance(exc, json.JSONDecodeError):  # orjson's and requests' decode errors both derive from it
        return FetchError(f"the Materials Project answered with something that is not JSON ({url}): {text}")
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.exceptions.RetryError):
        return FetchError(f"{UNREACHABLE}: {connection_problem(full)} ({url})")
    if isinstance(exc, requests.Timeout) or "timed out" in full:
        return FetchError(f"{UNREACHABLE}: {url} did not answer within {timeout:g} s")
    status = http_status(full)
    if status in (401, 403):
        return FetchError(
            f"the Materials Project refused the API key (HTTP {status}): check ${KEY_ENV} or the key you entered"
        )
    if status == 429:
        return FetchError("the Materials Project is limiting requests (HTTP 429): wait a minute, then try again")
    if status is not None and status >= 500:
        return FetchError(f"the Materials Project had a server error (HTTP {status}): try again later")
    if status is not None:
        return FetchError(f"the Materials Project answered HTTP {status}: {text}")
    if any(s in full for s in ("Max retries exceeded", "Failed to establish", "Connection refused", "Name or service")):
        return FetchError(f"{UNREACHABLE}: {connection_problem(full)} ({url})")
    if isinstance(exc, (KeyError, TypeError, IndexError, AttributeError)):
        what = f"{type(exc).__name__}: {text}"
        return FetchError(f"the Materials Project's answer is not in the expected format ({what})")
    return FetchError(f"the Materials Project client failed ({type(exc).__name__}: {text})")


def mp_records(docs: list[Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Normalised records, and ``{id: reason}`` for the documents that cannot be used (no structure, no energy...)."""
    records: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for i, doc in enumerate(docs):
        material_id = doc.get("material_id") if isinstance(doc, dict) else None
        if not isinstance(material_id, str) or not material_id:
            skipped[f"item {i}"] = "no material_id"
            continue
        if material_id in seen:
            continue
        try:
            structure = clean_structure(doc.get("structure"), material_id)
        except DatasetError as exc:
            skipped[material_id] = exc.problem
            continue
        if number(doc.get("energy_per_atom")) is None:
            skipped[material_id] = "no energy_per_atom"
            continue
        symmetry = doc.get("symmetry") if isinstance(doc.get("symmetry"), dict) else {}
        nsites = doc.get("nsites")
        seen.add(material_id)
        records.append(new_record(
            id=material_id,
            source="mp",
            formula=doc.get("formula_pretty"),
            structure=structure,
            energy_per_atom=doc.get("energy_per_atom"),
            uncorrected_energy_per_atom=doc.get("uncorrected_energy_per_atom"),
            formation_energy_per_atom=doc.get("formation_energy_per_atom"),
            energy_above_hull=doc.get("energy_above_hull"),
            band_gap=doc.get("band_gap"),
            density=doc.get("density"),
            volume=doc.get("volume"),
            nsites=nsites if isinstance(nsites, int) and not isinstance(nsites, bool) else len(structure["sites"]),
            total_magnetization=doc.get("total_magnetization"),
            is_stable=doc.get("is_stable") if isinstance(doc.get("is_stable"), bool) else None,
            spacegroup=symmetry.get("symbol") if isinstance(symmetry.get("symbol"), str) else None,
        ))  # fmt: skip
    return records, skipped


def fetch_mp(
    query: FetchQuery,
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Progress | None = None,
) -> FetchedPool:
    """Fetch ``query`` from the Materials Project into a pool (not cached here: see ``fetch_pool``)."""
    url = normalise_url(endpoint, MP_ENDPOINT, "Materials Project endpoint")
    docs = search_mp(query, api_key=api_key, endpoint=url, timeout=timeout, page_size=page_size, progress=progress)
    records, skipped = mp_records(docs)
    client = {"mp-api": package_version("mp-api"), "emmet-core": package_version("emmet-core")}
    return database_pool("mp", query, records, skipped, none_found="the Materials Project has no materials",
                         item="documents", client=client, endpoint=url)
