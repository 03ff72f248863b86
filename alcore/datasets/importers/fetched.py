"""Pools fetched from the Materials Project / OQMD (``python -m alcore fetch``): the cache files of ``alcore.sources``.

The reader lives with the fetch code (``alcore.sources``); it is imported when a file is read, so importing the
dataset importers never loads the network clients.
"""

from __future__ import annotations

from pathlib import Path

from alcore.datasets.base import Dataset
from alcore.datasets.importers import IMPORTERS


@IMPORTERS.register("fetched-pool")
def read_fetched_pool(path: Path) -> Dataset:
    from alcore.sources.cache import load_pool
    from alcore.sources.dataset import pool_to_dataset

    return pool_to_dataset(load_pool(path), path)
