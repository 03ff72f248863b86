"""Plotly figures built by pure functions from alcore results."""

from __future__ import annotations

import plotly.graph_objects as go

from alcore.loop import RunState


def learning_curve(state: RunState) -> go.Figure:
    n_labels, mae = state.curve()
    fig = go.Figure(go.Scatter(x=n_labels, y=mae, mode="lines+markers", name=state.config.strategy))
    fig.update_layout(
        xaxis_title="labelled structures",
        yaxis_title="test MAE (eV/atom)",
        margin=dict(l=10, r=10, t=30, b=10),
        height=360,
    )
    return fig
