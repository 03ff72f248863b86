"""Fetched pools: database answers become normalised records, the cache file round-trips, and a cached pool is a
registered dataset (listed, loadable by name or path) with the right energy target."""

import json

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from alcore.datasets import DatasetError, detect_format, list_datasets, load_dataset
from alcore.datasets.fetched.cache import cached_pools, find_cached, load_pool, pool_path, save_pool
from alcore.datasets.fetched.pool import POOL_FORMAT, FetchedPool
from alcore.datasets.fetched.query import FetchQuery
from alcore.datasets.fetched.to_dataset import pool_to_dataset
from alcore.fetch.mp import mp_records
from alcore.fetch.oqmd import oqmd_records
from tests.fetch_server import fetch_cache, mp_materials, oqmd_entries  # noqa: F401 - fixture

QUERY = FetchQuery("Ti-O")


def make_pool(database: str, docs=None) -> FetchedPool:
    records, skipped = (mp_records if database == "mp" else oqmd_records)(
        docs if docs is not None else (mp_materials() if database == "mp" else oqmd_entries())
    )
    return FetchedPool(name=f"{database}-Ti-O", source=database, query=QUERY.to_dict(), records=tuple(records),
                client={"test": "1"}, endpoint={database: f"http://{database}.test/"},
                notes={"skipped": skipped} if skipped else {})  # fmt: skip


def test_mp_documents_become_records_and_unusable_ones_are_skipped_with_a_reason():
    docs = mp_materials()
    disordered = json.loads(json.dumps(docs[1]))
    disordered["material_id"] = "mp-9001"
    disordered["structure"]["sites"][0]["species"] = [{"element": "Ti", "occu": 0.5}, {"element": "O", "occu": 0.5}]
    no_energy = dict(docs[2], material_id="mp-9002", energy_per_atom=None)
    no_structure = dict(docs[3], material_id="mp-9003", structure=None)
    records, skipped = mp_records([*docs, docs[0], disordered, no_energy, no_structure, "junk"])
    assert [r["id"] for r in records] == [d["material_id"] for d in docs]  # the repeated mp-2664 is kept once
    assert set(skipped) == {"mp-9001", "mp-9002", "mp-9003", "item 10"}
    assert "disordered" in skipped["mp-9001"] and skipped["mp-9002"] == "no energy_per_atom"
    first = records[0]
    assert first["source"] == "mp" and first["spacegroup"] == "Fm-3m" and first["nsites"] == 8
    assert first["energy_per_atom"] == -8.90 and first["energy_offset"] == 0.0 and first["prototype"] is None
    assert StructureMatcher().fit(Structure.from_dict(first["structure"]), Structure.from_dict(docs[0]["structure"]))


def test_oqmd_entries_are_rebuilt_from_unit_cell_and_sites():
    entries = oqmd_entries()
    disordered = dict(entries[0], entry_id=9001, sites=["(Ti,O) @ 0 0 0", *entries[0]["sites"][1:]])
    miscounted = dict(entries[1], entry_id=9002, natoms=99)
    no_cell = dict(entries[2], entry_id=9003, unit_cell=None)
    records, skipped = oqmd_records([*entries, disordered, miscounted, no_cell])
    assert [r["id"] for r in records] == ["oqmd-11001", "oqmd-11002", "oqmd-11003", "oqmd-11004"]
    assert set(skipped) == {"oqmd-9001", "oqmd-9002", "oqmd-9003"}
    assert "natoms = 99" in skipped["oqmd-9002"] and "unit_cell" in skipped["oqmd-9003"]
    rocksalt = records[0]
    structure = Structure.from_dict(rocksalt["structure"])
    assert np.allclose(structure.lattice.matrix, entries[0]["unit_cell"])
    assert structure.composition.reduced_formula == "TiO" and len(structure) == entries[0]["natoms"]
    assert rocksalt["energy_per_atom"] is None and rocksalt["formation_energy_per_atom"] == -2.75
    assert rocksalt["energy_above_hull"] == 0.0 and rocksalt["is_stable"] is True  # OQMD's -0.01 is clipped
    assert records[2]["energy_above_hull"] == 0.70 and records[2]["prototype"] == "ReO3"


def test_cache_file_round_trips_and_records_query_source_client_and_time(fetch_cache):
    pool = make_pool("mp")
    path = save_pool(pool)
    assert path == fetch_cache / "mp-Ti-O.json" == pool_path("mp-Ti-O")
    doc = json.loads(path.read_text())
    assert doc["format"] == POOL_FORMAT and doc["source"] == "mp" and doc["query"]["chemsys"] == "Ti-O"
    assert doc["client"] == {"test": "1"} and doc["fetched_at"] == pool.fetched_at and doc["n_records"] == 6
    assert load_pool(path) == pool and find_cached("mp-Ti-O") == pool and find_cached("oqmd-Ti-O") is None
    (listed,) = cached_pools()
    assert listed.name == "mp-Ti-O" and listed.description.startswith("6 structures fetched from the Materials Project")
    assert not list(fetch_cache.glob(".*.tmp"))  # written atomically: no temporary file left


def test_damaged_or_foreign_cache_files_are_errors_naming_the_file_and_are_not_listed(fetch_cache):
    save_pool(make_pool("mp"))
    (fetch_cache / "broken.json").write_text('{"format": "alcore-fetched-pool", "records": [')
    (fetch_cache / "foreign.json").write_text('{"hello": "world"}')
    (fetch_cache / "renamed.json").write_text((fetch_cache / "mp-Ti-O.json").read_text())
    assert [p.name for p in cached_pools()] == ["mp-Ti-O"]
    with pytest.raises(DatasetError, match=r"broken.json.*not valid JSON"):
        load_pool(fetch_cache / "broken.json")
    with pytest.raises(DatasetError, match=r"foreign.json: not a fetched pool"):
        load_pool(fetch_cache / "foreign.json")
    assert find_cached("broken") is None
    with pytest.raises(ValueError, match="cannot be a file name"):
        pool_path("../escape")


def test_mp_pool_uses_total_energies_and_keeps_the_other_properties_as_targets():
    dataset = pool_to_dataset(make_pool("mp"))
    assert len(dataset) == 6 and dataset.name == "mp-Ti-O" and set(dataset.kinds) == {"mp"}
    assert dataset.ids[0] == "mp-2664" and dataset.energy_per_atom[0] == -8.90
    assert set(dataset.targets) == {"energy_per_atom", "formation_energy_per_atom", "uncorrected_energy_per_atom",
                                    "energy_above_hull", "band_gap", "density", "magnetization_per_atom"}  # fmt: skip
    assert dataset.target("formation_energy_per_atom")[4] == -3.40
    assert dataset.provenance["energy_per_atom"].startswith("total DFT energy")
    assert dataset.provenance["query"]["chemsys"] == "Ti-O" and "CC BY 4.0" in dataset.provenance["licence"]


def test_oqmd_pool_uses_formation_energies_and_total_is_refused():
    pool = make_pool("oqmd")
    dataset = pool_to_dataset(pool)
    assert list(dataset.energy_per_atom) == [-2.75, -3.05, -2.10, -1.20] and set(dataset.kinds) == {"oqmd"}
    assert dataset.provenance["energy_per_atom"].startswith("formation energy")
    assert "density" not in dataset.targets  # OQMD has none
    with pytest.raises(DatasetError, match="no energy_per_atom; cannot use total energies"):
        pool_to_dataset(pool, energy="total")
    with pytest.raises(ValueError, match="energy must be one of"):
        pool_to_dataset(pool, energy="kinetic")


def test_a_cached_pool_is_a_registered_dataset_by_name_and_by_path(fetch_cache):
    assert not [i for i in list_datasets() if i.format == "fetched-pool"]
    path = save_pool(make_pool("oqmd"))
    info = next(i for i in list_datasets() if i.name == "oqmd-Ti-O")
    assert info.available and info.format == "fetched-pool" and info.location == str(path)
    assert detect_format(path) == "fetched-pool"
    by_name, by_path = load_dataset("oqmd-Ti-O"), load_dataset(str(path))
    assert by_name.fingerprint() == by_path.fingerprint() == pool_to_dataset(make_pool("oqmd")).fingerprint()
    assert by_name.provenance["source"] == "oqmd-Ti-O" and by_name.provenance["fetched"] is True
    with pytest.raises(DatasetError, match="oqmd-Ti-O"):  # listed among the known names when a name is wrong
        load_dataset("oqmd-Ti-O-typo")
