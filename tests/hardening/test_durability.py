"""Durability: a process SIGKILLed in the middle of saving never costs the previous file, and resuming gives exactly
the continuation.

1. ``killer.py`` (a subprocess) saves version B over version A of a saved run, a comparison-cache entry, a
   sweep-store entry, a sweep summary, an embedding and a fetched pool, and pauses at a chosen point of the save
   (temporary file created, half written, written, fsynced, renamed, old arrays being removed); the test SIGKILLs it
   there. Each point is reached deterministically (see killer.py). After every kill the product's own loaders must
   return exactly A (or exactly B once B's rename happened), a stray temporary file must be hidden and ignored, and
   the next save must remove it.
2. A run saved after k rounds and continued by ``python -m alcore resume`` in a fresh process is bit-identical to
   the uninterrupted run; a sweep SIGKILLed while saving a run and started again ends with the same store.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from alcore.cli import main
from alcore.comparison.cache import load_results
from alcore.datasets import write_extxyz
from alcore.datasets.fetched.cache import cached_pools, find_cached
from alcore.embeddings import read_matching
from alcore.runs import load_run
from alcore.sweep import SweepStore, load_grid, run_sweep, serial_executor
from tests.hardening import killer
from tests.hardening.project_files import REPO, audit_project
from tests.synthetic import small_si_c_dataset

ATOMIC = ("mkstemp#1", "half#1", "fsync#1", "replace#1", "replaced#1")
KILL_POINTS = {
    # save_run: the arrays file (#1), then the JSON naming it (#2), then the previous arrays file is removed
    "run": [*ATOMIC, "mkstemp#2", "half#2", "fsync#2", "replace#2", "replaced#2", "unlink#1"],
    "comparison": list(ATOMIC),
    "sweep": list(ATOMIC),
    "summary": ["half#2", "replace#2"],  # the second write of the call is summary.csv (the first: a run file)
    "embedding": list(ATOMIC),
    "pool": ["half#1", "replace#1", "replaced#1"],
}
# Points at which version B is complete (renamed into place): the loaders must then return B, before them A.
NEW_VERSION_COMPLETE = {"run": {"replaced#2", "unlink#1"}, "comparison": {"replaced#1"}, "sweep": {"replaced#1"},
                        "summary": set(), "embedding": {"replaced#1"}, "pool": {"replaced#1"}}  # fmt: skip


# ---- what each kind looks like when loaded by the product -------------------------------------------------------


def _same_run_results(a, b) -> None:
    assert (a.strategy, a.seed) == (b.strategy, b.seed)
    for name in ("n_labels", "mae", "rmse", "spearman", "mean_pool_std"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert len(a.selected) == len(b.selected) and all(map(np.array_equal, a.selected, b.selected))


def _check_loads(kind: str, version: str, folder: Path, cache: Path) -> None:
    """The product's loader returns exactly ``version``."""
    if kind == "run":
        saved, expected = load_run(folder / "run.json"), killer._run(version)
        assert saved.config == expected.config
        assert all(a.same_results(b) for a, b in zip(saved.rounds, expected.rounds, strict=True))
    elif kind == "comparison":
        outcome = load_results(killer.comparison_request())
        assert outcome is not None, "the comparison cache entry was lost"
        for got, want in zip(outcome.results, killer._comparison(version), strict=True):
            _same_run_results(got, want)
    elif kind == "sweep":
        result = SweepStore(folder / "sweep").load(killer.sweep_config())
        assert result is not None, "the sweep run file was lost"
        _same_run_results(result, killer.sweep_result(version))
    elif kind == "summary":
        assert (folder / "sweep" / "summary.csv").read_text() == (folder / f"summary-{version}.csv").read_text()
    elif kind == "embedding":
        key = killer.EMBEDDING_KEY
        found = read_matching(folder / "map.npz", key["fingerprint"], key["phash"], 10_000)
        assert found is not None, "the embedding was lost"
        np.testing.assert_array_equal(found, killer.embedding(version))
    elif kind == "pool":
        assert find_cached("mp-Ti-O") == killer.pool(version)
        assert [p.name for p in cached_pools()] == ["mp-Ti-O"]  # a stray temporary file is never listed


def _half_written_file_is_refused(kind: str, folder: Path, cache: Path, half: bytes) -> None:
    """What a writer without ``alcore.atomic`` would have left: the half-written bytes under the real name. The
    loaders must refuse it (error or cache miss), never return something made of it; the next save repairs it."""
    if kind == "run":
        doc = json.loads((folder / "run.json").read_text())
        target = folder / ("run.json" if half.lstrip().startswith(b"{") else doc["arrays"]["file"])
        target.write_bytes(half)
        with pytest.raises(ValueError, match="run"):
            load_run(folder / "run.json")
    elif kind == "comparison":
        (cache / "comparisons" / f"{killer.comparison_request().key()}.json").write_bytes(half)
        assert load_results(killer.comparison_request()) is None
    elif kind == "sweep":
        store = SweepStore(folder / "sweep")
        store.path_for(killer.sweep_config()).write_bytes(half)
        assert store.load(killer.sweep_config()) is None
    elif kind == "embedding":
        (folder / "map.npz").write_bytes(half)
        key = killer.EMBEDDING_KEY
        assert read_matching(folder / "map.npz", key["fingerprint"], key["phash"], 10_000) is None
    elif kind == "pool":
        (cache / "fetch" / "mp-Ti-O.json").write_bytes(half)
        assert find_cached("mp-Ti-O") is None and cached_pools() == []


def _folders(kind: str, folder: Path, cache: Path) -> list[Path]:
    return {
        "run": [folder],
        "comparison": [cache / "comparisons"],
        "sweep": [folder / "sweep" / "runs"],
        "summary": [folder / "sweep", folder / "sweep" / "runs"],
        "embedding": [folder],
        "pool": [cache / "fetch"],
    }[kind]


def _temps(folders: list[Path]) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if p.name.endswith(".tmp")]


class Killer:
    """The killer.py server and its line protocol (a reader thread, so no read can hang the test)."""

    def __init__(self, cache: Path) -> None:
        env = {**os.environ, "ALCORE_CACHE_DIR": str(cache)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.hardening.killer"], cwd=REPO, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1)  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next() == "ready"

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def next(self, timeout: float = 60) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"killer.py said nothing for {timeout} s (exit code {self.proc.poll()})") from None

    def kill_at(self, kind: str, point: str, folder: Path) -> None:
        self.proc.stdin.write(f"{kind} {point} {folder}\n")
        self.proc.stdin.flush()
        answer = self.next()
        assert answer.startswith("paused "), f"{kind} {point}: the save never reached the kill point ({answer})"
        os.kill(int(answer.split()[1]), signal.SIGKILL)
        assert self.next() == f"killed {int(signal.SIGKILL)}"

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def test_sigkill_at_every_step_of_a_save_keeps_the_previous_file(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ALCORE_CACHE_DIR", str(cache))
    server = Killer(cache)
    kills = 0
    try:
        for kind, points in KILL_POINTS.items():
            folder = tmp_path / kind
            folder.mkdir()
            if kind == "summary":  # what summary.csv holds after A, and after B, were saved in full
                for version in ("B", "A"):
                    killer.save(kind, version, folder)
                    (folder / f"summary-{version}.csv").write_bytes((folder / "sweep" / "summary.csv").read_bytes())
            for point in points:
                killer.save(kind, "A", folder)  # the good file (this also removes the killed writer's temp file)
                assert _temps(_folders(kind, folder, cache)) == [], f"{kind}: a dead writer's temp file was kept"
                _check_loads(kind, "A", folder, cache)

                server.kill_at(kind, point, folder)
                kills += 1

                _check_loads(kind, "B" if point in NEW_VERSION_COMPLETE[kind] else "A", folder, cache)
                strays = _temps(_folders(kind, folder, cache))
                if point.split("#")[0] in ("mkstemp", "half", "fsync", "replace"):
                    assert len(strays) == 1, f"{kind} {point}: the kill did not land inside the write ({strays})"
                    assert strays[0].name.startswith("."), "a temporary file must be hidden"
                else:
                    assert strays == []
                if point.startswith("half") and kind != "summary":
                    _half_written_file_is_refused(kind, folder, cache, strays[0].read_bytes())
            killer.save(kind, "A", folder)
            assert _temps(_folders(kind, folder, cache)) == []
    finally:
        server.close()
    assert kills == sum(map(len, KILL_POINTS.values())) >= 20
    print(f"\n{kills} kill points, previous file intact at every one")


def test_saving_a_run_never_removes_another_runs_arrays(tmp_path):
    """``run.json``'s old-arrays cleanup once matched ``run.*.npz``, which deleted ``run.v2.json``'s arrays."""
    from alcore.runs import save_run

    save_run(killer._run("A"), tmp_path / "run.v2.json")
    save_run(killer._run("A"), tmp_path / "run.json")
    save_run(killer._run("B"), tmp_path / "run.json")  # replaces run.json's arrays, and only those
    assert len(load_run(tmp_path / "run.v2.json").rounds) == 3 and len(load_run(tmp_path / "run.json").rounds) == 4
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_stray_temp_files_are_removed_only_when_their_writer_is_gone(tmp_path):
    from alcore.atomic import _host_tag, remove_stale_temps, write_json

    host = _host_tag()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    other_host = "0" * 8 if host != "0" * 8 else "1" * 8
    names = {
        "dead": f".run.json.{host}-{dead.pid}.abc123.tmp",
        "dead npz": f".run.0123456789abcdef0123.npz.{host}-{dead.pid}.x_9.npz.tmp",
        "alive": f".run.json.{host}-{alive.pid}.abc123.tmp",
        "this process": f".run.json.{host}-{os.getpid()}.abc123.tmp",
        "other host, old": f".run.json.{other_host}-1.abc123.tmp",
        "other host, recent": f".run.json.{other_host}-2.abc123.tmp",
        "not ours": ".run.json.tmp",
        "a user's file": "notes.tmp",
    }
    try:
        for name in names.values():
            (tmp_path / name).write_text("partial")
        old = (tmp_path / names["other host, old"]).stat().st_mtime - 2 * 24 * 3600
        os.utime(tmp_path / names["other host, old"], (old, old))
        write_json(tmp_path / "other.json", {"a": 1})  # any write into the folder cleans up
        left = {label for label, name in names.items() if (tmp_path / name).exists()}
    finally:
        alive.kill()
        alive.wait()
    assert left == {"alive", "this process", "other host, recent", "not ours", "a user's file"}
    assert remove_stale_temps(tmp_path / "no such folder") == []


# ---- every write goes through alcore.atomic (an AST audit of the code) -------------------------------------------

WRITE_CALLS = {"numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt", "json.dump", "pickle.dump",
               "os.rename", "os.replace", "os.link", "os.symlink", "shutil.copy", "shutil.copy2", "shutil.copyfile",
               "shutil.copytree", "shutil.move", "ase.io.write", "gzip.open"}  # fmt: skip
WRITE_METHODS = {"write_text", "write_bytes", "savefig", "to_parquet", "to_pickle", "to_hdf", "touch", "symlink_to",
                 "hardlink_to"}  # fmt: skip (not ``save``: too many unrelated methods, e.g. SweepStore.save)
# (file, what) -> why the write is not a durability risk. A stale entry fails the test, so the list stays exact.
NOT_DURABLE = {
    ("alcore/atomic.py", "*"): "the atomic writer itself: temporary file, fsync, os.replace, folder fsync",
    ("alcore/datasets/importers/extxyz.py", "ase.io.write"): "into atomic_path's temporary file (write_extxyz)",
    ("alcore/bench/paper_report.py", "to_csv"): "into atomic_path's temporary file",
    ("alcore/bench/paper_report.py", "savefig"): "into atomic_path's temporary file",
    ("alcore/datasets/upload.py", "open"): "a scratch copy of an upload in a private mkdtemp folder, then deleted",
    ("benchmarks/bench_select.py", "write_text"): "/proc/self/clear_refs: a kernel control file, not data",
    ("benchmarks/bench_app.py", "write_text"): "/proc/sys/vm/drop_caches: a kernel control file, not data",
}


def _write_sites(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            aliases |= {a.asname or a.name: f"{node.module}.{a.name}" for a in node.names}

    def dotted(node):
        if isinstance(node, ast.Name):
            return aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = dotted(node.value)
            return base and f"{base}.{node.attr}"
        return None

    sites = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = dotted(node.func) or ""
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if target == "open" or target.endswith(".open") and target != "gzip.open":
            modes = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "mode")]
            mode = modes[0] if modes else None
            text = mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else "r"
            if set(text) & set("wax+"):
                sites.append((node.lineno, "open"))
        elif target in WRITE_CALLS:
            if target != "gzip.open" or any(isinstance(a, ast.Constant) and "w" in str(a.value) for a in node.args[1:]):
                sites.append((node.lineno, target))
        elif method in WRITE_METHODS:
            sites.append((node.lineno, method))
        elif method in ("to_csv", "to_json", "to_excel") and (node.args or any(
                k.arg in ("path_or_buf", "excel_writer") for k in node.keywords)):  # fmt: skip
            sites.append((node.lineno, method))  # with no path they return text
    return sites


def test_every_file_write_goes_through_alcore_atomic():
    def writes(relative: str, source: str):
        for line, what in _write_sites(source):
            yield line, (relative, "*") if (relative, "*") in NOT_DURABLE else (relative, what), what

    raw, unused, n_files = audit_project(writes, NOT_DURABLE)
    assert raw == [], "files written without alcore.atomic:\n" + "\n".join(raw)
    assert not unused, f"allow-list entries no longer needed: {unused}"
    assert n_files > 100
    print(f"\naudited {n_files} files: every durable write goes through alcore.atomic")


def test_the_write_audit_finds_raw_writes():
    source = """
import json, numpy as np, shutil
from pathlib import Path
open(p, "w").write(x)
open(p, mode="ab")
Path(p).write_text(t)
np.save(p, a)
json.dump(doc, fh)
frame.to_csv(p, index=False)
shutil.move(a, b)
fig.savefig(p)
"""
    found = [what for _, what in _write_sites(source)]
    assert found.count("open") == 2
    assert {"write_text", "numpy.save", "json.dump", "to_csv", "shutil.move", "savefig"} <= set(found)
    assert _write_sites("open(p).read()\nopen(p, 'rb')\nframe.to_csv(index=False)\njson.dumps(x)") == []


# ---- resume: a saved run and a killed sweep -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_extxyz(tmp_path_factory) -> Path:
    return write_extxyz(small_si_c_dataset(), tmp_path_factory.mktemp("durability") / "small.extxyz")


RUN_ARGS = ["--descriptor", "rdf", "--initial", "10", "--batch", "5", "--budget", "25", "--members", "2",
            "--epochs", "10", "--hidden", "16", "--strategy", "hybrid", "--alpha", "0.4", "-q"]  # fmt: skip


@pytest.fixture
def one_thread():
    """One OpenMP thread here and in the subprocess: tiny fits run faster on a busy machine, and both processes use
    the same thread count (which is all that bit-identity across processes needs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield {**os.environ, "OMP_NUM_THREADS": "1"}


def test_a_run_resumed_in_a_fresh_process_is_the_uninterrupted_run(small_extxyz, tmp_path, capsys, one_thread):
    part, full = tmp_path / "part.json", tmp_path / "full.json"
    assert main(["run", "--dataset", str(small_extxyz), *RUN_ARGS, "--rounds", "2", "--save", str(part)]) == 0
    assert main(["run", "--dataset", str(small_extxyz), *RUN_ARGS, "--save", str(full)]) == 0
    capsys.readouterr()
    assert len(load_run(part).rounds) == 2
    resumed = subprocess.run([sys.executable, "-m", "alcore", "resume", str(part), "-q"], cwd=REPO, env=one_thread,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after round 1: 2 more rounds, 4 in all" in resumed.stdout
    continued, uninterrupted = load_run(part), load_run(full)
    assert [r.n_labels for r in continued.rounds] == [10, 15, 20, 25]
    for a, b in zip(continued.rounds, uninterrupted.rounds, strict=True):
        assert a.same_results(b)  # selected indices, predictions, curves: bit-identical (wall times aside)
    np.testing.assert_array_equal(continued.curve()[1], uninterrupted.curve()[1])
    assert main(["resume", str(part), "-q"]) == 0  # a finished run stays as it is
    assert "already finished" in capsys.readouterr().out
    assert all(a.same_results(b) for a, b in zip(load_run(part).rounds, uninterrupted.rounds, strict=True))


SWEEP = """
[sweep]
datasets = ["{dataset}"]
descriptors = ["rdf"]
strategies = ["random", "diversity"]
seeds = 2
n_members = [2]
batch_sizes = [5]

[base]
n_initial = 10
budget = 20
committee_params = {{ epochs = 20, hidden = [16] }}
"""

# In the sweep's own process: pause just before the second finished run's file is renamed into place.
PAUSE_IN_SECOND_RUN_SAVE = """
import os, sys, time
real_replace, count = os.replace, [0]
def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.path.dirname(dst)) == "runs":
        count[0] += 1
        if count[0] == 2:
            print("paused", flush=True)
            while True:
                time.sleep(60)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
from alcore.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_sweep_killed_while_saving_resumes_to_the_uninterrupted_store(small_extxyz, tmp_path, one_thread):
    sweep_file = tmp_path / "grid.toml"
    sweep_file.write_text(SWEEP.format(dataset=small_extxyz))
    grid = load_grid(sweep_file)
    reference = SweepStore(tmp_path / "reference")
    assert run_sweep(grid.runs, reference, serial_executor, stream=None).complete

    out = tmp_path / "killed"
    argv = ["sweep", str(sweep_file), "--out", str(out), "--serial", "-q"]
    proc = subprocess.Popen([sys.executable, "-c", PAUSE_IN_SECOND_RUN_SAVE, *argv], cwd=REPO, env=one_thread,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.strip() == "paused", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    runs = out / "runs"
    assert len(list(runs.glob("*.json"))) == 1 and len(_temps([runs])) == 1  # one run saved, one killed mid-save
    assert not (out / "summary.csv").exists()

    assert main(argv) == 0
    assert _temps([runs]) == []  # the killed save's temporary file was removed by the next save of that run
    store = SweepStore(out)
    for config in grid.runs:
        _same_run_results(store.load(config), reference.load(config))
    assert (out / "summary.csv").read_text() == (reference.out / "summary.csv").read_text()
    assert (out / "curves.csv").read_text() == (reference.out / "curves.csv").read_text()
