"""AppTest: the Data page shows a bundled dataset (tables, charts, one structure in 3-D) and takes uploads."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from streamlit.testing.v1 import AppTest

import ui.datasets

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _open_data_page() -> AppTest:
    # The page's url_path ("data") is its file name, so switching works before the first run and the test does not
    # pay for the default (Explore) page.
    at = AppTest.from_file(APP, default_timeout=60)
    return at.switch_page("pages/data.py").run()


def _charts(at: AppTest) -> dict[str, dict]:
    return {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def _values(array) -> np.ndarray:
    """A trace array from a chart spec: plotly writes numeric arrays as base64 typed arrays."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=object)


def _tiny_extxyz() -> bytes:
    frames = []
    for i in range(5):
        atoms = bulk("Si", "diamond", a=5.43)
        atoms.rattle(0.03, seed=i)
        atoms.info["energy"] = -10.8 + 0.02 * i
        atoms.info["kind"] = "rattle" if i else "ideal"
        frames.append(atoms)
    text = io.StringIO()
    ase.io.write(text, frames, format="extxyz")
    return text.getvalue().encode()


@pytest.fixture
def map_calls(monkeypatch) -> list[tuple[str, str]]:
    """Record structure-map requests instead of starting a background UMAP process in the test."""
    calls: list[tuple[str, str]] = []

    def fake_structure_map(name: str, descriptor: str) -> ui.datasets.MapStatus:
        calls.append((name, descriptor))
        return ui.datasets.MapStatus(None, "computing the UMAP structure map in the background (test)")

    monkeypatch.setattr(ui.datasets, "structure_map", fake_structure_map)
    return calls


def test_bundled_si_shows_tables_charts_and_the_chosen_structure():
    at = _open_data_page()
    at.selectbox(key="data_dataset").set_value("Si").run()
    assert not at.exception and not at.error
    structures = next(df.value for df in at.dataframe if "energy_per_atom" in df.value.columns)
    assert len(structures) == 1708 and {"formation_energy_per_atom", "max_force"} <= set(structures.columns)
    listing = next(df.value for df in at.dataframe if "origin" in df.value.columns)
    assert {"C", "Si", "Fe", "TiO2"} <= set(listing.name) and listing.set_index("name").structures["Si"] == 1708
    charts = _charts(at)
    assert {"data_kinds_chart", "data_compositions_chart", "data_energy_chart", "data_force_chart"} <= set(charts)
    (bars,) = charts["data_kinds_chart"]["data"]
    assert sorted(bars["x"]) == sorted(structures.kind.unique())

    at.number_input(key="data_structure").set_value(3).run()
    assert not at.exception
    assert at.session_state["data_structure"] == 3 and at.query_params["data_structure"] == "3"
    details = at.table[0].value
    expected = structures.set_index("index").loc[3]
    assert details.loc["id"].iloc[0] == expected["id"]
    viewer = _charts(at)["data_structure_chart"]
    atoms = [t for t in viewer["data"] if t["mode"] == "markers"]
    cell = [t for t in viewer["data"] if t["mode"] == "lines"]
    assert sum(len(_values(t["x"])) for t in atoms) == expected["n_atoms"] and len(_values(cell[0]["x"])) == 36
    assert at.get("download_button")


def test_a_link_reopens_the_same_dataset_and_structure():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["data_dataset"] = "TiO2"
    at.query_params["data_structure"] = "2"
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert at.selectbox(key="data_dataset").value == "TiO2" and at.number_input(key="data_structure").value == 2
    assert at.table[0].value.loc["id"].iloc[0] == "TiO2-polymorph-brookite"


def test_uploaded_extxyz_joins_the_session_and_is_selected(map_calls):
    at = _open_data_page()
    at.file_uploader(key="data_upload").upload("tiny si.xyz", _tiny_extxyz()).run()
    assert not at.exception and not at.error
    uploads = at.session_state["uploaded_datasets"]
    assert list(uploads) == ["upload:tiny_si"] and len(uploads["upload:tiny_si"]) == 5
    selector = at.selectbox(key="data_dataset")
    assert "upload:tiny_si" in selector.options and selector.value == "upload:tiny_si"
    assert map_calls and map_calls[0] == ("upload:tiny_si", "paper")
    assert any("structure map" in info.value.lower() for info in at.info)
    assert any("tiny si.xyz" in message.value for message in at.success)
    structures = next(df.value for df in at.dataframe if "energy_per_atom" in df.value.columns)
    assert list(structures.kind) == ["ideal", "rattle", "rattle", "rattle", "rattle"]
    assert "data_energy_chart" in _charts(at)

    at.selectbox(key="data_dataset").set_value("C").run()  # the upload stays available after choosing another set
    assert not at.exception and "upload:tiny_si" in at.selectbox(key="data_dataset").options


def test_garbage_upload_is_an_error_naming_the_file_and_stores_nothing(map_calls):
    at = _open_data_page()
    at.file_uploader(key="data_upload").upload("garbage.xyz", b"\x00\x01 this is not a structure file").run()
    assert not at.exception
    assert len(at.error) == 1 and "garbage.xyz" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert "uploaded_datasets" not in at.session_state or not at.session_state["uploaded_datasets"]
    assert map_calls == []
    assert at.selectbox(key="data_dataset").value == "Si"
