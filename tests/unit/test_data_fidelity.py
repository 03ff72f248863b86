"""Importers never lose data silently (issue 17): extxyz label names and the read summary, ASE databases, CSVs cut
short, archives of mixed formats, file paths in messages, constant targets."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from alcore.datasets import Dataset, DatasetError, detect_format, load_file
from alcore.datasets.importers.ase_db import write_ase_db
from alcore.datasets.summary import one_line_description


def si(i: int) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.rattle(0.02, seed=i)
    return atoms


def extxyz_frame(comment: str, columns: str = "", rows: list[str] | None = None) -> str:
    """Two Si atoms in a 4 Å cube, with ``comment`` keys and extra per-atom ``columns``."""
    props = "species:S:1:pos:R:3" + columns
    rows = rows or ["", ""]
    return (f'2\nLattice="4 0 0 0 4 0 0 0 4" Properties={props} {comment} pbc="T T T"\n'
            f"Si 0 0 0 {rows[0]}\nSi 1.3 1.3 1.3 {rows[1]}\n")  # fmt: skip


# ------------------------------------------------------------------------------------------------ extxyz names


@pytest.mark.parametrize("name", ["forces", "force", "dft_force", "dft_forces", "REF_forces", "DFT_force", "Forces"])
def test_extxyz_reads_forces_under_the_common_names(tmp_path, name):
    text = extxyz_frame("energy=-10.0", f":{name}:R:3", ["0.1 0.2 0.3", "-0.1 -0.2 -0.3"])
    (tmp_path / "f.xyz").write_text(text)
    ds = load_file(tmp_path / "f.xyz")
    np.testing.assert_allclose(ds.forces[0], [[0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]])
    assert ds.provenance["read"]["fields"]["forces"] == {"structures": 1, "from": [f"arrays '{name}'"]}
    assert ds.provenance["read"]["ignored"] == {}


@pytest.mark.parametrize("name", ["virial", "dft_virial", "REF_virial"])
def test_extxyz_virial_becomes_stress_minus_virial_over_volume(tmp_path, name):
    """A positive (outward) virial xx of 6.4 eV in a 64 Å^3 cell is a compressive stress: -0.1 eV/Å^3 (ASE sign)."""
    (tmp_path / "v.xyz").write_text(extxyz_frame(f'energy=-10.0 {name}="6.4 0 0 0 0 0 0 0 -3.2"'))
    ds = load_file(tmp_path / "v.xyz")
    np.testing.assert_allclose(ds.stress[0], [-0.1, 0.0, 0.05, 0.0, 0.0, 0.0])
    assert ds.provenance["read"]["fields"]["stress"]["from"][0].startswith(f"info '{name}' (-virial/volume")


def test_extxyz_stress_and_consistent_virial_both_read_inconsistent_refused(tmp_path):
    good = extxyz_frame('energy=-1 stress="-0.1 0 0 0 0 0 0 0 0" virial="6.4 0 0 0 0 0 0 0 0"')
    (tmp_path / "ok.xyz").write_text(good)
    np.testing.assert_allclose(load_file(tmp_path / "ok.xyz").stress[0], [-0.1, 0, 0, 0, 0, 0])
    (tmp_path / "bad.xyz").write_text(good.replace('virial="6.4', 'virial="1.0'))
    with pytest.raises(DatasetError, match=r"bad\.xyz: frame 0: .*stress.* and -info 'virial'/volume disagree"):
        load_file(tmp_path / "bad.xyz")


def test_extxyz_two_force_arrays_that_differ_are_refused_equal_ones_read(tmp_path):
    same = extxyz_frame("energy=-1", ":forces:R:3:dft_force:R:3", ["1 2 3 1 2 3", "0 0 0 0 0 0"])
    (tmp_path / "same.xyz").write_text(same)
    assert load_file(tmp_path / "same.xyz").forces[0][0].tolist() == [1, 2, 3]
    differ = extxyz_frame("energy=-1", ":forces:R:3:dft_force:R:3", ["1 2 3 1 2 4", "0 0 0 0 0 0"])
    (tmp_path / "differ.xyz").write_text(differ)
    with pytest.raises(DatasetError, match=r"differ\.xyz: frame 0: two forces labels"):
        load_file(tmp_path / "differ.xyz")


def test_extxyz_summary_lists_fields_and_ignored_keys_and_shows_on_the_data_page(tmp_path):
    text = (extxyz_frame("dft_energy=-10.0 config_type=bulk note=hello formation_energy_per_atom=0.1 id=a",
                         ":dft_force:R:3:charge:R:1", ["0 0 0 0.5", "0 0 0 -0.5"])
            + extxyz_frame("dft_energy=-11.0 config_type=surface id=b formation_energy_per_atom=0.2",
                           ":dft_force:R:3:charge:R:1", ["0 0 0 0.5", "0 0 0 -0.5"]))  # fmt: skip
    (tmp_path / "gap.xyz").write_text(text)
    ds = load_file(tmp_path / "gap.xyz")
    read = ds.provenance["read"]
    assert ds.kinds == ("bulk", "surface") and ds.ids == ("a", "b")
    assert read["fields"]["energy_per_atom"]["from"] == ["info 'dft_energy' (total eV / atoms)"]
    assert read["fields"]["kinds"]["from"] == ["info 'config_type'"]
    assert read["fields"]["formation_energy_per_atom"]["from"] == ["info 'formation_energy_per_atom'"]
    assert set(read["ignored"]) == {"info 'note'", "arrays 'charges'"} and read["ignored"]["info 'note'"] == 1
    assert "info 'note' (1 structures)" in one_line_description(ds)


def test_extxyz_without_energy_names_the_energy_like_keys_it_saw(tmp_path):
    (tmp_path / "e.xyz").write_text(extxyz_frame("free_energy=-3.0"))
    with pytest.raises(DatasetError, match=r"e\.xyz: frame 0: no energy .*found info 'free_energy'"):
        load_file(tmp_path / "e.xyz")


def test_extxyz_written_by_alcore_lists_nothing_ignored(tmp_path):
    from alcore.datasets import write_extxyz

    atoms = [si(i) for i in range(2)]
    ds = Dataset("x", tuple(atoms), {"energy_per_atom": np.array([-5.4, -5.3])}, ("a", "b"),
                 forces=tuple(np.full((8, 3), 0.1) for _ in atoms), stress=(np.arange(6) * 1e-3, None))
    again = load_file(write_extxyz(ds, tmp_path / "x.extxyz"))
    assert again.provenance["read"]["ignored"] == {}
    assert again.provenance["read"]["fields"]["stress"]["structures"] == 1


# ------------------------------------------------------------------------------------------------ ASE database


def db_frames() -> list[Atoms]:
    frames = []
    for i in range(3):
        atoms = si(i)
        atoms.calc = SinglePointCalculator(atoms, energy=-43.0 - i, forces=np.full((8, 3), 0.01 * i),
                                           stress=np.array([1e-3, 2e-3, 3e-3, 0, 0, i * 1e-4]))  # fmt: skip
        atoms.info = {"name": f"si-{i}", "config_type": "bulk" if i else "surface", "band_gap_per_atom": 0.1 * i,
                      "note": "x"}  # fmt: skip
        frames.append(atoms)
    return frames


def test_ase_db_reads_energy_forces_stress_ids_kinds_and_lists_the_rest(tmp_path):
    path = write_ase_db(db_frames(), tmp_path / "si.db")
    before = path.read_bytes()
    assert detect_format(path) == "ase-db"
    ds = load_file(path)
    assert ds.ids == ("si-0", "si-1", "si-2") and ds.kinds == ("surface", "bulk", "bulk")
    np.testing.assert_allclose(ds.energy_per_atom, [-43 / 8, -44 / 8, -45 / 8])
    np.testing.assert_allclose(ds.forces[2], np.full((8, 3), 0.02))
    np.testing.assert_allclose(ds.stress[2], [1e-3, 2e-3, 3e-3, 0, 0, 2e-4])
    np.testing.assert_allclose(ds.targets["band_gap_per_atom"], [0.0, 0.1, 0.2])
    read = ds.provenance["read"]
    assert read["fields"]["energy_per_atom"]["from"] == ["calculator 'energy' (total eV / atoms)"]
    assert read["fields"]["ids"]["from"] == ["key_value_pairs 'name'"]
    assert read["ignored"] == {"key_value_pairs 'note'": 3}
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["si.db"]  # read-only


def test_ase_db_energy_from_key_value_pairs_and_row_ids(tmp_path):
    frames = []
    for i in range(2):
        atoms = si(i)
        atoms.info = {"dft_energy": -40.0 - i}
        frames.append(atoms)
    ds = load_file(write_ase_db(frames, tmp_path / "kv.db"))
    assert ds.ids == ("kv-1", "kv-2") and ds.forces is None
    np.testing.assert_allclose(ds.energy_per_atom, [-5.0, -41 / 8])


def test_ase_db_refuses_non_ase_sqlite_truncated_and_empty_files_naming_them(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(DatasetError, match=rf"{other}: not a readable ASE database: .*'systems'"):
        load_file(other)
    data = write_ase_db(db_frames(), tmp_path / "full.db").read_bytes()
    (tmp_path / "cut.db").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'cut.db'}: not a readable ASE database .*truncated"):
        load_file(tmp_path / "cut.db")
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(DatasetError, match="empty"):
        load_file(tmp_path / "empty.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(DatasetError, match="no such file"):
        load_file(tmp_path / "missing.db", format="ase-db")
    assert not (tmp_path / "missing.db").exists()  # ase.db.connect would have created it


# ------------------------------------------------------------------------------------------------ CSV cut short


def carbon_csv(n: int = 4) -> str:
    rows = []
    for i in range(n):
        buffer = io.BytesIO()
        import ase.io

        ase.io.write(buffer, bulk("C", "diamond", a=3.57 + 0.01 * i), format="cif")
        rows.append({"material_id": f"C-{i}", "cif": buffer.getvalue().decode(), "energy_per_atom": -9.1234567 - i})
    return pd.DataFrame(rows).to_csv(index=False, lineterminator="\n")


def test_csv_without_final_newline_loads_and_says_so(tmp_path):
    (tmp_path / "c.csv").write_text(carbon_csv().rstrip("\n"))
    ds = load_file(tmp_path / "c.csv")
    assert len(ds) == 4 and ds.energy_per_atom[-1] == pytest.approx(-12.1234567)
    assert "ends without a line break" in ds.provenance["notes"][0]


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda t: t.rstrip("\n")[:-5], r"line \d+: the last line ends without a line break and its last value "
                                        r"'-12.12' has 4 digits .*truncated"),
        (lambda t: t[: t.rindex('",') + 1], r"line \d+: 2 fields where the header has 3 \(the last line.*truncated"),
        (lambda t: t[: t.rindex('",') - 30], r"line (\d+): a quoted field that starts on this line is never closed"),
        (lambda t: t[: t.rindex('",') + 2], r"line \d+ \(row 4, C-3\): energy_per_atom is not finite.*truncated"),
    ],
    ids=["inside-the-energy", "after-the-cif", "inside-the-cif", "after-the-comma"],
)
def test_csv_cut_in_its_last_line_is_refused_naming_file_and_line(tmp_path, cut, message):
    text = carbon_csv()
    (tmp_path / "cut.csv").write_text(cut(text))
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'cut.csv'}: {message}"):
        load_file(tmp_path / "cut.csv")


def test_csv_line_numbers_count_the_lines_of_multi_line_cifs(tmp_path):
    text = carbon_csv()
    line = text[: text.index("C-2")].count("\n") + 1
    nan = pd.read_csv(io.StringIO(text))
    nan.loc[2, "energy_per_atom"] = float("nan")
    (tmp_path / "nan.csv").write_text(nan.to_csv(index=False, lineterminator="\n"))
    with pytest.raises(DatasetError, match=rf"nan\.csv: line {line} \(row 3, C-2\): energy_per_atom is not finite"):
        load_file(tmp_path / "nan.csv")


def test_sidecar_energies_csv_cut_short_is_refused(tmp_path):
    folder = tmp_path / "cifs"
    folder.mkdir()
    import ase.io

    for i in range(3):
        ase.io.write(folder / f"s{i}.cif", si(i), format="cif")
    (folder / "energies.csv").write_text("id,energy\ns0,-43.123456\ns1,-43.223456\ns2,-43.3")
    with pytest.raises(DatasetError, match=r"energies\.csv: line 4: the last line ends without a line break"):
        load_file(folder, format="cif")


# ------------------------------------------------------------------------------------------------ archives


def zip_of(members: dict[str, bytes], path):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def cif_text(i: int) -> bytes:
    import ase.io

    buffer = io.BytesIO()
    ase.io.write(buffer, si(i), format="cif")
    return buffer.getvalue()


def xsf_text(i: int) -> bytes:
    atoms = si(i)
    lines = [f"# total energy = {-43.0 - i} eV", "", "CRYSTAL", "PRIMVEC"]
    lines += ["  ".join(f"{x:.8f}" for x in row) for row in atoms.cell.array]
    lines += ["PRIMCOORD", f"{len(atoms)} 1"]
    lines += [f"Si {x:.8f} {y:.8f} {z:.8f}" for x, y, z in atoms.positions]
    return ("\n".join(lines) + "\n").encode()


def test_zip_of_30_cif_and_30_xsf_is_refused_by_detection_and_by_each_importer(tmp_path):
    members = {f"cif/s{i}.cif": cif_text(i) for i in range(30)}
    members |= {f"xsf/t{i}.xsf": xsf_text(i) for i in range(30)}
    members["cif/energies.csv"] = ("id,energy\n" + "".join(f"s{i},-43\n" for i in range(30))).encode()
    path = zip_of(members, tmp_path / "mixed.zip")
    for fmt in (None, "cif", "xsf"):
        with pytest.raises(DatasetError, match=rf"{path}: holds files of more than one dataset format: 30 \w+ files "
                                               r"\(e\.g\. '\w+/\w+\.\w+'\)(,| and) 30 \w+ files"):
            load_file(path, format=fmt)


def test_zip_skips_readme_license_macosx_and_lists_them(tmp_path):
    members = {f"xsf/t{i}.xsf": xsf_text(i) for i in range(3)}
    members |= {"README.md": b"# about", "xsf/LICENSE": b"MIT", "__MACOSX/xsf/._t0.xsf": b"\x00\x05",
                "xsf/.DS_Store": b"\x00", "xsf/notes.dat": b"1 2 3"}  # fmt: skip
    ds = load_file(zip_of(members, tmp_path / "tidy.zip"))
    skipped = ds.provenance["read"]["skipped_files"]
    assert len(ds) == 3 and skipped["count"] == 5
    assert "xsf/notes.dat (not a dataset format)" in skipped["files"] and "README.md (not data)" in skipped["files"]
    assert "5 files skipped: " in one_line_description(ds)


def test_zip_of_extxyz_files_says_they_are_read_one_at_a_time(tmp_path):
    path = zip_of({"a.xyz": extxyz_frame("energy=-1").encode()}, tmp_path / "xyz.zip")
    with pytest.raises(DatasetError, match=r"xyz\.zip: no dataset files found .*read one file at a time"):
        load_file(path)


# ------------------------------------------------------------------------------------------------ messages


def test_constant_target_is_refused_naming_the_file(tmp_path):
    from alcore.config import RunConfig
    from alcore.loop import prepare_dataset

    atoms = [si(i) for i in range(40)]
    ds = Dataset("flat", tuple(atoms), {"energy_per_atom": np.full(40, -5.4)}, tuple(f"s{i}" for i in range(40)),
                 provenance={"path": str(tmp_path / "flat.extxyz")})
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'flat.extxyz'}: target 'energy_per_atom' is -5\.4 for all "
                                           r"40 structures"):
        prepare_dataset(RunConfig(dataset="flat"), ds)


def test_constant_features_message_names_the_source(tmp_path):
    from alcore.descriptors import compute_features

    atoms = si(0)
    ds = Dataset("training", (atoms, atoms.copy()), {"energy_per_atom": np.array([-5.4, -5.3])}, ("a", "b"),
                 provenance={"path": "/data/training.json"})
    with pytest.raises(ValueError, match=r"dataset 'training' \(/data/training\.json\) with descriptor 'rdf': every "
                                         r"feature is constant"):
        compute_features(ds, "rdf", cache=False)
