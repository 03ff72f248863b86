"""ASE extended XYZ (``.xyz``, ``.extxyz``, optionally ``.gz``): read with ``ase.io``, and write datasets back.

Reading: the energy is ``info["energy_per_atom"]``, else the total energy under one of ``ENERGY_NAMES``; forces are
the per-atom array under one of ``FORCE_NAMES``; stress is ``info`` under one of ``STRESS_NAMES`` (eV/Å^3, ASE sign)
or, failing that, ``-virial / volume`` from one of ``VIRIAL_NAMES`` (total virial in eV). Names are matched without
regard to case (ase itself moves only ``energy``/``forces``/``stress`` onto a calculator; ``force``, ``virial``,
``dft_force``, ``REF_forces``... stay in ``info``/``arrays`` and are read from there). Two keys for the same label with
different values (``forces`` and ``dft_force``, ``stress`` and ``virial``, ``energy`` and ``energy_per_atom``) are
refused rather than one silently chosen. ``info["id"]`` names each frame, ``info["kind"]`` (else ``config_type``) tags
it, and any float ``info`` key ending in ``_per_atom`` becomes an extra target. Every other key is listed as ignored
in the read summary (``provenance["read"]``), with the fields read and where they came from.

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

ENERGY_NAMES = ("energy", "dft_energy", "ref_energy", "total_energy", "energy_dft")
"""Total energy (eV) keys, in order of preference, compared in lower case (``free_energy`` is not the energy)."""
FORCE_NAMES = ("forces", "force", "dft_forces", "dft_force", "ref_forces", "ref_force", "forces_dft", "force_dft")
"""Per-atom force (eV/Å) arrays: ASE/nequip ``forces``, GAP ``force``/``dft_force``, MACE ``REF_forces``."""
STRESS_NAMES = ("stress", "dft_stress", "ref_stress")
"""Stress keys (eV/Å^3, ASE sign: positive = tensile; 3x3, 9 or Voigt 6 numbers)."""
VIRIAL_NAMES = ("virial", "virials", "dft_virial", "dft_virials", "ref_virial", "ref_virials")
"""Total virial keys (eV), converted to stress = -virial / volume (GAP/MACE convention)."""
KIND_NAMES = ("kind", "config_type")
ENERGY_TOLERANCE = 1e-6
"""eV/atom: ``energy`` and ``energy_per_atom`` of one frame may differ by this much (rounding), no more."""
STRESS_TOLERANCE = 1e-6
"""eV/Å^3: ``stress`` and ``-virial / volume`` of one frame may differ by this much, no more."""
_CONSUMED_ARRAYS = ("numbers", "positions")


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
    info, arrays = _keys(atoms)
    used: set[str] = set()
    record = Record(
        atoms=Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc),
        id=str(info["info 'id'"]) if "info 'id'" in info else f"{stem}-{index:05d}",
        where=str(path),
        item=f"frame {index}",
    )
    record.sources["ids"] = "info 'id'" if "info 'id'" in info else "generated: file name + frame index"
    used.add("info 'id'")
    kind = next((k for name in KIND_NAMES for k in info if _base(k) == name), None)
    if kind is not None:
        record.kind, record.sources["kinds"] = str(info[kind]), kind
        used.add(kind)
    if "arrays 'initial_magmoms'" in arrays:
        record.atoms.set_initial_magnetic_moments(arrays["arrays 'initial_magmoms'"])
        used.add("arrays 'initial_magmoms'")
    _read_energy(record, info, used)
    forces = _pick(arrays, FORCE_NAMES, record, "forces")
    if forces is not None:
        record.forces, record.sources["forces"] = forces[1], forces[0]
        used.update(k for k in arrays if _base(k) in FORCE_NAMES)
    _read_stress(record, info, used)
    listed = str(info.get(f"info '{TARGETS_KEY}'", "")).split()
    used.update((f"info '{TARGETS_KEY}'", f"info '{PROVENANCE_KEY}'"))
    for label, value in info.items():
        key = label[6:-1]
        wanted = key in listed or (key.endswith("_per_atom") and _is_number(value))
        if wanted and key != DEFAULT_TARGET:
            record.extra[key], record.sources[key] = value, label
            used.add(label)
    record.ignored = sorted(k for k in (*info, *arrays) if k not in used)
    return record


def _keys(atoms: Atoms) -> tuple[dict[str, Any], dict[str, Any]]:
    """The frame's per-structure and per-atom values, labelled as in the file (``info 'x'``, ``arrays 'x'``),
    whether ase left them in ``info``/``arrays`` or moved them onto its calculator."""
    info = {f"info '{k}'": v for k, v in atoms.info.items()}
    arrays = {f"arrays '{k}'": v for k, v in atoms.arrays.items() if k not in _CONSUMED_ARRAYS}
    if atoms.calc is not None:
        from ase.io.extxyz import per_atom_properties

        for key, value in atoms.calc.results.items():
            if key in per_atom_properties:
                arrays[f"arrays '{key}'"] = value
            else:
                info[f"info '{key}'"] = value
    return info, arrays


def _base(label: str) -> str:
    """``"info 'REF_Forces'"`` -> ``"ref_forces"``."""
    return label.split("'", 1)[1][:-1].lower()


def _pick(values: dict[str, Any], names: tuple[str, ...], record: Record, what: str, equal=None
          ) -> tuple[str, Any] | None:  # fmt: skip
    """The first of ``names`` present (any case), refusing two present keys with different values."""
    found = sorted((names.index(_base(k)), k) for k in values if _base(k) in names)
    if not found:
        return None
    first = found[0][1]
    same = equal or (lambda a, b: _same_array(a, b))
    for _, other in found[1:]:
        if not same(values[first], values[other]):
            raise record.fail(f"two {what} labels with different values, {first} and {other}: keep one (or rename "
                              "the other) so that it is clear which is the label")  # fmt: skip
    return first, values[first]


def _same_array(a: Any, b: Any, atol: float = 0.0) -> bool:
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-9, atol=atol))


def _read_energy(record: Record, info: dict[str, Any], used: set[str]) -> None:
    per_atom = f"info '{DEFAULT_TARGET}'"
    total = _pick(info, ENERGY_NAMES, record, "energy")
    used.update(k for k in info if _base(k) in ENERGY_NAMES)
    if per_atom in info:
        record.energy_per_atom, record.sources[DEFAULT_TARGET] = info[per_atom], per_atom
        used.add(per_atom)
        if total is not None and _is_number(total[1]) and _is_number(info[per_atom]):
            if abs(float(total[1]) / len(record.atoms) - float(info[per_atom])) > ENERGY_TOLERANCE:
                raise record.fail(f"{total[0]} ({total[1]} eV) and {per_atom} ({info[per_atom]} eV/atom) disagree "
                                  f"for {len(record.atoms)} atoms; keep one of them")  # fmt: skip
    elif total is not None:
        record.energy, record.sources[DEFAULT_TARGET] = total[1], f"{total[0]} (total eV / atoms)"
    else:
        near = sorted(k for k in info if "energy" in _base(k))
        hint = f"; found {', '.join(near)}, which are not read as the energy" if near else ""
        raise record.fail(
            f"no energy for structure {record.id!r}: expected info 'energy' (total eV, or "
            f"{', '.join(ENERGY_NAMES[1:])}, any case), 'energy_per_atom' (eV/atom) or a calculator energy{hint}"
        )


def _read_stress(record: Record, info: dict[str, Any], used: set[str]) -> None:
    stress = _pick(info, STRESS_NAMES, record, "stress", equal=lambda a, b: _same_array(_voigt(a), _voigt(b)))
    virial = _pick(info, VIRIAL_NAMES, record, "virial", equal=lambda a, b: _same_array(_voigt(a), _voigt(b)))
    used.update(k for k in info if _base(k) in STRESS_NAMES + VIRIAL_NAMES)
    from_virial = None
    if virial is not None:
        volume = abs(float(record.atoms.cell.volume)) if record.atoms.pbc.all() else 0.0
        if volume < 1e-6:
            raise record.fail(f"{virial[0]} needs a periodic cell with a volume to become a stress")
        try:
            from_virial = -_voigt(virial[1]) / volume + 0.0  # + 0.0: no -0.0 components
        except (TypeError, ValueError) as exc:
            raise record.fail(f"{virial[0]}: {exc}") from None
    if stress is not None:
        try:
            record.stress = _voigt(stress[1])
        except (TypeError, ValueError) as exc:
            raise record.fail(f"{stress[0]}: {exc}") from None
        record.sources["stress"] = f"{stress[0]} (eV/Å^3)"
        if from_virial is not None:
            if not np.allclose(record.stress, from_virial, rtol=1e-6, atol=STRESS_TOLERANCE):
                raise record.fail(f"{stress[0]} and -{virial[0]}/volume disagree; keep one of them")
    elif from_virial is not None:
        record.stress, record.sources["stress"] = from_virial, f"{virial[0]} (-virial/volume, eV -> eV/Å^3)"


def _voigt(value: Any) -> np.ndarray:
    """3x3, 9 numbers (ase's Fortran order) or Voigt 6 numbers -> Voigt ``[xx yy zz yz xz xy]``."""
    from ase.stress import full_3x3_to_voigt_6_stress

    v = np.asarray(value, dtype=float)
    if v.shape == (9,):
        v = v.reshape((3, 3), order="F")
    if v.shape == (3, 3):
        return full_3x3_to_voigt_6_stress(v)
    if v.shape == (6,):
        return v
    raise ValueError(f"expected 6, 9 or 3x3 numbers, got shape {v.shape}")


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
