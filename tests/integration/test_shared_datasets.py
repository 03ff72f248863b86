"""The four real DFT sets load by name with the right counts, units and conventions (checked against the raw files)."""

from __future__ import annotations

import json
import re
import tarfile

import numpy as np
import pandas as pd
import pytest
from ase.units import GPa

from alcore.datasets import load_dataset
from alcore.datasets.sources import TIO2_REFERENCE_ENERGIES

KBAR = 0.1 * GPa  # eV/Å^3


@pytest.fixture(scope="module")
def shared(shared_datasets):
    """Point the named sources at the fixture's folder for this module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALCORE_SHARED_DATASETS", str(shared_datasets))
        yield shared_datasets


@pytest.fixture(scope="module")
def si(shared):
    return load_dataset("si-mlearn")


@pytest.fixture(scope="module")
def tio2(shared):
    return load_dataset("tio2-aenet")


@pytest.fixture(scope="module")
def carbon(shared):
    return load_dataset("c-carbon24")


@pytest.fixture(scope="module")
def fe(shared):
    return load_dataset("fe-fitsnap")


def test_si_mlearn_counts_energies_forces(si, shared):
    assert len(si) == 239
    assert si.provenance["splits"] == {"training.json": 214, "test.json": 25}
    counts = dict(zip(*np.unique(si.kinds, return_counts=True)))
    assert counts == {"AIMD-NVT": 100, "Vacancy": 64, "Elastic": 61, "Surface": 14}
    assert 12 <= si.n_atoms.min() and si.n_atoms.max() == 96
    assert -5.5 < si.energy_per_atom.min() and si.energy_per_atom.max() < -4.5  # PBE Si, eV/atom
    raw = json.loads((shared / "si_mlearn" / "training.json").read_text())
    for i in (0, 100, 213):
        assert si.ids[i] == f"training-{i:04d}"
        assert si.energy_per_atom[i] == pytest.approx(raw[i]["outputs"]["energy"] / raw[i]["num_atoms"], rel=1e-12)
        np.testing.assert_allclose(si.forces[i], raw[i]["outputs"]["forces"])
    assert all(f is not None and f.shape == (len(a), 3) for f, a in zip(si.forces, si.atoms))


def test_si_stress_conversion_by_hand(si, shared):
    """An xy shear (b tilted along +x): VASP slot 3 (xy) = -206.3 kB  ->  ASE xy (slot 5) = +206.3 kB in eV/Å^3."""
    raw = json.loads((shared / "si_mlearn" / "training.json").read_text())
    raw += json.loads((shared / "si_mlearn" / "test.json").read_text())
    i = next(k for k, item in enumerate(raw) if item["description"] == "Si 2x2x2 cell, mode 3, strain 0.1")
    xx, yy, zz, xy, yz, zx = raw[i]["outputs"]["virial_stress"]
    assert (xy, yz, zx) == (pytest.approx(-206.3, abs=0.01), 0, 0)
    np.testing.assert_allclose(si.stress[i], [-xx * KBAR, -yy * KBAR, -zz * KBAR, 0.0, 0.0, 206.3 * KBAR], atol=2e-6)
    assert si.stress[i][5] == pytest.approx(0.1288, abs=1e-3)  # 206.3 kbar = 20.63 GPa = 0.1288 eV/Å^3
    # a cell compressed by 10 % along x pushes back: compressive, so negative in the ASE convention
    j = next(k for k, item in enumerate(raw) if item["description"] == "Si 2x2x2 cell, mode 0, strain -0.1")
    assert si.stress[j][0] == pytest.approx(-169.41 * KBAR, rel=1e-3)


def test_tio2_aenet_counts_energies_and_binding(tio2, shared):
    assert len(tio2) == 1000
    assert 6 <= tio2.n_atoms.min() and tio2.n_atoms.max() == 95
    assert set(tio2.kinds) == {"TiO2", "Ti8O15", "Ti4O7", "Ti16O31", "Ti32O63"}
    assert tio2.provenance["reference_energies"] == TIO2_REFERENCE_ENERGIES
    with tarfile.open(shared / "tio2_aenet" / "dir_xsf.tar.gz") as tf:
        text = tf.extractfile("dir_xsf/structure5063.xsf").read().decode()
    energy = float(re.search(r"total energy = (\S+) eV", text).group(1))
    lines = text.splitlines()
    start = lines.index("PRIMCOORD") + 2
    n = int(lines[start - 1].split()[0])
    rows = [line.split() for line in lines[start : start + n]]
    i = tio2.ids.index("structure5063")
    assert tio2.energy_per_atom[i] == pytest.approx(energy / n, rel=1e-12)
    np.testing.assert_allclose(tio2.forces[i], [[float(x) for x in r[4:7]] for r in rows])  # eV/Å, not rescaled
    symbols = [r[0] for r in rows]
    e_ref = sum(TIO2_REFERENCE_ENERGIES[s] for s in symbols)
    assert tio2.target("binding_energy_per_atom")[i] == pytest.approx((energy - e_ref) / n, rel=1e-12)
    binding = tio2.target("binding_energy_per_atom")
    assert -9.0 < binding.min() and binding.max() < -6.5  # a few eV/atom of binding, as for an oxide
    assert tio2.stress is None and all(f is not None for f in tio2.forces)


def test_carbon24_counts_and_raw_values(carbon, shared):
    assert len(carbon) == 2032
    assert carbon.n_atoms.min() == 6 and carbon.n_atoms.max() <= 24
    raw = pd.read_csv(shared / "c_carbon24" / "val.csv")
    for i in (0, 1000, 2031):
        assert carbon.ids[i] == raw.material_id[i]
        assert carbon.energy_per_atom[i] == raw.energy_per_atom[i]
        assert len(carbon.atoms[i]) == int(re.search(r"_chemical_formula_sum\s+C(\d+)", raw.cif[i]).group(1))
    assert -154.6 < carbon.energy_per_atom.min() and carbon.energy_per_atom.max() < -154.0  # CASTEP absolute scale
    assert carbon.forces is None and carbon.stress is None
    shortest = min(np.min(a.get_all_distances(mic=True) + 9 * np.eye(len(a))) for a in carbon.atoms[:100])
    assert shortest > 1.2  # negative fractional coordinates were read as given, no overlapping atoms


def test_fe_fitsnap_counts_groups_and_raw_values(fe, shared):
    assert len(fe) == 2517
    counts = dict(zip(*np.unique(fe.kinds, return_counts=True)))
    assert counts == {
        "BCC-HCP-transition": 168, "CCMC-bcc-hcp-elastic_Jun2020": 1358, "EOS_001_Jun2020": 479, "EOS_100": 403,
        "MD-bcc_Te300K": 40, "liquid_mag_old": 10, "liquid_nonmag": 51, "point_def": 8,
    }  # fmt: skip
    assert fe.n_atoms.min() == 2 and fe.n_atoms.max() == 132
    i = fe.ids.index("point_def/config_1")
    with tarfile.open(shared / "fe_fitsnap" / "Fe_Linear_NPJ2021_JSON.tar.gz") as tf:
        text = tf.extractfile("Fe_Linear_NPJ2021_JSON/point_def/config_1.json").read().decode()
    assert text.startswith("#")
    entry = json.loads(text.split("\n", 1)[1])["Dataset"]["Data"][0]
    assert fe.energy_per_atom[i] == pytest.approx(entry["Energy"] / entry["NumAtoms"], rel=1e-12)
    np.testing.assert_allclose(fe.forces[i], entry["Forces"])
    s = entry["Stress"]  # 3x3, kB, pressure-like
    expected = -np.array([s[0][0], s[1][1], s[2][2], s[1][2], s[0][2], s[0][1]]) * KBAR
    np.testing.assert_allclose(fe.stress[i], expected, rtol=1e-12)
    spins = np.array(entry["Spins"])
    np.testing.assert_allclose(fe.atoms[i].get_initial_magnetic_moments(), spins[:, :1] * spins[:, 1:])
    bcc = fe.energy_per_atom[np.array(fe.kinds) == "EOS_100"]
    assert -8.3 < bcc.min() < -8.0  # PBE bcc Fe near equilibrium, eV/atom


def test_fe_stress_sign_follows_compression(fe):
    """Smaller volume -> compressive -> negative trace in the ASE convention (the sign the importer assumes)."""
    eos = [k for k, kind in enumerate(fe.kinds) if kind == "EOS_100"]
    volume = np.array([fe.atoms[k].get_volume() / len(fe.atoms[k]) for k in eos])
    pressure = np.array([-fe.stress[k][:3].mean() for k in eos])
    assert pressure[volume.argmin()] > 0 > pressure[volume.argmax()]
    assert np.corrcoef(volume, pressure)[0, 1] < -0.9


def test_named_sources_are_cached_in_process(si, tio2, carbon, fe):
    for name, dataset in (("si-mlearn", si), ("tio2-aenet", tio2), ("c-carbon24", carbon), ("fe-fitsnap", fe)):
        assert load_dataset(name) is dataset
        assert dataset.name == name
        assert len(set(dataset.ids)) == len(dataset)


def test_read_summaries_of_the_real_sets(si, tio2, carbon, fe):
    """Each set says what it read: every structure's energy, the forces of the sets that have them, nothing skipped."""
    assert tio2.provenance["read"]["fields"]["forces"]["structures"] == 1000
    assert tio2.provenance["read"]["skipped_files"] == {"count": 0, "files": []}
    assert fe.provenance["read"]["fields"]["stress"]["structures"] == len(fe)
    assert fe.provenance["read"]["skipped_files"]["count"] == 0
    assert si.provenance["read"]["fields"]["forces"]["structures"] == len(si)
    assert carbon.provenance["read"]["fields"]["energy_per_atom"]["structures"] == 2032
    assert "notes" not in carbon.provenance  # val.csv ends with a line break


def test_real_carbon24_without_final_newline_loads_cut_energy_refused(shared, tmp_path):
    from alcore.datasets import DatasetError, load_file

    data = (shared / "c_carbon24" / "val.csv").read_bytes()
    ends = [m.end() for m in re.finditer(rb'",-?[0-9.]+\n', data)][:6]
    head = data[: ends[-1] - 1]  # six rows, the last without its line break
    (tmp_path / "whole.csv").write_bytes(head)
    whole = load_file(tmp_path / "whole.csv")
    assert len(whole) == 6 and "without a line break" in whole.provenance["notes"][0]
    energy = head[head.rindex(b",") + 1 :]
    (tmp_path / "cut.csv").write_bytes(head[: -len(energy)] + energy[:3])  # "-154.202563" cut to "-15"
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'cut.csv'}: line \d+: .*truncated"):
        load_file(tmp_path / "cut.csv")


def test_real_xsf_members_beside_cif_files_are_refused(shared, tmp_path):
    import io
    import zipfile

    import ase.io

    from alcore.datasets import DatasetError, load_file

    with tarfile.open(shared / "tio2_aenet" / "dir_xsf.tar.gz") as tf:
        xsf = [(m.name, tf.extractfile(m).read()) for m in tf.getmembers()[1:31] if m.isfile()]
    path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in xsf:
            zf.writestr(name, data)
            cif = io.BytesIO()
            ase.io.write(cif, ase.io.read(io.StringIO(_xsf_as_ase(data)), format="xsf"), format="cif")
            zf.writestr(name.replace(".xsf", ".cif").replace("dir_xsf/", "cifs/"), cif.getvalue())
        zf.writestr("README.md", "two formats")
    for fmt in (None, "xsf", "cif"):
        with pytest.raises(DatasetError, match=r"mixed\.zip: holds files of more than one dataset format"):
            load_file(path, format=fmt)


def _xsf_as_ase(data: bytes) -> str:
    """aenet XSF without its force columns, which ASE's reader takes for Hartree/Å (only the cell matters here)."""
    lines = data.decode().splitlines()
    out, coords = [], False
    for line in lines:
        parts = line.split()
        if coords and len(parts) == 7:
            line = " ".join(parts[:4])
        coords = coords or line.strip() == "PRIMCOORD"
        out.append(line)
    return "\n".join(out) + "\n"
