"""Fixed figure margins: sized from the figure's content, so Plotly never has to draw an update twice."""

from __future__ import annotations

import plotly.graph_objects as go

from ui.figures.style import AXIS_PX, COLORBAR_PX, LEGEND_ROW_PX, legend_rows, loading_placeholder, tidy


def _scatter(name: str, **marker) -> go.Scatter:
    return go.Scatter(x=[1, 2], y=[3, 4], name=name, marker=marker)


def test_margins_are_fixed_and_fit_the_legend():
    fig = tidy(go.Figure([_scatter("a"), _scatter("b")]), "title", height=400)
    margin = fig.layout.margin
    assert margin.autoexpand is False
    assert margin.b == AXIS_PX + LEGEND_ROW_PX + 8
    assert -1 < fig.layout.legend.y < 0  # under the plot, inside the bottom margin


def test_a_colour_bar_gets_room_on_the_right():
    plain = tidy(go.Figure(_scatter("a")))
    with_bar = tidy(go.Figure(_scatter("a", color=[1, 2], showscale=True)))
    assert plain.layout.margin.r < COLORBAR_PX == with_bar.layout.margin.r
    assert with_bar.data[0].marker.colorbar.title.side == "right"


def test_long_legends_wrap_onto_more_rows_in_narrow_charts():
    fig = go.Figure([_scatter(f"a fairly long legend entry {i}") for i in range(6)])
    assert legend_rows(fig, 1200) < legend_rows(fig, 300)
    assert tidy(fig, width=300).layout.margin.b > tidy(go.Figure(fig), width=1200).layout.margin.b


def test_no_legend_no_legend_rows():
    fig = go.Figure(_scatter("a")).update_layout(showlegend=False)
    assert tidy(fig).layout.margin.b == AXIS_PX + 8


def test_hidden_y_labels_need_less_room_on_the_left():
    fig = go.Figure(_scatter("a"))
    fig.update_yaxes(showticklabels=False)
    assert tidy(fig).layout.margin.l < tidy(go.Figure(_scatter("a"))).layout.margin.l


def test_loading_placeholder_shows_its_message():
    fig = loading_placeholder("Loading…")
    assert fig.layout.annotations[0].text == "Loading…" and not fig.data
