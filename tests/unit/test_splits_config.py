import numpy as np
import pytest

from alcore.config import RunConfig
from alcore.seeding import int_seed_for, rng_for
from alcore.splits import make_split


def test_split_partitions_every_index_once():
    s = make_split(200, test_fraction=0.2, n_initial=30, split_seed=0, seed=1)
    allidx = np.concatenate([s.test, s.initial, s.pool])
    assert sorted(allidx.tolist()) == list(range(200))
    assert len(s.test) == 40 and len(s.initial) == 30 and len(s.pool) == 130


def test_test_split_depends_only_on_split_seed_initial_only_on_seed():
    a = make_split(300, seed=0)
    b = make_split(300, seed=1)
    c = make_split(300, seed=0, split_seed=5)
    assert np.array_equal(a.test, b.test)
    assert not np.array_equal(a.initial, b.initial)
    assert not np.array_equal(a.test, c.test)
    assert np.array_equal(a.initial, make_split(300, seed=0).initial)


def test_split_rejects_too_small_datasets():
    with pytest.raises(ValueError, match="too few"):
        make_split(35, n_initial=30)
    with pytest.raises(ValueError, match="test_fraction"):
        make_split(100, test_fraction=1.0)


def test_seed_streams_are_independent_and_reproducible():
    assert rng_for(3, "strategy", 1).random() == rng_for(3, "strategy", 1).random()
    assert rng_for(3, "strategy", 1).random() != rng_for(3, "committee", 1).random()
    assert int_seed_for(3, "committee", 2) != int_seed_for(3, "committee", 3)
    with pytest.raises(ValueError, match="unknown random stream"):
        rng_for(0, "nope")


def test_config_round_trip_and_validation():
    cfg = RunConfig(dataset="Si", strategy="hybrid", strategy_params={"alpha": 0.3}, seed=4)
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown run config keys"):
        RunConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match="budget"):
        RunConfig(n_initial=30, budget=10)
    with pytest.raises(TypeError, match="batch_size"):
        RunConfig(batch_size=1.5)
