"""Several AppTest sessions at once, as several browser tabs on one ``streamlit run`` server, and what the concurrency
tests compare: fingerprints of everything the app caches for all sessions, and the rounds of two runs, bit for bit.

Why a shim: Streamlit's ``AppTest.run`` is written for one test at a time. Around every run it swaps process-wide
test scaffolding: it installs a fresh mock ``Runtime`` singleton (and removes it when the run ends), resets the
legacy "pages directory" flag, patches ``config.get_option``, compiles the page scripts into a fresh script cache and
gives every session the same session id. Two AppTests running in two threads tear down each other's runtime mid-script,
and on Python 3.11 two threads compiling scripts at once can fail inside ``ast.parse`` ("AST constructor recursion
depth mismatch", CPython gh-106905). ``shared_server()`` makes those swaps no-ops for its duration and installs what a
real server has instead: one runtime and one (locked) script cache for every session, the pages mode that
``st.navigation`` has already settled, one config patch, and a distinct session id per session. The app code under
test runs unchanged; only the harness is adapted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
from contextlib import contextmanager, nullcontext
from typing import Any, Iterator
from unittest import mock

import numpy as np
from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.runtime import Runtime
from streamlit.runtime.caching.cache_resource_api import _resource_caches
from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import app_test, local_script_runner
from streamlit.testing.v1.local_script_runner import LocalScriptRunner
from streamlit.testing.v1.util import patch_config_options

_session_numbers = itertools.count(1)


class _PerRunRuntime(Runtime):
    """What ``AppTest.run`` installs and removes around each run; inside ``shared_server`` it lands here, not on the
    real ``Runtime`` singleton that every session uses."""


class _PerRunPagesManager(PagesManager):
    """Absorbs ``AppTest.run``'s reset of the class-wide pages-directory flag (the real class keeps the value)."""


class _OwnSessionRunner(LocalScriptRunner):
    """A script runner with a session id of its own (AppTest gives every session the same one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_id = f"concurrent-session-{next(_session_numbers)}"


def _server_runtime() -> Runtime:
    runtime = mock.MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    registry = BidiComponentManager()
    registry.discover_and_register_components(start_file_watching=False)
    runtime.bidi_component_registry = registry
    return runtime


@contextmanager
def shared_server() -> Iterator[None]:
    """While active, AppTests in any number of threads run as sessions of one server. Run one AppTest of the app
    alone first, so that ``st.navigation`` has settled the pages mode as on a real server."""
    if PagesManager.uses_pages_directory is not False:
        raise RuntimeError("run one AppTest of app.py before shared_server(): st.navigation sets the pages mode")
    previous = Runtime._instance
    Runtime._instance = _server_runtime()
    scripts = ScriptCache()
    try:
        with (
            mock.patch.object(app_test, "ScriptCache", lambda: scripts),
            mock.patch.object(local_script_runner, "ScriptCache", lambda: scripts),
            patch_config_options({"global.appTest": True}),
            mock.patch.object(app_test, "patch_config_options", lambda overrides: nullcontext()),
            mock.patch.object(app_test, "Runtime", _PerRunRuntime),
            mock.patch.object(app_test, "PagesManager", _PerRunPagesManager),
            mock.patch.object(app_test, "LocalScriptRunner", _OwnSessionRunner),
        ):
            yield
    finally:
        Runtime._instance = previous


@contextmanager
def bare_mode() -> Iterator[None]:
    """Call the app's cached functions outside any session (to fill or inspect the caches) without Streamlit's
    warnings that there is no session."""
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict) if n.startswith("streamlit")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


# ---- fingerprints of what is cached for every session ------------------------------------------------------------


def cached_resources() -> dict[str, list[Any]]:
    """Every value held by an ``st.cache_resource`` function (global scope), by function name."""
    out: dict[str, list[Any]] = {}
    for cache in _resource_caches._function_caches.get(None, {}).values():
        with cache._mem_cache_lock:
            values = [entry.value for entry in cache._mem_cache.values()]
        out.setdefault(cache.display_name, []).extend(values)
    return out


def fingerprint(obj: Any) -> str:
    """A content hash of ``obj``: arrays by dtype, shape and bytes; ase.Atoms by every per-atom array, cell, pbc and
    info; dataclasses, mappings, sequences and plain objects by their parts. Any in-place change alters it."""
    h = hashlib.sha256()
    _feed(h, obj, {})
    return h.hexdigest()


def _feed(h, obj: Any, seen: dict[int, Any]) -> None:  # noqa: C901 - one branch per kind of value, flat on purpose
    from ase import Atoms

    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, np.generic)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
        return
    if id(obj) in seen:
        h.update(b"<seen>")
        return
    seen[id(obj)] = obj  # kept alive: a temporary's id could otherwise be reused by the next one
    if isinstance(obj, np.ndarray):
        h.update(f"ndarray{obj.dtype.str}{obj.shape};".encode())
        if obj.dtype == object:
            for item in obj.ravel():
                _feed(h, item, seen)
        else:
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, Atoms):
        _feed(h, dict(obj.arrays), seen)
        _feed(h, obj.cell.array, seen)
        _feed(h, obj.pbc, seen)
        _feed(h, obj.info, seen)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(type(obj).__qualname__.encode())
        for f in dataclasses.fields(obj):
            h.update(f.name.encode())
            _feed(h, getattr(obj, f.name), seen)
    elif isinstance(obj, dict):
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _feed(h, obj[key], seen)
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)};".encode())
        for item in obj:
            _feed(h, item, seen)
    elif isinstance(obj, (set, frozenset)):
        for item in sorted(obj, key=repr):
            _feed(h, item, seen)
    elif hasattr(obj, "__dict__"):
        h.update(type(obj).__qualname__.encode())
        _feed(h, vars(obj), seen)
    else:
        h.update(repr(obj).encode())


def writeable_arrays(obj: Any, path: str = "", seen: dict[int, Any] | None = None) -> list[str]:
    """Where ``obj`` holds numeric arrays that could be changed in place, as paths like
    ``.atoms[3].arrays['positions']``."""
    from ase import Atoms

    seen = {} if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return []
    seen[id(obj)] = obj
    if isinstance(obj, np.ndarray):
        return [path] if obj.flags.writeable and obj.dtype != object and obj.size else []
    if isinstance(obj, Atoms):
        parts = [(f".arrays[{k!r}]", v) for k, v in obj.arrays.items()] + [(".cell", obj.cell.array), (".pbc", obj.pbc)]
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        parts = [(f".{f.name}", getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    elif isinstance(obj, dict):
        parts = [(f"[{k!r}]", v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple)):
        parts = [(f"[{i}]", v) for i, v in enumerate(obj)]
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("alcore"):
        parts = [(f".{k}", v) for k, v in vars(obj).items()]
    else:
        return []
    return [hit for suffix, value in parts for hit in writeable_arrays(value, path + suffix, seen)]


# ---- comparing runs -----------------------------------------------------------------------------------------------


def round_differences(got, want) -> list[str]:
    """Where two sequences of ``RoundRecord`` differ: selected indices and labelled sets exactly, MAE and pool std by
    their float bytes (not allclose). Wall times are not compared."""
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} rounds instead of {len(want)}")
    for r, (a, b) in enumerate(zip(got, want)):
        if a.selected.dtype != b.selected.dtype or not np.array_equal(a.selected, b.selected):
            problems.append(f"round {r}: selected {a.selected.tolist()} instead of {b.selected.tolist()}")
        if not np.array_equal(a.labelled, b.labelled):
            problems.append(f"round {r}: another labelled set")
        if np.float64(a.mae).tobytes() != np.float64(b.mae).tobytes():
            problems.append(f"round {r}: MAE {a.mae!r} instead of {b.mae!r}")
        if a.pool_std.tobytes() != b.pool_std.tobytes():
            problems.append(f"round {r}: another committee std on the pool")
    return problems
