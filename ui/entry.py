"""Every page runs through ``app.py``, even on a first visit straight to ``/compare``.

Streamlit treats a ``pages/`` folder beside the entry script as a legacy multipage app until the entry script has
called ``st.navigation`` once in the server process. So the very first visit to a page URL after the server starts
would run that page alone (no page config, a legacy menu). Each page calls ``through_app()`` first: in that case it
switches the server to ``st.navigation`` mode and reruns, which runs ``app.py`` and then the requested page.
A session that has already been through ``app.py`` is left alone (a rerun would drop the click that started it).
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

VIA_APP = "_entered_via_app"


def mark_entry() -> None:
    """Called by ``app.py`` on every run."""
    st.session_state[VIA_APP] = True


def through_app() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get(VIA_APP):
            st.rerun()

