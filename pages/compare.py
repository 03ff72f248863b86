"""Compare strategies: strategies x seeds on paired initial sets; mean learning curves with bands, tests, exports."""

from __future__ import annotations

import os

import streamlit as st

from alcore.comparison.cache import ComparisonRequest
from alcore.comparison.stats import BANDS, curve_bands
from alcore.comparison.tables import LABELS_SAVED_NOTE, curves_frame, summary_frame
from alcore.config import RunConfig, default_committee_params
from alcore.descriptors import DESCRIPTORS
from alcore.splits import max_labels
from alcore.strategies import STRATEGIES
from alcore.units import display_unit
from ui.compare_notes import summary_caption, whole_pool_note
from ui.compare_state import interrupted_run, last_outcome, outcome_for, run_with_progress
from ui.datasets import dataset_names, get_dataset, problem_for
from ui.entry import through_app
from ui.errors import user_errors
from ui.figures.compare import (
    BAND_LABELS,
    DIAGNOSTICS,
    diagnostic_figure,
    figure_html,
    learning_curve_figure,
    png_button_config,
)
from ui.reference_options import reference_fields, reference_settings, reference_widgets
from ui.strategy_options import option_settings, option_widgets, params_for
from ui.urlstate import Setting, publish, restore

through_app()

st.title("Compare strategies")
st.caption(
    "Every strategy runs with every seed; runs with the same seed share their initial labelled set and test split, "
    "so differences come from the strategy, not the luck of the start."
)

names = dataset_names()
DATASET = Setting("cmp_dataset", "TiO2" if "TiO2" in names else names[0], options=tuple(names))
restore([DATASET])
with st.sidebar:
    st.header("Comparison")
    st.selectbox("Dataset", names, key=DATASET.key)

dataset = capacity = None
with user_errors("Loading the dataset"):
    dataset = get_dataset(st.session_state[DATASET.key])
    capacity = max_labels(len(dataset))
if dataset is None or capacity is None:
    publish([DATASET])
    st.stop()

committee = default_committee_params()
cpus = os.cpu_count() or 1
targets = sorted(dataset.targets, key=lambda t: (t != "energy_per_atom", t))
SETTINGS = [
    Setting("cmp_target", "energy_per_atom", options=tuple(targets)),
    Setting("cmp_descriptor", RunConfig.descriptor, options=tuple(DESCRIPTORS.names())),
    *reference_settings("cmp_"),
    Setting("cmp_strategies", STRATEGIES.names(), options=tuple(STRATEGIES.names()), multi=True),
    Setting("cmp_seeds", 5, kind=int, bounds=(1, 20)),
    Setting("cmp_budget", min(RunConfig.budget, capacity), kind=int, bounds=(1, capacity)),
    Setting("cmp_initial", RunConfig.n_initial, kind=int, bounds=(2, capacity)),
    Setting("cmp_batch", RunConfig.batch_size, kind=int, bounds=(1, capacity)),
    Setting("cmp_members", committee["n_members"], kind=int, bounds=(2, 20)),
    Setting("cmp_epochs", committee["epochs"], kind=int, bounds=(5, 1000)),
    Setting("cmp_jobs", min(cpus, 8), kind=int, bounds=(1, cpus)),
    Setting("cmp_band", "std", options=BANDS),
    Setting("cmp_extra", "none", options=("none", *DIAGNOSTICS)),
]
RESERVED = [s.key for s in SETTINGS]
SETTINGS += option_settings("cmp_", RESERVED)  # every strategy option, from the registry specs
restore(SETTINGS)
value = {s.key: st.session_state[s.key] for s in SETTINGS}

with st.sidebar:
    st.selectbox("Target", targets, key="cmp_target")
    st.selectbox("Descriptor", DESCRIPTORS.names(), key="cmp_descriptor")
    reference_widgets("cmp_")
    st.multiselect("Strategies", STRATEGIES.names(), key="cmp_strategies")
    st.slider("Seeds (paired initial sets)", 1, 20, key="cmp_seeds")
    st.number_input("Budget (labels)", 1, capacity, step=15, key="cmp_budget",
                    help=f"At most {capacity}: every structure outside the held-out test split.")
    st.number_input("Initial labelled set", 2, capacity, key="cmp_initial")
    st.number_input("Batch size (labels per round)", 1, capacity, key="cmp_batch")
    with st.expander("Committee and run options"):
        st.number_input("Committee members", 2, 20, key="cmp_members")
        st.number_input("Training epochs", 5, 1000, key="cmp_epochs")
        option_widgets("cmp_", STRATEGIES.names(), RESERVED, enabled=value["cmp_strategies"])
        st.number_input("Worker processes", 1, cpus, key="cmp_jobs")
    st.header("Display")
    st.radio("Band", BANDS, format_func=BAND_LABELS.get, key="cmp_band")
    st.selectbox("Second figure", ("none", *DIAGNOSTICS), key="cmp_extra",
                 format_func=lambda m: "none" if m == "none" else DIAGNOSTICS[m][0])
publish([DATASET, *SETTINGS])
value = {s.key: st.session_state[s.key] for s in SETTINGS}

stopped = interrupted_run()
if stopped:
    st.warning(f"Cancelled after {stopped[0]} / {stopped[1]} runs. Nothing was kept; press Run to start again.")

request = None
with user_errors("Checking the settings"):
    base = RunConfig(
        dataset=st.session_state[DATASET.key],
        target=value["cmp_target"],
        descriptor=value["cmp_descriptor"],
        **reference_fields(value, "cmp_"),
        committee_params={"n_members": value["cmp_members"], "epochs": value["cmp_epochs"]},
        n_initial=value["cmp_initial"],
        batch_size=value["cmp_batch"],
        budget=value["cmp_budget"],
    )
    chosen = [s for s in STRATEGIES.names() if s in value["cmp_strategies"]]  # one order: one cache entry
    request = ComparisonRequest.create(
        base, chosen, range(value["cmp_seeds"]), dataset.fingerprint(),
        {s: params_for(value, "cmp_", s, RESERVED) for s in chosen},
    )

run_clicked = st.button("Run comparison", key="cmp_run", type="primary", disabled=request is None)
outcome = None
if request is not None:
    st.caption(f"{request.n_runs} runs: {request.describe()}")
    if run_clicked:
        with user_errors("Running the comparison"):
            outcome = run_with_progress(request, problem_for(request.base), value["cmp_jobs"])
    else:
        outcome = outcome_for(request)

if outcome is None and request is not None and (pool_note := whole_pool_note(request.base)):
    st.warning(f"These settings, before you run them: {pool_note}", icon="⚠️")
if outcome is None:
    outcome = last_outcome()
    if outcome is None:
        st.info("Choose the settings in the sidebar and press **Run comparison**.")
        st.stop()
    st.warning(f"Showing your previous comparison, made with other settings: {outcome.request.describe()}. "
               "Press Run for the current settings.")
elif outcome.from_cache:
    st.info(f"Loaded from the result cache: these settings were computed before (in {outcome.compute_seconds:.0f} s), "
            "so nothing was recomputed.")
else:
    st.success(f"Computed {outcome.request.n_runs} runs in {outcome.compute_seconds:.0f} s (now cached).")

shown = outcome.request
with user_errors("Checking the budget"):
    if pool_note := whole_pool_note(shown.base):
        st.warning(pool_note, icon="⚠️")
unit, scale = display_unit(shown.base.target)
stem = f"alcore-compare-{shown.base.dataset}-{outcome.key[:8]}".replace(":", "_").replace("/", "_")
band = value["cmp_band"]
with user_errors("Drawing the comparison"):
    fig = learning_curve_figure(curve_bands(outcome.results, "mae", band), unit=unit, scale=scale, band=band)
    st.plotly_chart(fig, config=png_button_config(f"{stem}-mae"), key="cmp_mae_chart")
    st.caption("PNG: the camera icon in the chart's toolbar saves the figure as a PNG (2x resolution) in your browser.")
    if value["cmp_extra"] != "none":
        extra = diagnostic_figure(curve_bands(outcome.results, value["cmp_extra"], band), value["cmp_extra"],
                                  unit=unit, scale=scale, band=band)
        st.plotly_chart(extra, config=png_button_config(f"{stem}-{value['cmp_extra']}"), key="cmp_extra_chart")

    st.subheader("Summary")
    table = summary_frame(outcome.results, unit=unit, scale=scale)
    formats = {c: st.column_config.NumberColumn(format="%.3g" if c.startswith("p ") else "%.1f")
               for c in table.columns if c not in ("strategy", "runs", LABELS_SAVED_NOTE)}
    st.dataframe(table, hide_index=True, column_config=formats)
    st.caption(summary_caption(len(shown.seeds), "random" in shown.strategies))

    st.subheader("Export")
    curves, summary_csv, html = st.columns(3)
    curves.download_button("Curves (CSV)", curves_frame(outcome.results).to_csv(index=False), f"{stem}-curves.csv",
                           "text/csv", key="cmp_dl_curves", on_click="ignore",
                           help="One row per run and round, in the target's stored units (eV/atom for energies).")
    summary_csv.download_button("Summary table (CSV)", table.to_csv(index=False), f"{stem}-summary.csv", "text/csv",
                                key="cmp_dl_summary", on_click="ignore", help=f"Errors in {unit}.")
    html.download_button("Figure (HTML)", lambda: figure_html(fig), f"{stem}-mae.html", "text/html",
                         key="cmp_dl_html", on_click="ignore",
                         help="Interactive figure with plotly.js embedded: opens offline.")
