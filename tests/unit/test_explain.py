"""The per-round explanations behind the Explore page."""

import numpy as np
import pytest

from alcore.comparison.grid import RunResult
from alcore.comparison.tables import curves_frame
from alcore.explain import (
    calibration,
    labelled_at,
    map_frame,
    random_counterfactual,
    round_metrics,
    why_selected,
)
from alcore.loop import run
from tests.synthetic import synthetic_problem


@pytest.fixture(scope="module")
def runs():
    out = {}
    for strategy in ("random", "uncertainty", "diversity"):
        config, problem = synthetic_problem(strategy=strategy, budget=50)
        out[strategy] = run(config, problem)
    return out


def test_random_counterfactual_is_what_a_random_run_picks(runs):
    for r in range(len(runs["random"].rounds) - 1):
        np.testing.assert_array_equal(random_counterfactual(runs["random"], r), runs["random"].rounds[r].selected)
    other = random_counterfactual(runs["uncertainty"], 0)
    assert len(other) == 10 and set(other) <= set(runs["uncertainty"].rounds[0].pool.tolist())
    assert len(random_counterfactual(runs["random"], len(runs["random"].rounds) - 1)) == 0


def test_why_selected_explains_uncertainty_and_diversity_picks(runs):
    table = why_selected(runs["uncertainty"], 1)
    picked = table[table.pick_order > 0]
    assert sorted(picked.std_rank) == list(range(1, 11))
    diversity = why_selected(runs["diversity"], 1)
    picked = diversity[diversity.pick_order > 0]
    assert picked.cluster.nunique() == len(picked) == 10  # one pick per k-means cluster: the clustering it used
    assert (diversity.distance_to_labelled > 0).all()
    assert sorted(diversity.pick_order[diversity.pick_order > 0]) == list(range(1, 11))


def test_labelled_at_and_map_frame_roles(runs):
    state = runs["diversity"]
    when = labelled_at(state)
    assert (when[state.problem.split.initial] == 0).all()
    assert (when[state.rounds[0].selected] == 1).all()
    n = len(state.problem.y)
    emb = np.zeros((n, 2), dtype=np.float32)
    frame = map_frame(state, 1, emb)
    counts = frame.role.value_counts()
    record = state.rounds[1]
    assert counts["selected"] == len(record.selected)
    assert counts["labelled"] == len(record.labelled)
    assert counts["pool"] == len(record.pool) - len(record.selected)
    assert counts["test"] == len(state.problem.split.test)
    assert frame.loc[frame.role == "labelled", "std"].isna().all()
    assert frame.random_would_pick.sum() == 10
    assert (frame.labelled_in_round <= 1).all()
    with pytest.raises(ValueError, match="map has shape"):
        map_frame(state, 1, emb[:-1])


def test_calibration_of_a_calibrated_committee_is_near_one():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.1, 2.0, size=20000)
    error = rng.normal(scale=std)
    cal = calibration(std, error, n_bins=5)
    assert cal.ratio == pytest.approx(1.0, abs=0.03)
    np.testing.assert_allclose(cal.bin_rmse / cal.bin_rms_std, 1.0, atol=0.05)
    assert cal.bin_count.sum() == 20000 and np.all(np.diff(cal.bin_rms_std) > 0)
    assert calibration(std, 3 * error).ratio == pytest.approx(3.0, abs=0.1)
    with pytest.raises(ValueError):
        calibration(std, error[:-1])


def test_curves_frame_and_round_metrics(runs):
    frame = curves_frame([RunResult.from_rounds(s.config, s.rounds) for s in runs.values()], names=list(runs))
    assert set(frame.run) == set(runs) and len(frame) == sum(len(s.rounds) for s in runs.values())
    first = runs["random"].rounds
    assert frame[frame.run == "random"]["r2"].tolist() == [r.r2 for r in first]
    assert frame[frame.run == "random"]["round"].tolist() == list(range(len(first)))
    metrics = round_metrics(runs["random"].rounds, 2)
    assert metrics["n_labels"] == 40
    assert metrics["mae_change"] == pytest.approx(runs["random"].rounds[2].mae - runs["random"].rounds[1].mae)
    assert round_metrics(runs["random"].rounds, 0)["mae_change"] is None


def test_explain_pick_names_ranks_and_the_rule(runs):
    from alcore.explain import explain_pick

    table = why_selected(runs["uncertainty"], 1)
    first = table[table.pick_order == 1].iloc[0]
    text = explain_pick(first, table, "uncertainty")
    assert text.startswith("Picked 1st this round: std rank 1 of")
    assert "largest committee std" in text
    other = table[table.pick_order == 0].iloc[0]
    assert explain_pick(other, table, "mine").startswith("Not picked") and "custom strategy" in explain_pick(other, table, "mine")
