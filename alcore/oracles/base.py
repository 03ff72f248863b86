"""The oracle contract: ``label(structures) -> Labels``, with what it provides declared as data.

An oracle is whoever supplies a label when a strategy asks for one: the dataset's own precomputed values in a
benchmark, or a calculation (an ASE calculator such as CHGNet or EMT, later DFT) in production. Like an ASE calculator's
``implemented_properties``, ``provides`` names what it computes besides the target (``"energy"``, ``"forces"``,
``"stress"``) and ``targets`` the run targets it can give (``None``: any target of the dataset).

Registered oracles are built as ``ORACLES.get(name)(target=..., dataset=..., **oracle_params)``: ``dataset`` is the
run's read-only ``Dataset`` (``None`` for problems built from arrays), the keyword options come from
``RunConfig.oracle_params``. ``labelled_by`` checks what an oracle returns, so a broken oracle gives an
``OracleError`` naming the structure instead of a NaN in a committee.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, Sequence

import numpy as np

from alcore.oracles.labels import Labels
from alcore.registry import Registry
from alcore.structures import Structure

PROPERTIES = ("energy", "forces", "stress")


class OracleError(RuntimeError):
    """An oracle failed for one structure (raised, timed out or gave a non-finite value).

    ``structure`` names it; ``state`` is set by ``loop.run`` to the last good ``RunState`` (the run stops there)."""

    def __init__(self, oracle: str, structure: Structure | None, problem: str) -> None:
        self.oracle, self.structure, self.problem = oracle, structure, problem
        self.state: Any = None
        where = structure.name() if structure is not None else "a batch of structures"
        super().__init__(f"oracle {oracle!r} failed for {where}: {problem}")


class Oracle(Protocol):
    name: ClassVar[str]
    provides: tuple[str, ...]  # of PROPERTIES
    targets: ClassVar[tuple[str, ...] | None]

    def label(self, structures: Sequence[Structure]) -> Labels: ...


ORACLES: Registry[type] = Registry("oracle")


def is_precomputed(oracle: Oracle) -> bool:
    """Whether every label is known before the run (the ``dataset`` oracle): then metrics read the dataset's targets
    and exports keep its other targets. An oracle that does not say is one that computes."""
    return bool(getattr(oracle, "precomputed", False))


def oracle_name(oracle: Oracle) -> str:
    """The name errors give (an unregistered oracle, e.g. one built by hand in a test, is named by its class)."""
    return getattr(oracle, "name", type(oracle).__name__)


def make_oracle(name: str, params: dict[str, Any], *, target: str, dataset: Any = None) -> Oracle:
    """The registered oracle ``name`` for a run's ``target``; refuses a target it cannot provide, and bad options,
    with a message naming the oracle."""
    cls = ORACLES.get(name)
    targets = getattr(cls, "targets", None)
    if targets is not None and target not in targets:
        raise ValueError(f"oracle {name!r} cannot provide the target {target!r}; it provides {', '.join(targets)}")
    try:
        return cls(target=target, dataset=dataset, **params)
    except TypeError as exc:  # an unknown option
        raise ValueError(f"oracle {name!r}: bad options {sorted(params)} ({exc})") from None


def labelled_by(oracle: Oracle, structures: Sequence[Structure]) -> Labels:
    """``oracle.label(structures)``, checked: one finite label per structure, in order, forces of the right shape.

    Any exception becomes an ``OracleError`` (naming the structure when there is one; an oracle names the failing
    structure itself by raising ``OracleError``)."""
    name = oracle_name(oracle)
    structures = list(structures)
    if not structures:
        return Labels.empty()
    try:
        labels = oracle.label(structures)
    except OracleError:
        raise
    except Exception as exc:  # whatever the oracle raised: stop the run with a message that says where
        where = structures[0] if len(structures) == 1 else None
        ids = ", ".join(repr(s.id) for s in structures[:5]) + (" ..." if len(structures) > 5 else "")
        detail = f"{type(exc).__name__}: {exc}" + ("" if where else f" (while labelling {ids})")
        raise OracleError(name, where, detail) from exc
    rows = np.array([s.index for s in structures], dtype=np.int64)
    if not isinstance(labels, Labels) or not np.array_equal(labels.indices, rows):
        raise OracleError(name, None, "it did not return one Labels entry per structure asked for, in order")
    for k, s in enumerate(structures):
        _check_one(name, s, labels, k)
    return labels


def _check_one(name: str, s: Structure, labels: Labels, k: int) -> None:
    values = {"target": labels.target[k]}
    if labels.energy_per_atom is not None:
        values["energy"] = labels.energy_per_atom[k]
    for key, value in values.items():
        if not np.isfinite(value):
            raise OracleError(name, s, f"its {key} is not finite ({value})")
    n_atoms = None if s.atoms is None else len(s.atoms)
    for key, shape in (("forces", (n_atoms, 3)), ("stress", (6,))):
        seq = getattr(labels, key)
        value = None if seq is None else seq[k]
        if value is None:
            continue
        if value.shape != shape and not (key == "forces" and n_atoms is None and value.ndim == 2):
            raise OracleError(name, s, f"its {key} have shape {value.shape}, expected {shape}")
        if not np.all(np.isfinite(value)):
            raise OracleError(name, s, f"its {key} are not finite")
