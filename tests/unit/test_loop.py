"""The loop on synthetic descriptors: bookkeeping, budget, determinism, replay."""

import numpy as np
import pytest

from alcore.config import RunConfig
from alcore.loop import Problem, n_rounds, run, start, step
from alcore.strategies import STRATEGIES
from tests.synthetic import FAST_COMMITTEE
from tests.synthetic import synthetic_problem as _problem


@pytest.mark.parametrize("strategy", STRATEGIES.names())
def test_rounds_grow_by_batch_and_never_reuse_structures(strategy):
    config, problem = _problem(strategy=strategy)
    state = run(config, problem)
    labels = [r.n_labels for r in state.rounds]
    assert labels == [20, 30, 40, 50, 60]
    assert len(state.rounds) == n_rounds(start(config, problem))
    assert state.done and len(state.rounds[-1].selected) == 0
    chosen = np.concatenate([r.selected for r in state.rounds])
    assert len(np.unique(chosen)) == len(chosen) == 40
    assert not set(chosen) & set(problem.split.test.tolist())
    assert not set(chosen) & set(problem.split.initial.tolist())
    for r in state.rounds:
        assert not set(r.selected) & set(r.labelled.tolist())
        assert len(r.pool_std) == len(r.pool) and np.all(r.pool_std >= 0)
        assert np.isfinite(r.mae) and r.rmse >= r.mae


def test_step_on_finished_run_is_an_error():
    config, problem = _problem(strategy="random")
    state = run(config, problem)
    with pytest.raises(RuntimeError, match="finished"):
        step(state)


def test_budget_is_capped_by_the_pool():
    config, problem = _problem(n=80, strategy="uncertainty")
    config = config.replace(budget=500)
    problem = problem.for_config(config)
    state = run(config, problem)
    assert state.rounds[-1].n_labels == len(problem.split.initial) + len(problem.split.pool)
    assert len(state.rounds[-1].pool) == 0


def test_same_config_same_rounds_and_paired_initial_sets():
    config, problem = _problem(strategy="hybrid")
    a = run(config, problem)
    b = run(config, problem.for_config(config))
    assert all(x.same_results(y) for x, y in zip(a.rounds, b.rounds, strict=True))
    other = config.replace(strategy="diversity")
    c = run(other, problem.for_config(other), max_rounds=1)
    assert np.array_equal(c.rounds[0].labelled, a.rounds[0].labelled)  # paired: same initial set
    assert c.rounds[0].mae == a.rounds[0].mae  # same seed, same data: same round-0 committee
    d = config.replace(seed=1)
    assert not np.array_equal(problem.for_config(d).split.initial, problem.split.initial)


def test_learning_reduces_error_on_a_smooth_target():
    config, problem = _problem(n=400, strategy="random")
    config = config.replace(budget=200, batch_size=45, committee_params={**FAST_COMMITTEE, "epochs": 200})
    state = run(config, problem.for_config(config))
    assert state.rounds[-1].mae < state.rounds[0].mae


def test_problem_rejects_bad_arrays():
    config = RunConfig(n_initial=5)
    with pytest.raises(ValueError, match="NaN"):
        Problem.from_arrays(np.full((50, 2), np.nan), np.zeros(50), config)
    with pytest.raises(ValueError, match="n = len"):
        Problem.from_arrays(np.zeros((50, 2)), np.zeros(49), config)
