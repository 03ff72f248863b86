"""Pools fetched from the Materials Project / OQMD (``python -m alcore fetch``): the cache files of ``alcore.fetch``.

The reader lives with the fetch code (``alcore.fetch``); it is imported when a file is read, so importing the
dataset importers never loads the network clients.
"""

from __future__ import annotations

from pathlib import Path

from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS
from alcore.datasets.importers.pymatgen_json import load_json
from alcore.datasets.records import check_structure_count


@IMPORTERS.register("fetched-pool")
def read_fetched_pool(path: Path) -> Dataset:
    """The file is parsed by the dataset JSON reader (size cap, encodings, plain messages for any damage), then
    checked and converted by the fetch code."""
    from alcore.datasets.fetched.pool import FetchedPool
    from alcore.datasets.fetched.to_dataset import pool_to_dataset

    pool = FetchedPool.from_document(load_json(path), path)
    check_structure_count(len(pool.records), path)
    _check_energies(pool.records, path)
    return pool_to_dataset(pool, path)


def _check_energies(records, path: Path) -> None:
    """Name the record at fault: a damaged energy, or no energy kind that every record has (the conversion would
    otherwise fall back to formation energies and complain about a record that is fine)."""
    from alcore.datasets.fetched.pool import number

    for i, record in enumerate(records):
        for key in ENERGY_FIELDS:
            value = record.get(key)
            if value is not None and number(value) is None:
                raise DatasetError(path, f"record {i} ({record['id']}): {key} is not a finite number ({value!r})")
    lacking = {key: next((i for i, r in enumerate(records) if number(r.get(key)) is None), None)
               for key in ENERGY_FIELDS}  # fmt: skip
    if all(i is not None for i in lacking.values()):
        described = " and ".join(f"record {i} ({records[i]['id']}) has no {key}" for key, i in lacking.items())
        raise DatasetError(path, f"no energy that every record has: {described}")


ENERGY_FIELDS = ("energy_per_atom", "formation_energy_per_atom")
