"""Data page figures: the structure viewer draws every atom once with its element's colour and the 12 cell edges;
bars and histograms show what the tables hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase import Atoms
from ase.build import bulk
from ase.data import covalent_radii
from ase.data.colors import jmol_colors

from ui.figures.data import (
    ATOM_SIZE_PER_ANGSTROM,
    cell_edges,
    counts_bar,
    energy_histogram,
    force_histogram,
    kind_colours,
    structure_figure,
)


def _segments(xs, ys, zs) -> list[tuple[np.ndarray, np.ndarray]]:
    points = list(zip(xs, ys, zs))
    return [(np.array(points[i]), np.array(points[i + 1])) for i in range(0, len(points), 3)]


def test_cell_edges_are_the_twelve_edges_of_the_cell():
    cell = np.array([[4.0, 0, 0], [1.0, 3.0, 0], [0.5, 0.5, 5.0]])
    xs, ys, zs = cell_edges(cell)
    segments = _segments(xs, ys, zs)
    assert len(segments) == 12 and xs[2::3] == [None] * 12
    vectors = sorted(tuple(np.round(end - start, 6)) for start, end in segments)
    assert vectors == sorted([tuple(row) for row in cell] * 4)  # each lattice vector appears as 4 parallel edges
    corners = {tuple(np.round(p, 6)) for seg in segments for p in seg}
    assert len(corners) == 8 and tuple(np.round(cell.sum(axis=0), 6)) in corners


def test_structure_figure_has_one_trace_per_element_and_every_atom_once():
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    atoms *= (1, 1, 2)
    fig = structure_figure(atoms, "NaCl")
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [t.name for t in markers] == ["Na", "Cl"]
    assert sum(len(t.x) for t in markers) == len(atoms) == 16
    na = markers[0]
    np.testing.assert_allclose(np.c_[na.x, na.y, na.z], atoms.positions[atoms.numbers == 11])
    assert list(na.customdata) == list(np.flatnonzero(atoms.numbers == 11))
    assert na.marker.size == pytest.approx(ATOM_SIZE_PER_ANGSTROM * covalent_radii[11])
    assert na.marker.color == "rgb({},{},{})".format(*(int(round(255 * c)) for c in jmol_colors[11]))
    assert "Na" in na.hovertemplate and "%{x:.3f}" in na.hovertemplate
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 1 and len(lines[0].x) == 12 * 3
    assert fig.layout.scene.aspectmode == "data"


def test_a_molecule_without_a_cell_has_no_cell_trace():
    fig = structure_figure(Atoms("H2O", positions=[[0, 0, 0], [0.76, 0.59, 0], [-0.76, 0.59, 0]]))
    assert [t.name for t in fig.data] == ["H", "O"]
    assert sum(len(t.x) for t in fig.data) == 3


def test_counts_bar_shows_the_table_and_colours_by_kind():
    table = pd.DataFrame({"kind": ["rattle", "strain"], "structures": [5, 2]})
    colours = kind_colours(["rattle", "strain"])
    fig = counts_bar(table, "kind", "By kind", colours)
    (bar,) = fig.data
    assert list(bar.x) == ["rattle", "strain"] and list(bar.y) == [5, 2]
    assert list(bar.marker.color) == [colours["rattle"], colours["strain"]] and colours["rattle"] != colours["strain"]
    assert fig.layout.title.text == "By kind"


def test_histograms_stack_one_trace_per_kind_on_shared_bins():
    energies = {"rattle": np.array([-5.3, -5.2, -5.1]), "strain": np.array([-4.0])}
    fig = energy_histogram(energies)
    assert [t.name for t in fig.data] == ["rattle (3)", "strain (1)"]
    assert fig.data[0].xbins == fig.data[1].xbins and fig.layout.barmode == "stack"
    assert fig.data[0].xbins.start == pytest.approx(-5.3) and fig.data[0].xbins.end > -4.0
    assert "eV/atom" in fig.layout.xaxis.title.text


def test_force_histogram_uses_a_log_count_axis_and_handles_a_single_value():
    fig = force_histogram({"polymorph": np.zeros(4)})
    assert fig.layout.yaxis.type == "log" and len(fig.data) == 1
    assert fig.data[0].xbins.size > 0
    assert len(force_histogram({}).data) == 0
