"""The Data page's "Fetch from the Materials Project / OQMD" form: widgets, the fetch with its progress, the result.

The query (database, chemical system, filters, offset) is made of URL settings like every other page setting. The
API key and the two server URLs are not: the key must never reach a URL, and a shared link must not be able to send
a user's key to another server. The key lives only in this session's widget state (or comes from the server's
``$MP_API_KEY``) and is handed to the fetch, nothing else. Clicking Fetch takes it out of the widget (the field is
emptied) and the run that fetches drops it, success or failure: a key kept in a server's session memory for hours
after its one use is a key that can leak (a crash report, a debugger, a shared browser), so the user pastes it again
for the next fetch, like a password form that is not remembered. A fetched pool is saved in the server's fetch cache
and becomes a named dataset like the bundled pools (public data, no key inside), so the same query later works
offline.
"""

from __future__ import annotations

import streamlit as st

from alcore.fetch import FetchQuery, fetch_pool, pool_to_dataset
from alcore.fetch.mp import KEY_ENV, MP_ENDPOINT
from alcore.fetch.oqmd import OQMD_URL
from ui import datasets
from ui.errors import user_errors
from ui.urlstate import Setting

DATABASES = {"mp": "Materials Project", "oqmd": "OQMD", "both": "Both, combined (duplicates removed)"}
FROM = {"mp": "the Materials Project", "oqmd": "OQMD", "both": "the Materials Project and OQMD"}
EHULL_ANY = "any"
EHULL_OPTIONS = [EHULL_ANY, "0", "0.025", "0.05", "0.1", "0.2", "0.5"]
API_KEY = "data_fetch_api_key"  # widget state only: never a Setting
MP_URL = "data_fetch_mp_endpoint"
OQMD_URL_KEY = "data_fetch_oqmd_endpoint"
LAST_FETCH = "_data_fetch_last"  # (dataset name, message) of this session's last successful fetch
KEY_IN_USE = "_data_fetch_key_in_use"  # the key between the Fetch click and the end of that run, never longer

database = Setting("data_fetch_database", "mp", options=list(DATABASES))
chemsys = Setting("data_fetch_chemsys", "Ti-O")
max_ehull = Setting("data_fetch_max_ehull", EHULL_ANY, options=EHULL_OPTIONS)
max_sites = Setting("data_fetch_max_sites", 0, int, bounds=(0, 1000))
stable_only = Setting("data_fetch_stable", False, bool)
oqmd_offset = Setting("data_fetch_oqmd_offset", 0.0, float, bounds=(-2.0, 2.0))
SETTINGS = [database, chemsys, max_ehull, max_sites, stable_only, oqmd_offset]


def fetch_section() -> str | None:
    """Draw the form; returns the name of a pool fetched in this run (the page selects it), else None."""
    fetched = None
    api_key = st.session_state.pop(KEY_IN_USE, None)  # set by this run's click (``_take_key``), gone after it
    with st.expander("Fetch from the Materials Project / OQMD", expanded=LAST_FETCH in st.session_state):
        chosen = _form()
        if st.button("Fetch", key="data_fetch_go", type="primary", on_click=_take_key):
            with user_errors(f"Fetching from {FROM[chosen]}"):
                fetched = _fetch(chosen, api_key or None)
        last = st.session_state.get(LAST_FETCH)
        if last is not None and last[0] in datasets.dataset_names():
            st.success(last[1])
    return fetched


def _take_key() -> None:
    """The Fetch button's callback (it runs before the page): move the typed key out of the form for this run only."""
    st.session_state[KEY_IN_USE] = st.session_state.get(API_KEY) or ""
    if API_KEY in st.session_state:
        st.session_state[API_KEY] = ""


def _form() -> str:
    st.radio("Database", list(DATABASES), format_func=DATABASES.get, key=database.key, horizontal=True)
    chosen = st.session_state[database.key]
    st.text_input("Chemical system", key=chemsys.key, help="Elements joined by '-', e.g. Si or Ti-O: the materials "
                  "made of exactly these elements.")  # fmt: skip
    left, middle, right = st.columns(3)
    left.selectbox("Max energy above hull (eV/atom)", EHULL_OPTIONS, key=max_ehull.key)
    middle.number_input("Max atoms per cell (0 = any)", min_value=0, max_value=1000, step=1, key=max_sites.key)
    right.checkbox("Stable only", key=stable_only.key, help="Only materials on the convex hull.")
    if chosen == "both":
        st.number_input(
            "OQMD energy offset (eV/atom)", min_value=-2.0, max_value=2.0, step=0.01, format="%.3f",
            key=oqmd_offset.key, help="Added to OQMD's energies: MP and OQMD use different elemental references, "
            "so one material's formation energy differs between them.",
        )  # fmt: skip
    if chosen in ("mp", "both"):
        st.text_input(
            "Materials Project API key", type="password", key=API_KEY,
            help=f"Free at materialsproject.org/api. Used for the next fetch only, then cleared: never saved, logged "
            f"or put in the link. Leave empty to use the server's ${KEY_ENV}.",
        )  # fmt: skip
    left, right = st.columns(2)
    st.session_state.setdefault(MP_URL, MP_ENDPOINT)
    st.session_state.setdefault(OQMD_URL_KEY, OQMD_URL)
    left.text_input("Materials Project API endpoint", key=MP_URL, disabled=chosen == "oqmd")
    right.text_input("OQMD API base URL", key=OQMD_URL_KEY, disabled=chosen == "mp")
    st.caption("Fetched pools are cached on this server: the same query later works offline. If a fetch fails, "
               "the local datasets keep working.")  # fmt: skip
    return chosen


def _fetch(chosen: str, api_key: str | None) -> str:
    ehull = st.session_state[max_ehull.key]
    query = FetchQuery(
        st.session_state[chemsys.key],
        max_e_above_hull=None if ehull == EHULL_ANY else float(ehull),
        max_sites=st.session_state[max_sites.key] or None,
        stable_only=st.session_state[stable_only.key],
    )
    offset = float(st.session_state.get(oqmd_offset.key, 0.0))
    with st.status(f"Fetching {query.describe()} from {FROM[chosen]}…", expanded=True) as status:
        result = fetch_pool(
            chosen,
            query,
            api_key=api_key,
            mp_endpoint=st.session_state[MP_URL],
            oqmd_endpoint=st.session_state[OQMD_URL_KEY],
            offsets={"oqmd": offset} if chosen == "both" and offset else None,
            progress=status.write,
        )
        dataset = pool_to_dataset(result.pool, result.path)
        status.update(label=f"{len(dataset)} structures ready", state="complete", expanded=False)
    datasets.registered_names.clear()  # the pool is now a named dataset in the server's fetch cache
    name = dataset.name
    origin = "from the server's cache" if result.from_cache else "just fetched"
    removed = len(result.pool.notes.get("duplicates", {}))
    extra = f", {removed} duplicates removed" if removed else ""
    st.session_state[LAST_FETCH] = (
        name,
        f"**{name}**: {len(dataset)} structures ({origin}{extra}). It is now selected in the Dataset tab and "
        "available on every page, and later offline from the server's cache.",
    )
    return name
