"""Figures of the Learn page: one committee's disagreement, each strategy's picks on the structure map, and a short
learning curve. Pure functions of ``alcore.lessons`` results, so they are testable without Streamlit."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alcore.comparison.grid import RunResult
from alcore.comparison.stats import mean_curve
from alcore.lessons import CommitteeSnapshot
from alcore.units import Units, units_for
from ui.figures.style import ROLE_COLOURS, strategy_colour, tidy

ENERGY = units_for("energy_per_atom")  # the lessons' target: values in eV/atom, errors and spreads in meV/atom
MEMBER_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")


def members_vs_truth_figure(snapshot: CommitteeSnapshot, units: Units = ENERGY) -> go.Figure:
    """Every member's prediction against the true value on the test split; a grey bar joins the members of one
    structure, so a long bar is a structure the committee disagrees about."""
    y, members = snapshot.y_test, snapshot.test_members
    low, high = members.min(axis=0), members.max(axis=0)
    bars_x = np.column_stack([y, y, np.full_like(y, np.nan)]).ravel()
    bars_y = np.column_stack([low, high, np.full_like(y, np.nan)]).ravel()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=bars_x, y=bars_y, mode="lines", line=dict(color="#bbbbbb", width=1),
                             name="members' range", hoverinfo="skip"))
    for m, prediction in enumerate(members):
        fig.add_trace(go.Scatter(
            x=y, y=prediction, mode="markers", name=f"model {m + 1}",
            marker=dict(size=4, color=MEMBER_COLOURS[m % len(MEMBER_COLOURS)], opacity=0.7),
            hovertemplate=f"model {m + 1}<br>true %{{x:.3f}}<br>predicted %{{y:.3f}}<extra></extra>",
        ))
    lo, hi = float(min(y.min(), low.min())), float(max(y.max(), high.max()))
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect prediction",
                             line=dict(color="black", dash="dash", width=1), hoverinfo="skip"))
    fig.update_xaxes(title=f"true value ({units.value})")
    fig.update_yaxes(title=f"predicted value ({units.value})")
    return tidy(fig, f"{len(members)} models trained on {len(snapshot.labelled)} labelled structures", height=420)


def disagreement_vs_error_figure(snapshot: CommitteeSnapshot, bins: pd.DataFrame, units: Units = ENERGY) -> go.Figure:
    """Committee std against the committee's actual error per test structure, with the mean error per std bin."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=snapshot.test_std * units.scale, y=snapshot.abs_error * units.scale, mode="markers",
        name="one test structure",
        marker=dict(size=5, color=ROLE_COLOURS["test"], opacity=0.6),
        hovertemplate="disagreement %{x:.3g}<br>error %{y:.3g}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=bins["std"] * units.scale, y=bins["mean_abs_error"] * units.scale, mode="lines+markers",
        name="average error in each band",
        line=dict(color="black", width=3), marker=dict(size=8),
    ))
    fig.update_xaxes(title=f"disagreement: std of the models ({units.error})", type="log")
    fig.update_yaxes(title=f"actual error |mean − true| ({units.error})", type="log")
    return tidy(fig, f"Disagreement tracks error (Spearman ρ = {snapshot.spearman:.2f})", height=420)


def _map_background(fig: go.Figure, embedding: np.ndarray, snapshot: CommitteeSnapshot, row=None, col=None,
                    legend: bool = True) -> None:
    where = dict(row=row, col=col) if row else {}
    pool, labelled = embedding[snapshot.pool], embedding[snapshot.labelled]
    fig.add_trace(go.Scatter(x=pool[:, 0], y=pool[:, 1], mode="markers", name="unlabelled pool", showlegend=legend,
                             legendgroup="pool", marker=dict(size=3, color=ROLE_COLOURS["pool"]), hoverinfo="skip"),
                  **where)
    fig.add_trace(go.Scatter(x=labelled[:, 0], y=labelled[:, 1], mode="markers", name="already labelled",
                             showlegend=legend, legendgroup="labelled", hoverinfo="skip",
                             marker=dict(size=6, color="white", line=dict(color=ROLE_COLOURS["labelled"], width=2))),
                  **where)


def _bare_axes(fig: go.Figure) -> None:
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)


def disagreement_map_figure(embedding: np.ndarray, snapshot: CommitteeSnapshot, units: Units = ENERGY) -> go.Figure:
    """The structure map coloured by committee std: where in structure space the committee is unsure. The colour
    scale stops at the 95th percentile, so a few extreme structures do not turn everything else one dark colour."""
    fig = go.Figure()
    pool, labelled = embedding[snapshot.pool], embedding[snapshot.labelled]
    top = float(np.percentile(snapshot.pool_std, 95)) * units.scale
    fig.add_trace(go.Scatter(
        x=pool[:, 0], y=pool[:, 1], mode="markers", name="unlabelled pool",
        marker=dict(size=4, color=snapshot.pool_std * units.scale, colorscale="Viridis", cmin=0.0, cmax=top,
                    showscale=True, colorbar=dict(title=f"std ({units.error})", thickness=12)),
        hovertemplate="disagreement %{marker.color:.3g}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=labelled[:, 0], y=labelled[:, 1], mode="markers", name="already labelled",
                             hoverinfo="skip",
                             marker=dict(size=7, color="white", line=dict(color=ROLE_COLOURS["labelled"], width=2))))
    _bare_axes(fig)
    return tidy(fig, "Where the committee disagrees (structure map)", height=420)


def picks_grid_figure(embedding: np.ndarray, snapshot: CommitteeSnapshot, picks: dict[str, np.ndarray],
                      columns: int = 3) -> go.Figure:
    """Small multiples: one structure map per strategy with its next batch, so the patterns can be compared."""
    names = list(picks)
    rows = -(-len(names) // columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=names, shared_xaxes=True, shared_yaxes=True,
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    for k, name in enumerate(names):
        row, col = k // columns + 1, k % columns + 1
        _map_background(fig, embedding, snapshot, row, col, legend=k == 0)
        chosen = embedding[picks[name]]
        fig.add_trace(go.Scatter(
            x=chosen[:, 0], y=chosen[:, 1], mode="markers", name=f"picked by {name}", showlegend=False,
            marker=dict(size=9, color=strategy_colour(name), symbol="diamond", line=dict(color="black", width=1)),
            hovertemplate=f"{name}: pick %{{text}}<extra></extra>", text=[str(i + 1) for i in range(len(chosen))],
        ), row=row, col=col)
    _bare_axes(fig)
    return tidy(fig, f"The next {len(next(iter(picks.values())))} structures each strategy would label",
                height=300 * rows)


def pick_order_figure(
    embedding: np.ndarray, snapshot: CommitteeSnapshot, chosen: np.ndarray, strategy: str
) -> go.Figure:
    """One strategy's batch on the map, numbered in the order it picked them (greedy strategies build it in order)."""
    fig = go.Figure()
    _map_background(fig, embedding, snapshot)
    xy = embedding[chosen]
    fig.add_trace(go.Scatter(
        x=xy[:, 0], y=xy[:, 1], mode="markers+text", name=f"picked by {strategy}",
        text=[str(i + 1) for i in range(len(chosen))], textposition="top center",
        marker=dict(size=11, color=strategy_colour(strategy), symbol="diamond", line=dict(color="black", width=1)),
        hovertemplate="pick %{text}<extra></extra>",
    ))
    _bare_axes(fig)
    return tidy(fig, f"{strategy}: its {len(chosen)} picks, numbered in the order they were chosen", height=460)


def learning_curve_figure(results: Sequence[RunResult], units: Units = ENERGY) -> go.Figure:
    """Test error against labels used: a thin line per starting set, a thick line for the average."""
    fig = go.Figure()
    for name in dict.fromkeys(r.strategy for r in results):
        runs = [r for r in results if r.strategy == name]
        colour = strategy_colour(name)
        for r in runs:
            fig.add_trace(go.Scatter(x=r.n_labels, y=r.mae * units.scale, mode="lines",
                                     line=dict(color=colour, width=1), opacity=0.35, legendgroup=name, showlegend=False,
                                     hovertemplate=f"{name}, seed {r.seed}: %{{y:.3g}}<extra></extra>"))
        grid, mean, _ = mean_curve(runs)
        fig.add_trace(go.Scatter(x=grid, y=mean * units.scale, mode="lines+markers",
                                 name=f"{name} (average of {len(runs)})",
                                 legendgroup=name, line=dict(color=colour, width=3)))
    fig.update_xaxes(title="labelled structures")
    fig.update_yaxes(title=f"test error, MAE ({units.error})")
    return tidy(fig, "Learning curve: error after each round", height=400)
