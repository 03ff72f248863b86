"""Display units: one place decides how every page, table and the CLI show errors of a target."""

from __future__ import annotations


def display_unit(target: str) -> tuple[str, float]:
    """(unit, factor) for showing errors of ``target``: per-atom energies are stored in eV/atom, shown in meV/atom."""
    if target.endswith("_per_atom"):
        return "meV/atom", 1000.0
    return "target units", 1.0
