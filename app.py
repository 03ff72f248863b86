"""Entry point: ``streamlit run app.py``. Pages are registered here; page scripts live in ``pages/``.

Explore is the default page, served at the root URL (``/``); the others at ``/compare``, ``/data`` and ``/learn``.
"""

import sys

import streamlit as st

from ui.entry import mark_entry

# The server hands the browser dozens of small JavaScript files while a page script computes in another thread; with
# Python's default 5 ms GIL switch interval each file waited up to 0.6 s behind the script (measured in Chromium's
# resource timings), delaying the first interactive page. A 1 ms interval lets the server answer at once.
sys.setswitchinterval(0.001)

st.set_page_config(page_title="alcore — active learning for MLIPs", page_icon=":material/science:", layout="wide")

PAGES = [
    st.Page("pages/explore.py", title="Explore", icon=":material/travel_explore:", default=True),
    st.Page("pages/compare.py", title="Compare strategies", icon=":material/monitoring:", url_path="compare"),
    st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:", url_path="learn"),
]
mark_entry()
st.navigation(PAGES).run()
