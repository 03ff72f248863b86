"""Bad input through every importer: several hundred corrupted variants of real and generated dataset files.

Each variant (``tests/hardening/corrupt.py``) goes through its own importer with the format forced (and through the
parsed-dataset cache), through format detection, and, when it is small, through every other importer as well. A broken
file must end in a ``DatasetError`` whose message names the file and the problem in words (no Python class names, no
escaped bytes, no traceback), nothing may be left in the cache, and memory must stay bounded for the worst of them.
A variant that is still a valid dataset (UTF-8 with a byte-order mark, UTF-16 with one, CRLF line ends, missing forces,
a left-handed cell, links beside real files, ...) must load and hold what it should.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from alcore.datasets import IMPORTERS, DatasetError, load_file
from alcore.datasets.parsed_cache import read_cached
from alcore.paths import cache_dir
from tests.hardening.corrupt import REAL_CASES, Case, real_cases, synthetic_cases

CASES = synthetic_cases(seed=0)
SMALL = 64 * 1024
"""Variants up to this size also go through every other importer (the parsers of the wrong format must fail
cleanly too); larger ones only through their own, to keep the run short."""

NOISE = re.compile(
    r"Traceback|\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b|BadZipFile|\bb'|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}"
    r"| object at 0x|array\(|dtype=|int\(\) with base|could not convert string|codec can't|<[a-z_.]+>"
)
"""What must never reach a user: class names, reprs of bytes or objects, Python's own phrasing."""


def assert_clear(message: str, filename: str | Path, problem: str | None = None) -> None:
    """The message names the file (its whole path when given one), says the problem in words, and can be shown as
    is."""
    assert str(filename) in message, f"the file {str(filename)!r} is not in: {message}"
    assert not NOISE.search(message), f"Python noise in: {message}"
    assert len(message) < 800, f"{len(message)} characters: {message[:200]}…"
    message.encode("utf-8")  # no lone surrogates from undecodable names
    if problem is not None:
        assert re.search(problem, message, re.IGNORECASE), f"{problem!r} not in: {message}"


def cache_files() -> set[str]:
    root = cache_dir()
    return {str(Path(folder, name).relative_to(root)) for folder, _, names in os.walk(root) for name in names}


def write(case: Case, folder: Path) -> Path:
    path = folder / case.filename
    path.write_bytes(case.data)
    return path


def expect_outcome(case: Case, load, path: Path | None = None) -> None:
    """``load()`` gives what the case says: a checked dataset, or a clear ``DatasetError`` and no cache entry."""
    before = cache_files()
    if case.problem is None:
        case.check(load())
        return
    with pytest.raises(DatasetError) as caught:
        load()
    assert_clear(str(caught.value), path or case.filename, case.problem)
    assert cache_files() == before, "a failed read left something in the cache"


def test_there_are_hundreds_of_distinct_cases():
    ids = [c.id for c in CASES] + [r.id for r in REAL_CASES]
    assert len(ids) == len(set(ids)) >= 200
    assert {c.native for c in CASES} == set(IMPORTERS.names())  # every importer has its variants


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_own_importer_and_format_detection(case, tmp_path):
    path = write(case, tmp_path)
    expect_outcome(case, lambda: load_file(path, format=case.native), path)
    expect_outcome(case, lambda: load_file(path), path)
    if case.problem is not None and not case.big:  # the disk cache of named datasets keeps nothing of a failed read
        expect_outcome(case, lambda: read_cached(path, case.native, {}, IMPORTERS.get(case.native)), path)


@pytest.mark.parametrize("case", [c for c in CASES if not c.big], ids=[c.id for c in CASES if not c.big])
def test_every_other_importer_fails_cleanly(case, tmp_path):
    if len(case.data) > SMALL:
        pytest.skip("large variant: its own importer only")
    path = write(case, tmp_path)
    for name in IMPORTERS.names():
        if name == case.native:
            continue
        try:
            load_file(path, format=name)
        except DatasetError as exc:
            assert_clear(str(exc), path)


@pytest.mark.parametrize("real_id", [r.id for r in REAL_CASES])
def test_real_dataset_slices(real_id, shared_datasets, tmp_path):
    case = real_cases(shared_datasets)[real_id]
    path = write(case, tmp_path)
    expect_outcome(case, lambda: load_file(path, format=case.native), path)
    expect_outcome(case, lambda: load_file(path), path)
