"""The recipes in docs/extending.md really work: their code is executed here."""

import re
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

import alcore.oracles
import alcore.oracles.base
from alcore.registry import Registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def _section_code(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, f"no python block in the section {title!r} of {DOC}"
    return "\n".join(blocks)


@pytest.fixture
def oracles(monkeypatch):
    """A copy of the oracle registry for this test, so the example's registration does not outlive it."""
    copy = Registry("oracle")
    for name in alcore.oracles.ORACLES:
        copy.add(name, alcore.oracles.ORACLES.get(name))
    monkeypatch.setattr(alcore.oracles, "ORACLES", copy)
    monkeypatch.setattr(alcore.oracles.base, "ORACLES", copy)
    return copy


def _argon(n: int):
    from alcore.datasets import Dataset

    rng = np.random.default_rng(0)
    cells = []
    for i in range(n):
        a = bulk("Ar", "fcc", a=5.26 * (1 + rng.uniform(-0.03, 0.03)), cubic=True)
        a.rattle(0.05, seed=i)
        cells.append(a)
    return Dataset("argon", tuple(cells), {"energy_per_atom": np.zeros(n)}, tuple(f"ar{i}" for i in range(n)))


def test_the_oracle_recipe_registers_an_oracle_that_runs(oracles):
    from alcore.config import RunConfig
    from alcore.loop import prepare_dataset, run
    from alcore.oracles import labelled_by, make_oracle
    from alcore.structures import Structures
    from tests.synthetic import FAST_COMMITTEE

    exec(compile(_section_code("An oracle"), str(DOC), "exec"), {})
    assert "argon-lj" in oracles
    data = _argon(30)
    structures = Structures.from_dataset(data).take([3, 1])
    mine = labelled_by(make_oracle("argon-lj", {}, target="energy_per_atom", dataset=data), structures)
    builtin = make_oracle("ase-calculator", {"calculator": "lj", "sigma": 3.4, "epsilon": 0.0103, "rc": 8.5},
                          target="energy_per_atom")  # fmt: skip
    assert mine.same(labelled_by(builtin, structures))  # as the recipe says: the same numbers
    assert mine.target[0] < 0  # argon near its lattice constant is bound
    with pytest.raises(ValueError, match="'argon-lj' cannot provide the target"):
        make_oracle("argon-lj", {}, target="formation_energy_per_atom", dataset=data)

    config = RunConfig(dataset="argon", descriptor="rdf", oracle="argon-lj", oracle_params={"epsilon": 0.0104},
                       committee_params=FAST_COMMITTEE, n_initial=8, batch_size=4, budget=16)  # fmt: skip
    state = run(config, prepare_dataset(config, data))
    assert state.rounds[-1].n_labels == 16 and np.isfinite(state.rounds[-1].mae)
    assert np.all(state.y_labelled < 0)


def test_the_calculator_table_takes_any_ase_calculator_class(monkeypatch):
    from ase.calculators.lj import LennardJones

    import alcore.oracles.calculator as calculator
    from alcore.oracles import labelled_by, make_oracle
    from alcore.structures import Structures

    table = Registry("ASE calculator")
    for name in calculator.CALCULATORS:
        table.add(name, calculator.CALCULATORS.get(name))
    monkeypatch.setattr(calculator, "CALCULATORS", table)
    table.add("my-potential", LennardJones)  # as the recipe says
    data = _argon(3)
    mine = make_oracle("ase-calculator", {"calculator": "my-potential", "sigma": 3.4}, target="energy_per_atom")
    builtin = make_oracle("ase-calculator", {"calculator": "lj", "sigma": 3.4}, target="energy_per_atom")
    structures = Structures.from_dataset(data).take([0, 2])
    assert labelled_by(mine, structures).same(labelled_by(builtin, structures))
