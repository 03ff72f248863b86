"""Widgets, URL settings and run options for strategy options, all built from the strategies' registry specs.

A page never names an option: it asks for the settings of a key ``prefix`` (``""`` on Explore, so ``?alpha=0.3``
links keep working; ``cmp_``, ``learn_``, ``branch_`` elsewhere), draws ``option_widgets`` for the strategies in view
and turns the values into ``strategy_params`` with ``params_for``. Strategies whose options share a name and a type
(``k`` of diversity and cluster_uncertainty) share one widget; otherwise the key is ``<prefix><strategy>_<option>``.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import streamlit as st

from alcore.registry import OptionSpec
from alcore.strategies import STRATEGIES
from ui.urlstate import Setting


def option_keys(prefix: str, reserved: Iterable[str] = ()) -> dict[tuple[str, str], str]:
    """``(strategy, option) -> widget key`` for every option of every registered strategy."""
    return STRATEGIES.option_keys(prefix, reserved)


def _unique(prefix: str, strategies: Iterable[str], reserved: Iterable[str]) -> dict[str, tuple[OptionSpec, list[str]]]:
    """widget key -> (its option spec, the strategies it applies to), in registration order."""
    keys = option_keys(prefix, reserved)
    out: dict[str, tuple[OptionSpec, list[str]]] = {}
    for strategy in strategies:
        for o in STRATEGIES.spec(strategy).options:
            key = keys[(strategy, o.name)]
            out.setdefault(key, (o, []))[1].append(strategy)
    return out


def option_settings(prefix: str, reserved: Iterable[str] = ()) -> list[Setting]:
    """One URL-backed ``Setting`` per option widget of every registered strategy."""
    settings = []
    for key, (o, _) in _unique(prefix, STRATEGIES.names(), reserved).items():
        bounds = None if o.low is None and o.high is None else (
            o.low if o.low is not None else float("-inf"), o.high if o.high is not None else float("inf"))
        settings.append(Setting(key, o.default, o.kind if o.kind in (int, float, bool) else str,
                                options=o.choices, bounds=bounds, optional=o.optional))
    return settings


def option_widgets(prefix: str, strategies: Iterable[str], reserved: Iterable[str] = (),
                   enabled: Iterable[str] | None = None, with_defaults: bool = False) -> list[str]:
    """Draw one widget per option of ``strategies`` (in the current container) and return their keys. A widget is
    disabled unless one of its strategies is in ``enabled`` (default: all). ``with_defaults``: the widget starts at
    the option's default (for widgets that are not URL settings restored beforehand)."""
    enabled = None if enabled is None else set(enabled)
    drawn = []
    for key, (o, users) in _unique(prefix, strategies, reserved).items():
        names = ", ".join(STRATEGIES.spec(s).display_name for s in users)
        label = o.label or f"{names}: {o.name}"
        kwargs: dict[str, Any] = dict(key=key, help=f"{o.help} ({names})" if o.help else names,
                                      disabled=enabled is not None and not enabled & set(users))
        if with_defaults:
            kwargs["value" if o.choices is None else "index"] = (
                o.default if o.choices is None else list(o.choices).index(o.default))
        if o.choices is not None:
            st.selectbox(label, list(o.choices), **kwargs)
        elif o.kind is bool:
            st.toggle(label, **kwargs)
        elif o.kind is float and o.low is not None and o.high is not None:
            st.slider(label, float(o.low), float(o.high), step=(o.high - o.low) / 20, **kwargs)
        elif o.kind in (int, float):
            step = 1 if o.kind is int else 0.01
            low = None if o.low is None else o.kind(o.low)
            high = None if o.high is None else o.kind(o.high)
            st.number_input(label, min_value=low, max_value=high, step=step,
                            placeholder="default" if o.optional else None, **kwargs)
        else:
            st.text_input(label, **kwargs)
        drawn.append(key)
    return drawn


def params_for(values: Mapping[str, Any], prefix: str, strategy: str, reserved: Iterable[str] = ()) -> dict[str, Any]:
    """``strategy``'s options from widget values; None (an optional option left empty) means its default rule and is
    left out, so default runs keep the config they always had."""
    keys = option_keys(prefix, reserved)
    params = {}
    for o in STRATEGIES.spec(strategy).options:
        value = values.get(keys[(strategy, o.name)], o.default)
        if value is not None:
            params[o.name] = value
    return params
