"""The dataset contract: structures + per-structure targets + optional forces/stress + ids + provenance.

Structures are ``ase.Atoms`` (what dscribe and ase.io speak); ``to_pymatgen`` converts for matminer/pymatgen code.
Targets are stored per structure; ``energy_per_atom`` (eV/atom) is always present, other targets (e.g.
``formation_energy_per_atom``) may be added by a source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from ase import Atoms

DEFAULT_TARGET = "energy_per_atom"


class DatasetError(ValueError):
    """A file could not be read as a dataset. The message names the file and the problem."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)


@dataclass(frozen=True, eq=False)
class Dataset:
    """An immutable labelled set of structures.

    ``forces`` / ``stress`` are per-structure arrays or ``None`` where the source has none.
    ``stress`` is in eV/Å^3 with the ASE sign convention (positive = tensile); importers convert.
    ``kinds`` tags each structure with its origin (e.g. an mlearn group, an aenet file family, a pool builder's kind).
    ``provenance`` records source, units and reference energies.
    """

    name: str
    atoms: tuple[Atoms, ...]
    targets: dict[str, np.ndarray]
    ids: tuple[str, ...]
    forces: tuple[np.ndarray | None, ...] | None = None
    stress: tuple[np.ndarray | None, ...] | None = None
    kinds: tuple[str, ...] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    _fingerprint: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.atoms)
        if n == 0:
            raise DatasetError(self.source or self.label, "no structures found")
        if DEFAULT_TARGET not in self.targets:
            raise DatasetError(self.source or self.label, f"missing target {DEFAULT_TARGET!r}")
        for key, values in self.targets.items():
            arr = np.asarray(values, dtype=float)
            if arr.shape != (n,):
                raise DatasetError(self.source or self.label, f"target {key!r} has shape {arr.shape}, expected ({n},)")
            arr.setflags(write=False)
            self.targets[key] = arr
        if len(self.ids) != n:
            raise DatasetError(self.source or self.label, f"{len(self.ids)} ids for {n} structures")
        if len(set(self.ids)) != n:
            raise DatasetError(self.source or self.label, "structure ids are not unique")
        for label, seq in (("forces", self.forces), ("stress", self.stress), ("kinds", self.kinds)):
            if seq is not None and len(seq) != n:
                raise DatasetError(self.source or self.label, f"{len(seq)} {label} entries for {n} structures")

    def __len__(self) -> int:
        return len(self.atoms)

    @property
    def source(self) -> str | None:
        """Where the dataset was read from (its file path, ``upload:<name>``), for messages; None if built in memory."""
        found = self.provenance.get("path") or self.provenance.get("uploaded_file")
        return None if found is None else str(found)

    @property
    def label(self) -> str:
        """``dataset 'Si' (path/to/Si.extxyz.gz)``: the name and, when known, the file, for messages."""
        return f"dataset {self.name!r}" + (f" ({self.source})" if self.source else "")

    def check_target_varies(self, name: str = DEFAULT_TARGET) -> None:
        """Refuse a target with one value for every structure: nothing to learn, and R² would be NaN."""
        values = self.target(name)
        if len(values) > 1 and np.all(values == values[0]):
            raise DatasetError(self.source or self.label, f"target {name!r} is {values[0]:.6g} for all {len(values)} "
                               "structures: a constant target cannot be learned (R² would be undefined)")  # fmt: skip

    @property
    def energy_per_atom(self) -> np.ndarray:
        return self.targets[DEFAULT_TARGET]

    def target(self, name: str = DEFAULT_TARGET) -> np.ndarray:
        try:
            return self.targets[name]
        except KeyError:
            raise KeyError(f"{self.label} has no target {name!r}; available: {sorted(self.targets)}") from None

    @property
    def n_atoms(self) -> np.ndarray:
        return np.array([len(a) for a in self.atoms])

    @property
    def formulas(self) -> list[str]:
        return [a.get_chemical_formula(mode="metal") for a in self.atoms]

    def to_pymatgen(self, index: int):
        """The structure at ``index`` as a pymatgen ``Structure`` (``Molecule`` is not supported: pools are periodic)."""
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(self.atoms[index])

    def fingerprint(self) -> str:
        """A content hash of structures and targets: the key for descriptor and embedding caches.

        Computed once per dataset (about 15 ms for 1 700 structures, and the app asks on every rerun): a dataset is
        immutable, so its hash cannot change.
        """
        if self._fingerprint is None:
            object.__setattr__(self, "_fingerprint", self._content_hash())
        return self._fingerprint

    def _content_hash(self) -> str:
        h = hashlib.sha256()
        for atoms in self.atoms:
            h.update(np.ascontiguousarray(atoms.numbers, dtype=np.int64).tobytes())
            h.update(np.ascontiguousarray(atoms.positions, dtype=np.float64).round(8).tobytes())
            h.update(np.ascontiguousarray(atoms.cell.array, dtype=np.float64).round(8).tobytes())
            h.update(np.ascontiguousarray(atoms.pbc, dtype=bool).tobytes())
        for key in sorted(self.targets):
            h.update(key.encode())
            h.update(np.ascontiguousarray(self.targets[key], dtype=np.float64).tobytes())
        return h.hexdigest()[:16]

    def subset(self, indices: Sequence[int], name: str | None = None) -> "Dataset":
        idx = [int(i) for i in indices]
        pick = lambda seq: None if seq is None else tuple(seq[i] for i in idx)  # noqa: E731
        return Dataset(
            name=name or self.name,
            atoms=tuple(self.atoms[i] for i in idx),
            targets={k: v[idx] for k, v in self.targets.items()},
            ids=tuple(self.ids[i] for i in idx),
            forces=pick(self.forces),
            stress=pick(self.stress),
            kinds=pick(self.kinds),
            provenance=dict(self.provenance),
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly summary (counts, composition, energy range) used by the CLI and the Data page."""
        from collections import Counter

        e = self.energy_per_atom
        elements = sorted({s for a in self.atoms for s in a.get_chemical_symbols()})
        return {
            "name": self.name,
            "n_structures": len(self),
            "n_atoms_min": int(self.n_atoms.min()),
            "n_atoms_max": int(self.n_atoms.max()),
            "elements": elements,
            "targets": sorted(self.targets),
            "energy_per_atom_min": float(np.min(e)),
            "energy_per_atom_max": float(np.max(e)),
            "energy_per_atom_mean": float(np.mean(e)),
            "has_forces": self.forces is not None and any(f is not None for f in self.forces),
            "has_stress": self.stress is not None and any(s is not None for s in self.stress),
            "kinds": dict(Counter(self.kinds)) if self.kinds is not None else {},
            "provenance": self.provenance,
        }
