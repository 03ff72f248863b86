"""The Explore page's round charts as a registry: adding a chart is one builder function and one registration.

The page draws each ``section`` as a row of columns, charts in registration order, each keyed by its name. Builders
are pure functions of :class:`RoundData` (what one round of one run shows), so tests call them without Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import plotly.graph_objects as go

from alcore.explain import calibration
from alcore.loop import RoundRecord, RunState
from alcore.registry import Registry
from alcore.units import Units, units_for
from ui.figures import explore as figs


@dataclass(frozen=True)
class RoundData:
    """One round of the run shown, and what the charts compare it with."""

    state: RunState
    record: RoundRecord
    previous: RoundRecord | None
    y_test: np.ndarray
    runs: dict[str, RunState]  # this session's runs on the same data (for the learning curves)
    baseline: RunState | None  # random from the same initial set
    active: str
    units: Units

    @classmethod
    def of(cls, state: RunState, round_index: int, runs: dict[str, RunState], baseline: RunState | None,
           active: str) -> "RoundData":
        problem = state.problem
        return cls(state, state.rounds[round_index], state.rounds[round_index - 1] if round_index > 0 else None,
                   problem.y[problem.split.test], runs, baseline, active, units_for(state.config.target))


@dataclass(frozen=True)
class ExploreChart:
    section: str  # "" for the row under the map, else a subheader
    build: Callable[[RoundData], go.Figure]


EXPLORE_CHARTS: Registry[ExploreChart] = Registry("Explore chart")


def chart(name: str, section: str = "", **fields) -> Callable[[Callable[[RoundData], go.Figure]], Callable]:
    """Decorator: register ``build(data) -> Figure`` as the Explore chart ``name`` in ``section``."""

    def register(build: Callable[[RoundData], go.Figure]) -> Callable[[RoundData], go.Figure]:
        EXPLORE_CHARTS.add(name, ExploreChart(section, build), **fields)
        return build

    return register


def sections() -> dict[str, list[str]]:
    """section -> chart names, in registration order."""
    out: dict[str, list[str]] = {}
    for name in EXPLORE_CHARTS:
        out.setdefault(EXPLORE_CHARTS.get(name).section, []).append(name)
    return out


@chart("curve", display_name="MAE vs number of labels")
def _curve(d: RoundData) -> go.Figure:
    return figs.learning_curves(d.runs, d.baseline, d.active, d.record.n_labels, units=d.units)


@chart("parity", display_name="Parity (test split)")
def _parity(d: RoundData) -> go.Figure:
    return figs.parity(d.record, d.y_test, units=d.units)


@chart("std_hist", "Live uncertainty", display_name="Pool uncertainty")
def _std_hist(d: RoundData) -> go.Figure:
    return figs.std_histogram(d.record, d.previous, units=d.units)


@chart("std_error", "Live uncertainty", display_name="Std vs error (test split)")
def _std_error(d: RoundData) -> go.Figure:
    return figs.std_vs_error(d.record, d.y_test, units=d.units)


@chart("calibration", "Live uncertainty", display_name="Calibration (test split)")
def _calibration(d: RoundData) -> go.Figure:
    return figs.calibration_plot(calibration(d.record.test_std, d.record.test_mean - d.y_test), units=d.units)
