"""Importers on small generated files of every format: values, round trips, detection, archives, malformed input."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.units import GPa

from alcore.datasets import (
    IMPORTERS,
    SOURCES,
    Dataset,
    DatasetError,
    archive,
    detect_format,
    list_datasets,
    load_dataset,
    load_file,
    sources,
    write_extxyz,
)
from alcore.datasets.sources import BUNDLED_PRIORITY, Source
from alcore.registry import Registry

KBAR = 0.1 * GPa


def si_cells(n: int, seed: int = 0) -> list[Atoms]:
    """Small rattled Si cells of different sizes (2, 4, 6... atoms)."""
    rng = np.random.default_rng(seed)
    cells = []
    for i in range(n):
        atoms = bulk("Si", "diamond", a=5.43) * (1, 1, i + 1)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        cells.append(atoms)
    return cells


def labelled(cells: list[Atoms], seed: int = 1) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Per cell: (total energy, forces, ASE stress) drawn from a seeded generator."""
    rng = np.random.default_rng(seed)
    return [(-5.4 * len(a) + rng.normal(), rng.normal(size=(len(a), 3)), rng.normal(scale=1e-3, size=6)) for a in cells]


def rich_dataset() -> Dataset:
    cells = si_cells(3)
    labels = labelled(cells)
    cells[0].set_initial_magnetic_moments(np.linspace(0, 1, len(cells[0])))
    return Dataset(
        name="rich",
        atoms=tuple(cells),
        targets={
            "energy_per_atom": np.array([e / len(a) for a, (e, _, _) in zip(cells, labels)]),
            "formation_energy_per_atom": np.array([0.1, 0.2, 1 / 3]),
            "band_gap": np.array([1.0, 0.5, 0.0]),
        },
        ids=("0005", "a b", "T"),
        forces=(labels[0][1], None, labels[2][1]),
        stress=(labels[0][2], labels[1][2], None),
        kinds=("bulk", "1", "unknown"),
        provenance={"source": "test", "reference_energies": {"Si": -0.5}},
    )


def assert_same(a: Dataset, b: Dataset) -> None:
    assert a.ids == b.ids
    assert a.kinds == b.kinds
    assert sorted(a.targets) == sorted(b.targets)
    for key in a.targets:
        np.testing.assert_array_equal(a.targets[key], b.targets[key])
    for x, y in zip(a.atoms, b.atoms):
        assert x.get_chemical_symbols() == y.get_chemical_symbols()
        np.testing.assert_allclose(x.positions, y.positions, atol=1e-8)
        np.testing.assert_allclose(x.cell.array, y.cell.array, atol=1e-12)
        np.testing.assert_allclose(x.get_initial_magnetic_moments(), y.get_initial_magnetic_moments(), atol=1e-8)
    for field in ("forces", "stress"):
        fa, fb = getattr(a, field), getattr(b, field)
        assert (fa is None) == (fb is None)
        for u, v in zip(fa or (), fb or ()):
            assert (u is None) == (v is None)
            if u is not None:
                np.testing.assert_allclose(u, v, atol=1e-8)


# --------------------------------------------------------------------------------------------------- extxyz


@pytest.mark.parametrize("filename", ["pool.extxyz", "pool.xyz.gz", "pool.extxyz.gz"])
def test_write_extxyz_round_trips_every_field(tmp_path, filename):
    original = rich_dataset()
    path = write_extxyz(original, tmp_path / filename)
    loaded = load_file(path)
    assert_same(original, loaded)
    assert loaded.name == "pool"
    assert loaded.provenance["origin"]["reference_energies"] == {"Si": -0.5}
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temporary file behind


def test_extxyz_reads_info_and_calculator_labels(tmp_path):
    cells = si_cells(3)
    labels = labelled(cells)
    cells[0].info.update(energy_per_atom=-5.0, id="first", kind="md", formation_energy_per_atom=0.25)
    cells[1].calc = SinglePointCalculator(cells[1], energy=labels[1][0], forces=labels[1][1], stress=labels[1][2])
    cells[1].info.update(formation_energy_per_atom=0.5, only_here_per_atom=1.0)
    cells[2].info.update(energy=-12.0, formation_energy_per_atom=0.75, note_per_atom="text is not a target")
    ase.io.write(tmp_path / "mixed.xyz", cells, format="extxyz")
    ds = load_file(tmp_path / "mixed.xyz")
    np.testing.assert_allclose(ds.energy_per_atom, [-5.0, labels[1][0] / len(cells[1]), -12.0 / len(cells[2])])
    np.testing.assert_allclose(ds.target("formation_energy_per_atom"), [0.25, 0.5, 0.75])
    assert ds.ids == ("first", "mixed-00001", "mixed-00002")
    assert ds.kinds == ("md", "unknown", "unknown")
    assert ds.forces[0] is None and ds.forces[1].shape == (len(cells[1]), 3)
    np.testing.assert_allclose(ds.stress[1], labels[1][2])
    assert "note_per_atom" not in ds.targets
    assert "only_here_per_atom" not in ds.targets
    assert ds.provenance["dropped_targets"] == {"only_here_per_atom": "missing on some structures"}


def test_extxyz_without_energy_names_file_and_frame(tmp_path):
    cells = si_cells(2)
    cells[0].info["energy"] = -10.0
    ase.io.write(tmp_path / "noenergy.xyz", cells, format="extxyz")
    with pytest.raises(DatasetError, match=r"noenergy\.xyz: frame 1: no energy"):
        load_file(tmp_path / "noenergy.xyz")


def test_extxyz_nan_energy_names_structure(tmp_path):
    cells = si_cells(2)
    cells[0].info.update(energy=-10.0, id="good")
    cells[1].info.update(energy=float("nan"), id="broken")
    ase.io.write(tmp_path / "nan.xyz", cells, format="extxyz")
    with pytest.raises(DatasetError, match=r"nan\.xyz: frame 1: .*not finite.*'broken'"):
        load_file(tmp_path / "nan.xyz")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8"),
        (b'3\nLattice="1 0 0 0 1 0 0 0 1"\nSi 0 0 0\n', "not a readable extended XYZ"),
    ],
    ids=["empty", "garbage", "truncated"],
)
def test_extxyz_malformed(tmp_path, content, problem):
    path = tmp_path / "bad.xyz"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=problem) as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_extxyz_truncated_gzip_is_an_error(tmp_path):
    path = write_extxyz(rich_dataset(), tmp_path / "pool.xyz.gz")
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DatasetError, match="pool.xyz.gz"):
        load_file(path)


# --------------------------------------------------------------------------------------------------- cif / poscar


def write_structure_folder(folder: Path, fmt: str, energies: str | None) -> list[Atoms]:
    folder.mkdir(parents=True, exist_ok=True)
    cells = si_cells(3)
    for i, atoms in enumerate(cells):
        name = f"s{i}.cif" if fmt == "cif" else f"POSCAR_s{i}"
        ase.io.write(folder / name, atoms, format="cif" if fmt == "cif" else "vasp")
    if energies is not None:
        (folder / "energies.csv").write_text(energies)
    return cells


def test_cif_folder_with_sidecar_energies(tmp_path):
    table = "id,energy_per_atom,formation_energy_per_atom\ns0,-5.1,0.1\ns1,-5.2,0.2\ns2,-5.3,0.3\n"
    cells = write_structure_folder(tmp_path / "cifs", "cif", table)
    ds = load_file(tmp_path / "cifs")
    assert ds.ids == ("s0", "s1", "s2")
    np.testing.assert_allclose(ds.energy_per_atom, [-5.1, -5.2, -5.3])
    np.testing.assert_allclose(ds.target("formation_energy_per_atom"), [0.1, 0.2, 0.3])
    assert [len(a) for a in ds.atoms] == [len(a) for a in cells]
    assert ds.forces is None and ds.stress is None


def test_poscar_folder_with_total_energies_by_filename(tmp_path):
    table = "filename,energy\nPOSCAR_s0,-10\nPOSCAR_s1,-20\nPOSCAR_s2,-30\n"
    cells = write_structure_folder(tmp_path / "vasp", "poscar", table)
    ds = load_file(tmp_path / "vasp")
    np.testing.assert_allclose(ds.energy_per_atom, [-10 / len(cells[0]), -20 / len(cells[1]), -30 / len(cells[2])])
    np.testing.assert_allclose(ds.atoms[1].positions, cells[1].positions, atol=1e-6)


def test_single_cif_uses_sidecar_next_to_it(tmp_path):
    write_structure_folder(tmp_path, "cif", "id,energy_per_atom\ns0,-5.1\ns1,-5.2\ns2,-5.3\n")
    ds = load_file(tmp_path / "s1.cif")
    assert ds.ids == ("s1",)
    np.testing.assert_allclose(ds.energy_per_atom, [-5.2])


def test_cif_without_energies_says_what_to_add(tmp_path):
    write_structure_folder(tmp_path / "cifs", "cif", None)
    expected = r"cifs: CIF files carry no energies: add a file 'energies\.csv'.*'id'.*'filename'.*'energy_per_atom'"
    with pytest.raises(DatasetError, match=expected):
        load_file(tmp_path / "cifs")


def test_cif_missing_from_sidecar_is_named(tmp_path):
    write_structure_folder(tmp_path / "cifs", "cif", "id,energy_per_atom\ns0,-5.1\ns2,-5.3\n")
    with pytest.raises(DatasetError, match=r"energies\.csv: no energy for structure 's1'"):
        load_file(tmp_path / "cifs")


def test_garbage_cif_names_the_file(tmp_path):
    write_structure_folder(tmp_path / "cifs", "cif", "id,energy_per_atom\ns0,-5.1\ns1,-5.2\ns2,-5.3\n")
    (tmp_path / "cifs" / "s1.cif").write_text("data_x\n_cell_length_a 5\nloop_\n_atom_site_label\n")
    with pytest.raises(DatasetError, match=r"s1\.cif"):
        load_file(tmp_path / "cifs")


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_cif_archive_with_sidecar_inside(tmp_path, suffix):
    write_structure_folder(tmp_path / "cifs", "cif", "id,energy_per_atom\ns0,-5.1\ns1,-5.2\ns2,-5.3\n")
    path = pack(tmp_path / "cifs", tmp_path / f"cifs{suffix}")
    ds = load_file(path)
    assert ds.ids == ("s0", "s1", "s2")
    assert ds.name == "cifs"
    np.testing.assert_allclose(ds.energy_per_atom, [-5.1, -5.2, -5.3])


def test_csv_cif_table(tmp_path):
    cells = si_cells(2)
    rows = []
    for i, atoms in enumerate(cells):
        buffer = io.BytesIO()
        ase.io.write(buffer, atoms, format="cif")
        rows.append({"material_id": f"C-{i:03d}", "cif": buffer.getvalue().decode(), "energy_per_atom": -5.0 - i})
    import pandas as pd

    pd.DataFrame(rows).to_csv(tmp_path / "val.csv")
    assert detect_format(tmp_path / "val.csv") == "csv-cif"
    ds = load_file(tmp_path / "val.csv")
    assert ds.ids == ("C-000", "C-001")
    np.testing.assert_allclose(ds.energy_per_atom, [-5.0, -6.0])
    assert [len(a) for a in ds.atoms] == [len(a) for a in cells]
    rows[1]["energy_per_atom"] = float("nan")
    pd.DataFrame(rows).to_csv(tmp_path / "nan.csv")
    with pytest.raises(DatasetError, match=r"nan\.csv: line \d+ \(row 2, C-001\): .*not finite.*'C-001'"):
        load_file(tmp_path / "nan.csv")
    pd.DataFrame(rows).drop(columns="cif").to_csv(tmp_path / "nocif.csv")
    with pytest.raises(DatasetError, match="no 'cif' column"):
        load_file(tmp_path / "nocif.csv", format="csv-cif")


# --------------------------------------------------------------------------------------------------- pymatgen JSON


def test_pymatgen_json_items_and_entries(tmp_path):
    from pymatgen.entries.computed_entries import ComputedStructureEntry
    from pymatgen.io.ase import AseAtomsAdaptor

    cells = si_cells(2)
    structures = [AseAtomsAdaptor.get_structure(a) for a in cells]
    items = [{"structure": structures[0].as_dict(), "energy_per_atom": -5.25, "formation_energy_per_atom": 0.1}]
    (tmp_path / "items.json").write_text(json.dumps(items))
    ds = load_file(tmp_path / "items.json")
    np.testing.assert_allclose(ds.energy_per_atom, [-5.25])
    np.testing.assert_allclose(ds.target("formation_energy_per_atom"), [0.1])
    np.testing.assert_allclose(ds.atoms[0].positions, cells[0].positions, atol=1e-8)

    entries = [ComputedStructureEntry(s, -10.0 * (i + 1), correction=-1.0, entry_id=f"mp-{i}").as_dict()
               for i, s in enumerate(structures)]  # fmt: skip
    (tmp_path / "entries.json").write_text(json.dumps(entries))
    ds = load_file(tmp_path / "entries.json")
    assert ds.ids == ("mp-0", "mp-1")
    np.testing.assert_allclose(ds.energy_per_atom, [-10.0 / len(cells[0]), -20.0 / len(cells[1])])  # uncorrected


def test_pymatgen_json_never_imports_modules_named_in_the_file(tmp_path, monkeypatch):
    """Site properties are dropped before Structure.from_dict: monty would import any '@module' they name."""
    marker = tmp_path / "imported"
    (tmp_path / "sneaky_module.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass X:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(si_cells(1)[0]).as_dict()
    for site in structure["sites"]:
        site["properties"] = {"payload": {"@module": "sneaky_module", "@class": "X"}}
    (tmp_path / "hostile.json").write_text(json.dumps([{"structure": structure, "energy": -10.0}]))
    ds = load_file(tmp_path / "hostile.json", format="pymatgen-json")
    assert len(ds) == 1
    assert not marker.exists()


def test_pymatgen_json_errors(tmp_path):
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(si_cells(1)[0]).as_dict()
    items = [{"structure": structure, "energy": -1}, {"structure": structure}]
    (tmp_path / "noenergy.json").write_text(json.dumps(items))
    with pytest.raises(DatasetError, match=r"noenergy\.json: item 1: no 'energy_per_atom'"):
        load_file(tmp_path / "noenergy.json", format="pymatgen-json")
    structure["sites"][0]["species"] = [{"element": "Si", "occu": 0.5}, {"element": "Ge", "occu": 0.5}]
    (tmp_path / "disordered.json").write_text(json.dumps([{"structure": structure, "energy": -1}]))
    with pytest.raises(DatasetError, match=r"item 0: site 0 is disordered"):
        load_file(tmp_path / "disordered.json", format="pymatgen-json")


# --------------------------------------------------------------------------------------------------- mlearn


def mlearn_items(cells, labels, group="AIMD-NVT", virial=None):
    from pymatgen.io.ase import AseAtomsAdaptor

    return [
        {
            "structure": AseAtomsAdaptor.get_structure(a).as_dict(),
            "outputs": {"energy": e, "forces": f.tolist(), "virial_stress": list(virial or range(1, 7))},
            "group": group,
            "num_atoms": len(a),
        }
        for a, (e, f, _) in zip(cells, labels)
    ]


def test_mlearn_folder_loads_training_then_test(tmp_path):
    cells = si_cells(3)
    labels = labelled(cells)
    (tmp_path / "training.json").write_text(json.dumps(mlearn_items(cells[:2], labels[:2], "Elastic")))
    (tmp_path / "test.json").write_text(json.dumps(mlearn_items(cells[2:], labels[2:], "Surface")))
    assert detect_format(tmp_path) == "mlearn"
    ds = load_file(tmp_path)
    assert ds.ids == ("training-0000", "training-0001", "test-0000")
    assert ds.kinds == ("Elastic", "Elastic", "Surface")
    assert ds.provenance["splits"] == {"training.json": 2, "test.json": 1}
    np.testing.assert_allclose(ds.energy_per_atom, [e / len(a) for a, (e, _, _) in zip(cells, labels)])
    np.testing.assert_allclose(ds.forces[2], labels[2][1])
    # VASP order xx yy zz xy yz zx, + compressive  ->  ASE order xx yy zz yz xz xy, + tensile
    np.testing.assert_allclose(ds.stress[0], -np.array([1, 2, 3, 5, 6, 4]) * KBAR)


def test_mlearn_nan_energy_and_missing_energy(tmp_path):
    cells = si_cells(2)
    labels = labelled(cells)
    items = mlearn_items(cells, labels)
    items[1]["outputs"]["energy"] = float("nan")
    (tmp_path / "nan.json").write_text(json.dumps(items))  # json writes the NaN literal, which json.loads accepts
    with pytest.raises(DatasetError, match=r"nan\.json: item 1: energy is not finite.*'nan-0001'"):
        load_file(tmp_path / "nan.json")
    del items[1]["outputs"]["energy"]
    (tmp_path / "missing.json").write_text(json.dumps(items))
    with pytest.raises(DatasetError, match=r"missing\.json: item 1: outputs has no 'energy'"):
        load_file(tmp_path / "missing.json")


def test_truncated_and_empty_json(tmp_path):
    cells = si_cells(2)
    text = json.dumps(mlearn_items(cells, labelled(cells)), indent=1)
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(DatasetError, match=r"cut\.json: line \d+: invalid JSON"):
        load_file(tmp_path / "cut.json", format="mlearn")
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(DatasetError, match=r"empty\.json: empty file"):
        load_file(tmp_path / "empty.json", format="mlearn")


# --------------------------------------------------------------------------------------------------- aenet XSF


def xsf_text(atoms: Atoms, energy: float, forces: np.ndarray) -> str:
    lines = [f"# total energy = {energy:.8f} eV", "", "CRYSTAL", "PRIMVEC"]
    lines += ["  " + " ".join(f"{x:.8f}" for x in row) for row in atoms.cell.array]
    lines += ["PRIMCOORD", f"{len(atoms)} 1"]
    for symbol, pos, force in zip(atoms.get_chemical_symbols(), atoms.positions, forces):
        lines.append(f"{symbol} " + " ".join(f"{x:.8f}" for x in (*pos, *force)))
    return "\n".join(lines) + "\n"


def write_xsf_folder(folder: Path, cells=None) -> tuple[list[Atoms], list]:
    folder.mkdir(parents=True, exist_ok=True)
    cells = cells or si_cells(3)
    labels = labelled(cells)
    for i, (atoms, (e, f, _)) in enumerate(zip(cells, labels)):
        (folder / f"structure{i + 1}.xsf").write_text(xsf_text(atoms, e, f))
    return cells, labels


def test_xsf_folder_and_archive(tmp_path):
    cells, labels = write_xsf_folder(tmp_path / "dir_xsf")
    archive_path = pack(tmp_path / "dir_xsf", tmp_path / "dir_xsf.tar.gz")
    for path in (tmp_path / "dir_xsf", archive_path):
        assert detect_format(path) == "xsf"
        ds = load_file(path)
        assert ds.ids == ("structure1", "structure2", "structure3")
        np.testing.assert_allclose(ds.energy_per_atom, [round(e, 8) / len(a) for a, (e, _, _) in zip(cells, labels)])
        np.testing.assert_allclose(ds.forces[1], labels[1][1], atol=1e-8)  # eV/Å, not rescaled
        np.testing.assert_allclose(ds.atoms[2].cell.array, cells[2].cell.array, atol=1e-8)


def test_xsf_reference_energies_give_binding_energy(tmp_path):
    atoms = Atoms("TiO2", positions=[[0, 0, 0], [1.9, 0, 0], [0, 1.9, 0]], cell=[4, 4, 4], pbc=True)
    (tmp_path / "tio2.xsf").write_text(xsf_text(atoms, -2480.0, np.zeros((3, 3))))
    ds = IMPORTERS.get("xsf")(tmp_path / "tio2.xsf", references={"Ti": -1600.0, "O": -430.0})
    np.testing.assert_allclose(ds.target("binding_energy_per_atom"), [(-2480.0 + 1600.0 + 860.0) / 3])
    assert ds.provenance["reference_energies"] == {"Ti": -1600.0, "O": -430.0}
    assert ds.kinds == ("TiO2",)
    assert "binding_energy_per_atom" not in load_file(tmp_path / "tio2.xsf").targets


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.rstrip("\n").rsplit(" ", 1)[0] + "\n", r"line 15: expected 6 numbers"),
        (lambda t: "\n".join(t.splitlines()[:-2]) + "\n", r"PRIMCOORD declares 6 atoms but the file holds 4"),
        (lambda t: t.split("\n", 1)[1], r"no '# total energy = X eV' comment line"),
        (lambda t: t.replace("# total energy = ", "# total energy = nan #"), r"line 1: total energy is not finite"),
        (lambda t: "", r"empty file"),
        (lambda t: t.replace("Si ", "Xx ", 1), r"line 10: unknown element 'Xx'"),
    ],
    ids=["short-line", "truncated", "no-energy", "nan-energy", "empty", "bad-element"],
)
def test_xsf_malformed_names_archive_member_and_line(tmp_path, edit, problem):
    cells = si_cells(3)
    write_xsf_folder(tmp_path / "dir_xsf", cells)
    target = tmp_path / "dir_xsf" / "structure3.xsf"
    target.write_text(edit(target.read_text()))
    archive_path = pack(tmp_path / "dir_xsf", tmp_path / "dir_xsf.tar.gz")
    with pytest.raises(DatasetError, match=problem) as info:
        load_file(archive_path)
    assert "dir_xsf.tar.gz:dir_xsf/structure3.xsf: " in str(info.value)


def test_xsf_garbage_bytes(tmp_path):
    (tmp_path / "junk.xsf").write_bytes(bytes(range(256)))
    with pytest.raises(DatasetError, match=r"junk\.xsf: not UTF-8 text"):
        load_file(tmp_path / "junk.xsf")


# --------------------------------------------------------------------------------------------------- FitSNAP


def fitsnap_text(atoms: Atoms, energy: float, forces: np.ndarray, stress_kbar, spins=None, style="kB") -> str:
    entry = {
        "NumAtoms": len(atoms),
        "Lattice": atoms.cell.array.tolist(),
        "Energy": energy,
        "Stress": stress_kbar,
        "AtomTypes": atoms.get_chemical_symbols(),
        "Positions": atoms.positions.tolist(),
        "Forces": forces.tolist(),
    }
    if spins is not None:
        entry["Spins"] = spins
    body = {"Dataset": {"Label": "test", "StressStyle": style, "EnergyStyle": "electronvolt", "Data": [entry]}}
    return "# A test JSON file for QM data\n" + json.dumps(body)


def write_fitsnap_groups(root: Path) -> tuple[list[Atoms], list]:
    cells = [bulk("Fe", "bcc", a=2.85, cubic=True) * (1, 1, i + 1) for i in range(3)]
    labels = labelled(cells)
    for i, (atoms, (e, f, _)) in enumerate(zip(cells, labels)):
        group = root / ("EOS" if i < 2 else "bcc")
        group.mkdir(parents=True, exist_ok=True)
        spins = [[2.2, 1.0, 0.0, 0.0]] * len(atoms)
        stress = [[10.0, 1.0, 2.0], [1.0, 20.0, 3.0], [2.0, 3.0, 30.0]]
        (group / f"config_{i}.json").write_text(fitsnap_text(atoms, e, f, stress, spins))
    return cells, labels


def test_fitsnap_groups_in_folder_and_archive(tmp_path):
    cells, labels = write_fitsnap_groups(tmp_path / "Fe_JSON")
    for path in (tmp_path / "Fe_JSON", pack(tmp_path / "Fe_JSON", tmp_path / "Fe_JSON.tar.gz")):
        assert detect_format(path) == "fitsnap"
        ds = load_file(path)
        assert ds.ids == ("EOS/config_0", "EOS/config_1", "bcc/config_2")
        assert ds.kinds == ("EOS", "EOS", "bcc")
        np.testing.assert_allclose(ds.energy_per_atom, [e / len(a) for a, (e, _, _) in zip(cells, labels)])
        np.testing.assert_allclose(ds.forces[2], labels[2][1])
        # pressure-like kB tensor -> ASE Voigt [xx yy zz yz xz xy] in eV/Å^3 with the sign flipped
        np.testing.assert_allclose(ds.stress[0], -np.array([10, 20, 30, 3, 2, 1]) * KBAR)
        np.testing.assert_allclose(ds.atoms[0].get_initial_magnetic_moments(), [[2.2, 0, 0]] * len(cells[0]))


def test_fitsnap_malformed(tmp_path):
    write_fitsnap_groups(tmp_path / "Fe_JSON")
    path = tmp_path / "Fe_JSON" / "bcc" / "config_2.json"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DatasetError, match=r"bcc/config_2\.json: line 2: invalid JSON"):
        load_file(tmp_path / "Fe_JSON", format="fitsnap")
    path.write_text("# only a comment\n")
    with pytest.raises(DatasetError, match=r"config_2\.json: empty file"):
        load_file(tmp_path / "Fe_JSON", format="fitsnap")
    atoms = bulk("Fe", cubic=True)
    path.write_text(fitsnap_text(atoms, -16.0, np.zeros((2, 3)), [[0] * 3] * 3, style="GPa"))
    with pytest.raises(DatasetError, match=r"StressStyle is 'GPa'"):
        load_file(tmp_path / "Fe_JSON", format="fitsnap")
    path.write_text(fitsnap_text(atoms, float("inf"), np.zeros((2, 3)), [[0] * 3] * 3))
    with pytest.raises(DatasetError, match=r"config_2\.json: Data\[0\]: energy is not finite.*'bcc/config_2'"):
        load_file(tmp_path / "Fe_JSON", format="fitsnap")


# --------------------------------------------------------------------------------------------------- archives


def pack(folder: Path, target: Path) -> Path:
    """Archive ``folder`` (as its own top-level directory) to ``target`` (.zip or .tar.gz)."""
    if target.name.endswith(".zip"):
        with zipfile.ZipFile(target, "w") as zf:
            for file in sorted(folder.rglob("*")):
                zf.write(file, file.relative_to(folder.parent).as_posix())
    else:
        with tarfile.open(target, "w:gz") as tf:
            tf.add(folder, arcname=folder.name)
    return target


def add_tar_member(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("bad_name", ["../evil.xsf", "/abs/evil.xsf", "dir/../../evil.xsf"])
def test_archive_rejects_unsafe_member_names(tmp_path, bad_name):
    atoms = si_cells(1)[0]
    good = xsf_text(atoms, -10.0, np.zeros((len(atoms), 3))).encode()
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tf:
        add_tar_member(tf, "ok.xsf", good)
        add_tar_member(tf, bad_name, good)
    with pytest.raises(DatasetError, match="unsafe name"):
        load_file(tmp_path / "bad.tar.gz", format="xsf")
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr("ok.xsf", good)
        zf.writestr(bad_name, good)
    with pytest.raises(DatasetError, match="unsafe name"):
        load_file(tmp_path / "bad.zip", format="xsf")


def test_archive_skips_links_and_directories(tmp_path):
    atoms = si_cells(1)[0]
    good = xsf_text(atoms, -10.0, np.zeros((len(atoms), 3))).encode()
    with tarfile.open(tmp_path / "links.tar.gz", "w:gz") as tf:
        directory = tarfile.TarInfo("d")
        directory.type = tarfile.DIRTYPE
        tf.addfile(directory)
        add_tar_member(tf, "d/real.xsf", good)
        link = tarfile.TarInfo("d/link.xsf")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    ds = load_file(tmp_path / "links.tar.gz")
    assert ds.ids == ("real",)


def test_archive_caps_size_and_member_count(tmp_path, monkeypatch):
    write_xsf_folder(tmp_path / "dir_xsf")
    for suffix in (".tar.gz", ".zip"):
        path = pack(tmp_path / "dir_xsf", tmp_path / f"dir_xsf{suffix}")
        with monkeypatch.context() as patch:
            patch.setattr(archive, "MAX_TOTAL_BYTES", 1000)
            with pytest.raises(DatasetError, match=r"exceeds 1000 bytes"):
                load_file(path)
        with monkeypatch.context() as patch:
            patch.setattr(archive, "MAX_MEMBERS", 2)
            with pytest.raises(DatasetError, match=r"more than 2 entries"):
                load_file(path)
        assert len(load_file(path)) == 3


def test_truncated_and_garbage_archives(tmp_path):
    write_xsf_folder(tmp_path / "dir_xsf")
    path = pack(tmp_path / "dir_xsf", tmp_path / "dir_xsf.tar.gz")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match=r"dir_xsf\.tar\.gz: not a readable tar archive"):
        load_file(path, format="xsf")
    (tmp_path / "junk.zip").write_bytes(os.urandom(0) + b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match=r"junk\.zip: not a readable zip archive"):
        load_file(tmp_path / "junk.zip", format="xsf")
    with tarfile.open(tmp_path / "empty.tar.gz", "w:gz"):
        pass
    with pytest.raises(DatasetError, match=r"empty\.tar\.gz: no \*\.xsf files found"):
        load_file(tmp_path / "empty.tar.gz", format="xsf")


# --------------------------------------------------------------------------------------------------- detection / API


def test_detection_by_name_and_content(tmp_path):
    write_extxyz(rich_dataset(), tmp_path / "a.extxyz.gz")
    write_xsf_folder(tmp_path / "x")
    write_structure_folder(tmp_path / "c", "cif", "id,energy\ns0,-1\ns1,-2\ns2,-3\n")
    write_structure_folder(tmp_path / "p", "poscar", "id,energy\ns0,-1\ns1,-2\ns2,-3\n")
    write_fitsnap_groups(tmp_path / "f")
    cells = si_cells(1)
    (tmp_path / "m.json").write_text(json.dumps(mlearn_items(cells, labelled(cells))))
    (tmp_path / "nocomment.json").write_text((tmp_path / "f" / "bcc" / "config_2.json").read_text().split("\n", 1)[1])
    expected = {
        "a.extxyz.gz": "extxyz", "x": "xsf", "x/structure1.xsf": "xsf", "c": "cif", "c/s0.cif": "cif", "p": "poscar",
        "p/POSCAR_s1": "poscar", "f": "fitsnap", "f/EOS/config_0.json": "fitsnap", "nocomment.json": "fitsnap",
        "m.json": "mlearn",
    }  # fmt: skip
    assert {name: detect_format(tmp_path / name) for name in expected} == expected


def test_detection_failure_lists_known_formats(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    expected = r"data\.bin: cannot tell the dataset format; pass format= one of: .*extxyz.*fitsnap"
    with pytest.raises(DatasetError, match=expected):
        load_file(tmp_path / "data.bin")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(DatasetError, match="cannot tell the dataset format"):
        load_file(tmp_path / "other.json")
    with pytest.raises(ValueError, match=r"unknown dataset format 'nope'; known formats: extxyz"):
        load_file(tmp_path / "other.json", format="nope")
    with pytest.raises(DatasetError, match="no such file"):
        load_file(tmp_path / "missing.xyz")


def test_load_file_renames(tmp_path):
    path = write_extxyz(rich_dataset(), tmp_path / "pool.extxyz")
    assert load_file(path, name="renamed").name == "renamed"


def test_importers_registry_has_every_format():
    assert set(IMPORTERS.names()) == {"extxyz", "cif", "poscar", "pymatgen-json", "mlearn", "xsf", "fitsnap", "csv-cif",
                                     "fetched-pool", "ase-db"}


def test_load_dataset_by_path_is_cached_until_the_file_changes(tmp_path):
    path = write_extxyz(rich_dataset(), tmp_path / "pool.extxyz")
    first = load_dataset(str(path))
    assert load_dataset(str(path)) is first
    smaller = rich_dataset().subset([0, 1])
    write_extxyz(smaller, path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert len(load_dataset(str(path))) == 2


def test_named_sources_resolve_under_the_env_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCORE_SHARED_DATASETS", str(tmp_path / "nowhere"))
    infos = {info.name: info for info in list_datasets()}
    assert {"si-mlearn", "tio2-aenet", "c-carbon24", "fe-fitsnap"} <= set(infos)
    assert not infos["si-mlearn"].available
    assert infos["fe-fitsnap"].location == str(tmp_path / "nowhere" / "fe_fitsnap" / "Fe_Linear_NPJ2021_JSON.tar.gz")
    expected = r"'tio2-aenet' is not available on this machine; set \$ALCORE_SHARED_DATASETS"
    with pytest.raises(DatasetError, match=expected):
        load_dataset("tio2-aenet")
    with pytest.raises(DatasetError, match=r"neither a registered dataset name \(known: si-mlearn"):
        load_dataset("no-such-set")
    # a named source is found once its files exist there
    write_xsf_folder(tmp_path / "xsf")
    (tmp_path / "nowhere" / "tio2_aenet").mkdir(parents=True)
    pack(tmp_path / "xsf", tmp_path / "nowhere" / "tio2_aenet" / "dir_xsf.tar.gz")
    with pytest.raises(DatasetError, match="no isolated-atom reference energy for"):
        load_dataset("tio2-aenet")  # Si cells, but the TiO2 source only knows Ti and O references


def test_bundled_sources_list_first(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "SOURCES", Registry("dataset source"))
    sources.register_source(Source("fe-shared", "shared Fe", "fitsnap", lambda: tmp_path / "missing"))
    path = write_extxyz(rich_dataset(), tmp_path / "Si-test.extxyz.gz")
    sources.register_source(Source("Si-test", "bundled pool", "extxyz", lambda: path, priority=BUNDLED_PRIORITY))
    assert [(i.name, i.available) for i in sources.list_datasets()] == [("Si-test", True), ("fe-shared", False)]
    ds = sources.load_dataset("Si-test")
    assert ds.name == "Si-test" and ds.provenance["source"] == "Si-test"
    assert sources.load_dataset("Si-test") is ds
    with pytest.raises(ValueError, match="do not pass format"):
        sources.load_dataset("Si-test", format="xsf")
    assert "Si-test" not in SOURCES  # the global registry is untouched


def test_a_failed_load_is_not_cached(tmp_path):
    cells, labels = write_xsf_folder(tmp_path / "dir_xsf")
    good = (tmp_path / "dir_xsf" / "structure2.xsf").read_text()
    (tmp_path / "dir_xsf" / "structure2.xsf").write_text("# total energy = -1 eV\nCRYSTAL\n")
    with pytest.raises(DatasetError, match=r"structure2\.xsf: no PRIMCOORD or ATOMS block"):
        load_dataset(str(tmp_path / "dir_xsf"))
    (tmp_path / "dir_xsf" / "structure2.xsf").write_text(good)
    assert len(load_dataset(str(tmp_path / "dir_xsf"))) == 3
