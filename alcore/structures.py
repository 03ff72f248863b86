"""The structures a problem is about: ids, formulas and kinds for people, ``ase.Atoms`` for oracles.

A ``Problem`` carries them so that pages and exports never hand the dataset back to alcore. The atoms stay in the
read-only ``Dataset`` they came from and are only looked up when an oracle or an export asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # ase and the dataset module stay off the import path of code that never reads atoms
    from ase import Atoms

    from alcore.datasets import Dataset
    from alcore.references import Composition


@dataclass(frozen=True)
class Structure:
    """One structure sent to an oracle: its dataset row, its id and its atoms (``None`` for array-only problems)."""

    index: int
    id: str
    atoms: "Atoms | None"

    def name(self) -> str:
        """How error messages name it."""
        return f"structure {self.id!r} (index {self.index})"


@dataclass(frozen=True, eq=False)
class Structures:
    """The structures of a problem, by dataset row. ``dataset`` is ``None`` for problems built from arrays."""

    ids: tuple[str, ...]
    kinds: tuple[str, ...] | None = None
    dataset: "Dataset | None" = field(default=None, repr=False)

    @classmethod
    def from_dataset(cls, dataset: "Dataset") -> "Structures":
        return cls(ids=tuple(dataset.ids), kinds=dataset.kinds, dataset=dataset)

    @classmethod
    def unnamed(cls, n: int) -> "Structures":
        """Rows ``0..n-1`` with no atoms (synthetic problems made of descriptors and targets only)."""
        return cls(ids=tuple(str(i) for i in range(n)))

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def formulas(self) -> list[str]:
        """Reduced formulas (``-`` where there are no atoms); computed once, on first use."""
        return self.dataset.formulas if self.dataset is not None else ["-"] * len(self.ids)

    @cached_property
    def composition(self) -> "Composition | None":
        """Element fractions of every structure (energy references fit on them); ``None`` without atoms."""
        from alcore.references import Composition

        if self.dataset is None:
            return None
        return Composition.from_symbols([a.get_chemical_symbols() for a in self.dataset.atoms])

    def atoms(self, index: int) -> "Atoms | None":
        return self.dataset.atoms[index] if self.dataset is not None else None

    def take(self, rows: Sequence[int] | np.ndarray) -> list[Structure]:
        """The records of ``rows`` (dataset indices), in that order."""
        out = []
        for i in np.asarray(rows, dtype=np.int64).tolist():
            if not 0 <= i < len(self.ids):
                raise IndexError(f"structure index {i} is outside 0..{len(self.ids) - 1}")
            out.append(Structure(index=i, id=self.ids[i], atoms=self.atoms(i)))
        return out
