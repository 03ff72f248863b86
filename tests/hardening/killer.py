"""A save-and-get-killed server for ``test_durability.py`` (run as ``python -m tests.hardening.killer``).

For every command line ``<kind> <event>#<n> <folder>`` on stdin it forks a child that saves version B of ``kind``
(a saved run, a comparison-cache entry, a sweep-store entry, a sweep summary, an embedding, a fetched pool) into
``folder``, over the version A the test wrote. The child pauses at the ``n``-th ``event`` of that save, prints
``paused <pid>`` and sleeps until the test SIGKILLs it; the server then prints ``killed <signal>`` (or ``finished``
when the point was never reached). The pause points are reached by wrapping, in the child only, the library calls
``alcore.atomic`` makes, so every kill lands at the same byte every time:

- ``mkstemp``: the temporary file exists and is empty;
- ``half``: half of the new bytes are in the temporary file (and on disk);
- ``fsync``: all bytes are written, not yet fsynced;
- ``replace``: fsynced, not yet renamed over the target;
- ``replaced``: renamed (the new version is complete), the folder not yet fsynced;
- ``unlink``: ``save_run`` is about to remove the previous version's arrays file.

The versions are built here (``version``) so the test can compare what it loads with what was written.
"""

from __future__ import annotations

import io
import os
import pathlib
import signal
import stat
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

EVENTS = ("mkstemp", "half", "fsync", "replace", "replaced", "unlink")


# ---- the two versions of everything that is saved ---------------------------------------------------------------


def _run(version: str):
    from alcore.config import RunConfig
    from alcore.loop import RoundRecord
    from alcore.runs import SavedRun

    rng = np.random.default_rng(0 if version == "A" else 1)
    n_rounds, n, pool = (3, 4000, 5000) if version == "A" else (4, 4000, 5000)
    rounds = []
    for r in range(n_rounds):
        labelled = rng.permutation(n)[: 30 + 15 * r]
        rounds.append(RoundRecord(
            round=r, n_labels=len(labelled), labelled=labelled, selected=rng.permutation(n)[:15],
            pool=rng.permutation(pool), pool_mean=rng.normal(size=pool), pool_std=rng.random(pool),
            test_mean=rng.normal(size=800), test_std=rng.random(800), mae=float(rng.random()),
            rmse=float(rng.random()), r2=float(rng.random()), spearman=float(rng.random()),
            mean_pool_std=float(rng.random()), fit_seconds=0.5, select_seconds=0.01,
        ))  # fmt: skip
    config = RunConfig(dataset="synthetic", strategy="diversity", seed=7)
    return SavedRun(config=config, rounds=tuple(rounds), dataset_fingerprint="f" * 16, meta={})


def run_result(version: str, strategy: str = "random", seed: int = 0):
    from alcore.comparison.grid import RunResult

    rng = np.random.default_rng(zlib.crc32(f"{version}-{strategy}-{seed}".encode()))
    n = 200
    return RunResult(
        strategy=strategy, seed=seed, n_labels=np.arange(30, 30 + 15 * n, 15), mae=rng.random(n), rmse=rng.random(n),
        spearman=rng.random(n), mean_pool_std=rng.random(n),
        selected=tuple(rng.permutation(5000)[:15] for _ in range(n)), fit_seconds=1.0, select_seconds=0.1,
    )  # fmt: skip


def comparison_request():
    from alcore.comparison.cache import ComparisonRequest
    from alcore.config import RunConfig

    return ComparisonRequest.create(RunConfig(dataset="synthetic"), ["random", "diversity"], [0, 1], "kill-test")


def _comparison(version: str):
    request = comparison_request()
    return [run_result(version, s, seed) for s in request.strategies for seed in request.seeds]


def sweep_config():
    from alcore.config import RunConfig

    return RunConfig(dataset="synthetic", strategy="uncertainty", seed=3)


def sweep_result(version: str):
    return run_result(version, "uncertainty", 3)


def embedding(version: str) -> np.ndarray:
    return np.random.default_rng(0 if version == "A" else 1).normal(size=(10_000, 2)).astype(np.float32)


EMBEDDING_KEY = {"fingerprint": "e" * 16, "phash": "p" * 16, "descriptor": "paper"}


def pool(version: str):
    from alcore.datasets.fetched.pool import FetchedPool

    n = 300 if version == "A" else 400
    records = tuple({"id": f"mp-{i}", "structure": {"lattice": {}, "sites": [], "i": i}} for i in range(n))
    return FetchedPool(name="mp-Ti-O", source="mp", query={"chemsys": "Ti-O"}, records=records, client={"mp-api": "x"},
                endpoint={"mp": "http://127.0.0.1/"}, fetched_at=f"2026-01-0{1 if version == 'A' else 2}T00:00:00")


def save(kind: str, version: str, folder: Path) -> None:
    """Save ``version`` of ``kind`` the way the product does (``ALCORE_CACHE_DIR`` decides the cache folders)."""
    if kind == "run":
        from alcore.runs import save_run

        save_run(_run(version), folder / "run.json")
    elif kind == "comparison":
        from alcore.comparison.cache import save_results

        save_results(comparison_request(), _comparison(version), 12.5 if version == "A" else 99.0)
    elif kind in ("sweep", "summary"):
        from alcore.sweep.store import SweepStore

        store = SweepStore(folder / "sweep")
        if kind == "sweep":
            store.save(sweep_config(), sweep_result(version), dataset_fingerprint="s" * 16, seconds=1.0)
        else:
            other = sweep_config().replace(seed=4)
            store.save(other, run_result(version, "uncertainty", 4), dataset_fingerprint="s" * 16, seconds=1.0)
            store.write_summary([sweep_config(), other])
    elif kind == "embedding":
        from alcore.embeddings import save_embedding

        save_embedding(folder / "map.npz", embedding(version), **EMBEDDING_KEY)
    elif kind == "pool":
        from alcore.datasets.fetched.cache import save_pool

        save_pool(pool(version))
    else:
        raise ValueError(f"unknown kind {kind!r}")


# ---- the child: pause at one point of the save ----------------------------------------------------------------------


def _pause() -> None:
    sys.stdout.write(f"paused {os.getpid()}\n")
    sys.stdout.flush()
    while True:  # until SIGKILL
        time.sleep(60)


def _install(event: str, occurrence: int) -> None:
    """Wrap the calls of ``alcore.atomic`` so the ``occurrence``-th ``event`` pauses this (child) process."""
    seen = {name: 0 for name in EVENTS}

    def hit(name: str) -> bool:
        seen[name] += 1
        return name == event and seen[name] == occurrence

    def wrap(owner: Any, attribute: str, make: Callable[[Callable], Callable]) -> None:
        setattr(owner, attribute, make(getattr(owner, attribute)))

    def mkstemp(original):
        def wrapper(*args, **kwargs):
            result = original(*args, **kwargs)
            if hit("mkstemp"):
                _pause()
            return result
        return wrapper

    def write_bytes(original):
        def wrapper(self, data):
            if hit("half"):
                with open(self, "wb") as fh:
                    fh.write(data[: len(data) // 2])
                    fh.flush()
                    os.fsync(fh.fileno())
                _pause()
            return original(self, data)
        return wrapper

    def savez(original):
        def wrapper(fh, **arrays):
            if hit("half"):
                buffer = io.BytesIO()
                original(buffer, **arrays)
                fh.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
                fh.flush()
                os.fsync(fh.fileno())
                _pause()
            return original(fh, **arrays)
        return wrapper

    def fsync(original):
        def wrapper(fd):
            if stat.S_ISREG(os.fstat(fd).st_mode) and hit("fsync"):  # files only, not the folder fsync
                _pause()
            return original(fd)
        return wrapper

    def replace(original):
        def wrapper(src, dst, **kwargs):
            if hit("replace"):
                _pause()
            original(src, dst, **kwargs)
            if hit("replaced"):
                _pause()
        return wrapper

    def unlink(original):
        def wrapper(self, *args, **kwargs):
            if str(self).endswith(".npz") and not self.name.startswith(".") and hit("unlink"):
                _pause()
            return original(self, *args, **kwargs)
        return wrapper

    wrap(tempfile, "mkstemp", mkstemp)
    wrap(pathlib.Path, "write_bytes", write_bytes)
    wrap(np, "savez_compressed", savez)
    wrap(os, "fsync", fsync)
    wrap(os, "replace", replace)
    wrap(pathlib.Path, "unlink", unlink)


def serve() -> None:
    for name in ("alcore.runs", "alcore.comparison", "alcore.sweep.store", "alcore.embeddings", "alcore.fetch"):
        __import__(name)  # once, before forking: children start at once
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        kind, point, folder = line.split()
        event, occurrence = point.split("#")
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the loop
            try:
                _install(event, int(occurrence))
                save(kind, "B", Path(folder))
            finally:
                sys.stdout.flush()
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            sys.stdout.write(f"killed {os.WTERMSIG(status)}\n")
        else:
            sys.stdout.write("finished\n")
        sys.stdout.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    serve()
