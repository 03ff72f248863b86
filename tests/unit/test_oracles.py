"""The oracle contract, for every registered oracle, and the EMT ase-calculator oracle against EMT itself."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from alcore.oracles import (
    ORACLES,
    PROPERTIES,
    Labels,
    OracleError,
    labelled_by,
    labels_from_json,
    labels_to_json,
    make_oracle,
)
from alcore.structures import Structures
from tests.synthetic import small_cu_al_dataset


@pytest.fixture(scope="module")
def dataset():
    return small_cu_al_dataset(12)


@pytest.mark.parametrize("name", list(ORACLES))
def test_every_registered_oracle_keeps_the_contract(name, dataset):
    oracle = make_oracle(name, {}, target="energy_per_atom", dataset=dataset)
    assert set(oracle.provides) <= set(PROPERTIES)
    assert getattr(type(oracle), "targets", None) is None or "energy_per_atom" in type(oracle).targets
    structures = Structures.from_dataset(dataset).take([5, 0, 3])
    labels = labelled_by(oracle, structures)
    assert labels.indices.tolist() == [5, 0, 3]
    assert labels.target.shape == (3,) and np.all(np.isfinite(labels.target))
    if "forces" in oracle.provides:
        assert [f.shape for f in labels.forces] == [(len(s.atoms), 3) for s in structures]
    if "stress" in oracle.provides:
        assert all(s.shape == (6,) for s in labels.stress)
    # deterministic and per structure: asking again, in another order, gives the same numbers
    again = labelled_by(oracle, list(reversed(structures)))
    np.testing.assert_array_equal(again.target[::-1], labels.target)
    assert labelled_by(oracle, []).indices.size == 0
    # a stored copy reads back exactly
    for restored in (Labels.from_arrays(labels.to_arrays("x_"), "x_"), labels_from_json(labels_to_json(labels))):
        assert restored.same(labels)


@pytest.mark.parametrize("name", [n for n in ORACLES if getattr(ORACLES.get(n), "targets", None) is not None])
def test_an_oracle_refuses_a_target_it_cannot_provide(name, dataset):
    with pytest.raises(ValueError, match=f"oracle {name!r} cannot provide the target 'formation_energy_per_atom'"):
        make_oracle(name, {}, target="formation_energy_per_atom", dataset=dataset)


def _cells():
    cu = bulk("Cu", "fcc", a=3.61, cubic=True)
    al = bulk("Al", "fcc", a=4.05)
    rattled = bulk("Cu", "fcc", a=3.7).repeat((2, 1, 1))
    rattled.rattle(0.05, seed=3)
    return [cu, al, rattled]


def test_emt_oracle_gives_what_emt_gives():
    from alcore.datasets import Dataset

    cells = _cells()
    data = Dataset("emt", tuple(cells), {"energy_per_atom": np.zeros(3)}, ("cu", "al", "cu2"))
    oracle = make_oracle("ase-calculator", {"calculator": "emt"}, target="energy_per_atom", dataset=data)
    labels = labelled_by(oracle, Structures.from_dataset(data).take([0, 1, 2]))
    for k, atoms in enumerate(cells):
        direct = atoms.copy()
        direct.calc = EMT()
        assert labels.target[k] == direct.get_potential_energy() / len(direct)
        assert labels.energy_per_atom[k] == labels.target[k]
        np.testing.assert_array_equal(labels.forces[k], direct.get_forces())
        np.testing.assert_array_equal(labels.stress[k], direct.get_stress(voigt=True))
        assert atoms.calc is None  # the dataset's atoms are never touched
    assert np.abs(labels.forces[2]).max() > 0.01  # the rattled cell really has forces


def test_bad_oracle_options_are_refused_with_the_oracle_name():
    with pytest.raises(KeyError, match="unknown ASE calculator 'nope'"):
        make_oracle("ase-calculator", {"calculator": "nope"}, target="energy_per_atom")
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        make_oracle("ase-calculator", {"timeout": -1}, target="energy_per_atom")
    with pytest.raises(ValueError, match="oracle 'dataset': bad options"):
        make_oracle("dataset", {"colour": "red"}, target="energy_per_atom", dataset=small_cu_al_dataset(4))
    with pytest.raises(KeyError, match="unknown oracle 'dft'"):
        make_oracle("dft", {}, target="energy_per_atom")


def test_an_oracle_answer_that_does_not_fit_is_an_oracle_error(dataset):
    class Wrong:
        name, provides = "wrong", ("energy",)

        def label(self, structures):
            return Labels([s.index for s in structures][::-1], [0.0] * len(structures))

    with pytest.raises(OracleError, match="one Labels entry per structure"):
        labelled_by(Wrong(), Structures.from_dataset(dataset).take([1, 2]))


@pytest.mark.slow
def test_chgnet_oracle_labels_two_tiny_si_cells():
    pytest.importorskip("chgnet")
    import torch

    from alcore.datasets import Dataset

    threads = torch.get_num_threads()
    cells = [bulk("Si", "diamond", a=5.43), bulk("Si", "diamond", a=5.6)]
    data = Dataset("si", tuple(cells), {"energy_per_atom": np.zeros(2)}, ("si0", "si1"))
    oracle = make_oracle("ase-calculator", {"calculator": "chgnet"}, target="energy_per_atom", dataset=data)
    labels = labelled_by(oracle, Structures.from_dataset(data).take([0, 1]))
    assert torch.get_num_threads() == threads  # the shared model leaves the committees' threads alone
    assert np.all((-6.0 < labels.target) & (labels.target < -4.5))  # CHGNet's diamond Si is about -5.4 eV/atom
    assert labels.target[0] < labels.target[1]  # the expanded cell is higher in energy
    assert np.abs(labels.forces[0]).max() < 1e-3  # diamond has no forces by symmetry
    assert labels.stress[1][0] > labels.stress[0][0]  # stretched: more tensile (ASE sign, positive = tensile)
