"""Pool building: curation rules, label conversions, embeddings (shipped / stale / cached), a tiny end-to-end build."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.units import GPa

from alcore.datasets.base import Dataset
from alcore.pool_builder.curate import DUPLICATE_ENERGY_TOL, ENERGY_MARGIN, MAX_FORCE, curate, find_duplicates
from alcore.oracles.chgnet import chgnet_stress_to_ase
from alcore.pool_builder.label import formation_energy_per_atom, pick_frames


def _si(a=5.43) -> Atoms:
    return bulk("Si", "diamond", a=a, cubic=True)


def _zero_forces(structures):
    return [np.zeros((len(s), 3)) for s in structures]


# ---- curation -------------------------------------------------------------------------------------------------------


def test_curation_drops_non_finite_large_force_and_high_energy_entries():
    structures = [_si(5.43 + 0.01 * i) for i in range(6)]
    energy = np.array([-5.3, np.nan, -5.2, -5.3 + ENERGY_MARGIN + 0.5, -5.1, -5.0])
    forces = _zero_forces(structures)
    forces[2][0, 0] = MAX_FORCE + 1.0
    stress = [np.zeros(6) for _ in structures]
    stress[4][0] = np.inf
    result = curate(structures, energy, forces, stress)
    assert result.kept.tolist() == [0, 5]
    assert result.removed == {"non_finite": 2, "max_force": 1, "below_floor": 0, "energy_margin": 1, "duplicate": 0}


def test_energy_margin_is_per_reduced_composition():
    si, si_big = _si(), _si().repeat((2, 1, 1))
    c = bulk("C", "diamond", a=3.567)
    structures = [si, si_big, c]
    # the Si supercell is 4 eV/atom above Si (inside the margin); C's own minimum is itself, far above Si
    energy = np.array([-5.4, -1.4, 20.0])
    result = curate(structures, energy, _zero_forces(structures))
    assert result.kept.tolist() == [0, 1, 2]


def test_energy_floor_only_when_given():
    structures = [_si(), _si(5.5)]
    energy = np.array([-6.0, -5.3])
    assert curate(structures, energy, _zero_forces(structures)).kept.tolist() == [0, 1]
    result = curate(structures, energy, _zero_forces(structures), energy_floor=-5.5)
    assert result.kept.tolist() == [1]
    assert result.removed["below_floor"] == 1


def test_duplicates_keep_the_first_and_need_close_energy():
    base = _si()
    translated = base.copy()
    translated.translate([0.3, 0.1, 0.2])
    translated.wrap()
    supercell = base.repeat((1, 1, 2))  # same crystal, other cell: still a duplicate
    strained = _si(5.43 * 1.02)  # a different configuration: never a duplicate
    rattled = base.copy()
    rattled.rattle(0.05, seed=1)
    structures = [base, translated, supercell, strained, rattled, base.copy()]
    e0 = -5.3
    energy = np.array([e0, e0, e0 + 0.5 * DUPLICATE_ENERGY_TOL, e0, e0 + 0.01, e0 + 5 * DUPLICATE_ENERGY_TOL])
    result = curate(structures, energy, _zero_forces(structures))
    # the last copy is identical in geometry but its energy differs by more than the window: kept
    assert result.kept.tolist() == [0, 3, 4, 5]
    assert result.duplicate_of == {1: 0, 2: 0}
    assert result.removed["duplicate"] == 2
    assert find_duplicates([structures[i] for i in result.kept], energy[result.kept]) == {}


def test_curate_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="structures"):
        curate([_si()], np.array([1.0, 2.0]), _zero_forces([_si()]))


# ---- label conversions ----------------------------------------------------------------------------------------------


def test_chgnet_stress_is_converted_from_gpa_to_ase_voigt():
    tensor = np.array([[1.0, 0.6, 0.5], [0.6, 2.0, 0.4], [0.5, 0.4, 3.0]])  # GPa, symmetric
    voigt = chgnet_stress_to_ase(tensor)
    np.testing.assert_allclose(voigt, np.array([1.0, 2.0, 3.0, 0.4, 0.5, 0.6]) * GPa)
    with pytest.raises(ValueError, match="3x3"):
        chgnet_stress_to_ase(np.zeros(6))


def test_formation_energy_subtracts_composition_weighted_references():
    tio2 = Atoms("TiO2", positions=np.zeros((3, 3)), cell=np.eye(3) * 5, pbc=True)
    got = formation_energy_per_atom([tio2], np.array([-9.0]), {"Ti": -7.8, "O": -4.9})
    np.testing.assert_allclose(got, [-9.0 - (-7.8 - 2 * 4.9) / 3])
    with pytest.raises(ValueError, match="no reference"):
        formation_energy_per_atom([tio2], np.array([-9.0]), {"Ti": -7.8})


def test_pick_frames_takes_middle_and_end():
    frames = [_si(5.4 + 0.01 * i) for i in range(7)]
    picked = pick_frames(frames)
    assert [tag for tag, _ in picked] == ["mid", "end"]
    assert picked[0][1] is frames[3] and picked[1][1] is frames[6]
    assert [tag for tag, _ in pick_frames(frames[:2])] == ["end"]
    assert pick_frames([]) == []


# ---- embeddings -----------------------------------------------------------------------------------------------------


def _toy_dataset(n=24, name="toy") -> Dataset:
    atoms = tuple(_si(5.3 + 0.01 * i) for i in range(n))
    return Dataset(name=name, atoms=atoms, targets={"energy_per_atom": np.linspace(-5.4, -5.0, n)},
                   ids=tuple(f"s{i}" for i in range(n)))


@pytest.fixture
def fake_umap(monkeypatch, tmp_path):
    """A cheap deterministic stand-in for UMAP that counts its calls (with an empty cache of its own)."""
    from alcore import embeddings

    monkeypatch.setenv("ALCORE_CACHE_DIR", str(tmp_path / "cache"))
    calls = []

    def fake(X, **kwargs):
        calls.append(X.shape)
        return np.asarray(X[:, :2], dtype=np.float32)

    monkeypatch.setattr(embeddings, "compute_embedding", fake)
    return calls


def test_embedding_is_computed_once_then_cached(tmp_path, fake_umap):
    from alcore.embeddings import load_embedding

    dataset = _toy_dataset()
    first = load_embedding(dataset, "rdf", data_dir=tmp_path)
    second = load_embedding(dataset, "rdf", data_dir=tmp_path)
    assert first.shape == (len(dataset), 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert len(fake_umap) == 1


def test_shipped_embedding_is_used_only_when_it_matches(tmp_path, fake_umap):
    from alcore.embeddings import load_embedding, params_hash, save_embedding, shipped_path

    dataset = _toy_dataset(name="ShippedToy")
    shipped = np.full((len(dataset), 2), 7.0, dtype=np.float32)
    path = shipped_path(dataset.name, "rdf", tmp_path)
    save_embedding(path, shipped, fingerprint=dataset.fingerprint(), phash=params_hash("rdf"), descriptor="rdf")
    np.testing.assert_array_equal(load_embedding(dataset, "rdf", data_dir=tmp_path), shipped)
    assert fake_umap == []

    # another dataset fingerprint (a rebuilt pool) or other params: the shipped file is stale and ignored
    save_embedding(path, shipped, fingerprint="0" * 16, phash=params_hash("rdf"), descriptor="rdf")
    stale = load_embedding(dataset, "rdf", data_dir=tmp_path)
    assert len(fake_umap) == 1 and not np.allclose(stale, 7.0)
    save_embedding(path, shipped, fingerprint=dataset.fingerprint(), phash=params_hash("rdf"), descriptor="rdf")
    other = load_embedding(dataset, "rdf", {"r_cut": 5.0}, data_dir=tmp_path)
    assert len(fake_umap) == 2 and not np.allclose(other, 7.0)


def test_damaged_shipped_embedding_is_ignored(tmp_path, fake_umap):
    from alcore.embeddings import load_embedding, shipped_path

    dataset = _toy_dataset(name="Damaged")
    path = shipped_path(dataset.name, "rdf", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    assert load_embedding(dataset, "rdf", data_dir=tmp_path).shape == (len(dataset), 2)
    assert len(fake_umap) == 1


def test_params_hash_changes_with_descriptor_params():
    from alcore.embeddings import params_hash

    assert params_hash("rdf") == params_hash("rdf", {})
    assert params_hash("rdf") != params_hash("rdf", {"r_cut": 5.0})
    assert params_hash("rdf") != params_hash("soap")


def test_compute_embedding_rejects_bad_input():
    from alcore.embeddings import compute_embedding

    with pytest.raises(ValueError, match="rows"):
        compute_embedding(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        compute_embedding(np.full((10, 3), np.nan))


@pytest.mark.slow
def test_real_umap_is_deterministic_on_60_points():
    from alcore.embeddings import compute_embedding

    X = np.random.default_rng(0).normal(size=(60, 5))
    t0 = time.perf_counter()
    a = compute_embedding(X, random_state=3)
    b = compute_embedding(X, random_state=3)
    assert a.shape == (60, 2) and a.dtype == np.float32 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert time.perf_counter() - t0 < 120


# ---- tiny end-to-end build (needs the build dependencies) ----------------------------------------------------------


@dataclass(frozen=True)
class FakeCandidate:
    atoms: Atoms
    kind: str
    parent: str
    id: str


def _tiny_candidates() -> list[FakeCandidate]:
    diamond = bulk("Si", "diamond", a=5.47)
    fcc = bulk("Si", "fcc", a=3.85)
    rattled = _si().copy()
    rattled.rattle(0.05, seed=3)
    strained = diamond.copy()
    strained.set_cell(diamond.cell.array * 1.03, scale_atoms=True)
    return [
        FakeCandidate(diamond, "polymorph", "diamond", "Si-polymorph-diamond"),
        FakeCandidate(fcc, "polymorph", "fcc", "Si-polymorph-fcc"),
        FakeCandidate(rattled, "rattle", "Si-polymorph-diamond", "Si-rattle-00000"),
        FakeCandidate(strained, "strain", "Si-polymorph-diamond", "Si-strain-00000"),
        FakeCandidate(diamond.copy(), "rattle", "Si-polymorph-diamond", "Si-rattle-00001"),  # exact duplicate
    ]


# CHGNet import + load + three short relaxations + the reference relaxation take ~50 s on 2 shared cores
@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    pytest.importorskip("chgnet")
    pytest.importorskip("pyxtal")
    import torch

    import alcore.embeddings
    from alcore.pool_builder.build import build_pool

    out = tmp_path_factory.mktemp("pool")
    real, threads = alcore.embeddings.compute_embedding, torch.get_num_threads()
    alcore.embeddings.compute_embedding = lambda X, **kw: np.asarray(X[:, :2], dtype=np.float32)
    try:
        manifest = build_pool("Si", seed=0, out_dir=out, n_total=5, n_relax=3, relax_steps=4,
                              prototype_relax_steps=4, candidates=_tiny_candidates(), elements=("Si",))
    finally:
        alcore.embeddings.compute_embedding = real
        torch.set_num_threads(threads)  # load_model set one thread for the build
    return out, manifest


@pytest.mark.slow
def test_tiny_build_writes_a_loadable_labelled_pool(tiny_build):
    from alcore.datasets import load_dataset

    out, manifest = tiny_build
    pool = load_dataset(out / "Si.extxyz.gz")
    assert len(pool) == manifest["n_structures"]
    assert np.all(np.isfinite(pool.energy_per_atom)) and np.all(np.isfinite(pool.target("formation_energy_per_atom")))
    assert all(f is not None and f.shape == (len(a), 3) for f, a in zip(pool.forces, pool.atoms, strict=True))
    assert all(s is not None and s.shape == (6,) for s in pool.stress)
    assert all(a.has("initial_magmoms") for a in pool.atoms)
    assert pool.provenance["origin"]["chgnet_version"] == manifest["chgnet_version"]
    # both prototypes plus one seeded pick are relaxed; each gives a mid and an end frame (only an end if converged)
    assert manifest["n_relaxations"] == 3
    assert 3 <= manifest["n_relax_frames"] <= 6
    assert 1 <= manifest["counts_by_kind"]["relax"] <= manifest["n_relax_frames"]
    relax_parents = {manifest["parents"][i] for i, k in zip(pool.ids, pool.kinds, strict=True) if k == "relax"}
    assert relax_parents <= {c.id for c in _tiny_candidates()}
    assert set(pool.kinds) <= {"polymorph", "rattle", "strain", "relax"}
    assert manifest["counts_by_kind"] == dict(sorted(__import__("collections").Counter(pool.kinds).items()))
    # the exact copy of diamond is removed as a duplicate, and only that
    assert "Si-rattle-00001" not in pool.ids
    assert manifest["curation"]["removed"]["duplicate"] >= 1
    assert manifest["curation"]["kept"] == len(pool)
    assert sum(manifest["counts_by_composition"].values()) == len(pool)
    # formation energy of relaxed diamond is ~0 against the relaxed diamond reference
    ref = manifest["references"]["Si"]
    assert ref["structure"] == "diamond"
    np.testing.assert_allclose(pool.target("formation_energy_per_atom"), pool.energy_per_atom - ref["energy_per_atom"])
    assert manifest["sanity_checks"]["status"] in ("pass", "FAIL")
    assert "diamond" in manifest["sanity_checks"]["energies"]


@pytest.mark.slow
def test_tiny_build_ships_features_and_embeddings_that_the_pipeline_finds(tiny_build, monkeypatch):
    from alcore.datasets.importers.extxyz import read_extxyz
    from alcore.descriptors import features
    from alcore.embeddings import load_embedding

    out, manifest = tiny_build
    assert not list(out.rglob("*.tmp")), "atomic writes left temporary files"
    pool = read_extxyz(out / "Si.extxyz.gz")
    assert manifest["dataset_fingerprint"] == pool.fingerprint()
    monkeypatch.setattr(features, "shipped_features_dir", lambda: out / "features")
    for descriptor, entry in manifest["shipped"].items():
        shipped = out / entry["features"]
        assert shipped.name == features.cache_file(pool, descriptor).name
        raw, _ = features.featurize_raw(pool, descriptor)
        stored = np.load(shipped, allow_pickle=False)["features"]
        assert stored.dtype == np.float32
        np.testing.assert_array_equal(raw, stored.astype(float))
        # the shipped map is found by dataset name + fingerprint; no UMAP needed
        embedding = load_embedding(pool, descriptor, data_dir=out)
        assert embedding.shape == (len(pool), 2)
    manifest_on_disk = json.loads((out / "Si.manifest.json").read_text())
    assert manifest_on_disk["n_structures"] == manifest["n_structures"]
    assert set(manifest_on_disk["parents"]) == set(pool.ids)


@pytest.mark.slow
def test_tiny_build_ships_parsed_arrays_and_data_parse_rewrites_them(tiny_build, tmp_path):
    from alcore.cli import main
    from alcore.datasets.importers.extxyz import read_extxyz
    from alcore.datasets.parsed_cache import read_shipped, source_digest
    from alcore.paths import shipped_parsed_path

    out, _ = tiny_build
    pool_path = out / "Si.extxyz.gz"
    shipped = read_shipped(shipped_parsed_path("Si", out), source_digest(pool_path, "extxyz", {}))
    assert shipped is not None and shipped.fingerprint() == read_extxyz(pool_path).fingerprint()
    copy = tmp_path / "data"
    copy.mkdir()
    (copy / "Si.extxyz.gz").write_bytes(pool_path.read_bytes())
    assert main(["data", "parse", "--out", str(copy), "--quiet"]) == 0
    assert shipped_parsed_path("Si", copy).read_bytes() and not shipped_parsed_path("C", copy).exists()
    again = read_shipped(shipped_parsed_path("Si", copy), source_digest(copy / "Si.extxyz.gz", "extxyz", {}))
    assert again is not None and again.fingerprint() == shipped.fingerprint()


def test_sanity_checks_report_numbers_and_missing_prototypes():
    from alcore.pool_builder.build import sanity_checks

    ok = sanity_checks("C", {"diamond": -9.10, "graphite-AB": -9.15, "graphite-AA": -9.12})
    assert ok["status"] == "pass" and ok["gap_eV_per_atom"] == pytest.approx(-0.05)
    bad = sanity_checks("Si", {"diamond": -5.0, "beta-tin": -5.2})
    assert bad["status"] == "FAIL"
    assert sanity_checks("TiO2", {"rutile": -9.0})["status"] == "skipped"


def test_cli_data_build_requires_a_system(capsys):
    from alcore.cli import main

    assert main(["data", "build", "--out", str(Path("/nonexistent-alcore-test"))]) == 2
    assert "--system" in capsys.readouterr().err
