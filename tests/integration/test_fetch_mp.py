"""The Materials Project fetch with the real ``mp-api`` client pointed at a local fake server (127.0.0.1 only):
paging, filters, the key (header only, never on disk or in messages), every error case, a hanging server, the cache."""

import time

import pytest

from alcore.cli import main
from alcore.datasets import load_dataset
from alcore.fetch import FetchError, FetchQuery, fetch_pool
from tests.fetch_server import VALID_KEY, fetch_cache, services  # noqa: F401 - fixtures

QUERY = FetchQuery("Ti-O")


def _fetch(services, query=QUERY, **kwargs):
    kwargs.setdefault("api_key", VALID_KEY)
    return fetch_pool("mp", query, mp_endpoint=services.mp_endpoint, **kwargs)


def _files_mention(folder, text: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_real_client_pages_through_the_summary_route_and_sends_the_key_in_a_header_only(services, fetch_cache):
    messages = []
    result = _fetch(services, page_size=4, progress=messages.append)
    assert not result.from_cache and result.path == fetch_cache / "mp-Ti-O.json" and result.path.is_file()
    pool = result.pool
    assert [r["id"] for r in pool.records] == ["mp-2664", "mp-1001", "mp-1002", "mp-1003", "mp-2657", "mp-1004"]
    assert pool.endpoint == {"mp": services.mp_endpoint} and pool.client["mp-api"] == "0.46.5"
    pages = services.seen("/materials/summary/")
    assert [(p.params.get("_skip"), p.params["_limit"]) for p in pages] == [(None, "4"), ("4", "2")]
    first = pages[0].params
    assert first["chemsys"] == "O-Ti" and first["deprecated"] == "False"
    assert {"material_id", "structure", "energy_per_atom", "symmetry"} <= set(first["_fields"].split(","))
    assert all(p.headers.get("x-api-key") == VALID_KEY for p in pages)
    assert not any(VALID_KEY in r.path or VALID_KEY in str(r.params) for r in services.requests)
    assert any(m.startswith("Connected to the Materials Project") for m in messages)
    assert any("(2 pages)" in m for m in messages)
    assert _files_mention(fetch_cache.parent, VALID_KEY) == []


def test_filters_become_summary_query_parameters(services, fetch_cache):
    query = FetchQuery("O-Ti", max_e_above_hull=0.1, max_sites=8, stable_only=True)
    pool = _fetch(services, query).pool
    params = services.seen("/materials/summary/")[0].params
    assert (params["energy_above_hull_min"], params["energy_above_hull_max"]) == ("0.0", "0.1")
    assert (params["nsites_min"], params["nsites_max"], params["is_stable"]) == ("1", "8", "True")
    assert [r["id"] for r in pool.records] == ["mp-2664", "mp-2657"]
    assert pool.name == "mp-Ti-O-ehull0.1-max8sites-stable"


def test_a_cached_query_works_offline_and_is_a_dataset_by_name(services, fetch_cache):
    first = _fetch(services)
    services.mode = "500"  # from now on the server only fails: the cache must answer
    services.requests.clear()
    again = _fetch(services)
    assert again.from_cache and again.pool == first.pool and services.requests == []
    dataset = load_dataset("mp-Ti-O")
    assert len(dataset) == 6 and dataset.ids[0] == "mp-2664" and set(dataset.kinds) == {"mp"}
    with pytest.raises(FetchError, match=r"server error \(HTTP 500\)"):
        _fetch(services, refresh=True)
    assert load_dataset("mp-Ti-O").fingerprint() == dataset.fingerprint()  # a failed refresh keeps the cached pool
    assert _files_mention(fetch_cache.parent, VALID_KEY) == []


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("403", r"^the Materials Project refused the API key \(HTTP 403\)"),
        ("429", r"^the Materials Project is limiting requests \(HTTP 429\)"),
        ("500", r"^the Materials Project had a server error \(HTTP 500\)"),
        ("malformed", r"^the Materials Project answered with something that is not JSON"),
        ("empty", r"^the Materials Project has no materials for Ti-O$"),
    ],
)
def test_each_server_failure_is_one_clear_message_and_nothing_is_cached(services, fetch_cache, mode, message):
    services.mode = mode
    with pytest.raises(FetchError, match=message) as caught:
        _fetch(services)
    assert VALID_KEY not in str(caught.value)
    assert not list(fetch_cache.glob("*.json"))


def test_a_key_the_server_does_not_know_is_refused(services, fetch_cache):
    wrong = "WrongKey0123456789abcdefghijklmn"
    with pytest.raises(FetchError, match=r"refused the API key \(HTTP 401\)") as caught:
        _fetch(services, api_key=wrong)
    assert wrong not in str(caught.value)


@pytest.mark.parametrize(("key", "message"), [("", "no Materials Project API key"), ("short", "invalid .* API key")])
def test_missing_or_malformed_keys_fail_before_any_request(services, fetch_cache, key, message):
    with pytest.raises(FetchError, match=message):
        _fetch(services, api_key=key)
    assert services.requests == []


def test_the_key_can_come_from_the_environment(services, fetch_cache, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", VALID_KEY)
    assert len(_fetch(services, api_key=None).pool) == 6


@pytest.mark.parametrize("mode", ["hang", "hang-data"])
def test_a_hanging_server_fails_within_the_deadline(services, fetch_cache, mode):
    services.mode = mode  # "hang": MPRester's constructor probe never returns; "hang-data": the search never does
    start = time.monotonic()
    with pytest.raises(FetchError, match=rf"^cannot reach the Materials Project: no answer from {services.mp_endpoint} "
                                         r"within 1 s"):  # fmt: skip
        _fetch(services, timeout=1.0)
    assert time.monotonic() - start < 2.0


def test_a_hanging_server_fails_within_the_default_ten_seconds(services, fetch_cache):
    services.mode = "hang"
    start = time.monotonic()
    with pytest.raises(FetchError, match="^cannot reach the Materials Project: no answer .* within 10 s"):
        _fetch(services)
    assert time.monotonic() - start < 11.0


def test_cli_fetches_saves_and_says_how_to_use_the_pool(services, fetch_cache, monkeypatch, capsys):
    monkeypatch.setenv("MP_API_KEY", VALID_KEY)
    assert main(["fetch", "mp", "--chemsys", "Ti-O", "--max-sites", "8", "--endpoint", services.mp_endpoint]) == 0
    out = capsys.readouterr().out
    assert "mp-Ti-O-max8sites: 5 structures, fetched now" in out
    assert str(fetch_cache / "mp-Ti-O-max8sites.json") in out and "--dataset mp-Ti-O-max8sites" in out
    assert main(["fetch", "mp", "-q", "--chemsys", "Ti-O", "--max-sites", "8", "--endpoint", services.mp_endpoint]) == 0
    assert "cached pool" in capsys.readouterr().out
    monkeypatch.delenv("MP_API_KEY")
    assert main(["fetch", "mp", "--chemsys", "Ti-O", "--refresh", "--endpoint", services.mp_endpoint]) == 2
    assert "error: no Materials Project API key" in capsys.readouterr().err
