"""Datasets as the pages see them: the registered ones (bundled pools, real DFT sets) plus this session's uploads.

Registered datasets, descriptor matrices and Problems are immutable and cached for every session; uploads live in
``st.session_state`` only, so two browser tabs never see each other's files. Structure maps (UMAP) are shipped for
the bundled pools; for anything else they are computed once in a background process and cached on disk.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import streamlit as st

from alcore.config import PREPARED_FIELDS, RunConfig
from alcore.datasets import Dataset, list_datasets, load_dataset
from alcore.datasets.sources import SOURCES, find_source, stat_signature
from alcore.embeddings import (
    UMAP_SETTINGS,
    cache_path,
    load_embedding,
    params_hash,
    quick_projection,
    read_matching,
    shipped_path,
)
from alcore.loop import Problem, prepare_dataset
from ui.cached import read_only

UPLOADS = "uploaded_datasets"


@st.cache_data(show_spinner=False, ttl=600)
def registered_names() -> list[str]:
    return [info.name for info in list_datasets() if info.available]


def dataset_names() -> list[str]:
    """Registered datasets available on this machine, then this session's uploads."""
    return registered_names() + list(st.session_state.get(UPLOADS, {}))


def add_upload(dataset: Dataset) -> str:
    """Make an uploaded dataset available to every page of this session; returns its (unique) name."""
    uploads = st.session_state.setdefault(UPLOADS, {})
    name = f"upload:{dataset.name}"
    if name in uploads and uploads[name].fingerprint() != dataset.fingerprint():
        name = f"upload:{dataset.name}-{dataset.fingerprint()[:6]}"
    uploads[name] = dataset
    return name


def is_upload(name: str) -> bool:
    return name in st.session_state.get(UPLOADS, {})


@st.cache_resource(show_spinner=False, max_entries=16)
def _registered(name: str, signature: tuple) -> Dataset:
    return read_only(load_dataset(name))  # one object for every session: a change in place must raise (ui.cached)


def _signature(name: str) -> tuple:
    """Size and mtime of a fetched pool's file: a pool fetched again under the same name is a new cache entry.
    Registered sources (bundled pools, the shared DFT sets) do not change while the server runs."""
    if name in SOURCES:
        return ()
    source = find_source(name)
    return stat_signature(source.path()) if source is not None and source.available() else ()


def get_dataset(name: str) -> Dataset:
    """A dataset by name: this session's upload, else a registered one. Never mutate what it returns."""
    uploads = st.session_state.get(UPLOADS, {})
    return uploads[name] if name in uploads else _registered(name, _signature(name))


@st.cache_resource(show_spinner=False, max_entries=32)
def _problem(fingerprint: str, config_key: str, _dataset: Dataset, _config: RunConfig) -> Problem:
    # the Problem carries its dataset's structures and is shared by every session: an upload is frozen here too
    return prepare_dataset(_config, read_only(_dataset))


def problem_for(config: RunConfig) -> Problem:
    """The Problem (descriptors + split) of ``config``'s dataset/descriptor/target/initial set; shared read-only
    between sessions, keyed by the dataset's content so two uploads with one name never collide."""
    dataset = get_dataset(config.dataset)
    key = repr([(f, getattr(config, f)) for f in (*PREPARED_FIELDS, "seed")])  # the fingerprint stands for the rest
    with st.spinner(f"Computing {config.descriptor} descriptors for {config.dataset}…"):
        return _problem(dataset.fingerprint(), key, dataset, config)


# ---- structure maps -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapStatus:
    """A structure map, or why there is none yet. ``embedding`` is (n, 2) when ready."""

    embedding: np.ndarray | None
    message: str
    failed: bool = False


@st.cache_resource(show_spinner=False)
def _map_jobs() -> dict[tuple[str, str], tuple[Future, float]]:
    return {}


@st.cache_resource(show_spinner=False)
def _map_executor() -> ProcessPoolExecutor:
    """One background process for UMAP fits, so numba's compile and the fit never block a click."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


_MAP_JOBS_LOCK = threading.Lock()


def _fit_map(dataset: Dataset, descriptor: str) -> None:
    load_embedding(dataset, descriptor)  # computes, then writes the on-disk cache the app reads


def structure_map(name: str, descriptor: str) -> MapStatus:
    """The 2-D map of ``name`` under ``descriptor``: shipped or cached at once, else started in the background."""
    dataset = get_dataset(name)
    fingerprint, phash = dataset.fingerprint(), params_hash(descriptor, None)
    for path in (shipped_path(dataset.name, descriptor), cache_path(fingerprint, descriptor, phash)):
        found = read_matching(path, fingerprint, phash, len(dataset))
        if found is not None:
            return MapStatus(found, "ready")
    jobs = _map_jobs()
    key = (fingerprint, descriptor)
    with _MAP_JOBS_LOCK:  # sessions run in threads: look up and change the shared jobs in one step
        entry = jobs.get(key)
        if entry is None:
            entry = jobs[key] = (_map_executor().submit(_fit_map, dataset, descriptor), time.monotonic())
    future, started = entry
    if future.done():
        error = future.exception()
        if error is not None:
            return MapStatus(None, f"the structure map could not be computed: {error}", failed=True)
        with _MAP_JOBS_LOCK:
            if jobs.get(key) is entry:  # another session may have removed it already
                del jobs[key]
        return structure_map(name, descriptor)
    seconds = time.monotonic() - started
    return MapStatus(None, f"computing the UMAP structure map in the background ({seconds:.0f} s so far; "
                           f"UMAP settings {UMAP_SETTINGS})")


@st.cache_data(show_spinner=False, max_entries=32)
def _projection(fingerprint: str, descriptor: str, _X: np.ndarray) -> np.ndarray:
    return quick_projection(_X)


def map_or_projection(name: str, problem: Problem, descriptor: str) -> tuple[np.ndarray, str, str]:
    """(2-D coordinates, axis name, note): the UMAP map when ready, else a PCA projection while it is computed."""
    status = structure_map(name, descriptor)
    if status.embedding is not None:
        return status.embedding, "UMAP", ""
    projection = _projection(problem.dataset_fingerprint, descriptor, problem.X)
    return projection, "PCA", f"Showing a PCA projection: {status.message}"
