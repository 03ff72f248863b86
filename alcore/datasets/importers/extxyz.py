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
import json
import lzma
import re
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from alcore.atomic import atomic_path
from alcore.datasets import archive
from alcore.datasets.base import DEFAULT_TARGET, Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import MAX_ATOMS, UNKNOWN_KIND, Record, build_dataset, check_structure_count
from alcore.datasets.text import reader_problem, text_stream, utf8_bytes

TARGETS_KEY = "alcore_targets"
"""Info key listing the targets of a written dataset, so targets not ending in ``_per_atom`` round-trip too."""

PROVENANCE_KEY = "alcore_provenance"

UNREADABLE = "not a readable extended XYZ file"


@IMPORTERS.register("extxyz")
def read_extxyz(path: Path) -> Dataset:
    path = Path(path)
    data = _read_bytes(path)
    _check_frame_layout(data, path)
    import ase.io  # here, not at the top: 0.4 s of imports the app's start does not need (pools come from the cache)

    try:
        frames = ase.io.read(text_stream(data), index=":", format="extxyz")
    except Exception as exc:  # ase raises many types for malformed text; all mean "not readable extxyz"
        raise DatasetError(path, f"{UNREADABLE} ({reader_problem(exc)})") from None
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


def _read_bytes(path: Path) -> bytes:
    """The decompressed bytes, read into memory once and checked to be UTF-8 text.

    ``ase.io.read(path, index=":")`` indexes frames and then seeks back to each one; on a gzip stream every backward
    seek decompresses from the start, which made a 2500-frame file take ~50 s instead of ~1 s.
    """
    if not path.is_file():
        raise DatasetError(path, "no such file")
    opener = _OPENERS.get(path.suffix.lower())
    data = archive.read_decompressed(path, opener) if opener is not None else archive.read_file(path)
    if not data.strip():
        raise DatasetError(path, "empty file")
    return utf8_bytes(data, str(path))


def _check_frame_layout(data: bytes, path: Path) -> None:
    """Walk the frame headers before ase parses anything: each frame is an atom count (at most ``MAX_ATOMS``), a
    comment line and that many atom lines. ase would loop for ever on a huge count and reports a short frame
    without saying where; here the message names the line."""
    pos, line, frame, size = 0, 1, 0, len(data)
    while True:
        start = _NON_SPACE.search(data, pos)
        if start is None:
            return
        line += data.count(b"\n", pos, start.start())
        pos = data.rfind(b"\n", 0, start.start()) + 1
        end = _line_end(data, pos)
        header = data[pos:end].strip()
        try:
            count = int(header)
        except ValueError:
            shown = header[:40].decode("utf-8", "replace")
            raise DatasetError(
                path, f"{UNREADABLE}: line {line}: expected the number of atoms of frame {frame}, found '{shown}'"
                f"{'…' if len(header) > 40 else ''} (not an extended XYZ file, or a frame has the wrong atom count)",
            ) from None  # fmt: skip
        if count < 1:
            problem = f"line {line}: frame {frame} declares {count} atoms; the atom count must be positive"
            raise DatasetError(path, f"{UNREADABLE}: {problem}")
        if count > MAX_ATOMS:
            raise DatasetError(path, f"line {line}: frame {frame} has {count} atoms; at most {MAX_ATOMS} per "
                                     "structure are supported")  # fmt: skip
        check_structure_count(frame + 1, path)
        header_line, pos = line, end + 1
        _check_properties(data[pos : _line_end(data, pos)], path, header_line + 1, frame)
        for k in range(count + 1):
            if pos >= size:
                what = "the atom count" if k == 0 else f"{k - 1} of them"
                problem = f"frame {frame} declares {count} atoms but the file ends after {what}; is the file truncated?"
                raise DatasetError(path, f"{UNREADABLE}: line {header_line}: {problem}")
            pos = _line_end(data, pos) + 1
        line = header_line + count + 2
        frame += 1


_NON_SPACE = re.compile(rb"\S")
_PROPERTIES = re.compile(rb"(?:^|\s)Properties=(\S+)", re.IGNORECASE)


def _check_properties(comment: bytes, path: Path, line: int, frame: int) -> None:
    """A ``Properties=`` list without ``pos`` makes ase put every atom at the origin; say so instead."""
    found = _PROPERTIES.search(comment)
    if found is not None and not re.search(rb"(?:^|:)pos:R:3(?::|$)", found.group(1), re.IGNORECASE):
        shown = found.group(1)[:80].decode("utf-8", "replace")
        problem = f"the Properties of frame {frame} ({shown}) have no positions column 'pos:R:3'"
        raise DatasetError(path, f"{UNREADABLE}: line {line}: {problem}")


def _line_end(data: bytes, pos: int) -> int:
    end = data.find(b"\n", pos)
    return len(data) if end < 0 else end


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
