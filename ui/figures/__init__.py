"""Plotly figures built by pure functions from alcore results: one module per page, shared styling in ``style``."""
