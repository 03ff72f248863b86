"""Cached lessons for the Learn page: each is computed once per (dataset, seed, control value) and shared read-only by
every session, so a class opening the page at once trains one committee, not thirty.

The lessons use registered datasets only, so ``(dataset, seed)`` identifies the Problem passed in (not hashed);
``reference`` is the energy-reference choice as JSON text (``reference_key``), hashable for the caches.
The fits run with one OpenMP thread: the lesson's networks are tiny, and when the cores are shared (a server with
several sessions) torch's spinning OpenMP workers made the learning curves 10-20x slower (21.6 s vs 1.2 s measured
on 2 busy cores). The limit applies to the calling script thread only.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import numpy as np
import streamlit as st

from alcore.comparison.grid import RunResult
from alcore.lessons import (
    CommitteeSnapshot,
    committee_snapshot,
    learning_curves,
    lesson_config,
    strategy_picks,
)
from alcore.loop import Problem
from ui.datasets import problem_for
from ui.threads import one_thread


def reference_key(fields: Mapping[str, Any]) -> str:
    """RunConfig's energy-reference fields as the text the caches key on."""
    return json.dumps(dict(fields), sort_keys=True)


def _config(dataset: str, seed: int, reference: str):
    return lesson_config(dataset, seed, **json.loads(reference))


def lesson_problem(dataset: str, seed: int) -> Problem:
    """The lesson's descriptors and split (cached by ``ui.datasets``)."""
    return problem_for(lesson_config(dataset, seed))


@st.cache_resource(show_spinner="Training a committee of 5 models on 30 labelled structures…", max_entries=16)
def lesson_snapshot(dataset: str, seed: int, reference: str, _problem: Problem) -> CommitteeSnapshot:
    with one_thread():
        return committee_snapshot(_problem, _config(dataset, seed, reference))


def lesson_picks(dataset: str, seed: int, reference: str, strategy_params: dict[str, dict],
                 problem: Problem) -> dict[str, np.ndarray]:
    """Every lesson strategy's next batch with its options (``strategy_params[name]``), cached per option values."""
    frozen = tuple((s, tuple(sorted(p.items()))) for s, p in sorted(strategy_params.items()))
    return _lesson_picks(dataset, seed, reference, frozen, problem)


@st.cache_resource(show_spinner="Asking each strategy for its next batch…", max_entries=64)
def _lesson_picks(dataset: str, seed: int, reference: str, options: tuple, _problem: Problem) -> dict[str, np.ndarray]:
    snapshot = lesson_snapshot(dataset, seed, reference, _problem)
    params = {s: dict(p) for s, p in options}
    return strategy_picks(_problem, snapshot, _config(dataset, seed, reference), strategy_params=params)


@st.cache_resource(show_spinner="Running 4 rounds of each strategy from 3 starting sets…", max_entries=32)
def lesson_curves(dataset: str, seed: int, reference: str, rival: str, _problem: Problem) -> list[RunResult]:
    with one_thread():
        return learning_curves(_problem, _config(dataset, seed, reference), ("random", rival))
