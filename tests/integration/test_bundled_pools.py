"""The pools shipped in data/: load by name, complete labels, no duplicates, matching maps, sane polymorph ordering.

Runs whenever data/ holds the pools (they are built by ``python -m alcore data build --all``); skips otherwise.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from alcore.paths import BUNDLED_SYSTEMS, DATA_DIR

MIN_STRUCTURES = 1500


def _require(system: str) -> None:
    if not (DATA_DIR / f"{system}.extxyz.gz").is_file():
        pytest.skip(f"bundled pool {system} not built (python -m alcore data build --all)")


@pytest.fixture(scope="module", params=BUNDLED_SYSTEMS)
def pool(request):
    from alcore.datasets import load_dataset

    _require(request.param)
    manifest = json.loads((DATA_DIR / f"{request.param}.manifest.json").read_text(encoding="utf-8"))
    return request.param, load_dataset(request.param), manifest


def test_pool_loads_by_name_with_complete_labels(pool):
    system, dataset, manifest = pool
    assert dataset.name == system
    assert len(dataset) >= MIN_STRUCTURES
    assert len(dataset) == manifest["n_structures"]
    for target in ("energy_per_atom", "formation_energy_per_atom"):
        assert np.all(np.isfinite(dataset.target(target)))
    assert dataset.forces is not None and all(f is not None and np.all(np.isfinite(f)) for f in dataset.forces)
    assert dataset.stress is not None and all(s is not None for s in dataset.stress)
    assert dataset.kinds is not None and set(dataset.kinds) >= {"polymorph", "relax"}
    assert dict(sorted(__import__("collections").Counter(dataset.kinds).items())) == manifest["counts_by_kind"]
    assert manifest["dataset_fingerprint"] == dataset.fingerprint()


def test_shipped_parsed_arrays_equal_a_fresh_parse_and_are_what_loads(pool, monkeypatch):
    """The arrays in data/parsed/ are what the extxyz importer reads from the pool today, byte for byte, and loading
    the pool by name uses them (no parse). If this fails after an importer change: ``python -m alcore data parse``."""
    from alcore.datasets import sources
    from alcore.datasets.importers import IMPORTERS
    from alcore.datasets.parsed_cache import dataset_to_arrays, read_cached, read_shipped, source_digest
    from alcore.paths import shipped_parsed_path

    system, loaded, _ = pool
    path, shipped_path = DATA_DIR / f"{system}.extxyz.gz", shipped_parsed_path(system)
    assert shipped_path.is_file(), f"{shipped_path} missing: run python -m alcore data parse"
    stored = read_shipped(shipped_path, source_digest(path, "extxyz", {}))
    assert stored is not None, f"{shipped_path} is stale for {path.name}: run python -m alcore data parse"
    assert stored.provenance["path"] == path.name  # no folder of the machine that wrote it

    def no_parse(*args, **kwargs):
        raise AssertionError("the bundled pool was parsed although its arrays ship")

    shipped = read_cached(path, "extxyz", {}, no_parse, shipped=shipped_path)
    fresh, ours = dataset_to_arrays(IMPORTERS.get("extxyz")(path)), dataset_to_arrays(shipped)
    assert sorted(fresh) == sorted(ours)
    for key in fresh:
        assert fresh[key].dtype == ours[key].dtype and np.array_equal(fresh[key], ours[key]), key

    monkeypatch.setattr(IMPORTERS, "get", lambda name: no_parse)
    sources.clear_memory_cache()
    again = sources.SOURCES.get(system).read()
    assert again.fingerprint() == loaded.fingerprint() == shipped.fingerprint()
    assert again.provenance["path"] == str(path)  # this checkout's file


def test_pool_files_fit_the_size_budget(pool):
    system, _, manifest = pool
    assert (DATA_DIR / manifest["file"]).stat().st_size <= 5 * 1024**2
    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert total <= 25 * 1024**2


@pytest.mark.slow
def test_pool_has_no_duplicates_by_the_curation_rule(pool):
    from alcore.pool_builder.curate import MAX_FORCE, find_duplicates

    _, dataset, _ = pool
    assert find_duplicates(dataset.atoms, dataset.energy_per_atom) == {}
    assert max(float(np.linalg.norm(f, axis=1).max()) for f in dataset.forces) <= MAX_FORCE


def test_embeddings_are_shipped_and_match_for_every_descriptor(pool):
    from alcore.descriptors.base import DESCRIPTORS
    from alcore.embeddings import params_hash, read_matching, shipped_path

    system, dataset, _ = pool
    for descriptor in DESCRIPTORS:
        path = shipped_path(system, descriptor)
        found = read_matching(path, dataset.fingerprint(), params_hash(descriptor), len(dataset))
        assert found is not None, f"{path} missing or stale"
        assert np.all(np.isfinite(found))


def test_polymorph_sanity_check_holds(pool):
    from alcore.pool_builder.build import sanity_checks

    system, _, manifest = pool
    recorded = manifest["sanity_checks"]
    assert recorded["status"] == "pass", recorded
    assert sanity_checks(system, manifest["prototype_relaxed_energy_per_atom"])["status"] == "pass"


def test_compare_runs_offline_on_a_bundled_pool(capsys, tmp_path):
    """The paper's four strategies on the bundled TiO2 pool through the CLI (short budget to stay fast)."""
    from alcore.cli import main

    _require("TiO2")
    out = tmp_path / "cmp.json"
    assert main(["compare", "--dataset", "TiO2", "--seeds", "2", "--budget", "60", "--n-jobs", "1", "-q",
                 "--json", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    for strategy in ("random", "uncertainty", "diversity", "hybrid"):
        assert strategy in printed
    summary = json.loads(out.read_text())["summary"]
    assert set(summary) == {"random", "uncertainty", "diversity", "hybrid"}
    assert all(np.isfinite(s["final_mae_mean"]) for s in summary.values())
