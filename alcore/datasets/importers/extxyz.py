"""ASE extended XYZ (``.xyz``, ``.extxyz``, optionally ``.gz``): read with ``ase.io``, and write datasets back.

Reading: the energy is ``info["energy_per_atom"]``, else the total ``energy`` (ASE moves ``energy``/``forces``/
``stress`` from the comment line onto a calculator), forces and stress from the same place, ``info["id"]`` and
``info["kind"]`` name and tag each frame, and any float ``info`` key ending in ``_per_atom`` becomes an extra target.

Writing (``write_extxyz``) stores every ``Dataset`` field so that ``read`` gives the same dataset back: total energy and
``energy_per_atom``, every target, forces, stress, ids, kinds, and the provenance (as JSON on the first frame).
Positions and forces are written by ASE with 8 decimals (1e-8 Å, 1e-8 eV/Å); everything else round-trips exactly.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from alcore.atomic import atomic_path
from alcore.datasets import archive
from alcore.datasets.base import DEFAULT_TARGET, Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import UNKNOWN_KIND, Record, build_dataset

TARGETS_KEY = "alcore_targets"
"""Info key listing the targets of a written dataset, so targets not ending in ``_per_atom`` round-trip too."""

PROVENANCE_KEY = "alcore_provenance"


@IMPORTERS.register("extxyz")
def read_extxyz(path: Path) -> Dataset:
    path = Path(path)
    text = _read_text(path)
    import ase.io  # here, not at the top: 0.4 s of imports the app's start does not need (pools come from the cache)

    try:
        frames = ase.io.read(io.StringIO(text), index=":", format="extxyz")
    except Exception as exc:  # ase raises many types for malformed text; all mean "not readable extxyz"
        raise DatasetError(path, f"not a readable extended XYZ file ({type(exc).__name__}: {exc})") from None
    if not frames:
        raise DatasetError(path, "no structures found (empty file)")
    stem = default_name(path)
    records = [_record(atoms, i, path, stem) for i, atoms in enumerate(frames)]
    stored = frames[0].info.get(PROVENANCE_KEY)
    provenance: dict[str, Any] = {}
    if isinstance(stored, str):
        try:
            provenance["origin"] = json.loads(stored)
        except json.JSONDecodeError:
            raise DatasetError(path, f"frame 0: {PROVENANCE_KEY} is not valid JSON") from None
    return build_dataset(records, path=path, name=stem, format="extxyz", provenance=provenance)


def _read_text(path: Path) -> str:
    """The decompressed text, read into memory once.

    ``ase.io.read(path, index=":")`` indexes frames and then seeks back to each one; on a gzip stream every backward
    seek decompresses from the start, which made a 2500-frame file take ~50 s instead of ~1 s.
    """
    if not path.is_file():
        raise DatasetError(path, "no such file")
    opener = _OPENERS.get(path.suffix.lower(), open)
    try:
        with opener(path, "rb") as handle:
            data = handle.read(archive.MAX_TOTAL_BYTES + 1)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise DatasetError(path, f"cannot decompress ({type(exc).__name__}: {exc})") from None
    if len(data) > archive.MAX_TOTAL_BYTES:
        raise DatasetError(path, f"uncompressed content exceeds {archive.MAX_TOTAL_BYTES} bytes; refusing to read it")
    if not data.strip():
        raise DatasetError(path, "empty file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(path, f"not UTF-8 text (byte {exc.start})") from None


_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _record(atoms: Atoms, index: int, path: Path, stem: str) -> Record:
    info = dict(atoms.info)
    results = dict(atoms.calc.results) if atoms.calc is not None else {}
    record = Record(
        atoms=Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc),
        id=str(info["id"]) if "id" in info else f"{stem}-{index:05d}",
        where=str(path),
        item=f"frame {index}",
        kind=str(info["kind"]) if "kind" in info else None,
    )
    if "initial_magmoms" in atoms.arrays:
        record.atoms.set_initial_magnetic_moments(atoms.arrays["initial_magmoms"])
    if DEFAULT_TARGET in info:
        record.energy_per_atom = info[DEFAULT_TARGET]
    elif "energy" in results or "energy" in info:
        record.energy = results.get("energy", info.get("energy"))
    else:
        raise record.fail(
            f"no energy for structure {record.id!r}: expected info 'energy' (total eV), "
            f"'energy_per_atom' (eV/atom) or a calculator energy"
        )
    record.forces = results.get("forces", atoms.arrays.get("forces"))
    record.stress = results.get("stress", info.get("stress"))
    listed = str(info.get(TARGETS_KEY, "")).split()
    for key, value in info.items():
        wanted = key in listed or (key.endswith("_per_atom") and _is_number(value))
        if wanted and key != DEFAULT_TARGET:
            record.extra[key] = value
    return record


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def write_extxyz(dataset: Dataset, path: str | Path) -> Path:
    """Write ``dataset`` to ``path`` (``.gz`` -> gzip) atomically; ``read_extxyz`` returns the same dataset."""
    import ase.io
    from ase.calculators.singlepoint import SinglePointCalculator

    path = Path(path)
    frames = []
    for i, atoms in enumerate(dataset.atoms):
        frame = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        if atoms.has("initial_magmoms"):
            frame.set_initial_magnetic_moments(atoms.get_initial_magnetic_moments())
        frame.info["id"] = _preserved_str("id", dataset.ids[i])
        if dataset.kinds is not None and dataset.kinds[i] != UNKNOWN_KIND:
            frame.info["kind"] = _preserved_str("kind", dataset.kinds[i])
        for key, values in dataset.targets.items():
            frame.info[key] = float(values[i])
        frame.info[TARGETS_KEY] = " ".join(dataset.targets)
        if i == 0 and dataset.provenance:
            frame.info[PROVENANCE_KEY] = json.dumps(dataset.provenance, default=str)
        results: dict[str, Any] = {"energy": float(dataset.energy_per_atom[i]) * len(atoms)}
        if dataset.forces is not None and dataset.forces[i] is not None:
            results["forces"] = np.asarray(dataset.forces[i])
        if dataset.stress is not None and dataset.stress[i] is not None:
            results["stress"] = np.asarray(dataset.stress[i])
        frame.calc = SinglePointCalculator(frame, **results)
        frames.append(frame)
    with atomic_path(path) as tmp:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8") as handle:
            ase.io.write(handle, frames, format="extxyz")
    return path


def _preserved_str(key: str, value: str) -> Any:
    """``value`` itself if ASE reads it back as the same string; otherwise a 0-d array that ASE writes as JSON.

    ASE parses comment-line values, so ``id=0005`` would come back as the integer 5 and ``kind=T`` as ``True``.
    """
    from ase.io.extxyz import key_val_dict_to_str, key_val_str_to_dict

    value = str(value)
    parsed = key_val_str_to_dict(key_val_dict_to_str({key: value})).get(key)
    if isinstance(parsed, str) and parsed == value:
        return value
    return np.array(value)
