"""CHGNet labels for pool structures: energies, forces, stress, magnetic moments, relaxation frames, references.

CHGNet 0.4.2 (pretrained on MPtrj, i.e. Materials-Project-style PBE/PBE+U) is a *surrogate* of DFT, not DFT. Units as
stored in a ``Dataset``: energy eV/atom, forces eV/Å, stress eV/Å^3 as an ASE Voigt vector ``[xx yy zz yz xz xy]``
with positive = tensile. Loading the model and converting its stress live with the CHGNet oracle
(``alcore.oracles.chgnet``); here the pool's structures are labelled in batches, which is faster than the one-structure
ASE calculator the oracle uses.

Formation energies use elemental references relaxed with the same model (``reference_energies``): the ground-state
polymorph for one-element systems (bcc Fe, diamond Si, the lower of relaxed graphite and diamond for C) and, for Ti-O,
relaxed hcp Ti plus an isolated O2 molecule in a 12 Å box. The O2 molecule is CHGNet's own O2 energy without the
Materials Project's fitted oxide correction, so absolute Ti-O formation energies differ from MP's; differences between
Ti-O structures (what a model learns) do not depend on that choice.

``chgnet`` is a build-time dependency only (``pip install -r requirements-build.txt``); it is imported lazily.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from ase import Atoms

from alcore.oracles.chgnet import chgnet_stress_to_ase, require_chgnet

LABEL_BATCH_SIZE = 8  # with one torch thread, 8 beat 16, 32 and 64 (~0.1 s per 21-atom Ti-O cell, 2 busy cores)
REFERENCE_STEPS = 200
REFERENCE_FMAX = 0.02
O2_BOX = 12.0  # Å, cubic box of the isolated O2 reference
O2_BOND = 1.21  # Å, starting O=O distance (relaxed with the box fixed)


@dataclass(frozen=True, eq=False)
class PoolLabels:
    """Per-structure CHGNet labels in ``Dataset`` units (see the module docstring)."""

    energy_per_atom: np.ndarray  # (n,) eV/atom
    forces: tuple[np.ndarray, ...]  # (n_atoms, 3) eV/Å each
    stress: tuple[np.ndarray, ...]  # (6,) eV/Å^3, ASE Voigt, positive = tensile
    magmoms: tuple[np.ndarray, ...]  # (n_atoms,) μB (magnitudes)

    def __len__(self) -> int:
        return len(self.energy_per_atom)


def _structure(atoms: Atoms):
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_structure(Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell,
                                               pbc=atoms.pbc))


def label_structures(
    structures: Sequence[Atoms],
    model,
    *,
    batch_size: int = LABEL_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> PoolLabels:
    """Batched CHGNet single points of ``structures`` (``model`` from ``load_model``)."""
    n = len(structures)
    energies, forces, stress, magmoms = [], [], [], []
    if progress is not None:
        progress(0, n)
    for start in range(0, n, batch_size):
        chunk = [_structure(a) for a in structures[start : start + batch_size]]
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            preds = model.predict_structure(chunk, task="efsm", batch_size=batch_size)
        if isinstance(preds, dict):
            preds = [preds]
        for atoms, p in zip(structures[start : start + batch_size], preds, strict=True):
            energies.append(float(np.asarray(p["e"]).reshape(())))
            forces.append(np.asarray(p["f"], dtype=float).reshape(len(atoms), 3))
            stress.append(chgnet_stress_to_ase(p["s"]))
            magmoms.append(np.asarray(p["m"], dtype=float).reshape(len(atoms)))
        if progress is not None:
            progress(min(n, start + batch_size), n)
    return PoolLabels(np.array(energies, dtype=float), tuple(forces), tuple(stress), tuple(magmoms))


def relax(
    atoms: Atoms,
    model,
    *,
    steps: int,
    fmax: float = 0.1,
    relax_cell: bool = True,
) -> list[Atoms]:
    """Relax with CHGNet (FIRE, cell included unless ``relax_cell=False``) and return every frame, first to last."""
    require_chgnet()
    from chgnet.model import StructOptimizer

    optimizer = StructOptimizer(model=model, optimizer_class="FIRE", use_device="cpu")
    start = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = optimizer.relax(start, fmax=fmax, steps=steps, relax_cell=relax_cell, verbose=False)
    traj = result["trajectory"]
    return [
        Atoms(numbers=atoms.numbers, positions=np.array(pos), cell=np.array(cell), pbc=atoms.pbc)
        for pos, cell in zip(traj.atom_positions, traj.cells, strict=True)
    ]


def pick_frames(frames: Sequence[Atoms]) -> list[tuple[str, Atoms]]:
    """The middle and final frames of a relaxation (the start is the candidate itself, already in the pool).

    MPtrj keeps start, middle and end of each relaxation; a trajectory of one or two frames yields only its end.
    """
    if not frames:
        return []
    end = len(frames) - 1
    picks = [("mid", end // 2), ("end", end)] if end >= 2 else [("end", end)]
    return [(tag, frames[i]) for tag, i in picks]


def reference_structures(system_elements: Sequence[str]) -> dict[str, list[tuple[str, Atoms, bool]]]:
    """Element -> candidate reference structures ``(name, atoms, relax_cell)``; the lowest relaxed energy wins."""
    from ase.build import bulk
    from ase.lattice.hexagonal import Graphite

    table: dict[str, list[tuple[str, Atoms, bool]]] = {
        "Si": [("diamond", bulk("Si", "diamond", a=5.43), True)],
        "Fe": [("bcc", bulk("Fe", "bcc", a=2.86), True)],
        "Ti": [("hcp", bulk("Ti", "hcp", a=2.95, c=4.68), True)],
        "C": [
            ("graphite", Graphite("C", latticeconstant={"a": 2.46, "c": 6.71}), True),
            ("diamond", bulk("C", "diamond", a=3.567), True),
        ],
        "O": [("O2 molecule", _o2_in_box(), False)],
    }
    missing = [e for e in system_elements if e not in table]
    if missing:
        raise ValueError(f"no elemental reference defined for {missing}; known: {sorted(table)}")
    return {e: table[e] for e in system_elements}


def _o2_in_box() -> Atoms:
    c = O2_BOX / 2
    return Atoms("O2", positions=[(c, c, c - O2_BOND / 2), (c, c, c + O2_BOND / 2)], cell=[O2_BOX] * 3, pbc=True)


def reference_energies(system_elements: Sequence[str], model) -> dict[str, dict[str, Any]]:
    """Element -> ``{"structure", "energy_per_atom", "candidates"}``: the lowest relaxed CHGNet energy per element."""
    refs: dict[str, dict[str, Any]] = {}
    for element, options in reference_structures(system_elements).items():
        energies = {}
        for name, atoms, relax_cell in options:
            final = relax(atoms, model, steps=REFERENCE_STEPS, fmax=REFERENCE_FMAX, relax_cell=relax_cell)[-1]
            energies[name] = float(label_structures([final], model).energy_per_atom[0])
        best = min(energies, key=energies.get)
        refs[element] = {"structure": best, "energy_per_atom": energies[best], "candidates": energies}
    return refs


def formation_energy_per_atom(
    structures: Sequence[Atoms], energy_per_atom: np.ndarray, references: dict[str, float]
) -> np.ndarray:
    """``E/atom - sum_el x_el * mu_el`` with ``references`` element -> eV/atom."""
    out = np.empty(len(structures), dtype=float)
    for i, atoms in enumerate(structures):
        symbols = atoms.get_chemical_symbols()
        missing = sorted(set(symbols) - set(references))
        if missing:
            raise ValueError(f"structure {i}: no reference energy for {missing}")
        out[i] = float(energy_per_atom[i]) - sum(references[s] for s in symbols) / len(symbols)
    return out
