"""What the app caches for every session is made read-only where it enters the cache.

A dataset or Problem cached with ``st.cache_resource`` is one object shared by every browser tab. A page that changed
it in place (``atoms.positions += ...``, ``problem.split.pool.sort()``) would silently change every other session's
runs; with read-only arrays that mistake raises ``ValueError: assignment destination is read-only`` instead.
Problems freeze their own arrays (``alcore.loop.Problem.from_arrays``); datasets are frozen by ``read_only``.
"""

from __future__ import annotations

import numpy as np

from alcore.datasets import Dataset


def read_only(dataset: Dataset) -> Dataset:
    """Freeze every array of ``dataset`` in place (per-atom arrays, cells and periodicity of its structures, forces,
    stress; targets are read-only already) and return it. Code that needs to change a structure works on a copy
    (``atoms.copy()`` copies the arrays and gives writeable ones)."""
    for atoms in dataset.atoms:
        for array in (*atoms.arrays.values(), atoms.cell.array, atoms.pbc):
            array.setflags(write=False)
    for per_structure in (dataset.forces, dataset.stress):
        for array in per_structure or ():
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
    return dataset
