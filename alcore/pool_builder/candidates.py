"""Unlabelled candidate structures for the bundled pools: prototypes, random symmetric crystals and perturbations.

A pool needs more than equilibrium crystals: active learning only shows its worth when the pool spans strained,
rattled, defective and unusual structures. Everything is drawn from ``seed``: each draw of each kind has its own
``np.random.Generator`` from ``SeedSequence([seed, system, kind, draw])``, so a draw that fails (pyxtal could not
place the atoms, or atoms end up too close) is skipped without shifting any other draw.

Distance rule: no two atoms (periodic images included) closer than ``MIN_DISTANCE_FACTOR`` times the sum of their
covalent radii (``ase.data.covalent_radii``): 1.06 Å for C-C, 1.55 Å for Si-Si, 1.85 Å for Fe-Fe, 1.58 Å for Ti-O,
0.92 Å for O-O. Closer pairs are unphysical for the potential that labels the pool and are rejected.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import zlib
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import covalent_radii
from ase.neighborlist import neighbor_list
from pymatgen.core import Structure

from alcore.pool_builder.prototypes import prototypes

SYSTEMS: dict[str, tuple[str, ...]] = {"C": ("C",), "Si": ("Si",), "Fe": ("Fe",), "TiO2": ("Ti", "O")}

KINDS = ("polymorph", "random", "strain", "rattle", "vacancy")
# Shares of the candidates left after the prototypes (normalised: 30 : 25 : 25 : 10).
KIND_WEIGHTS = {"random": 0.30, "strain": 0.25, "rattle": 0.25, "vacancy": 0.10}
MIN_DISTANCE_FACTOR = 0.7
MAX_STRAIN = 0.08  # largest strain component, isotropic or anisotropic
RATTLE_RMS = (0.02, 0.2)  # range of the RMS displacement of a rattle (Å)
VACANCY_RATTLE_RMS = (0.01, 0.05)  # small noise on vacancy cells, so equivalent vacancies do not repeat exactly
PROTOTYPE_PARENT_SHARE = 0.6  # perturbations start from a prototype this often, else from a random crystal
MAX_DRAWS_PER_CANDIDATE = 50
PYXTAL_MAX_COUNT = 3  # pyxtal's own retries per draw
# Ti:O formula units for random Ti-O crystals, with weights (TiO2 dominates, the suboxides are sampled too).
TIO_FORMULAS = (((1, 2), 0.45), ((2, 3), 0.12), ((3, 5), 0.10), ((4, 7), 0.08), ((1, 1), 0.12), ((2, 1), 0.08),
                ((3, 1), 0.05))
MAX_RANDOM_ATOMS = 12  # pyxtal slows down with cell size; perturbations make supercells up to max_atoms
RANDOM_VOLUME_SPREAD = (0.9, 1.2)  # random crystals: volume/atom within these factors of the prototypes' range
RANDOM_MIN_CONTACT = 0.8  # ... but the closest pair kept at >= this x sum of covalent radii
RANDOM_MAX_EXPANSION = 3.0  # ... and at most this x the largest prototype volume/atom
_SUPERCELL_CHOICES = tuple((a, b, c) for a in (1, 2, 3) for b in (1, 2, 3) for c in (1, 2, 3))


@dataclass(frozen=True)
class Candidate:
    """One unlabelled structure.

    ``parent``: for a polymorph its prototype name (``"rutile"``); for a random crystal ``"pyxtal:<space group>:
    <formula>"``; for a perturbation the ``id`` of the candidate it was made from.
    """

    atoms: Atoms
    kind: str
    parent: str
    id: str


def _stream(seed: int, system: str, kind: str, draw: int) -> np.random.Generator:
    keys = [int(seed), zlib.crc32(system.encode()), zlib.crc32(kind.encode()), int(draw)]
    return np.random.default_rng(np.random.SeedSequence(keys))


def min_distance_ok(atoms: Atoms, factor: float = MIN_DISTANCE_FACTOR) -> bool:
    """True when no two atoms (periodic images included) are closer than ``factor`` x sum of covalent radii."""
    radii = covalent_radii[atoms.numbers]
    cutoff = factor * 2 * float(radii.max())
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    return bool(np.all(d >= factor * (radii[i] + radii[j])))


def _acceptable(atoms: Atoms, max_atoms: int) -> bool:
    return 0 < len(atoms) <= max_atoms and min_distance_ok(atoms)


def _to_atoms(structure: Structure) -> Atoms:
    return Atoms(
        [site.specie.symbol for site in structure],
        positions=structure.cart_coords,
        cell=structure.lattice.matrix,
        pbc=True,
    )


def _quotas(n_rest: int) -> dict[str, int]:
    """Split ``n_rest`` among the generated kinds by KIND_WEIGHTS (largest remainder, ties in KIND_WEIGHTS order)."""
    total = sum(KIND_WEIGHTS.values())
    exact = {k: n_rest * w / total for k, w in KIND_WEIGHTS.items()}
    quotas = {k: math.floor(v) for k, v in exact.items()}
    leftover = n_rest - sum(quotas.values())
    for k in sorted(exact, key=lambda k: -(exact[k] - quotas[k]))[:leftover]:
        quotas[k] += 1
    return quotas


def _import_pyxtal():
    try:
        from pyxtal import pyxtal
        from pyxtal.symmetry import Group
    except ImportError as err:  # pragma: no cover - depends on the build environment
        raise ImportError("random crystals need pyxtal: pip install -r requirements-build.txt") from err
    return pyxtal, Group


@functools.lru_cache(maxsize=None)
def _group(number: int):
    return _import_pyxtal()[1](number)


@contextlib.contextmanager
def _shared_default_tolerances():
    """Let pyxtal reuse one default tolerance table while we generate.

    pyxtal 1.1.5 builds a fresh ~100x100 ``Tol_matrix`` on every periodic-image check (``operations.check_images``
    with ``tm=None``), which is over half its run time here. The table is only read there, so one shared instance
    gives identical results. The module attribute is restored on exit.
    """
    import pyxtal.operations as ops

    original = ops.Tol_matrix
    shared = original(prototype="atomic")

    def tolerance_table(*args, **kwargs):
        if not args and kwargs in ({}, {"prototype": "atomic"}):
            return shared
        return original(*args, **kwargs)

    ops.Tol_matrix = tolerance_table
    try:
        yield
    finally:
        ops.Tol_matrix = original


@functools.lru_cache(maxsize=1)
def _pyxtal_tolerances():
    """pyxtal's own distance check set to our rule (its "atomic" tolerance is 0.5 x factor x sum of radii)."""
    from pyxtal.tolerance import Tol_matrix

    return Tol_matrix(prototype="atomic", factor=2 * MIN_DISTANCE_FACTOR)


def _random_composition(system: str, rng: np.random.Generator, max_atoms: int) -> tuple[list[str], list[int]]:
    limit = min(max_atoms, MAX_RANDOM_ATOMS)
    if system == "TiO2":
        formulas = [(f, w) for f, w in TIO_FORMULAS if sum(f) <= limit] or [((1, 1), 1.0)]
        weights = np.array([w for _, w in formulas])
        (ti, o), _ = formulas[int(rng.choice(len(formulas), p=weights / weights.sum()))]
        units = int(rng.integers(1, limit // (ti + o) + 1))
        return ["Ti", "O"], [ti * units, o * units]
    return [SYSTEMS[system][0]], [int(rng.integers(2, limit + 1))]


def _oxygen_fraction(atoms: Atoms) -> float:
    return float(np.mean(atoms.numbers == 8))


def _volume_ranges(polymorphs: list[Candidate]) -> list[tuple[float, float]]:
    """(oxygen fraction, volume per atom) of every prototype: the reference densities of random crystals."""
    return [(_oxygen_fraction(c.atoms), c.atoms.get_volume() / len(c.atoms)) for c in polymorphs]


def _reference_volumes(atoms: Atoms, references: list[tuple[float, float]]) -> tuple[float, float]:
    """Smallest and largest volume per atom of the prototypes at the composition closest to ``atoms``."""
    x = _oxygen_fraction(atoms)
    gap = min(abs(x - rx) for rx, _ in references)
    volumes = [v for rx, v in references if abs(abs(x - rx) - gap) < 1e-9]
    return min(volumes), max(volumes)


def _closest_contact(atoms: Atoms) -> float:
    """Smallest distance / (sum of covalent radii) over all pairs, periodic images included (inf if none near)."""
    radii = covalent_radii[atoms.numbers]
    i, j, d = neighbor_list("ijd", atoms, 3 * float(radii.max()))
    return float(np.min(d / (radii[i] + radii[j]))) if len(d) else math.inf


def _random_crystal(system: str, rng: np.random.Generator, *, max_atoms: int,
                    references: list[tuple[float, float]]) -> tuple[Atoms, str] | None:
    """One pyxtal crystal in a random space group, or None when this draw cannot be built.

    pyxtal picks a volume between covalent- and van-der-Waals-sphere packing, two to three times too large for
    Fe or Si. The cell is therefore rescaled to a volume drawn around the prototypes' densities, but never so far
    that the closest pair falls below RANDOM_MIN_CONTACT x the sum of covalent radii; crystals that stay more than
    RANDOM_MAX_EXPANSION times less dense than the loosest prototype are dropped.
    """
    pyxtal, _ = _import_pyxtal()
    species, counts = _random_composition(system, rng, max_atoms)
    number = int(rng.integers(1, 231))
    group = _group(number)
    if not group.check_compatible(counts)[0]:
        return None
    crystal = pyxtal()
    try:
        crystal.from_random(3, number, species, counts, max_count=PYXTAL_MAX_COUNT, random_state=rng,
                            tm=_pyxtal_tolerances())
    except Exception:  # pyxtal raises bare RuntimeError/ValueError/... when it cannot place the atoms
        return None
    if not crystal.valid:
        return None
    structure = crystal.to_pymatgen()
    atoms = _to_atoms(structure)
    v_min, v_max = _reference_volumes(atoms, references)
    target = rng.uniform(RANDOM_VOLUME_SPREAD[0] * v_min, RANDOM_VOLUME_SPREAD[1] * v_max) * len(atoms)
    scale = max((target / atoms.get_volume()) ** (1 / 3), RANDOM_MIN_CONTACT / _closest_contact(atoms))
    atoms.set_cell(atoms.cell.array * scale, scale_atoms=True)
    if atoms.get_volume() / len(atoms) > RANDOM_MAX_EXPANSION * v_max:
        return None  # too open to be a useful bulk candidate
    formula = structure.composition.formula.replace(" ", "")
    return atoms, f"pyxtal:{group.symbol}:{formula}"


def _supercell(atoms: Atoms, rng: np.random.Generator, min_atoms: int, max_atoms: int) -> Atoms:
    """A random diagonal supercell with between min_atoms and max_atoms atoms (the smallest fitting one if none)."""
    n = len(atoms)
    fits = [m for m in _SUPERCELL_CHOICES if n * math.prod(m) <= max_atoms]
    big_enough = [m for m in fits if n * math.prod(m) >= min_atoms]
    if big_enough:
        choice = big_enough[int(rng.integers(len(big_enough)))]
    else:
        choice = max(fits, key=math.prod)
    return atoms.repeat(choice)


def _rattle(atoms: Atoms, rng: np.random.Generator, rms_range: tuple[float, float]) -> Atoms:
    rms = rng.uniform(*rms_range)
    out = atoms.copy()
    out.positions += rng.normal(0.0, rms / math.sqrt(3), size=out.positions.shape)
    return out


def _strain(atoms: Atoms, rng: np.random.Generator) -> Atoms:
    """Isotropic (half the draws) or random symmetric anisotropic strain, every component within +-MAX_STRAIN."""
    if rng.random() < 0.5:
        eps = np.eye(3) * rng.uniform(-MAX_STRAIN, MAX_STRAIN)
    else:
        upper = np.triu(rng.uniform(-MAX_STRAIN, MAX_STRAIN, size=(3, 3)))
        eps = upper + np.triu(upper, 1).T
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
    return out


def _vacancy(system: str, atoms: Atoms, rng: np.random.Generator) -> Atoms | None:
    """Remove one or two atoms; in Ti-O cells with oxygen only O is removed (oxygen vacancies)."""
    symbols = np.array(atoms.get_chemical_symbols())
    removable = np.flatnonzero(symbols == "O") if system == "TiO2" and "O" in symbols else np.arange(len(atoms))
    n_remove = 1 if rng.random() < 0.8 else 2
    if len(removable) < n_remove + 1 or len(atoms) - n_remove < 2:
        return None
    out = atoms.copy()
    del out[sorted(rng.choice(removable, size=n_remove, replace=False).tolist())]
    return _rattle(out, rng, VACANCY_RATTLE_RMS)


def _perturbed(kind: str, system: str, parent: Atoms, rng: np.random.Generator, max_atoms: int) -> Atoms | None:
    if kind == "strain":
        return _strain(_supercell(parent, rng, 1, max_atoms), rng)
    if kind == "rattle":
        return _rattle(_supercell(parent, rng, 8, max_atoms), rng, RATTLE_RMS)
    return _vacancy(system, _supercell(parent, rng, 8, max_atoms), rng)


class _Budget:
    """Bounds the draws of one kind and the wall time of the whole generation; exceeding either is an error."""

    def __init__(self, time_limit: float) -> None:
        self.deadline = time.monotonic() + time_limit
        self.time_limit = time_limit

    def check(self, system: str, kind: str, draw: int, made: int, wanted: int) -> None:
        if draw >= MAX_DRAWS_PER_CANDIDATE * wanted + 100:
            raise RuntimeError(f"{system}: only {made} of {wanted} {kind!r} candidates after {draw} draws")
        if time.monotonic() > self.deadline:
            raise RuntimeError(f"{system}: candidate generation exceeded time_limit={self.time_limit} s "
                               f"({made} of {wanted} {kind!r} candidates made)")


def _draw_kind(kind, wanted, make, *, system, seed, max_atoms, budget) -> list[Candidate]:
    out: list[Candidate] = []
    draw = 0
    while len(out) < wanted:
        budget.check(system, kind, draw, len(out), wanted)
        made = make(_stream(seed, system, kind, draw))
        draw += 1
        if made is None:
            continue
        atoms, parent = made
        if _acceptable(atoms, max_atoms):
            out.append(Candidate(atoms, kind, parent, f"{system}-{kind}-{len(out):05d}"))
    return out


def generate_candidates(system: str, seed: int, *, n_total: int = 1900, max_atoms: int = 32,
                        time_limit: float = 600.0) -> list[Candidate]:
    """About ``n_total`` candidates: every prototype, then random crystals, strained, rattled and vacancy cells.

    Deterministic for (system, seed, n_total, max_atoms). Prototypes with more than ``max_atoms`` atoms are left out.
    Raises RuntimeError when a kind cannot be filled within its draw budget or ``time_limit`` seconds pass: the
    result is either the deterministic one or an error, never a silently shorter list.
    """
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; known: {sorted(SYSTEMS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if max_atoms < 2:
        raise ValueError(f"max_atoms must be at least 2, got {max_atoms}")
    budget = _Budget(time_limit)
    polymorphs = [
        Candidate(_to_atoms(s), "polymorph", name, f"{system}-polymorph-{name}")
        for name, s in prototypes(system)
        if len(s) <= max_atoms
    ]
    if not polymorphs:
        raise ValueError(f"max_atoms={max_atoms} is smaller than every prototype of {system}")
    if n_total < len(polymorphs):
        raise ValueError(f"n_total={n_total} is smaller than the {len(polymorphs)} prototypes of {system}")
    quotas = _quotas(n_total - len(polymorphs))
    common = dict(system=system, seed=seed, max_atoms=max_atoms, budget=budget)
    references = _volume_ranges(polymorphs)
    randoms: list[Candidate] = []
    if quotas["random"]:
        with _shared_default_tolerances():
            make_random = functools.partial(_random_crystal, system, max_atoms=max_atoms, references=references)
            randoms = _draw_kind("random", quotas["random"], make_random, **common)

    def perturb(kind):
        def make(rng):
            pool = polymorphs if not randoms or rng.random() < PROTOTYPE_PARENT_SHARE else randoms
            parent = pool[int(rng.integers(len(pool)))]
            atoms = _perturbed(kind, system, parent.atoms, rng, max_atoms)
            return None if atoms is None else (atoms, parent.id)

        return make

    perturbed = [
        c for kind in ("strain", "rattle", "vacancy") for c in _draw_kind(kind, quotas[kind], perturb(kind), **common)
    ]
    return polymorphs + randoms + perturbed

