"""Cached wrappers around alcore for the pages. Heavy immutable things are cached; per-user state is not."""

from __future__ import annotations

import streamlit as st

from alcore.config import RunConfig
from alcore.datasets import list_datasets
from alcore.loop import Problem, prepare


@st.cache_data(show_spinner=False)
def available_datasets() -> list[str]:
    return [info.name for info in list_datasets() if info.available]


@st.cache_resource(show_spinner="Loading the dataset and computing descriptors…", max_entries=16)
def problem_for(dataset: str, descriptor: str, target: str, n_initial: int, seed: int) -> Problem:
    """One immutable Problem per data setting (its arrays are read-only, so sharing between sessions is safe)."""
    config = RunConfig(dataset=dataset, descriptor=descriptor, target=target, n_initial=n_initial, seed=seed)
    return prepare(config)
