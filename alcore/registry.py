"""One small registry type shared by every plug-in family (sources, importers, descriptors, strategies...).

Each entry carries a :class:`PluginSpec`: what the CLI, the app and the docs need to show it (display name, summary,
colour, citation, texts) and its typed options. Option names, defaults and types are read from the plug-in's own
signature (keyword-only parameters of a function, ``__init__`` keywords of a class), so they cannot drift from the
code; bounds, choices and help are declared at registration with :class:`Option`.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, Literal, Mapping, TypeVar

T = TypeVar("T")
NOT_OPTIONS = frozenset({"self", "random_state"})  # constructor arguments that are not user-facing options


class UnknownOption(TypeError, ValueError):
    """An option name the plug-in does not have: a TypeError like Python's unexpected keyword, and a ValueError
    (a user error) for the CLI and the app."""


def is_none_text(text: str) -> bool:
    """How "no value" is written on the command line and in a URL: nothing, or "none"."""
    return text.strip().lower() in ("", "none")


def parse_flag(text: str, where: str = "") -> bool:
    """A boolean from command-line or URL text: true/false/1/0, anything else is an error (prefixed by ``where``)."""
    if text.lower() not in ("true", "false", "1", "0"):
        raise ValueError(f"{where}expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


@dataclass(frozen=True)
class Option:
    """What a signature cannot say about an option: bounds (inclusive), choices, help, a widget label.
    Also usable inside ``typing.Annotated[float, Option(low=0, high=1)]``."""

    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    help: str = ""
    label: str = ""


@dataclass(frozen=True)
class OptionSpec:
    """One typed option: ``kind`` is int, float, str, bool (or another type, e.g. tuple, shown but not validated);
    ``optional`` means None is allowed (it then means "the plug-in's own rule", e.g. k = batch size)."""

    name: str
    kind: type
    default: Any
    optional: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    help: str = ""
    label: str = ""

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return (self.low, self.high)

    def check(self, value: Any) -> Any:
        """``value`` converted to ``kind`` after checking type, bounds and choices; raises ValueError naming the
        option."""
        if value is None:
            if self.optional:
                return None
            raise ValueError(f"option {self.name} must be a {self.kind.__name__}, not None")
        if self.kind in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"option {self.name} must be a number, got {value!r}")
        if self.kind is int and float(value) != int(value):
            raise ValueError(f"option {self.name} must be an integer, got {value!r}")
        if self.kind in (int, float, str, bool):
            if self.kind in (str, bool) and not isinstance(value, self.kind):
                raise ValueError(f"option {self.name} must be a {self.kind.__name__}, got {value!r}")
            value = self.kind(value)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"option {self.name} must be one of {list(self.choices)}, got {value!r}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(f"option {self.name} must be in [{self.low}, {self.high}], got {value!r}")
        return value

    def parse(self, text: str) -> Any:
        """The value for command-line or URL text ("none" or "" for an optional option)."""
        if self.optional and is_none_text(text):
            return None
        if self.kind is bool:
            return parse_flag(text, f"option {self.name}: ")
        try:
            value = self.kind(text) if self.kind in (int, float, str) else text
        except ValueError:
            raise ValueError(f"option {self.name}: expected a {self.kind.__name__}, got {text!r}") from None
        return self.check(value)

    def example(self) -> Any:
        """A valid value other than the default (for tests and docs that must show an option has an effect)."""
        if self.choices is not None:
            return next(c for c in reversed(self.choices) if c != self.default)
        if self.kind is bool:
            return not self.default
        if self.kind in (int, float):
            low = self.low if self.low is not None else 0
            high = self.high if self.high is not None else low + 10
            value = self.kind(low + (high - low) * 0.3) if self.kind is float else int(low) + 2
            return value if value != self.default else self.kind(high)
        return self.default

    def describe(self) -> str:
        """``alpha: float = 0.5 in [0, 1]`` (plain text, for listings)."""
        text = f"{self.name}: {self.kind.__name__}{' or None' if self.optional else ''} = {self.default!r}"
        if self.choices is not None:
            text += f" (one of {', '.join(map(str, self.choices))})"
        elif self.low is not None or self.high is not None:
            text += f" in [{_num(self.low, '-inf')}, {_num(self.high, 'inf')}]"
        return text + (f"; {self.help}" if self.help else "")


@dataclass(frozen=True)
class PluginSpec:
    """Everything shown about one registry entry. ``rule``: one sentence on how it decides (why-selected text);
    ``lesson``: a paragraph for a teaching page (markdown allowed)."""

    name: str
    display_name: str
    summary: str
    options: tuple[OptionSpec, ...] = ()
    colour: str | None = None
    citation: str = ""
    rule: str = ""
    lesson: str = ""

    def option(self, name: str) -> OptionSpec:
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(f"{self.name} has no option {name!r}; options: {[o.name for o in self.options]}")

    def option_names(self) -> list[str]:
        return [o.name for o in self.options]

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def check_options(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` checked against the options (unknown names are an error, with the known ones)."""
        unknown = sorted(set(params) - set(self.option_names()))
        if unknown:
            raise UnknownOption(f"{self.name} has no option(s) {unknown}; options: {self.option_names() or 'none'}")
        return {k: self.option(k).check(v) for k, v in params.items()}


def plain_text(text: str) -> str:
    """Markdown / reST markup removed (``**bold**``, ````code````, `` `x` ``): for terminals."""
    return re.sub(r"\*\*|``|`|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)", "", text)


def spec_from(obj: Any, name: str, options: Mapping[str, Option] | None = None, **fields: Any) -> PluginSpec:
    """A spec for ``obj`` (a function or a class): options from its signature, summary from its docstring's first
    sentence unless given. Declared ``options`` must name real parameters."""
    declared = dict(options or {})
    found = _signature_options(obj, declared)
    missing = sorted(set(declared) - {o.name for o in found})
    if missing:
        raise ValueError(f"{name}: options {missing} are declared but are not keyword parameters of {obj!r}")
    doc = (inspect.getdoc(obj) or "").strip()
    summary = fields.pop("summary", None) or (doc.split("\n\n")[0].replace("\n", " ") if doc else name)
    display = fields.pop("display_name", None) or name
    return PluginSpec(name=name, display_name=display, summary=summary, options=tuple(found), **fields)


def _signature_options(obj: Any, declared: Mapping[str, Option]) -> list[OptionSpec]:
    is_class = inspect.isclass(obj)
    target = obj.__init__ if is_class else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # not a callable (e.g. a benchmark's module name): no options
        return []
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        hints = {}
    wanted = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY) if is_class else (
        inspect.Parameter.KEYWORD_ONLY,)
    specs = []
    for p in signature.parameters.values():
        if p.kind not in wanted or p.name in NOT_OPTIONS or p.default is inspect.Parameter.empty:
            continue
        kind, optional, extra = _kind_of(hints.get(p.name), p.default)
        extra = declared.get(p.name) or extra or Option()
        choices = extra.choices if extra.choices is not None else _literal_choices(hints.get(p.name))
        spec = OptionSpec(p.name, kind, p.default, optional, extra.low, extra.high,
                          tuple(choices) if choices is not None else None, extra.help, extra.label)
        limited = spec.choices is not None or spec.low is not None or spec.high is not None
        if kind in (int, float, str, bool) and limited:
            spec.check(p.default)  # a default outside its own bounds fails at import, not in a user's run
        specs.append(spec)
    return specs


def _kind_of(hint: Any, default: Any) -> tuple[type, bool, Option | None]:
    """(type, None allowed, an ``Annotated`` Option) from an annotation such as ``Annotated[int | None, Option()]``."""
    extra = None
    if typing.get_origin(hint) is typing.Annotated:
        hint, *metadata = typing.get_args(hint)
        extra = next((m for m in metadata if isinstance(m, Option)), None)
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0] if len(args) == 1 else None
    if typing.get_origin(hint) is Literal:
        hint = type(typing.get_args(hint)[0])
    elif typing.get_origin(hint) is not None:
        hint = typing.get_origin(hint)
    if not isinstance(hint, type):
        hint = type(default) if default is not None else str
    return hint, optional or default is None, extra


def _literal_choices(hint: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next((a for a in typing.get_args(hint) if typing.get_origin(a) is Literal), None)
    return typing.get_args(hint) if typing.get_origin(hint) is Literal else None


def _shape(o: OptionSpec) -> tuple:
    return (o.kind, o.default, o.optional, o.low, o.high, o.choices)


def _num(value: float | None, missing: str) -> str:
    return missing if value is None else f"{value:g}"


class Registry(Generic[T]):
    """A name -> plug-in table with a spec per entry. Registration order is kept (the CLI and the app list entries
    in that order)."""

    def __init__(self, family: str) -> None:
        self.family = family
        self._items: dict[str, T] = {}
        self._specs: dict[str, PluginSpec] = {}

    def register(self, name: str, *, options: Mapping[str, Option] | None = None, **fields: Any) -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("name", display_name=..., options={"alpha": Option(low=0, high=1)})``.
        Other keywords are :class:`PluginSpec` fields. Re-registering a name is an error, not a silent override."""

        def decorate(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.family} {name!r} is already registered")
            self._specs[name] = spec_from(obj, name, options, **fields)
            self._items[name] = obj
            return obj

        return decorate

    def add(self, name: str, obj: T, **fields: Any) -> T:
        return self.register(name, **fields)(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise KeyError(f"unknown {self.family} {name!r}; known: {known}") from None

    def spec(self, name: str) -> PluginSpec:
        self.get(name)  # the same error for an unknown name
        return self._specs[name]

    def specs(self) -> list[PluginSpec]:
        return list(self._specs.values())

    def names(self) -> list[str]:
        return list(self._items)

    def option_keys(self, prefix: str = "", reserved: Iterable[str] = ()) -> dict[tuple[str, str], str]:
        """``(entry, option) -> key`` for one flag or widget per option: ``prefix + option`` when every entry with
        that option name declares it alike (``k`` of two strategies: one flag), else ``prefix + entry_option``
        (also when ``prefix + option`` is in ``reserved``, a key the caller uses for something else)."""
        reserved = set(reserved)
        by_name: dict[str, list[tuple[str, OptionSpec]]] = {}
        for spec in self._specs.values():
            for o in spec.options:
                by_name.setdefault(o.name, []).append((spec.name, o))
        keys = {}
        for name, entries in by_name.items():
            shared = len({_shape(o) for _, o in entries}) == 1 and prefix + name not in reserved
            for entry, _ in entries:
                keys[(entry, name)] = prefix + (name if shared else f"{entry}_{name}")
        return keys

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


__all__ = ["Option", "OptionSpec", "PluginSpec", "Registry", "UnknownOption", "plain_text", "spec_from"]
