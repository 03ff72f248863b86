"""Build one bundled pool end to end: candidates -> CHGNet labels (+ relaxation frames) -> curation -> files.

``build_pool("TiO2", seed=0)`` writes, atomically, into ``data/``:

- ``TiO2.extxyz.gz``: the curated pool (ids, kinds, energy and formation energy per atom, forces, stress, CHGNet
  magnetic moments as ``initial_magmoms``, provenance on the first frame);
- ``TiO2.manifest.json``: versions, seed, counts per kind and composition, curation counts, energy ranges, the
  polymorph sanity checks with their numbers, stage timings, file sizes, each structure's parent;
- ``features/<descriptor>-<cache key>.npz``: raw descriptor features (float32) for every registered family, named by
  the same key as the descriptor cache, so the app never recomputes them;
- ``embeddings/TiO2-<descriptor>.npz``: the 2-D UMAP map per family, stamped with fingerprint and params hash;
- ``parsed/TiO2.npz``: the pool's parsed arrays, stamped with the pool file's digest, so the app's first start on a
  machine does not parse the extxyz (about 1 s; ``python -m alcore data parse`` rewrites them alone).

Relaxations: every textbook prototype (kind ``polymorph``) is relaxed (their relaxed energies feed the sanity checks)
plus a seeded subset of the other candidates, to ``n_relax`` in total; each adds its middle and final frame as kind
``relax``. ``build_all`` builds the four systems, enforces the size budget and writes the data card.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from ase import Atoms

from alcore.atomic import write_json, write_npz
from alcore.datasets.base import Dataset
from alcore.datasets.importers.extxyz import read_extxyz, write_extxyz
from alcore.paths import BUNDLED_SYSTEMS, DATA_DIR, shipped_parsed_path
from alcore.pool_builder.curate import MAX_FORCE, curate, reduced_formula

log = logging.getLogger(__name__)

GENERATOR_VERSION = 1  # bump when candidates, labelling or curation change what a build produces
DEFAULT_N_TOTAL = 1800  # gives 1 700+ structures per system after relaxation frames and curation
DEFAULT_N_RELAX = 24  # prototypes (7-13 per system) included: CHGNet steps are one structure at a time, ~0.3 s each
RELAX_STEPS = 30
RELAX_FMAX = 0.1
RELAX_MAX_ATOMS = 16  # non-prototype relaxations pick small cells: a step's cost grows with the cell
PROTOTYPE_RELAX_STEPS = 60
PROTOTYPE_RELAX_FMAX = 0.05
UNARY_FLOOR_MARGIN = 0.1  # eV/atom below the relaxed elemental ground state: lower means a model artefact
MIN_STRUCTURES = 1500
POOL_FILE_BUDGET = 5 * 1024**2
DATA_DIR_BUDGET = 25 * 1024**2

# (kind of check, names, threshold in eV/atom); names are matched against prototype names, case-insensitively
SANITY_CHECKS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "Si": ("lowest", ("diamond",), 5e-3),
    "Fe": ("lowest", ("bcc",), 5e-3),  # Bain-path cells may relax back to bcc: equal within the tolerance
    # CHGNet learns PBE-based Materials Project data, where diamond sits on the order of 0.1 eV/atom above graphite
    # (experiment: ~0.02 eV/atom); "close" here means within 0.15 eV/atom, graphite-AB vs diamond.
    "C": ("close", ("graphite", "diamond"), 0.15),
    "TiO2": ("close", ("rutile", "anatase"), 0.05),
}

Report = Callable[[str], None]


def build_pool(
    system: str,
    seed: int = 0,
    out_dir: str | Path | None = None,
    n_total: int = DEFAULT_N_TOTAL,
    *,
    n_relax: int = DEFAULT_N_RELAX,
    relax_steps: int = RELAX_STEPS,
    prototype_relax_steps: int = PROTOTYPE_RELAX_STEPS,
    candidates: Sequence[Any] | None = None,
    elements: Sequence[str] | None = None,
    min_structures: int | None = None,
    features: bool = True,
    model=None,
    report: Report | None = None,
) -> dict[str, Any]:
    """Build ``system``'s pool into ``out_dir`` (default ``<repo>/data``) and return its manifest.

    ``candidates``/``elements`` replace ``alcore.pool_builder.candidates.generate_candidates``/``SYSTEMS`` (tests use a
    handful of structures); ``min_structures`` (default ``MIN_STRUCTURES`` for a full-size build, none otherwise)
    makes a too-small curated pool an error; ``features=False`` skips shipped features and embeddings.
    """
    from alcore.oracles import chgnet
    from alcore.pool_builder import label

    say = report or (lambda msg: log.info(msg))
    out = Path(out_dir) if out_dir is not None else DATA_DIR
    timings: dict[str, float] = {}
    t_start = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 2)
        clock = now
        say(f"{system}: {stage} done in {timings[stage]:.1f} s")

    if candidates is None:
        from alcore.pool_builder.candidates import SYSTEMS, generate_candidates

        if system not in SYSTEMS:
            raise ValueError(f"unknown pool system {system!r}; known: {', '.join(SYSTEMS)}")
        candidates = generate_candidates(system, seed, n_total=n_total)
        elements = SYSTEMS[system] if elements is None else elements
    candidates = list(candidates)
    if not candidates:
        raise ValueError(f"{system}: no candidate structures")
    elements = tuple(elements) if elements is not None else _elements_of(candidates)
    lap("candidates")

    model = model if model is not None else chgnet.load_model()
    references = label.reference_energies(elements, model)
    mu = {el: ref["energy_per_atom"] for el, ref in references.items()}
    lap("references")

    labels = label.label_structures([c.atoms for c in candidates], model, progress=_every(say, system, 400))
    lap("labels")

    relax_ids = choose_relaxations(candidates, labels, n_relax=n_relax, seed=seed)
    frames: list[tuple[str, Atoms, str]] = []  # (id, atoms, parent id)
    for k, i in enumerate(relax_ids):
        cand = candidates[i]
        is_prototype = cand.kind == "polymorph"
        trajectory = label.relax(
            cand.atoms,
            model,
            steps=prototype_relax_steps if is_prototype else relax_steps,
            fmax=PROTOTYPE_RELAX_FMAX if is_prototype else RELAX_FMAX,
        )
        frames += [(f"{cand.id}-relax-{tag}", atoms, cand.id) for tag, atoms in label.pick_frames(trajectory)]
        if (k + 1) % 10 == 0:
            say(f"{system}: relaxed {k + 1}/{len(relax_ids)}")
    frame_labels = label.label_structures([f[1] for f in frames], model)
    lap("relaxations")

    atoms = [c.atoms for c in candidates] + [f[1] for f in frames]
    ids = [c.id for c in candidates] + [f[0] for f in frames]
    kinds = [c.kind for c in candidates] + ["relax"] * len(frames)
    parents = [c.parent for c in candidates] + [f[2] for f in frames]
    energy = np.concatenate([labels.energy_per_atom, frame_labels.energy_per_atom])
    forces = list(labels.forces + frame_labels.forces)
    stress = list(labels.stress + frame_labels.stress)
    magmoms = list(labels.magmoms + frame_labels.magmoms)
    formation = label.formation_energy_per_atom(atoms, energy, mu)

    floor = mu[elements[0]] - UNARY_FLOOR_MARGIN if len(elements) == 1 else None
    curation = curate(atoms, energy, forces, stress, energy_floor=floor)
    kept = curation.kept
    lap("curation")
    need = min_structures if min_structures is not None else (MIN_STRUCTURES if n_total >= DEFAULT_N_TOTAL else 0)
    if len(kept) < need:
        raise RuntimeError(f"{system}: only {len(kept)} structures survive curation, need >= {need}; "
                           f"removed {curation.removed}")

    prototype_energy = _relaxed_prototype_energies(candidates, frames, frame_labels.energy_per_atom)
    sanity = sanity_checks(system, prototype_energy)

    provenance = {
        "generator": "alcore.pool_builder",
        "generator_version": GENERATOR_VERSION,
        "system": system,
        "seed": int(seed),
        "labels": f"CHGNet {chgnet.chgnet_version()} (surrogate of Materials-Project-style PBE/PBE+U, not DFT)",
        "chgnet_version": chgnet.chgnet_version(),
        "references_eV_per_atom": mu,
    }
    stored_atoms = []
    for i in kept:
        a = Atoms(numbers=atoms[i].numbers, positions=atoms[i].positions, cell=atoms[i].cell, pbc=True)
        a.set_initial_magnetic_moments(magmoms[i])
        stored_atoms.append(a)
    dataset = Dataset(
        name=system,
        atoms=tuple(stored_atoms),
        targets={"energy_per_atom": energy[kept], "formation_energy_per_atom": formation[kept]},
        ids=tuple(ids[i] for i in kept),
        forces=tuple(forces[i] for i in kept),
        stress=tuple(stress[i] for i in kept),
        kinds=tuple(kinds[i] for i in kept),
        provenance=provenance,
    )
    pool_path = write_extxyz(dataset, out / f"{system}.extxyz.gz")
    written = read_pool(pool_path)
    ship_parsed(pool_path, system, out)
    lap("write")

    shipped: dict[str, Any] = {}
    if features:
        shipped = ship_features_and_embeddings(written, system, out, report=say)
        lap("features+embeddings")

    manifest = {
        "system": system,
        "file": pool_path.name,
        "file_bytes": pool_path.stat().st_size,
        "n_structures": len(dataset),
        "generator": "alcore.pool_builder",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "n_total_requested": int(n_total),
        "n_candidates": len(candidates),
        "n_relaxations": len(relax_ids),
        "n_relax_frames": len(frames),
        "relaxation": {"steps": relax_steps, "fmax": RELAX_FMAX, "prototype_steps": prototype_relax_steps,
                       "prototype_fmax": PROTOTYPE_RELAX_FMAX, "optimizer": "FIRE + FrechetCellFilter"},
        "chgnet_version": chgnet.chgnet_version(),
        "references": references,
        "counts_by_kind": dict(sorted(Counter(dataset.kinds).items())),
        "counts_by_composition": dict(sorted(Counter(reduced_formula(a) for a in dataset.atoms).items())),
        "n_atoms_range": [int(dataset.n_atoms.min()), int(dataset.n_atoms.max())],
        "curation": curation.to_dict(),
        "energy_ranges": _ranges(dataset),
        "sanity_checks": sanity,
        "prototype_relaxed_energy_per_atom": prototype_energy,
        "dataset_fingerprint": written.fingerprint(),
        "shipped": shipped,
        "timings_s": timings,
        "build_time_s": round(time.perf_counter() - t_start, 1),
        "machine": f"{platform.machine()}, {_n_cpus()} CPU(s)",
        "rebuild": f"python -m alcore data build --system {system} --seed {seed}"
        + ("" if n_total == DEFAULT_N_TOTAL else f" --n-total {n_total}"),
        "parents": {ids[i]: parents[i] for i in kept},
    }
    write_json(out / f"{system}.manifest.json", manifest)
    say(f"{system}: {len(dataset)} structures in {manifest['build_time_s']:.0f} s -> {pool_path}")
    return manifest


def build_all(
    seed: int = 0,
    out_dir: str | Path | None = None,
    n_total: int = DEFAULT_N_TOTAL,
    *,
    systems: Sequence[str] = BUNDLED_SYSTEMS,
    report: Report | None = None,
    **options: Any,
) -> dict[str, dict[str, Any]]:
    """Build every system (one CHGNet load), enforce the size budget, write the data card; returns the manifests."""
    from alcore.oracles import chgnet
    from alcore.pool_builder.card import write_card

    say = report or (lambda msg: log.info(msg))
    out = Path(out_dir) if out_dir is not None else DATA_DIR
    model = chgnet.load_model()
    manifests = {s: build_pool(s, seed, out, n_total, model=model, report=say, **options) for s in systems}
    budget = enforce_budget(out, report=say)
    write_card(out, budget=budget)
    return manifests


def read_pool(pool_path: Path) -> Dataset:
    """The pool as the app will see it: read back from the file (8-decimal positions), named like its source."""
    dataset = read_extxyz(pool_path)
    return dataclasses.replace(dataset, name=pool_path.name.split(".")[0])


def ship_parsed(pool_path: Path, system: str, out: Path) -> Path:
    """The pool's parsed arrays, as the app's ``Source`` reads them (extxyz importer, no options), beside the pool."""
    from alcore.datasets.importers import IMPORTERS
    from alcore.datasets.parsed_cache import write_shipped

    dest = shipped_parsed_path(system, out)
    write_shipped(dest, pool_path, "extxyz", {}, IMPORTERS.get("extxyz"))
    return dest


def ship_parsed_all(out_dir: str | Path | None = None, *, systems: Sequence[str] = BUNDLED_SYSTEMS,
                    report: Report | None = None) -> list[Path]:
    """Rewrite the parsed arrays of the pools already in ``out_dir`` (after an importer change; seconds, no CHGNet)."""
    say = report or (lambda msg: log.info(msg))
    out = Path(out_dir) if out_dir is not None else DATA_DIR
    written = []
    for system, pool in _existing_pools(out, systems, say):
        written.append(ship_parsed(pool, system, out))
        say(f"{system}: parsed arrays -> {written[-1]}")
    return written


def _existing_pools(out: Path, systems: Sequence[str], say: Report) -> Iterator[tuple[str, Path]]:
    """(system, pool file) for each of ``systems`` whose pool is in ``out``; the missing ones are reported."""
    for system in systems:
        pool = out / f"{system}.extxyz.gz"
        if pool.is_file():
            yield system, pool
        else:
            say(f"{system}: no pool at {pool}; skipped")


def ship_features_and_embeddings(dataset: Dataset, system: str, out: Path, *, report: Report) -> dict[str, Any]:
    """Raw features (float32) and UMAP maps for every registered descriptor family, computed on the pool as read
    back from its file (``read_pool``), so fingerprints match what the app loads."""
    from alcore.descriptors.base import DESCRIPTORS
    from alcore.descriptors.features import featurize_raw, standardise
    from alcore.embeddings import UMAP_SETTINGS, compute_embedding, params_hash, save_embedding, shipped_path

    fingerprint = dataset.fingerprint()
    shipped: dict[str, Any] = {}
    for descriptor in DESCRIPTORS:
        t0 = time.perf_counter()
        raw, labels = featurize_raw(dataset, descriptor, cache=False)
        feature_path = out / "features" / shipped_feature_name(fingerprint, descriptor)
        write_npz(feature_path, features=raw.astype(np.float32), labels=np.array(labels, dtype=str),
                  fingerprint=np.array(fingerprint))
        X = standardise(raw, labels)[0]
        t1 = time.perf_counter()
        embedding = compute_embedding(X, **UMAP_SETTINGS)
        phash = params_hash(descriptor)
        emb_path = save_embedding(shipped_path(dataset.name, descriptor, out), embedding, fingerprint=fingerprint,
                                  phash=phash, descriptor=descriptor)
        t2 = time.perf_counter()
        shipped[descriptor] = {
            "features": f"features/{feature_path.name}",
            "n_features": int(raw.shape[1]),
            "embedding": f"embeddings/{emb_path.name}",
            "params_hash": phash,
            "features_s": round(t1 - t0, 1),
            "umap_s": round(t2 - t1, 1),
        }
        report(f"{system}: {descriptor} features {raw.shape} in {t1 - t0:.1f} s, UMAP in {t2 - t1:.1f} s")
    return shipped


def shipped_feature_name(fingerprint: str, descriptor: str) -> str:
    """The shipped file's name: identical to the descriptor cache file name (default params)."""
    from alcore.descriptors.features import cache_file

    return cache_file(fingerprint, descriptor).name


def choose_relaxations(candidates: Sequence[Any], labels, *, n_relax: int, seed: int) -> list[int]:
    """Every prototype, then a seeded random subset of the other candidates, ``n_relax`` in total (sorted indices).

    The subset is drawn among sane (finite labels, max |F| < 50 eV/Å) cells of <= ``RELAX_MAX_ATOMS`` atoms.
    """
    prototypes = [i for i, c in enumerate(candidates) if c.kind == "polymorph"]
    sane = [
        i
        for i, c in enumerate(candidates)
        if c.kind != "polymorph"
        and len(c.atoms) <= RELAX_MAX_ATOMS
        and np.isfinite(labels.energy_per_atom[i])
        and np.all(np.isfinite(labels.forces[i]))
        and float(np.linalg.norm(labels.forces[i], axis=1).max()) < MAX_FORCE
    ]
    rng = np.random.default_rng([int(seed), 7_411])
    extra = max(0, n_relax - len(prototypes))
    picked = rng.choice(sane, size=min(extra, len(sane)), replace=False).tolist() if sane and extra else []
    return sorted(prototypes + [int(i) for i in picked])


def _relaxed_prototype_energies(candidates, frames, frame_energies) -> dict[str, float]:
    """Prototype name -> CHGNet energy per atom of its final relaxation frame."""
    end = {fid: float(e) for (fid, _, _), e in zip(frames, frame_energies, strict=True)}
    out = {}
    for c in candidates:
        if c.kind == "polymorph" and f"{c.id}-relax-end" in end:
            out[str(c.parent)] = end[f"{c.id}-relax-end"]
    return out


def _find(energies: dict[str, float], wanted: str) -> str | None:
    """The prototype named ``wanted``, else the lowest-energy one whose name contains it (graphite-AB/-ABC/-AA)."""
    exact = [n for n in energies if n.lower() == wanted]
    loose = sorted((n for n in energies if wanted in n.lower()), key=energies.get)
    return (exact or loose or [None])[0]


def sanity_checks(system: str, prototype_energy: dict[str, float]) -> dict[str, Any]:
    """The polymorph-ordering check for ``system`` on relaxed prototype energies (eV/atom), with its numbers."""
    if system not in SANITY_CHECKS:
        return {"status": "skipped", "reason": f"no check defined for {system!r}"}
    kind, wanted, tol = SANITY_CHECKS[system]
    found = {w: _find(prototype_energy, w) for w in wanted}
    missing = [w for w, n in found.items() if n is None]
    if missing:
        return {"status": "skipped", "reason": f"prototype(s) {missing} not in the pool",
                "energies": prototype_energy}
    if kind == "lowest":
        name = found[wanted[0]]
        others = {n: e for n, e in prototype_energy.items() if n != name}
        gap = min(others.values()) - prototype_energy[name] if others else float("inf")
        ok = gap >= -tol
        text = f"{name} lowest among {len(prototype_energy)} relaxed polymorphs (margin {gap * 1000:.0f} meV/atom)"
    else:
        a, b = (found[w] for w in wanted)
        gap = prototype_energy[a] - prototype_energy[b]
        ok = abs(gap) <= tol
        text = f"E({a}) - E({b}) = {gap * 1000:+.0f} meV/atom (|.| <= {tol * 1000:.0f})"
    return {"status": "pass" if ok else "FAIL", "check": text, "gap_eV_per_atom": float(gap),
            "tolerance_eV_per_atom": tol, "energies": prototype_energy}


def enforce_budget(out: Path, *, report: Report) -> dict[str, Any]:
    """Check pool files <= 5 MB and ``data/`` <= 25 MB; if over, delete the shipped features first (say so)."""
    pools = {p.name: p.stat().st_size for p in sorted(out.glob("*.extxyz.gz"))}
    over = [n for n, size in pools.items() if size > POOL_FILE_BUDGET]
    total = _folder_bytes(out)
    dropped_features = False
    if total > DATA_DIR_BUDGET and (out / "features").is_dir():
        for f in (out / "features").glob("*.npz"):
            f.unlink()
        dropped_features = True
        report(f"data/ was {total / 1e6:.1f} MB > {DATA_DIR_BUDGET / 1e6:.0f} MB: removed shipped features")
        total = _folder_bytes(out)
    if over:
        report(f"WARNING: pool files over {POOL_FILE_BUDGET / 1e6:.0f} MB: {over}")
    if total > DATA_DIR_BUDGET:
        report(f"WARNING: data/ is {total / 1e6:.1f} MB, over the {DATA_DIR_BUDGET / 1e6:.0f} MB budget")
    return {"pool_bytes": pools, "pools_over_budget": over, "data_bytes": total, "dropped_features": dropped_features}


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _ranges(dataset: Dataset) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target in ("energy_per_atom", "formation_energy_per_atom"):
        v = dataset.targets[target]
        out[target] = {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean())}
        by_kind = {}
        for kind in sorted(set(dataset.kinds)):
            sel = v[np.array(dataset.kinds) == kind]
            by_kind[kind] = [float(sel.min()), float(sel.max())]
        out[target]["by_kind"] = by_kind
    fmax = [float(np.linalg.norm(f, axis=1).max()) for f in dataset.forces]
    out["max_force_eV_per_A"] = {"min": min(fmax), "max": max(fmax), "median": float(np.median(fmax))}
    return out


def _every(say: Report, system: str, step: int) -> Callable[[int, int], None]:
    reported = [0]

    def progress(done: int, total: int) -> None:
        if done == total or done - reported[0] >= step:
            reported[0] = done
            say(f"{system}: labelled {done}/{total}")

    return progress


def _elements_of(candidates: Sequence[Any]) -> tuple[str, ...]:
    symbols = {s for c in candidates for s in c.atoms.get_chemical_symbols()}
    return tuple(sorted(symbols))


def _n_cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def embed_all(out_dir: str | Path | None = None, *, systems: Sequence[str] = BUNDLED_SYSTEMS,
              report: Report | None = None) -> dict[str, dict[str, Any]]:
    """Recompute shipped features and UMAP maps of the pools already in ``out_dir`` (no CHGNet needed)."""
    import json

    from alcore.pool_builder.card import write_card

    say = report or (lambda msg: log.info(msg))
    out = Path(out_dir) if out_dir is not None else DATA_DIR
    done = {}
    for system, pool in _existing_pools(out, systems, say):
        manifest_path = out / f"{system}.manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
        written = read_pool(pool)
        ship_parsed(pool, system, out)
        manifest["shipped"] = ship_features_and_embeddings(written, system, out, report=say)
        manifest["dataset_fingerprint"] = written.fingerprint()
        if manifest_path.is_file():
            write_json(manifest_path, manifest)
        done[system] = manifest["shipped"]
    _remove_orphan_features(out)
    write_card(out, budget=enforce_budget(out, report=say))
    return done


def _remove_orphan_features(out: Path) -> None:
    """Delete shipped feature files no manifest refers to (left over from an earlier build)."""
    import json

    wanted = set()
    for manifest in out.glob("*.manifest.json"):
        for entry in json.loads(manifest.read_text(encoding="utf-8")).get("shipped", {}).values():
            wanted.add(Path(entry["features"]).name)
    for f in (out / "features").glob("*.npz") if (out / "features").is_dir() else []:
        if f.name not in wanted:
            f.unlink()
