"""The ``ase-calculator`` oracle: labels structures with any ASE calculator, chosen by name in the run's options.

``oracle_params={"calculator": "emt"}`` (ASE's EMT: Cu, Al, Ni, Pd, Ag, Pt, Au and roughly C, N, O, H; for tests and
quick demos) or ``{"calculator": "chgnet"}`` (CHGNet's ASE calculator, pretrained, offline). Other keys go to the
calculator (e.g. ``sigma``/``epsilon`` for ``"lj"``); ``timeout`` is seconds per structure. The table below is one line
per calculator, its module imported only when used (as ``ase.io.formats`` lists file formats); add one with
``CALCULATORS.add("name", factory)``, where ``factory(**options)`` returns an ASE calculator.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

from alcore.oracles.base import ORACLES, OracleError
from alcore.oracles.labels import Labels
from alcore.registry import Registry
from alcore.structures import Structure

CALCULATORS: Registry[Callable[..., Any]] = Registry("ASE calculator")  # name -> factory(**options) -> calculator


@CALCULATORS.register("emt")
def emt(**options: Any):
    from ase.calculators.emt import EMT

    return EMT(**options)


@CALCULATORS.register("lj")
def lennard_jones(**options: Any):
    from ase.calculators.lj import LennardJones

    return LennardJones(**options)


@CALCULATORS.register("morse")
def morse(**options: Any):
    from ase.calculators.morse import MorsePotential

    return MorsePotential(**options)


@CALCULATORS.register("chgnet")
def chgnet(**options: Any):
    from alcore.oracles.chgnet import chgnet_calculator

    return chgnet_calculator(**options)


def single_point(atoms, calculator, properties: Sequence[str]) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """(energy per atom, forces, Voigt stress) of ``atoms`` with ``calculator``; the input is never modified.
    Stress only for cells periodic in all three directions."""
    work = atoms.copy()
    work.calc = calculator
    energy = float(work.get_potential_energy()) / len(work)
    forces = np.array(work.get_forces(), dtype=float) if "forces" in properties else None
    periodic = bool(np.all(work.pbc)) and work.cell.rank == 3
    stress = np.array(work.get_stress(voigt=True), dtype=float) if "stress" in properties and periodic else None
    return energy, forces, stress


@ORACLES.register("ase-calculator")
class AseCalculatorOracle:
    """Single points with an ASE calculator: energy per atom (the target), forces and stress. One structure at a
    time, under a lock (calculators keep state); with ``timeout`` each runs in a worker thread, and a structure that
    takes longer stops the run (the late calculation cannot be interrupted in Python: it is abandoned with its
    calculator, and a fresh calculator serves the next call)."""

    name = "ase-calculator"
    targets = ("energy_per_atom",)
    precomputed = False

    def __init__(
        self,
        target: str = "energy_per_atom",
        dataset: Any = None,
        *,
        calculator: str = "emt",
        timeout: float | None = None,
        **calculator_options: Any,
    ) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"oracle {self.name!r}: timeout must be a positive number of seconds, got {timeout!r}")
        if not isinstance(calculator, str):
            raise ValueError(f"oracle {self.name!r}: calculator must be a name in CALCULATORS, got {calculator!r}")
        self.factory, self.calculator_name = CALCULATORS.get(calculator), calculator
        self.timeout, self.options = timeout, calculator_options
        self._calculator = self.factory(**calculator_options)  # now: bad options fail before any run starts
        implemented = getattr(self._calculator, "implemented_properties", ())
        self.provides = tuple(p for p in ("energy", "forces", "stress") if p in implemented)
        if "energy" not in self.provides:
            raise ValueError(f"oracle {self.name!r}: calculator {calculator!r} computes no energy")
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Sent to worker processes (``run_grid``) without its lock or live calculator: each process makes its own."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_calculator")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _calculator=None, _lock=threading.Lock())

    def label(self, structures: Sequence[Structure]) -> Labels:
        with self._lock:
            results = [self._one(s) for s in structures]
        return Labels(
            [s.index for s in structures],
            [e for e, _, _ in results],
            [e for e, _, _ in results],
            tuple(f for _, f, _ in results) if "forces" in self.provides else None,
            tuple(s for _, _, s in results) if "stress" in self.provides else None,
        )

    def _one(self, s: Structure):
        if s.atoms is None:
            raise OracleError(self.name, s, "it has no atoms (the problem was built from descriptor arrays)")
        if self._calculator is None:
            self._calculator = self.factory(**self.options)
        calculator = self._calculator
        try:
            if self.timeout is None:
                return single_point(s.atoms, calculator, self.provides)
            return self._with_timeout(s, calculator)
        except OracleError:
            raise
        except Exception as exc:  # the calculator's own error (e.g. EMT has no parameters for Si)
            raise OracleError(self.name, s, f"{self.calculator_name}: {type(exc).__name__}: {exc}") from exc

    def _with_timeout(self, s: Structure, calculator):
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = single_point(s.atoms, calculator, self.provides)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=work, name=f"oracle-{s.id}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            self._calculator = None  # still busy in the abandoned thread: never share it
            raise OracleError(self.name, s, f"no answer within the timeout of {self.timeout} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
