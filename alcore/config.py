"""The frozen description of one active-learning run. Config + seed fully determine a run's results."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any

PAPER_STRATEGIES = ("random", "uncertainty", "diversity", "hybrid")
DEFAULT_COMMITTEE_PARAMS: dict[str, Any] = {}


@dataclass(frozen=True)
class RunConfig:
    """Defaults are the paper protocol: 30 initial labels, 15 per round, 5 committee members, budget 300 labels."""

    dataset: str = "TiO2"
    dataset_format: str | None = None
    target: str = "energy_per_atom"
    descriptor: str = "paper"
    descriptor_params: dict[str, Any] = field(default_factory=dict)
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


def default_committee_params() -> dict[str, Any]:
    """Committee members from ``RunConfig`` and epochs from the committee's own default: the settings the CLI uses."""
    from alcore.committee import COMMITTEES  # lazily: torch

    params = dict(RunConfig().committee_params)
    epochs = inspect.signature(COMMITTEES.get(RunConfig.committee)).parameters["epochs"].default
    return {"n_members": params["n_members"], "epochs": params.get("epochs", epochs)}
