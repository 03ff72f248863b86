"""What a user takes away from a run: the labelled structures as extxyz (ready to train an MLIP on) and the curves."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from alcore.datasets import Dataset, write_extxyz
from alcore.explain import labelled_at
from alcore.loop import RunState


def training_set(state: RunState, dataset: Dataset, round_index: int) -> Dataset:
    """The structures labelled after ``round_index`` (its training set plus the batch it selected), in acquisition
    order, with an ``al_round`` target saying in which round each was labelled (0 = initial set)."""
    if len(dataset) != len(state.problem.y):
        raise ValueError(f"dataset {dataset.name!r} has {len(dataset)} structures; the run was made on {len(state.problem.y)}")
    record = state.rounds[round_index]
    rows = np.concatenate([record.labelled, record.selected])
    subset = dataset.subset(rows, name=f"{dataset.name}-al-{state.config.strategy}-round{round_index}")
    # a new Dataset (validated, read-only) rather than a change to the subset's targets after construction
    return dataclasses.replace(subset, targets={**subset.targets, "al_round": labelled_at(state)[rows].astype(float)})


def extxyz_bytes(dataset: Dataset) -> bytes:
    """``dataset`` as extended-XYZ text (energies, forces, stress, ids and kinds in each frame), via a temp file."""
    with tempfile.TemporaryDirectory(prefix="alcore-export-") as folder:
        path = write_extxyz(dataset, Path(folder) / "structures.extxyz")
        return path.read_bytes()
