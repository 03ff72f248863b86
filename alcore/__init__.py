"""alcore: a compact active-learning core for machine-learned interatomic potentials.

The library has no user-interface dependency; the Streamlit pages build on it.
"""

__version__ = "0.1.0"
