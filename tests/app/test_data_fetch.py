"""AppTest: the Data page's fetch form, pointed at a local fake MP / OQMD server (127.0.0.1), adds the pool to the
session and selects it; the API key never reaches the URL or the disk; a failed fetch is a message and the local
datasets keep working."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.datasets
from tests.fetch_server import VALID_KEY, fetch_cache, services  # noqa: F401 - fixtures

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def _fresh_dataset_list():
    """The registered-dataset list is cached for every session; fetched pools of this test must not outlive it."""
    ui.datasets.registered_names.clear()
    yield
    ui.datasets.registered_names.clear()


def _open_data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    return at.switch_page("pages/data.py").run()


def test_fetching_from_a_local_mp_server_adds_and_selects_the_pool(services, fetch_cache):
    at = _open_data_page()
    at.radio(key="data_fetch_database").set_value("mp")
    at.text_input(key="data_fetch_chemsys").set_value("O-Ti")
    at.text_input(key="data_fetch_api_key").set_value(VALID_KEY)
    at.text_input(key="data_fetch_mp_endpoint").set_value(services.mp_endpoint)
    at.button(key="data_fetch_go").click().run()
    assert not at.exception and not at.error
    selector = at.selectbox(key="data_dataset")
    assert selector.value == "mp-Ti-O" and "mp-Ti-O" in selector.options  # a named dataset, listed once
    assert [o for o in selector.options if "mp-Ti-O" in o] == ["mp-Ti-O"]
    structures = next(df.value for df in at.dataframe if "energy_per_atom" in df.value.columns)
    assert len(structures) == 6 and set(structures.kind) == {"mp"}
    assert any("mp-Ti-O" in s.value and "6 structures" in s.value for s in at.success)
    assert at.query_params["data_fetch_chemsys"] in ("O-Ti", ["O-Ti"])  # the query is in the link, the key is not
    url = str(dict(at.query_params))
    assert VALID_KEY not in url and "data_fetch_api_key" not in url and services.mp_endpoint not in url
    assert services.seen("/materials/summary/")[0].headers["x-api-key"] == VALID_KEY
    files = [p for p in fetch_cache.parent.rglob("*") if p.is_file()]
    assert (fetch_cache / "mp-Ti-O.json") in files and not [p for p in files if VALID_KEY.encode() in p.read_bytes()]


def test_a_failed_fetch_is_a_message_and_the_local_datasets_keep_working(fetch_cache):
    at = _open_data_page()
    at.radio(key="data_fetch_database").set_value("oqmd").run()  # enables the OQMD URL field
    at.text_input(key="data_fetch_oqmd_endpoint").set_value("http://127.0.0.1:9/oqmdapi/")
    at.button(key="data_fetch_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("Fetching from OQMD failed: cannot reach OQMD")
    assert "Traceback" not in at.error[0].value
    assert at.selectbox(key="data_dataset").value == "Si" and not list(fetch_cache.glob("*.json"))
    at.selectbox(key="data_dataset").set_value("C").run()
    assert not at.exception and at.selectbox(key="data_dataset").value == "C"
    assert "data_energy_chart" in {chart.key for chart in at.get("plotly_chart")}


def test_a_bad_chemical_system_is_explained_without_any_request(services, fetch_cache):
    at = _open_data_page()
    at.radio(key="data_fetch_database").set_value("both").run()
    at.text_input(key="data_fetch_chemsys").set_value("Ti-Xx")
    at.text_input(key="data_fetch_mp_endpoint").set_value(services.mp_endpoint)
    at.text_input(key="data_fetch_oqmd_endpoint").set_value(services.oqmd_endpoint)
    at.button(key="data_fetch_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "'Xx' is not an element symbol" in at.error[0].value
    assert services.requests == []
