"""A run manifest: one self-contained JSON (config, branch history, initial set, indices selected per round, curve)
that a user downloads from the app and replays anywhere with ``python -m alcore replay MANIFEST.json``.

Unlike a saved run (JSON + arrays file) it holds no predictions, only what is needed to prove a replay is exact:
the same config and seed must select the same structures in every round and give the same MAE. It does hold the
oracle's labels (of the labelled set, and of the test split for an oracle without precomputed labels), so a replay
never asks the oracle again; ``alcore-manifest/1`` files, which have none, replay with the dataset oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alcore.atomic import read_json
from alcore.config import RunConfig
from alcore.loop import Problem, RunState, replay_segments
from alcore.oracles import Labels, labels_from_json, labels_to_json
from alcore.runs import read_lineage, run_to_dict

MANIFEST_FORMAT = "alcore-manifest/2"
READABLE_MANIFESTS = ("alcore-manifest/1", MANIFEST_FORMAT)  # /1: no labels (dataset oracle only)


def run_manifest(state: RunState) -> dict[str, Any]:
    """The manifest of ``state``, naming the selected structures for people too (ids from the problem)."""
    problem = state.problem
    doc = run_to_dict(state.config, state.rounds, problem.dataset_fingerprint, state.lineage)
    doc["format"] = MANIFEST_FORMAT
    doc["initial"] = problem.split.initial.tolist()
    doc["selected"] = [r.selected.tolist() for r in state.rounds]
    doc["selected_ids"] = [[problem.structures.ids[i] for i in r.selected] for r in state.rounds]
    doc["labels"] = labels_to_json(state.labels)
    doc["test_labels"] = None if problem.test_labels is None else labels_to_json(problem.test_labels)
    return doc


@dataclass(frozen=True)
class Manifest:
    config: RunConfig
    lineage: tuple[tuple[RunConfig, int], ...]
    initial: np.ndarray
    selected: tuple[np.ndarray, ...]
    mae: tuple[float | None, ...]
    dataset_fingerprint: str
    labels: Labels | None = None
    test_labels: Labels | None = None

    @property
    def n_rounds(self) -> int:
        return len(self.selected)

    @property
    def known_labels(self) -> Labels | None:
        """Every label the manifest holds: pass to ``loop.prepare(known=...)``."""
        return Labels.known(self.test_labels, self.labels)


def parse_manifest(doc: Any, source: str = "manifest") -> Manifest:
    """Check and read a manifest document; errors name ``source`` and what is wrong."""
    if not isinstance(doc, dict) or doc.get("format") not in READABLE_MANIFESTS:
        raise ValueError(f"{source}: not an alcore run manifest (expected format {MANIFEST_FORMAT!r})")
    try:
        stored = {k: None if doc.get(k) is None else labels_from_json(doc[k]) for k in ("labels", "test_labels")}
        return Manifest(
            config=RunConfig.from_saved(doc["config"]),
            lineage=read_lineage(doc),
            initial=np.asarray(doc["initial"], dtype=np.int64),
            selected=tuple(np.asarray(s, dtype=np.int64) for s in doc["selected"]),
            mae=tuple(doc["curve"]["mae"]),
            dataset_fingerprint=str(doc.get("dataset_fingerprint", "")),
            **stored,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: incomplete or malformed manifest ({exc})") from None


def read_manifest(path: str | Path) -> Manifest:
    return parse_manifest(read_json(path, "manifest"), str(path))


def replay_manifest(manifest: Manifest, problem: Problem) -> tuple[RunState, list[str]]:
    """Re-run the manifest from scratch on ``problem``; returns the new state and the differences found (none if
    the replay is exact)."""
    differences = []
    if manifest.dataset_fingerprint and manifest.dataset_fingerprint != problem.dataset_fingerprint:
        differences.append(
            f"dataset fingerprint {problem.dataset_fingerprint} differs from the manifest's {manifest.dataset_fingerprint}"
        )
    if not np.array_equal(problem.split.initial, manifest.initial):
        differences.append("the initial labelled set differs")
    n_final = manifest.n_rounds - sum(n for _, n in manifest.lineage)
    problem = problem.with_known_labels(manifest.labels)  # the oracle is asked only for what the manifest lacks
    state = replay_segments(manifest.lineage, problem, manifest.config, n_final)
    if len(state.rounds) != manifest.n_rounds:
        differences.append(f"replay made {len(state.rounds)} rounds, the manifest has {manifest.n_rounds}")
    for r, (record, selected, mae) in enumerate(zip(state.rounds, manifest.selected, manifest.mae)):
        if not np.array_equal(record.selected, selected):
            differences.append(f"round {r}: different structures selected")
        if mae is not None and record.mae != mae:
            differences.append(f"round {r}: MAE {record.mae!r} vs {mae!r} in the manifest")
    return state, differences
