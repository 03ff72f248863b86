"""Selection strategies: importing this package imports every module in it, which registers the strategies.

The built-in ones come first (``builtin``), then the other modules in alphabetical order, so adding a strategy is one
new module with one ``@STRATEGIES.register`` (and its test): no list to edit here or anywhere else.
"""

import importlib
import pkgutil

from alcore.strategies import builtin as _builtin  # noqa: F401  (registers the built-in strategies first)
from alcore.strategies.base import STRATEGIES, PoolView, select

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["STRATEGIES", "PoolView", "select"]
