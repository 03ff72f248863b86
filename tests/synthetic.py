"""Small synthetic AL problems: descriptor-like features with a smooth nonlinear target."""

import numpy as np

from alcore.config import RunConfig
from alcore.loop import Problem

FAST_COMMITTEE = {"n_members": 3, "hidden": [16], "epochs": 60}


def synthetic_problem(n=240, d=6, seed=0, **cfg):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3]
    options = {"committee_params": FAST_COMMITTEE, "n_initial": 20, "batch_size": 10, "budget": 60} | cfg
    config = RunConfig(dataset="synthetic", **options)
    return config, Problem.from_arrays(X, y, config, fingerprint="synthetic")


def small_si_c_dataset(n: int = 80):
    """``n`` strained/rattled diamond Si and C cells with a smooth fake energy per atom (for CLI-level tests)."""
    from ase.build import bulk

    from alcore.datasets import Dataset

    rng = np.random.default_rng(0)
    atoms, energies = [], []
    for i in range(n):
        a = bulk("Si" if i % 2 else "C", "diamond", a=5.43 if i % 2 else 3.57, cubic=True)
        strain = 1 + rng.uniform(-0.05, 0.05)
        a.set_cell(a.cell * strain, scale_atoms=True)
        a.rattle(0.05, seed=i)
        atoms.append(a)
        energies.append((-5.4 if i % 2 else -9.1) + 3.0 * (strain - 1) ** 2)
    return Dataset("small", tuple(atoms), {"energy_per_atom": np.array(energies)}, tuple(f"s{i}" for i in range(n)))
