"""Every strategy option has its widget on Explore, Compare and Learn, restored from the URL and passed to the run.

Options are read from the registry specs (no hand-kept lists): a new strategy's options are tested on arrival.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alcore.strategies import STRATEGIES
from ui.explore_settings import RESERVED

APP = str(Path(__file__).resolve().parents[2] / "app.py")
WIDGETS = ("slider", "number_input", "selectbox", "toggle", "text_input")
WITH_OPTIONS = [s.name for s in STRATEGIES.specs() if s.options]


def widget(at: AppTest, key: str):
    found = [w for kind in WIDGETS for w in at.get(kind) if getattr(w, "key", None) == key]
    assert len(found) == 1, f"no single widget with key {key!r}"
    return found[0]


def examples(prefix: str, strategy: str, reserved=()) -> dict[str, tuple[str, object]]:
    """widget key -> (option name, a valid non-default value) for each option of ``strategy``."""
    keys = STRATEGIES.option_keys(prefix, reserved)
    return {keys[(strategy, o.name)]: (o.name, o.example()) for o in STRATEGIES.spec(strategy).options}


@pytest.mark.parametrize("strategy", WITH_OPTIONS)
def test_explore_draws_each_option_and_runs_with_the_linked_value(strategy):
    at = AppTest.from_file(APP, default_timeout=180)
    chosen = examples("", strategy, RESERVED)
    at.query_params.update({"dataset": "Si", "epochs": "20", "members": "3", "budget": "60", "strategy": strategy}
                           | {key: str(value) for key, (_, value) in chosen.items()})
    at.run()
    assert not at.exception and not at.error
    config = at.session_state["explore"].state.config
    assert config.strategy_params == {name: value for name, value in chosen.values()}
    for key, (_, value) in chosen.items():
        assert widget(at, key).value == value
    at.selectbox(key="branch_strategy").set_value(strategy).run()
    for key in examples("branch_", strategy):
        widget(at, key)


def test_compare_has_every_option_enabled_only_for_chosen_strategies():
    at = AppTest.from_file(APP, default_timeout=180)
    chosen = {k: v for s in WITH_OPTIONS for k, v in examples("cmp_", s, ()).items()}
    at.query_params.update({"cmp_dataset": "TiO2", "cmp_strategies": ",".join(WITH_OPTIONS)}
                           | {key: str(value) for key, (_, value) in chosen.items()})
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    described = " ".join(c.value for c in at.caption)
    for key, (name, value) in chosen.items():
        assert widget(at, key).value == value and not widget(at, key).disabled
        assert f"{name}={value}" in described  # the request carries the option
    at.multiselect(key="cmp_strategies").set_value(["random"]).run()
    assert all(widget(at, key).disabled for key in chosen)


def test_learn_has_every_option_of_its_strategies():
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/learn.py").run()
    assert not at.exception
    reserved = ("learn_dataset", "learn_seed", "learn_strategy", "learn_rival")
    keys = {k for s in WITH_OPTIONS for k in examples("learn_", s, reserved)}
    for key in keys:
        widget(at, key)
