"""pymatgen JSON: a list of ``{"structure": <Structure dict>, "energy_per_atom" | "energy": ...}`` items or of
``ComputedStructureEntry`` dicts.

Structures are rebuilt with ``Structure.from_dict`` on a *sanitised* copy: site ``properties`` are dropped because
pymatgen decodes them with monty's generic decoder, which imports whatever ``@module`` a file names. Nothing else in a
user file is ever decoded into objects. For entries, the energy used is the raw (uncorrected) DFT ``energy``;
compatibility corrections are not applied and ``provenance`` says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from alcore.datasets.archive import read_file
from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.records import MAX_ATOMS, Record, build_dataset, check_structure_count
from alcore.datasets.text import decode_text, parse_json, reader_problem


def load_json(path: Path) -> Any:
    """Parse a JSON file; any encoding or syntax problem or truncation becomes a ``DatasetError`` with the line."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, "no such file")
    text = decode_text(read_file(path), str(path))
    if not text.strip():
        raise DatasetError(path, "empty file")
    return parse_json(text, str(path))


def structure_to_atoms(data: Any, where: str) -> Atoms:
    """A pymatgen ``Structure`` dict -> ``ase.Atoms`` without decoding any embedded objects."""
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    if not isinstance(data, dict) or "lattice" not in data or "sites" not in data:
        raise DatasetError(where, "'structure' is not a pymatgen Structure dict (needs 'lattice' and 'sites')")
    cls = data.get("@class", "Structure")
    if cls != "Structure":
        raise DatasetError(where, f"'structure' has @class {cls!r}; only periodic Structure dicts are supported")
    sites = data["sites"]
    if not isinstance(sites, list) or not sites:
        raise DatasetError(where, "structure has no sites")
    if len(sites) > MAX_ATOMS:
        raise DatasetError(where, f"structure has {len(sites)} atoms; at most {MAX_ATOMS} per structure are supported")
    clean_sites = []
    for k, site in enumerate(sites):
        species = site.get("species") if isinstance(site, dict) else None
        single = isinstance(species, list) and len(species) == 1 and isinstance(species[0], dict)
        if not single or species[0].get("occu", 1) != 1:
            raise DatasetError(where, f"site {k} is disordered or malformed; only ordered structures are supported")
        clean_sites.append({key: site[key] for key in ("species", "abc", "label") if key in site})
    clean = {"lattice": data["lattice"], "sites": clean_sites, "charge": data.get("charge")}
    try:
        with np.errstate(all="ignore"):  # absurd numbers overflow here; the dataset checks then name them
            structure = Structure.from_dict(clean)
            atoms = AseAtomsAdaptor.get_atoms(structure)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise DatasetError(where, f"malformed structure: the lattice or a site is not readable ({reader_problem(exc)})"
                           ) from None  # fmt: skip
    return Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=True)


@IMPORTERS.register("pymatgen-json")
def read_pymatgen_json(path: Path) -> Dataset:
    path = Path(path)
    items = load_json(path)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise DatasetError(path, "expected a non-empty JSON list of {'structure': ..., 'energy': ...} items")
    check_structure_count(len(items), path)
    stem = default_name(path)
    records = []
    for i, item in enumerate(items):
        where = f"{path}: item {i}"
        if not isinstance(item, dict) or "structure" not in item:
            raise DatasetError(path, f"item {i}: not an object with a 'structure'")
        entry_id = item.get("entry_id")
        if entry_id is None and isinstance(item.get("data"), dict):
            entry_id = item["data"].get("material_id")
        record = Record(
            atoms=structure_to_atoms(item["structure"], where),
            id=str(item.get("id", entry_id if entry_id is not None else f"{stem}-{i:05d}")),
            where=str(path),
            item=f"item {i}",
            kind=str(item["kind"]) if "kind" in item else None,
        )
        if "energy_per_atom" in item:
            record.energy_per_atom = item["energy_per_atom"]
        elif "energy" in item:
            record.energy = item["energy"]
        else:
            raise record.fail("no 'energy_per_atom' (eV/atom) or 'energy' (total eV)")
        record.extra = {k: v for k, v in item.items() if k.endswith("_per_atom") and k != "energy_per_atom"}
        records.append(record)
    provenance = {"energy": "raw DFT energy; ComputedStructureEntry corrections are not applied"}
    return build_dataset(records, path=path, name=stem, format="pymatgen-json", provenance=provenance)
