"""Save and load runs: a JSON file (config, per-round metrics) plus a content-addressed ``.npz`` of the arrays.

The arrays include the oracle's labels (format ``alcore-run/2``): those of the labelled set and, for an oracle without
precomputed labels, of the test split, so resuming never asks the oracle for a label twice. Runs saved as
``alcore-run/1`` (always made with the dataset oracle) still load; resuming one re-reveals its dataset labels.

Durability: the arrays go to ``<stem>.<sha>.npz`` first, then the JSON that names that file is replaced atomically,
then stale ``.npz`` files are removed. A process killed at any moment leaves the previous JSON and the arrays it names
intact (``tests/hardening/test_durability.py`` kills a saving process at each of these steps). Loading verifies the
hash, so a mismatched or corrupted pair is reported, never silently used; saving again rewrites a damaged arrays file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import alcore
from alcore.atomic import read_json, read_npz, write_json, write_npz
from alcore.config import RunConfig
from alcore.filenames import check_name
from alcore.loop import Problem, RoundRecord, RunState
from alcore.oracles import Labels, is_precomputed

FORMAT = "alcore-run/2"
READABLE_FORMATS = ("alcore-run/1", FORMAT)  # /1: no labels stored (dataset oracle only)


@dataclass(frozen=True, eq=False)
class SavedRun:
    """A run read back from disk: config and rounds, without the (re-computable) problem data."""

    config: RunConfig
    rounds: tuple[RoundRecord, ...]
    dataset_fingerprint: str
    meta: dict[str, Any]
    lineage: tuple[tuple[RunConfig, int], ...] = ()
    labels: Labels | None = None  # of the labelled set after the last round (None: from an alcore-run/1 file)
    test_labels: Labels | None = None  # the oracle's test-split labels (None: they come with the dataset)

    @property
    def known_labels(self) -> Labels | None:
        """Everything the oracle already answered for this run: pass to ``loop.prepare(known=...)``."""
        return Labels.known(self.test_labels, self.labels)

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([r.n_labels for r in self.rounds], dtype=int),
            np.array([r.mae for r in self.rounds], dtype=float),
        )

    def resume(self, problem: Problem) -> RunState:
        """Continue this run on ``problem`` (checked to be the same data and split)."""
        if self.dataset_fingerprint and problem.dataset_fingerprint and (
            self.dataset_fingerprint != problem.dataset_fingerprint
        ):
            raise ValueError(
                f"saved run was made on dataset {self.dataset_fingerprint}, not {problem.dataset_fingerprint}"
            )
        if self.rounds and not np.array_equal(self.rounds[0].labelled, problem.split.initial):
            raise ValueError("saved run's initial set differs from the problem's split (different config or data)")
        last = self.rounds[-1] if self.rounds else None
        labelled = problem.split.initial.copy() if last is None else np.concatenate([last.labelled, last.selected])
        labelled.setflags(write=False)
        labels = self.labels
        if labels is None:  # an alcore-run/1 file: its labels were the dataset's, so they can be revealed again
            if not is_precomputed(problem.oracle):
                raise ValueError("this run was saved without its labels (it comes from an alcore-run/1 file); only "
                                 "runs with the dataset oracle can be resumed from it")  # fmt: skip
            labels = problem.label(labelled)
        if not np.array_equal(labels.indices, labelled):
            raise ValueError("saved run's labels do not match its labelled set (a damaged or edited run file)")
        return RunState(config=self.config, problem=problem, labelled=labelled, rounds=self.rounds,
                        lineage=self.lineage, labels=labels)  # fmt: skip


def _json_float(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def run_to_dict(
    config: RunConfig,
    rounds: tuple[RoundRecord, ...],
    fingerprint: str = "",
    lineage: tuple[tuple[RunConfig, int], ...] = (),
) -> dict[str, Any]:
    """The JSON-friendly part of a run: config, split sizes and per-round scalars (also what ``--json`` prints)."""
    return {
        "format": FORMAT,
        "alcore_version": alcore.__version__,
        "config": config.to_dict(),
        "dataset_fingerprint": fingerprint,
        "lineage": [{"config": c.to_dict(), "n_rounds": n} for c, n in lineage],
        "rounds": [
            {k: (_json_float(getattr(r, k)) if isinstance(getattr(r, k), float) else getattr(r, k)) for k in r.SCALARS}
            | {"n_selected": len(r.selected)}
            for r in rounds
        ],
        "curve": {
            "n_labels": [r.n_labels for r in rounds],
            "mae": [_json_float(r.mae) for r in rounds],
        },
    }


def save_run(state: RunState | SavedRun, path: str | Path) -> Path:
    """Write ``path`` (``.json``) and its arrays file atomically; returns the JSON path."""
    path = Path(path)
    if path.suffix != ".json":
        path = path.with_suffix(".json")
    if isinstance(state, RunState):
        fingerprint, labels, test_labels = state.problem.dataset_fingerprint, state.labels, state.problem.test_labels
    else:
        fingerprint, labels, test_labels = state.dataset_fingerprint, state.labels, state.test_labels
    arrays = {f"r{r.round}_{key}": np.asarray(getattr(r, key)) for r in state.rounds for key in r.ARRAYS}
    for prefix, stored in (("labels_", labels), ("test_labels_", test_labels)):
        arrays |= {} if stored is None else stored.to_arrays(prefix)  # None: a run read from an alcore-run/1 file
    blob = _npz_digest(arrays)
    npz_path = path.with_name(f"{path.stem}.{blob}.npz")
    if not _holds(npz_path, blob):  # content-addressed: reuse the file only if it really holds these arrays
        write_npz(npz_path, **arrays)
    doc = run_to_dict(state.config, state.rounds, fingerprint, state.lineage)
    doc["arrays"] = {"file": npz_path.name, "sha256": blob}
    write_json(path, doc)
    # exactly this run's arrays: "run.json" must not remove "run.v2.<sha>.npz", which belongs to "run.v2.json"
    own = re.compile(re.escape(path.stem) + r"\.[0-9a-f]{20}\.npz")
    for stale in path.parent.iterdir():
        if own.fullmatch(stale.name) and stale.name != npz_path.name:
            stale.unlink(missing_ok=True)
    return path


def _holds(path: Path, digest: str) -> bool:
    try:
        return _npz_digest(read_npz(path)) == digest
    except (FileNotFoundError, ValueError):
        return False


def _npz_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(key.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:20]


def load_run(path: str | Path) -> SavedRun:
    """Read a saved run; every problem (missing file, bad JSON, hash mismatch) names the file."""
    return run_from_document(read_json(path, "run file"), path)


def run_from_document(doc: Any, path: str | Path) -> SavedRun:
    """A saved run from its parsed JSON ``doc``; ``path`` locates the arrays file beside it."""
    path = Path(path)
    found = doc.get("format") if isinstance(doc, dict) else None
    if isinstance(found, str) and found.startswith("alcore-run/") and found not in READABLE_FORMATS:
        raise ValueError(f"{path}: saved in format {found!r}, which this alcore cannot read "
                         f"(it reads {', '.join(READABLE_FORMATS)})")  # fmt: skip
    if found not in READABLE_FORMATS:
        raise ValueError(f"{path}: not an alcore run file (expected format {FORMAT!r})")
    try:
        config = RunConfig.from_saved(doc["config"])
        lineage = read_lineage(doc)
        npz_path = path.with_name(check_name(doc["arrays"]["file"], "arrays file"))  # beside the run, nowhere else
        arrays = read_npz(npz_path)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: incomplete run file (missing {exc})") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read its arrays file ({exc})") from None
    if _npz_digest(arrays) != doc["arrays"]["sha256"]:
        raise ValueError(f"{npz_path}: arrays do not match the hash recorded in {path.name}")
    rounds = []
    for entry in doc["rounds"]:
        r = int(entry["round"])
        scalars = {k: (float("nan") if entry[k] is None else entry[k]) for k in RoundRecord.SCALARS}
        scalars["round"], scalars["n_labels"] = r, int(entry["n_labels"])
        rounds.append(RoundRecord(**scalars, **{k: arrays[f"r{r}_{k}"] for k in RoundRecord.ARRAYS}))
    meta = {k: doc.get(k) for k in ("alcore_version", "format")}
    labels = Labels.from_arrays(arrays, "labels_")  # None: saved from an alcore-run/1 run that was never resumed
    return SavedRun(
        config=config,
        rounds=tuple(rounds),
        dataset_fingerprint=doc.get("dataset_fingerprint", ""),
        meta=meta,
        lineage=lineage,
        labels=labels,
        test_labels=Labels.from_arrays(arrays, "test_labels_"),
    )


def read_lineage(doc: dict[str, Any]) -> tuple[tuple[RunConfig, int], ...]:
    """The branch history of a run document (empty for a plain run)."""
    return tuple((RunConfig.from_saved(seg["config"]), int(seg["n_rounds"])) for seg in doc.get("lineage") or ())
