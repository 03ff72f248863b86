"""A disk cache of parsed datasets, so a named dataset file is parsed once per machine, not once per process.

Parsing is the slowest part of starting the app: ase's extended-XYZ reader takes 0.8-1.3 s for a bundled pool of
1 700 frames (mostly parsing each frame's key=value header), while reading the same dataset back from ``.npz`` arrays
takes well under 0.1 s. The cache key is the SHA-256 of the file's bytes, the importer and its options and the source
code of the reading path, so an edited file or an edited importer is simply a new entry; nothing is ever stale.
The file holds plain arrays (read with ``allow_pickle=False``); a damaged or unreadable entry is parsed again.

The bundled pools also ship their parsed arrays (``data/parsed/<system>.npz``, ``write_shipped``), so even the first
start on a fresh machine skips the parse. A shipped file is stamped with ``source_digest`` of the file it was parsed
from and is used only while that stamp matches; that the arrays still equal what the importer reads today is checked
by a test (tests/integration/test_bundled_pools.py), since the code hash cannot be part of a file under version control.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from ase import Atoms

from alcore.atomic import read_npz, write_npz
from alcore.datasets import base
from alcore.paths import cache_dir

log = logging.getLogger(__name__)

FORMAT_VERSION = "parsed-dataset/1"
SHIPPED_VERSION = "shipped-parsed-dataset/1"
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
    ``alcore.fetch`` (a few dozen small files, hashed once per process)."""
    h = hashlib.sha256(FORMAT_VERSION.encode())
    h.update(inspect.getsource(inspect.getmodule(reader)).encode())
    root = Path(base.__file__).resolve().parents[1]
    for folder in ("datasets", "sources"):
        for path in sorted((root / folder).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def source_digest(path: Path, format: str, options: Mapping[str, Any]) -> str:
    """SHA-256 of the file's bytes, the importer's name and its options: all a parse depends on besides code."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            h.update(chunk)
    h.update(json.dumps([format, sorted((str(k), repr(v)) for k, v in options.items())]).encode())
    return h.hexdigest()


def _entry_name(digest: str, reader: Callable[..., base.Dataset]) -> str:
    return hashlib.sha256(f"{digest}:{_code_hash(reader)}".encode()).hexdigest()[:32]


def cache_key(path: Path, format: str, options: Mapping[str, Any], reader: Callable[..., base.Dataset]) -> str:
    return _entry_name(source_digest(path, format, options), reader)


def write_shipped(dest: Path, path: Path, format: str, options: Mapping[str, Any],
                  reader: Callable[..., base.Dataset]) -> base.Dataset:
    """Parse ``path`` and write its arrays to ``dest`` (atomically), stamped with the file's ``source_digest``.
    The provenance keeps only the file's name: this machine's folders do not belong in a shipped file, and reading
    it back records where the file is then (``read_cached``)."""
    dataset = reader(Path(path), **dict(options))
    portable = dataset
    if "path" in dataset.provenance:
        portable = dataclasses.replace(dataset, provenance={**dataset.provenance, "path": Path(path).name})
    stamp = {"shipped_version": np.array(SHIPPED_VERSION),
             "source_digest": np.array(source_digest(Path(path), format, options))}
    write_npz(Path(dest), **dataset_to_arrays(portable), **stamp)
    return dataset


def read_shipped(dest: Path, digest: str) -> base.Dataset | None:
    """The dataset shipped at ``dest`` if it was parsed from a file with this ``digest``; else None (never raises)."""
    if not dest.is_file():
        return None
    try:
        arrays = read_npz(dest)
        if str(arrays["shipped_version"]) != SHIPPED_VERSION or str(arrays["source_digest"]) != digest:
            log.info("shipped arrays %s do not belong to this file version; parsing it instead", dest)
            return None
        return dataset_from_arrays(arrays)
    except (OSError, ValueError, KeyError, TypeError, base.DatasetError) as exc:
        log.warning("shipped arrays %s are unreadable (%s); parsing the file instead", dest, exc)
        return None


def _read_from(dataset: base.Dataset, path: Path) -> base.Dataset:
    """Arrays parsed from the same bytes at another place (a copy, another checkout) say where the file is now.
    The name an importer derives from the path is not restored: callers name the dataset (``Source.read``)."""
    if dataset.provenance.get("path") == str(path):
        return dataset
    return dataclasses.replace(dataset, provenance={**dataset.provenance, "path": str(path)})


def read_cached(path: Path, format: str, options: Mapping[str, Any], reader: Callable[..., base.Dataset],
                shipped: Path | None = None) -> base.Dataset:
    """``reader(path, **options)``, from ``shipped`` arrays when they match the file, else through the disk cache
    when ``path`` is a single file."""
    path = Path(path)
    if not path.is_file():
        return reader(path, **dict(options))
    digest = source_digest(path, format, options)
    if shipped is not None and (dataset := read_shipped(Path(shipped), digest)) is not None:
        return _read_from(dataset, path)
    entry = cache_dir("datasets") / f"{_entry_name(digest, reader)}.npz"
    if entry.is_file():
        try:
            return _read_from(dataset_from_arrays(read_npz(entry)), path)
        except (OSError, ValueError, KeyError, TypeError, base.DatasetError):
            pass  # a damaged entry: parse the file again and replace it
    dataset = reader(path, **dict(options))
    try:
        write_npz(entry, **dataset_to_arrays(dataset))
    except OSError:
        pass  # a read-only cache folder costs speed, not correctness
    return dataset
