"""Downloads from the Explore page: the labelled structures (extxyz), the replayable manifest, the curves (CSV).

Files are built only when a button is clicked (Streamlit calls the ``data`` callable then), so stepping stays fast.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

import streamlit as st

from alcore.comparison.grid import RunResult
from alcore.comparison.tables import curves_frame
from alcore.config import RunConfig
from alcore.exports import extxyz_bytes, training_set
from alcore.loop import RunState
from alcore.manifest import run_manifest
from ui.explore_state import ExploreSession, related_runs


def file_stem(config: RunConfig) -> str:
    """``<dataset>-<strategy>-seed<k>`` as a harmless file name: a dataset may be a path or ``upload:<name>``."""
    dataset = PurePosixPath(config.dataset.replace("\\", "/")).name
    stem = re.sub(r"[^\w.+-]+", "_", f"{dataset}-{config.strategy}-seed{config.seed}", flags=re.ASCII)
    return stem.strip("._")[:120] or "run"


def export_buttons(state: RunState, session: ExploreSession, round_index: int) -> None:
    stem = file_stem(state.config)
    n = state.rounds[round_index].n_labels + len(state.rounds[round_index].selected)
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        f"Labelled structures after round {round_index} ({n}, extxyz)",
        data=lambda: extxyz_bytes(training_set(state, round_index)),
        file_name=f"{stem}-round{round_index}.extxyz", mime="chemical/x-extxyz", key="dl_extxyz",
        help="Energies, forces and stress in each frame, with the round each structure was labelled in (al_round).",
    )
    c2.download_button(
        "Run manifest (JSON, replays exactly)",
        data=lambda: json.dumps(run_manifest(state), indent=1),
        file_name=f"{stem}-manifest.json", mime="application/json", key="dl_manifest",
        help="Replay with: python -m alcore replay MANIFEST.json",
    )
    c3.download_button(
        "Learning curves (CSV)",
        data=lambda: _curves_csv(related_runs(session, state)),
        file_name=f"{stem}-curves.csv", mime="text/csv", key="dl_curves",
    )
    st.caption("Replay a manifest anywhere with `python -m alcore replay MANIFEST.json`: it re-runs every round "
               "and checks that the same structures are selected and the same MAE is reached.")


def _curves_csv(runs: dict[str, RunState]) -> str:
    results = [RunResult.from_rounds(s.config, s.rounds) for s in runs.values()]
    return curves_frame(results, names=list(runs)).to_csv(index=False)
