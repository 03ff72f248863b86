"""CHGNet 0.4.2 (pretrained on MPtrj: a surrogate of Materials-Project-style PBE/PBE+U, not DFT), imported lazily.

Used by the ``ase-calculator`` oracle (``calculator="chgnet"``) and by the pool builder. The pretrained weights ship in
the wheel, so loading works offline (~5 s). CHGNet reports stress in GPa with the same sign as ASE (its own ASE
calculator only multiplies by ``ase.units.GPa``), so converting is a unit factor and the 3x3 -> Voigt reordering.
"""

from __future__ import annotations

import contextlib
import io
import threading
from typing import Any

import numpy as np

BUILD_HINT = "pip install -r requirements-build.txt"
TORCH_THREADS = 1
"""torch intra-op threads during a pool build. On 2 shared cores, 2 OpenMP threads competing with other processes made
one 6-atom CHGNet call take 11 s instead of 0.17 s (spin-waiting); one thread is never far from the best case."""

_MODEL: Any = None
_MODEL_LOCK = threading.Lock()


def require_chgnet():
    """The ``chgnet`` module, or an ImportError that says how to install it."""
    try:
        import chgnet
        from chgnet.model import CHGNet  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"CHGNet labels need chgnet ({exc}); {BUILD_HINT}") from None
    return chgnet


def chgnet_version() -> str:
    return str(require_chgnet().__version__)


def load_model(threads: int | None = TORCH_THREADS):
    """The pretrained CHGNet on the CPU. ``threads`` sets torch's intra-op thread count for this process (``None``
    leaves it alone); see ``TORCH_THREADS``."""
    require_chgnet()
    import torch
    from chgnet.model import CHGNet

    if threads is not None:
        torch.set_num_threads(int(threads))
    with contextlib.redirect_stdout(io.StringIO()):
        return CHGNet.load(use_device="cpu", verbose=False)


def shared_model():
    """One pretrained CHGNet per process (its weights never change), loaded on first use; torch threads untouched,
    so committees trained in the same process see no change."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            _MODEL = load_model(threads=None)
        return _MODEL


def chgnet_calculator(**options: Any):
    """CHGNet's own ASE calculator (``chgnet.model.dynamics.CHGNetCalculator``) on the shared pretrained model."""
    require_chgnet()
    from chgnet.model.dynamics import CHGNetCalculator

    with contextlib.redirect_stdout(io.StringIO()):
        return CHGNetCalculator(model=shared_model(), use_device="cpu", **options)


def chgnet_stress_to_ase(stress_gpa: Any) -> np.ndarray:
    """CHGNet's 3x3 stress in GPa -> ASE Voigt 6-vector in eV/Å^3 (same sign convention, see module docstring)."""
    from ase.stress import full_3x3_to_voigt_6_stress
    from ase.units import GPa

    s = np.asarray(stress_gpa, dtype=float)
    if s.shape != (3, 3):
        raise ValueError(f"expected a 3x3 CHGNet stress tensor, got shape {s.shape}")
    return full_3x3_to_voigt_6_stress(s) * GPa
