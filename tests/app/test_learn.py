"""The Learn page in Streamlit's AppTest: it draws its live figures, its controls change them, links restore them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from alcore.lessons import lesson_strategies
from alcore.strategies import STRATEGIES

APP = Path(__file__).resolve().parents[2] / "app.py"
CHART_KEYS = ("members", "disagreement", "map", "picks", "order", "curve")


def _learn(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/learn.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _values(array) -> list[float]:
    """Plotly sends numeric arrays either as lists or as base64 typed arrays ({"dtype", "bdata"})."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


def _picks_of(figure: dict, strategy: str) -> list[tuple[float, float]]:
    """The (x, y) of one strategy's picks in the small-multiples figure (its third trace per panel)."""
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    trace = figure["data"][3 * titles.index(strategy) + 2]
    return sorted(zip(_values(trace["x"]), _values(trace["y"]), strict=True))


@pytest.fixture(scope="module")
def learn_page() -> AppTest:
    return _learn()


def test_learn_page_draws_every_figure(learn_page):
    at = learn_page
    assert len(at.get("plotly_chart")) == len(CHART_KEYS)
    assert at.session_state["learn_dataset"] == "Si"
    assert at.session_state["learn_alpha"] == 0.5
    table = at.dataframe[0].value
    assert table["strategy"].tolist() == lesson_strategies() == STRATEGIES.names()
    figures = _figures(at)
    assert "Spearman" in figures[1]["layout"]["title"]["text"]
    assert all(len(_picks_of(figures[3], s)) == 15 for s in table["strategy"])
    assert not at.warning and not at.error


def test_alpha_slider_moves_hybrid_to_uncertainty(learn_page):
    at = learn_page
    before = _picks_of(_figures(at)[3], "hybrid")
    at.slider(key="learn_alpha").set_value(1.0).run()
    assert not at.exception
    figure = _figures(at)[3]
    assert at.session_state["learn_alpha"] == 1.0
    assert at.query_params["learn_alpha"] == "1.0"
    assert _picks_of(figure, "hybrid") == _picks_of(figure, "uncertainty") != before


def test_strategy_and_rival_controls_redraw_their_figures(learn_page):
    at = learn_page
    at.radio(key="learn_strategy").set_value("kcenter").run()
    at.selectbox(key="learn_rival").set_value("uncertainty").run()
    assert not at.exception
    figures = _figures(at)
    assert figures[4]["layout"]["title"]["text"].startswith("kcenter:")
    curve_names = {trace.get("name", "") for trace in figures[5]["data"]}
    assert any(name.startswith("uncertainty") for name in curve_names)
    assert not any(name.startswith("diversity") for name in curve_names)
    assert at.query_params["learn_strategy"] == "kcenter"


def test_link_restores_the_lesson():
    at = _learn({"learn_strategy": "diversity", "learn_alpha": "0.2", "learn_seed": "-1"})
    assert at.radio(key="learn_strategy").value == "diversity"
    assert at.slider(key="learn_alpha").value == 0.2
    assert at.session_state["learn_seed"] == 0  # out of range: ignored with a warning
    assert any("learn_seed" in w.value for w in at.warning)
    assert _figures(at)[4]["layout"]["title"]["text"].startswith("diversity:")
