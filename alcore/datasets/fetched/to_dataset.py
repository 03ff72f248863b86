"""A fetched pool as an ``alcore.datasets.Dataset``: one structure per record, its database as the structure's kind.

The ``energy_per_atom`` target is MP's total energy per atom when every record has one ("total"), else the formation
energy per atom ("formation": OQMD's endpoint has no total energies, and MP's and OQMD's totals would not be
comparable anyway). Other numeric properties become extra targets when every record has them (the dataset contract:
a target has a value for every structure; the others are listed in ``provenance["dropped_targets"]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.fetched.pool import DATABASES, FetchedPool, number
from alcore.datasets.importers.pymatgen_json import structure_to_atoms
from alcore.datasets.records import Record, build_dataset

FORMAT = "fetched-pool"
ENERGY_CHOICES = ("auto", "total", "formation")
EXTRA_TARGETS = (
    "formation_energy_per_atom",
    "uncorrected_energy_per_atom",
    "energy_above_hull",
    "band_gap",
    "density",
    "magnetization_per_atom",
)
ENERGY_MEANING = {
    "total": "total DFT energy per atom as served by the Materials Project summary (its GGA/GGA+U/r2SCAN mixing "
    "scheme with MP2020 corrections), eV/atom",
    "formation": "formation energy per atom (MP formation_energy_per_atom, OQMD delta_e), eV/atom",
}
LICENCES = {"mp": "Materials Project data: CC BY 4.0", "oqmd": "OQMD data: CC BY 4.0"}


def energy_kind(pool: FetchedPool, energy: str = "auto") -> str:
    """Which energy becomes ``energy_per_atom``: ``energy`` itself, or for "auto" "total" when every record has one."""
    if energy not in ENERGY_CHOICES:
        raise ValueError(f"energy must be one of {ENERGY_CHOICES}, got {energy!r}")
    if energy != "auto":
        return energy
    return "total" if all(number(r.get("energy_per_atom")) is not None for r in pool.records) else "formation"


def pool_to_dataset(pool: FetchedPool, path: str | Path | None = None, energy: str = "auto") -> Dataset:
    """The dataset of ``pool`` (``path``: the cache file, for provenance and messages)."""
    kind = energy_kind(pool, energy)
    where = str(path) if path is not None else pool.name
    energy_field = "energy_per_atom" if kind == "total" else "formation_energy_per_atom"
    records = []
    for i, raw in enumerate(pool.records):
        item = f"record {i} ({raw.get('id')})"
        value = number(raw.get(energy_field))
        if value is None:
            raise DatasetError(where, f"{item}: no {energy_field}; cannot use {kind} energies for this pool")
        atoms = structure_to_atoms(raw.get("structure"), f"{where}: {item}")
        records.append(Record(
            atoms=atoms,
            id=str(raw["id"]),
            where=where,
            item=item,
            energy_per_atom=value,
            kind=str(raw.get("source") or "unknown"),
            extra=_extra_targets(raw, len(atoms)),
        ))  # fmt: skip
    provenance: dict[str, Any] = {
        "fetched_from": {DATABASES.get(d, d): pool.endpoint.get(d) for d in pool.databases},
        "query": pool.query,
        "client": pool.client,
        "fetched_at": pool.fetched_at,
        "energy_per_atom": ENERGY_MEANING[kind],
        "licence": "; ".join(LICENCES[d] for d in pool.databases if d in LICENCES),
    }
    for key in ("offsets", "duplicates", "skipped", "coordinates"):
        if pool.notes.get(key):
            provenance[key] = pool.notes[key]
    return build_dataset(records, path=where, name=pool.name, format=FORMAT, provenance=provenance)


def _extra_targets(record: dict[str, Any], n_atoms: int) -> dict[str, float]:
    values = {name: number(record.get(name)) for name in EXTRA_TARGETS if name != "magnetization_per_atom"}
    magnetization = number(record.get("total_magnetization"))
    values["magnetization_per_atom"] = None if magnetization is None else magnetization / n_atoms
    return {name: value for name, value in values.items() if value is not None}
