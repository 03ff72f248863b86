"""Descriptor families (``paper``, ``soap``, ``rdf``) and the shared standardise-and-cache pipeline.

Importing this package registers the families; heavy libraries (matminer, dscribe) load only when used.
"""

# importing the modules registers the families, in the order the CLI lists them
from alcore.descriptors import paper  # noqa: F401  isort: skip
from alcore.descriptors import soap  # noqa: F401  isort: skip
from alcore.descriptors import rdf  # noqa: F401  isort: skip
from alcore.descriptors.base import DESCRIPTORS, Descriptor
from alcore.descriptors.features import FeatureSet, compute_features, describe_descriptors

__all__ = ["DESCRIPTORS", "Descriptor", "FeatureSet", "compute_features", "describe_descriptors"]
