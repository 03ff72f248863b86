"""Named datasets: ``load_dataset("si-mlearn")`` or ``load_dataset("path/to/file")``, and ``list_datasets()``.

A ``Source`` says where a dataset lives, in which format, and what to record about it. The four real DFT sets are
looked up under ``$ALCORE_SHARED_DATASETS`` or ``<repo root>/../shared/datasets``. Pools bundled with the project
register later with ``priority=BUNDLED_PRIORITY`` so ``list_datasets`` shows them first.

A named dataset that is one file is parsed once per machine and then read back from a disk cache of arrays
(``parsed_cache``; a bundled pool loads in well under 0.1 s instead of about 1 s, which matters for the app's start);
bundled pools ship those arrays (``data/parsed/``), so this holds from the very first start on a machine.
In the process, loading is cached too: the same path with the same file sizes and mtimes gives back the same
``Dataset`` object (callers must treat it as read-only). Folder sources (e.g. Carbon-24's 2032 CIFs, 3.4-3.9 s cold)
are parsed each time.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS
from alcore.datasets.loading import load_file
from alcore.datasets.parsed_cache import read_cached
from alcore.paths import SHARED_ENV, bundled_manifest_path, bundled_pool_path, shared_datasets_root, shipped_parsed_path
from alcore.registry import Registry

SHARED_PRIORITY = 0
BUNDLED_PRIORITY = 100
MEMORY_CACHE_SIZE = 8



def shared(relative: str) -> Callable[[], Path]:
    """A location under the shared datasets folder."""
    return lambda: shared_datasets_root() / relative


@dataclass(frozen=True)
class Source:
    """A named dataset: where it is (resolved lazily), how to read it, and what to record about it."""

    name: str
    description: str
    format: str
    location: Callable[[], Path]
    priority: int = SHARED_PRIORITY
    options: Mapping[str, Any] = field(default_factory=dict)  # extra keyword arguments for the importer
    provenance: Mapping[str, Any] = field(default_factory=dict)
    # the file's parsed arrays shipped beside it (bundled pools), read instead of parsing while they match the file
    parsed: Callable[[], Path] | None = None

    def path(self) -> Path:
        return Path(self.location())

    def available(self) -> bool:
        return self.path().exists()

    def read(self) -> Dataset:
        """Parse the source (no caching); the dataset is named after the source."""
        shipped = self.parsed() if self.parsed is not None else None
        dataset = read_cached(self.path(), self.format, self.options, IMPORTERS.get(self.format), shipped=shipped)
        provenance = {**dataset.provenance, "source": self.name, **dict(self.provenance)}
        return dataclasses.replace(dataset, name=self.name, provenance=provenance)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    available: bool
    location: str
    format: str


SOURCES: Registry[Source] = Registry("dataset source")


def register_source(source: Source) -> Source:
    if source.format not in IMPORTERS:
        raise ValueError(f"source {source.name!r}: unknown format {source.format!r}")
    return SOURCES.add(source.name, source)


FETCHED_PRIORITY = 50


def fetched_sources() -> list[Source]:
    """Pools fetched from the Materials Project / OQMD (``python -m alcore fetch``), as sources.

    Found in the fetch cache folder at call time rather than registered once: a pool fetched by another process (or
    after this one started) is listed at once, and nothing global changes when the cache folder does.
    """
    from alcore.datasets.fetched.cache import cached_pools

    return [
        Source(
            name=pool.name,
            description=pool.description,
            format="fetched-pool",
            location=(lambda path=pool.path: path),
            priority=FETCHED_PRIORITY,
            provenance={"fetched": True},
        )
        for pool in cached_pools()
        if pool.name not in SOURCES
    ]


def find_source(name: str) -> Source | None:
    """The registered or fetched source called ``name``, if any."""
    if name in SOURCES:
        return SOURCES.get(name)
    return next((s for s in fetched_sources() if s.name == name), None)


def list_datasets() -> list[DatasetInfo]:
    """Every registered source and fetched pool, highest priority first (registration order within a priority)."""
    sources = sorted([*(SOURCES.get(n) for n in SOURCES), *fetched_sources()], key=lambda s: -s.priority)
    return [DatasetInfo(s.name, s.description, s.available(), str(s.path()), s.format) for s in sources]


def load_dataset(spec: str | os.PathLike, format: str | None = None) -> Dataset:
    """A dataset by name (registered or fetched), else a file/folder/archive path (``format`` as in ``load_file``)."""
    source = find_source(spec) if isinstance(spec, str) else None
    if source is not None:
        if format is not None and format != source.format:
            raise ValueError(f"dataset {spec!r} is in format {source.format!r}; do not pass format={format!r}")
        path = source.path()
        if not path.exists():
            hint = f"; set ${SHARED_ENV} to the folder holding it" if source.priority == SHARED_PRIORITY else ""
            raise DatasetError(path, f"dataset {spec!r} is not available on this machine{hint}")
        return _memo(("source", spec), path, source.read)
    path = Path(spec)
    if path.exists():
        return _memo(("file", format), path, lambda: load_file(path, format=format))
    known = ", ".join([*SOURCES.names(), *(s.name for s in fetched_sources())]) or "none"
    raise DatasetError(spec, f"neither a registered dataset name (known: {known}) nor an existing file or folder")


_MEMORY: OrderedDict[tuple, Dataset] = OrderedDict()


def _memo(kind: tuple, path: Path, load: Callable[[], Dataset]) -> Dataset:
    key = (*kind, str(path.resolve()), stat_signature(path))
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    dataset = load()
    _MEMORY[key] = dataset
    while len(_MEMORY) > MEMORY_CACHE_SIZE:
        _MEMORY.popitem(last=False)
    return dataset


def clear_memory_cache() -> None:
    _MEMORY.clear()


def stat_signature(path: Path) -> tuple:
    """Sizes and mtimes of a file or of every file under a folder: changes whenever the content may have changed."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return tuple((p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


# The real DFT sets under the shared folder (see its README.md).
TIO2_REFERENCE_ENERGIES = {"O": -432.503149303, "Ti": -1604.604515075}

register_source(Source(
    name="si-mlearn",
    description="Si: 239 structures (214 train + 25 test), 12-96 atoms; VASP PBE energies, forces, stress (mlearn)",
    format="mlearn",
    location=shared("si_mlearn"),
    provenance={"reference": "Zuo et al., J. Phys. Chem. A 124, 731 (2020)", "licence": "BSD-3-Clause",
                "code": "VASP PBE"},
))  # fmt: skip
register_source(Source(
    name="tio2-aenet",
    description="TiO2 (incl. O-deficient cells): 1000 structures, 6-95 atoms; QE PBE energies and forces (aenet XSF)",
    format="xsf",
    location=shared("tio2_aenet/dir_xsf.tar.gz"),
    options={"references": TIO2_REFERENCE_ENERGIES},
    provenance={"reference": "Artrith & Urban, Comput. Mater. Sci. 114, 135 (2016)", "licence": "MIT-style",
                "code": "Quantum ESPRESSO PBE"},
))  # fmt: skip
register_source(Source(
    name="c-carbon24",
    description="C: 2032 relaxed polymorphs (Carbon-24 validation split, AIRSS at 10 GPa), 6-24 atoms; CASTEP energies",
    format="csv-cif",
    location=shared("c_carbon24/val.csv"),
    provenance={"reference": "Pickard, Materials Cloud 2020.0026/v1 (Carbon-24)", "licence": "MIT",
                "code": "CASTEP (absolute energy scale)"},
))  # fmt: skip
register_source(Source(
    name="fe-fitsnap",
    description="Fe: 2517 configurations (bcc, hcp, liquid, EOS, elastic, defects), 2-132 atoms; energies, forces, "
    "stress, spins (FitSNAP JSON)",
    format="fitsnap",
    location=shared("fe_fitsnap/Fe_Linear_NPJ2021_JSON.tar.gz"),
    provenance={"reference": "Nikolov et al., npj Comput. Mater. 7, 153 (2021)", "licence": "GPL-2.0 repository"},
))  # fmt: skip


# The pools bundled with the project (built by ``python -m alcore data build --all``; see data/README.md).
BUNDLED_SYSTEMS = {"C": "carbon", "Si": "silicon", "Fe": "iron", "TiO2": "Ti-O (TiO2 polymorphs and suboxides)"}


def _bundled_description(system: str, label: str) -> str:
    """Counts come from the pool's manifest, so the listing always matches the shipped file."""
    base = f"{label}: CHGNet-labelled pool (energies, formation energies, forces, stress; a DFT surrogate, not DFT)"
    try:
        manifest = json.loads(bundled_manifest_path(system).read_text(encoding="utf-8"))
        kinds = ", ".join(f"{v} {k}" for k, v in manifest["counts_by_kind"].items())
        lo, hi = manifest["n_atoms_range"]
    except (OSError, ValueError, KeyError, TypeError):
        return base
    return (
        f"{label}: {manifest['n_structures']} structures ({kinds}), {lo}-{hi} atoms; "
        f"CHGNet {manifest['chgnet_version']} energies, formation energies, forces, stress (a DFT surrogate, not DFT)"
    )


for _system, _label in BUNDLED_SYSTEMS.items():
    register_source(Source(
        name=_system,
        description=_bundled_description(_system, _label),
        format="extxyz",
        location=(lambda s=_system: bundled_pool_path(s)),
        parsed=(lambda s=_system: shipped_parsed_path(s)),
        priority=BUNDLED_PRIORITY,
        provenance={"bundled": True, "manifest": f"data/{_system}.manifest.json",
                    "labels": "CHGNet universal potential (surrogate of Materials-Project-style PBE/PBE+U)"},
    ))  # fmt: skip
