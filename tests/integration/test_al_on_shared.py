"""Three AL rounds on each real DFT set (skipped when the shared folder is absent)."""

import numpy as np
import pytest

from alcore.config import RunConfig
from alcore.loop import prepare, run

FAST = {"n_members": 3, "epochs": 80}


@pytest.mark.parametrize("name", ["si-mlearn", "tio2-aenet", "c-carbon24", "fe-fitsnap"])
def test_three_rounds_on_real_data(shared_datasets, name):
    config = RunConfig(dataset=name, descriptor="paper", strategy="diversity", committee_params=FAST)
    problem = prepare(config)
    state = run(config, problem, max_rounds=3)
    assert [r.n_labels for r in state.rounds] == [30, 45, 60]
    assert all(len(r.selected) == 15 for r in state.rounds)
    for r in state.rounds:
        assert np.isfinite(r.mae) and r.mae > 0
        assert np.all(np.isfinite(r.pool_std)) and np.all(r.pool_std >= 0)
    chosen = np.concatenate([r.selected for r in state.rounds])
    assert len(np.unique(chosen)) == 45
    assert not np.isin(chosen, problem.split.test).any()


def test_uncertainty_tracks_error_on_tio2(shared_datasets):
    """The committee std must carry information about the error (the premise of QBC) on real data."""
    config = RunConfig(dataset="tio2-aenet", strategy="random", budget=120, committee_params={"n_members": 5})
    state = run(config, prepare(config))
    rho = np.array([r.spearman for r in state.rounds])
    assert np.nanmedian(rho) > 0.1
    assert state.rounds[-1].mae < state.rounds[0].mae
