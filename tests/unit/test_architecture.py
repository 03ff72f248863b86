"""The core stays UI-free: nothing in alcore imports streamlit (checked on the source, so lazy imports count too)."""

import ast
from pathlib import Path

ALCORE = Path(__file__).resolve().parents[2] / "alcore"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_alcore_never_imports_streamlit():
    offenders = [str(p) for p in ALCORE.rglob("*.py") if "streamlit" in _imported_modules(p)]
    assert offenders == []


def test_alcore_never_unpickles():
    risky = ("pickle.load", "pickle.loads", "allow_pickle=True", "MontyDecoder")
    offenders = [
        f"{p}: {word}" for p in ALCORE.rglob("*.py") for word in risky if word in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_every_torch_load_is_weights_only():
    for p in ALCORE.rglob("*.py"):
        for line in p.read_text(encoding="utf-8").splitlines():
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{p}: {line.strip()}"


PAGES = ALCORE.parent / "pages"
SCIENCE = {"numpy", "scipy", "sklearn", "torch", "ase", "pymatgen", "matminer", "dscribe", "umap", "pandas"}


def test_pages_hold_no_science():
    """Page scripts only draw: numerical libraries are used through alcore and the ui layer, never directly."""
    offenders = {p.name: sorted(_imported_modules(p) & SCIENCE) for p in PAGES.glob("*.py")}
    assert {name: mods for name, mods in offenders.items() if mods} == {}
    assert {p.name for p in PAGES.glob("*.py")} >= {"explore.py", "compare.py", "data.py", "learn.py"}
