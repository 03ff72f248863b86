"""Query-by-committee models: the batched torch committee and the scikit-learn baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from alcore.bench import main as bench_main
from alcore.bench.round import synthetic_descriptors
from alcore.committee import COMMITTEES, MLPCommittee, SklearnMLPCommittee, make_committee
from alcore.committee.base import member_rows
from alcore.committee.batched import forward, forward_loop_reference, init_flat, layer_shapes, unflatten

FAST = {"epochs": 60, "hidden": (32, 32)}


def smooth_data(n: int, d: int = 6, seed: int = 0, scale: float = 1.0, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = offset + scale * (np.sin(1.5 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.5 * X[:, 2] * X[:, 3])
    return X, y


@pytest.fixture(scope="module")
def data():
    X, y = smooth_data(400)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return MLPCommittee(random_state=0, epochs=150).fit(X, y)


def test_registry_and_factory():
    assert COMMITTEES.names()[:2] == ["mlp", "sklearn-mlp"]
    assert COMMITTEES.get("mlp") is MLPCommittee
    assert COMMITTEES.get("sklearn-mlp") is SklearnMLPCommittee
    committee = make_committee("mlp", n_members=3, epochs=7)
    assert isinstance(committee, MLPCommittee) and committee.n_members == 3 and committee.epochs == 7
    with pytest.raises(KeyError, match="unknown committee 'nope'; known: mlp, sklearn-mlp"):
        make_committee("nope")


def test_init_only_stores_options_and_clone_works():
    committee = MLPCommittee(n_members=3, hidden=(8,), random_state=4)
    assert committee.get_params()["hidden"] == (8,)
    assert not any(name.endswith("_") for name in vars(committee))
    assert clone(committee).get_params() == committee.get_params()


def test_shapes_and_spread(fitted, data):
    _, _, X_test, _ = data
    mean, std = fitted.predict(X_test, return_std=True)
    members = fitted.predict_members(X_test)
    assert mean.shape == std.shape == (len(X_test),)
    assert members.shape == (5, len(X_test))
    np.testing.assert_allclose(mean, members.mean(axis=0))
    np.testing.assert_allclose(std, members.std(axis=0))
    np.testing.assert_array_equal(fitted.predict(X_test), mean)
    assert np.all(std > 0)
    assert std.max() > 2 * std.min()  # the spread varies across inputs (it is what QbC ranks by)


def test_learns_a_smooth_nonlinear_function(fitted, data):
    _, _, X_test, y_test = data
    mae = np.mean(np.abs(fitted.predict(X_test) - y_test))
    assert mae < 0.25 * y_test.std()


def test_energy_scale_target_with_30_labels_does_not_blow_up():
    X, y = smooth_data(230, d=8, seed=3, scale=0.05, offset=-8.2)  # eV/atom-like: large offset, small spread
    committee = MLPCommittee(random_state=1).fit(X[:30], y[:30])
    mean, std = committee.predict(X[30:], return_std=True)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    assert np.mean(np.abs(mean - y[30:])) < np.mean(np.abs(y[30:] - y[:30].mean()))  # beats the mean predictor
    assert std.max() < 10 * y.std()


def test_same_seed_is_bit_identical_and_another_seed_differs(data):
    X, y, X_test, _ = data
    first = MLPCommittee(random_state=7, **FAST).fit(X, y).predict_members(X_test)
    again = MLPCommittee(random_state=7, **FAST).fit(X, y).predict_members(X_test)
    other = MLPCommittee(random_state=8, **FAST).fit(X, y).predict_members(X_test)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_fit_leaves_global_rng_and_threads_alone(data):
    X, y, _, _ = data
    torch_state, np_state, threads = torch.get_rng_state(), np.random.get_state()[1].copy(), torch.get_num_threads()
    MLPCommittee(random_state=None, **FAST).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    assert torch.get_num_threads() == threads


def test_a_member_does_not_depend_on_committee_size(data):
    X, y, X_test, _ = data
    two = MLPCommittee(n_members=2, random_state=5, **FAST).fit(X, y).predict_members(X_test)
    three = MLPCommittee(n_members=3, random_state=5, **FAST).fit(X, y).predict_members(X_test)
    np.testing.assert_allclose(two, three[:2], rtol=1e-4, atol=1e-4)


def test_bootstrap_on_and_off(data):
    X, y, _, _ = data
    n_val = round(0.1 * len(y))
    on = MLPCommittee(bootstrap=True, val_fraction=0.1, random_state=0, epochs=2).fit(X, y)
    counts, val = on.member_sample_counts_, on.validation_mask_
    assert counts.shape == val.shape == (5, len(y))
    assert np.all(val.sum(axis=1) == n_val) and np.all(counts[val] == 0)
    assert np.all(counts.sum(axis=1) == len(y) - n_val) and np.all(counts.max(axis=1) > 1)
    assert len({row.tobytes() for row in counts}) == 5  # every member draws its own resample

    off = MLPCommittee(bootstrap=False, val_fraction=0.1, random_state=0, epochs=2).fit(X, y)
    np.testing.assert_array_equal(off.member_sample_counts_, ~off.validation_mask_)
    none = MLPCommittee(bootstrap=False, val_fraction=0.0, random_state=0, epochs=2).fit(X, y)
    assert np.all(none.member_sample_counts_ == 1) and not none.validation_mask_.any()


def test_early_stopping_on_pure_noise_stops_before_max_epochs():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(200, 10)), rng.normal(size=200)
    committee = MLPCommittee(epochs=400, patience=15, val_fraction=0.2, random_state=0).fit(X, y)
    assert committee.n_epochs_ < 200
    assert np.all(committee.best_epoch_ < committee.n_epochs_)
    assert len(committee.loss_curve_) == committee.n_epochs_


def test_without_validation_it_trains_all_epochs(data):
    X, y, _, _ = data
    committee = MLPCommittee(val_fraction=0.0, epochs=25, random_state=0).fit(X, y)
    assert committee.n_epochs_ == 25 and len(committee.validation_curve_) == 0


def test_mini_batch_training_is_deterministic_and_learns(data):
    X, y, X_test, y_test = data
    params = {"batch_size": 64, "epochs": 40, "hidden": (32, 32), "random_state": 3}
    a = MLPCommittee(**params).fit(X, y).predict(X_test)
    b = MLPCommittee(**params).fit(X, y).predict(X_test)
    np.testing.assert_array_equal(a, b)
    assert np.mean(np.abs(a - y_test)) < 0.5 * y_test.std()


@pytest.mark.parametrize("cls", [MLPCommittee, SklearnMLPCommittee])
def test_predict_before_fit_raises_not_fitted(cls):
    with pytest.raises(NotFittedError):
        cls().predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        cls().predict_members(np.zeros((2, 3)))


@pytest.mark.parametrize("cls", [MLPCommittee, SklearnMLPCommittee])
def test_bad_inputs_raise_clear_value_errors(cls):
    X, y = smooth_data(20)
    committee = cls(epochs=2)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        committee.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="y must be a 1-D array"):
        committee.fit(X, y[:, None])
    with pytest.raises(ValueError, match="X has 20 rows but y has 19"):
        committee.fit(X, y[:-1])
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        committee.fit(X_nan, y)
    y_inf = y.copy()
    y_inf[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        committee.fit(X, y_inf)
    committee.fit(X, y)
    with pytest.raises(ValueError, match="6 features"):
        committee.predict(X[:, :4])
    with pytest.raises(ValueError, match="NaN"):
        committee.predict(X_nan)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        committee.predict(X[0])


@pytest.mark.parametrize("cls", [MLPCommittee, SklearnMLPCommittee])
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("n_members", 0),
        ("hidden", ()),
        ("hidden", (8, 0)),
        ("epochs", 0),
        ("lr", -1.0),
        ("weight_decay", -0.1),
        ("batch_size", 0),
        ("val_fraction", 1.0),
        ("patience", 0),
        ("activation", "swish-ish"),
        ("random_state", -3),
    ],
)
def test_bad_options_are_named(cls, option, value):
    X, y = smooth_data(20)
    with pytest.raises(ValueError, match=option):
        cls(**{"epochs": 2, option: value}).fit(X, y)


def test_warm_start_continues_from_the_fitted_weights(data):
    X, y, X_test, y_test = data
    warm = MLPCommittee(warm_start=True, random_state=0, epochs=150).fit(X, y)
    trained_mae = np.mean(np.abs(warm.predict(X_test) - y_test))
    warm.set_params(epochs=3)
    warm.fit(X, y)
    cold = MLPCommittee(random_state=0, epochs=3).fit(X, y)
    assert np.mean(np.abs(warm.predict(X_test) - y_test)) < 1.2 * trained_mae
    assert np.mean(np.abs(cold.predict(X_test) - y_test)) > 2 * trained_mae
    warm.set_params(hidden=(16,))
    with pytest.raises(ValueError, match="warm_start needs the fitted architecture"):
        warm.fit(X, y)
    warm.set_params(hidden=(64, 64))
    with pytest.raises(ValueError, match="features"):
        warm.fit(X[:, :3], y)


@pytest.mark.parametrize("activation", ["silu", "relu", "tanh", "gelu"])
def test_batched_forward_matches_member_by_member_loop(activation):
    shapes = layer_shapes(7, (16, 8))
    flat = init_flat(7, (16, 8), member_seeds=[11, 12, 13, 14])
    params = unflatten(flat, shapes, 4)
    X = torch.from_numpy(np.random.default_rng(0).normal(size=(50, 7)).astype(np.float32))
    batched = forward(params, X, activation)
    assert batched.shape == (4, 50)
    torch.testing.assert_close(batched, forward_loop_reference(params, X, activation), rtol=1e-5, atol=1e-5)
    # members really differ: each has its own seeded initialisation
    assert not torch.allclose(batched[0], batched[1])
    own_rows = torch.from_numpy(np.random.default_rng(1).normal(size=(4, 30, 7)).astype(np.float32))
    reference = forward_loop_reference(params, own_rows, activation)
    torch.testing.assert_close(forward(params, own_rows, activation), reference, rtol=1e-5, atol=1e-5)


def test_member_rows_gathers_exactly_the_rows_each_member_uses():
    counts = np.array([[2, 0, 1, 0, 0], [0, 1, 1, 1, 0]])
    val = np.array([[False, False, False, True, False], [False, False, False, False, False]])
    index, weights, val_rows = member_rows(counts, val)
    assert index.shape == weights.shape == val_rows.shape == (2, 3)
    np.testing.assert_array_equal(index, [[0, 2, 3], [1, 2, 3]])
    np.testing.assert_array_equal(weights, [[2, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(val_rows, [[False, False, True], [False, False, False]])


def test_initialisation_depends_only_on_the_member_seed():
    shapes = layer_shapes(5, (4,))
    a = unflatten(init_flat(5, (4,), member_seeds=[1, 2]), shapes, 2)
    b = unflatten(init_flat(5, (4,), member_seeds=[2, 1, 3]), shapes, 3)
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pa[0], pb[1], rtol=0, atol=0)
        torch.testing.assert_close(pa[1], pb[0], rtol=0, atol=0)


def test_sklearn_baseline_has_the_same_api(data):
    X, y, X_test, y_test = data
    ours = MLPCommittee()
    theirs = SklearnMLPCommittee()
    assert set(ours.get_params()) == set(theirs.get_params())
    params = {"n_members": 3, "hidden": (32, 32), "epochs": 150, "random_state": 0}
    baseline = SklearnMLPCommittee(**params).fit(X, y)
    assert baseline.fit(X, y) is baseline
    mean, std = baseline.predict(X_test, return_std=True)
    assert mean.shape == std.shape == (len(X_test),)
    assert baseline.predict_members(X_test).shape == (3, len(X_test))
    assert np.all(std > 0)
    assert np.mean(np.abs(mean - y_test)) < 0.5 * y_test.std()
    again = SklearnMLPCommittee(**params).fit(X, y).predict_members(X_test)
    np.testing.assert_array_equal(baseline.predict_members(X_test), again)
    assert baseline.member_sample_counts_.shape == (3, len(y))
    assert baseline.member_sample_counts_.max() > 1


def test_constant_and_near_constant_columns_are_safe(data):
    X, y, X_test, _ = data
    X = np.column_stack([X, np.full(len(X), 3.0), 1.0 + 1e-14 * np.arange(len(X))])
    X_test = np.column_stack([X_test, np.full(len(X_test), 3.0), np.ones(len(X_test))])
    mean, std = MLPCommittee(random_state=0, **FAST).fit(X, y).predict(X_test, return_std=True)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))


def test_synthetic_bench_data_is_seeded_and_descriptor_like():
    X, y = synthetic_descriptors(300, n_features=40, seed=5)
    X2, y2 = synthetic_descriptors(300, n_features=40, seed=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.dtype == np.float32 and X.shape == (300, 40)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-3)
    assert -8 < y.mean() < -7 and 0.05 < y.std() < 0.3


def test_round_benchmark_runs_small(capsys, tmp_path):
    args = ["--labelled", "60", "--pool", "300", "--test", "100", "--epochs", "5", "--repeats", "1"]
    assert bench_main(["round", *args, "--large-pool", "500", "--large-features", "20"]) == 0
    out = capsys.readouterr().out
    assert "large pool: 500 x 20 pool" in out and "peak RSS" in out
    assert "mlp " in out and "sklearn-mlp " in out and "speed-up mlp vs sklearn-mlp" in out

    X, y = synthetic_descriptors(400, n_features=12, seed=1)
    np.savez(tmp_path / "features.npz", X=X, y=y)
    assert bench_main(["round", *args, "--large-pool", "0", "--features", str(tmp_path / "features.npz")]) == 0
    assert "features.npz (12 features)" in capsys.readouterr().out

    np.savez(tmp_path / "bad.npz", X=X)
    assert bench_main(["round", *args, "--large-pool", "0", "--features", str(tmp_path / "bad.npz")]) == 2
    assert "bad.npz: missing array(s) ['y']" in capsys.readouterr().err


def test_bench_dispatch_rejects_unknown_names(capsys):
    assert bench_main(["nope"]) == 2
    assert "unknown benchmark 'nope'; known: round" in capsys.readouterr().err


def test_sklearn_baseline_warm_start_and_options(data):
    X, y, X_test, y_test = data
    baseline = SklearnMLPCommittee(n_members=2, hidden=(16,), epochs=30, warm_start=True, random_state=0).fit(X, y)
    first = baseline.members_
    baseline.fit(X, y)
    assert baseline.members_ is first  # continued, not rebuilt
    baseline.set_params(n_members=3)
    with pytest.raises(ValueError, match="warm_start needs the fitted"):
        baseline.fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        SklearnMLPCommittee(activation="silu").fit(X, y)  # scikit-learn has no SiLU: say so instead of guessing
