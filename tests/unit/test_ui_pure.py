"""Pure parts of the UI layer: URL settings parsing and the Explore figures (no Streamlit runtime needed)."""

import numpy as np
import pytest

from alcore.explain import calibration, map_frame
from alcore.loop import run
from tests.synthetic import synthetic_problem
from ui.figures import explore as figs
from ui.urlstate import Setting


def test_settings_parse_and_format_round_trip():
    choice = Setting("strategy", "random", str, options=["random", "kcenter"])
    assert choice.parse("kcenter") == "kcenter"
    with pytest.raises(ValueError, match="not one of"):
        choice.parse("nope")
    number = Setting("seed", 0, int, bounds=(0, 10))
    assert number.parse("7") == 7 and number.format(7) == "7"
    with pytest.raises(ValueError, match="outside"):
        number.parse("11")
    with pytest.raises(ValueError):
        number.parse("x")
    flag = Setting("show", True, bool)
    assert flag.parse("false") is False and flag.format(True) == "true"
    with pytest.raises(ValueError, match="true or false"):
        flag.parse("maybe")
    many = Setting("s", ["a"], str, options=["a", "b", "c"], multi=True)
    assert many.parse("a,c") == ["a", "c"] and many.parse(["a", "b"]) == ["a", "b"]
    assert many.format(["b", "c"]) == "b,c" and many.valid(["a"]) and not many.valid(["z"])


@pytest.fixture(scope="module")
def state():
    config, problem = synthetic_problem(strategy="diversity", budget=50)
    return run(config, problem)


def test_structure_map_draws_each_role_and_keeps_indices_for_clicks(state):
    n = len(state.problem.y)
    emb = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    frame = map_frame(state, 1, emb)
    fig = figs.structure_map(frame, "role", show_test=False, show_random=True, highlight=int(frame["index"][0]))
    names = [t.name for t in fig.data]
    assert any(name.startswith("selected (10)") for name in names)
    assert any(name.startswith("random would pick (10)") for name in names)
    assert not any(name.startswith("test") for name in names)
    pool = next(t for t in fig.data if t.name.startswith("pool"))
    assert set(pool.customdata[:, 0].astype(int)) == set(frame[frame.role == "pool"]["index"])
    coloured = figs.structure_map(frame, "std", show_test=True, show_random=False)
    assert coloured.data[0].marker.showscale and len(coloured.data[0].x) == n - (frame.role == "unused").sum()


def test_round_figures_use_meV_and_report_their_statistics(state):
    record = state.rounds[1]
    y_test = state.problem.y[state.problem.split.test]
    hist = figs.std_histogram(record, state.rounds[0])
    assert len(hist.data) == 2 and np.allclose(hist.data[1].x, record.pool_std * 1000)
    assert f"{record.spearman:.2f}" in figs.std_vs_error(record, y_test).layout.title.subtitle.text
    cal = calibration(record.test_std, record.test_mean - y_test)
    assert f"{cal.ratio:.2f}" in figs.calibration_plot(cal).layout.title.subtitle.text
    curves = figs.learning_curves({"a": state}, state, "a", record.n_labels)
    assert len(curves.data) == 2 and np.allclose(curves.data[1].y, state.curve()[1] * 1000)
    assert len(figs.parity(record, y_test).data[1].x) == len(y_test)
