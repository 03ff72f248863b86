"""``SklearnMLPCommittee``: the committee a user would write with scikit-learn, kept as the speed/accuracy baseline.

M ``MLPRegressor``s with the same widths, epochs (``max_iter``), learning rate, L2 penalty and early-stopping patience
as ``MLPCommittee``, each with its own ``random_state`` and bootstrap resample, fitted one after another on
standardised X and y. scikit-learn has no SiLU, hence ``activation="relu"`` by default.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from alcore.committee.base import (
    COMMITTEES,
    CommitteeMixin,
    check_common_options,
    check_option,
    committee_seeds,
    fit_scalers,
    n_validation,
)

SKLEARN_ACTIVATIONS = ("relu", "tanh", "logistic", "identity")


@COMMITTEES.register("sklearn-mlp")
class SklearnMLPCommittee(CommitteeMixin):
    """Mean and spread of ``n_members`` bootstrapped scikit-learn ``MLPRegressor``s (same options as ``MLPCommittee``).

    ``weight_decay`` maps to ``alpha`` (an L2 penalty, the nearest scikit-learn has); ``batch_size=None`` means full
    batch. With ``val_fraction > 0`` early stopping uses scikit-learn's own split of each member's bootstrap sample;
    otherwise scikit-learn stops when its training loss stalls for ``patience`` epochs (its usual convergence test).
    """

    def __init__(
        self,
        n_members: int = 5,
        hidden: tuple[int, ...] = (64, 64),
        activation: str = "relu",
        epochs: int = 100,
        lr: float = 1e-2,
        weight_decay: float = 1.0,
        batch_size: int | None = None,
        bootstrap: bool = True,
        val_fraction: float = 0.0,
        patience: int | None = 20,
        random_state=None,
        warm_start: bool = False,
    ) -> None:
        self.n_members = n_members
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.bootstrap = bootstrap
        self.val_fraction = val_fraction
        self.patience = patience
        self.random_state = random_state
        self.warm_start = warm_start

    def fit(self, X, y) -> "SklearnMLPCommittee":
        check_common_options(self)
        expected = f"one of {SKLEARN_ACTIVATIONS} (scikit-learn's MLP activations)"
        check_option("activation", self.activation, self.activation in SKLEARN_ACTIVATIONS, expected)
        warm = bool(self.warm_start) and hasattr(self, "members_")
        if warm:
            fitted = (len(self.members_), self.members_[0].hidden_layer_sizes, self.members_[0].activation)
            wanted = (self.n_members, tuple(self.hidden), self.activation)
            if fitted != wanted:
                raise ValueError(
                    f"warm_start needs the fitted (n_members, hidden, activation) = {fitted}, but the options now say "
                    f"{wanted}; set warm_start=False to refit from scratch"
                )
        X, y = self._validate_fit_input(X, y, reset=not warm)
        if not warm:
            fit_scalers(self, X, y)
        Xs = (X - self.x_mean_) / self.x_scale_
        ys = (y - self.y_mean_) / self.y_scale_
        n = len(y)
        early = n_validation(n, self.val_fraction) > 0 and self.patience is not None
        _, seqs = committee_seeds(self.random_state, self.n_members)
        init_seqs, data_seqs = zip(*(seq.spawn(2) for seq in seqs), strict=True)
        members = self.members_ if warm else [self._new_member(seq) for seq in init_seqs]
        counts = np.zeros((self.n_members, n), dtype=np.int64)
        for m, (member, seq) in enumerate(zip(members, data_seqs, strict=True)):
            rng = np.random.default_rng(seq)
            rows = rng.integers(0, n, size=n) if self.bootstrap else np.arange(n)
            counts[m] = np.bincount(rows, minlength=n)
            member.set_params(
                max_iter=self.epochs,
                learning_rate_init=self.lr,
                alpha=self.weight_decay,
                batch_size=n if self.batch_size is None else min(self.batch_size, n),
                early_stopping=early,
                validation_fraction=self.val_fraction if early else 0.1,
                n_iter_no_change=self.patience if self.patience is not None else self.epochs,
                warm_start=warm,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # reaching max_iter is the expected stop
                # full batch: scikit-learn clips batch_size to the rows left after its validation split
                warnings.filterwarnings("ignore", message="Got `batch_size` less than 1 or larger than sample size")
                member.fit(Xs[rows], ys[rows])
        self.members_ = members
        self.member_sample_counts_ = counts
        self.n_epochs_ = np.array([member.n_iter_ for member in members])
        return self

    def _new_member(self, seq: np.random.SeedSequence) -> MLPRegressor:
        seed = int(seq.generate_state(1, dtype=np.uint32)[0] >> 1)
        return MLPRegressor(hidden_layer_sizes=tuple(self.hidden), activation=self.activation, random_state=seed)

    def _predict_members(self, X: np.ndarray) -> np.ndarray:
        Xs = (X - self.x_mean_) / self.x_scale_
        return np.stack([member.predict(Xs) for member in self.members_]) * self.y_scale_ + self.y_mean_
