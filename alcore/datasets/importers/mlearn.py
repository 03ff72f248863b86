"""mlearn JSON (Zuo et al. 2020): a list of items with ``structure`` (pymatgen dict), ``outputs`` and ``group``.

``outputs.energy`` is the total energy (eV), ``outputs.forces`` eV/Å, and ``outputs.virial_stress`` the VASP ``in kB``
line: kbar, order ``xx yy zz xy yz zx``, positive = compressive. It is converted to the ASE convention (eV/Å^3, Voigt
``xx yy zz yz xz xy``, positive = tensile). The order was checked on the Si ``Elastic`` group: a cell whose ``b`` vector
is tilted along x (an xy shear) has its only shear component in slot 3, an xz tilt in slot 5 and a yz tilt in slot 4.
``group`` becomes the structure kind. A folder loads ``training.json`` then ``test.json``; ids are ``training-0000``.
"""

from __future__ import annotations

from pathlib import Path

from alcore.datasets.base import Dataset, DatasetError
from alcore.datasets.importers import IMPORTERS, default_name
from alcore.datasets.importers.pymatgen_json import load_json, structure_to_atoms
from alcore.datasets.records import Record, build_dataset, check_structure_count
from alcore.datasets.units import VASP_VOIGT_ORDER, vasp_kbar_to_ase_stress

SPLIT_FILES = ("training.json", "test.json")


@IMPORTERS.register("mlearn")
def read_mlearn(path: Path) -> Dataset:
    path = Path(path)
    if path.is_dir():
        files = [path / name for name in SPLIT_FILES if (path / name).is_file()]
        if not files:
            raise DatasetError(path, f"an mlearn folder needs {' and/or '.join(SPLIT_FILES)}")
    else:
        files = [path]
    records, splits = [], {}
    for file in files:
        part = _records(file)
        splits[file.name] = len(part)
        records.extend(part)
    provenance = {
        "splits": splits,
        "stress_conversion": f"virial_stress kbar {VASP_VOIGT_ORDER}, + compressive -> ASE eV/Å^3, + tensile",
    }
    return build_dataset(records, path=path, name=default_name(path), format="mlearn", provenance=provenance)


def _records(path: Path) -> list[Record]:
    items = load_json(path)
    if not isinstance(items, list) or not items:
        raise DatasetError(path, "expected a non-empty JSON list of mlearn items")
    check_structure_count(len(items), path)
    stem = default_name(path)
    records = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("outputs"), dict) or "structure" not in item:
            raise DatasetError(path, f"item {i}: not an mlearn item (needs 'structure' and 'outputs')")
        outputs = item["outputs"]
        record = Record(
            atoms=structure_to_atoms(item["structure"], f"{path}: item {i}"),
            id=f"{stem}-{i:04d}",
            where=str(path),
            item=f"item {i}",
            kind=str(item["group"]) if "group" in item else None,
            energy=outputs.get("energy"),
            forces=outputs.get("forces"),
        )
        if record.energy is None:
            raise record.fail("outputs has no 'energy'")
        if outputs.get("virial_stress") is not None:
            try:
                record.stress = vasp_kbar_to_ase_stress(outputs["virial_stress"])
            except (TypeError, ValueError) as exc:
                raise record.fail(f"virial_stress: {exc}") from None
        records.append(record)
    return records
