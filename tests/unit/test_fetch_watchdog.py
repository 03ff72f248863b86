"""The fetch watchdog: results and errors come back, a silent worker is abandoned on time, answers extend the
deadline, and progress messages are delivered in the caller's thread."""

import threading
import time

import pytest

from alcore.datasets.fetched.query import FetchError
from alcore.fetch.watchdog import run_watched


def _run(work, idle_timeout=0.5, progress=None):
    return run_watched(work, idle_timeout=idle_timeout, unreachable="cannot reach X", where="http://x/",
                       progress=progress)  # fmt: skip


def test_result_and_exception_of_the_worker_are_returned_and_raised():
    assert _run(lambda dog: 42) == 42
    with pytest.raises(KeyError, match="boom"):
        _run(lambda dog: (_ for _ in ()).throw(KeyError("boom")))


def test_a_silent_worker_is_abandoned_at_the_deadline():
    release = threading.Event()
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"^cannot reach X: no answer from http://x/ within 0.4 s"):
        _run(lambda dog: release.wait(30), idle_timeout=0.4)
    elapsed = time.monotonic() - start
    release.set()
    assert 0.4 <= elapsed < 0.9


def test_answers_extend_the_deadline_and_reach_progress_in_the_calling_thread():
    seen = []

    def work(dog):
        for page in range(4):
            time.sleep(0.2)
            dog.alive(f"page {page}")
        return "done"

    caller = threading.get_ident()
    result = _run(work, idle_timeout=0.35, progress=lambda m: seen.append((m, threading.get_ident())))
    assert result == "done"  # 0.8 s in total, but never 0.35 s without an answer
    assert [m for m, _ in seen] == ["page 0", "page 1", "page 2", "page 3"]
    assert {thread for _, thread in seen} == {caller}


def test_the_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout"):
        _run(lambda dog: 1, idle_timeout=0)
