"""The Data page's tables and statistics, on a tiny hand-built dataset whose numbers are known."""

from __future__ import annotations

import io

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from alcore.datasets import Dataset, DatasetInfo, list_datasets
from alcore.datasets import summary as S
from alcore.datasets.importers.extxyz import read_extxyz


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    """Si diamond (8 atoms, kind polymorph), two rattled copies (kind rattle) and one SiO2-ish cell without forces."""
    diamond = bulk("Si", "diamond", a=5.43, cubic=True)
    rattled = []
    for seed in (1, 2):
        atoms = diamond.copy()
        atoms.rattle(0.05, seed=seed)
        rattled.append(atoms)
    oxide = Atoms("SiO2", scaled_positions=[[0, 0, 0], [0.3, 0.3, 0], [0.7, 0.7, 0]], cell=[4, 4, 3], pbc=True)
    forces = [np.zeros((8, 3)), np.full((8, 3), 1.0), np.array([[3.0, 4.0, 0.0]] * 8), None]
    return Dataset(
        name="tiny",
        atoms=(diamond, *rattled, oxide),
        targets={"energy_per_atom": np.array([-5.4, -5.3, -5.2, -7.0]),
                 "formation_energy_per_atom": np.array([0.0, 0.1, 0.2, -1.0])},
        ids=("d", "r1", "r2", "ox"),
        forces=tuple(forces),
        kinds=("polymorph", "rattle", "rattle", "oxide"),
    )  # fmt: skip


def test_counts_by_kind_most_common_first_then_by_name(tiny):
    table = S.counts_by_kind(tiny)
    assert list(table.kind) == ["rattle", "oxide", "polymorph"]
    assert list(table.structures) == [2, 1, 1]


def test_counts_by_composition_uses_reduced_formulas_and_folds_the_tail(tiny):
    assert S.reduced_formulas(tiny) == ["Si", "Si", "Si", "O2Si"]
    table = S.counts_by_composition(tiny)
    assert dict(zip(table.composition, table.structures)) == {"Si": 3, "O2Si": 1}
    folded = S.counts_by_composition(tiny, top=1)
    assert list(folded.composition) == ["Si", "other (1 compositions)"] and list(folded.structures) == [3, 1]


def test_energy_and_force_distributions_are_grouped_by_kind(tiny):
    energies = S.energy_per_atom_by_kind(tiny)
    assert list(energies) == ["rattle", "oxide", "polymorph"]
    np.testing.assert_allclose(energies["rattle"], [-5.3, -5.2])
    forces = S.force_norms_by_kind(tiny)
    assert list(forces) == ["rattle", "polymorph"]  # the oxide has no forces
    np.testing.assert_allclose(forces["rattle"], [np.sqrt(3.0)] * 8 + [5.0] * 8)
    np.testing.assert_allclose(forces["polymorph"], np.zeros(8))


def test_datasets_without_kinds_or_forces_still_summarise(tiny):
    bare = Dataset(name="bare", atoms=tiny.atoms[:2], targets={"energy_per_atom": np.array([1.0, 2.0])}, ids=("a", "b"))
    assert list(S.counts_by_kind(bare).kind) == ["unknown"]
    assert S.force_norms_by_kind(bare) == {}
    assert "max_force" not in S.structures_table(bare).columns
    assert "max |F| (eV/Å)" not in S.structure_details(bare, 0)


def test_structures_table_has_one_row_per_structure_with_targets_and_max_force(tiny):
    table = S.structures_table(tiny)
    assert list(table.columns) == [
        "index", "id", "formula", "kind", "n_atoms", "energy_per_atom", "formation_energy_per_atom", "max_force"
    ]  # fmt: skip
    assert list(table.id) == ["d", "r1", "r2", "ox"] and list(table.formula) == ["Si8", "Si8", "Si8", "O2Si"]
    assert list(table.n_atoms) == [8, 8, 8, 3]
    np.testing.assert_allclose(table.max_force[:3], [0.0, np.sqrt(3.0), 5.0])
    assert np.isnan(table.max_force[3])


def test_cell_parameters_and_spacegroup_of_diamond(tiny):
    cell = S.cell_parameters(tiny.atoms[0])
    np.testing.assert_allclose([cell[k] for k in ("a", "b", "c", "alpha", "beta", "gamma")], [5.43] * 3 + [90.0] * 3)
    assert cell["volume"] == pytest.approx(5.43**3)
    assert S.spacegroup_label(tiny.atoms[0]) == "Fd-3m (227)"
    assert S.spacegroup_label(tiny.atoms[1], symprec=1e-4) != "Fd-3m (227)"  # a tight tolerance sees the rattle


def test_spacegroup_of_a_molecule_says_why_there_is_none():
    assert S.spacegroup_label(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])) == "not periodic"


def test_structure_details_are_labelled_with_units(tiny):
    details = S.structure_details(tiny, 2)
    assert details["id"] == "r2" and details["kind"] == "rattle" and details["atoms"] == "8"
    assert details["energy_per_atom (eV/atom)"] == "-5.2000"
    assert details["formation_energy_per_atom (eV/atom)"] == "0.2000"
    assert details["max |F| (eV/Å)"] == "5.000"
    with pytest.raises(IndexError, match="outside 0..3"):
        S.structure_details(tiny, 4)


def test_single_structure_extxyz_reads_back_the_same_structure(tiny, tmp_path):
    data = S.structure_extxyz(tiny, 1)
    path = tmp_path / "one.extxyz"
    path.write_bytes(data)
    back = read_extxyz(path)
    assert back.ids == ("r1",) and back.kinds == ("rattle",)
    np.testing.assert_allclose(back.atoms[0].positions, tiny.atoms[1].positions, atol=1e-7)
    np.testing.assert_allclose(back.targets["formation_energy_per_atom"], [0.1])
    np.testing.assert_allclose(back.forces[0], tiny.forces[1])
    assert len(ase.io.read(io.StringIO(data.decode()), index=":", format="extxyz")) == 1


def test_datasets_table_lists_registered_sets_and_uploads(tiny):
    infos = [
        DatasetInfo("Si", "bundled silicon", True, "/data/Si.extxyz.gz", "extxyz"),
        DatasetInfo("si-mlearn", "real DFT", False, "/shared/si_mlearn", "mlearn"),
    ]
    table = S.datasets_table(infos, {"upload:tiny": tiny}, sizes={"Si": 1708})
    assert list(table.name) == ["Si", "si-mlearn", "upload:tiny"]
    assert list(table.origin) == ["bundled pool", "DFT set (not on this machine)", "upload (this session)"]
    assert table.structures[0] == 1708 and table.structures.isna()[1] and table.structures[2] == 4
    assert table.description[2].startswith("O-Si: 4 structures, 3-8 atoms")


def test_datasets_table_of_the_real_registry_has_every_source():
    infos = list_datasets()
    table = S.datasets_table(infos, {})
    assert list(table.name) == [info.name for info in infos]
    assert {"C", "Si", "Fe", "TiO2"} <= set(table.name[table.origin == "bundled pool"])
