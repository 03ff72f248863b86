"""Uploads: good files of each kind load, and every bad one is a DatasetError naming the uploaded file, with nothing
left on disk."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import zipfile

import ase.io
import numpy as np
import pytest
from ase.build import bulk

from alcore.datasets import DatasetError
from alcore.datasets.upload import display_name, load_upload, safe_filename


def _frames(n: int = 3) -> list:
    frames = []
    for i in range(n):
        atoms = bulk("Si", "diamond", a=5.43, cubic=True)
        atoms.rattle(0.02, seed=i)
        atoms.info["energy"] = -5.4 * len(atoms) + 0.01 * i
        atoms.info["kind"] = "rattle"
        frames.append(atoms)
    return frames


def _extxyz_bytes(frames) -> bytes:
    text = io.StringIO()
    ase.io.write(text, frames, format="extxyz")
    return text.getvalue().encode()


def _cif_zip_bytes(frames, sidecar: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, atoms in enumerate(frames):
            cif = io.BytesIO()
            ase.io.write(cif, atoms, format="cif")
            archive.writestr(f"cifs/s{i}.cif", cif.getvalue())
        if sidecar is not None:
            archive.writestr("cifs/energies.csv", sidecar)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Uploads write under tmp_path, so each test can check that nothing was left behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    assert os.listdir(tmp_path) == [], "load_upload left files behind"


def test_extxyz_upload_loads_energies_kinds_and_names_the_file():
    frames = _frames()
    dataset = load_upload("tiny si.xyz", _extxyz_bytes(frames))
    assert len(dataset) == 3 and dataset.name == "tiny_si"
    np.testing.assert_allclose(dataset.energy_per_atom, [f.info["energy"] / len(f) for f in frames])
    assert dataset.kinds == ("rattle",) * 3
    assert dataset.provenance["path"] == "upload:tiny si.xyz" and dataset.provenance["format"] == "extxyz"


def test_zip_of_cifs_with_energies_loads():
    sidecar = "id,energy_per_atom\ns0,-5.40\ns1,-5.39\ns2,-5.38\n"
    dataset = load_upload("cifs.zip", _cif_zip_bytes(_frames(), sidecar))
    assert dataset.ids == ("s0", "s1", "s2")
    np.testing.assert_allclose(dataset.energy_per_atom, [-5.40, -5.39, -5.38])
    assert dataset.provenance["format"] == "cif"


def test_tar_gz_of_poscars_with_energies_loads():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        members = {"a/POSCAR": None, "b/POSCAR": None, "energies.csv": b"id,energy\na/POSCAR,-43.0\nb/POSCAR,-42.9\n"}
        for k, (name, data) in enumerate(members.items()):
            if data is None:
                text = io.StringIO()
                ase.io.write(text, _frames()[k], format="vasp")
                data = text.getvalue().encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    dataset = load_upload("poscars.tar.gz", buffer.getvalue())
    assert len(dataset) == 2 and dataset.provenance["format"] == "poscar"
    np.testing.assert_allclose(dataset.energy_per_atom, [-43.0 / 8, -42.9 / 8])


def test_format_override_reads_a_file_with_an_unusual_name():
    dataset = load_upload("frames.txt", _extxyz_bytes(_frames(2)), format="extxyz")
    assert len(dataset) == 2


@pytest.mark.parametrize(
    ("filename", "data", "fmt", "problem"),
    [
        ("empty.xyz", b"", None, "the file is empty"),
        ("garbage.xyz", b"\x00\x01\x02 not a structure", None, "NUL byte"),
        ("notutf8.xyz", b"3\n\xff\xfe\n", None, "not UTF-8"),
        ("mystery.bin", b"hello", None, "cannot tell the format"),
        ("frames.xyz", None, "pymatgen-json", "invalid JSON"),
        ("frames.xyz", None, "no-such-format", "unknown format 'no-such-format'"),
        ("single.cif", None, "cif", "a single CIF file carries no energies"),
        ("broken.zip", b"PK\x03\x04 truncated", None, "not a readable zip archive"),
    ],
)
def test_bad_uploads_raise_a_dataset_error_naming_the_file(filename, data, fmt, problem):
    data = _extxyz_bytes(_frames(2)) if data is None else data
    with pytest.raises(DatasetError) as caught:
        load_upload(filename, data, format=fmt)
    assert str(caught.value).startswith(f"{filename}: ")
    assert problem in caught.value.problem
    assert "alcore-upload-" not in str(caught.value)  # never the temporary path


def test_truncated_extxyz_is_refused():
    data = _extxyz_bytes(_frames())
    with pytest.raises(DatasetError, match=r"^cut\.xyz: not a readable extended XYZ"):
        load_upload("cut.xyz", data[: len(data) // 2])


def test_upload_above_the_limit_is_refused_before_reading():
    data = _extxyz_bytes(_frames(1))
    with pytest.raises(DatasetError, match=rf"^big\.xyz: the file is {len(data)} bytes, more than the 100 bytes upload"):
        load_upload("big.xyz", data, max_bytes=100)


def test_zip_without_energies_names_the_missing_sidecar():
    with pytest.raises(DatasetError, match="energies.csv") as caught:
        load_upload("cifs.zip", _cif_zip_bytes(_frames(), sidecar=None))
    assert str(caught.value).startswith("cifs.zip")


def test_archive_member_escaping_the_folder_is_refused_and_nothing_is_written_outside(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.xyz", _extxyz_bytes(_frames(1)))
    with pytest.raises(DatasetError, match=r"^evil\.zip: refusing archive member with an unsafe name"):
        load_upload("evil.zip", buffer.getvalue())
    assert not (tmp_path.parent / "evil.xyz").exists()


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\frames.xyz", "frames.xyz"),
        ("/abs/path/POSCAR", "POSCAR"),
        ("my data (1).extxyz.gz", "my_data_1_.extxyz.gz"),
        ("..", "upload"),
        (".hidden.xyz", "hidden.xyz"),
        ("", "upload"),
    ],
)
def test_safe_filename_keeps_only_a_harmless_basename(given, safe):
    assert safe_filename(given) == safe


def test_long_names_are_shortened_but_keep_their_suffixes():
    name = safe_filename("a" * 500 + ".tar.gz")
    assert name.endswith(".tar.gz") and len(name) <= 130


def test_traversal_name_still_loads_under_its_basename():
    dataset = load_upload("../../../tmp/evil.xyz", _extxyz_bytes(_frames(1)))
    assert dataset.name == "evil" and dataset.provenance["uploaded_file"] == "evil.xyz"


def test_display_name_drops_folders_and_control_characters():
    assert display_name("C:\\Users\\me\\bad\nname.xyz") == "badname.xyz"


def test_non_bytes_data_is_a_type_error():
    with pytest.raises(TypeError, match="bytes"):
        load_upload("x.xyz", "text, not bytes")  # type: ignore[arg-type]
