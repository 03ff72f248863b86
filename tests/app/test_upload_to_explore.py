"""An uploaded dataset is usable on Explore in the same session: PCA map at once, UMAP from the background process."""

import io
import time
from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk
from streamlit.testing.v1 import AppTest

from ui.explore_charts import EXPLORE_CHARTS

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def strained_silicon(n: int = 80) -> bytes:
    """Silicon cells under random strain with a smooth made-up energy: enough structure for a few AL rounds."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        atoms = bulk("Si", "diamond", a=5.43, cubic=i % 2 == 0)
        strain = rng.uniform(-0.06, 0.06, size=3)
        atoms.set_cell(atoms.cell * (1 + strain)[:, None], scale_atoms=True)
        atoms.rattle(0.02, seed=i)
        atoms.info["energy"] = len(atoms) * (-5.4 + 8.0 * float(np.sum(strain**2)))
        frames.append(atoms)
    text = io.StringIO()
    ase.io.write(text, frames, format="extxyz")
    return text.getvalue().encode()


def test_upload_then_explore_it_with_a_background_map():
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="data_upload").upload("strained.xyz", strained_silicon()).run()
    assert not at.exception and not at.error
    name = "upload:strained"
    assert name in at.session_state["uploaded_datasets"]

    at.query_params.update({"dataset": name, "n_initial": "10", "batch_size": "5", "budget": "30", "epochs": "20"})
    at.switch_page("pages/explore.py").run()
    assert not at.exception and not at.error
    assert at.session_state["explore"].state.config.dataset == name
    at.button(key="step").click().run()
    assert [r.n_labels for r in at.session_state["explore"].state.rounds] == [10, 15]
    # a fresh cache: the UMAP map is being computed in a background process, a PCA projection stands in meanwhile
    assert any("PCA projection" in i.value for i in at.info)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and any("PCA projection" in i.value for i in at.info):
        time.sleep(3)
        at.run()
        assert not at.exception
    assert not any("PCA projection" in i.value for i in at.info), "the UMAP map never arrived"
    assert len(at.get("plotly_chart")) == 1 + len(EXPLORE_CHARTS)  # the map and every registered round chart
