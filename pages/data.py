"""Data page: what is in each dataset (counts, energy and force distributions, every structure, one structure in 3-D),
the list of available datasets, uploads of your own DFT data for this session, and pools fetched from the Materials
Project / OQMD."""

from __future__ import annotations

import streamlit as st

from alcore.datasets import IMPORTERS, Dataset, DatasetError, list_datasets, summary
from alcore.datasets.upload import UPLOAD_LIMIT, display_name, load_upload, safe_filename
from ui import datasets
from ui import fetch as fetch_form
from ui.entry import through_app
from ui.errors import plain, user_errors
from ui.figures import data as figures
from ui.urlstate import Setting, publish, restore

through_app()

AUTO = "auto-detect"
MAP_DESCRIPTOR = "paper"
MAP_POLL_SECONDS = 5
UPLOAD_RESULT = "_data_upload_result"  # ((file_id, format), dataset name or None, error message or None)
SIZES = "_data_sizes"  # structure counts of the registered sets opened this session, for the list
TABLE_PICK = "_data_table_pick"  # the table selection already applied to data_structure
UPLOAD_MB = UPLOAD_LIMIT // 1024**2
FORMATS_HELP = (
    "extxyz (.xyz/.extxyz, optionally .gz), pymatgen JSON, mlearn JSON, FitSNAP JSON, aenet XSF, a CSV with a 'cif' "
    "column, or a .zip/.tar.gz of CIF or POSCAR/CONTCAR files plus an energies.csv (columns 'id' or 'filename', and "
    "'energy_per_atom' or total 'energy')"
)

upload_format = Setting("data_upload_format", AUTO, options=[AUTO, *IMPORTERS.names()])


def upload_section() -> None:
    """Read a new upload once; on success it joins this session's datasets and becomes the selected one."""
    st.file_uploader(
        f"Upload a dataset (at most {UPLOAD_MB} MB)", key="data_upload", max_upload_size=UPLOAD_MB,
        help=f"Formats: {FORMATS_HELP}. The file stays in this browser session only.",
    )  # fmt: skip
    st.selectbox(
        "Format", upload_format.options, key=upload_format.key, help="Auto-detect uses the file name and content."
    )
    st.caption(f"Formats: {FORMATS_HELP}.")
    uploaded = st.session_state.get("data_upload")
    if uploaded is None:
        return
    chosen = st.session_state[upload_format.key]
    key = (uploaded.file_id, None if chosen == AUTO else chosen)
    result = st.session_state.get(UPLOAD_RESULT)
    if result is None or result[0] != key:
        try:
            with st.spinner(f"Reading {plain(display_name(uploaded.name))}…"):
                dataset = load_upload(uploaded.name, uploaded.getvalue(), key[1])
        except DatasetError as exc:
            result = (key, None, str(exc))
        else:
            name = datasets.add_upload(dataset)
            st.session_state["data_dataset"] = name
            result = (key, name, None)
        st.session_state[UPLOAD_RESULT] = result
    _, name, error = result
    if error is not None:
        st.error(f"Could not read the upload: {plain(error)}")
        return
    st.success(
        f"Read **{plain(display_name(uploaded.name))}** as dataset **{plain(name)}**: it is now selected in the "
        "Dataset tab, and available on every page for the rest of this session."
    )
    st.caption(summary.one_line_description(datasets.get_dataset(name)))
    pending = datasets.structure_map(name, MAP_DESCRIPTOR)
    if pending.embedding is None and not pending.failed:
        st.fragment(run_every=MAP_POLL_SECONDS)(map_status)(name, polling=True)
    else:
        map_status(name)


def map_status(name: str, polling: bool = False) -> None:
    """The upload's structure-map state. While it computes, this runs as a fragment every few seconds; once the map
    is ready (or failed) it reruns the whole page, which draws it without the poller."""
    status = datasets.structure_map(name, MAP_DESCRIPTOR)
    if polling and (status.embedding is not None or status.failed):
        st.rerun()
    if status.embedding is not None:
        st.success(f"Structure map ({MAP_DESCRIPTOR} descriptor): ready, {len(status.embedding)} points.")
    elif status.failed:
        st.warning(f"Structure map: {status.message}")
    else:
        st.info(f"Structure map: {status.message}")
        st.button("Refresh", key="data_map_refresh")  # a click reruns this fragment, which polls again


def overview(dataset: Dataset) -> None:
    info = dataset.describe()
    cols = st.columns(4)
    cols[0].metric("Structures", info["n_structures"])
    cols[1].metric("Atoms per cell", f"{info['n_atoms_min']}–{info['n_atoms_max']}")
    cols[2].metric("Elements", " ".join(info["elements"]))
    cols[3].metric("Energy/atom (eV)", f"{info['energy_per_atom_min']:.2f} … {info['energy_per_atom_max']:.2f}")
    kinds = summary.counts_by_kind(dataset)
    colours = figures.kind_colours(list(kinds.kind))
    left, right = st.columns(2)
    left.plotly_chart(figures.counts_bar(kinds, "kind", "Structures by kind", colours), key="data_kinds_chart")
    right.plotly_chart(
        figures.counts_bar(summary.counts_by_composition(dataset), "composition", "Structures by composition"),
        key="data_compositions_chart",
    )
    left, right = st.columns(2)
    energies = figures.energy_histogram(summary.energy_per_atom_by_kind(dataset), colours)
    left.plotly_chart(energies, key="data_energy_chart")
    forces = summary.force_norms_by_kind(dataset)
    if forces:
        right.plotly_chart(figures.force_histogram(forces, colours), key="data_force_chart")
    else:
        right.info("This dataset has no forces.")


def structures(dataset: Dataset, structure: Setting) -> None:
    table = summary.structures_table(dataset)
    st.caption("Click a row to view that structure below. Energies in eV/atom, forces in eV/Å.")
    event = st.dataframe(
        table, key=f"data_table:{dataset.name}", on_select="rerun", selection_mode="single-row", hide_index=True,
        height=300, column_config={"max_force": st.column_config.NumberColumn("max |F|", format="%.3f")},
    )  # fmt: skip
    pick = (dataset.name, tuple(event.selection.rows))
    if pick[1] and pick != st.session_state.get(TABLE_PICK):
        st.session_state[structure.key] = int(table["index"].iloc[pick[1][0]])
    st.session_state[TABLE_PICK] = pick
    st.number_input(
        f"Structure (index 0–{len(dataset) - 1})", min_value=0, max_value=len(dataset) - 1, step=1, key=structure.key
    )
    index = int(st.session_state[structure.key])
    atoms = dataset.atoms[index]
    view, details = st.columns([3, 2])
    view.plotly_chart(figures.structure_figure(atoms, dataset.ids[index]), key="data_structure_chart")
    with details:
        st.table({"": summary.structure_details(dataset, index)})
        st.download_button(
            "Download as extxyz", summary.structure_extxyz(dataset, index),
            file_name=f"{safe_filename(dataset.ids[index])}.extxyz", mime="chemical/x-extxyz", key="data_download",
        )  # fmt: skip


st.title("Data")
restore([upload_format, *fetch_form.SETTINGS])
view_tab, upload_tab, list_tab = st.tabs(["Dataset", "Upload / fetch", "All datasets"])
with upload_tab:  # before the dataset selector, so a fresh upload or fetch can select itself
    upload_section()
    fetched = fetch_form.fetch_section()
    if fetched is not None:
        st.session_state["data_dataset"] = fetched

names = datasets.dataset_names()
dataset_setting = Setting("data_dataset", "Si" if "Si" in names else names[0], options=names)
restore([dataset_setting])
settings = [upload_format, *fetch_form.SETTINGS, dataset_setting]
with view_tab:
    st.selectbox("Dataset", names, key=dataset_setting.key)
    name = st.session_state[dataset_setting.key]
    dataset = None
    with user_errors(f"Loading the dataset {name}"), st.spinner(f"Loading {name}…"):
        dataset = datasets.get_dataset(name)
    if dataset is not None:
        if not datasets.is_upload(name):
            st.session_state.setdefault(SIZES, {})[name] = len(dataset)
        structure_setting = Setting("data_structure", 0, int, bounds=(0, len(dataset) - 1))
        restore([structure_setting])
        settings.append(structure_setting)
        overview(dataset)
        st.subheader("Structures")
        structures(dataset, structure_setting)

with list_tab:
    uploads = {n: datasets.get_dataset(n) for n in names if datasets.is_upload(n)}
    st.dataframe(
        summary.datasets_table(list_datasets(), uploads, st.session_state.get(SIZES)), hide_index=True,
        key="data_list",
    )  # fmt: skip
    st.caption("Counts of registered sets not opened yet this session are in their description.")
publish(settings)
