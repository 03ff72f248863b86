"""The descriptor contract.

A descriptor family is a small class: keyword options in ``__init__`` (stored as-is, like scikit-learn),
``params()`` returning them (the cache key), ``feature_labels()`` and ``featurize(dataset) -> (n, d) float array``
computed in batch. Register with ``@DESCRIPTORS.register("name")``. Standardisation and caching are shared and live
in ``alcore.descriptors.features``, not in each family.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from alcore.datasets.base import Dataset
from alcore.registry import Registry


class Descriptor(Protocol):
    name: str

    def params(self) -> dict[str, Any]: ...

    def feature_labels(self) -> list[str]: ...

    def featurize(self, dataset: Dataset) -> np.ndarray: ...


DESCRIPTORS: Registry[type] = Registry("descriptor")
