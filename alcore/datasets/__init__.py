"""Datasets: the ``Dataset`` contract, importers for common DFT formats, and named sources.

``load_dataset("si-mlearn")`` loads a named source, ``load_dataset("path")`` / ``load_file(path, format=None)`` any
supported file, folder or archive; ``list_datasets()`` lists the named sources; ``write_extxyz`` exports a dataset.
"""

from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS
from alcore.datasets.importers.extxyz import write_extxyz
from alcore.datasets.loading import detect_format, load_file
from alcore.datasets.sources import SOURCES, DatasetInfo, Source, list_datasets, load_dataset, register_source

__all__ = [
    "IMPORTERS",
    "SOURCES",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "Source",
    "detect_format",
    "list_datasets",
    "load_dataset",
    "load_file",
    "register_source",
    "write_extxyz",
]
