"""Descriptor families (``paper``, ``soap``, ``rdf``) and the shared standardise-and-cache pipeline.

Importing this package registers the families: the three built-in ones first, in the order the CLI lists them, then
every other module of the package in alphabetical order (a new family is one module, no list to edit). Heavy
libraries (matminer, dscribe) load only when used.
"""

import importlib
import pkgutil

from alcore.descriptors import paper  # noqa: F401  isort: skip
from alcore.descriptors import soap  # noqa: F401  isort: skip
from alcore.descriptors import rdf  # noqa: F401  isort: skip
from alcore.descriptors.base import DESCRIPTORS, Descriptor
from alcore.descriptors.features import FeatureSet, compute_features, describe_descriptors

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["DESCRIPTORS", "Descriptor", "FeatureSet", "compute_features", "describe_descriptors"]
