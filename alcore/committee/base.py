"""What every committee shares: the registry, input checks, scaling, and per-member seeds.

A committee is a scikit-learn style regressor (``__init__`` stores keyword options as-is, ``fit(X, y)`` returns self,
learned attributes end in ``_``) whose ``predict(X, return_std=True)`` gives the committee mean and the spread across
members, and whose ``predict_members(X)`` gives every member's prediction ``(M, n)``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from alcore.registry import Registry

COMMITTEES: Registry[type] = Registry("committee")


def committee_seeds(random_state, n_members: int) -> tuple[np.random.SeedSequence, list[np.random.SeedSequence]]:
    """A root ``SeedSequence`` (for draws shared by all members) and one independent child per member.

    Member ``m``'s child depends only on ``random_state`` and ``m``, never on the committee size.
    ``random_state`` may be None (fresh entropy), a non-negative int, or a ``np.random.Generator`` (one draw is taken).
    """
    if random_state is None:
        root = np.random.SeedSequence()
    elif isinstance(random_state, np.random.Generator):
        root = np.random.SeedSequence(int(random_state.integers(2**63)))
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        root = np.random.SeedSequence(int(random_state))
    else:
        expected = "None, a non-negative int or a np.random.Generator"
        raise ValueError(f"random_state must be {expected}, got {random_state!r}")
    return root, [np.random.SeedSequence(root.entropy, spawn_key=(m,)) for m in range(n_members)]


def standard_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales from scikit-learn's ``StandardScaler`` (it maps near-constant columns to scale 1)."""
    scaler = StandardScaler().fit(values)
    return scaler.mean_, scaler.scale_


def fit_scalers(est, X: np.ndarray, y: np.ndarray) -> None:
    """Set ``x_mean_``, ``x_scale_`` (per column) and the floats ``y_mean_``, ``y_scale_`` on ``est``."""
    est.x_mean_, est.x_scale_ = standard_scale(X)
    y_mean, y_scale = standard_scale(y.reshape(-1, 1))
    est.y_mean_, est.y_scale_ = float(y_mean[0]), float(y_scale[0])


def check_option(name: str, value, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


def check_common_options(est) -> None:
    """Argument checks shared by every committee (raised at fit time, scikit-learn style)."""
    m = est.n_members
    check_option("n_members", m, isinstance(m, numbers.Integral) and not isinstance(m, bool) and m >= 1, "an int >= 1")
    hidden = est.hidden
    ok = isinstance(hidden, (tuple, list)) and len(hidden) >= 1
    ok = ok and all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1 for h in hidden)
    check_option("hidden", hidden, ok, "a non-empty tuple of positive ints")
    e = est.epochs
    check_option("epochs", e, isinstance(e, numbers.Integral) and not isinstance(e, bool) and e >= 1, "an int >= 1")
    check_option("lr", est.lr, isinstance(est.lr, numbers.Real) and est.lr > 0, "a positive number")
    wd = est.weight_decay
    check_option("weight_decay", wd, isinstance(wd, numbers.Real) and wd >= 0, "a number >= 0")
    bs = est.batch_size
    ok = bs is None or (isinstance(bs, numbers.Integral) and not isinstance(bs, bool) and bs >= 1)
    check_option("batch_size", bs, ok, "None (full batch) or an int >= 1")
    vf = est.val_fraction
    check_option("val_fraction", vf, isinstance(vf, numbers.Real) and 0 <= vf < 1, "a number in [0, 1)")
    p = est.patience
    ok = p is None or (isinstance(p, numbers.Integral) and not isinstance(p, bool) and p >= 1)
    check_option("patience", p, ok, "None (no early stopping) or an int >= 1")


def n_validation(n_rows: int, val_fraction: float) -> int:
    """Rows each member holds out for early stopping; none below 5 rows, where a held-out row costs too much."""
    if val_fraction <= 0 or n_rows < 5:
        return 0
    return max(1, round(val_fraction * n_rows))


def member_samples(n_rows: int, rngs: list[np.random.Generator], val_fraction: float, bootstrap: bool):
    """Per member: how often each row is in its training sample ``(M, n)`` and its validation mask ``(M, n)``.

    Validation rows are drawn first (never trained on); the bootstrap then resamples the remaining rows with
    replacement to their own count.
    """
    n_val = n_validation(n_rows, val_fraction)
    counts = np.zeros((len(rngs), n_rows), dtype=np.int64)
    val = np.zeros((len(rngs), n_rows), dtype=bool)
    for m, rng in enumerate(rngs):
        order = rng.permutation(n_rows)
        val[m, order[:n_val]] = True
        train = order[n_val:]
        if bootstrap:
            counts[m] = np.bincount(rng.choice(train, size=len(train), replace=True), minlength=n_rows)
        else:
            counts[m, train] = 1
    return counts, val


def member_rows(counts: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per member, the rows it trains or validates on, padded to a common length ``L``: indices ``(M, L)``, training
    weights (bootstrap counts) ``(M, L)`` and validation mask ``(M, L)``; padding rows have weight 0 and no validation.

    A bootstrap leaves about 37 % of the rows out of each member's sample; gathering only the rows a member uses cuts
    its training arithmetic by that much (a count-weighted loss over distinct rows equals the loss over the resample).
    """
    used = (counts > 0) | val
    length = max(1, int(used.sum(axis=1).max()))
    index = np.argsort(~used, axis=1, kind="stable")[:, :length]
    return index, np.take_along_axis(counts, index, axis=1), np.take_along_axis(val, index, axis=1)


class CommitteeMixin(RegressorMixin, BaseEstimator):
    """``predict`` / input checks on top of a subclass's ``_fit`` and ``_predict_members``."""

    def _validate_fit_input(self, X, y, reset: bool = True) -> tuple[np.ndarray, np.ndarray]:
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            raise ValueError(f"y must be a 1-D array of targets, got shape {y_arr.shape}")
        X_arr = np.asarray(X)
        if X_arr.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X_arr.shape}")
        if len(X_arr) != len(y_arr):
            raise ValueError(f"X has {len(X_arr)} rows but y has {len(y_arr)} values")
        return validate_data(
            self, X, y, reset=reset, dtype=np.float64, y_numeric=True, ensure_min_samples=2, ensure_all_finite=True
        )

    def _validate_predict_input(self, X) -> np.ndarray:
        check_is_fitted(self)
        X_arr = np.asarray(X)
        if X_arr.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X_arr.shape}")
        # float32 input stays float32: a 100 000-row pool is not copied to float64 just to be cast back
        return validate_data(self, X, reset=False, dtype=(np.float64, np.float32), ensure_all_finite=True)

    def predict_members(self, X) -> np.ndarray:
        """Every member's prediction, shape ``(n_members, n_samples)``, in the units of ``y``."""
        return self._predict_members(self._validate_predict_input(X))

    def predict(self, X, return_std: bool = False):
        """Committee mean; with ``return_std`` also the standard deviation across members (the QbC disagreement)."""
        members = self.predict_members(X)
        mean = members.mean(axis=0)
        if return_std:
            return mean, members.std(axis=0)
        return mean
