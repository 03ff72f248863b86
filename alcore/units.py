"""Display units: one place decides how every page, table and the CLI show errors and values of a target."""

from __future__ import annotations

from dataclasses import dataclass


def display_unit(target: str) -> tuple[str, float]:
    """(unit, factor) for showing errors of ``target``: per-atom energies are stored in eV/atom, shown in meV/atom."""
    if target.endswith("_per_atom"):
        return "meV/atom", 1000.0
    return "target units", 1.0


def stored_unit(target: str) -> str:
    """The unit ``target``'s values are stored in (per-atom energies: eV/atom)."""
    return "eV/atom" if target.endswith("_per_atom") else "target units"


@dataclass(frozen=True)
class Units:
    """How one target is shown: errors and spreads in ``error`` (stored value × ``scale``), values in ``value``."""

    error: str
    scale: float
    value: str


def units_for(target: str) -> Units:
    unit, scale = display_unit(target)
    return Units(unit, scale, stored_unit(target))
