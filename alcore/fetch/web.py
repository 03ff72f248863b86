"""Small helpers shared by the two database clients: URL checks, versions, and keeping secrets out of messages."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

import alcore


def normalise_url(url: str | None, default: str, what: str) -> str:
    """``url`` (or ``default`` when empty) as an http(s) URL ending in ``/``; anything else is a ``ValueError``."""
    text = (url or "").strip() or default
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} {text!r}: expected an http(s) URL such as {default}")
    if parts.username or parts.password:
        raise ValueError(f"{what}: the URL must not contain a user name or password")
    return text if text.endswith("/") else text + "/"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def user_agent() -> str:
    return f"alcore/{alcore.__version__} (+requests/{package_version('requests')})"


def scrub(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` replaced: messages may quote a server's answer, and must never carry the key."""
    return text.replace(secret, "***") if secret else text


def http_status(text: str) -> int | None:
    """The HTTP status a client's error message reports (``status code 401``, ``too many 429 error responses``)."""
    match = re.search(r"too many (\d{3}) error responses", text) or re.search(r"status code (\d{3})", text)
    return int(match.group(1)) if match else None


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def connection_problem(text: str) -> str:
    """The useful part of a connection error (``[Errno 111] Connection refused`` -> ``connection refused``)."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if match:
        return match.group(1).strip().rstrip(".").lower()
    return one_line(text, 160)
