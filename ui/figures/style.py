"""Colours and layout shared by every figure, so strategies and point roles look the same on every page."""

from __future__ import annotations

from typing import Any, Sequence

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

from alcore.strategies import STRATEGIES

ROLE_COLOURS = {"pool": "#c7c7c7", "labelled": "#1f77b4", "selected": "#d62728", "test": "#bcbd22", "random": "#2ca02c"}
FALLBACK = ("#17becf", "#e377c2", "#8c564b", "#bcbd22")
ENERGY_UNIT = "eV/atom"


def strategy_colour(name: str) -> str:
    """The colour in the strategy's registry spec; unknown names (or specs without one) get one from a fallback
    cycle, by name, so it is stable."""
    colour = STRATEGIES.spec(name).colour if name in STRATEGIES else None
    return colour or FALLBACK[sum(map(ord, name)) % len(FALLBACK)]


LEGEND_ROW_PX = 22  # one row of a horizontal legend
AXIS_PX = 48  # x tick labels + x-axis title under the plot
COLORBAR_PX = 95  # a colour bar with its tick labels and a vertical title
CHAR_PX, SYMBOL_PX = 7, 45  # legend entry width estimate: symbol + text


def legend_rows(traces: go.Figure | Sequence[BaseTraceType], plot_width: float) -> int:
    """Rows a horizontal legend needs under a plot ``plot_width`` px wide (entries packed greedily)."""
    names = [t.name for t in getattr(traces, "data", traces) if t.name and t.showlegend is not False]
    rows, used = (1 if names else 0), 0.0
    for name in names:
        entry = SYMBOL_PX + CHAR_PX * len(name)
        if used and used + entry > plot_width:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def figure(traces: Sequence[BaseTraceType], layout: dict[str, Any] | None = None, title: str | None = None,
           height: int = 380, subtitle: str | None = None, width: int = 420, axis_px: int = AXIS_PX) -> go.Figure:
    """A figure in the common style: a fixed height, a short title (details go in ``subtitle``) and the legend under
    the plot, where it never covers the title or the data. ``layout`` holds the figure's own settings (axes...).

    Margins are computed here and fixed (``autoexpand`` off): when they are left to grow with tick labels, legends
    and colour bars, Plotly draws every update twice (once to measure, once with the new margins), which doubled
    the browser's redraw time on a Step. ``width`` is the narrowest the chart is shown at (px), to size the legend;
    ``axis_px`` is the room under the plot for x tick labels and title (more for rotated category labels).
    The figure is built in one go: each ``update_layout`` on a built figure costs about 10 ms of validation, which
    added up to a tenth of a second per Explore redraw.
    """
    layout = dict(layout or {})
    scaled = [t for t in traces if getattr(getattr(t, "marker", None), "showscale", None)]  # traces with a colour bar
    y_labels = (layout.get("yaxis") or {}).get("showticklabels") is not False
    top = (70 if subtitle else 45) if title else 20
    left = 70 if y_labels else 35
    right = COLORBAR_PX if scaled else 20
    rows = legend_rows(traces, width - left - right) if layout.get("showlegend") is not False else 0
    bottom = axis_px + LEGEND_ROW_PX * rows + 8
    plot_height = max(height - top - bottom, 60)
    if title:
        layout["title"] = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None)
    layout["height"] = height
    layout["margin"] = dict(l=left, r=right, t=top, b=bottom, autoexpand=False)
    legend = dict(orientation="h", yanchor="top", y=-axis_px / plot_height, xanchor="left", x=0)
    layout["legend"] = {**(layout.get("legend") or {}), **legend}
    for trace in scaled:
        trace.marker.colorbar.title.side = "right"
    return go.Figure(data=list(traces), layout=layout)


def tidy(fig: go.Figure, title: str | None = None, height: int = 380, subtitle: str | None = None,
         width: int = 420, axis_px: int = AXIS_PX) -> go.Figure:
    """``figure`` for a figure built already: its layout is kept, except the template, which is the default one
    (no figure here sets its own) and is applied again, unvalidated, by the new figure (validating it costs 10 ms)."""
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    return figure(fig.data, layout, title, height, subtitle, width, axis_px)


def loading_placeholder(message: str, height: int = 160) -> go.Figure:
    """An empty chart with a message: drawn on a new session while its first committee trains, so the browser loads
    its chart library (loaded on the first chart a page shows, about 1.5 s) before the real charts arrive."""
    note = dict(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                font=dict(size=15, color="#7f7f7f"))
    return go.Figure(layout=dict(annotations=[note], xaxis=dict(visible=False), yaxis=dict(visible=False),
                                 height=height, margin=dict(l=0, r=0, t=0, b=0)))  # in one go, like ``figure``
