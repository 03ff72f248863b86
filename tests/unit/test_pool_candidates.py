"""Prototype polymorphs and the candidate generator behind the bundled pools."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from alcore.pool_builder.candidates import KIND_WEIGHTS, KINDS, SYSTEMS, generate_candidates, min_distance_ok
from alcore.pool_builder.prototypes import bain_path, prototypes

# Shortest distance allowed for each element pair in a textbook polymorph (Å): covalent C/Si bonds, metallic Fe,
# octahedral Ti-O, and the metal-metal / anion-anion contacts of the Ti oxides.
NN_BOUNDS = {
    ("C", "C"): (1.35, 1.80),
    ("Si", "Si"): (2.25, 2.80),
    ("Fe", "Fe"): (2.35, 2.60),
    ("O", "Ti"): (1.80, 2.15),
    ("Ti", "Ti"): (2.50, 3.50),
    ("O", "O"): (2.20, 4.00),  # long in the dilute suboxides
}
DENSITY_BOUNDS = {"C": (2.0, 4.0), "Si": (2.2, 4.0), "Fe": (7.5, 9.5), "TiO2": (3.5, 6.0)}  # g/cm^3
# Measured densities of ordered ambient phases (g/cm^3), checked to 2 %.
REFERENCE_DENSITY = {
    ("C", "diamond"): 3.515,
    ("C", "graphite-AB"): 2.26,
    ("Si", "diamond"): 2.329,
    ("Fe", "bcc"): 7.874,
    ("TiO2", "rutile"): 4.25,
    ("TiO2", "anatase"): 3.89,
    ("TiO2", "brookite"): 4.12,
    ("TiO2", "Ti-hcp"): 4.506,
}
ALL_PROTOTYPES = [(system, name, s) for system in SYSTEMS for name, s in prototypes(system)]


def _shortest_by_pair(structure) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for site in structure:
        for nb in structure.get_neighbors(site, 4.0):
            key = tuple(sorted((site.specie.symbol, nb.specie.symbol)))
            out[key] = min(out.get(key, np.inf), nb.nn_distance)
    return out


@pytest.mark.parametrize(
    ("system", "name", "structure"), ALL_PROTOTYPES, ids=[f"{s}-{n}" for s, n, _ in ALL_PROTOTYPES]
)
def test_prototype_is_physical(system, name, structure):
    assert {el.symbol for el in structure.composition} <= set(SYSTEMS[system])
    low, high = DENSITY_BOUNDS[system]
    assert low < structure.density < high, f"{name}: density {structure.density:.2f}"
    shortest = _shortest_by_pair(structure)
    assert shortest, f"{name}: no neighbours within 4 Å"
    for pair, d in shortest.items():
        lo, hi = NN_BOUNDS[pair]
        assert lo <= d <= hi, f"{name}: shortest {pair} distance {d:.3f} Å outside [{lo}, {hi}]"
    reference = REFERENCE_DENSITY.get((system, name))
    if reference is not None:
        assert structure.density == pytest.approx(reference, rel=0.02)


def test_prototype_lists_cover_the_required_polymorphs():
    names = {system: [name for name, _ in prototypes(system)] for system in SYSTEMS}
    for system, required in {
        "C": {"diamond", "graphite-AB", "graphite-AA", "graphite-ABC", "lonsdaleite", "bct-C4", "BC8", "simple-cubic"},
        "Si": {"diamond", "beta-tin", "simple-hexagonal", "bcc", "fcc", "hcp", "BC8", "lonsdaleite"},
        "Fe": {"bcc", "fcc", "hcp"},
        "TiO2": {"rutile", "anatase", "brookite", "columbite", "baddeleyite", "cotunnite", "fluorite", "Ti-hcp"},
    }.items():
        assert required <= set(names[system])
        assert len(names[system]) == len(set(names[system]))
    assert sum(name.startswith("bain-") for name in names["Fe"]) == 4
    formulas = {s.composition.reduced_formula for _, s in prototypes("TiO2")}
    assert formulas == {"TiO2", "TiO", "Ti2O3", "Ti3O5", "Ti2O", "Ti3O", "Ti"}


def test_bain_path_runs_from_bcc_to_fcc_at_constant_volume():
    path = bain_path()
    numbers = [SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_number() for _, s in path]
    assert numbers[0] == 229  # Im-3m
    assert numbers[-1] == 225  # Fm-3m
    assert set(numbers[1:-1]) == {139}  # I4/mmm
    volumes = [s.volume / len(s) for _, s in path]
    assert np.allclose(volumes, volumes[0])
    with pytest.raises(ValueError, match="n_points"):
        bain_path(1)


def test_unknown_system_is_rejected():
    with pytest.raises(ValueError, match="unknown system"):
        prototypes("NaCl")


def test_distance_rule_counts_periodic_images():
    assert min_distance_ok(bulk("C", "diamond", a=3.567))
    assert not min_distance_ok(Atoms("C2", positions=[[0, 0, 0], [1.0, 0, 0]], cell=[10, 10, 10], pbc=True))
    assert not min_distance_ok(Atoms("Fe", cell=[1.5, 10, 10], pbc=True))  # 1.5 Å from its own image


# ---- generator (needs pyxtal, a build-time dependency) ----

N_SMALL = {"C": 60, "TiO2": 90}


@pytest.fixture(scope="module")
def generated():
    pytest.importorskip("pyxtal")
    return {system: generate_candidates(system, 0, n_total=n) for system, n in N_SMALL.items()}


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        x.id == y.id
        and x.kind == y.kind
        and x.parent == y.parent
        and x.atoms.get_chemical_symbols() == y.atoms.get_chemical_symbols()
        and np.array_equal(x.atoms.positions, y.atoms.positions)
        and np.array_equal(x.atoms.cell.array, y.atoms.cell.array)
        for x, y in zip(a, b, strict=True)
    )


def test_generation_is_deterministic_and_seed_dependent(generated):
    assert _same(generated["C"], generate_candidates("C", 0, n_total=N_SMALL["C"]))
    other = generate_candidates("C", 1, n_total=N_SMALL["C"])
    randoms = [c for c in generated["C"] if c.kind == "random"]
    other_randoms = [c for c in other if c.kind == "random"]
    assert not any(np.array_equal(a.atoms.positions, b.atoms.positions) for a, b in zip(randoms, other_randoms))


@pytest.mark.parametrize("system", list(N_SMALL))
def test_candidates_respect_counts_ids_and_geometry(generated, system):
    candidates = generated[system]
    n_total = N_SMALL[system]
    assert len(candidates) == n_total
    ids = [c.id for c in candidates]
    assert len(set(ids)) == len(ids)
    counts = collections.Counter(c.kind for c in candidates)
    assert set(counts) == set(KINDS)
    n_proto = len(prototypes(system))
    assert counts["polymorph"] == n_proto
    weight_sum = sum(KIND_WEIGHTS.values())
    for kind, weight in KIND_WEIGHTS.items():
        assert abs(counts[kind] - (n_total - n_proto) * weight / weight_sum) <= 1
    for c in candidates:
        assert len(c.atoms) <= 32
        assert all(c.atoms.pbc)
        assert set(c.atoms.get_chemical_symbols()) <= set(SYSTEMS[system])
        assert min_distance_ok(c.atoms), c.id


@pytest.mark.parametrize("system", list(N_SMALL))
def test_perturbations_point_to_their_parents(generated, system):
    by_id = {c.id: c for c in generated[system]}
    for c in generated[system]:
        if c.kind in ("polymorph", "random"):
            continue
        parent = by_id[c.parent]
        assert parent.kind in ("polymorph", "random")
        per_atom = c.atoms.get_volume() / len(c.atoms)
        parent_per_atom = parent.atoms.get_volume() / len(parent.atoms)
        if c.kind == "rattle":
            assert len(c.atoms) % len(parent.atoms) == 0
            assert per_atom == pytest.approx(parent_per_atom)
        elif c.kind == "strain":
            assert 0.92**3 * 0.9 < per_atom / parent_per_atom < 1.08**3 * 1.1
        else:  # vacancy: k copies of the parent minus one or two atoms (only O when the parent is an oxide)
            n = len(parent.atoms)
            options = [(r, (len(c.atoms) + r) // n) for r in (1, 2) if (len(c.atoms) + r) % n == 0]
            assert options, c.id
            symbols, parent_symbols = c.atoms.get_chemical_symbols(), parent.atoms.get_chemical_symbols()
            if system == "TiO2" and "O" in parent_symbols:
                assert any(
                    symbols.count("Ti") == k * parent_symbols.count("Ti")
                    and symbols.count("O") == k * parent_symbols.count("O") - r
                    for r, k in options
                ), c.id


def test_ti_o_pool_spans_several_stoichiometries(generated):
    candidates = generated["TiO2"]
    random_formulas = {c.atoms.get_chemical_formula(empirical=True) for c in candidates if c.kind == "random"}
    assert len(random_formulas) >= 3
    assert "O2Ti" in random_formulas
    vacancies = [c for c in candidates if c.kind == "vacancy"]
    symbols = [c.atoms.get_chemical_symbols() for c in vacancies]
    assert any(s.count("O") < 2 * s.count("Ti") for s in symbols)


def test_max_atoms_is_respected_and_large_prototypes_are_left_out():
    pytest.importorskip("pyxtal")
    candidates = generate_candidates("TiO2", 3, n_total=40, max_atoms=12)
    assert all(len(c.atoms) <= 12 for c in candidates)
    names = {c.parent for c in candidates if c.kind == "polymorph"}
    assert "rutile" in names and "brookite" not in names  # brookite has 24 atoms


def test_pyxtal_is_left_as_found():
    pyxtal_operations = pytest.importorskip("pyxtal.operations")
    before = pyxtal_operations.Tol_matrix
    generate_candidates("Si", 0, n_total=20)
    assert pyxtal_operations.Tol_matrix is before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"system": "Cu", "seed": 0}, "unknown system"),
        ({"system": "C", "seed": -1}, "seed"),
        ({"system": "C", "seed": 0, "n_total": 3}, "smaller than"),
        ({"system": "TiO2", "seed": 0, "max_atoms": 1}, "max_atoms"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_candidates(**kwargs)
