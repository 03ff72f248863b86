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
