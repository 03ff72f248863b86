"""Learn: a guided, classroom-sized tour of active learning, query-by-committee and the strategies, with live
figures from a bundled pool. Computation lives in ``alcore.lessons`` (cached by ``ui.learn_cache``)."""

from __future__ import annotations

import streamlit as st

from alcore.lessons import disagreement_bins, lesson_config, lesson_strategies, pick_summary
from alcore.paths import BUNDLED_SYSTEMS
from alcore.strategies import STRATEGIES
from alcore.units import units_for
from ui.datasets import dataset_names, structure_map
from ui.entry import through_app
from ui.errors import user_errors
from ui.figures.learn import (
    disagreement_map_figure,
    disagreement_vs_error_figure,
    learning_curve_figure,
    members_vs_truth_figure,
    pick_order_figure,
    picks_grid_figure,
)
from ui.learn_cache import lesson_curves, lesson_picks, lesson_problem, lesson_snapshot, reference_key
from ui.reference_options import reference_fields, reference_settings, reference_widgets
from ui.strategy_options import option_settings, option_widgets, params_for
from ui.urlstate import Setting, publish, restore

through_app()

DATASETS = [name for name in BUNDLED_SYSTEMS if name in dataset_names()]
STRATEGY_NAMES = lesson_strategies()  # every strategy whose spec has a lesson text
SETTINGS = [
    Setting("learn_dataset", "Si" if "Si" in DATASETS else DATASETS[0], str, options=DATASETS),
    Setting("learn_seed", 0, int, bounds=(0, 999)),
    Setting("learn_strategy", "uncertainty", str, options=STRATEGY_NAMES),
    Setting("learn_rival", "diversity", str, options=STRATEGY_NAMES[1:]),
]
SETTINGS += reference_settings("learn_")
RESERVED = [s.key for s in SETTINGS]
SETTINGS += option_settings("learn_", RESERVED)  # the strategies' options (``learn_alpha``...), from their specs
restore(SETTINGS)

st.title("Learn: how active learning chooses what to compute")

with st.sidebar:
    st.header("Lesson data")
    st.selectbox("Material", DATASETS, key="learn_dataset",
                 help="A bundled pool of about 1 700 structures of one material, with energies already computed.")
    st.number_input("Starting set (seed)", min_value=0, max_value=999, step=1, key="learn_seed",
                    help="Which 30 structures are labelled at the start. Change it to see another classroom example.")
    reference_widgets("learn_")

dataset, seed = st.session_state["learn_dataset"], int(st.session_state["learn_seed"])
reference = None
with user_errors("Energy reference"):
    reference = reference_key(reference_fields(st.session_state, "learn_"))
if reference is None:
    publish(SETTINGS)
    st.stop()
units = units_for(lesson_config(dataset, seed).target)

st.markdown(
    f"""
### 1. The problem
A machine-learned potential predicts a structure's **energy** from a list of numbers describing it (its
**descriptor**: density, bond lengths, how many neighbours each atom has, what elements it contains). To train it we
need **labels**: energies from an expensive quantum-mechanical calculation (DFT), hours of computer time each.
We have a **pool** of candidate structures and can afford to label only a few.

**Active learning** asks: *which structures should we label next so the model improves fastest?* It works in rounds:
train on what is labelled, look at the pool, pick a **batch** (here 15 structures), label them, repeat.

Below: the bundled **{dataset}** pool. 20 % of it is set aside as a **test set** to measure the error honestly; the
model starts from 30 labelled structures. (The bundled energies come from a fast surrogate of DFT, not DFT itself.)
"""
)

with user_errors("Preparing the lesson"):
    problem = lesson_problem(dataset, seed)
    snapshot = lesson_snapshot(dataset, seed, reference, problem)

    st.markdown(
        """
### 2. Query by committee: let several models vote
We cannot know a model's error on an unlabelled structure (we don't know the answer!). So we train a **committee**
of 5 small neural networks, each with its own random start and its own random resample of the 30 labels (some
repeated, some left out). Where they agree, they are
probably right; where they **disagree** (a large **standard deviation**, *std*, of their 5 predictions) they are
probably wrong. That disagreement is the signal many strategies use.
"""
    )
    left, right = st.columns(2)
    left.plotly_chart(members_vs_truth_figure(snapshot, units), key="learn_members_chart")
    right.plotly_chart(disagreement_vs_error_figure(snapshot, disagreement_bins(snapshot.test_std, snapshot.abs_error),
                                                    units), key="learn_disagreement_chart")
    st.caption(
        f"Left: each colour is one model; a grey bar joins the 5 predictions for one test structure. Right: each dot "
        f"is a test structure; the black line is the average error of structures with similar disagreement. "
        f"Spearman ρ = {snapshot.spearman:.2f} measures how well disagreement *ranks* the errors: 1 would be a "
        f"perfect ranking, 0 no relation at all."
    )

    st.markdown(
        """
### 3. Where is the committee unsure?
The **structure map** squeezes each structure's descriptor into two dimensions (UMAP), so similar structures sit
close together. Distances on it are only roughly faithful, but it shows the landscape: blue rings are the 30
labelled structures, colours are the committee's disagreement on the unlabelled pool.
"""
    )
    status = structure_map(dataset, "paper")
    if status.embedding is None:
        st.info(f"The structure map is not ready: {status.message}")
    else:
        st.plotly_chart(disagreement_map_figure(status.embedding, snapshot, units), key="learn_map_chart")

    st.markdown(
        f"""
### 4. {len(STRATEGY_NAMES)} ways to pick the next 15
Every strategy looks at the same committee and the same pool. Some follow the **disagreement**, some spread out to
**cover** the map, some do both. The controls below change the strategies' options.
"""
    )
    option_widgets("learn_", STRATEGY_NAMES, RESERVED)
    params = {name: params_for(st.session_state, "learn_", name, RESERVED) for name in STRATEGY_NAMES}
    picks = lesson_picks(dataset, seed, reference, params, problem)
    if status.embedding is not None:
        st.plotly_chart(picks_grid_figure(status.embedding, snapshot, picks), key="learn_picks_chart")
    summary = pick_summary(problem, snapshot, picks).rename(columns={
        "disagreement": "disagreement of picks (× pool average)",
        "spread": "spread of picks (× random's)",
    })
    st.dataframe(summary, hide_index=True, key="learn_pick_table",
                 column_config={c: st.column_config.NumberColumn(format="%.2f") for c in summary.columns[1:]})
    st.caption("Disagreement above 1: the strategy goes where the committee is unsure. Spread above 1: its picks lie "
               "farther apart (nearest-neighbour distance in descriptor space) than random picks.")

    st.markdown("### 5. One strategy up close")
    st.radio("Strategy", STRATEGY_NAMES, horizontal=True, key="learn_strategy")
    focus = st.session_state["learn_strategy"]
    st.markdown(STRATEGIES.spec(focus).lesson)
    if status.embedding is not None:
        st.plotly_chart(pick_order_figure(status.embedding, snapshot, picks[focus], focus), key="learn_order_chart")

    st.markdown(
        """
### 6. Does it pay off? A learning curve
A **learning curve** plots the test error (**MAE**, mean absolute error) after each round against the number of
labelled structures: lower is better, and a curve that drops faster saves expensive calculations. Here: 4 rounds from
3 different starting sets (thin lines), and their average (thick line). With so few rounds the lines often cross;
the Compare page runs the full experiment.
"""
    )
    st.selectbox("Compare random with", STRATEGY_NAMES[1:], key="learn_rival")
    rival = st.session_state["learn_rival"]
    curves = lesson_curves(dataset, seed, reference, rival, problem)
    st.plotly_chart(learning_curve_figure(curves, units), key="learn_curve_chart")

st.markdown("### 7. Try it yourself")
links = st.columns(2)
links[0].page_link("pages/explore.py", label="Explore: run the loop round by round", icon="🔎")
links[1].page_link("pages/compare.py", label="Compare: all strategies, many seeds, with statistics", icon="📊")

publish(SETTINGS)
