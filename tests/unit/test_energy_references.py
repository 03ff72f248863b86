"""Energy references: compositions, the three references, ``auto``, the loop's use of them, configs and the CLI."""

import json

import numpy as np
import pytest
from ase.build import bulk

from alcore.cli import main
from alcore.config import RunConfig
from alcore.datasets import Dataset, write_extxyz
from alcore.loop import prepare_dataset, run
from alcore.references import (
    Composition,
    FittedReference,
    check_energies,
    make_reference,
    parse_energies,
    read_energies,
    resolve,
)
from alcore.runs import load_run, save_run
from tests.synthetic import FAST_COMMITTEE

SI, C = -5.4, -9.1  # per-element energies of the fake alloy (eV/atom)
PROTOCOL = {"committee_params": FAST_COMMITTEE, "n_initial": 20, "batch_size": 10, "budget": 50, "descriptor": "rdf"}


def alloy(n: int = 90, shift: dict[str, float] | None = None, one_element: bool = False) -> Dataset:
    """Diamond Si-C cells of varying composition; energy = composition baseline + a smooth strain term."""
    rng = np.random.default_rng(0)
    shift = shift or {}
    atoms, energies = [], []
    for i in range(n):
        a = bulk("Si", "diamond", a=5.0, cubic=True)
        n_c = 0 if one_element else int(rng.integers(0, 9))
        a.symbols[:n_c] = "C"
        strain = 1 + rng.uniform(-0.05, 0.05)
        a.set_cell(a.cell * strain, scale_atoms=True)
        a.rattle(0.02, seed=i)
        x_c = n_c / 8
        base = (1 - x_c) * (SI + shift.get("Si", 0.0)) + x_c * (C + shift.get("C", 0.0))
        atoms.append(a)
        energies.append(base + 3.0 * (strain - 1) ** 2 + 0.2 * x_c * (1 - x_c))
    return Dataset("alloy", tuple(atoms), {"energy_per_atom": np.array(energies)}, tuple(f"s{i}" for i in range(n)))


def final(config: RunConfig, dataset: Dataset):
    state = run(config, prepare_dataset(config, dataset))
    return state


def test_composition_fractions_do_not_depend_on_cell_size():
    comp = Composition.from_symbols([["Fe", "O"], ["Fe", "Fe", "O", "O"], ["O", "O", "O", "Fe"]])
    assert comp.elements == ("Fe", "O")
    np.testing.assert_allclose(comp.fractions, [[0.5, 0.5], [0.5, 0.5], [0.25, 0.75]])
    np.testing.assert_allclose(comp.take([2, 0]).fractions, [[0.25, 0.75], [0.5, 0.5]])


def test_fitted_reference_recovers_linear_element_energies():
    comp = Composition.from_symbols([["Ti", "O", "O"], ["Ti", "O"], ["Ti", "Ti", "O"], ["Ti"]])
    y = comp.fractions @ np.array([-432.5, -1604.6])  # columns: O, Ti
    ref = FittedReference().fit(comp, y)
    assert ref.energies_ == pytest.approx({"O": -432.5, "Ti": -1604.6})
    np.testing.assert_allclose(ref.predict(comp), y)


def test_auto_is_fitted_only_for_energies_of_several_elements():
    two = Composition.from_symbols([["Si", "C"]])
    one = Composition.from_symbols([["Si"]])
    assert resolve(RunConfig(), two) == "fitted"
    assert resolve(RunConfig(), one) == "none"
    assert resolve(RunConfig(target="band_gap"), two) == "none"
    assert resolve(RunConfig(), None) == "none"  # synthetic problems have no atoms
    with pytest.raises(ValueError, match="needs structures"):
        resolve(RunConfig(energy_reference="fitted"), None)
    given = RunConfig(target="band_gap", energy_reference="given", energy_reference_params={"energies": {"Si": 1.0}})
    with pytest.raises(ValueError, match="band_gap"):
        resolve(given, two)


def test_given_reference_names_a_missing_element():
    config = RunConfig(energy_reference="given", energy_reference_params={"energies": {"Si": -5.4}})
    comp = Composition.from_symbols([["Si", "C"]])
    with pytest.raises(ValueError, match="no value for C"):
        make_reference(config, resolve(config, comp)).fit(comp, np.zeros(1))


@pytest.mark.parametrize(("changes", "message"), [
    ({"energy_reference": "formation"}, "unknown energy reference 'formation'"),
    ({"energy_reference": "given"}, "needs energies"),
    ({"energy_reference": "given", "energy_reference_params": {"energies": {"Xx": 1.0}}}, "'Xx' is not an element"),
    ({"energy_reference": "given", "energy_reference_params": {"energies": {"O": float("nan")}}}, "finite"),
    ({"energy_reference_params": {"energies": {"O": 1.0}}}, "only for the 'given'"),
    ({"energy_reference": "fitted", "energy_reference_params": {"scale": 2}}, "no option"),
])  # fmt: skip
def test_bad_reference_settings_are_refused_when_the_config_is_made(changes, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**changes)


def test_energies_from_text_and_files(tmp_path):
    assert parse_energies("Ti=-1604.6, O=-432.5") == {"Ti": -1604.6, "O": -432.5}
    with pytest.raises(ValueError, match="ELEMENT=ENERGY"):
        parse_energies("Ti -1604.6")
    (tmp_path / "ref.json").write_text(json.dumps({"Ti": -1604.6, "O": -432.5}))
    assert read_energies(str(tmp_path / "ref.json")) == {"Ti": -1604.6, "O": -432.5}
    (tmp_path / "ref.csv").write_text("element,energy\n# isolated atoms\nTi,-1604.6\nO,-432.5\n")
    assert read_energies(str(tmp_path / "ref.csv")) == {"Ti": -1604.6, "O": -432.5}
    (tmp_path / "bad.csv").write_text("element,energy\nTi,abc\n")
    with pytest.raises(ValueError, match=r"bad\.csv"):
        read_energies(str(tmp_path / "bad.csv"))
    with pytest.raises(ValueError, match=r"missing\.json: cannot read"):
        read_energies(str(tmp_path / "missing.json"))
    assert check_energies({"Si": 1}) == {"Si": 1.0}


def test_fitted_reference_makes_a_run_blind_to_per_element_shifts():
    """Isolated-atom vs elemental vs another code's scale: a per-element shift changes nothing with ``fitted``."""
    config = RunConfig(dataset="alloy", strategy="uncertainty", energy_reference="fitted", **PROTOCOL)
    a = final(config, alloy())
    b = final(config, alloy(shift={"Si": 100.0, "C": -50.0}))
    for x, y in zip(a.rounds, b.rounds, strict=True):
        assert np.array_equal(x.labelled, y.labelled)
        assert x.mae == pytest.approx(y.mae, rel=1e-3, abs=1e-5)
    absolute = final(config.replace(energy_reference="none"), alloy(shift={"Si": 100.0, "C": -50.0}))
    assert absolute.rounds[-1].mae > 5 * a.rounds[-1].mae  # the committee cannot learn a 150 eV/atom spread well


def test_given_reference_equals_learning_the_referenced_target():
    energies = {"Si": SI, "C": C}
    given = RunConfig(dataset="alloy", strategy="diversity", energy_reference="given",
                      energy_reference_params={"energies": energies}, **PROTOCOL)  # fmt: skip
    shifted = alloy(shift={"Si": -SI, "C": -C})  # the same data with the element energies already removed
    a = final(given, alloy())
    b = final(given.replace(energy_reference="none", energy_reference_params={}), shifted)
    for x, y in zip(a.rounds, b.rounds, strict=True):
        assert np.array_equal(x.selected, y.selected)
        assert x.mae == pytest.approx(y.mae, rel=1e-3, abs=1e-5)


def test_the_reference_is_fitted_on_the_labelled_set_only():
    """Test-split values never reach the model: changing them changes the metrics, not one prediction."""
    config = RunConfig(dataset="alloy", strategy="uncertainty", energy_reference="fitted", **PROTOCOL)
    ds = alloy()
    problem = prepare_dataset(config, ds)
    test = problem.split.test
    energies = ds.energy_per_atom.copy()
    energies[test] += 1000.0
    other = Dataset("alloy", ds.atoms, {"energy_per_atom": energies}, ds.ids)
    a, b = run(config, problem, max_rounds=2), run(config, prepare_dataset(config, other), max_rounds=2)
    for x, y in zip(a.rounds, b.rounds, strict=True):
        np.testing.assert_array_equal(x.pool_mean, y.pool_mean)
        np.testing.assert_array_equal(x.selected, y.selected)
    assert b.rounds[0].mae > a.rounds[0].mae + 900


def test_one_element_auto_is_bit_identical_to_none():
    ds = alloy(one_element=True)
    config = RunConfig(dataset="alloy", strategy="random", **PROTOCOL)
    a, b = final(config, ds), final(config.replace(energy_reference="none"), ds)
    assert all(x.same_results(y) for x, y in zip(a.rounds, b.rounds, strict=True))


def test_saved_runs_keep_their_reference_and_old_files_mean_none(tmp_path):
    config = RunConfig(dataset="alloy", strategy="random", energy_reference="given",
                       energy_reference_params={"energies": {"Si": SI, "C": C}}, **PROTOCOL)  # fmt: skip
    state = run(config, prepare_dataset(config, alloy()), max_rounds=1)
    path = save_run(state, tmp_path / "run.json")
    assert load_run(path).config == config
    assert RunConfig.from_saved({"dataset": "Si"}).energy_reference == "none"  # written before references existed
    assert RunConfig.from_dict({"dataset": "Si"}).energy_reference == "auto"


def test_cli_takes_a_reference_and_reports_what_it_used(tmp_path, capsys):
    path = write_extxyz(alloy(), tmp_path / "alloy.extxyz")
    args = ["run", "--dataset", str(path), "--descriptor", "rdf", "--initial", "20", "--batch", "10", "--budget", "30",
            "--members", "3", "--epochs", "30", "-q"]  # fmt: skip
    assert main(args) == 0
    assert "energy reference: fitted (auto: 2 elements, target energy_per_atom)" in capsys.readouterr().out
    (tmp_path / "ref.json").write_text(json.dumps({"Si": SI, "C": C}))
    saved = tmp_path / "run.json"
    assert main([*args, "--reference-energies", str(tmp_path / "ref.json"), "--save", str(saved)]) == 0
    assert "energy reference: given" in capsys.readouterr().out
    doc = json.loads(saved.read_text())
    assert doc["config"]["energy_reference"] == "given"
    assert doc["config"]["energy_reference_params"] == {"energies": {"Si": SI, "C": C}}
    assert main([*args, "--energy-reference", "none", "--reference-energies", "Si=1"]) == 2
    assert "goes with --energy-reference given" in capsys.readouterr().err
