"""Colours and layout shared by every figure, so strategies and point roles look the same on every page."""

from __future__ import annotations

import plotly.graph_objects as go

STRATEGY_COLOURS = {
    "random": "#7f7f7f",
    "uncertainty": "#d62728",
    "diversity": "#1f77b4",
    "hybrid": "#9467bd",
    "kcenter": "#2ca02c",
    "cluster_uncertainty": "#ff7f0e",
}
ROLE_COLOURS = {"pool": "#c7c7c7", "labelled": "#1f77b4", "selected": "#d62728", "test": "#bcbd22", "random": "#2ca02c"}
FALLBACK = ("#17becf", "#e377c2", "#8c564b", "#bcbd22")
ENERGY_UNIT = "eV/atom"


def strategy_colour(name: str) -> str:
    """A stable colour per strategy (unknown names get one from a fallback cycle, by name)."""
    return STRATEGY_COLOURS.get(name) or FALLBACK[sum(map(ord, name)) % len(FALLBACK)]


def tidy(fig: go.Figure, title: str | None = None, height: int = 380, subtitle: str | None = None) -> go.Figure:
    """Common margins, height, a short title (details go in ``subtitle``) and the legend under the plot, where it
    never covers the title or the data."""
    heading = None
    if title:
        heading = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None)
    fig.update_layout(
        title=heading,
        height=height,
        margin=dict(l=10, r=10, t=(70 if subtitle else 45) if title else 20, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
        template="plotly_white",
    )
    return fig
