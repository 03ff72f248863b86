"""The OQMD fetch (``requests`` against the documented ``formationenergy`` endpoint) on a local fake server: paging,
filters, every error case, a hanging server, the cache, and MP + OQMD combined (also from the CLI)."""

import time

import pytest

from alcore.cli import main
from alcore.datasets import load_dataset
from alcore.fetch import FetchError, FetchQuery, fetch_pool
from tests.fetch_server import VALID_KEY, fetch_cache, services  # noqa: F401 - fixtures

QUERY = FetchQuery("Ti-O")


def _fetch(services, query=QUERY, **kwargs):
    return fetch_pool("oqmd", query, oqmd_endpoint=services.oqmd_endpoint, **kwargs)


def test_pages_with_limit_and_offset_and_asks_for_exactly_the_chemical_system(services, fetch_cache):
    messages = []
    result = _fetch(services, page_size=3, progress=messages.append)
    assert [r["id"] for r in result.pool.records] == ["oqmd-11001", "oqmd-11002", "oqmd-11003", "oqmd-11004"]
    pages = services.seen("/oqmdapi/formationenergy")
    assert [(p.params["offset"], p.params["limit"]) for p in pages] == [("0", "3"), ("3", "3")]
    first = pages[0].params
    assert first["composition"] == "Ti-O" and first["filter"] == "ntypes=2" and first["noduplicate"] == "True"
    assert first["format"] == "json" and {"unit_cell", "sites", "delta_e"} <= set(first["fields"].split(","))
    assert pages[0].headers["User-Agent"].startswith("alcore/")
    assert messages[-1] == "OQMD: 4 of 4 entries"
    assert result.pool.endpoint == {"oqmd": services.oqmd_endpoint} and "requests" in result.pool.client


def test_filters_go_into_the_filter_expression(services, fetch_cache):
    pool = _fetch(services, FetchQuery("Ti-O", max_e_above_hull=0.1, max_sites=8, stable_only=True)).pool
    params = services.seen("/oqmdapi/formationenergy")[0].params
    assert params["filter"] == "ntypes=2 AND stability<=0 AND stability<=0.1 AND natoms<=8"
    assert [r["id"] for r in pool.records] == ["oqmd-11001"]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("401", r"^OQMD refused the request \(HTTP 401\)"),
        ("403", r"^OQMD refused the request \(HTTP 403\)"),
        ("429", r"^OQMD is limiting requests \(HTTP 429\)"),
        ("500", r"^OQMD had a server error \(HTTP 500\)"),
        ("malformed", r"^OQMD answered with something that is not JSON"),
        ("empty", r"^OQMD has no entries for Ti-O$"),
    ],
)
def test_each_server_failure_is_one_clear_message_and_nothing_is_cached(services, fetch_cache, mode, message):
    services.mode = mode
    with pytest.raises(FetchError, match=message):
        _fetch(services)
    assert not list(fetch_cache.glob("*.json"))


def test_a_hanging_server_fails_within_the_deadline(services, fetch_cache):
    services.mode = "hang"
    start = time.monotonic()
    with pytest.raises(FetchError, match=rf"^cannot reach OQMD: no answer from {services.oqmd_endpoint} within 1 s"):
        _fetch(services, timeout=1.0)
    assert time.monotonic() - start < 2.0


def test_a_closed_port_is_reported_as_unreachable(fetch_cache):
    with pytest.raises(FetchError, match=r"^cannot reach OQMD: connection refused"):
        fetch_pool("oqmd", QUERY, oqmd_endpoint="http://127.0.0.1:9/oqmdapi/", timeout=2.0)


def test_both_databases_are_combined_cached_and_reused_offline(services, fetch_cache):
    result = fetch_pool("both", QUERY, api_key=VALID_KEY, mp_endpoint=services.mp_endpoint,
                        oqmd_endpoint=services.oqmd_endpoint, offsets={"oqmd": 0.1})  # fmt: skip
    pool = result.pool
    assert pool.name == "mp-oqmd-Ti-O-oqmd-offset0.1" and len(pool) == 8
    assert pool.notes["duplicates"] == {"oqmd-11001": "mp-2664", "oqmd-11002": "mp-1003"}
    assert sorted(p.name for p in fetch_cache.glob("*.json")) == [
        "mp-Ti-O.json", "mp-oqmd-Ti-O-oqmd-offset0.1.json", "oqmd-Ti-O.json"]  # fmt: skip
    dataset = load_dataset(pool.name)
    assert dataset.energy_per_atom[dataset.ids.index("oqmd-11004")] == pytest.approx(-1.10)
    assert sorted(set(dataset.kinds)) == ["mp", "oqmd"]
    services.mode = "hang"  # everything is cached now: no request is made
    services.requests.clear()
    again = fetch_pool("both", QUERY, mp_endpoint=services.mp_endpoint, oqmd_endpoint=services.oqmd_endpoint,
                       offsets={"oqmd": 0.1}, timeout=1.0)  # fmt: skip
    assert again.from_cache and again.pool == pool and services.requests == []
    assert b"TestKey" not in b"".join(p.read_bytes() for p in fetch_cache.parent.rglob("*") if p.is_file())


def test_cli_fetches_oqmd_and_combines_with_an_offset(services, fetch_cache, monkeypatch, capsys):
    assert main(["fetch", "oqmd", "-q", "--chemsys", "Ti-O", "--endpoint", services.oqmd_endpoint]) == 0
    assert "oqmd-Ti-O: 4 structures, fetched now" in capsys.readouterr().out
    monkeypatch.setenv("MP_API_KEY", VALID_KEY)
    args = ["fetch", "combine", "-q", "--chemsys", "Ti-O", "--mp-endpoint", services.mp_endpoint,
            "--oqmd-endpoint", services.oqmd_endpoint, "--offset", "oqmd=-0.05"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "mp-oqmd-Ti-O-oqmd-offset-0.05: 8 structures" in out and "duplicates removed: 2" in out
    assert main(["fetch", "combine", "--chemsys", "Ti-O", "--endpoint", services.oqmd_endpoint]) == 2
    assert "use --mp-endpoint / --oqmd-endpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fetch", "combine", "--chemsys", "Ti-O", "--offset", "oqmd"])
