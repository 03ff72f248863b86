"""A disk cache of parsed datasets, so a named dataset file is parsed once per machine, not once per process.

Parsing is the slowest part of starting the app: ase's extended-XYZ reader takes 0.8-1.3 s for a bundled pool of
1 700 frames (mostly parsing each frame's key=value header), while reading the same dataset back from ``.npz`` arrays
takes well under 0.1 s. The cache key is the SHA-256 of the file's bytes, the importer and its options and the source
code of the reading path, so an edited file or an edited importer is simply a new entry; nothing is ever stale.
The file holds plain arrays (read with ``allow_pickle=False``); a damaged or unreadable entry is parsed again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from ase import Atoms

from alcore.atomic import read_npz, write_npz
from alcore.cache import cache_dir
from alcore.datasets import base

FORMAT_VERSION = "parsed-dataset/1"
HASH_CHUNK = 1 << 20


def dataset_to_arrays(dataset: base.Dataset) -> dict[str, np.ndarray]:
    """Every field of ``dataset`` as flat arrays (ragged per-atom arrays are concatenated with offsets)."""
    atoms = dataset.atoms
    counts = np.array([len(a) for a in atoms], dtype=np.int64)
    arrays: dict[str, np.ndarray] = {
        "counts": counts,
        "numbers": np.concatenate([a.numbers for a in atoms]).astype(np.int64),
        "positions": np.concatenate([a.positions for a in atoms]).astype(np.float64),
        "cells": np.stack([a.cell.array for a in atoms]).astype(np.float64),
        "pbc": np.stack([a.pbc for a in atoms]).astype(bool),
        "ids": np.array(dataset.ids, dtype=str),
        "meta": np.array(json.dumps({"name": dataset.name, "provenance": dataset.provenance,
                                     "targets": list(dataset.targets)})),
    }
    has_magmoms = np.array([a.has("initial_magmoms") for a in atoms], dtype=bool)
    if has_magmoms.any():
        arrays["has_magmoms"] = has_magmoms
        arrays["magmoms"] = np.concatenate([a.get_initial_magnetic_moments() for a in atoms]).astype(np.float64)
    for i, key in enumerate(dataset.targets):
        arrays[f"target_{i}"] = np.asarray(dataset.targets[key], dtype=np.float64)
    if dataset.forces is not None:
        present = np.array([f is not None for f in dataset.forces], dtype=bool)
        arrays["has_forces"] = present
        blocks = [np.zeros((n, 3)) if f is None else np.asarray(f, dtype=np.float64)
                  for f, n in zip(dataset.forces, counts)]
        arrays["forces"] = np.concatenate(blocks)
    if dataset.stress is not None:
        arrays["has_stress"] = np.array([s is not None for s in dataset.stress], dtype=bool)
        arrays["stress"] = np.stack([np.asarray(s, dtype=np.float64) if s is not None else np.zeros(6)
                                     for s in dataset.stress])
    if dataset.kinds is not None:
        arrays["kinds"] = np.array(dataset.kinds, dtype=str)
    return arrays


def dataset_from_arrays(arrays: Mapping[str, np.ndarray]) -> base.Dataset:
    """The dataset ``dataset_to_arrays`` flattened (same structures, targets, forces, ids and provenance)."""
    meta = json.loads(str(arrays["meta"]))
    counts = arrays["counts"]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    pieces = lambda name: [arrays[name][a:b] for a, b in zip(bounds[:-1], bounds[1:])]  # noqa: E731
    structures = []
    for numbers, positions, cell, pbc in zip(pieces("numbers"), pieces("positions"), arrays["cells"], arrays["pbc"]):
        structures.append(Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc))
    if "has_magmoms" in arrays:
        for atoms, present, moments in zip(structures, arrays["has_magmoms"], pieces("magmoms")):
            if present:
                atoms.set_initial_magnetic_moments(moments)
    forces = stress = None
    if "has_forces" in arrays:
        forces = tuple(f if present else None for f, present in zip(pieces("forces"), arrays["has_forces"]))
    if "has_stress" in arrays:
        stress = tuple(s if present else None for s, present in zip(arrays["stress"], arrays["has_stress"]))
    return base.Dataset(
        name=meta["name"],
        atoms=tuple(structures),
        targets={key: np.array(arrays[f"target_{i}"]) for i, key in enumerate(meta["targets"])},
        ids=tuple(str(i) for i in arrays["ids"]),
        forces=forces,
        stress=stress,
        kinds=tuple(str(k) for k in arrays["kinds"]) if "kinds" in arrays else None,
        provenance=meta["provenance"],
    )


@lru_cache(maxsize=None)
def _code_hash(reader: Callable[..., base.Dataset]) -> str:
    """The source code every importer may depend on: the importer's module and all of ``alcore.datasets`` and
    ``alcore.sources`` (a few dozen small files, hashed once per process)."""
    h = hashlib.sha256(FORMAT_VERSION.encode())
    h.update(inspect.getsource(inspect.getmodule(reader)).encode())
    root = Path(base.__file__).resolve().parents[1]
    for folder in ("datasets", "sources"):
        for path in sorted((root / folder).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(path: Path, format: str, options: Mapping[str, Any], reader: Callable[..., base.Dataset]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            h.update(chunk)
    h.update(json.dumps([format, sorted((str(k), repr(v)) for k, v in options.items()), _code_hash(reader)]).encode())
    return h.hexdigest()[:32]


def read_cached(path: Path, format: str, options: Mapping[str, Any], reader: Callable[..., base.Dataset]
                ) -> base.Dataset:
    """``reader(path, **options)``, through the disk cache when ``path`` is a single file."""
    path = Path(path)
    if not path.is_file():
        return reader(path, **dict(options))
    entry = cache_dir("datasets") / f"{cache_key(path, format, options, reader)}.npz"
    if entry.is_file():
        try:
            return dataset_from_arrays(read_npz(entry))
        except (OSError, ValueError, KeyError, TypeError, base.DatasetError):
            pass  # a damaged entry: parse the file again and replace it
    dataset = reader(path, **dict(options))
    try:
        write_npz(entry, **dataset_to_arrays(dataset))
    except OSError:
        pass  # a read-only cache folder costs speed, not correctness
    return dataset
