"""Unit and sign conversions for stress labels.

A ``Dataset`` stores stress as a Voigt 6-vector ``[xx, yy, zz, yz, xz, xy]`` in eV/Å^3 with the ASE sign convention
(positive = tensile). DFT codes and fitting packages usually store a *pressure-like* tensor in kbar (positive =
compressive): VASP's ``in kB`` line, mlearn's ``virial_stress`` and FitSNAP's ``Stress``. Converting those means a unit
change (1 kbar = 0.1 GPa), a sign flip, and for VASP-ordered 6-vectors a reordering of the shear components.
"""

from __future__ import annotations

import numpy as np
from ase.stress import full_3x3_to_voigt_6_stress
from ase.units import GPa

EV_PER_A3_PER_KBAR = 0.1 * GPa
"""1 kbar expressed in eV/Å^3 (about 6.2415e-4)."""

VASP_VOIGT_ORDER = ("xx", "yy", "zz", "xy", "yz", "zx")
"""Component order of a VASP ``in kB`` line and of mlearn's ``virial_stress``."""

_VASP_TO_ASE = [0, 1, 2, 4, 5, 3]  # ASE order is xx yy zz yz xz xy


def vasp_kbar_to_ase_stress(values) -> np.ndarray:
    """A VASP-ordered, pressure-signed 6-vector in kbar -> ASE Voigt stress in eV/Å^3 (positive = tensile)."""
    v = np.asarray(values, dtype=float)
    if v.shape != (6,):
        raise ValueError(f"expected 6 stress components {VASP_VOIGT_ORDER}, got shape {v.shape}")
    return -v[_VASP_TO_ASE] * EV_PER_A3_PER_KBAR


def pressure_tensor_kbar_to_ase_stress(tensor) -> np.ndarray:
    """A pressure-signed 3x3 tensor in kbar (FitSNAP ``Stress``) -> ASE Voigt stress in eV/Å^3."""
    t = np.asarray(tensor, dtype=float)
    if t.shape != (3, 3):
        raise ValueError(f"expected a 3x3 stress tensor, got shape {t.shape}")
    return -full_3x3_to_voigt_6_stress(t) * EV_PER_A3_PER_KBAR


def as_voigt_stress(values) -> np.ndarray:
    """An ASE-convention stress given as a Voigt 6-vector or a 3x3 tensor -> Voigt 6-vector (no unit change)."""
    s = np.asarray(values, dtype=float)
    if s.shape == (3, 3):
        return full_3x3_to_voigt_6_stress(s)
    if s.shape == (6,):
        return s.copy()
    raise ValueError(f"stress must have 6 or 3x3 components, got shape {s.shape}")
