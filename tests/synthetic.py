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


def small_cu_al_dataset(n: int = 40, flags: dict[int, str] | None = None):
    """``n`` strained/rattled fcc Cu and Al cells (4 atoms) that ASE's EMT can label. Their stored energies are a
    placeholder (0.0), so a run whose labels come from an oracle cannot be mistaken for one that read the dataset.
    ``flags`` puts ``atoms.info["fail"] = FLAG`` on some rows (read by ``FlakyEMT`` in the oracle tests)."""
    from ase.build import bulk

    from alcore.datasets import Dataset

    rng = np.random.default_rng(1)
    atoms = []
    for i in range(n):
        a = bulk("Cu" if i % 2 else "Al", "fcc", a=3.61 if i % 2 else 4.05, cubic=True)
        a.set_cell(a.cell * (1 + rng.uniform(-0.04, 0.04)), scale_atoms=True)
        a.rattle(0.03, seed=i)
        if flags and i in flags:
            a.info["fail"] = flags[i]
        atoms.append(a)
    return Dataset("cu-al", tuple(atoms), {"energy_per_atom": np.zeros(n)}, tuple(f"cual{i}" for i in range(n)))
