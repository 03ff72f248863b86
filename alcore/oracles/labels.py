"""What an oracle returns: per-structure target values plus energy, forces and stress where it has them.

Units are a ``Dataset``'s: energy eV/atom, forces eV/Å, stress eV/Å^3 as an ASE Voigt vector (positive = tensile).
``Labels`` also converts itself to the arrays of a saved run and to the JSON of a manifest, so stored labels are
read back exactly and never asked for again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Labels:
    """Labels of the structures at dataset rows ``indices``, in that order. Optional fields are ``None`` when the
    oracle does not provide them; a ``None`` entry inside ``forces``/``stress`` means "not for this structure"."""

    indices: np.ndarray  # (n,) int64 dataset rows
    target: np.ndarray  # (n,) the run's target (what the committee learns)
    energy_per_atom: np.ndarray | None = None  # (n,) eV/atom
    forces: tuple[np.ndarray | None, ...] | None = None  # (n_atoms, 3) eV/Å each
    stress: tuple[np.ndarray | None, ...] | None = None  # (6,) eV/Å^3 each

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", _readonly(np.array(self.indices, dtype=np.int64).reshape(-1)))
        object.__setattr__(self, "target", _readonly(np.array(self.target, dtype=float).reshape(-1)))
        n = len(self.indices)
        if len(self.target) != n:
            raise ValueError(f"labels: {len(self.target)} target values for {n} structures")
        if self.energy_per_atom is not None:
            energy = _readonly(np.array(self.energy_per_atom, dtype=float).reshape(-1))
            if len(energy) != n:
                raise ValueError(f"labels: {len(energy)} energies for {n} structures")
            object.__setattr__(self, "energy_per_atom", energy)
        for name in ("forces", "stress"):
            seq = getattr(self, name)
            if seq is not None:
                if len(seq) != n:
                    raise ValueError(f"labels: {len(seq)} {name} entries for {n} structures")
                arrays = tuple(None if a is None else _readonly(np.array(a, dtype=float)) for a in seq)
                object.__setattr__(self, name, arrays)

    def __len__(self) -> int:
        return len(self.indices)

    @staticmethod
    def known(*parts: "Labels | None") -> "Labels | None":
        """Every label in ``parts`` that exists (a run's test-split and labelled-set labels), or None without any:
        what ``loop.prepare(known=...)`` takes."""
        present = [p for p in parts if p is not None]
        return Labels.join(present) if present else None

    @classmethod
    def empty(cls) -> "Labels":
        return cls(np.empty(0, dtype=np.int64), np.empty(0))

    def take(self, positions: Sequence[int] | np.ndarray | slice) -> "Labels":
        """The labels at ``positions`` (positions in this object, not dataset rows)."""
        pos = np.arange(len(self))[positions] if isinstance(positions, slice) else np.asarray(positions, dtype=np.int64)
        pick = lambda seq: None if seq is None else tuple(seq[i] for i in pos.tolist())  # noqa: E731
        return Labels(
            self.indices[pos],
            self.target[pos],
            None if self.energy_per_atom is None else self.energy_per_atom[pos],
            pick(self.forces),
            pick(self.stress),
        )

    def rows(self, indices: Sequence[int] | np.ndarray) -> "Labels":
        """The labels of dataset rows ``indices``, in that order (a ``KeyError`` names a row it has no label for)."""
        where = {int(i): k for k, i in enumerate(self.indices.tolist())}
        try:
            return self.take([where[int(i)] for i in np.asarray(indices).tolist()])
        except KeyError as exc:
            raise KeyError(f"no stored label for structure index {exc.args[0]}") from None

    @staticmethod
    def join(parts: Sequence["Labels"]) -> "Labels":
        """Concatenate in order; a field present in some parts only is ``None`` for the structures of the others."""
        parts = [p for p in parts if len(p)] or list(parts[:1]) or [Labels.empty()]
        if len(parts) == 1:
            return parts[0]
        energy = None
        if any(p.energy_per_atom is not None for p in parts):
            energy = np.concatenate(
                [p.energy_per_atom if p.energy_per_atom is not None else np.full(len(p), np.nan) for p in parts]
            )

        def seq(name: str):
            if all(getattr(p, name) is None for p in parts):
                return None
            return tuple(a for p in parts for a in (getattr(p, name) or (None,) * len(p)))

        return Labels(
            np.concatenate([p.indices for p in parts]),
            np.concatenate([p.target for p in parts]),
            energy,
            seq("forces"),
            seq("stress"),
        )

    def same(self, other: "Labels") -> bool:
        """Bit-identical (the replay check)."""
        return (labels_to_json(self) == labels_to_json(other))

    # ---- storage ---------------------------------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Flat numeric arrays (``np.savez``-ready, no objects): ragged forces are concatenated with their counts."""
        out = {f"{prefix}indices": self.indices, f"{prefix}target": self.target}
        if self.energy_per_atom is not None:
            out[f"{prefix}energy_per_atom"] = self.energy_per_atom
        if self.forces is not None:
            counts = np.array([-1 if f is None else len(f) for f in self.forces], dtype=np.int64)
            present = [np.asarray(f).reshape(-1, 3) for f in self.forces if f is not None]
            out[f"{prefix}forces_counts"] = counts
            out[f"{prefix}forces"] = np.concatenate(present) if present else np.empty((0, 3))
        if self.stress is not None:
            out[f"{prefix}stress_present"] = np.array([s is not None for s in self.stress], dtype=bool)
            out[f"{prefix}stress"] = np.array([np.zeros(6) if s is None else s for s in self.stress]).reshape(-1, 6)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> "Labels | None":
        """Inverse of ``to_arrays``; ``None`` when the arrays hold no labels under ``prefix``."""
        if f"{prefix}indices" not in arrays:
            return None
        forces = stress = None
        if f"{prefix}forces_counts" in arrays:
            flat, forces, at = arrays[f"{prefix}forces"], [], 0
            for count in arrays[f"{prefix}forces_counts"].tolist():
                forces.append(None if count < 0 else flat[at : at + count])
                at += max(count, 0)
        if f"{prefix}stress_present" in arrays:
            present = arrays[f"{prefix}stress_present"]
            stress = [s if ok else None for s, ok in zip(arrays[f"{prefix}stress"], present, strict=True)]
        return cls(
            arrays[f"{prefix}indices"],
            arrays[f"{prefix}target"],
            arrays.get(f"{prefix}energy_per_atom"),
            None if forces is None else tuple(forces),
            None if stress is None else tuple(stress),
        )


def labels_to_json(labels: Labels) -> dict[str, Any]:
    """Lists of numbers (exact: JSON floats round-trip); absent fields are ``null``."""
    seq = lambda s: None if s is None else [None if a is None else a.tolist() for a in s]  # noqa: E731
    return {
        "indices": labels.indices.tolist(),
        "target": labels.target.tolist(),
        "energy_per_atom": None if labels.energy_per_atom is None else labels.energy_per_atom.tolist(),
        "forces": seq(labels.forces),
        "stress": seq(labels.stress),
    }


def labels_from_json(doc: Any) -> Labels:
    """Inverse of ``labels_to_json``; malformed input raises ``ValueError``/``KeyError``/``TypeError``."""
    seq = lambda s: None if s is None else tuple(None if a is None else np.asarray(a, dtype=float) for a in s)  # noqa: E731
    return Labels(
        np.asarray(doc["indices"], dtype=np.int64),
        np.asarray(doc["target"], dtype=float),
        None if doc.get("energy_per_atom") is None else np.asarray(doc["energy_per_atom"], dtype=float),
        seq(doc.get("forces")),
        seq(doc.get("stress")),
    )
