"""The shared feature pipeline: featurise in chunks, cache raw features on disk, impute, drop constants, standardise.

Descriptors are unlabelled, so the scaler is fitted on the whole dataset (pool-based AL may look at all of it).
Raw features are cached under ``cache_dir("descriptors")``, keyed by the dataset fingerprint, the descriptor name,
its params and the family's ``version``; a corrupt cache file is recomputed, never fatal. Before computing, the
pipeline also looks for a file of the same name shipped with the bundled pools in ``<repo>/data/features/``
(float32, written by ``python -m alcore data build``); it is used only if its stored fingerprint and shape match.

Besides the base contract, a family whose feature layout depends on the data (``soap``/``rdf``: one block per
species pair) offers ``fit(dataset) -> self``; the pipeline calls it on the whole dataset before featurising chunks.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from alcore.atomic import read_npz, write_npz
from alcore.datasets.base import Dataset
from alcore.descriptors.base import DESCRIPTORS
from alcore.paths import cache_dir, shipped_features_dir

log = logging.getLogger(__name__)

CHUNK_SIZE = 200  # structures per featurize call: the granularity of progress reports
CONSTANT_STD = 1e-12


@dataclass(frozen=True, eq=False)
class FeatureSet:
    """Standardised features of one dataset, with what was dropped (constant) and imputed (had NaN/inf)."""

    X: np.ndarray  # (n, d) float32, zero mean / unit variance per column
    labels: tuple[str, ...]
    dropped: tuple[str, ...]
    imputed: tuple[str, ...]
    descriptor: str
    params: dict[str, Any]
    dataset_fingerprint: str

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def make_descriptor(descriptor: str, params: dict[str, Any] | None = None):
    """Instantiate a registered family; unknown option names are reported with the known ones."""
    cls = DESCRIPTORS.get(descriptor)
    params = dict(params or {})
    known = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"descriptor {descriptor!r} has no option(s) {unknown}; known options: {known}")
    return cls(**params)


def cache_key(fingerprint: str, descriptor: str, params: dict[str, Any], version: int) -> str:
    blob = json.dumps(
        {"dataset": fingerprint, "descriptor": descriptor, "params": params, "version": version}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cache_file(dataset: Dataset | str, descriptor: str, params: dict[str, Any] | None = None) -> Path:
    """Where the raw features of a dataset (or its fingerprint) under ``descriptor``/``params`` are cached."""
    fingerprint = dataset if isinstance(dataset, str) else dataset.fingerprint()
    instance = make_descriptor(descriptor, params)
    key = cache_key(fingerprint, descriptor, instance.params(), getattr(type(instance), "version", 0))
    return cache_dir("descriptors") / f"{descriptor}-{key}.npz"


def _load_cached(path: Path, n: int, fingerprint: str) -> tuple[np.ndarray, list[str]] | None:
    if not path.is_file():
        return None
    try:
        data = read_npz(path)
        raw, labels = np.asarray(data["features"], dtype=float), [str(s) for s in data["labels"]]
        if str(data["fingerprint"]) != fingerprint or raw.shape != (n, len(labels)):
            raise ValueError(f"shape {raw.shape} / {len(labels)} labels do not match {n} structures")
    except Exception as exc:  # any unreadable/mismatched file: recompute and overwrite
        log.warning("descriptor cache %s is unusable (%s); recomputing", path, exc)
        return None
    return raw, labels


def featurize_raw(
    dataset: Dataset,
    descriptor: str = "paper",
    params: dict[str, Any] | None = None,
    *,
    cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Raw (unscaled) features and their labels, from the on-disk cache when possible."""
    raw, labels, _ = _featurize_raw(dataset, descriptor, params, cache=cache, progress=progress)
    return raw, labels


def _featurize_raw(
    dataset: Dataset,
    descriptor: str,
    params: dict[str, Any] | None,
    *,
    cache: bool,
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, list[str], str]:
    instance = make_descriptor(descriptor, params)
    n = len(dataset)
    fingerprint = dataset.fingerprint()
    path = cache_file(fingerprint, descriptor, params)
    if cache:
        hit = _load_cached(path, n, fingerprint)
        if hit is None:
            hit = _load_cached(shipped_features_dir() / path.name, n, fingerprint)
        if hit is not None:
            if progress is not None:
                progress(n, n)
            return (*hit, fingerprint)
    if hasattr(instance, "fit"):
        instance.fit(dataset)  # layout (e.g. species) must come from the whole dataset, not from one chunk
    if progress is not None:
        progress(0, n)
    blocks = []
    for start in range(0, n, CHUNK_SIZE):
        chunk = dataset.subset(range(start, min(n, start + CHUNK_SIZE)))
        block = np.asarray(instance.featurize(chunk), dtype=float)
        if block.ndim != 2 or block.shape[0] != len(chunk):
            raise RuntimeError(f"descriptor {descriptor!r} returned shape {block.shape} for {len(chunk)} structures")
        blocks.append(block)
        if progress is not None:
            progress(start + len(chunk), n)
    raw = np.vstack(blocks)
    labels = list(instance.feature_labels())
    if raw.shape[1] != len(labels):
        raise RuntimeError(f"descriptor {descriptor!r} gave {raw.shape[1]} features but {len(labels)} labels")
    if cache:
        write_npz(path, features=raw, labels=np.array(labels, dtype=str), fingerprint=np.array(fingerprint))
    return raw, labels, fingerprint


def standardise(
    raw: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Impute non-finite entries with the column median, drop constant columns, scale to zero mean / unit variance.

    Returns ``(X float32, kept labels, dropped labels, imputed labels)``. A column with no finite value becomes
    constant (zero) and is dropped.
    """
    X = np.array(raw, dtype=float, copy=True)
    bad = ~np.isfinite(X)
    imputed_columns = np.flatnonzero(bad.any(axis=0))
    for c in imputed_columns:
        finite = X[~bad[:, c], c]
        X[bad[:, c], c] = float(np.median(finite)) if finite.size else 0.0
    keep = X.std(axis=0) >= CONSTANT_STD * np.maximum(1.0, np.abs(X).max(axis=0))
    if not keep.any():
        raise ValueError("every feature is constant over the dataset (one structure, or identical ones?)")
    kept_columns = X[:, keep]
    # z-scores as scikit-learn's StandardScaler computes them (tests/unit/test_descriptors.py checks they are
    # bit-identical); written out so that the app's first page does not wait 0.5-1 s for scikit-learn to import
    scaled = ((kept_columns - kept_columns.mean(axis=0)) / kept_columns.std(axis=0)).astype(np.float32)
    scaled.setflags(write=False)
    kept = tuple(label for label, k in zip(labels, keep, strict=True) if k)
    dropped = tuple(label for label, k in zip(labels, keep, strict=True) if not k)
    imputed = tuple(labels[c] for c in imputed_columns)
    return scaled, kept, dropped, imputed


def compute_features(
    dataset: Dataset,
    descriptor: str = "paper",
    params: dict[str, Any] | None = None,
    *,
    cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> FeatureSet:
    """Standardised descriptor matrix of ``dataset`` (see the module docstring for caching and cleaning)."""
    raw, labels, fingerprint = _featurize_raw(dataset, descriptor, params, cache=cache, progress=progress)
    try:
        X, kept, dropped, imputed = standardise(raw, labels)
    except ValueError as exc:
        raise ValueError(f"{dataset.label} with descriptor {descriptor!r}: {exc}") from None
    return FeatureSet(
        X=X,
        labels=kept,
        dropped=dropped,
        imputed=imputed,
        descriptor=descriptor,
        params=make_descriptor(descriptor, params).params(),
        dataset_fingerprint=fingerprint,
    )


def describe_descriptors() -> list[dict[str, Any]]:
    """Name, default params and a one-line description of every registered family (for the CLI and the app)."""
    rows = []
    for spec in DESCRIPTORS.specs():
        rows.append({"name": spec.name, "params": DESCRIPTORS.get(spec.name)().params(), "description": spec.summary})
    return rows
