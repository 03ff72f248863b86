"""Tables and statistics that describe a dataset for people (the app's Data page): what is in it and one structure.

Everything here is a pure function of a ``Dataset`` (or of the registered sources), returning pandas tables, numpy
arrays or plain values, so the page only draws them and the numbers are unit-tested without Streamlit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from ase import Atoms

from alcore.datasets.base import DEFAULT_TARGET, Dataset
from alcore.datasets.importers.extxyz import write_extxyz
from alcore.datasets.records import UNKNOWN_KIND
from alcore.datasets.sources import BUNDLED_PRIORITY, SOURCES, DatasetInfo

SPACEGROUP_SYMPREC = 0.1
"""Å; loose enough that rattled or relaxed-but-noisy cells still report their parent space group."""

OTHER = "other"


def datasets_table(
    infos: Sequence[DatasetInfo], uploads: Mapping[str, Dataset], sizes: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """One row per registered source and per upload: name, origin, description, structures, format, location.

    Counting a registered set means loading it, so ``sizes`` gives the counts already known (e.g. of the sets opened
    this session); the others are left empty (their description states the count).
    """
    sizes = dict(sizes or {})
    rows = []
    for info in infos:
        bundled = info.name in SOURCES and SOURCES.get(info.name).priority >= BUNDLED_PRIORITY
        rows.append({
            "name": info.name,
            "origin": "bundled pool" if bundled else "DFT set" if info.available else "DFT set (not on this machine)",
            "description": info.description,
            "structures": sizes.get(info.name),
            "format": info.format,
            "location": info.location,
        })  # fmt: skip
    for name, dataset in uploads.items():
        rows.append({
            "name": name,
            "origin": "upload (this session)",
            "description": one_line_description(dataset),
            "structures": len(dataset),
            "format": str(dataset.provenance.get("format", "")),
            "location": str(dataset.provenance.get("uploaded_file", dataset.provenance.get("path", ""))),
        })  # fmt: skip
    table = pd.DataFrame(rows, columns=["name", "origin", "description", "structures", "format", "location"])
    table["structures"] = table["structures"].astype("Int64")
    return table


def one_line_description(dataset: Dataset) -> str:
    """``Si: 3 structures, 8-16 atoms; targets energy_per_atom, forces`` (uploads have no written description)."""
    info = dataset.describe()
    forces = ", forces" if info["has_forces"] else ""
    return (
        f"{'-'.join(info['elements'])}: {info['n_structures']} structures, {info['n_atoms_min']}-{info['n_atoms_max']} "
        f"atoms; targets {', '.join(info['targets'])}{forces}{read_notes(dataset)}"
    )


def read_notes(dataset: Dataset, shown: int = 5) -> str:
    """``; not read: info 'foo' (3 structures); 2 files skipped: README.md (not data), ...`` from the read summary in
    the provenance, so what an upload left out is visible where it is described; empty when nothing was."""
    read = dataset.provenance.get("read") or {}
    parts = []
    ignored = read.get("ignored") or {}
    if ignored:
        keys = [f"{key} ({count} structures)" if count != len(dataset) else key for key, count in ignored.items()]
        more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
        parts.append(f"not read: {', '.join(keys[:shown])}{more}")
    skipped = read.get("skipped_files") or {}
    if skipped.get("count"):
        more = ", ..." if skipped["count"] > min(shown, len(skipped["files"])) else ""
        parts.append(f"{skipped['count']} file{'s' if skipped['count'] > 1 else ''} skipped: "
                     f"{', '.join(skipped['files'][:shown])}{more}")  # fmt: skip
    parts += [str(note) for note in dataset.provenance.get("notes") or []]
    return "".join(f"; {part}" for part in parts)


def kinds_of(dataset: Dataset) -> list[str]:
    """Each structure's kind (``"unknown"`` for all when the source has none)."""
    return list(dataset.kinds) if dataset.kinds is not None else [UNKNOWN_KIND] * len(dataset)


def reduced_formulas(dataset: Dataset) -> list[str]:
    """Each structure's reduced composition (``Si``, ``TiO2``, ``Ti8O15``), the unit chemists group structures by."""
    return [atoms.symbols.formula.reduce()[0].format("metal") for atoms in dataset.atoms]


def counts_by_kind(dataset: Dataset) -> pd.DataFrame:
    """Columns ``kind``, ``structures``; most common first (ties by name, so the order is stable)."""
    return _counts(kinds_of(dataset), "kind")


def counts_by_composition(dataset: Dataset, top: int | None = 20) -> pd.DataFrame:
    """Columns ``composition``, ``structures``; beyond the ``top`` most common, the rest is one ``other`` row."""
    table = _counts(reduced_formulas(dataset), "composition")
    if top is not None and len(table) > top:
        rest = table.iloc[top:]
        other = pd.DataFrame(
            {"composition": [f"{OTHER} ({len(rest)} compositions)"], "structures": [int(rest.structures.sum())]}
        )
        table = pd.concat([table.iloc[:top], other], ignore_index=True)
    return table


def _counts(labels: Sequence[str], column: str) -> pd.DataFrame:
    counts = pd.Series(labels, dtype=str).value_counts()
    table = pd.DataFrame({column: counts.index.astype(str), "structures": counts.to_numpy(dtype=int)})
    return table.sort_values(["structures", column], ascending=[False, True], ignore_index=True)


def energy_per_atom_by_kind(dataset: Dataset) -> dict[str, np.ndarray]:
    """Energies per atom (eV/atom) grouped by kind, kinds in the order of ``counts_by_kind``."""
    kinds = np.array(kinds_of(dataset))
    energies = dataset.energy_per_atom
    return {kind: energies[kinds == kind] for kind in counts_by_kind(dataset).kind}


def force_norms_by_kind(dataset: Dataset) -> dict[str, np.ndarray]:
    """Per-atom force magnitudes |F| (eV/Å) grouped by kind; empty when the dataset has no forces."""
    if dataset.forces is None:
        return {}
    grouped: dict[str, list[np.ndarray]] = {}
    for kind, forces in zip(kinds_of(dataset), dataset.forces):
        if forces is not None:
            grouped.setdefault(kind, []).append(np.linalg.norm(forces, axis=1))
    order = [k for k in counts_by_kind(dataset).kind if k in grouped]
    return {kind: np.concatenate(grouped[kind]) for kind in order}


def max_force_norms(dataset: Dataset) -> np.ndarray:
    """The largest per-atom |F| (eV/Å) of each structure; NaN where a structure has no forces."""
    if dataset.forces is None:
        return np.full(len(dataset), np.nan)
    return np.array([np.nan if f is None else float(np.linalg.norm(f, axis=1).max()) for f in dataset.forces])


def structures_table(dataset: Dataset) -> pd.DataFrame:
    """One row per structure: index, id, formula, kind, n_atoms, every per-atom target, max |F| (when forces exist)."""
    table = pd.DataFrame({
        "index": np.arange(len(dataset)),
        "id": list(dataset.ids),
        "formula": dataset.formulas,
        "kind": kinds_of(dataset),
        "n_atoms": dataset.n_atoms,
        DEFAULT_TARGET: dataset.energy_per_atom,
    })  # fmt: skip
    for key in sorted(k for k in dataset.targets if k != DEFAULT_TARGET):
        table[key] = dataset.targets[key]
    if dataset.forces is not None:
        table["max_force"] = max_force_norms(dataset)
    return table


def cell_parameters(atoms: Atoms) -> dict[str, float]:
    """Lattice lengths (Å), angles (degrees) and volume (Å^3) of a cell."""
    a, b, c, alpha, beta, gamma = (float(v) for v in atoms.cell.cellpar())
    volume = float(abs(atoms.cell.volume))
    return {"a": a, "b": b, "c": c, "alpha": alpha, "beta": beta, "gamma": gamma, "volume": volume}


def spacegroup_label(atoms: Atoms, symprec: float = SPACEGROUP_SYMPREC, angle_tolerance: float = 5.0) -> str:
    """``"Fd-3m (227)"``, or why there is no space group (not periodic, spglib failed); never raises."""
    if not all(atoms.pbc) or atoms.cell.rank < 3:
        return "not periodic"
    try:
        from pymatgen.io.ase import AseAtomsAdaptor
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

        structure = AseAtomsAdaptor.get_structure(atoms)
        analyzer = SpacegroupAnalyzer(structure, symprec=symprec, angle_tolerance=angle_tolerance)
        return f"{analyzer.get_space_group_symbol()} ({analyzer.get_space_group_number()})"
    except Exception as exc:  # noqa: BLE001 - spglib/pymatgen fail in many ways on odd cells; the page shows why
        return f"not determined ({type(exc).__name__}: {exc})"


def structure_details(dataset: Dataset, index: int, symprec: float = SPACEGROUP_SYMPREC) -> dict[str, str]:
    """What the page shows next to one structure's 3-D view, as labelled, formatted values (units in the labels)."""
    index = _checked_index(dataset, index)
    atoms = dataset.atoms[index]
    cell = cell_parameters(atoms)
    details = {
        "id": dataset.ids[index],
        "formula": atoms.get_chemical_formula(mode="metal"),
        "kind": dataset.kinds[index] if dataset.kinds is not None else UNKNOWN_KIND,
        "atoms": str(len(atoms)),
        "a, b, c (Å)": f"{cell['a']:.4f}, {cell['b']:.4f}, {cell['c']:.4f}",
        "α, β, γ (°)": f"{cell['alpha']:.2f}, {cell['beta']:.2f}, {cell['gamma']:.2f}",
        "volume (Å³/atom)": f"{cell['volume'] / len(atoms):.3f}",
        f"space group (symprec {symprec} Å)": spacegroup_label(atoms, symprec),
    }
    for key in [DEFAULT_TARGET, *sorted(k for k in dataset.targets if k != DEFAULT_TARGET)]:
        details[f"{key} (eV/atom)"] = f"{dataset.targets[key][index]:.4f}"
    forces = dataset.forces[index] if dataset.forces is not None else None
    if forces is not None:
        details["max |F| (eV/Å)"] = f"{np.linalg.norm(forces, axis=1).max():.3f}"
    return details


def structure_extxyz(dataset: Dataset, index: int) -> bytes:
    """One structure with its labels as an extended XYZ file (``alcore``'s own writer, so it loads back the same)."""
    one = dataset.subset([_checked_index(dataset, index)])
    with tempfile.TemporaryDirectory(prefix="alcore-export-") as folder:
        return write_extxyz(one, Path(folder) / "structure.extxyz").read_bytes()


def _checked_index(dataset: Dataset, index: int) -> int:
    if not 0 <= int(index) < len(dataset):
        raise IndexError(f"structure index {index} is outside 0..{len(dataset) - 1} of dataset {dataset.name!r}")
    return int(index)
