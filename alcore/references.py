"""Energy references: the per-element baseline a committee learns on top of.

The energy per atom of a structure is dominated by its composition (Ti and O atoms sit at about -1605 and -433 eV in
an absolute DFT scale), and that part says nothing about bonding. A reference subtracts ``sum_e x_e * mu_e`` (``x_e``
the fraction of element ``e``) before the committee is trained and adds it back to every prediction, so metrics stay
in the target's own units and runs with different references are comparable on one chart.

- ``none``: the committee learns the target as it is.
- ``fitted``: ``mu`` by least squares on the labelled set's compositions, refitted every round from the labelled
  structures only (never the test split or the pool). Any per-element shift of the data (isolated-atom or elemental
  energies, another code's scale) then changes nothing.
- ``given``: ``mu`` from the user, e.g. isolated-atom energies, the same for every round.

``auto`` (the default of a new run) resolves per problem: ``fitted`` for an ``energy_per_atom`` target on a pool of
two or more elements, else ``none`` (on a one-element pool a reference is a constant shift, which the committee's own
target scaling already removes). The measurements behind that rule are in the README ("Energy references").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from alcore.registry import Option, Registry

REFERENCES: Registry[type] = Registry("energy reference")
AUTO = "auto"
ENERGY_TARGET = "energy_per_atom"  # the target a ``given`` table of element energies (eV/atom) applies to


@dataclass(frozen=True)
class Composition:
    """Element fractions of every structure: ``fractions[i, j]`` is the share of ``elements[j]`` in structure i."""

    elements: tuple[str, ...]
    fractions: np.ndarray  # (n, len(elements)), rows sum to 1

    def take(self, rows: np.ndarray) -> "Composition":
        """The compositions of ``rows`` (dataset indices), same element columns."""
        return Composition(elements=self.elements, fractions=self.fractions[np.asarray(rows, dtype=np.int64)])

    @classmethod
    def from_symbols(cls, symbols: list[list[str]] | list[tuple[str, ...]]) -> "Composition":
        elements = tuple(sorted({s for row in symbols for s in row}))
        column = {e: j for j, e in enumerate(elements)}
        counts = np.zeros((len(symbols), len(elements)))
        for i, row in enumerate(symbols):
            for s in row:
                counts[i, column[s]] += 1
        totals = counts.sum(axis=1, keepdims=True)
        if np.any(totals == 0):
            raise ValueError("a structure without atoms has no composition")
        fractions = counts / totals
        fractions.setflags(write=False)
        return cls(elements=elements, fractions=fractions)


class NoReference:
    """Absolute energies: the committee learns the target as it is."""

    def fit(self, composition: Composition, y: np.ndarray) -> "NoReference":
        self.energies_ = {}
        return self

    def predict(self, composition: Composition) -> np.ndarray:
        return np.zeros(len(composition.fractions))


class FittedReference:
    """Per-element energies fitted by least squares on the labelled set's compositions, every round."""

    def fit(self, composition: Composition, y: np.ndarray) -> "FittedReference":
        y = np.asarray(y, dtype=float)
        if len(y) != len(composition.fractions):
            raise ValueError(f"{len(y)} targets for {len(composition.fractions)} compositions")
        # Elements absent from the labelled set get no energy (the minimum-norm solution sets them to 0).
        mu, *_ = np.linalg.lstsq(composition.fractions, y, rcond=None)
        self.energies_ = dict(zip(composition.elements, mu.tolist()))
        return self

    def predict(self, composition: Composition) -> np.ndarray:
        return composition.fractions @ np.array([self.energies_.get(e, 0.0) for e in composition.elements])


class GivenReference:
    """Per-element energies from the user (eV/atom, e.g. isolated atoms or the elemental ground states)."""

    def __init__(self, *, energies: dict | None = None) -> None:
        self.energies = energies

    def fit(self, composition: Composition, y: np.ndarray) -> "GivenReference":
        self.energies_ = check_energies(self.energies)
        missing = [e for e in composition.elements if e not in self.energies_]
        if missing:
            raise ValueError(f"the given reference energies have no value for {', '.join(missing)}; "
                             f"given: {', '.join(self.energies_) or 'none'}")  # fmt: skip
        return self

    def predict(self, composition: Composition) -> np.ndarray:
        return composition.fractions @ np.array([self.energies_[e] for e in composition.elements])


REFERENCES.add("none", NoReference, display_name="none (absolute energies)")
REFERENCES.add("fitted", FittedReference, display_name="fitted per-element energies (labelled set)")
ENERGIES_HELP = 'element -> energy in eV/atom, e.g. {"Ti": -1604.6, "O": -432.5}'
REFERENCES.add("given", GivenReference, display_name="given per-element energies",
               options={"energies": Option(help=ENERGIES_HELP)})


def check_energies(energies: Mapping | None) -> dict[str, float]:
    """``{"Ti": -1604.6, ...}`` checked: element symbols and finite numbers."""
    from ase.data import chemical_symbols

    if not isinstance(energies, Mapping) or not energies:
        raise ValueError('the "given" energy reference needs energies, e.g. {"Ti": -1604.6, "O": -432.5} (eV/atom)')
    out = {}
    for element, value in energies.items():
        if element not in chemical_symbols[1:]:
            raise ValueError(f"reference energies: {element!r} is not an element symbol")
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise ValueError(f"reference energies: the energy of {element} must be a finite number, got {value!r}")
        out[element] = float(value)
    return out


def parse_energies(text: str, where: str = "reference energies") -> dict[str, float]:
    """``Ti=-1604.6, O=-432.5`` (the app's text field and the CLI's flag) as a checked dict."""
    pairs = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    out: dict[str, float] = {}
    for pair in pairs:
        element, sep, value = pair.partition("=")
        try:
            out[element.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{where}: expected ELEMENT=ENERGY, e.g. Ti=-1604.6, got {pair!r}") from None
        if not sep:
            raise ValueError(f"{where}: expected ELEMENT=ENERGY, e.g. Ti=-1604.6, got {pair!r}")
    return check_energies(out)


def read_energies(path: str) -> dict[str, float]:
    """Element energies from a JSON object file (``{"Ti": -1604.6}``) or a two-column text/CSV file
    (``Ti,-1604.6`` per line, ``#`` comments and a header line allowed); errors name the file."""
    import json
    from pathlib import Path

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{p}: cannot read the reference energies: {exc.strerror or exc}") from None
    try:
        if p.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            return check_energies(json.loads(text))
        rows = [ln.split("#")[0].strip() for ln in text.splitlines()]
        rows = [r for r in rows if r]
        if rows and not _is_number(rows[0].replace(";", ",").split(",")[-1]):
            rows = rows[1:]  # a header such as "element,energy"
        return parse_energies(",".join("=".join(x.strip() for x in r.replace(";", ",").split(",")[:2]) for r in rows))
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def resolve(config: Any, composition: Composition | None) -> str:
    """The reference a run uses: ``config.energy_reference`` with ``auto`` decided for this problem."""
    name = config.energy_reference
    if name == AUTO:
        multi = composition is not None and len(composition.elements) > 1
        return "fitted" if multi and config.target == ENERGY_TARGET else "none"
    if name != "none" and composition is None:
        raise ValueError(f"the {name!r} energy reference needs structures (this problem has no atoms)")
    if name == "given" and config.target != ENERGY_TARGET:
        raise ValueError(f"given element energies apply to {ENERGY_TARGET}, not to the target {config.target!r}")
    return name


def describe_choice(config: Any, composition: Composition | None) -> str:
    """One line for people: the reference used and, for ``auto``, why."""
    name = resolve(config, composition)
    if config.energy_reference != AUTO:
        return name
    n = 0 if composition is None else len(composition.elements)
    why = f"{n} element{'s' if n != 1 else ''}, target {config.target}"
    return f"{name} (auto: {why})"


def make_reference(config: Any, name: str):
    """An unfitted reference ``name`` (what ``resolve`` gave for ``config``); options checked against the spec."""
    params = config.energy_reference_params if name == config.energy_reference else {}
    return REFERENCES.get(name)(**REFERENCES.spec(name).check_options(params))


def check_choice(name: str, params: Mapping) -> None:
    """A RunConfig's reference name and options are known (raised when the config is made)."""
    if name != AUTO and name not in REFERENCES:
        raise ValueError(f"unknown energy reference {name!r}; known: {AUTO}, {', '.join(REFERENCES.names())}")
    if name == AUTO and params:
        raise ValueError("energy_reference_params are only for the 'given' energy reference")
    if name != AUTO:
        REFERENCES.spec(name).check_options(params)
        if name == "given":
            check_energies(params.get("energies"))


__all__ = ["AUTO", "Composition", "REFERENCES", "check_choice", "describe_choice", "make_reference", "parse_energies",
           "read_energies", "resolve"]  # fmt: skip
