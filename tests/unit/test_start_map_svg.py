"""The SVG starting map: every pool and labelled point once, inside the picture; titles escaped, ids not drawn; shown
as an inline Markdown image."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pandas as pd

from ui.figures.explore import START_MAP_SIZE, start_map_image, start_map_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&'


def _frame() -> pd.DataFrame:
    roles = ["pool"] * 6 + ["labelled"] * 3 + ["test"] * 2 + ["unused"]
    n = len(roles)
    return pd.DataFrame({
        "index": range(n), "x": [float(i) for i in range(n)], "y": [float((i * 7) % 5) for i in range(n)],
        "role": roles, "id": [f"s{i}" for i in range(n - 1)] + [HOSTILE],
        "formula": ["Si2"] * n, "kind": ["rattle"] * n, "target": [-5.0 - i / 100 for i in range(n)],
    })


def _points(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # well-formed XML, so the browser can draw it as an image
    return [c for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]


def test_draws_pool_and_labelled_points_once_inside_the_picture():
    frame = _frame()
    frame.loc[frame.index[-1], "role"] = "pool"
    points = _points(start_map_svg(frame, "Start", "UMAP"))
    colours = [c.get("fill") for c in points]
    assert len(colours) == 10  # 7 pool + 3 labelled; test and unused are not drawn
    assert colours.count("#c7c7c7") == 7 and colours.count("#1f77b4") == 3
    assert colours.index("#1f77b4") > max(i for i, c in enumerate(colours) if c == "#c7c7c7")  # labelled on top
    width, height = START_MAP_SIZE
    for c in points:
        assert 0 <= float(c.get("cx")) <= width and 0 <= float(c.get("cy")) <= height


def test_titles_are_escaped_and_ids_are_not_drawn():
    frame = _frame()
    frame.loc[frame.index[-1], "role"] = "labelled"
    svg = start_map_svg(frame, "Start <b>here</b>", "UM<i>AP</i>")
    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg and "alert" not in svg
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Start <b>here</b>"  # shown as text, not markup
    assert any("UM<i>AP</i> 1" in (t.text or "") for t in root.iter(f"{SVG}text"))


def test_a_single_point_or_a_flat_map_still_draws():
    frame = _frame().iloc[:1].assign(role="labelled")
    assert len(_points(start_map_svg(frame, "Start"))) == 1


def test_the_markdown_image_carries_exactly_the_svg():
    frame = _frame()
    markdown = start_map_image(frame, "Start [the pool]", "UMAP")
    match = re.fullmatch(r"!\[([^\[\]]*)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert match, markdown[:80]
    assert match.group(1) == "Start (the pool)"  # brackets in the alt text would end it early
    assert base64.b64decode(match.group(2)).decode() == start_map_svg(frame, "Start [the pool]", "UMAP")
