"""Figures of the Data page: what a dataset holds (counts, energy and force distributions) and one structure in 3-D.

Pure functions of pandas tables / numpy arrays / ``ase.Atoms``; each kind keeps one colour across the page's charts.
"""

from __future__ import annotations

from itertools import product
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from ase import Atoms
from ase.data import covalent_radii
from ase.data.colors import jmol_colors
from plotly.colors import qualitative

from ui.figures.style import AXIS_PX, ENERGY_UNIT, tidy

FORCE_UNIT = "eV/Å"
ATOM_SIZE_PER_ANGSTROM = 16.0
"""Marker diameter (px) per Å of covalent radius: Si (1.11 Å) draws at ~18 px, O (0.66 Å) at ~11 px."""

_PALETTE = qualitative.Plotly


def kind_colours(kinds: Sequence[str]) -> dict[str, str]:
    """A colour per kind, in the given order (pass the kinds of ``counts_by_kind`` so every chart agrees)."""
    return {kind: _PALETTE[i % len(_PALETTE)] for i, kind in enumerate(kinds)}


def counts_bar(table: pd.DataFrame, label: str, title: str, colours: Mapping[str, str] | None = None) -> go.Figure:
    """Bars of ``table[label]`` against ``table["structures"]`` (as built by ``alcore.datasets.summary``)."""
    labels = [str(v) for v in table[label]]
    counts = table["structures"].to_numpy()
    colour = [colours.get(v, "#7f7f7f") for v in labels] if colours else "#1f77b4"
    fig = go.Figure(go.Bar(
        x=labels, y=counts, marker_color=colour, text=counts, textposition="auto",
        hovertemplate=f"{label}: %{{x}}<br>structures: %{{y}}<extra></extra>",
    ))  # fmt: skip
    fig.update_xaxes(title=label, type="category")
    fig.update_yaxes(title="structures")
    longest = max(map(len, labels), default=0)
    rotated = len(labels) * max(longest, 3) > 60  # Plotly turns crowded category labels upright
    return tidy(fig, title, height=320 + (6 * longest if rotated else 0),
                axis_px=32 + 7 * longest if rotated else AXIS_PX)


def histogram_by_kind(
    values_by_kind: Mapping[str, np.ndarray],
    x_title: str,
    title: str,
    colours: Mapping[str, str] | None = None,
    n_bins: int = 60,
    log_y: bool = False,
) -> go.Figure:
    """Stacked histograms, one trace per kind, on one set of bins (so the stacks add up to the whole dataset)."""
    colours = colours or kind_colours(list(values_by_kind))
    finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in values_by_kind.values()]
    everything = np.concatenate(finite) if finite else np.array([])
    fig = go.Figure()
    if everything.size:
        lo, hi = float(everything.min()), float(everything.max())
        size = (hi - lo) / n_bins if hi > lo else 1.0
        bins = dict(start=lo, end=hi + size * 1e-6, size=size)
        for (kind, _), values in zip(values_by_kind.items(), finite):
            fig.add_trace(go.Histogram(
                x=values, name=f"{kind} ({values.size})", xbins=bins, marker_color=colours.get(kind),
                hovertemplate=f"{kind}<br>%{{x}}<br>count: %{{y}}<extra></extra>",
            ))  # fmt: skip
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title="count", type="log" if log_y else "linear")
    return tidy(fig, title, height=340)


def energy_histogram(energies_by_kind: Mapping[str, np.ndarray], colours: Mapping[str, str] | None = None) -> go.Figure:
    return histogram_by_kind(
        energies_by_kind, f"energy per atom ({ENERGY_UNIT})", "Energy per atom, by kind", colours
    )


def force_histogram(forces_by_kind: Mapping[str, np.ndarray], colours: Mapping[str, str] | None = None) -> go.Figure:
    """Per-atom |F|: log counts, because near-zero forces of relaxed cells dwarf the tail that matters."""
    return histogram_by_kind(
        forces_by_kind, f"|F| per atom ({FORCE_UNIT})", "Per-atom force magnitude, by kind", colours, log_y=True
    )


def cell_edges(cell: np.ndarray) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """x, y, z of the 12 edges of the parallelepiped spanned by ``cell`` rows, segments separated by ``None``."""
    cell = np.asarray(cell, dtype=float)
    corners = {bits: np.asarray(bits, dtype=float) @ cell for bits in product((0, 1), repeat=3)}
    xs: list[float | None] = []
    ys: list[float | None] = []
    zs: list[float | None] = []
    for bits, start in corners.items():
        for axis in range(3):
            if bits[axis] == 0:
                end = corners[tuple(1 if k == axis else b for k, b in enumerate(bits))]
                for coords, a, b in zip((xs, ys, zs), start, end):
                    coords.extend([float(a), float(b), None])
    return xs, ys, zs


def structure_figure(atoms: Atoms, title: str | None = None) -> go.Figure:
    """Atoms as spheres (Jmol colours, size by covalent radius; one trace per element) plus the unit cell edges."""
    fig = go.Figure()
    symbols = np.array(atoms.get_chemical_symbols())
    positions = atoms.positions
    for symbol in dict.fromkeys(symbols):  # first-appearance order
        where = np.flatnonzero(symbols == symbol)
        z = atoms.numbers[where[0]]
        r, g, b = (int(round(255 * c)) for c in jmol_colors[z])
        fig.add_trace(go.Scatter3d(
            x=positions[where, 0], y=positions[where, 1], z=positions[where, 2],
            mode="markers", name=symbol,
            marker=dict(size=ATOM_SIZE_PER_ANGSTROM * covalent_radii[z], color=f"rgb({r},{g},{b})", opacity=1.0,
                        line=dict(color="#404040", width=1)),
            customdata=where,
            hovertemplate=f"{symbol} #%{{customdata}}<br>x %{{x:.3f}} Å<br>y %{{y:.3f}} Å<br>z %{{z:.3f}} Å"
            "<extra></extra>",
        ))  # fmt: skip
    if atoms.cell.rank == 3:
        xs, ys, zs = cell_edges(atoms.cell.array)
        fig.add_trace(go.Scatter3d(
            x=xs, y=ys, z=zs, mode="lines", name="cell", line=dict(color="#555555", width=3), hoverinfo="skip",
        ))  # fmt: skip
    axis = dict(title="", showbackground=False, showgrid=False, zeroline=False, showticklabels=False)
    fig.update_layout(scene=dict(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="data"))
    return tidy(fig, title, height=460)
