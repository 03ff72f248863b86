"""Explore: step through active learning on one dataset and watch uncertainty, the structure map and the curves."""

from __future__ import annotations

import time

import streamlit as st

from alcore.descriptors import DESCRIPTORS
from alcore.explain import explain_pick, map_frame, round_metrics, why_selected
from alcore.references import describe_choice
from alcore.strategies import STRATEGIES
from alcore.units import units_for
from ui import explore_state as es
from ui.datasets import dataset_names, get_dataset, map_or_projection, problem_for
from ui.entry import through_app
from ui.errors import user_errors
from ui.explore_charts import EXPLORE_CHARTS, RoundData
from ui.explore_charts import sections as chart_sections
from ui.explore_exports import export_buttons
from ui.explore_settings import DATASET, RESERVED, build_config, run_settings, view_settings
from ui.figures import explore as figs
from ui.figures.style import loading_placeholder
from ui.reference_options import reference_widgets
from ui.strategy_options import option_widgets, params_for
from ui.urlstate import publish, restore

through_app()

st.title("Explore active learning, round by round")
NEW_SESSION = "explore" not in st.session_state  # its first run draws a placeholder chart (see below)
CHART_LIBRARY_DELAY = 1.2  # s after the starting map: time for the browser to draw it and Step first

names = dataset_names()
if not names:
    st.error("No dataset is available. The bundled pools live in data/; see the README.")
    st.stop()

# ---- settings (sidebar; every one is in the URL) ----------------------------------------------------------------
dataset_setting = DATASET(names)
restore([dataset_setting])
with st.sidebar:
    st.header("Setup")
    st.selectbox("Material system / dataset", names, key=dataset_setting.key)
dataset = get_dataset(st.session_state[dataset_setting.key])
settings = run_settings(list(dataset.targets), DESCRIPTORS.names(), STRATEGIES.names())
views = view_settings()
restore(settings + views)
with st.sidebar:
    st.selectbox("Target", list(dataset.targets), key="target")
    st.selectbox("Descriptor family", DESCRIPTORS.names(), key="descriptor")
    reference_widgets("")
    st.selectbox("Strategy", STRATEGIES.names(), key="strategy")
    option_widgets("", [st.session_state["strategy"]], RESERVED)
    c1, c2 = st.columns(2)
    c1.number_input("Initial labels", 2, 500, step=1, key="n_initial")
    c2.number_input("Batch size", 1, 200, step=1, key="batch_size")
    st.number_input("Label budget", 3, 100_000, step=15, key="budget")
    st.subheader("Committee")
    c1, c2 = st.columns(2)
    c1.number_input("Ensemble size", 2, 20, step=1, key="members")
    c2.number_input("Epochs", 10, 2000, step=10, key="epochs")
    st.selectbox("Hidden widths", ["32", "64,64", "128,128", "128,64", "256,128,64"], key="hidden")
    st.selectbox("Learning rate", [0.001, 0.003, 0.01, 0.03, 0.1], key="lr")
    st.number_input("Seed", 0, 1_000_000, step=1, key="seed")
    st.slider("Autoplay: seconds per round", 0.5, 30.0, step=0.5, key="autoplay_seconds")
publish([dataset_setting, *settings, *views])

s = es.session()
try:
    config = build_config(st.session_state)
    problem = problem_for(config)
    es.follow_settings(s, config, problem)
except Exception as exc:  # noqa: BLE001 - a bad setting is a message, not a traceback
    st.error(f"Cannot set up this run: {exc}")
    st.stop()
st.caption(
    f"{config.dataset}: {len(problem.y)} structures, {problem.X.shape[1]} {config.descriptor} features; "
    f"{len(problem.split.test)} held out for testing, {len(problem.split.initial)} labelled to start; "
    f"energy reference: {describe_choice(config, problem.structures.composition)}."
)


# ---- controls -----------------------------------------------------------------------------------------------------
def _step() -> None:
    with user_errors("Step"):
        es.step_with_baseline(es.session(), bool(st.session_state.get("show_baseline")))


def _reset() -> None:
    es.reset(es.session())
    st.session_state["autoplay"] = False


if st.session_state.get("autoplay") and s.state is not None and s.state.done:
    st.session_state["autoplay"] = False
state = s.state
cols = st.columns([1, 1.3, 1, 1.2, 1])
cols[0].button("Step", type="primary", key="step", on_click=_step, disabled=state.done,
               help="Train the committee on the labels so far, predict the pool, select the next batch.")
run_n = cols[1].button("Run N rounds", key="run_n", disabled=state.done)
cols[2].number_input("N", 1, 100, key="n_rounds", label_visibility="collapsed")
cols[3].toggle("Autoplay", key="autoplay", disabled=state.done, help="A round every few seconds until stopped.")
cols[4].button("Reset", key="reset", on_click=_reset, help="Forget every run of this session.")
if run_n:
    bar = st.progress(0.0, text="Running rounds…")
    with user_errors("Running rounds"):
        es.advance(s, int(st.session_state["n_rounds"]), lambda k, n: bar.progress(k / n, text=f"Round {k} of {n}"))
    bar.empty()
if st.session_state.get("autoplay"):
    with user_errors("Autoplay"):
        es.advance(s, 1)
state = s.state
embedding, axis, note = map_or_projection(config.dataset, problem, config.descriptor)
if not state.rounds:  # a new run: show where it starts at once, then train round 0 and redraw
    st.metric("Labels used", len(state.labelled))
    # An inline image (see start_map_image), so the map and Step appear before the browser has loaded its chart library.
    # Round 0 then trains in a second thread, and a moment later an empty chart makes the browser load that library
    # while training goes on, so the full charts follow at once. (Sent together with the map, that chart held the
    # whole page back until the library was loaded.) benchmarks/bench_app.py measures this.
    start = map_frame(state, None, embedding)
    title = "Starting point: the initial labelled set in the pool"
    with st.container(key="map_start"):
        st.markdown(figs.start_map_image(start, title, axis))
    warmup = st.empty()

    def load_chart_library() -> None:
        if NEW_SESSION:  # later runs have the library already
            warmup.plotly_chart(loading_placeholder("Training round 0; the interactive charts follow…"),
                                key="map_loading")

    with st.spinner(f"Training the committee on the {len(state.labelled)} initial labels…"):
        trained = 0
        with user_errors("Training the first committee"):
            trained = es.advance_in_background(s, meanwhile=load_chart_library, after=CHART_LIBRARY_DELAY)
    warmup.empty()
    if not trained:
        st.stop()
    st.rerun()
if state.done:
    st.success(f"Budget reached: {state.rounds[-1].n_labels} labels. Branch from an earlier round or Reset.")

# ---- which run and which round ----------------------------------------------------------------------------------
if len(s.runs) > 1:
    st.session_state["explore_run"] = s.active
    st.selectbox("Run shown", list(s.runs), key="explore_run",
                 on_change=lambda: setattr(es.session(), "active", st.session_state["explore_run"]))
last = len(state.rounds) - 1
if st.session_state.get("_round_follows") != (s.active, last):
    st.session_state["_round_follows"] = (s.active, last)
    st.session_state["round"] = last
if last > 0:
    st.select_slider("Round", options=list(range(last + 1)), key="round",
                     format_func=lambda r: f"{r} ({state.rounds[r].n_labels} labels)")
r = min(int(st.session_state.get("round", last)), last)
record = state.rounds[r]
units = units_for(config.target)

m = round_metrics(state.rounds, r)
cols = st.columns(4)
cols[0].metric("Labels used", m["n_labels"])
cols[1].metric(f"Test MAE ({units.error})", f"{m['mae'] * units.scale:.1f}",
               None if m["mae_change"] is None else f"{m['mae_change'] * units.scale:+.1f}", delta_color="inverse")
cols[2].metric(f"Mean pool std ({units.error})", f"{m['mean_pool_std'] * units.scale:.1f}")
cols[3].metric("Spearman(std, |error|)", f"{m['spearman']:.2f}")

# ---- structure map and point details ------------------------------------------------------------------------------
frame = map_frame(state, r, embedding)
left, right = st.columns([2.2, 1])
with left:
    st.subheader("Structure map")
    if note:
        st.info(note)
    c1, c2, c3 = st.columns(3)
    c1.selectbox("Colour by", list(figs.COLOUR_BY), key="colour_by", format_func=figs.COLOUR_BY.get)
    c2.toggle("Show test split", key="show_test")
    c3.toggle("Overlay random's picks", key="show_random")
    clicked = None
    event = st.plotly_chart(
        figs.structure_map(frame, st.session_state["colour_by"], st.session_state["show_test"],
                           st.session_state["show_random"], st.session_state.get("inspect_index"), axis=axis,
                           units=units),
        key="map", on_select="rerun", selection_mode="points",
    )
    points = [p for p in (event.selection.points if event else []) if p.get("customdata")]
    if points:
        clicked = int(points[0]["customdata"][0])
with right:
    st.subheader("Why this structure?")
    picked_ids = {problem.structures.ids[i]: int(i) for i in record.selected}
    choice = st.selectbox("Inspect", ["(click a point on the map)", *picked_ids], key="inspect_pick",
                          help="This round's picks; or click any point on the map.")
    index = clicked if clicked is not None else picked_ids.get(choice)
    st.session_state["inspect_index"] = index
    if index is None:
        st.caption("Stars are this round's picks; open circles are what random would have picked instead.")
    else:
        row = frame[frame["index"] == index].iloc[0]
        st.markdown(f"**{row['formula']}** · `{row['id']}` · {row['kind']} · {row['role']}")
        st.write(f"Target {row['target']:.4f} {units.value}" + (
            f"; committee {row['prediction']:.4f} ± {row['std'] * units.scale:.1f} {units.error}"
            if row["std"] == row["std"] else ""))
        if row["labelled_in_round"] >= 0:
            st.write(f"Labelled in round {int(row['labelled_in_round'])} (0 = initial set).")
        if row["role"] in ("pool", "selected"):
            table = why_selected(state, r)
            st.write(explain_pick(table[table["index"] == index].iloc[0], table, state.config.strategy))

# ---- curves --------------------------------------------------------------------------------------------------------
st.toggle("Random baseline on the learning curve", key="show_baseline")
reference = None
with user_errors("The random baseline"):
    reference = es.baseline(s, state, st.session_state["show_baseline"])
data = RoundData.of(state, r, es.related_runs(s, state), reference, s.active)
for section, names in chart_sections().items():  # the registered round charts (ui.explore_charts), a row each
    if section:
        st.subheader(section)
    for column, name in zip(st.columns(len(names)), names, strict=True):
        column.plotly_chart(EXPLORE_CHARTS.get(name).build(data), key=name)
es.look_ahead(state, reference)  # the next Step then only has to draw


# ---- branch and export ----------------------------------------------------------------------------------------------
def _branch(kept: int) -> None:
    with user_errors("Branching"):
        sess = es.session()
        strategy = st.session_state["branch_strategy"]
        params = params_for(st.session_state, "branch_", strategy)
        new = sess.state.config.replace(strategy=strategy, strategy_params=params,
                                        batch_size=int(st.session_state["branch_batch"]))
        es.make_branch(sess, kept, new)


with st.expander(f"Branch from round {r}: continue these {record.n_labels} labels with another strategy"):
    c1, c2, c3 = st.columns(3)
    c1.selectbox("Strategy", STRATEGIES.names(), key="branch_strategy")
    with c2:
        option_widgets("branch_", [st.session_state["branch_strategy"]], with_defaults=True)
    c3.number_input("Batch size", 1, 200, value=config.batch_size, key="branch_batch")
    st.button(f"Branch from round {r}", key="branch", on_click=_branch, args=(r,), disabled=r == 0,
              help="The original run is kept; the branch appears under 'Run shown'. "
                   "To start from the initial set, change the strategy in the sidebar instead.")

with st.expander("Export"):
    export_buttons(state, s, r)

if st.session_state.get("autoplay"):
    if not state.done:
        time.sleep(float(st.session_state["autoplay_seconds"]))
    st.rerun()  # when done, this rerun switches autoplay off
