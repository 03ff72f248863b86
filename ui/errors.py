"""Errors reach users as a message, never a traceback."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

try:  # the rerun signal must pass through untouched
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
except ImportError:  # pragma: no cover - older layouts
    RerunException = StopException


MARKDOWN_SPECIALS = set("\\`*_[]<>$~|#:")


def plain(text: str) -> str:
    """``text`` shown literally by ``st.error``/``st.success``, which render Markdown: file names and messages carry
    the user's own text (``$x$`` would render as math, ``:red[x]`` in colour, ``[a](b)`` as a link)."""
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in text)


@contextmanager
def user_errors(what: str) -> Iterator[None]:
    """Show ``what`` failed and why (the exception's message) instead of a traceback; Streamlit's own control-flow
    exceptions (rerun, stop) pass through."""
    try:
        yield
    except (StopException, RerunException):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure becomes a message for the user
        st.error(f"{what} failed: {plain(str(exc))}")
