"""Bad input through the upload path: ``load_upload`` for every variant, hostile file names, the size limit, bounded
memory for the worst variants, and the Data page's upload widget (AppTest) for a representative subset.

A failed upload must name the file as the user called it and the problem, leave no temporary folder and nothing in
the cache, and change nothing in the session: the dataset selected before is still selected and shown.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.datasets
from alcore.datasets import DatasetError
from alcore.datasets.upload import UPLOAD_LIMIT, display_name, load_upload, safe_filename
from tests.hardening.corrupt import REAL_CASES, base_frames, real_cases, synthetic_cases, write_extxyz
from tests.hardening.test_bad_input_importers import CASES, assert_clear, cache_files

APP = str(Path(__file__).resolve().parents[2] / "app.py")
MiB = 1024**2
MEMORY_BOUND_MB = 500

GOOD = write_extxyz(base_frames(seed=3)).encode()
GARBAGE = b"\x89PNG\r\n\x1a\n\x00\x00 not a dataset \xff\xfe"

HOSTILE_NAMES = [
    "../../etc/passwd.xyz",
    "..\\..\\windows\\system32\\frames.xyz",
    "/absolute/path/frames.xyz",
    "C:\\Users\\me\\frames.xyz",
    "nul\x00byte.xyz",
    "bell\x07escape\x1b[31mred.xyz",
    "new\nline.xyz",
    "right-to-left\u202eqwe.xyz",
    "cafÃ©-mojibake.xyz",
    "\ufffd\ufffd-replacement.xyz",
    "x" * 5000 + ".xyz",
    "$E=mc^2$ *bold* [link](mailto:x) :red[red].xyz",
    ".hidden.xyz",
    "..",
    "",
]


@pytest.fixture
def upload_tmp(tmp_path, monkeypatch) -> Path:
    """``load_upload``'s temporary folders go under a folder of this test, which must be empty afterwards."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert os.listdir(folder) == [], "the upload left files behind"


def expect_upload(case, data: bytes | None = None, format: str | None = None) -> None:
    before = cache_files()
    data = case.data if data is None else data
    if case.problem is None:
        case.check(load_upload(case.filename, data, format=format))
        return
    with pytest.raises(DatasetError) as caught:
        load_upload(case.filename, data, format=format)
    message = str(caught.value)
    assert message.startswith(f"{case.filename}"), message
    assert "alcore-upload-" not in message and tempfile.gettempdir() not in message, "the temporary path leaked"
    assert_clear(message, case.filename, case.problem)
    assert cache_files() == before


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_upload_of_every_variant(case, upload_tmp):
    expect_upload(case)


@pytest.mark.parametrize("real_id", [r.id for r in REAL_CASES])
def test_upload_of_real_dataset_slices(real_id, shared_datasets, upload_tmp):
    expect_upload(real_cases(shared_datasets)[real_id])


def test_upload_over_the_limit_is_refused_before_anything_is_written(upload_tmp, monkeypatch):
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: pytest.fail("an oversized upload reached the disk"))
    with pytest.raises(DatasetError, match=r"^big\.xyz: the file is 50\.0 MB, more than the 50\.0 MB upload limit"):
        load_upload("big.xyz", bytes(UPLOAD_LIMIT + 1))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n[:40]))
def test_hostile_file_names_stay_inside_the_upload_folder(name, upload_tmp):
    safe = safe_filename(name)
    assert re.fullmatch(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*", safe) and len(safe) <= 130
    assert (upload_tmp / safe).resolve().parent == upload_tmp.resolve()
    shown = display_name(name)
    assert shown.isprintable() and "/" not in shown and "\\" not in shown and 0 < len(shown) <= 200
    with pytest.raises(DatasetError) as caught:
        load_upload(name, GARBAGE)
    assert str(caught.value).startswith(shown) and str(caught.value).isprintable()
    assert_clear(str(caught.value), shown)
    dataset = load_upload(name, GOOD, format="extxyz")
    assert len(dataset) == 3 and re.fullmatch(r"[A-Za-z0-9._+-]+", dataset.name) and ".." not in dataset.name
    assert dataset.provenance["uploaded_file"] == shown


# --------------------------------------------------------------------------------------------------- memory

WORST = [
    "zip-bomb-honest-size", "zip-bomb-lying-size", "tar-gz-bomb", "tar-bz2-bomb", "extxyz-gz-bomb",
    "zip-central-directory-bomb", "json-bomb-15-million-empty-lists", "extxyz-60000-one-atom-frames",
    "extxyz-cell-with-100000-atoms", "pymatgen-cell-with-100000-atoms",
]  # fmt: skip
BY_ID = {c.id: c for c in CASES}


def _memory_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1)) / 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM, the peak resident size, to the current one (Linux >= 4.0)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("case_id", WORST)
def test_worst_variants_keep_memory_bounded(case_id, upload_tmp, record_property):
    case = BY_ID[case_id]
    data = case.data  # built before measuring: the test's own bytes are not the reader's memory
    if not _reset_peak():
        pytest.skip("peak memory cannot be reset on this system (needs Linux /proc/self/clear_refs)")
    before = _memory_mb("VmRSS")
    with pytest.raises(DatasetError):
        load_upload(case.filename, data, format=case.native)
    growth = _memory_mb("VmHWM") - before
    record_property("peak_rss_growth_mb", round(growth, 1))
    print(f"\n{case_id}: {len(data) / MiB:.1f} MB upload, peak RSS growth {growth:.0f} MB")
    assert growth < MEMORY_BOUND_MB


# --------------------------------------------------------------------------------------------------- the widget

APP_CASES = [
    "extxyz-truncated-50pct", "extxyz-empty", "extxyz-binary-garbage", "extxyz-latin1-non-ascii",
    "extxyz-utf16le-without-bom", "extxyz-gz-truncated-50pct", "extxyz-energy-nan", "extxyz-energy-1e308",
    "extxyz-atom-count-1e12", "extxyz-cell-with-100000-atoms", "pymatgen-disordered-site", "pymatgen-deeply-nested",
    "mlearn-forces-one-row-short", "mlearn-cell-coplanar", "fitsnap-stress-style-gpa",
    "fitsnap-atoms-on-top-of-each-other", "fitsnap-tgz-byte-0xff-in-the-middle", "xsf-primcoord-count-too-large",
    "xsf-tgz-unknown-element", "cif-zip-energies-csv-missing", "poscar-tgz-cell-zero", "csv-cif-column-renamed-CIF",
    "fetched-wrong-version", "zip-member-dotdot", "tar-member-absolute", "tar-symlink-only",
    "zip-member-name-invalid-utf8-flagged", "zip-nested-zip", "zip-bomb-lying-size", "extxyz-gz-bomb",
    "zip-central-directory-bomb",
]  # fmt: skip
SELECTED = "upload:good"


def _unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The Data page with a small good upload selected; structure maps are not computed (no background process)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(ui.datasets, "structure_map", lambda name, descriptor: ui.datasets.MapStatus(None, "not in tests"))
    folder = tmp_path_factory.mktemp("app-uploads")
    patch.setattr(tempfile, "tempdir", str(folder))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="data_upload").set_value(("good.xyz", GOOD, "chemical/x-xyz")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="data_dataset").value == SELECTED
    at.folder = folder
    yield at
    patch.undo()


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="data_upload").set_value((name, data, "application/octet-stream")).run()


def assert_unchanged(at: AppTest) -> None:
    """No exception, the session's uploads and selection as before, the selected dataset still shown, no files."""
    assert not at.exception
    assert list(at.session_state["uploaded_datasets"]) == [SELECTED]
    assert at.selectbox(key="data_dataset").value == SELECTED
    structures = [df.value for df in at.dataframe if "energy_per_atom" in df.value.columns]
    assert len(structures) == 1 and len(structures[0]) == 3
    assert os.listdir(at.folder) == []


def assert_one_error(at: AppTest, name: str, problem: str | None = None) -> str:
    assert len(at.error) == 1, [e.value for e in at.error]
    message = _unescaped(at.error[0].value)
    assert "Traceback" not in message
    assert_clear(message, name, problem)
    return message


@pytest.mark.parametrize("case_id", APP_CASES)
def test_upload_widget_shows_one_clear_error_and_keeps_the_session(case_id, app):
    case = BY_ID[case_id]
    _upload(app, case.filename, case.data)
    assert_one_error(app, case.filename, case.problem)
    assert_unchanged(app)


def test_upload_widget_refuses_a_file_over_the_limit(app):
    _upload(app, "big.xyz", bytes(UPLOAD_LIMIT + 1))
    assert_one_error(app, "big.xyz", r"upload limit")
    assert_unchanged(app)


def test_upload_widget_with_hostile_names(app):
    for name in HOSTILE_NAMES:
        _upload(app, name, GARBAGE)
        assert_one_error(app, display_name(name))
        assert_unchanged(app)
        if name.startswith("$"):  # shown literally, not as math, bold, a link or colour
            assert r"\$E=mc^2\$ \*bold\* \[link\](mailto\:x) \:red\[red\]" in app.error[0].value
    _upload(app, "../../../tmp/evil name.xyz", GOOD)  # a good file under a hostile name loads under a safe one
    assert not app.exception and not app.error
    assert app.selectbox(key="data_dataset").value == "upload:evil_name"
    assert set(app.session_state["uploaded_datasets"]) == {SELECTED, "upload:evil_name"}
    assert os.listdir(app.folder) == []


def test_the_generator_is_deterministic():
    again = {c.id: c for c in synthetic_cases(seed=0)}
    for case_id in ("extxyz-binary-garbage", "pymatgen-energy-nan", "zip-bomb-lying-size", "tar-member-dotdot"):
        assert again[case_id].data == BY_ID[case_id].data
