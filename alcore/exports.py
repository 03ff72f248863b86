"""What a user takes away from a run: the labelled structures as extxyz (ready to train an MLIP on) and the curves."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from alcore.datasets import Dataset, write_extxyz
from alcore.explain import labelled_at
from alcore.loop import RunState
from alcore.oracles import is_precomputed


def training_set(state: RunState, round_index: int) -> Dataset:
    """The structures labelled after ``round_index`` (its training set plus the batch it selected), in acquisition
    order, with the oracle's labels (energy, forces and stress where it provides them) and an ``al_round`` target
    saying in which round each was labelled (0 = initial set). An oracle that computes its labels replaces the
    dataset's: the dataset's other targets are then left out, so no frame mixes two levels of theory."""
    problem = state.problem
    dataset = problem.structures.dataset
    if dataset is None:
        raise ValueError("this run's problem was built from descriptor arrays: it has no structures to export")
    record = state.rounds[round_index]
    rows = np.concatenate([record.labelled, record.selected])
    labels = state.labels.take(slice(0, len(rows)))  # acquisition order: a prefix of the run's labels
    subset = dataset.subset(rows, name=f"{dataset.name}-al-{state.config.strategy}-round{round_index}")
    precomputed = is_precomputed(problem.oracle)
    targets = dict(subset.targets) if precomputed else {"energy_per_atom": subset.energy_per_atom}
    if labels.energy_per_atom is not None:
        targets["energy_per_atom"] = labels.energy_per_atom
    targets[state.config.target] = labels.target
    targets["al_round"] = labelled_at(state)[rows].astype(float)
    forces = labels.forces if labels.forces is not None or not precomputed else subset.forces
    stress = labels.stress if labels.stress is not None or not precomputed else subset.stress
    # a new Dataset (validated, read-only) rather than a change to the subset after construction
    return dataclasses.replace(subset, targets=targets, forces=forces, stress=stress)


def extxyz_bytes(dataset: Dataset) -> bytes:
    """``dataset`` as extended-XYZ text (energies, forces, stress, ids and kinds in each frame), via a temp file."""
    with tempfile.TemporaryDirectory(prefix="alcore-export-") as folder:
        path = write_extxyz(dataset, Path(folder) / "structures.extxyz")
        return path.read_bytes()
