"""Compare-page figures: one band and one mean trace per strategy, colours, scaling, exports."""

import re

import numpy as np
import pytest

from alcore.comparison.grid import RunResult
from alcore.comparison.stats import curve_bands
from ui.figures.compare import (
    diagnostic_figure,
    figure_html,
    learning_curve_figure,
    png_button_config,
)
from ui.figures.style import strategy_colour


def _runs(strategy, finals):
    out = []
    for seed, final in enumerate(finals):
        mae = np.array([0.05, 0.03, final])
        rho = np.array([np.nan, 0.2, 0.4])
        out.append(RunResult(strategy, seed, np.array([30, 45, 60]), mae, mae, rho, mae / 2, (), 0.0, 0.0))
    return out


RESULTS = _runs("random", [0.020, 0.022, 0.024]) + _runs("uncertainty", [0.012, 0.016, 0.014])


def _by_role(fig, role):
    return [t for t in fig.data if t.meta and t.meta["role"] == role]


@pytest.mark.parametrize("band", ["std", "ci95"])
def test_one_band_and_one_mean_trace_per_strategy(band):
    fig = learning_curve_figure(curve_bands(RESULTS, "mae", band), unit="meV/atom", scale=1000.0, band=band)
    bands, means = _by_role(fig, "band"), _by_role(fig, "mean")
    assert [t.meta["strategy"] for t in means] == ["random", "uncertainty"]
    assert [t.meta["strategy"] for t in bands] == ["random", "uncertainty"]
    assert fig.data[:2] == tuple(bands)  # bands first, so the lines are drawn on top
    for b, m in zip(bands, means):
        assert b.legendgroup == m.legendgroup == m.name
        assert m.line.color == strategy_colour(m.name)
        assert b.fill == "toself" and not b.showlegend
    assert fig.layout.yaxis.title.text == "test MAE (meV/atom)"


def test_band_polygon_encloses_the_scaled_mean():
    bands = curve_bands(RESULTS, "mae", "ci95")
    fig = learning_curve_figure(bands, unit="meV/atom", scale=1000.0, band="ci95")
    band, mean = _by_role(fig, "band")[1], _by_role(fig, "mean")[1]
    np.testing.assert_allclose(mean.y, bands["uncertainty"].mean * 1000.0)
    upper, lower_reversed = np.split(np.asarray(band.y), 2)
    np.testing.assert_allclose(upper, bands["uncertainty"].upper * 1000.0)
    np.testing.assert_allclose(lower_reversed[::-1], bands["uncertainty"].lower * 1000.0)
    assert list(band.x) == [30, 45, 60, 60, 45, 30]
    assert np.all(upper >= mean.y) and np.all(lower_reversed[::-1] <= mean.y) and upper[-1] > mean.y[-1]


def test_diagnostic_figure_drops_rounds_without_a_value_and_keeps_correlations_unscaled():
    fig = diagnostic_figure(curve_bands(RESULTS, "spearman"), "spearman", unit="meV/atom", scale=1000.0)
    mean = _by_role(fig, "mean")[0]
    assert list(mean.x) == [45, 60]  # round 0 has no Spearman value (NaN)
    np.testing.assert_allclose(mean.y, [0.2, 0.4])
    pool = diagnostic_figure(curve_bands(RESULTS, "mean_pool_std"), "mean_pool_std", unit="meV/atom", scale=1000.0)
    assert "meV/atom" in pool.layout.yaxis.title.text
    np.testing.assert_allclose(_by_role(pool, "mean")[0].y[0], 25.0)
    with pytest.raises(ValueError, match="metric"):
        diagnostic_figure(curve_bands(RESULTS, "rmse"), "rmse", unit="meV/atom", scale=1000.0)


def test_html_export_embeds_plotly_js_and_png_button_is_configured():
    fig = learning_curve_figure(curve_bands(RESULTS), unit="meV/atom", scale=1000.0)
    html = figure_html(fig)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert not re.search(r"<script[^>]*\bsrc=", html)  # no script is fetched from a network
    assert len(html) > 1_000_000  # plotly.js itself is inside the file
    options = png_button_config("alcore-compare-TiO2")["toImageButtonOptions"]
    assert options == {"format": "png", "filename": "alcore-compare-TiO2", "scale": 2}
