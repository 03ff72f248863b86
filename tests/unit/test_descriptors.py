"""Descriptor families and the shared feature pipeline: physical invariants, caching, cleaning, errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.neighborlist import neighbor_list

from alcore.atomic import read_npz
from alcore.datasets.base import Dataset
from alcore.descriptors import DESCRIPTORS, FeatureSet, compute_features, describe_descriptors
from alcore.descriptors import features as features_module
from alcore.descriptors._structure import neighbor_pairs
from alcore.descriptors.features import cache_file, standardise
from alcore.descriptors.paper import (
    INTENSIVE_STRUCTURE_LABELS,
    PaperDescriptor,
    _magpie,
    atoms_composition,
    magpie_labels,
    magpie_table,
)
from alcore.descriptors.rdf import RdfDescriptor
from alcore.descriptors.soap import SoapDescriptor

FAMILIES = ["paper", "soap", "rdf"]


def make_dataset(structures, name="test") -> Dataset:
    n = len(structures)
    return Dataset(
        name=name,
        atoms=tuple(structures),
        targets={"energy_per_atom": np.linspace(-1.0, 0.0, n)},
        ids=tuple(f"{name}-{i}" for i in range(n)),
    )


def rattled(atoms: Atoms, seed: int, stdev: float = 0.05) -> Atoms:
    atoms = atoms.copy()
    atoms.positions += np.random.default_rng(seed).normal(0.0, stdev, atoms.positions.shape)
    return atoms


def feo(seed: int = 0) -> Atoms:
    return rattled(bulk("FeO", "rocksalt", a=4.3, cubic=True), seed)


def fe(seed: int = 0, a: float = 2.87) -> Atoms:
    return rattled(bulk("Fe", "bcc", a=a, cubic=True).repeat((2, 2, 2)), seed)


def featurize(family: str, structures, **params) -> np.ndarray:
    return DESCRIPTORS.get(family)(**params).featurize(make_dataset(structures))


def columns(labels: list[str], wanted) -> list[int]:
    return [labels.index(label) for label in wanted]


# --- registry and descriptions --------------------------------------------------------------------------------------


def test_families_are_registered_and_described():
    assert set(FAMILIES) <= set(DESCRIPTORS.names())
    rows = {row["name"]: row for row in describe_descriptors()}
    for family in FAMILIES:
        assert rows[family]["description"]
        json.dumps(rows[family]["params"])  # the CLI prints them
    assert rows["soap"]["params"]["r_cut"] == 5.0


# --- physical invariants --------------------------------------------------------------------------------------------


def test_magpie_depends_only_on_fractional_composition():
    from pymatgen.core import Composition

    # separate memos so that matminer really runs for each spelling
    rows = [magpie_table([Composition(f)], memo={})[0] for f in ("FeO", "Fe2O2", "Fe0.5O0.5")]
    np.testing.assert_array_equal(rows[0], rows[1])
    np.testing.assert_array_equal(rows[0], rows[2])
    assert not np.allclose(rows[0], magpie_table([Composition("Fe2O3")], memo={})[0])


def test_magpie_runs_once_per_unique_composition(monkeypatch):
    calls = []
    original = type(_magpie()).featurize

    def counting(self, comp):
        calls.append(comp.reduced_formula)
        return original(self, comp)

    monkeypatch.setattr(type(_magpie()), "featurize", counting)
    structures = [fe(seed) for seed in range(5)] + [feo(1), bulk("FeO", "rocksalt", a=4.3)]
    X = featurize("paper", structures)
    assert sorted(calls) == ["Fe", "FeO"]
    n_magpie = len(magpie_labels())
    np.testing.assert_array_equal(X[5, :n_magpie], X[6, :n_magpie])  # Fe4O4 cell and FeO primitive cell


@pytest.mark.parametrize(
    ("atoms", "spacegroup", "coordination", "bond"),
    [
        (bulk("Fe", "bcc", a=2.87), 229, 8, 2.87 * np.sqrt(3) / 2),
        (bulk("Cu", "fcc", a=3.6), 225, 12, 3.6 / np.sqrt(2)),
        (bulk("Si", "diamond", a=5.43), 227, 4, 5.43 * np.sqrt(3) / 4),
        (bulk("FeO", "rocksalt", a=4.3), 225, 6, 4.3 / 2),
    ],
    ids=["bcc", "fcc", "diamond", "rocksalt"],
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning:spglib")  # pymatgen's reference call, not ours
def test_paper_structure_features_of_simple_crystals(atoms, spacegroup, coordination, bond):
    from matminer.featurizers.structure import DensityFeatures
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    descriptor = PaperDescriptor()
    labels = descriptor.feature_labels()
    row = dict(zip(labels, descriptor.featurize(make_dataset([atoms]))[0], strict=True))
    structure = AseAtomsAdaptor.get_structure(atoms)
    density, vpa, packing = DensityFeatures().featurize(structure)
    assert row["density"] == pytest.approx(density, rel=1e-6)
    assert row["volume_per_atom"] == pytest.approx(vpa, rel=1e-9)
    assert row["packing_fraction"] == pytest.approx(packing, rel=1e-9)
    assert row["spacegroup_number"] == spacegroup == SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_number()
    assert row["n_sites"] == len(atoms)
    assert row["coordination_min"] == row["coordination_max"] == coordination
    assert row["coordination_std"] == 0
    assert row["bond_length_min"] == pytest.approx(bond, rel=1e-9)
    assert row["bond_length_max"] == pytest.approx(bond, rel=1e-9)


def test_spacegroup_falls_back_to_p1_on_degenerate_cell():
    from alcore.descriptors.paper import spacegroup_number

    overlapping = Atoms("Fe2", positions=[[0, 0, 0], [0, 0, 0]], cell=np.eye(3) * 3.0, pbc=True)
    assert spacegroup_number(overlapping, symprec=0.1) == 1


@pytest.mark.parametrize("family", FAMILIES)
def test_supercell_gives_identical_intensive_features(family):
    base = feo(3)
    supercell = base.repeat((2, 1, 2))
    descriptor = DESCRIPTORS.get(family)()
    X = descriptor.featurize(make_dataset([base, supercell]))
    labels = descriptor.feature_labels()
    if family == "paper":
        assert X[1, labels.index("n_sites")] == 4 * X[0, labels.index("n_sites")]
        keep = columns(labels, magpie_labels() + list(INTENSIVE_STRUCTURE_LABELS))
        X = X[:, keep]
    np.testing.assert_allclose(X[1], X[0], rtol=1e-7, atol=1e-9)


def rotated_and_translated(atoms: Atoms) -> Atoms:
    moved = atoms.copy()
    moved.rotate(37.0, (1.0, 2.0, -0.5), rotate_cell=True)
    moved.translate((3.3, -7.1, 0.4))
    return moved


def permuted(atoms: Atoms, seed: int) -> Atoms:
    return atoms[np.random.default_rng(seed).permutation(len(atoms))]


def wrapped(atoms: Atoms) -> Atoms:
    moved = atoms.copy()
    moved.wrap()
    return moved


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("transform", [rotated_and_translated, wrapped, lambda a: permuted(a, 7)])
def test_features_invariant_under_rotation_translation_permutation(family, transform):
    base = rattled(bulk("FeO", "rocksalt", a=4.3, cubic=True).repeat((1, 1, 2)), seed=11, stdev=0.1)
    X = featurize(family, [base, transform(base)])
    np.testing.assert_allclose(X[1], X[0], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("family", FAMILIES)
def test_features_are_finite_labelled_and_distinguish_structures(family):
    structures = [feo(0), feo(1), fe(2), fe(3, a=2.95)]
    descriptor = DESCRIPTORS.get(family)()
    X = descriptor.featurize(make_dataset(structures))
    labels = descriptor.feature_labels()
    assert X.shape == (4, len(labels))
    assert len(set(labels)) == len(labels)
    assert np.isfinite(X).all()
    assert not np.allclose(X[0], X[1])  # two rattles differ
    assert not np.allclose(X[2], X[3])  # two densities differ


def test_rdf_counts_neighbour_shells():
    """Integrating the histogram over shell volumes gives the neighbours per atom (fcc: 12 within 3 Å at a=3.6)."""
    descriptor = RdfDescriptor(r_cut=3.0, n_bins=15, smearing=0.0, composition="none")
    row = descriptor.featurize(make_dataset([bulk("Cu", "fcc", a=3.6, cubic=True)]))[0]
    edges = np.linspace(0.0, 3.0, 16)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    assert np.sum(row * shell) == pytest.approx(12.0)
    smeared = RdfDescriptor(r_cut=3.0, n_bins=15, smearing=0.05, composition="none")
    smeared = smeared.featurize(make_dataset([bulk("Cu", "fcc", a=3.6)]))
    assert np.sum(smeared[0] * shell) == pytest.approx(12.0, rel=1e-6)


def test_rdf_and_soap_have_one_block_per_element_pair():
    structures = [feo(0)]
    assert len(RdfDescriptor(n_bins=10, composition="none").fit(make_dataset(structures)).feature_labels()) == 3 * 10
    soap = SoapDescriptor(centres="all", composition="none").fit(make_dataset(structures))
    labels = soap.feature_labels()
    assert {label.split("_")[1] for label in labels} == {"O-O", "O-Fe", "Fe-Fe"}
    assert len(labels) == len(set(labels)) == 180
    per_centre = SoapDescriptor(composition="none").fit(make_dataset(structures)).feature_labels()
    assert len(per_centre) == len(set(per_centre)) == 2 * 180  # one block per centre species
    assert {label.split("@")[1] for label in per_centre} == {"O", "Fe"}


def test_species_dependent_labels_need_species_or_fit():
    with pytest.raises(RuntimeError, match="species"):
        SoapDescriptor().feature_labels()
    with pytest.raises(RuntimeError, match="species"):
        RdfDescriptor().feature_labels()
    assert len(RdfDescriptor(species=["O", "Fe"], n_bins=5, composition="none").feature_labels()) == 15
    assert RdfDescriptor(species=["O", "Fe"], n_bins=5, composition="fractions").feature_labels()[15:] == [
        "fraction_O",
        "fraction_Fe",
    ]


def test_neighbor_pairs_match_ase_neighbor_list():
    atoms = feo(5)
    atoms.translate((-5.0, 2.0, 9.0))  # positions outside the cell
    slab = bulk("Si", "diamond", a=5.43, cubic=True).repeat((1, 1, 2))
    slab.center(vacuum=4.0, axis=2)
    slab.pbc = (True, True, False)
    for structure in (atoms, slab):
        ours = sorted(zip(*[np.round(v, 8).tolist() for v in neighbor_pairs(structure, 4.5)], strict=True))
        reference = sorted(zip(*[np.round(v, 8).tolist() for v in neighbor_list("ijd", structure, 4.5)], strict=True))
        assert ours == reference


# --- the pipeline ---------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_dataset() -> Dataset:
    return make_dataset([fe(s) for s in range(4)] + [feo(s) for s in range(4)], name="mixed")


def test_compute_features_standardises_and_reports(mixed_dataset):
    fs = compute_features(mixed_dataset, "paper", cache=False)
    assert isinstance(fs, FeatureSet)
    assert fs.X.dtype == np.float32 and fs.X.shape == (8, len(fs.labels))
    np.testing.assert_allclose(fs.X.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(fs.X.std(axis=0), 1.0, atol=1e-4)
    assert set(fs.labels) | set(fs.dropped) == set(PaperDescriptor().feature_labels())
    assert "MagpieData minimum Number" in fs.labels  # Fe (26) vs FeO (8) varies, so it is kept
    assert fs.descriptor == "paper" and fs.params == PaperDescriptor().params()
    assert fs.dataset_fingerprint == mixed_dataset.fingerprint()
    with pytest.raises(dataclasses.FrozenInstanceError):
        fs.X = None
    with pytest.raises(ValueError):
        fs.X[0, 0] = 1.0


def test_constant_columns_are_dropped_and_reported():
    dataset = make_dataset([fe(s) for s in range(5)])
    fs = compute_features(dataset, "paper", cache=False)
    assert set(magpie_labels()) <= set(fs.dropped)  # one composition: all Magpie columns constant
    assert "n_sites" in fs.dropped and "n_sites" not in fs.labels
    assert set(fs.labels) | set(fs.dropped) == set(PaperDescriptor().feature_labels())
    assert np.all(fs.X.std(axis=0) > 0.5)


def test_standardise_imputes_non_finite_with_column_median():
    raw = np.array([[1.0, np.nan, 5.0, np.nan], [2.0, 4.0, 5.0, np.inf], [3.0, 6.0, 5.0, np.nan], [4.0, 9.0, 5.0, 1.0]])
    X, kept, dropped, imputed = standardise(raw, ["a", "b", "c", "d"])
    # b: NaN -> median(4, 6, 9) = 6; d: every non-finite -> median(1) = 1, so d becomes constant and is dropped
    assert kept == ("a", "b") and dropped == ("c", "d") and imputed == ("b", "d")
    assert X[0, 1] == X[2, 1] != X[1, 1]
    assert X.dtype == np.float32 and np.isfinite(X).all()
    X_all_nan, kept, dropped, imputed = standardise(np.array([[1.0, np.nan], [2.0, np.nan]]), ["x", "y"])
    assert kept == ("x",) and dropped == ("y",) and imputed == ("y",)
    with pytest.raises(ValueError, match="constant"):
        standardise(np.ones((3, 2)), ["x", "y"])


def test_pipeline_reports_imputed_columns(monkeypatch, mixed_dataset):
    original = PaperDescriptor.featurize

    def with_a_hole(self, dataset):
        X = original(self, dataset)
        X[0, self.feature_labels().index("bond_length_std")] = np.nan
        return X

    monkeypatch.setattr(PaperDescriptor, "featurize", with_a_hole)
    fs = compute_features(mixed_dataset, "paper", cache=False)
    assert fs.imputed == ("bond_length_std",)
    assert np.isfinite(fs.X).all()


def test_cache_hit_returns_identical_arrays_without_featurizing(monkeypatch, mixed_dataset):
    first = compute_features(mixed_dataset, "rdf", {"n_bins": 12})

    def must_not_run(self, dataset):
        raise AssertionError("featurize called despite a cache hit")

    monkeypatch.setattr(RdfDescriptor, "featurize", must_not_run)
    second = compute_features(mixed_dataset, "rdf", {"n_bins": 12})
    np.testing.assert_array_equal(first.X, second.X)
    assert first.labels == second.labels and first.dropped == second.dropped
    with pytest.raises(AssertionError, match="cache hit"):
        compute_features(mixed_dataset, "rdf", {"n_bins": 12}, cache=False)


def test_corrupt_cache_is_recomputed(monkeypatch, mixed_dataset):
    first = compute_features(mixed_dataset, "rdf", {"n_bins": 9})
    path = cache_file(mixed_dataset, "rdf", {"n_bins": 9})
    path.write_bytes(b"not a zip file")
    calls = []
    original = RdfDescriptor.featurize
    monkeypatch.setattr(RdfDescriptor, "featurize", lambda self, ds: calls.append(len(ds)) or original(self, ds))
    second = compute_features(mixed_dataset, "rdf", {"n_bins": 9})
    assert calls == [len(mixed_dataset)]
    np.testing.assert_array_equal(first.X, second.X)
    assert read_npz(path)["features"].shape == (8, len(RdfDescriptor(n_bins=9).fit(mixed_dataset).feature_labels()))


def test_cache_keys_follow_dataset_descriptor_params_and_version(monkeypatch, mixed_dataset):
    default = cache_file(mixed_dataset, "rdf")
    assert cache_file(mixed_dataset, "rdf", {"r_cut": 6.0}) == default  # explicit default = implicit default
    assert cache_file(mixed_dataset, "rdf", {"r_cut": 5.0}) != default
    assert cache_file(mixed_dataset, "soap") != default
    assert cache_file(mixed_dataset.subset(range(7)), "rdf") != default
    monkeypatch.setattr(RdfDescriptor, "version", RdfDescriptor.version + 1)
    assert cache_file(mixed_dataset, "rdf") != default


@pytest.mark.parametrize("family", FAMILIES)
def test_features_are_deterministic(family, mixed_dataset):
    a = compute_features(mixed_dataset, family, cache=False)
    b = compute_features(mixed_dataset, family, cache=False)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.labels == b.labels


@pytest.mark.parametrize("family", ["soap", "rdf"])
def test_chunking_reports_progress_and_keeps_layout_of_whole_dataset(monkeypatch, family):
    # the first chunk holds only Fe: the layout must still include O, fixed from the whole dataset
    dataset = make_dataset([fe(s) for s in range(4)] + [feo(s) for s in range(4)])
    whole = DESCRIPTORS.get(family)().featurize(dataset)
    monkeypatch.setattr(features_module, "CHUNK_SIZE", 3)
    seen = []
    raw, labels = features_module.featurize_raw(dataset, family, cache=False, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 8), (3, 8), (6, 8), (8, 8)]
    np.testing.assert_allclose(raw, whole, rtol=1e-12, atol=1e-12)


def test_progress_on_cache_hit(mixed_dataset):
    compute_features(mixed_dataset, "rdf", {"n_bins": 7})
    seen = []
    compute_features(mixed_dataset, "rdf", {"n_bins": 7}, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(8, 8)]


# --- bad input ------------------------------------------------------------------------------------------------------


def test_unknown_descriptor_and_options_are_clear_errors(mixed_dataset):
    with pytest.raises(KeyError, match="known: .*paper"):
        compute_features(mixed_dataset, "nope")
    with pytest.raises(ValueError, match=r"no option\(s\) \['rcut'\].*r_cut"):
        compute_features(mixed_dataset, "soap", {"rcut": 4.0})
    with pytest.raises(ValueError, match="n_max"):
        compute_features(mixed_dataset, "soap", {"n_max": 0}, cache=False)
    with pytest.raises(ValueError, match="bond_tol"):
        compute_features(mixed_dataset, "paper", {"bond_tol": -1}, cache=False)
    with pytest.raises(ValueError, match="n_bins"):
        compute_features(mixed_dataset, "rdf", {"n_bins": 2.5}, cache=False)


@pytest.mark.parametrize("family", FAMILIES)
def test_structure_without_cell_names_the_structure(family):
    molecule = Atoms("FeO", positions=[[0, 0, 0], [0, 0, 1.6]])
    dataset = make_dataset([feo(0), molecule], name="mol")
    with pytest.raises(ValueError, match="mol-1"):
        DESCRIPTORS.get(family)().featurize(dataset)


def test_species_outside_the_fitted_layout_is_an_error():
    descriptor = RdfDescriptor().fit(make_dataset([fe(0)]))
    with pytest.raises(ValueError, match=r"\['O'\]"):
        descriptor.featurize(make_dataset([feo(0)]))


def test_standardise_gives_scikit_learns_z_scores_bit_for_bit(rng):
    from sklearn.preprocessing import StandardScaler

    raw = np.column_stack([rng.normal(3.0, 2.0, 500), rng.lognormal(size=500) * 1e4, rng.uniform(-1e-3, 1e-3, 500),
                           np.repeat(np.arange(5.0), 100)])
    X, kept, _, _ = standardise(raw, ["normal", "lognormal", "tiny", "steps"])
    assert len(kept) == 4
    assert X.tobytes() == StandardScaler().fit_transform(raw).astype(np.float32).tobytes()


# --- composition-aware soap and rdf ---------------------------------------------------------------------------------


def fe_rich(seed: int = 0) -> Atoms:
    """Rocksalt like feo() with one O swapped for Fe: the same structure type, another composition."""
    atoms = feo(seed)
    atoms.numbers[np.flatnonzero(atoms.numbers == 8)[0]] = 26
    return atoms


@pytest.mark.parametrize("family", ["soap", "rdf"])
def test_same_structure_type_other_composition_differs_in_the_composition_block(family):
    descriptor = DESCRIPTORS.get(family)()
    X = descriptor.featurize(make_dataset([feo(0), fe_rich(0)]))
    labels = descriptor.feature_labels()
    block = columns(labels, magpie_labels())
    np.testing.assert_allclose(X[:, block], magpie_table([atoms_composition(feo()), atoms_composition(fe_rich())]))
    assert not np.allclose(X[0, block], X[1, block])


def test_soap_blocks_are_per_centre_species_weighted_by_fraction():
    """Each block is dscribe's inner average over that species' atoms, times the species' fraction."""
    atoms = fe_rich(1)
    descriptor = SoapDescriptor(composition="none").fit(make_dataset([atoms]))
    row = descriptor.featurize(make_dataset([atoms]))[0]
    size = descriptor._soap_.get_number_of_features()
    for k, z in enumerate((8, 26)):  # O then Fe: ordered by atomic number
        centres = np.flatnonzero(atoms.numbers == z)
        expected = descriptor._soap_.create(atoms, centers=centres.tolist()) * len(centres) / len(atoms)
        np.testing.assert_allclose(row[k * size : (k + 1) * size], np.ravel(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("family", ["soap", "rdf"])
def test_one_element_pools_keep_their_structural_features(family):
    """A unary pool: per-species centres are all centres, and every composition column is constant and dropped."""
    dataset = make_dataset([fe(s) for s in range(4)] + [fe(9, a=2.95)])
    old = {"soap": {"centres": "all", "composition": "none"}, "rdf": {"composition": "none"}}[family]
    new, before = compute_features(dataset, family, cache=False), compute_features(dataset, family, old, cache=False)
    np.testing.assert_array_equal(new.X, before.X)
    assert set(magpie_labels()) <= set(new.dropped)
    assert new.labels == before.labels


def test_rdf_smearing_is_cut_at_four_sigma_and_keeps_the_neighbour_count():
    descriptor = RdfDescriptor(r_cut=3.0, n_bins=30, smearing=0.05, composition="none")
    row = descriptor.featurize(make_dataset([bulk("Cu", "fcc", a=3.6, cubic=True)]))[0]
    centres = np.linspace(0.05, 2.95, 30)
    assert np.all(row[np.abs(centres - 3.6 / np.sqrt(2)) > 0.05 * 4 + 0.05] == 0.0)  # no erf tails far away
    shell = 4.0 / 3.0 * np.pi * (np.linspace(0.1, 3.0, 30) ** 3 - np.linspace(0.0, 2.9, 30) ** 3)
    assert np.sum(row * shell) == pytest.approx(12.0, rel=1e-12)


@pytest.mark.parametrize("family", ["soap", "rdf"])
def test_composition_options_are_declared_checked_and_in_the_cache_key(family, mixed_dataset):
    spec = {option.name: option for option in DESCRIPTORS.spec(family).options}
    assert spec["composition"].choices == ("magpie", "fractions", "none") and spec["composition"].help
    with pytest.raises(ValueError, match="composition"):
        DESCRIPTORS.get(family)(composition="oxides").fit(mixed_dataset)
    keys = {cache_file(mixed_dataset, family, {"composition": c}) for c in ("magpie", "fractions", "none")}
    assert len(keys) == 3
    old_params = {k: v for k, v in DESCRIPTORS.get(family)().params().items() if k not in ("composition", "centres")}
    stale = features_module.cache_key(mixed_dataset.fingerprint(), family, old_params, 1)
    assert stale not in cache_file(mixed_dataset, family).name  # version-1 files are never read again


@pytest.mark.slow
def test_tio2_aenet_energy_is_linear_in_the_new_descriptors(shared_datasets):
    """On the real multi-stoichiometry Ti-O set, composition is carried: a ridge fit of energy per atom (5-fold CV)
    on the new rdf is far better than on the old, and per-species soap beats the all-centres average."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold, cross_val_predict

    from alcore.datasets import load_dataset

    dataset = load_dataset("tio2-aenet")
    y = dataset.target("energy_per_atom")

    def cv_mae(descriptor, params):
        X = compute_features(dataset, descriptor, params, cache=False).X
        model = RidgeCV(alphas=np.logspace(-4, 3, 15))
        return float(np.mean(np.abs(cross_val_predict(model, X, y, cv=KFold(5, shuffle=True, random_state=0)) - y)))

    rdf_new, rdf_old = cv_mae("rdf", {}), cv_mae("rdf", {"composition": "none"})
    assert rdf_new < rdf_old / 5, (rdf_new, rdf_old)
    soap_new, soap_old = cv_mae("soap", {}), cv_mae("soap", {"centres": "all", "composition": "none"})
    assert soap_new < soap_old, (soap_new, soap_old)
