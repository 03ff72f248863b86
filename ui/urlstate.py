"""Every setting in the URL: a teacher shares a link and it reopens the same setup.

A page declares its settings with ``Setting``s, calls ``restore(settings)`` *before* drawing the widgets (each widget is
created with ``key=setting.key`` and no ``value``/``index``), and ``publish(settings)`` *after* them. Values come from,
in order: the URL, what this session last chose on the page (Streamlit forgets the state of widgets that are not on
the current page, so we remember it), the default. A bad URL value is ignored with a warning, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import streamlit as st

from alcore.registry import is_none_text, parse_flag

REMEMBERED = "_remembered_settings"
IGNORED = "_ignored_url_values"  # setting key -> (warning, value used instead)


@dataclass(frozen=True)
class Setting:
    """One URL-backed widget value. ``options`` for choices (a list for multiselect when ``multi``), ``bounds`` for
    numbers; ``kind`` is one of str, int, float, bool. ``optional``: None is a value too (empty in the URL)."""

    key: str
    default: Any
    kind: type = str
    options: Sequence[Any] | None = None
    bounds: tuple[float, float] | None = None
    multi: bool = False
    optional: bool = False

    def parse(self, text: str | list[str]) -> Any:
        """The value for URL text; raises ValueError with a reason when it is not acceptable."""
        if self.multi:
            joined = ",".join(text) if isinstance(text, list) else text
            items = [t for t in joined.split(",") if t]
            return [self._one(t) for t in items]
        return self._one(text if isinstance(text, str) else text[-1])

    def _one(self, text: str) -> Any:
        if self.optional and is_none_text(text):
            return None
        if self.kind is bool:
            value: Any = parse_flag(text)
        else:
            value = self.kind(text)
        if self.options is not None and value not in self.options:
            raise ValueError(f"{text!r} is not one of {list(self.options)}")
        if self.bounds is not None and not self.bounds[0] <= value <= self.bounds[1]:
            raise ValueError(f"{text!r} is outside {self.bounds[0]}..{self.bounds[1]}")
        return value

    def format(self, value: Any) -> str:
        if self.multi:
            return ",".join(str(v) for v in value)
        if value is None and self.optional:
            return ""
        return str(value).lower() if self.kind is bool else str(value)

    def valid(self, value: Any) -> bool:
        try:
            self.parse(self.format(value))
        except (ValueError, TypeError):
            return False
        return True


def restore(settings: Sequence[Setting]) -> None:
    """Put each setting's value into ``st.session_state`` before its widget is drawn."""
    remembered = st.session_state.setdefault(REMEMBERED, {})
    ignored = st.session_state.setdefault(IGNORED, {})
    for s in settings:
        if s.key in st.session_state and s.valid(st.session_state[s.key]):
            note = ignored.get(s.key)
            if note is not None and note[1] == st.session_state[s.key]:
                st.warning(note[0])  # until the user picks another value, also across the page's own reruns
            else:
                ignored.pop(s.key, None)
            continue
        value = s.default
        if s.key in remembered and s.valid(remembered[s.key]):
            value = remembered[s.key]
        if s.key in st.query_params:
            raw = st.query_params.get_all(s.key) if s.multi else st.query_params[s.key]
            try:
                value = s.parse(raw)
            except (ValueError, TypeError) as exc:
                message = f"Ignored the link's value for **{s.key}**: {exc}. Using {s.format(value)!r}."
                ignored[s.key] = (message, value)
                st.warning(message)
        st.session_state[s.key] = value


def publish(settings: Sequence[Setting]) -> None:
    """Write the current values to the URL (defaults are left out to keep links short) and remember them."""
    remembered = st.session_state.setdefault(REMEMBERED, {})
    for s in settings:
        value = st.session_state.get(s.key, s.default)
        remembered[s.key] = value
        text = s.format(value)
        if value == s.default:
            if s.key in st.query_params:
                del st.query_params[s.key]
        elif st.query_params.get(s.key) != text:
            st.query_params[s.key] = text
