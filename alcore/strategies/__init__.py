"""Selection strategies: importing this package registers all of them.

Registered names, in order: random, uncertainty, diversity, hybrid, kcenter, cluster_uncertainty.
"""

from alcore.strategies import builtin as _builtin  # noqa: F401  (registers the built-in strategies)
from alcore.strategies.base import STRATEGIES, PoolView, select

__all__ = ["STRATEGIES", "PoolView", "select"]
