"""2-D UMAP maps of a pool's descriptor space, for the app's structure map.

``load_embedding`` looks in three places, cheapest first:

1. the file shipped with a bundled pool, ``data/embeddings/<dataset name>-<descriptor>.npz``, used only if the
   dataset fingerprint and the params hash stored inside match (a stale shipped file is ignored, never trusted);
2. the on-disk cache ``cache_dir("embeddings")``, keyed by fingerprint and params hash;
3. a fresh UMAP fit on the standardised features, then cached (written atomically).

A fresh fit costs 10-40 s of numba compilation on first use, so callers must run it in the background, never on a
click path. ``umap-learn`` is imported lazily inside ``compute_embedding``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import numpy as np

from alcore.atomic import read_npz, write_npz
from alcore.datasets.base import Dataset
from alcore.filenames import MAX_NAME_BYTES, check_name
from alcore.paths import cache_dir, shipped_embeddings_dir

log = logging.getLogger(__name__)

UMAP_SETTINGS = {"n_neighbors": 15, "min_dist": 0.1, "random_state": 0}
EMBEDDING_VERSION = 1  # bump when the way an embedding is computed changes
MIN_POINTS = 4


def compute_embedding(
    X: np.ndarray, *, n_neighbors: int = 15, min_dist: float = 0.1, random_state: int = 0
) -> np.ndarray:
    """UMAP of ``X`` (n, d) to (n, 2) float32; deterministic for a given ``random_state``."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] < MIN_POINTS:
        raise ValueError(f"compute_embedding: need a 2-D array with >= {MIN_POINTS} rows, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("compute_embedding: X contains NaN or inf")
    import umap

    reducer = umap.UMAP(
        n_jobs=1,  # a fixed random_state forces one job anyway
        n_components=2,
        n_neighbors=int(min(n_neighbors, X.shape[0] - 1)),
        min_dist=float(min_dist),
        random_state=int(random_state),
        init="spectral" if X.shape[0] > MIN_POINTS * 4 else "random",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return np.asarray(reducer.fit_transform(X), dtype=np.float32)


def quick_projection(X: np.ndarray) -> np.ndarray:
    """A 2-D PCA of ``X`` (milliseconds, no compilation): the map shown while a UMAP map is computed."""
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype=np.float32)
    if X.shape[1] < 2:
        return np.column_stack([X[:, 0], np.zeros(len(X), dtype=np.float32)])
    return PCA(n_components=2, random_state=0).fit_transform(X).astype(np.float32)


def params_hash(descriptor: str, params: dict[str, Any] | None = None) -> str:
    """A hash of everything besides the data that determines an embedding (descriptor, its params and version, UMAP)."""
    from alcore.descriptors.features import make_descriptor

    instance = make_descriptor(descriptor, params)
    blob = json.dumps(
        {
            "descriptor": descriptor,
            "params": instance.params(),
            "descriptor_version": getattr(type(instance), "version", 0),
            "umap": UMAP_SETTINGS,
            "embedding_version": EMBEDDING_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def shipped_path(dataset_name: str, descriptor: str, data_dir: Path | None = None) -> Path:
    """Where a bundled pool's map would be. Any dataset name maps to a file *inside* the embeddings folder (names are
    percent-quoted; bundled names such as ``TiO2`` are unchanged), so an odd or hostile name can only miss."""
    name = quote(f"{dataset_name}-{descriptor}", safe="", errors="surrogatepass")
    if len(name) > MAX_NAME_BYTES:
        name = "long-" + hashlib.sha256(name.encode()).hexdigest()
    return shipped_embeddings_dir(data_dir) / f"{name}.npz"


def cache_path(fingerprint: str, descriptor: str, phash: str) -> Path:
    return cache_dir("embeddings") / check_name(f"{descriptor}-{fingerprint}-{phash}.npz", "embedding cache entry")


def save_embedding(path: Path, embedding: np.ndarray, *, fingerprint: str, phash: str, descriptor: str) -> Path:
    write_npz(
        path,
        embedding=np.asarray(embedding, dtype=np.float32),
        fingerprint=np.array(fingerprint),
        params_hash=np.array(phash),
        descriptor=np.array(descriptor),
    )
    return path


def read_matching(path: Path, fingerprint: str, phash: str, n: int) -> np.ndarray | None:
    """The embedding stored at ``path`` if it belongs to this data and these params, else ``None``."""
    if not path.is_file():
        return None
    try:
        data = read_npz(path)
        embedding = np.asarray(data["embedding"], dtype=np.float32)
        stored = (str(data["fingerprint"]), str(data["params_hash"]))
    except (ValueError, KeyError) as exc:
        log.warning("embedding file %s is unusable (%s); ignoring it", path, exc)
        return None
    if stored != (fingerprint, phash) or embedding.shape != (n, 2):
        log.info("embedding file %s is stale (fingerprint/params/shape differ); ignoring it", path)
        return None
    return embedding


def load_embedding(
    dataset: Dataset,
    descriptor: str,
    params: dict[str, Any] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    data_dir: Path | None = None,
) -> np.ndarray:
    """The (n, 2) float32 map of ``dataset`` under ``descriptor``: shipped, cached or computed (see module docstring).

    ``progress(done, total)`` reports feature computation when a fit is needed.
    """
    from alcore.descriptors.features import compute_features

    fingerprint = dataset.fingerprint()
    phash = params_hash(descriptor, params)
    n = len(dataset)
    for path in (shipped_path(dataset.name, descriptor, data_dir), cache_path(fingerprint, descriptor, phash)):
        found = read_matching(path, fingerprint, phash, n)
        if found is not None:
            if progress is not None:
                progress(n, n)
            return found
    features = compute_features(dataset, descriptor, params, progress=progress)
    embedding = compute_embedding(features.X, **UMAP_SETTINGS)
    save_embedding(cache_path(fingerprint, descriptor, phash), embedding, fingerprint=fingerprint, phash=phash,
                   descriptor=descriptor)
    return embedding
