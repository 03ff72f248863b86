"""Figures of the Compare page: mean curves over seeds with a band per strategy, and their offline exports."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb

from alcore.comparison.stats import CurveBand
from ui.figures.style import strategy_colour, tidy

BAND_LABELS = {"std": "± 1 std over seeds", "ci95": "95 % t-interval of the mean"}
BAND_OPACITY = 0.18


def _translucent(hex_colour: str, opacity: float = BAND_OPACITY) -> str:
    r, g, b = hex_to_rgb(hex_colour)
    return f"rgba({r}, {g}, {b}, {opacity})"


def band_figure(
    bands: Mapping[str, CurveBand],
    *,
    y_title: str,
    band: str = "std",
    scale: float = 1.0,
    title: str | None = None,
    height: int = 420,
) -> go.Figure:
    """Per strategy: a filled band (one closed polygon trace, drawn first) and the mean line on top of it, sharing a
    legend entry so clicking the strategy hides both. Values are multiplied by ``scale`` (e.g. eV -> meV)."""
    fig = go.Figure()
    band_name = BAND_LABELS.get(band, band)
    for name, b in bands.items():
        finite = np.isfinite(b.mean)
        x = b.n_labels[finite]
        lower, upper = b.lower[finite] * scale, b.upper[finite] * scale
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([upper, lower[::-1]]),
                fill="toself",
                fillcolor=_translucent(strategy_colour(name)),
                line=dict(width=0),
                mode="lines",
                name=f"{name} ({band_name})",
                legendgroup=name,
                showlegend=False,
                hoverinfo="skip",
                meta={"role": "band", "strategy": name},
            )
        )
    for name, b in bands.items():
        finite = np.isfinite(b.mean)
        fig.add_trace(
            go.Scatter(
                x=b.n_labels[finite],
                y=b.mean[finite] * scale,
                customdata=np.column_stack([b.lower[finite] * scale, b.upper[finite] * scale, b.n_runs[finite]]),
                mode="lines+markers",
                marker=dict(size=5),
                line=dict(color=strategy_colour(name), width=2),
                name=name,
                legendgroup=name,
                hovertemplate=(
                    f"<b>{name}</b><br>%{{x}} labels<br>mean %{{y:.4g}}<br>{band_name}: "
                    "%{customdata[0]:.4g} – %{customdata[1]:.4g}<br>%{customdata[2]} runs<extra></extra>"
                ),
                meta={"role": "mean", "strategy": name},
            )
        )
    fig.update_xaxes(title="labelled structures")
    fig.update_yaxes(title=y_title)
    return tidy(fig, title, height)


def learning_curve_figure(bands: Mapping[str, CurveBand], *, unit: str, scale: float, band: str = "std",
                          title: str | None = None) -> go.Figure:
    """Test MAE vs labels: the comparison's main figure."""
    return band_figure(bands, y_title=f"test MAE ({unit})", band=band, scale=scale,
                       title=title or f"Test MAE vs labels (mean, band: {BAND_LABELS.get(band, band)})")


DIAGNOSTICS = {  # metric: (what it shows, short axis title, in the target's units)
    "spearman": ("Spearman(committee std, |error|) on the test split", "Spearman(std, |error|)", False),
    "mean_pool_std": ("mean committee std on the pool", "mean pool std", True),
}


def diagnostic_figure(bands: Mapping[str, CurveBand], metric: str, *, unit: str, scale: float,
                      band: str = "std") -> go.Figure:
    """The second figure: how well the committee's spread ranks errors, or how much spread is left in the pool."""
    if metric not in DIAGNOSTICS:
        raise ValueError(f"metric must be one of {list(DIAGNOSTICS)}, got {metric!r}")
    label, axis, in_target_units = DIAGNOSTICS[metric]
    y_title = f"{axis} ({unit})" if in_target_units else axis
    return band_figure(bands, y_title=y_title, band=band, scale=scale if in_target_units else 1.0,
                       title=f"{label[0].upper()}{label[1:]} vs labels", height=360)


def figure_html(fig: go.Figure) -> str:
    """A standalone page with plotly.js embedded, so the saved figure opens without a network."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def png_button_config(filename: str, scale: int = 2) -> dict:
    """``st.plotly_chart(config=...)``: the modebar camera button saves a PNG in the browser at ``scale`` x size."""
    return {"toImageButtonOptions": {"format": "png", "filename": filename, "scale": scale}, "displaylogo": False}
