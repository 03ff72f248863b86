"""What to fetch (a chemical system plus the filters both databases understand) and the one error every fetch raises."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

DEFAULT_TIMEOUT = 10.0
"""Seconds without any answer from a server before a fetch gives up ("cannot reach ...")."""

MAX_ELEMENTS = 8


class FetchError(RuntimeError):
    """A fetch failed: server unreachable, key refused, rate limit, server error, unreadable answer or nothing found.

    The message is meant for the user as is (it never contains the API key).
    """


def parse_chemsys(text: str) -> tuple[str, ...]:
    """``"Ti-O"`` / ``"O-Ti"`` / ``"ti-o"`` -> ``("Ti", "O")``: element symbols in increasing electronegativity.

    One canonical order makes ``Ti-O`` and ``O-Ti`` the same query (and the same cache file), written the way
    chemists write formulas.
    """
    from pymatgen.core import Element

    if not isinstance(text, str) or not text.strip():
        raise ValueError("chemsys: give a chemical system such as 'Si' or 'Ti-O'")
    parts = [p.strip() for p in text.replace(",", "-").replace(" ", "-").split("-") if p.strip()]
    symbols = []
    for part in parts:
        symbol = part[:1].upper() + part[1:].lower()
        if not Element.is_valid_symbol(symbol):
            raise ValueError(f"chemsys {text!r}: {part!r} is not an element symbol")
        symbols.append(symbol)
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"chemsys {text!r}: an element is repeated")
    if len(symbols) > MAX_ELEMENTS:
        raise ValueError(f"chemsys {text!r}: at most {MAX_ELEMENTS} elements")

    def order(symbol: str) -> tuple[bool, float, str]:
        x = Element(symbol).data.get("X")  # Pauling electronegativity; absent for some noble gases
        return (x is None, x or 0.0, symbol)

    return tuple(sorted(symbols, key=order))


@dataclass(frozen=True)
class FetchQuery:
    """One query, the same for both databases: materials made of exactly the elements of ``chemsys``.

    ``max_e_above_hull`` (eV/atom) and ``max_sites`` are upper bounds (None = no bound); ``stable_only`` keeps the
    materials on the convex hull.
    """

    chemsys: str
    max_e_above_hull: float | None = None
    max_sites: int | None = None
    stable_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "chemsys", "-".join(parse_chemsys(self.chemsys)))
        if self.max_e_above_hull is not None:
            value = float(self.max_e_above_hull)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"max_e_above_hull must be a number >= 0 (eV/atom), got {self.max_e_above_hull!r}")
            object.__setattr__(self, "max_e_above_hull", value)
        if self.max_sites is not None:
            if isinstance(self.max_sites, bool) or int(self.max_sites) != self.max_sites or self.max_sites < 1:
                raise ValueError(f"max_sites must be a whole number >= 1, got {self.max_sites!r}")
            object.__setattr__(self, "max_sites", int(self.max_sites))
        object.__setattr__(self, "stable_only", bool(self.stable_only))

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(self.chemsys.split("-"))

    @property
    def alphabetical_chemsys(self) -> str:
        """The Materials Project's spelling (``O-Ti``)."""
        return "-".join(sorted(self.elements))

    def label(self) -> str:
        """A readable, file-name-safe label: ``Ti-O``, ``Ti-O-ehull0.1-max20sites-stable``."""
        parts = [self.chemsys]
        if self.max_e_above_hull is not None:
            parts.append(f"ehull{self.max_e_above_hull:g}")
        if self.max_sites is not None:
            parts.append(f"max{self.max_sites}sites")
        if self.stable_only:
            parts.append("stable")
        return "-".join(parts)

    def describe(self) -> str:
        """For messages: ``Ti-O (energy above hull <= 0.1 eV/atom, <= 20 sites)``."""
        filters = []
        if self.stable_only:
            filters.append("stable only")
        if self.max_e_above_hull is not None:
            filters.append(f"energy above hull <= {self.max_e_above_hull:g} eV/atom")
        if self.max_sites is not None:
            filters.append(f"<= {self.max_sites} sites")
        return self.chemsys + (f" ({', '.join(filters)})" if filters else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FetchQuery":
        known = {"chemsys", "max_e_above_hull", "max_sites", "stable_only"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown query fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**dict(data))
