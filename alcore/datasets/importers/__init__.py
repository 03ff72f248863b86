"""Dataset importers: one ``read(path) -> Dataset`` function per file format, registered in ``IMPORTERS``.

Each format module registers itself on import; the modules are imported at the bottom of this file so that
``IMPORTERS`` is complete as soon as ``alcore.datasets`` is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from alcore.datasets.base import Dataset
from alcore.registry import Registry

Reader = Callable[[Path], Dataset]

IMPORTERS: Registry[Reader] = Registry("dataset format")

_NAME_SUFFIXES = (".gz", ".bz2", ".xz", ".tgz", ".tar", ".zip", ".xyz", ".extxyz", ".json", ".csv", ".cif", ".xsf",
                  ".db")


def default_name(path: Path) -> str:
    """A dataset name from a path: ``dir_xsf.tar.gz`` -> ``dir_xsf``, ``pool.extxyz.gz`` -> ``pool``."""
    name = Path(path).name
    stripped = True
    while stripped:
        stripped = False
        for suffix in _NAME_SUFFIXES:
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                stripped = True
    return name


from alcore.datasets.importers import (  # noqa: E402,F401
    ase_db,
    extxyz,
    fetched,
    fitsnap,
    mlearn,
    pymatgen_json,
    structure_files,
    xsf,
)
