"""Explore shows a target's errors in its display unit: a band gap is never labelled meV/atom."""

from __future__ import annotations

import io
import json
from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk
from streamlit.testing.v1 import AppTest

import ui.datasets
from alcore.units import display_unit

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def band_gap_silicon(n: int = 60) -> bytes:
    """Strained silicon cells with an energy and a made-up band gap (a target that is not per atom)."""
    rng = np.random.default_rng(1)
    frames = []
    for _ in range(n):
        atoms = bulk("Si", "diamond", a=5.43, cubic=True)
        strain = rng.uniform(-0.06, 0.06, size=3)
        atoms.set_cell(atoms.cell * (1 + strain)[:, None], scale_atoms=True)
        atoms.info["energy"] = len(atoms) * (-5.4 + 8.0 * float(np.sum(strain**2)))
        atoms.info["band_gap"] = 1.1 - 4.0 * float(strain.sum())
        atoms.info["alcore_targets"] = "energy_per_atom band_gap"
        frames.append(atoms)
    text = io.StringIO()
    ase.io.write(text, frames, format="extxyz")
    return text.getvalue().encode()


def _texts(at: AppTest) -> str:
    charts = [chart.proto.spec for chart in at.get("plotly_chart")]
    shown = [m.label + " " + str(m.value) for m in at.metric] + [e.value for e in at.markdown] + charts
    return " ".join(shown + [str(json.loads(c)) for c in charts])


def test_a_band_gap_is_shown_in_its_own_units_on_explore(monkeypatch):
    assert display_unit("band_gap")[0] != "meV/atom"
    # no background UMAP process (the PCA projection stands in): it would hold the one map worker other tests use
    monkeypatch.setattr(ui.datasets, "structure_map", lambda name, descriptor: ui.datasets.MapStatus(None, "test"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="data_upload").upload("gaps.xyz", band_gap_silicon()).run()
    assert not at.exception and not at.error
    at.query_params.update({"dataset": "upload:gaps", "target": "band_gap", "n_initial": "10", "batch_size": "5",
                            "budget": "30", "epochs": "20", "members": "3", "strategy": "uncertainty"})
    at.switch_page("pages/explore.py").run()
    at.button(key="step").click().run()
    assert not at.exception and not at.error
    assert at.session_state["explore"].state.config.target == "band_gap"
    at.selectbox(key="inspect_pick").set_value(at.selectbox(key="inspect_pick").options[1]).run()
    text = _texts(at)
    unit = display_unit("band_gap")[0]
    assert f"Test MAE ({unit})" in text and "Target " in text
    assert "meV/atom" not in text and "eV/atom" not in text
