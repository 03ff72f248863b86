"""The builder of the bundled pools: the project's own labelled structure pools for C, Si, Fe and Ti-O.

``candidates``/``prototypes`` make structures, ``label`` labels them with an oracle (CHGNet, from ``alcore.oracles``),
``curate`` drops duplicates and unphysical entries, ``build`` writes ``data/<system>.extxyz.gz`` with its manifest,
shipped features and UMAP maps, and ``card`` writes ``data/README.md``. Building needs
``pip install -r requirements-build.txt`` (chgnet, pyxtal); reading the shipped pools does not, so nothing heavy is
imported here. Where the pools live is ``alcore.paths``.
"""
