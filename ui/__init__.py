"""The thin layer between Streamlit pages and alcore: cached wrappers and figure builders (no science here)."""
