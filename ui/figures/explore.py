"""Figures of the Explore page: the structure map, uncertainty views, learning curves and parity, for one round."""

from __future__ import annotations

import base64
from html import escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from alcore.explain import Calibration
from alcore.loop import RoundRecord, RunState
from alcore.units import Units, units_for
from ui.figures.style import ROLE_COLOURS, figure, strategy_colour

ENERGY = units_for("energy_per_atom")  # the default: errors in meV/atom, values in eV/atom
COLOUR_BY = {
    "role": "role (labelled / selected / pool)",
    "std": "committee std",
    "abs_error": "absolute error",
    "target": "target value",
    "labelled_in_round": "round labelled in",
}


def hover(units: Units) -> str:
    return ("<b>%{customdata[1]}</b> (%{customdata[2]})<br>id %{customdata[3]}<br>%{customdata[4]}<br>"
            f"target %{{customdata[5]:.3f}} {units.value}<br>std %{{customdata[6]:.1f}} {units.error}<extra></extra>")


ROLE_STYLE = {  # drawing order: background first
    "test": dict(size=5, symbol="diamond", opacity=0.5),
    "pool": dict(size=5, opacity=0.45),
    "labelled": dict(size=7, opacity=0.9),
    "selected": dict(size=13, symbol="star", line=dict(width=1, color="black")),
}


def _custom(frame: pd.DataFrame, units: Units) -> np.ndarray:
    """Hover data per point, rounded below what the hover shows: the browser parses every digit of every point on
    each redraw."""
    return np.column_stack(
        [
            frame["index"],
            frame["formula"],
            frame["role"],
            frame["id"],
            frame["kind"],
            frame["target"].round(4),
            (frame["std"] * units.scale).round(2),
        ]
    )


def _xy(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Map coordinates to a thousandth of the map's units (invisible at any zoom the chart offers)."""
    return dict(x=frame.x.round(3), y=frame.y.round(3))


def structure_map(
    frame: pd.DataFrame,
    colour_by: str = "role",
    show_test: bool = False,
    show_random: bool = True,
    highlight: int | None = None,
    title: str | None = None,
    axis: str = "UMAP",
    units: Units = ENERGY,
) -> go.Figure:
    """The 2-D descriptor map: pool grey, labelled blue, this round's picks as large stars; ``colour_by`` other than
    ``role`` colours every point by that column. Each point's dataset index is ``customdata[0]`` (for clicks)."""
    traces = []
    shown = frame[frame.role.isin(["pool", "labelled", "selected"] + (["test"] if show_test else []))]
    if colour_by == "role":
        for role, style in ROLE_STYLE.items():
            part = shown[shown.role == role]
            if len(part):
                traces.append(go.Scatter(
                    **_xy(part), mode="markers", name=f"{role} ({len(part)})", customdata=_custom(part, units),
                    hovertemplate=hover(units), marker=dict(color=ROLE_COLOURS[role], **style),
                    unselected=dict(marker=dict(opacity=style.get("opacity", 1.0))),  # a click must not fade the map
                ))
    else:
        values = shown[colour_by].to_numpy(dtype=float)
        if colour_by in ("std", "abs_error"):
            values = values * units.scale
        label = COLOUR_BY.get(colour_by, colour_by) + (f" ({units.error})" if colour_by in ("std", "abs_error") else "")
        traces.append(go.Scatter(
            **_xy(shown), mode="markers", name="structures", customdata=_custom(shown, units),
            hovertemplate=hover(units),
            marker=dict(size=np.where(shown.role == "selected", 13, 6), color=values, colorscale="Viridis",
                        showscale=True, colorbar=dict(title=label, thickness=12), opacity=0.85),
            unselected=dict(marker=dict(opacity=0.85)),
        ))
        picked = shown[shown.role == "selected"]
        traces.append(go.Scatter(
            **_xy(picked), mode="markers", name=f"selected ({len(picked)})", hoverinfo="skip",
            marker=dict(size=15, symbol="star-open", color="black", line=dict(width=1.5)),
        ))
    if show_random:
        rand = frame[frame.random_would_pick]
        if len(rand):
            traces.append(go.Scatter(
                **_xy(rand), mode="markers", name=f"random would pick ({len(rand)})", hoverinfo="skip",
                marker=dict(size=12, symbol="circle-open", color=ROLE_COLOURS["random"], line=dict(width=2)),
            ))
    if highlight is not None and highlight in set(frame["index"]):
        row = frame[frame["index"] == highlight].iloc[0]
        traces.append(go.Scatter(
            x=[row.x], y=[row.y], mode="markers", name="clicked", hoverinfo="skip",
            marker=dict(size=20, symbol="circle-open", color="#ff7f0e", line=dict(width=3)),
        ))
    axes = dict(xaxis=dict(showticklabels=False, title=f"{axis} 1"), yaxis=dict(showticklabels=False, title=f"{axis} 2"))
    return figure(traces, axes, title, height=520, width=680)


START_MAP_ROLES = ("pool", "labelled")  # drawn in this order: the labelled set on top
START_MAP_SIZE = (680, 520)
START_MAP_RADIUS = {"pool": 3.0, "labelled": 4.5}


def start_map_svg(frame: pd.DataFrame, title: str, axis: str = "UMAP") -> str:
    """The starting point (initial labelled set in the pool) as a plain SVG picture; titles escaped, ids not drawn
    (they come from uploads). Shown by ``start_map_image`` while a new session trains its first committee."""
    width, height = START_MAP_SIZE
    pad, top = 20.0, 44.0
    shown = frame[frame.role.isin(START_MAP_ROLES)]
    x, y = shown.x.to_numpy(dtype=float), shown.y.to_numpy(dtype=float)
    span = lambda v: (float(v.min()), float(v.max()) - float(v.min()) or 1.0) if len(v) else (0.0, 1.0)  # noqa: E731
    (x0, dx), (y0, dy) = span(x), span(y)
    parts = [f'<svg class="start-map" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">',
             f"<title>{escape(title)}</title>",
             f'<text x="{pad}" y="18" font-size="15">{escape(title)}</text>']
    legend_x = pad
    for role in START_MAP_ROLES:
        part = shown[shown.role == role]
        parts.append(f'<circle cx="{legend_x + 5}" cy="32" r="{START_MAP_RADIUS[role]}" '
                     f'fill="{ROLE_COLOURS[role]}"/><text x="{legend_x + 14}" y="36" font-size="12">'
                     f"{role} ({len(part)})</text>")
        legend_x += 120
        for row in part.itertuples(index=False):
            cx = pad + (row.x - x0) / dx * (width - 2 * pad)
            cy = top + (1.0 - (row.y - y0) / dy) * (height - top - pad)
            parts.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="{START_MAP_RADIUS[role]}" '
                         f'fill="{ROLE_COLOURS[role]}" fill-opacity="{0.5 if role == "pool" else 0.9}"/>')
    parts.append(f'<text x="{width / 2}" y="{height - 4}" font-size="12" text-anchor="middle">'
                 f"{escape(axis)} 1 (horizontal), {escape(axis)} 2 (vertical)</text></svg>")
    return "".join(parts)


def start_map_image(frame: pd.DataFrame, title: str, axis: str = "UMAP") -> str:
    """Markdown showing ``start_map_svg`` as an inline image.

    The browser draws it at once: it needs none of the chart library (a 4.7 MB bundle that takes about 1.5 s to load
    on a 2-core machine) and no script chunk of its own (``st.image`` waits for one; inline SVG markup with a tooltip
    per point took 1-1.5 s to parse as HTML). The interactive Plotly map, with hover details, replaces it after
    round 0. Measured by benchmarks/bench_app.py."""
    data = base64.b64encode(start_map_svg(frame, title, axis).encode()).decode()
    alt = title.replace("\\", "").replace("[", "(").replace("]", ")")
    return f"![{alt}](data:image/svg+xml;base64,{data})"


def std_histogram(current: RoundRecord, previous: RoundRecord | None, units: Units = ENERGY) -> go.Figure:
    """Committee std over the pool, this round vs the previous one: does labelling shrink the disagreement?"""
    scale = units.scale
    traces = []
    if previous is not None:
        traces.append(go.Histogram(x=previous.pool_std * scale, name=f"round {previous.round}", opacity=0.5,
                                   marker_color="#9e9e9e", nbinsx=40))
    traces.append(go.Histogram(x=current.pool_std * scale, name=f"round {current.round}", opacity=0.7,
                               marker_color=ROLE_COLOURS["labelled"], nbinsx=40))
    upper = float(np.percentile(current.pool_std, 99)) * scale * 1.2 if len(current.pool_std) else 1.0
    beyond = int(np.sum(current.pool_std * scale > upper))
    layout = dict(barmode="overlay", xaxis=dict(title=f"committee std on the pool ({units.error})", range=[0, upper]),
                  yaxis=dict(title="structures"))
    note = f"{beyond} structures beyond the axis" if beyond else "this round vs the previous one"
    return figure(traces, layout, "Pool uncertainty", height=360, subtitle=note, width=320)


def std_vs_error(record: RoundRecord, y_test: np.ndarray, units: Units = ENERGY) -> go.Figure:
    """Std against absolute error on the test split; the Spearman correlation says whether std ranks errors."""
    error = np.abs(record.test_mean - y_test) * units.scale
    trace = go.Scatter(
        x=record.test_std * units.scale, y=error, mode="markers", marker=dict(size=5, opacity=0.6, color="#1f77b4"),
        hovertemplate="std %{x:.1f}<br>|error| %{y:.1f}<extra></extra>", name="test structures",
    )
    layout = dict(xaxis=dict(title=f"committee std ({units.error})", type="log"),
                  yaxis=dict(title=f"|error| ({units.error})", type="log"))
    return figure([trace], layout, "Std vs error (test split)", height=360,
                  subtitle=f"Spearman ρ = {record.spearman:.2f}", width=320)


def calibration_plot(cal: Calibration, units: Units = ENERGY) -> go.Figure:
    """Observed RMSE against the RMS std per std bin; the diagonal is a perfectly calibrated committee."""
    expected, observed = cal.bin_rms_std * units.scale, cal.bin_rmse * units.scale
    top = float(max(expected.max(), observed.max())) * 1.1 if len(expected) else 1.0
    traces = [
        go.Scatter(x=[0, top], y=[0, top], mode="lines", name="calibrated", line=dict(dash="dot", color="#7f7f7f")),
        go.Scatter(x=expected, y=observed, mode="lines+markers", name="committee", marker=dict(size=8),
                   text=[f"{c} structures" for c in cal.bin_count],
                   hovertemplate="expected %{x:.1f}<br>observed %{y:.1f}<br>%{text}<extra></extra>"),
    ]
    layout = dict(xaxis=dict(title=f"expected error: RMS std ({units.error})"),
                  yaxis=dict(title=f"observed RMSE ({units.error})"))
    verdict = "over-confident" if cal.ratio > 1.2 else "under-confident" if cal.ratio < 0.8 else "well calibrated"
    return figure(traces, layout, "Calibration (test split)", height=360,
                  subtitle=f"RMSE / RMS std = {cal.ratio:.2f}: {verdict}", width=320)


def learning_curves(
    runs: dict[str, RunState], baseline: RunState | None, active: str, current_labels: int | None = None,
    units: Units = ENERGY,
) -> go.Figure:
    """Test MAE against labels for the runs of this session on the same data, the random baseline from the same
    initial set dashed, and a marker at the round being viewed."""
    traces = []
    if baseline is not None and baseline.rounds:
        n, mae = baseline.curve()
        traces.append(go.Scatter(x=n, y=mae * units.scale, mode="lines+markers",
                                 name="random baseline (same initial set)",
                                 line=dict(dash="dash", color=strategy_colour("random")), marker=dict(size=5)))
    for name, state in runs.items():
        if not state.rounds:
            continue
        n, mae = state.curve()
        width = 3.5 if name == active else 1.5
        traces.append(go.Scatter(x=n, y=mae * units.scale, mode="lines+markers", name=name,
                                 line=dict(width=width, color=strategy_colour(state.config.strategy)),
                                 opacity=1.0 if name == active else 0.6))
    layout = dict(xaxis=dict(title="labelled structures"), yaxis=dict(title=f"test MAE ({units.error})"))
    if current_labels is not None:  # the round being viewed
        layout["shapes"] = [dict(type="line", x0=current_labels, x1=current_labels, y0=0, y1=1, xref="x", yref="paper",
                                 line=dict(color="#ff7f0e", dash="dot"))]
    return figure(traces, layout, "MAE vs number of labels", height=400,
                  subtitle="dashed: random from the same initial set", width=480)


def parity(record: RoundRecord, y_test: np.ndarray, units: Units = ENERGY) -> go.Figure:
    """Committee mean against the true target on the test split, coloured by the committee's std."""
    lo, hi = float(min(y_test.min(), record.test_mean.min())), float(max(y_test.max(), record.test_mean.max()))
    traces = [
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="y = x", line=dict(dash="dot", color="#7f7f7f")),
        go.Scatter(x=y_test, y=record.test_mean, mode="markers", name="test structures",
                   marker=dict(size=5, color=record.test_std * units.scale, colorscale="Viridis", showscale=True,
                               colorbar=dict(title=f"std ({units.error})", thickness=12)),
                   hovertemplate="true %{x:.3f}<br>predicted %{y:.3f}<extra></extra>"),
    ]
    layout = dict(xaxis=dict(title=f"true ({units.value})"), yaxis=dict(title=f"committee mean ({units.value})"))
    return figure(traces, layout, "Parity (test split)", height=400,
                  subtitle=f"MAE {record.mae * units.scale:.1f} {units.error} · R² {record.r2:.3f}", width=480)
