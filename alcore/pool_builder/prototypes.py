"""Textbook polymorphs of the bundled systems, built from crystallographic data with pymatgen.

These are the physically meaningful anchors of every pool: the pool builder perturbs them and mixes them with random
crystals. Each entry says where its numbers come from. Values marked "approximate" or "model" are not refined
experimental structures; they only need to be near a real minimum because the builder relaxes and perturbs them.
All cells are returned primitive and Niggli-reduced, so supercells built from them stay small.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from pymatgen.core import Lattice, Structure

BAIN_POINTS = 6  # c/a from 1 (bcc) to sqrt(2) (fcc), endpoints included
_BCC_FE_A = 2.8665  # alpha-Fe at room temperature, Wyckoff, Crystal Structures vol. 1


@dataclass(frozen=True)
class _Spec:
    name: str
    spacegroup: str  # Hermann-Mauguin symbol as pymatgen spells it (origin choice 1 for 141 and 227)
    lattice: Lattice
    species: tuple[str, ...]
    coords: tuple[tuple[float, float, float], ...]


def _hex(a: float, c: float) -> Lattice:
    return Lattice.hexagonal(a, c)


def _carbon() -> list[_Spec]:
    return [
        # a = 3.5668 Å: Wyckoff, Crystal Structures vol. 1.
        _Spec("diamond", "Fd-3m", Lattice.cubic(3.5668), ("C",), ((0, 0, 0),)),
        # Bernal AB graphite, a = 2.464, c = 6.711 Å: Trucano & Chen, Nature 258, 136 (1975).
        _Spec("graphite-AB", "P6_3/mmc", _hex(2.464, 6.711), ("C", "C"), ((0, 0, 0.25), (1 / 3, 2 / 3, 0.25))),
        # Rhombohedral (ABC) graphite, a = 2.456, c = 10.044 Å: Lipson & Stokes, Proc. R. Soc. A 181, 101 (1942).
        _Spec("graphite-ABC", "R-3m", _hex(2.456, 10.044), ("C",), ((0, 0, 1 / 6),)),
        # AA-stacked graphite (as in LiC6): hypothetical for pure C; interlayer 3.55 Å is an approximate DFT value.
        _Spec("graphite-AA", "P6/mmm", _hex(2.464, 3.55), ("C",), ((1 / 3, 2 / 3, 0),)),
        # Lonsdaleite, a = 2.52, c = 4.12 Å: Bundy & Kasper, J. Chem. Phys. 46, 3437 (1967); ideal z = 1/16.
        _Spec("lonsdaleite", "P6_3/mmc", _hex(2.52, 4.12), ("C",), ((1 / 3, 2 / 3, 1 / 16),)),
        # bct-C4, a = 4.329, c = 2.483 Å: Umemoto et al., PRL 104, 125504 (2010); x set to give their
        # 1.50/1.56 Å bonds (approximate).
        _Spec("bct-C4", "I4/mmm", Lattice.tetragonal(4.329, 2.483), ("C",), ((0.1804, 0.1804, 0),)),
        # BC8 carbon (predicted above ~1 TPa), model at ambient density: a = 4.45 Å, x = 0.093 (approximate),
        # giving 1.43-1.6 Å bonds.
        _Spec("BC8", "Ia-3", Lattice.cubic(4.45), ("C",), ((0.093, 0.093, 0.093),)),
        # Simple cubic C: a high-energy reference only, at about the volume of diamond (model).
        _Spec("simple-cubic", "Pm-3m", Lattice.cubic(1.78), ("C",), ((0, 0, 0),)),
    ]


def _silicon() -> list[_Spec]:
    # Close-packed Si is metastable at ambient pressure; use V = 14.4 Å^3/atom, near the LDA equilibrium of the
    # close-packed phases (about 0.72 V_diamond; Yin & Cohen, PRB 26, 5668 (1982)) (approximate).
    v_cp = 14.4
    a_hcp = (2 * v_cp / (math.sqrt(3) / 2 * math.sqrt(8 / 3))) ** (1 / 3)
    a_diamond = 5.431  # CODATA 2018 lattice parameter of Si, 5.431020511 Å at 22.5 °C
    return [
        _Spec("diamond", "Fd-3m", Lattice.cubic(a_diamond), ("Si",), ((0, 0, 0),)),
        # Ideal hexagonal diamond with the bond length of diamond Si (model).
        _Spec(
            "lonsdaleite",
            "P6_3/mmc",
            _hex(a_diamond / math.sqrt(2), a_diamond / math.sqrt(2) * math.sqrt(8 / 3)),
            ("Si",),
            ((1 / 3, 2 / 3, 1 / 16),),
        ),
        # beta-Sn Si at ~12 GPa, a = 4.686, c = 2.585 Å: Jamieson, Science 139, 762 (1963).
        _Spec("beta-tin", "I4_1/amd", Lattice.tetragonal(4.686, 2.585), ("Si",), ((0, 0, 0),)),
        # Simple hexagonal Si at ~16 GPa, a = 2.527, c = 2.373 Å: Olijnyk, Sikka & Holzapfel, Phys. Lett. A 103,
        # 137 (1984).
        _Spec("simple-hexagonal", "P6/mmm", _hex(2.527, 2.373), ("Si",), ((0, 0, 0),)),
        # BC8 Si, a = 6.636 Å, x = 0.1003: Kasper & Richards, Acta Cryst. 17, 752 (1964).
        _Spec("BC8", "Ia-3", Lattice.cubic(6.636), ("Si",), ((0.1003, 0.1003, 0.1003),)),
        _Spec("fcc", "Fm-3m", Lattice.cubic((4 * v_cp) ** (1 / 3)), ("Si",), ((0, 0, 0),)),
        _Spec("bcc", "Im-3m", Lattice.cubic((2 * v_cp) ** (1 / 3)), ("Si",), ((0, 0, 0),)),
        _Spec("hcp", "P6_3/mmc", _hex(a_hcp, a_hcp * math.sqrt(8 / 3)), ("Si",), ((1 / 3, 2 / 3, 0.25),)),
    ]


def bain_path(n_points: int = BAIN_POINTS) -> list[tuple[str, Structure]]:
    """Body-centred tetragonal Fe at the bcc volume, c/a from 1 (bcc) to sqrt(2) (fcc), endpoints included."""
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2 (the bcc and fcc endpoints), got {n_points}")
    volume = _BCC_FE_A**3  # two atoms in the conventional bct cell, as in bcc
    path = []
    for i in range(n_points):
        ratio = 1 + (math.sqrt(2) - 1) * i / (n_points - 1)
        a = (volume / ratio) ** (1 / 3)
        cell = Structure.from_spacegroup("I4/mmm", Lattice.tetragonal(a, ratio * a), ["Fe"], [[0, 0, 0]])
        path.append((f"bain-{ratio:.3f}", _primitive(cell)))
    return path


def _iron() -> list[_Spec]:
    return [
        _Spec("bcc", "Im-3m", Lattice.cubic(_BCC_FE_A), ("Fe",), ((0, 0, 0),)),
        # gamma-Fe (austenite) extrapolated to room temperature and zero carbon, a ~ 3.59 Å (approximate).
        _Spec("fcc", "Fm-3m", Lattice.cubic(3.59), ("Fe",), ((0, 0, 0),)),
        # epsilon-Fe near the alpha-epsilon transition (~13 GPa), a ~ 2.46, c ~ 3.95 Å, e.g. Jephcoat, Mao & Bell,
        # JGR 91, 4677 (1986) (approximate).
        _Spec("hcp", "P6_3/mmc", _hex(2.46, 3.95), ("Fe",), ((1 / 3, 2 / 3, 0.25),)),
    ]


def _scaled_lattice(a: float, b: float, c: float, beta: float, volume: float) -> Lattice:
    """A monoclinic lattice with the shape of (a, b, c, beta) scaled isotropically to ``volume``."""
    shape = Lattice.monoclinic(a, b, c, beta)
    f = (volume / shape.volume) ** (1 / 3)
    return Lattice.monoclinic(a * f, b * f, c * f, beta)


def _titanium_oxygen() -> list[_Spec]:
    ti_hcp_a, ti_hcp_c = 2.9506, 4.6835  # alpha-Ti, Wyckoff, Crystal Structures vol. 1
    return [
        # Rutile and anatase, a, c, u: Burdett et al., JACS 109, 3639 (1987) (anatase in origin choice 1).
        _Spec(
            "rutile", "P4_2/mnm", Lattice.tetragonal(4.5937, 2.9587), ("Ti", "O"), ((0, 0, 0), (0.30478, 0.30478, 0))
        ),
        _Spec("anatase", "I4_1/amd", Lattice.tetragonal(3.7845, 9.5143), ("Ti", "O"), ((0, 0, 0), (0, 0, 0.20806))),
        # Brookite: Meagher & Lager, Can. Mineral. 17, 77 (1979).
        _Spec(
            "brookite",
            "Pbca",
            Lattice.orthorhombic(9.174, 5.449, 5.138),
            ("Ti", "O", "O"),
            ((0.1289, 0.0972, 0.8628), (0.0095, 0.1491, 0.1835), (0.2314, 0.1110, 0.5366)),
        ),
        # TiO2-II (alpha-PbO2 / columbite type): Simons & Dachille, Acta Cryst. 23, 334 (1967) (coordinates rounded).
        _Spec(
            "columbite",
            "Pbcn",
            Lattice.orthorhombic(4.531, 5.498, 4.900),
            ("Ti", "O"),
            ((0, 0.171, 0.25), (0.286, 0.376, 0.412)),
        ),
        # Baddeleyite-type TiO2 (MI): ZrO2 baddeleyite shape and coordinates (Smith & Newkirk, Acta Cryst. 18, 983
        # (1965)) scaled to 28 Å^3 per TiO2 (model).
        _Spec(
            "baddeleyite",
            "P2_1/c",
            _scaled_lattice(5.1454, 5.2075, 5.3107, 99.23, 4 * 28.0),
            ("Ti", "O", "O"),
            ((0.2754, 0.0395, 0.2083), (0.0700, 0.3317, 0.3447), (0.4496, 0.7569, 0.4792)),
        ),
        # Cotunnite-type TiO2 (OII), lattice of Dubrovinsky et al., Nature 410, 653 (2001); PbCl2-type
        # coordinates (approximate).
        _Spec(
            "cotunnite",
            "Pnma",
            Lattice.orthorhombic(5.163, 2.989, 5.966),
            ("Ti", "O", "O"),
            ((0.264, 0.25, 0.110), (0.346, 0.25, 0.422), (0.024, 0.25, 0.671)),
        ),
        # Fluorite-type TiO2: not observed at ambient pressure; a = 4.85 Å is a typical DFT value (model).
        _Spec("fluorite", "Fm-3m", Lattice.cubic(4.85), ("Ti", "O"), ((0, 0, 0), (0.25, 0.25, 0.25))),
        # Cubic TiO, rock salt, a = 4.177 Å: Wyckoff, Crystal Structures vol. 1 (ordered vacancies ignored).
        _Spec("TiO-rocksalt", "Fm-3m", Lattice.cubic(4.177), ("Ti", "O"), ((0, 0, 0), (0.5, 0.5, 0.5))),
        # Ti2O3 corundum: Rice & Robinson, Acta Cryst. B 33, 1342 (1977).
        _Spec("Ti2O3-corundum", "R-3c", _hex(5.157, 13.613), ("Ti", "O"), ((0, 0, 0.3446), (0.3122, 0, 0.25))),
        # alpha-Ti3O5 (anosovite, pseudobrookite type, Cmcm), lattice: Onoda, J. Solid State Chem. 136, 67 (1998);
        # pseudobrookite-type coordinates (approximate).
        _Spec(
            "Ti3O5-anosovite",
            "Cmcm",
            Lattice.orthorhombic(3.798, 9.846, 9.988),
            ("Ti", "Ti", "O", "O", "O"),
            ((0, 0.1895, 0.25), (0, 0.1352, 0.5653), (0, 0.7270, 0.25), (0, 0.0454, 0.1130), (0, 0.3123, 0.0667)),
        ),
        # Ti2O, anti-CdI2 type: O in every other octahedral layer of hcp Ti, a ~ 2.959, c ~ 4.749 Å (approximate),
        # Ti z idealised to 1/4.
        _Spec("Ti2O-antiCdI2", "P-3m1", _hex(2.959, 4.749), ("O", "Ti"), ((0, 0, 0), (1 / 3, 2 / 3, 0.25))),
        _Spec("Ti-hcp", "P6_3/mmc", _hex(ti_hcp_a, ti_hcp_c), ("Ti",), ((1 / 3, 2 / 3, 0.25),)),
    ]


def _ti3o_model() -> Structure:
    """Ti3O as an ordered interstitial solution: sqrt3 x sqrt3 hcp Ti with O in a third of the octahedral sites.

    The refined Ti3O structure (P-31c, sqrt3 x sqrt3 x 2 hcp) orders O in the octahedral holes of hcp Ti; this
    8-atom model puts one O in each octahedral layer, on different sites in consecutive layers (model, not refined
    data). The hcp cell is that of Ti metal with c expanded by 1 %, as in Ti-O solid solutions (approximate).
    """
    hcp = Structure(
        _hex(2.9506, 4.6835 * 1.01),
        ["Ti", "Ti", "O", "O"],  # the O mark every octahedral hole of hcp, at z = 0 and 1/2
        [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75], [0, 0, 0], [0, 0, 0.5]],
    )
    cell = hcp.make_supercell([[2, 1, 0], [-1, 1, 0], [0, 0, 1]], in_place=False)
    holes = [i for i, site in enumerate(cell) if site.specie.symbol == "O"]
    holes.sort(key=lambda i: tuple(cell[i].frac_coords.round(6)))
    lower = [i for i in holes if abs(cell[i].frac_coords[2]) < 1e-6]
    upper = [i for i in holes if abs(cell[i].frac_coords[2] - 0.5) < 1e-6]
    keep_low = lower[0]
    xy = cell[keep_low].frac_coords[:2]
    keep_up = next(i for i in upper if not (abs((cell[i].frac_coords[:2] - xy + 0.5) % 1 - 0.5) < 1e-6).all())
    cell.remove_sites([i for i in holes if i not in (keep_low, keep_up)])
    return cell


_BUILDERS = {"C": _carbon, "Si": _silicon, "Fe": _iron, "TiO2": _titanium_oxygen}


def _primitive(structure: Structure) -> Structure:
    return structure.get_primitive_structure().get_reduced_structure()


def prototypes(system: str) -> list[tuple[str, Structure]]:
    """Known polymorphs of ``system`` as (name, primitive structure), in a fixed order (fresh copies)."""
    if system not in _BUILDERS:
        raise ValueError(f"unknown system {system!r}; known: {sorted(_BUILDERS)}")
    return [(name, structure.copy()) for name, structure in _built(system)]


@functools.lru_cache(maxsize=None)
def _built(system: str) -> tuple[tuple[str, Structure], ...]:
    """Building from space groups takes ~1 s per system (pymatgen symmetry set-up), so it is done once."""
    out = []
    for spec in _BUILDERS[system]():
        coords = [list(c) for c in spec.coords]
        cell = Structure.from_spacegroup(spec.spacegroup, spec.lattice, list(spec.species), coords)
        out.append((spec.name, _primitive(cell)))
    if system == "Fe":
        out.extend(bain_path()[1:-1])  # the endpoints are bcc and fcc at the bcc volume: near-duplicates of the above
    if system == "TiO2":
        out.append(("Ti3O-ordered-model", _primitive(_ti3o_model())))
    return tuple(out)
