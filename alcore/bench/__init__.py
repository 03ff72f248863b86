"""Benchmarks runnable as ``python -m alcore.bench NAME [options]`` (e.g. ``python -m alcore.bench round``).

Each benchmark is a module with ``main(argv=None) -> int``; modules are imported only when run, so listing the
benchmarks does not import torch.
"""

from __future__ import annotations

import importlib
import sys

from alcore.registry import Registry

BENCHMARKS: Registry[str] = Registry("benchmark")
BENCHMARKS.add("round", "alcore.bench.round")
BENCHMARKS.add("paper", "alcore.bench.paper")


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``NAME [options]`` to the benchmark module ``NAME``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m alcore.bench NAME [options]; benchmarks: {', '.join(BENCHMARKS)}")
        return 0 if argv else 2
    try:
        module = BENCHMARKS.get(argv[0])
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    return int(importlib.import_module(module).main(argv[1:]) or 0)
