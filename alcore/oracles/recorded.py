"""Stored labels in front of an oracle: resume and replay answer from what a run already paid for."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from alcore.oracles.base import Oracle, is_precomputed, oracle_name
from alcore.oracles.labels import Labels
from alcore.structures import Structure


class Recorded:
    """Answers from ``known`` (labels saved with a run or manifest); only structures it has no label for go to
    ``oracle``. Not registered: it wraps the run's own oracle, whose name it keeps."""

    def __init__(self, oracle: Oracle, known: Labels) -> None:
        self.oracle, self.known = oracle, known
        self.name = oracle_name(oracle)
        self.provides = oracle.provides
        self.precomputed = is_precomputed(oracle)
        self._where = {int(i): k for k, i in enumerate(known.indices.tolist())}

    def label(self, structures: Sequence[Structure]) -> Labels:
        from alcore.oracles.base import labelled_by

        new = [s for s in structures if s.index not in self._where]
        fresh = labelled_by(self.oracle, new)
        stored = self.known.take([self._where[s.index] for s in structures if s.index in self._where])
        both = Labels.join([stored, fresh])
        order = {int(i): k for k, i in enumerate(both.indices.tolist())}
        return both.take(np.array([order[s.index] for s in structures], dtype=np.int64))


def with_known(oracle: Oracle, known: Labels | None) -> Oracle:
    """``oracle`` behind the ``known`` labels (a saved run's or a manifest's); unchanged when there are none."""
    if known is None or not len(known):
        return oracle
    return Recorded(oracle, known)
