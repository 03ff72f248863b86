"""Entry point: ``streamlit run app.py``. Pages are registered here; page scripts live in ``pages/``."""

import streamlit as st

st.set_page_config(page_title="alcore — active learning for MLIPs", layout="wide")

navigation = st.navigation([st.Page("pages/quick_run.py", title="Quick run", default=True)])
navigation.run()
