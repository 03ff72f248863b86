"""Explore's charts, the Learn figures and the CLI round table label errors with ``display_unit(target)``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alcore.cli import _print_rounds
from alcore.comparison.grid import run_grid
from alcore.lessons import committee_snapshot, disagreement_bins
from alcore.loop import run
from alcore.units import units_for
from tests.synthetic import synthetic_problem
from ui.explore_charts import EXPLORE_CHARTS, RoundData
from ui.figures import learn as learn_figs

TARGETS = ["band_gap", "energy_per_atom"]


@pytest.fixture(scope="module")
def runs():
    out = {}
    for target in TARGETS:
        config, problem = synthetic_problem(budget=40, target=target)
        out[target] = run(config, problem)
    return out


def _assert_units(text: str, target: str) -> None:
    """The target's own units are named, and a target that is not per atom never says (m)eV/atom."""
    units = units_for(target)
    assert f"({units.error})" in text or f"({units.value})" in text
    if not target.endswith("_per_atom"):
        assert "eV/atom" not in text


def _json(fig) -> str:
    return json.dumps(fig.to_plotly_json(), default=str)


@pytest.mark.parametrize("target", TARGETS)
def test_every_explore_chart_uses_the_targets_unit(runs, target):
    state = runs[target]
    data = RoundData.of(state, len(state.rounds) - 1, {"run": state}, state, "run")
    assert data.units == units_for(target)
    for name in EXPLORE_CHARTS:
        _assert_units(_json(EXPLORE_CHARTS.get(name).build(data)), target)


@pytest.mark.parametrize("target", TARGETS)
def test_learn_figures_use_the_targets_unit(runs, target):
    state = runs[target]
    units = units_for(target)
    snapshot = committee_snapshot(state.problem, state.config)
    figures = [
        learn_figs.members_vs_truth_figure(snapshot, units),
        learn_figs.disagreement_vs_error_figure(snapshot, disagreement_bins(snapshot.test_std, snapshot.abs_error),
                                                units),
        learn_figs.disagreement_map_figure(np.zeros((len(state.problem.y), 2)), snapshot, units),
        learn_figs.learning_curve_figure(run_grid(state.config, state.problem, ["random"], [0], n_jobs=1), units),
    ]
    for fig in figures:
        _assert_units(_json(fig), target)


@pytest.mark.parametrize("target", TARGETS)
def test_the_cli_round_table_names_the_unit(runs, target, capsys):
    state = runs[target]
    _print_rounds(state.rounds, target)
    out = capsys.readouterr().out
    units = units_for(target)
    assert f"in {units.error}" in out and ("meV/atom" in out) == (units.error == "meV/atom")
    first = out.splitlines()[2].split()
    assert float(first[1]) == pytest.approx(state.rounds[0].mae * units.scale, rel=1e-4)
