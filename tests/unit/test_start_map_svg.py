"""The SVG starting map: every pool and labelled point once, inside the picture, with escaped tooltips."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from ui.figures.explore import START_MAP_SIZE, start_map_svg

SVG = "{http://www.w3.org/2000/svg}"


def _frame() -> pd.DataFrame:
    roles = ["pool"] * 6 + ["labelled"] * 3 + ["test"] * 2 + ["unused"]
    n = len(roles)
    return pd.DataFrame({
        "index": range(n), "x": [float(i) for i in range(n)], "y": [float((i * 7) % 5) for i in range(n)],
        "role": roles, "id": [f"s{i}" for i in range(n - 1)] + ['<script>alert("x")</script>&'],
        "formula": ["Si2"] * n, "kind": ["rattle"] * n, "target": [-5.0 - i / 100 for i in range(n)],
    })


def test_draws_pool_and_labelled_points_once_inside_the_picture():
    frame = _frame()
    frame.loc[frame.index[-1], "role"] = "pool"  # the hostile id is drawn (as a pool point)
    root = ET.fromstring(start_map_svg(frame, "Start", "UMAP"))  # well-formed XML
    points = [c for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    colours = [c.get("fill") for c in points]
    assert len(points) == 10  # 7 pool + 3 labelled; test and unused are not drawn
    assert colours.count("#c7c7c7") == 7 and colours.count("#1f77b4") == 3
    assert colours.index("#1f77b4") > max(i for i, c in enumerate(colours) if c == "#c7c7c7")  # labelled on top
    width, height = START_MAP_SIZE
    for c in points:
        assert 0 <= float(c.get("cx")) <= width and 0 <= float(c.get("cy")) <= height


def test_tooltips_and_titles_are_escaped():
    frame = _frame()
    frame.loc[frame.index[-1], "role"] = "labelled"
    svg = start_map_svg(frame, "Start <b>here</b>", "UMAP")
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    tips = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    assert any('<script>alert("x")</script>&' in tip for tip in tips)  # shown as text, not markup
    assert all(re.search(r"target -5\.\d{3} eV/atom", tip) for tip in tips)


def test_a_single_point_or_a_flat_map_still_draws():
    frame = _frame().iloc[:1].assign(role="labelled")
    root = ET.fromstring(start_map_svg(frame, "Start"))
    assert len([c for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]) == 1
