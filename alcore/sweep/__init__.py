"""Sweeps: a TOML grid of runs (``grid``), one result file per finished run (``store``), executed serially, on local
processes or on a Dask cluster, resuming where a killed sweep stopped (``execute``). ``python -m alcore sweep``."""

from alcore.sweep.execute import (
    SweepReport,
    dask_client,
    dask_executor,
    process_executor,
    run_sweep,
    run_task,
    serial_executor,
    sweep_file,
)
from alcore.sweep.grid import GridError, SweepGrid, load_grid, parse_grid
from alcore.sweep.store import SweepStore, run_key, summarise_sweep

__all__ = [
    "GridError",
    "SweepGrid",
    "SweepReport",
    "SweepStore",
    "dask_client",
    "dask_executor",
    "load_grid",
    "parse_grid",
    "process_executor",
    "run_key",
    "run_sweep",
    "run_task",
    "serial_executor",
    "summarise_sweep",
    "sweep_file",
]
