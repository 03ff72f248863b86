"""iGS / GSx / GSy (Wu, Lin & Huang 2019) against a direct float64 transcription of the paper's rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from alcore.strategies import PoolView, select


def _view(seed: int = 0, n_pool: int = 80, n_labelled: int = 6, d: int = 3) -> PoolView:
    g = np.random.default_rng(seed)
    return PoolView(mean=g.normal(size=n_pool), std=g.random(n_pool), X_pool=g.normal(size=(n_pool, d)),
                    X_labelled=g.normal(size=(n_labelled, d)), y_labelled=g.normal(size=n_labelled))


def _reference(view: PoolView, n: int, space: str) -> list[int]:
    """argmax_n min_m d_x(n, m) · d_y(n, m) over labelled ∪ picked, one pick at a time (paper, eq. 7)."""
    X_ref, y_ref, picked = list(view.X_labelled), list(view.y_labelled), []
    for _ in range(n):
        d_x = cdist(view.X_pool, np.asarray(X_ref)) if space != "y" else 1.0
        d_y = np.abs(view.mean[:, None] - np.asarray(y_ref)[None, :]) if space != "x" else 1.0
        score = np.min(d_x * d_y * np.ones((view.n_pool, len(y_ref))), axis=1)
        score[picked] = -np.inf
        i = int(np.argmax(score))
        picked.append(i)
        X_ref.append(view.X_pool[i])
        y_ref.append(view.mean[i])  # a pick's target is its prediction
    return picked


@pytest.mark.parametrize("space", ["xy", "x", "y"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_picks_follow_the_papers_rule(space, seed):
    view = _view(seed)
    assert select("igs", view, 12, np.random.default_rng(0), space=space).tolist() == _reference(view, 12, space)


def test_the_default_is_igs_and_the_variants_differ():
    view = _view(3)
    picks = {s: select("igs", view, 10, np.random.default_rng(0), space=s).tolist() for s in ("xy", "x", "y")}
    assert select("igs", view, 10, np.random.default_rng(0)).tolist() == picks["xy"]
    assert len({tuple(p) for p in picks.values()}) == 3


def test_gsy_goes_to_the_prediction_farthest_from_every_label():
    view = _view(4)
    far = int(np.argmax(np.min(np.abs(view.mean[:, None] - view.y_labelled[None, :]), axis=1)))
    assert select("igs", view, 1, np.random.default_rng(0), space="y")[0] == far


def test_with_nothing_labelled_it_starts_at_the_pool_centre():
    view = _view(5, n_labelled=0)
    centre = int(np.argmin(np.linalg.norm(view.X_pool - view.X_pool.mean(axis=0), axis=1)))
    assert select("igs", view, 4, np.random.default_rng(0))[0] == centre


def test_labels_are_required_and_checked():
    view = _view(6)
    without = PoolView(mean=view.mean, std=view.std, X_pool=view.X_pool, X_labelled=view.X_labelled)
    with pytest.raises(ValueError, match="y_labelled"):
        select("igs", without, 3, np.random.default_rng(0))
    assert len(select("igs", without, 3, np.random.default_rng(0), space="x")) == 3  # GSx needs no labels
    with pytest.raises(ValueError, match="space must be one of"):
        select("igs", view, 3, np.random.default_rng(0), space="z")
