"""One pool from several databases' answers to the same query: each record keeps its ``source``, a structure that an
earlier database already has is dropped (pymatgen ``StructureMatcher``), and each database may get an energy offset.

Why an offset: MP and OQMD fit different elemental reference energies and corrections, so one material's formation
energy differs between them by a roughly constant amount per chemical system; shifting one database lets the two sets
share a target. Duplicates are only removed *across* databases, in the order the pools are given (the first keeps
its record): within one database, two entries that match are separate materials (e.g. magnetic orderings).
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, Sequence

from alcore.datasets.fetched.pool import FetchedPool, pool_name, record_structure, utc_now
from alcore.datasets.fetched.query import FetchQuery

ENERGY_FIELDS = ("energy_per_atom", "uncorrected_energy_per_atom", "formation_energy_per_atom")


def combine(
    pools: Sequence[FetchedPool],
    *,
    offsets: Mapping[str, float] | None = None,
    deduplicate: bool = True,
    matcher: Any = None,
) -> FetchedPool:
    """The combined pool; ``offsets`` maps a database ("mp", "oqmd") to eV/atom added to its energies."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    if len(pools) < 2:
        raise ValueError("combine: give at least two pools")
    if len({json.dumps(p.query, sort_keys=True) for p in pools}) != 1:
        raise ValueError(f"combine: the pools answer different queries ({', '.join(p.name for p in pools)})")
    databases = [d for p in pools for d in p.databases]
    if len(set(databases)) != len(databases):
        raise ValueError(f"combine: a database appears twice ({', '.join(databases)})")
    shifts = _checked_offsets(offsets, databases)
    matcher = matcher if matcher is not None else StructureMatcher()

    kept: list[dict[str, Any]] = []
    seen: dict[str, list[tuple[Any, str, int]]] = {}  # reduced formula -> (structure, id, pool index)
    duplicates: dict[str, str] = {}
    for index, pool in enumerate(pools):
        for record in pool.records:
            structure = record_structure(record, f"{pool.name}: {record['id']}")
            formula = structure.composition.reduced_formula
            match = _earlier_match(structure, seen.get(formula, []), index, matcher) if deduplicate else None
            if match is not None:
                duplicates[record["id"]] = match
                continue
            seen.setdefault(formula, []).append((structure, record["id"], index))
            kept.append(_shifted(record, shifts.get(record["source"], 0.0)))

    skipped = {k: v for p in pools for k, v in p.notes.get("skipped", {}).items()}
    notes: dict[str, Any] = {
        "parts": {p.name: p.fetched_at for p in pools},
        "offsets": {d: shifts.get(d, 0.0) for d in databases},
        "deduplicated": deduplicate,
        "duplicates": duplicates,
    }
    if deduplicate:
        notes["matcher"] = {"ltol": matcher.ltol, "stol": matcher.stol, "angle_tol": matcher.angle_tol}
    if skipped:
        notes["skipped"] = skipped
    source = "+".join(databases)
    return FetchedPool(
        name=combined_name(databases, FetchQuery.from_dict(pools[0].query), shifts, deduplicate),
        source=source,
        query=dict(pools[0].query),
        records=tuple(kept),
        client={k: v for p in pools for k, v in p.client.items()},
        endpoint={k: v for p in pools for k, v in p.endpoint.items()},
        fetched_at=utc_now(),
        notes=notes,
    )


def combined_name(
    databases: Sequence[str], query: FetchQuery, offsets: Mapping[str, float] | None = None, deduplicate: bool = True
) -> str:
    """``mp-oqmd-Ti-O``, ``mp-oqmd-Ti-O-oqmd-offset0.05``, ``...-all`` without duplicate removal."""
    suffix = "".join(f"-{d}-offset{float(v):g}" for d, v in sorted(dict(offsets or {}).items()) if float(v) != 0.0)
    return pool_name("+".join(databases), query.label(), suffix + ("" if deduplicate else "-all"))


def _earlier_match(structure: Any, seen: list[tuple[Any, str, int]], index: int, matcher: Any) -> str | None:
    """The id of a record from another database with the same structure, if any."""
    return next((rid for other, rid, owner in seen if owner != index and matcher.fit(structure, other)), None)


def _checked_offsets(offsets: Mapping[str, float] | None, databases: Sequence[str]) -> dict[str, float]:
    shifts = {}
    for database, value in dict(offsets or {}).items():
        if database not in databases:
            raise ValueError(f"offsets: {database!r} is not one of the combined databases ({', '.join(databases)})")
        shift = float(value)
        if not math.isfinite(shift):
            raise ValueError(f"offsets: the offset of {database!r} must be a finite number (eV/atom)")
        shifts[database] = shift
    return shifts


def _shifted(record: dict[str, Any], shift: float) -> dict[str, Any]:
    if shift == 0.0:
        return dict(record)
    moved = dict(record)
    for name in ENERGY_FIELDS:
        if moved.get(name) is not None:
            moved[name] = moved[name] + shift
    moved["energy_offset"] = (moved.get("energy_offset") or 0.0) + shift
    return moved
