"""Every registry entry against its contract and its spec: no hand-kept lists, a new plug-in is tested on arrival."""

from __future__ import annotations

import inspect
import re
from typing import Annotated, Literal

import numpy as np
import pytest

from alcore.cli import OTHER_FLAGS, _config_from_args, build_parser, main
from alcore.committee import COMMITTEES
from alcore.descriptors import DESCRIPTORS
from alcore.registry import Option, Registry, UnknownOption
from alcore.strategies import STRATEGIES, PoolView, select

SPECS = STRATEGIES.specs()
OPTIONS = [(s.name, o) for s in SPECS for o in s.options]


def _view(seed: int, n_labelled: int) -> PoolView:
    g = np.random.default_rng(seed)
    n_pool = int(g.integers(20, 80))
    return PoolView(mean=g.normal(size=n_pool), std=g.random(n_pool), X_pool=g.normal(size=(n_pool, 3)),
                    X_labelled=g.normal(size=(n_labelled, 3)), y_labelled=g.normal(size=n_labelled))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_strategy_spec_is_complete(spec):
    assert spec.summary and spec.display_name and spec.rule and spec.lesson
    assert re.fullmatch(r"#[0-9a-f]{6}", spec.colour)
    assert spec.rule.startswith(spec.name), "explain_pick quotes the rule after 'Rule:'"


def test_strategy_colours_are_distinct():
    assert len({s.colour for s in SPECS}) == len(SPECS)


@pytest.mark.parametrize(("strategy", "option"), OPTIONS, ids=lambda v: getattr(v, "name", v))
def test_every_option_has_help_and_a_default_inside_its_bounds(strategy, option):
    assert option.help
    assert option.check(option.default) == option.default
    example = option.example()
    assert example != option.default and option.check(example) == example
    assert inspect.signature(STRATEGIES.get(strategy)).parameters[option.name].default == option.default


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("options", ["default", "example"])
@pytest.mark.parametrize("n_labelled", [0, 9])
def test_every_strategy_keeps_the_contract_on_random_views(spec, options, n_labelled):
    params = {o.name: o.example() for o in spec.options} if options == "example" else {}
    for seed in range(5):
        view = _view(seed, n_labelled)
        n = int(np.random.default_rng(seed).integers(1, 15))
        picked = STRATEGIES.get(spec.name)(view, n, np.random.default_rng(seed), **params)
        assert picked.shape == (n,) and len(np.unique(picked)) == n
        assert 0 <= picked.min() and picked.max() < view.n_pool
        np.testing.assert_array_equal(picked, select(spec.name, view, n, np.random.default_rng(seed), **params))


@pytest.mark.parametrize(("strategy", "option"), OPTIONS, ids=lambda v: getattr(v, "name", v))
def test_select_rejects_out_of_bounds_and_unknown_options(strategy, option):
    view = _view(0, 5)
    if option.high is not None:
        with pytest.raises(ValueError, match=option.name):
            select(strategy, view, 3, np.random.default_rng(0), **{option.name: option.high + 1})
    if option.choices is not None:
        with pytest.raises(ValueError, match=option.name):
            select(strategy, view, 3, np.random.default_rng(0), **{option.name: "no-such-choice"})
    with pytest.raises(UnknownOption, match="no_such_option"):
        select(strategy, view, 3, np.random.default_rng(0), no_such_option=1)


@pytest.mark.parametrize(("strategy", "option"), OPTIONS, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("command", ["run", "compare"])
def test_the_cli_accepts_every_option_and_applies_it_only_where_it_exists(strategy, option, command):
    flag = "--" + STRATEGIES.option_keys("", OTHER_FLAGS)[(strategy, option.name)].replace("_", "-")
    args = build_parser().parse_args([command, flag, str(option.example())])
    assert _config_from_args(args, strategy, 0).strategy_params == {option.name: option.example()}
    for other in STRATEGIES.names():
        applied = _config_from_args(args, other, 0).strategy_params
        assert set(applied) <= set(STRATEGIES.spec(other).option_names())


def test_the_cli_keeps_alpha_and_checks_its_bounds(capsys):
    args = build_parser().parse_args(["run", "--strategy", "hybrid", "--alpha", "0.3"])
    assert _config_from_args(args, "hybrid", 0).strategy_params == {"alpha": 0.3}
    assert _config_from_args(args, "random", 0).strategy_params == {}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--alpha", "1.5"])
    assert "alpha must be in" in capsys.readouterr().err


def test_the_strategies_listing_shows_every_spec_in_plain_text(capsys):
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for spec in SPECS:
        assert spec.name in out and spec.display_name in out
        for option in spec.options:
            assert f"option {option.name}:" in out and repr(option.default) in out
        if spec.citation:
            assert spec.citation in out
    assert "``" not in out and "**" not in out


@pytest.mark.parametrize("registry", [DESCRIPTORS, COMMITTEES], ids=lambda r: r.family)
def test_descriptor_and_committee_specs_come_from_their_signatures(registry):
    for spec in registry.specs():
        cls = registry.get(spec.name)
        assert spec.summary and spec.display_name
        keywords = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "random_state")]
        assert spec.option_names() == keywords
        assert spec.defaults() == {p: inspect.signature(cls.__init__).parameters[p].default for p in keywords}


def test_descriptors_build_with_their_spec_defaults():
    from alcore.descriptors.features import make_descriptor

    for spec in DESCRIPTORS.specs():
        assert make_descriptor(spec.name, spec.defaults()).params() == make_descriptor(spec.name, {}).params()


def test_a_spec_reads_types_bounds_and_choices_from_the_signature():
    registry: Registry = Registry("toy")

    @registry.register("toy", options={"weight": Option(low=0, high=2, help="how much")})
    def toy(view, n, rng, *, weight: float = 1.0, mode: Literal["a", "b"] = "a",
            k: Annotated[int | None, Option(low=1)] = None) -> None:
        """A toy. More text."""

    spec = registry.spec("toy")
    assert spec.summary == "A toy. More text." and spec.display_name == "toy"
    weight, mode, k = spec.options
    assert (weight.kind, weight.bounds, weight.help) == (float, (0, 2), "how much")
    assert (mode.kind, mode.choices) == (str, ("a", "b"))
    assert (k.kind, k.optional, k.low, k.default) == (int, True, 1, None)
    assert k.parse("none") is None and k.parse("3") == 3
    with pytest.raises(ValueError, match="weight must be in"):
        spec.check_options({"weight": 3})


def test_a_default_outside_its_declared_bounds_fails_at_registration():
    registry: Registry = Registry("toy")
    with pytest.raises(ValueError, match="alpha must be in"):
        registry.register("bad", options={"alpha": Option(low=0, high=1)})(lambda view, n, rng, *, alpha=2.0: None)
    with pytest.raises(ValueError, match="declared but are not keyword parameters"):
        registry.register("typo", options={"alhpa": Option(low=0, high=1)})(lambda view, n, rng, *, alpha=0.5: None)
