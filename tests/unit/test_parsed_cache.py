"""The disk cache of parsed datasets gives back exactly what the importer read, and never a stale or damaged entry."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from alcore.datasets import Dataset, write_extxyz
from alcore.datasets.importers.extxyz import read_extxyz
from alcore.datasets.parsed_cache import cache_key, dataset_from_arrays, dataset_to_arrays, read_cached


def _dataset() -> Dataset:
    rng = np.random.default_rng(3)
    atoms = []
    for n in (1, 2, 5):
        a = Atoms("Fe" * n, positions=rng.uniform(0, 3, (n, 3)), cell=np.eye(3) * 3.1, pbc=(True, True, n != 2))
        if n == 5:
            a.set_initial_magnetic_moments(rng.uniform(0, 2, n))
        atoms.append(a)
    return Dataset(
        name="tiny",
        atoms=tuple(atoms),
        targets={"energy_per_atom": np.array([-8.1, -8.2, -8.3]), "band_gap": np.array([0.0, 0.1, 0.2])},
        ids=("a", "b", "c"),
        forces=(rng.normal(size=(1, 3)), None, rng.normal(size=(5, 3))),
        stress=(None, rng.normal(size=6), rng.normal(size=6)),
        kinds=("bulk", "slab", "bulk"),
        provenance={"path": "x.extxyz", "units": {"energy_per_atom": "eV/atom"}},
    )


def _same(a: Dataset, b: Dataset) -> bool:
    def arrays_equal(xs, ys) -> bool:
        if xs is None or ys is None:
            return xs is None and ys is None
        return all((x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y))
                   for x, y in zip(xs, ys, strict=True))

    return (
        a.fingerprint() == b.fingerprint()
        and (a.name, a.ids, a.kinds, a.provenance) == (b.name, b.ids, b.kinds, b.provenance)
        and list(a.targets) == list(b.targets)
        and all(np.array_equal(a.targets[k], b.targets[k]) for k in a.targets)
        and arrays_equal(a.forces, b.forces)
        and arrays_equal(a.stress, b.stress)
        and all(np.array_equal(x.get_initial_magnetic_moments(), y.get_initial_magnetic_moments())
                for x, y in zip(a.atoms, b.atoms))
        and all(np.array_equal(x.pbc, y.pbc) for x, y in zip(a.atoms, b.atoms))
    )


def test_arrays_round_trip_every_field():
    original = _dataset()
    assert _same(dataset_from_arrays(dataset_to_arrays(original)), original)


def test_round_trip_without_optional_fields():
    bare = Dataset(name="bare", atoms=(Atoms("Si", cell=np.eye(3)),), targets={"energy_per_atom": np.array([-5.0])},
                   ids=("s",))
    back = dataset_from_arrays(dataset_to_arrays(bare))
    assert _same(back, bare) and back.forces is None and back.stress is None and back.kinds is None


def test_second_read_comes_from_the_cache(tmp_path):
    path = write_extxyz(_dataset(), tmp_path / "pool.extxyz.gz")
    calls = []

    def reader(p):
        calls.append(p)
        return read_extxyz(p)

    first = read_cached(path, "extxyz", {}, reader)
    second = read_cached(path, "extxyz", {}, reader)
    assert len(calls) == 1
    assert _same(first, second)


def test_an_edited_file_is_parsed_again(tmp_path):
    path = write_extxyz(_dataset(), tmp_path / "pool.extxyz")
    key = cache_key(path, "extxyz", {}, read_extxyz)
    read_cached(path, "extxyz", {}, read_extxyz)
    write_extxyz(_dataset().subset([0, 2]), path)
    assert cache_key(path, "extxyz", {}, read_extxyz) != key
    assert len(read_cached(path, "extxyz", {}, read_extxyz)) == 2


def test_options_are_part_of_the_key(tmp_path):
    path = write_extxyz(_dataset(), tmp_path / "pool.extxyz")
    assert cache_key(path, "extxyz", {}, read_extxyz) != cache_key(path, "extxyz", {"x": 1}, read_extxyz)


def test_a_damaged_entry_is_replaced(tmp_path):
    from alcore.paths import cache_dir

    path = write_extxyz(_dataset(), tmp_path / "pool.extxyz")
    entry = cache_dir("datasets") / f"{cache_key(path, 'extxyz', {}, read_extxyz)}.npz"
    read_cached(path, "extxyz", {}, read_extxyz)
    entry.write_bytes(b"not an npz file")
    assert _same(read_cached(path, "extxyz", {}, read_extxyz), read_extxyz(path))
    assert entry.read_bytes()[:2] == b"PK"  # rewritten as a proper archive


def test_bundled_pool_reads_back_identically():
    from alcore.datasets import load_dataset
    from alcore.datasets.sources import SOURCES, clear_memory_cache

    if "Si" not in SOURCES or not SOURCES.get("Si").available():
        pytest.skip("bundled Si pool not present")
    clear_memory_cache()
    first = load_dataset("Si")
    clear_memory_cache()
    assert _same(load_dataset("Si"), first)


def test_shipped_arrays_are_read_instead_of_parsing(tmp_path):
    from alcore.datasets.parsed_cache import write_shipped

    path = write_extxyz(_dataset(), tmp_path / "pool.extxyz.gz")
    shipped = write_shipped(tmp_path / "parsed" / "pool.npz", path, "extxyz", {}, read_extxyz)

    def no_parse(p):
        raise AssertionError("parsed although matching arrays ship")

    assert _same(read_cached(path, "extxyz", {}, no_parse, shipped=tmp_path / "parsed" / "pool.npz"), shipped)
    assert _same(shipped, read_extxyz(path))


@pytest.mark.parametrize("damage", ["edited pool", "other options", "garbage", "missing"])
def test_stale_or_damaged_shipped_arrays_are_ignored(tmp_path, damage):
    from alcore.datasets.parsed_cache import read_shipped, source_digest, write_shipped

    path = write_extxyz(_dataset(), tmp_path / "pool.extxyz")
    dest = tmp_path / "pool.npz"
    write_shipped(dest, path, "extxyz", {}, read_extxyz)
    options = {}
    if damage == "edited pool":
        write_extxyz(_dataset().subset([0, 2]), path)
    elif damage == "other options":
        options = {"x": 1}
    elif damage == "garbage":
        dest.write_bytes(b"PK\x03\x04 not really a zip")
    else:
        dest.unlink()
    assert read_shipped(dest, source_digest(path, "extxyz", options)) is None
    got = read_cached(path, "extxyz", options, lambda p, **kwargs: read_extxyz(p), shipped=dest)
    assert _same(got, read_extxyz(path))


def test_a_cached_parse_says_where_the_file_is_now(tmp_path):
    first = write_extxyz(_dataset(), tmp_path / "a" / "pool.extxyz")
    moved = tmp_path / "b" / "pool.extxyz"
    moved.parent.mkdir()
    moved.write_bytes(first.read_bytes())
    read_cached(first, "extxyz", {}, read_extxyz)
    assert read_cached(moved, "extxyz", {}, read_extxyz).provenance["path"] == str(moved)
