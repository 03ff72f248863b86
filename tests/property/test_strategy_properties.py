"""Contract properties of every registered strategy on random pools (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alcore.strategies import STRATEGIES, PoolView, select

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def pools(draw):
    """A pool, a labelled set (possibly empty), a batch size and a seed. ``lattice`` pools are small integers, so they
    are full of duplicate rows and exact distance ties."""
    n_pool = draw(st.integers(1, 60))
    d = draw(st.integers(1, 6))
    n_labelled = draw(st.integers(0, 15))
    n = draw(st.integers(1, n_pool))
    lattice = draw(st.booleans())
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if lattice:
        X_pool = g.integers(-2, 3, size=(n_pool, d)).astype(np.float64)
        X_labelled = g.integers(-2, 3, size=(n_labelled, d)).astype(np.float64)
        std = g.integers(0, 3, size=n_pool).astype(np.float64)
    else:
        X_pool, X_labelled, std = g.normal(size=(n_pool, d)), g.normal(size=(n_labelled, d)), g.random(n_pool)
    view = PoolView(mean=g.normal(size=n_pool), std=std, X_pool=X_pool, X_labelled=X_labelled,
                    y_labelled=g.normal(size=n_labelled))
    return view, n, draw(st.integers(0, 2**32 - 1)), lattice


@SETTINGS
@given(case=pools(), name=st.sampled_from(STRATEGIES.names()))
def test_contract_holds_and_seed_fixes_the_batch(case, name):
    view, n, seed, _ = case
    picked = select(name, view, n, np.random.default_rng(seed))  # select checks unique, in range, length n
    assert picked.shape == (n,)
    assert len(np.unique(picked)) == n
    assert 0 <= picked.min() and picked.max() < view.n_pool
    np.testing.assert_array_equal(picked, select(name, view, n, np.random.default_rng(seed)))


@SETTINGS
@given(case=pools(), name=st.sampled_from(["diversity", "kcenter", "hybrid"]), shift=st.integers(-1000, 1000))
def test_distance_strategies_ignore_a_global_translation(case, name, shift):
    view, n, seed, lattice = case
    offset = np.arange(view.X_pool.shape[1], dtype=np.float64) * shift - 7.0 * np.sign(shift)
    if not lattice:
        offset = offset + 0.25  # exact in binary: translated random data stay within rounding of the original
    moved = PoolView(mean=view.mean, std=view.std, X_pool=view.X_pool + offset, X_labelled=view.X_labelled + offset)
    np.testing.assert_array_equal(
        select(name, view, n, np.random.default_rng(seed)), select(name, moved, n, np.random.default_rng(seed))
    )


CLUSTERED = [s.name for s in STRATEGIES.specs() if "k" in s.option_names()]


@SETTINGS
@given(case=pools(), name=st.sampled_from(CLUSTERED), k_fraction=st.floats(0, 1))
def test_any_cluster_count_keeps_the_contract(case, name, k_fraction):
    view, n, seed, _ = case
    k = 1 + int(k_fraction * (view.n_pool - 1))
    picked = select(name, view, n, np.random.default_rng(seed), k=k)
    assert picked.shape == (n,) and len(np.unique(picked)) == n
    assert 0 <= picked.min() and picked.max() < view.n_pool
    np.testing.assert_array_equal(picked, select(name, view, n, np.random.default_rng(seed), k=k))
