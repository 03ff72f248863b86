"""The frozen description of one active-learning run. Config + seed fully determine a run's results."""

from __future__ import annotations

import dataclasses
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

PAPER_STRATEGIES = ("random", "uncertainty", "diversity", "hybrid")
DEFAULT_COMMITTEE_PARAMS: dict[str, Any] = {}

# The fields that identify a problem, defined once (a branch keeps them; caches of prepared data key on them).
DATA_LOCATION_FIELDS = ("dataset", "dataset_format")
"""Name or locate the data: the dataset's content fingerprint stands for them in content-addressed keys."""
PREPARED_FIELDS = ("target", "descriptor", "descriptor_params", "oracle", "oracle_params", "n_initial",
                   "test_fraction", "split_seed")  # fmt: skip
"""What ``loop.prepare`` makes of the data: descriptors, labels and split (the seed then only picks the initial set)."""
PROBLEM_FIELDS = DATA_LOCATION_FIELDS + PREPARED_FIELDS + ("seed",)
"""Data, labels, split and initial set: equal for two runs whose curves belong on one chart."""


@dataclass(frozen=True)
class RunConfig:
    """Defaults are the paper protocol: 30 initial labels, 15 per round, 5 committee members, budget 300 labels."""

    dataset: str = "TiO2"
    dataset_format: str | None = None
    target: str = "energy_per_atom"
    oracle: str = "dataset"  # who labels: a name in alcore.oracles.ORACLES
    oracle_params: dict[str, Any] = field(default_factory=dict)
    descriptor: str = "paper"
    descriptor_params: dict[str, Any] = field(default_factory=dict)
    energy_reference: str = "auto"  # a name in alcore.references.REFERENCES, or "auto" (decided per problem)
    energy_reference_params: dict[str, Any] = field(default_factory=dict)
    strategy: str = "random"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    committee: str = "mlp"
    committee_params: dict[str, Any] = field(default_factory=lambda: {"n_members": 5})
    n_initial: int = 30
    batch_size: int = 15
    budget: int = 300
    test_fraction: float = 0.2
    split_seed: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_initial", "batch_size", "budget", "split_seed", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an integer, got {value!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.budget < self.n_initial:
            raise ValueError(f"budget ({self.budget}) is smaller than the initial set ({self.n_initial})")
        if self.seed < 0 or self.split_seed < 0:
            raise ValueError("seeds must be non-negative")
        if not isinstance(self.oracle, str) or not self.oracle:
            raise TypeError(f"oracle must be the name of a registered oracle, got {self.oracle!r}")
        try:
            json.dumps(self.oracle_params, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"oracle_params must hold JSON values (they are saved with the run): {exc}") from None
        from alcore.oracles import ORACLES  # light: numpy only

        if self.oracle not in ORACLES:
            raise ValueError(f"unknown oracle {self.oracle!r}; known: {', '.join(ORACLES)}")
        if not isinstance(self.oracle_params, dict) or not all(isinstance(k, str) for k in self.oracle_params):
            raise TypeError(f"oracle_params must be a dict with string keys, got {self.oracle_params!r}")
        from alcore.references import check_choice  # light: numpy only

        check_choice(self.energy_reference, self.energy_reference_params)

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown run config keys: {unknown}; known: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> "RunConfig":
        """A config read from a saved run or manifest: fields added since it was written take the value that
        reproduces it (runs saved before energy references learned absolute energies)."""
        return cls.from_dict({**SAVED_BEFORE, **data})


SAVED_BEFORE: dict[str, Any] = {"energy_reference": "none"}
"""What a field added later meant for the files written before it existed."""


def default_committee_params() -> dict[str, Any]:
    """Committee members from ``RunConfig`` and epochs from the committee's own default: the settings the CLI uses."""
    from alcore.committee import COMMITTEES  # lazily: torch

    params = dict(RunConfig().committee_params)
    epochs = inspect.signature(COMMITTEES.get(RunConfig.committee)).parameters["epochs"].default
    return {"n_members": params["n_members"], "epochs": params.get("epochs", epochs)}
