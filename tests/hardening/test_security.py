"""Security: no unsafe deserialisation anywhere in the code (an AST scan), no name can point outside the data and
cache folders (generated hostile names through every place a name becomes a path), and the Materials Project API key
appears nowhere after a full fetch-and-export cycle (CLI and app) against the local test server.
"""

from __future__ import annotations

import ast
import base64
import gzip
import io
import json
import logging
import warnings
import zipfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, quote_plus

import numpy as np
import pytest

from alcore.comparison.cache import ComparisonRequest, cache_path
from alcore.config import RunConfig
from alcore.datasets.base import DatasetError
from alcore.datasets.fetched.cache import find_cached, pool_path, save_pool
from alcore.datasets.fetched.pool import FetchedPool, pool_name
from alcore.embeddings import cache_path as embedding_cache_path
from alcore.embeddings import shipped_path
from alcore.fetch import FetchQuery
from alcore.fetch.combine import combined_name
from alcore.filenames import check_name
from alcore.paths import cache_dir
from alcore.runs import load_run, save_run
from alcore.sweep import SweepStore
from tests import fetch_server
from tests.fetch_server import services  # noqa: F401 - a fixture
from tests.hardening.project_files import REPO, audit_project
from ui.explore_exports import file_stem

# ---- 1. an AST scan for unsafe deserialisation and code execution --------------------------------------------------

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "jsonpickle"}
UNSAFE_CALLS = {
    "joblib.load": "joblib.load unpickles",
    "pandas.read_pickle": "unpickles",
    "yaml.load": "yaml.load can build arbitrary objects (use yaml.safe_load)",
    "yaml.unsafe_load": "builds arbitrary objects",
    "yaml.full_load": "builds arbitrary objects",
    "yaml.load_all": "builds arbitrary objects",
    "monty.serialization.loadfn": "decodes @module/@class with MontyDecoder",
    "torch.jit.load": "loads code",
    "eval": "evaluates code",
    "exec": "executes code",
    "compile": "compiles code",
    "__import__": "imports a module by a computed name",
    "importlib.import_module": "imports a module by a computed name",
    "os.system": "runs a shell",
    "os.popen": "runs a shell",
}
SAFE_FROM_DICT = {"RunConfig", "FetchQuery", "cls"}  # our own dataclasses: plain fields, validated
# (file, rule, detail) -> why this one use is safe. A stale entry fails the test, so the list stays exact.
ALLOWED = {
    ("alcore/datasets/importers/pymatgen_json.py", "from_dict", "Structure"): (
        "rebuilt from a sanitised copy: lattice plus each site's species/abc/label only, so no site 'properties' reach "
        "pymatgen's MontyDecoder and no '@module' class is ever imported"
    ),
    ("alcore/bench/__init__.py", "call", "importlib.import_module"): (
        "the module name comes from the BENCHMARKS registry (two fixed strings in this file), never from input"
    ),
    ("alcore/strategies/__init__.py", "call", "importlib.import_module"): (
        "the names are the package's own module files (pkgutil.iter_modules of its __path__), never from input"
    ),
    ("alcore/descriptors/__init__.py", "call", "importlib.import_module"): (
        "the names are the package's own module files (pkgutil.iter_modules of its __path__), never from input"
    ),
}


def _aliases(tree: ast.AST) -> dict[str, str]:
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _keyword_is(call: ast.Call, name: str, value: object) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value for k in call.keywords)


def scan_source(source: str) -> list[tuple[int, str, str, str]]:
    """(line, rule, detail, why) for every unsafe use in ``source``."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in UNSAFE_MODULES:
                    found.append((node.lineno, "import", module, "a pickle-like module"))
            if isinstance(node, ast.ImportFrom) and any(a.name == "MontyDecoder" for a in node.names):
                found.append((node.lineno, "name", "MontyDecoder", "imports any @module class named in the data"))
        if isinstance(node, (ast.Name, ast.Attribute)) and (_dotted(node, aliases) or "").endswith("MontyDecoder"):
            found.append((node.lineno, "name", "MontyDecoder", "imports any @module class named in the data"))
        if not isinstance(node, ast.Call):
            continue
        target = _dotted(node.func, aliases) or ""
        if target in UNSAFE_CALLS:
            found.append((node.lineno, "call", target, UNSAFE_CALLS[target]))
        elif target == "numpy.load" and not _keyword_is(node, "allow_pickle", False):
            found.append((node.lineno, "call", target, "np.load without allow_pickle=False"))
        elif target == "torch.load" and not _keyword_is(node, "weights_only", True):
            found.append((node.lineno, "call", target, "torch.load without weights_only=True"))
        elif target.startswith("subprocess.") and _keyword_is(node, "shell", True):
            found.append((node.lineno, "call", target, "shell=True"))
        if isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ("extractall", "extract"):
                found.append((node.lineno, "call", f".{method}", "archive extraction writes member paths to disk"))
            receiver = _dotted(node.func.value, aliases) or "?"
            if method == "from_dict" and receiver.split(".")[-1] not in SAFE_FROM_DICT:
                found.append((node.lineno, "from_dict", receiver.split(".")[-1], "builds objects from data"))
    return found


def test_no_unpickling_or_code_loading_anywhere_in_the_code():
    def unsafe_uses(relative: str, source: str):
        for line, rule, detail, why in scan_source(source):
            yield line, (relative, rule, detail), f"{detail} ({why})"

    problems, unused, n_files = audit_project(unsafe_uses, ALLOWED)
    assert problems == [], "unsafe uses:\n" + "\n".join(problems)
    assert not unused, f"allow-list entries no longer needed: {unused}"
    assert n_files > 100
    print(f"\nscanned {n_files} files; {len(ALLOWED)} allow-listed uses")


def test_the_scan_finds_every_kind_of_unsafe_use():
    """The scanner itself: each pattern it must catch, written the ways code writes it."""
    bad = """
import pickle
from joblib import load as jl
import numpy as np, torch, yaml, tarfile
from monty.json import MontyDecoder
from pymatgen.core import Structure
np.load("x.npy")
np.load("x.npz", allow_pickle=True)
torch.load("m.pt")
torch.load("m.pt", weights_only=False)
jl("x.joblib")
yaml.load(text)
eval("1")
exec("x = 1")
tarfile.open("a.tar").extractall("out")
Structure.from_dict(data)
__import__(name)
"""
    rules = [(rule, detail) for _, rule, detail, _ in scan_source(bad)]
    assert ("import", "pickle") in rules and ("name", "MontyDecoder") in rules
    assert rules.count(("call", "numpy.load")) == 2 and rules.count(("call", "torch.load")) == 2
    for expected in (("call", "joblib.load"), ("call", "yaml.load"), ("call", "eval"), ("call", "exec"),
                     ("call", ".extractall"), ("from_dict", "Structure"), ("call", "__import__")):  # fmt: skip
        assert expected in rules, expected
    good = """
import numpy as np, torch, yaml
np.load("x.npz", allow_pickle=False)
torch.load("m.pt", weights_only=True)
yaml.safe_load(text)
RunConfig.from_dict(doc)
"""
    assert scan_source(good) == []


# ---- 2. hostile names never leave their folder ---------------------------------------------------------------------


def hostile_names(escape_target: Path) -> list[str]:
    """Traversal, absolute and Windows paths, NUL and control characters, device names, very long names, and every
    short combination of the dangerous pieces."""
    explicit = [
        "..", ".", "", "../x", "../../x", "../../../../../../etc/passwd", "/etc/passwd", str(escape_target),
        str(escape_target / ".." / "y"), "x/../../y", "mp-Ti-O/../../../x", "..\\..\\x", "C:\\Windows\\x", "C:x",
        "\\\\server\\share\\x", "\\\\?\\C:\\x", "x\x00y", "\x00", "x\x00/../../y", "x\n", "x\r\ny", "x\t",
        "CON", "nul", "aux.json", "COM1", "LPT9.txt", "x.", "x ", " ", ".hidden", ".x.json.tmp", "~", "~/x",
        "$HOME", "%2e%2e%2f", "..%2f..%2fx", "file:///etc/passwd", "x" * 181, "x" * 256, "x" * 5000, "é" * 91,
        "\u202egpj.exe", "\ud800", "a:b", 'a"b', "a*b", "a?b", "a<b>", "a|b",
    ]
    pieces = ["..", ".", "/", "\\", "\x00", ":", "~", " ", "x", "C:"]
    combined = {a + b + c for a in pieces for b in pieces for c in ("", "/", "..", "x")}
    return sorted(set(explicit) | combined)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().parent == folder.resolve() and path.name not in ("", ".", "..")


def test_hostile_names_never_point_outside_the_data_and_cache_folders(tmp_path, monkeypatch):
    cache = tmp_path / "sandbox" / "cache"
    monkeypatch.setenv("ALCORE_CACHE_DIR", str(cache))
    escape = tmp_path / "escaped"
    names = hostile_names(escape)
    refused = accepted = 0
    store = SweepStore(tmp_path / "sweep")
    data_dir = tmp_path / "data"
    doc = FetchedPool("mp-Ti-O", "mp", {}, ({"id": "mp-1", "structure": {}},), {}, {}).to_document()
    for name in names:
        # the cache folder and the fetch cache (a fetched pool is named after a user-typed chemical system)
        for make, folder in ((lambda: cache_dir(name), cache), (lambda: pool_path(name), cache / "fetch"),
                             (lambda: cache_dir("fetch", name), cache / "fetch")):  # fmt: skip
            try:
                path = make()
            except ValueError:
                refused += 1
                continue
            accepted += 1
            assert _inside(path, folder), (name, path)
        try:
            path = save_pool(FetchedPool(name, "mp", {}, ({"id": "mp-1", "structure": {}},), {}, {}))
        except ValueError:
            pass
        else:
            assert _inside(path, cache / "fetch") and find_cached(name) is not None
        with pytest.raises(DatasetError) if _refused(name) else nullcontext():
            FetchedPool.from_document({**doc, "name": name}, "test.json")  # a pool file names itself: it must be a file name
        # a chemical system typed in the app or on the command line
        try:
            query = FetchQuery(name)
        except ValueError:
            pass
        else:
            check_name(pool_name("mp", query.label()))
        # keys and names derived from a dataset name: comparison cache, sweep store, embeddings, exports
        request = ComparisonRequest.create(RunConfig(dataset=name), ["random"], [0], name or "-")
        assert _inside(cache_path(request), cache / "comparisons")
        assert _inside(store.path_for(RunConfig(dataset=name)), store.runs_dir)
        assert _inside(shipped_path(name, "paper", data_dir), data_dir / "embeddings")
        for fingerprint, descriptor in ((name, "paper"), ("f" * 16, name)):
            try:
                assert _inside(embedding_cache_path(fingerprint, descriptor, "p" * 16), cache / "embeddings")
            except ValueError:
                pass
        stem = file_stem(RunConfig(dataset=name))
        assert stem and not set(stem) & set("/\\:\x00") and not stem.startswith(".") and len(stem) <= 120
    for offset in (1e300, -1e-300, 0.05, -2.0, 123456789.123):  # combined pools are named after their offsets
        check_name(combined_name(["mp", "oqmd"], FetchQuery("Ti-O"), {"oqmd": offset}, deduplicate=False))
    assert not escape.exists() and not (tmp_path / "y").exists()
    assert sorted(p.name for p in (tmp_path / "sandbox").iterdir()) == ["cache"]
    assert refused > 2 * len(names)  # most of them are refused outright; the rest land inside
    print(f"\n{len(names)} hostile names through 12 name-to-path functions; through cache_dir / pool_path: "
          f"{refused} refused, {accepted} kept inside")


def _refused(name: str) -> bool:
    try:
        check_name(name)
    except ValueError:
        return True
    return False


def test_a_run_file_cannot_name_an_arrays_file_outside_its_folder(tmp_path):
    from tests.hardening.killer import _run

    folder = tmp_path / "runs"
    path = save_run(_run("A"), folder / "run.json")
    good = next(folder.glob("run.*.npz"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / good.name).write_bytes(good.read_bytes())  # a valid arrays file, one folder away
    doc = json.loads(path.read_text())
    for hostile in ("../elsewhere/" + good.name, str(outside / good.name), "..", ".", "", "x\x00y", None, 7):
        path.write_text(json.dumps({**doc, "arrays": {**doc["arrays"], "file": hostile}}))
        with pytest.raises(ValueError, match="run.json"):
            load_run(path)


# ---- 3. the Materials Project key appears nowhere -------------------------------------------------------------------

KEY = "Zq7LeakCanary4MpKey9x2Vb8Nw3Rt5Y"  # 32 letters and digits, like a real key, and found nowhere by chance


def key_forms(key: str) -> list[bytes]:
    """The key as bytes (UTF-8, and UTF-16/32 as numpy stores text arrays), URL-encoded, hex, and base64 /
    urlsafe-base64 at each of the three alignments inside a longer text (only the characters that do not depend on
    the neighbours)."""
    forms = {key.encode(), quote(key).encode(), quote_plus(key).encode(), key.encode().hex().encode(),
             key.encode("utf-16-le"), key.encode("utf-32-le"), key.encode("utf-16-be"), key.encode("utf-32-be")}
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * pad + key.encode())
            start = (pad * 4 + 2) // 3 + 1
            forms.add(text[start : start + 36])
    return sorted(forms)


def _leaks(data: bytes, forms: list[bytes], where: str) -> list[str]:
    found = [f"{where} (as {form!r})" for form in forms if form in data]
    if zipfile.is_zipfile(io.BytesIO(data)):  # npz caches: look inside the compressed members too
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                found += _leaks(archive.read(member), forms, f"{where}:{member}")
    elif data[:2] == b"\x1f\x8b":
        found += _leaks(gzip.decompress(data), forms, f"{where} (gunzipped)")
    return found


def test_the_key_search_sees_through_encodings_and_compression():
    forms = key_forms(KEY)
    npz = io.BytesIO()
    np.savez_compressed(npz, meta=np.array(json.dumps({"client": {"key": KEY}})))
    hidden = {
        "plain": f"x-api-key: {KEY}".encode(),
        "url": f"?api_key={quote(KEY)}&x=1".encode(),
        "base64 in a header": b"Authorization: Basic " + base64.b64encode(f"user:{KEY}".encode()),
        "urlsafe base64": base64.urlsafe_b64encode(b"ab" + KEY.encode() + b"c"),
        "npz": npz.getvalue(),
        "gzip": gzip.compress(f"[{KEY}]".encode()),
    }
    for where, data in hidden.items():
        assert _leaks(data, forms, where), where
    assert _leaks(KEY[:-1].encode() + b"!", forms, "almost") == []


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.name}: {record.getMessage()} {record.exc_text or ''}")


@contextmanager
def _every_log_record(monkeypatch) -> Iterator[_Records]:
    """Every record of every logger at DEBUG (urllib3, requests, mp_api, streamlit, alcore...), whatever their
    handlers or propagation: ``Logger.handle`` is where all of them pass."""
    records = _Records()
    original = logging.Logger.handle

    def handle(self, record):
        records.emit(record)
        return original(self, record)

    monkeypatch.setattr(logging.Logger, "handle", handle)
    names = {"", "urllib3", "requests", "mp_api", "streamlit", "alcore", "pymatgen", *logging.root.manager.loggerDict}
    loggers = [logging.getLogger(name) for name in names]
    before = [(logger, logger.level, logger.disabled) for logger in loggers]
    disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)  # setLevel, not the attribute: it clears the loggers' level caches
        logger.disabled = False
    try:
        yield records
    finally:
        for logger, level, was_disabled in before:
            logger.setLevel(level)
            logger.disabled = was_disabled
        logging.disable(disabled)


def _record_downloads(monkeypatch) -> list[tuple[str, object]]:
    """(file name, bytes or the callable that makes them) of every download button the app draws."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen = []
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def recording_add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if is_for_static_download:
            seen.append((file_name, path_or_data))
        return add(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)

    def recording_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen.append((file_name, data_callable))
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", recording_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_deferred)
    return seen


def _state_text(at) -> str:
    return "\n".join(f"{k!r}: {v!r}" for k, v in at.session_state.items())


def test_the_mp_key_appears_in_no_file_log_output_export_url_or_session(services, tmp_path, monkeypatch, capfd):
    from streamlit.testing.v1 import AppTest

    import ui.datasets
    from alcore.cli import main
    from ui.datasets import MapStatus
    from ui.fetch import API_KEY

    assert len(KEY) == 32 and KEY.isalnum()
    monkeypatch.setattr(fetch_server, "VALID_KEY", KEY)  # the fake server accepts only this key
    for name, folder in (("ALCORE_CACHE_DIR", "cache"), ("HOME", "home"), ("XDG_CACHE_HOME", "xdg-cache"),
                         ("XDG_CONFIG_HOME", "xdg-config"), ("TMPDIR", "tmp")):  # fmt: skip
        (tmp_path / folder).mkdir()
        monkeypatch.setenv(name, str(tmp_path / folder))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))  # exports' temporary files land here too
    monkeypatch.delenv("MP_API_KEY", raising=False)
    # the structure map (UMAP in a background process) is not part of this cycle and would outlive the test
    monkeypatch.setattr(ui.datasets, "structure_map", lambda name, descriptor: MapStatus(None, "not in this test"))
    ui.datasets.registered_names.clear()
    downloads = _record_downloads(monkeypatch)
    texts: dict[str, str] = {}

    with _every_log_record(monkeypatch) as records, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        # the Data page's fetch form, with the key typed into it
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.switch_page("pages/data.py").run()
        at.radio(key="data_fetch_database").set_value("mp")
        at.text_input(key="data_fetch_chemsys").set_value("Ti-O")
        at.text_input(key=API_KEY).set_value(KEY)
        at.text_input(key="data_fetch_mp_endpoint").set_value(services.mp_endpoint)
        at.button(key="data_fetch_go").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.selectbox(key="data_dataset").value == "mp-Ti-O"
        assert at.text_input(key=API_KEY).value == ""  # used once, then gone from the form ...
        texts["session state after the fetch"] = _state_text(at)  # ... and from the session
        texts["page after the fetch"] = repr(at._tree)
        texts["URL after the fetch"] = json.dumps(dict(at.query_params))

        # the fetched pool on Explore: a round, then every export
        at.query_params.update(dataset="mp-Ti-O", descriptor="rdf", n_initial="2", batch_size="1", budget="4",
                               members="2", epochs="10", hidden="32")  # fmt: skip
        at.switch_page("pages/explore.py").run()
        at.button(key="step").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert [r.n_labels for r in at.session_state["explore"].state.rounds] == [2, 3]
        exports = {}
        for file_name, data in downloads:
            content = data() if callable(data) else data
            exports[file_name] = content.encode() if isinstance(content, str) else bytes(content)
        stem = "mp-Ti-O-diversity-seed0"
        wanted = {f"{stem}-round1.extxyz", f"{stem}-manifest.json", f"{stem}-curves.csv", "mp-2664.extxyz"}
        assert wanted <= set(exports)  # the Explore exports, and one structure from the Data page
        texts["session state at the end"] = _state_text(at)
        texts["page at the end"] = repr(at._tree)
        texts["URL at the end"] = json.dumps(dict(at.query_params))

        # the command line: fetch with $MP_API_KEY (again, not from the cache), then a run saved from the pool
        monkeypatch.setenv("MP_API_KEY", KEY)
        assert main(["fetch", "mp", "--chemsys", "Ti-O", "--endpoint", services.mp_endpoint, "--refresh"]) == 0
        monkeypatch.delenv("MP_API_KEY")
        saved = ["--save", str(tmp_path / "cli" / "run.json"), "--json", str(tmp_path / "cli-summary.json")]
        assert main(["run", "--dataset", "mp-Ti-O", "--descriptor", "rdf", "--initial", "2", "--batch", "1",
                     "--budget", "4", "--members", "2", "--epochs", "10", "--hidden", "8", "-q", *saved]) == 0

    # the key was really sent (in the x-api-key header only), once by the app and once by the command line
    summary_requests = services.seen("/materials/summary/")
    assert [r.headers.get("x-api-key") for r in summary_requests] == [KEY, KEY]
    assert not any(KEY in r.path or KEY in json.dumps(r.params) for r in services.requests)

    forms = key_forms(KEY)
    captured = capfd.readouterr()
    texts["stdout"], texts["stderr"] = captured.out, captured.err
    texts["log records"] = "\n".join(records.texts)
    texts["warnings"] = "\n".join(str(w.message) for w in warned)
    leaks = []
    for where, text in texts.items():
        leaks += _leaks(text.encode("utf-8", "replace"), forms, where)
    for name, content in exports.items():
        leaks += _leaks(content, forms, f"export {name}")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in files:
        leaks += _leaks(path.read_bytes(), forms, str(path.relative_to(tmp_path)))
    assert leaks == [], "the API key leaked into: " + "; ".join(leaks)
    assert (tmp_path / "cache" / "fetch" / "mp-Ti-O.json").is_file() and (tmp_path / "cli" / "run.json").is_file()
    assert len(records.texts) > 10 and any("urllib3" in t for t in records.texts)  # debug logs really were captured
    print(f"\nkey searched in {len(forms)} forms: {len(files)} files, {len(exports)} exports, "
          f"{len(records.texts)} log records, {len(texts)} texts (stdout/stderr, session, page, URL)")
