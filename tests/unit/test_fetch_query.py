"""Fetch queries: chemical systems are checked and written one way, filters are validated, names are file-safe."""

import pytest

from alcore.datasets.fetched.query import FetchQuery, parse_chemsys
from alcore.fetch.web import connection_problem, http_status, normalise_url, scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Ti-O", ("Ti", "O")), ("O-Ti", ("Ti", "O")), ("o-ti", ("Ti", "O")), (" Si ", ("Si",)),
     ("O,Fe,Li,P", ("Li", "Fe", "P", "O")), ("Ne-He", ("He", "Ne"))],
)  # fmt: skip
def test_chemsys_is_parsed_into_one_canonical_order(text, expected):
    assert parse_chemsys(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "give a chemical system"), ("Ti-Xx", "'Xx' is not an element"), ("Ti-O-Ti", "repeated"),
     ("H-He-Li-Be-B-C-N-O-F", "at most 8")],
)  # fmt: skip
def test_bad_chemsys_names_the_problem(text, problem):
    with pytest.raises(ValueError, match=problem):
        FetchQuery(text)


def test_query_label_and_description_carry_every_filter():
    plain = FetchQuery("O-Ti")
    full = FetchQuery("Ti-O", max_e_above_hull=0.1, max_sites=20, stable_only=True)
    assert plain.chemsys == "Ti-O" and plain.alphabetical_chemsys == "O-Ti" and plain.label() == "Ti-O"
    assert full.label() == "Ti-O-ehull0.1-max20sites-stable"
    assert full.describe() == "Ti-O (stable only, energy above hull <= 0.1 eV/atom, <= 20 sites)"
    assert FetchQuery.from_dict(full.to_dict()) == full


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"max_e_above_hull": -0.1}, "max_e_above_hull"), ({"max_e_above_hull": float("nan")}, "max_e_above_hull"),
     ({"max_sites": 0}, "max_sites"), ({"max_sites": 2.5}, "max_sites"), ({"max_sites": True}, "max_sites")],
)  # fmt: skip
def test_bad_filters_are_refused(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        FetchQuery("Si", **kwargs)


def test_unknown_query_fields_are_refused():
    with pytest.raises(ValueError, match="unknown query fields"):
        FetchQuery.from_dict({"chemsys": "Si", "api_key": "x"})


def test_urls_are_checked_and_normalised():
    assert normalise_url(None, "https://api.example.org/", "endpoint") == "https://api.example.org/"
    assert normalise_url(" http://127.0.0.1:8000 ", "https://x/", "endpoint") == "http://127.0.0.1:8000/"
    for bad in ("ftp://example.org", "example.org", "https://user:secret@example.org/"):
        with pytest.raises(ValueError, match="endpoint"):
            normalise_url(bad, "https://x/", "endpoint")


def test_client_messages_are_read_for_status_and_cause_and_keys_are_scrubbed():
    assert http_status("REST query returned with error status code 401 on URL x") == 401
    assert http_status("Max retries exceeded (Caused by ResponseError('too many 502 error responses'))") == 502
    assert http_status("no status here") is None
    assert connection_problem("...: Failed to establish a new connection: [Errno 111] Connection refused'))") == (
        "connection refused"
    )
    assert scrub("key abc123 in text", "abc123") == "key *** in text" and scrub("text", None) == "text"
