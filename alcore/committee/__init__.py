"""Query-by-committee regressors. Importing this package registers every committee in ``COMMITTEES``."""

from __future__ import annotations

from alcore.committee.base import COMMITTEES
from alcore.committee.mlp import MLPCommittee
from alcore.committee.sklearn_mlp import SklearnMLPCommittee


def make_committee(name: str, **params):
    """An unfitted committee ``name`` built with ``params``; an unknown name raises ``KeyError`` listing the known."""
    return COMMITTEES.get(name)(**params)


__all__ = ["COMMITTEES", "MLPCommittee", "SklearnMLPCommittee", "make_committee"]
