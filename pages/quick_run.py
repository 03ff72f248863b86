"""Quick run: one strategy on one dataset, to its budget, with the learning curve."""

import streamlit as st

from alcore.config import RunConfig
from alcore.descriptors import DESCRIPTORS
from alcore.loop import run
from alcore.strategies import STRATEGIES
from ui.cached import available_datasets, problem_for
from ui.figures import learning_curve

st.title("Active learning: quick run")
datasets = available_datasets()
if not datasets:
    st.error("No dataset is available. See the README for how to import one.")
    st.stop()

with st.sidebar:
    dataset = st.selectbox("Dataset", datasets, key="dataset")
    descriptor = st.selectbox("Descriptor", DESCRIPTORS.names(), key="descriptor")
    strategy = st.selectbox("Strategy", STRATEGIES.names(), index=STRATEGIES.names().index("diversity"), key="strategy")
    seed = st.number_input("Seed", min_value=0, value=0, step=1, key="seed")
    budget = st.slider("Label budget", 45, 300, 120, step=15, key="budget")
    epochs = st.slider("Epochs", 50, 500, 150, step=50, key="epochs")

if st.button("Run", type="primary", key="run"):
    config = RunConfig(
        dataset=dataset,
        descriptor=descriptor,
        strategy=strategy,
        seed=int(seed),
        budget=budget,
        committee_params={"n_members": 5, "epochs": epochs},
    )
    try:
        problem = problem_for(dataset, descriptor, config.target, config.n_initial, config.seed)
        bar = st.progress(0.0, text="Running rounds…")
        st.session_state["run_state"] = run(
            config, problem, progress=lambda done, total: bar.progress(done / total, text=f"Round {done}/{total}")
        )
        bar.empty()
    except (ValueError, KeyError, RuntimeError) as exc:
        st.error(f"Could not run: {exc}")

state = st.session_state.get("run_state")
if state is not None:
    last = state.rounds[-1]
    cols = st.columns(3)
    cols[0].metric("Labels used", last.n_labels)
    cols[1].metric("Test MAE (eV/atom)", f"{last.mae:.4f}")
    cols[2].metric("Spearman(std, |error|)", f"{last.spearman:.2f}")
    st.plotly_chart(learning_curve(state), key="curve")
else:
    st.info("Choose a dataset and a strategy in the sidebar, then press Run.")
