"""Combining MP and OQMD: a source per record, cross-database duplicates removed (StructureMatcher), optional
per-database energy offsets, and the combined pool's dataset uses formation energies."""

import dataclasses

import pytest

from alcore.datasets.fetched.query import FetchQuery
from alcore.datasets.fetched.to_dataset import pool_to_dataset
from alcore.fetch.combine import combine, combined_name
from tests.unit.test_fetch_pool import make_pool


def test_duplicates_found_in_both_databases_are_kept_once_from_the_first():
    pool = combine([make_pool("mp"), make_pool("oqmd")])
    ids = [r["id"] for r in pool.records]
    assert ids == ["mp-2664", "mp-1001", "mp-1002", "mp-1003", "mp-2657", "mp-1004", "oqmd-11003", "oqmd-11004"]
    assert pool.notes["duplicates"] == {"oqmd-11001": "mp-2664", "oqmd-11002": "mp-1003"}
    assert pool.name == "mp-oqmd-Ti-O" and pool.source == "mp+oqmd" and pool.databases == ("mp", "oqmd")
    assert pool.endpoint == {"mp": "http://mp.test/", "oqmd": "http://oqmd.test/"}
    assert pool.notes["offsets"] == {"mp": 0.0, "oqmd": 0.0} and pool.notes["matcher"]["ltol"] == 0.2
    reversed_order = combine([make_pool("oqmd"), make_pool("mp")])
    assert reversed_order.notes["duplicates"] == {"mp-2664": "oqmd-11001", "mp-1003": "oqmd-11002"}


def test_within_one_database_matching_structures_are_all_kept():
    mp = make_pool("mp")
    twin = dict(mp.records[0], id="mp-7777")  # the same structure under another id, as for two magnetic orderings
    pool = combine([dataclasses.replace(mp, records=(*mp.records, twin)), make_pool("oqmd")])
    assert "mp-7777" in [r["id"] for r in pool.records] and "mp-7777" not in pool.notes["duplicates"]


def test_keeping_duplicates_is_a_different_pool():
    pool = combine([make_pool("mp"), make_pool("oqmd")], deduplicate=False)
    assert len(pool) == 10 and pool.notes["duplicates"] == {} and pool.name == "mp-oqmd-Ti-O-all"


def test_an_offset_shifts_every_energy_of_its_database_only():
    pool = combine([make_pool("mp"), make_pool("oqmd")], offsets={"oqmd": 0.25})
    by_id = {r["id"]: r for r in pool.records}
    assert by_id["oqmd-11003"]["formation_energy_per_atom"] == pytest.approx(-2.10 + 0.25)
    assert by_id["oqmd-11003"]["energy_offset"] == 0.25
    assert by_id["mp-2657"]["formation_energy_per_atom"] == -3.40 and by_id["mp-2657"]["energy_offset"] == 0.0
    assert pool.name == "mp-oqmd-Ti-O-oqmd-offset0.25" == combined_name(["mp", "oqmd"], FetchQuery("Ti-O"),
                                                                          {"oqmd": 0.25})  # fmt: skip
    dataset = pool_to_dataset(pool)
    assert dataset.energy_per_atom[dataset.ids.index("oqmd-11003")] == pytest.approx(-1.85)
    assert dataset.provenance["offsets"] == {"mp": 0.0, "oqmd": 0.25}
    assert dataset.provenance["energy_per_atom"].startswith("formation energy")
    assert sorted(set(dataset.kinds)) == ["mp", "oqmd"]
    assert "density" not in dataset.targets and "density" in dataset.provenance["dropped_targets"]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"offsets": {"aflow": 0.1}}, "not one of the combined"), ({"offsets": {"oqmd": float("inf")}}, "finite")],
)
def test_bad_offsets_are_refused(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        combine([make_pool("mp"), make_pool("oqmd")], **kwargs)


def test_pools_of_different_queries_or_one_database_twice_cannot_be_combined():
    other = dataclasses.replace(make_pool("oqmd"), query=FetchQuery("Ti-O", stable_only=True).to_dict())
    with pytest.raises(ValueError, match="different queries"):
        combine([make_pool("mp"), other])
    with pytest.raises(ValueError, match="appears twice"):
        combine([make_pool("mp"), make_pool("mp")])
    with pytest.raises(ValueError, match="at least two"):
        combine([make_pool("mp")])
