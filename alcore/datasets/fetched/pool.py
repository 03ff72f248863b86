"""A fetched pool: normalised records from one or more databases plus where, when and how they were fetched.

Every record, whatever its database, has the same keys (``RECORD_FIELDS``; ``None`` where the database has no value):
``id``, ``source`` ("mp" / "oqmd"), ``formula``, ``structure`` (a plain pymatgen ``Structure.as_dict()``), energies in
eV/atom and the other properties. The document written to the cache is ``FetchedPool.to_document()``; it never holds an API
key (nothing that builds a pool ever sees one).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alcore.datasets.base import DatasetError
from alcore.datasets.fetched.query import FetchError, FetchQuery
from alcore.filenames import check_name

POOL_FORMAT = "alcore-fetched-pool"
POOL_VERSION = 1

DATABASES = {"mp": "the Materials Project", "oqmd": "OQMD"}

RECORD_FIELDS = (
    "id",
    "source",
    "formula",
    "structure",
    "energy_per_atom",  # total DFT energy per atom (MP only; OQMD's formation-energy endpoint has none)
    "uncorrected_energy_per_atom",
    "formation_energy_per_atom",  # MP formation_energy_per_atom, OQMD delta_e
    "energy_above_hull",  # MP energy_above_hull, OQMD stability clipped at 0
    "band_gap",
    "density",
    "volume",
    "nsites",
    "total_magnetization",
    "is_stable",
    "spacegroup",
    "prototype",
    "energy_offset",  # eV/atom added to the energies by ``combine`` (0 for a single-database pool)
)
NUMERIC_FIELDS = (
    "energy_per_atom",
    "uncorrected_energy_per_atom",
    "formation_energy_per_atom",
    "energy_above_hull",
    "band_gap",
    "density",
    "volume",
    "total_magnetization",
    "energy_offset",
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def number(value: Any) -> float | None:
    """A finite float, or None for missing / non-numeric / NaN values (databases leave gaps)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def new_record(**values: Any) -> dict[str, Any]:
    """A record with every field present, in a fixed order (unknown field names are a programming error)."""
    unknown = set(values) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"unknown record fields {sorted(unknown)}")
    record = {name: values.get(name) for name in RECORD_FIELDS}
    for name in NUMERIC_FIELDS:
        record[name] = number(record[name])
    if record["energy_offset"] is None:
        record["energy_offset"] = 0.0
    return record


def clean_structure(data: Any, where: str) -> dict[str, Any]:
    """A database's structure dict, checked and rewritten as a plain ordered pymatgen ``Structure.as_dict()``.

    Goes through the importers' sanitiser (no monty decoding of embedded objects, site properties dropped), so a
    record that would not load as a dataset is rejected at fetch time.
    """
    from pymatgen.io.ase import AseAtomsAdaptor

    from alcore.datasets.importers.pymatgen_json import structure_to_atoms

    atoms = structure_to_atoms(data, where)
    return json.loads(json.dumps(AseAtomsAdaptor.get_structure(atoms).as_dict()))  # plain JSON types, as when read back


def record_structure(record: dict[str, Any], where: str) -> Any:
    """A record's structure as a pymatgen ``Structure``, through the same sanitiser (records may come from a file)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from alcore.datasets.importers.pymatgen_json import structure_to_atoms

    return AseAtomsAdaptor.get_structure(structure_to_atoms(record.get("structure"), where))


@dataclass(frozen=True)
class FetchedPool:
    """Records plus provenance. ``source`` is "mp", "oqmd" or "mp+oqmd"; ``client`` and ``endpoint`` map each
    database to the client version / URL used; ``notes`` holds skipped records, removed duplicates, offsets."""

    name: str
    source: str
    query: dict[str, Any]
    records: tuple[dict[str, Any], ...]
    client: dict[str, str]
    endpoint: dict[str, str]
    fetched_at: str = field(default_factory=utc_now)
    notes: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def databases(self) -> tuple[str, ...]:
        return tuple(self.source.split("+"))

    def describe(self) -> str:
        """One line for dataset listings."""
        from alcore.datasets.fetched.query import FetchQuery

        where = " + ".join(DATABASES.get(d, d) for d in self.databases)
        try:
            what = FetchQuery.from_dict(self.query).describe()
        except (TypeError, ValueError):
            what = "?"
        return f"{len(self)} structures fetched from {where}: {what}; fetched {self.fetched_at[:10]} (cached)"

    def to_document(self) -> dict[str, Any]:
        return {
            "format": POOL_FORMAT,
            "version": POOL_VERSION,
            "name": self.name,
            "source": self.source,
            "query": self.query,
            "client": self.client,
            "endpoint": self.endpoint,
            "fetched_at": self.fetched_at,
            "n_records": len(self.records),
            "notes": self.notes,
            "records": list(self.records),
        }

    @classmethod
    def from_document(cls, doc: Any, where: str | Path) -> "FetchedPool":
        """Check a cache document's shape (``DatasetError`` naming ``where`` otherwise); records stay plain dicts."""
        if not isinstance(doc, dict) or doc.get("format") != POOL_FORMAT:
            raise DatasetError(where, f"not a fetched pool (no \"format\": \"{POOL_FORMAT}\")")
        if doc.get("version") != POOL_VERSION:
            raise DatasetError(where, f"fetched pool version {doc.get('version')!r}; this alcore reads {POOL_VERSION}")
        for key, kind in (("name", str), ("source", str), ("query", dict), ("client", dict), ("endpoint", dict),
                          ("fetched_at", str), ("notes", dict), ("records", list)):  # fmt: skip
            if not isinstance(doc.get(key), kind):
                raise DatasetError(where, f"field {key!r} is missing or not a {kind.__name__}")
        try:
            check_name(doc["name"], "pool name")
        except ValueError as exc:  # the name becomes a dataset name and a cache file name: it must be one
            raise DatasetError(where, str(exc)) from None
        records = doc["records"]
        if not records:
            raise DatasetError(where, "the pool has no records")
        for i, record in enumerate(records):
            if not isinstance(record, dict) or not isinstance(record.get("id"), str) or "structure" not in record:
                raise DatasetError(where, f"record {i}: needs an 'id' string and a 'structure'")
        return cls(
            name=doc["name"],
            source=doc["source"],
            query=doc["query"],
            records=tuple(records),
            client={str(k): str(v) for k, v in doc["client"].items()},
            endpoint={str(k): str(v) for k, v in doc["endpoint"].items()},
            fetched_at=doc["fetched_at"],
            notes=doc["notes"],
        )


def pool_name(databases: str, query_label: str, suffix: str = "") -> str:
    """``mp-Ti-O``, ``oqmd-Si-stable``, ``mp-oqmd-Ti-O-oqmd-offset0.05``: the dataset name and cache file stem."""
    return f"{databases.replace('+', '-')}-{query_label}{suffix}"


def database_pool(
    database: str,
    query: FetchQuery,
    records: list[dict[str, Any]],
    skipped: list[Any],
    *,
    none_found: str,
    item: str,
    client: dict[str, str],
    endpoint: str,
    notes: dict[str, Any] | None = None,
) -> FetchedPool:
    """The pool of one database's answer to ``query``; ``FetchError("<none_found> for <query>")`` when no record was
    usable (``item`` names what was skipped, e.g. "documents")."""
    if not records:
        unreadable = f"; {len(skipped)} unusable {item} skipped" if skipped else ""
        raise FetchError(f"{none_found} for {query.describe()}{unreadable}")
    return FetchedPool(
        name=pool_name(database, query.label()),
        source=database,
        query=query.to_dict(),
        records=tuple(records),
        client=client,
        endpoint={database: endpoint},
        notes=dict(notes or {}) | ({"skipped": skipped} if skipped else {}),
    )
