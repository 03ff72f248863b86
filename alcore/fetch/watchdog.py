"""Run a network fetch so that it gives up after ``idle_timeout`` seconds without an answer, whatever the client does.

``MPRester`` probes the server in its constructor with ``requests.get`` and no timeout, so a hanging network hangs the
constructor; no client option reaches that call. The only bound we can put on it from outside is to run the whole
fetch in a daemon thread and stop waiting: the caller gets a ``FetchError`` on time, the abandoned thread ends when its
socket does (it never writes anything: results are only used if it finishes in time). A subprocess could be killed
instead, but would pay the ~4 s ``mp_api`` import on every fetch and need the API key passed across.

The worker calls ``alive(message)`` whenever a server answered; the deadline counts from the last answer, so a large
fetch that keeps receiving pages is not cut off. ``message``s are handed to ``progress`` in the *calling* thread
(Streamlit elements can only be drawn from the script thread).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, TypeVar

from alcore.datasets.fetched.query import FetchError

T = TypeVar("T")
Progress = Callable[[str], None]
POLL_SECONDS = 0.2


class Watchdog:
    """Shared between the worker (``alive``) and the waiting caller (``idle_seconds``, ``messages``)."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self._messages: deque[str] = deque()

    def alive(self, message: str | None = None) -> None:
        self._last = time.monotonic()
        if message:
            self._messages.append(message)

    def idle_seconds(self) -> float:
        return time.monotonic() - self._last

    def drain(self, progress: Progress | None) -> None:
        while self._messages:
            message = self._messages.popleft()
            if progress is not None:
                progress(message)


def run_watched(
    work: Callable[[Watchdog], T],
    *,
    idle_timeout: float,
    unreachable: str,
    where: str,
    progress: Progress | None = None,
) -> T:
    """``work(watchdog)`` in a daemon thread: its result or exception, or ``FetchError("<unreachable>: no answer from
    <where> ...")`` once ``idle_timeout`` seconds pass without ``watchdog.alive()``."""
    if not idle_timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {idle_timeout!r}")
    watchdog = Watchdog()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work(watchdog)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread as is
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="alcore-fetch", daemon=True)
    thread.start()
    while True:
        thread.join(timeout=max(0.0, min(POLL_SECONDS, idle_timeout - watchdog.idle_seconds())))
        watchdog.drain(progress)
        if not thread.is_alive():
            break
        if watchdog.idle_seconds() >= idle_timeout:
            raise FetchError(
                f"{unreachable}: no answer from {where} within {idle_timeout:g} s (offline, or the server is down?)"
            )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
