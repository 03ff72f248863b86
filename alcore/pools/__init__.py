"""Bundled pools: the project's own labelled structure pools for C, Si, Fe and Ti-O, built reproducibly.

``candidates``/``prototypes`` make structures, ``label`` runs CHGNet on them, ``curate`` drops duplicates and
unphysical entries, ``build`` writes ``data/<system>.extxyz.gz`` with its manifest, shipped features and UMAP maps,
and ``card`` writes ``data/README.md``. Building needs ``pip install -r requirements-build.txt`` (chgnet, pyxtal);
reading the shipped pools does not, so nothing heavy is imported here.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""Where the bundled pools live: ``<repo>/data``."""

POOL_SYSTEMS = ("C", "Si", "Fe", "TiO2")


def shipped_parsed_path(system: str, out: Path = DATA_DIR) -> Path:
    """Where a pool's parsed arrays ship (``data/parsed/<system>.npz``): the app reads them instead of parsing."""
    return Path(out) / "parsed" / f"{system}.npz"
