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


def _package(module: str) -> str:
    """``alcore.datasets.importers.xsf`` -> ``alcore.datasets``: the unit whose imports may not go round in a circle."""
    return ".".join(module.split(".")[:2])


def package_imports() -> dict[str, dict[str, str]]:
    """alcore package -> {package it imports: one file that does}, lazy (function-level) imports included."""
    graph: dict[str, dict[str, str]] = {}
    for path in ALCORE.rglob("*.py"):
        parts = path.relative_to(ALCORE.parent).with_suffix("").parts
        source = _package(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            for target in targets:
                if target.startswith("alcore.") and _package(target) != source:
                    graph.setdefault(source, {}).setdefault(_package(target), str(path.relative_to(ALCORE.parent)))
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str]:
    """One cycle of ``graph`` (as the list of its nodes, first repeated at the end), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, {}):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for node in list(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_find_cycle_finds_one_and_only_one_that_exists():
    assert find_cycle({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ""}, "b": {"c": ""}, "d": {"c": ""}}) == []


def test_no_import_cycles_between_alcore_packages():
    """``alcore.X`` may import ``alcore.Y`` or the other way round, never both (lazy imports count too)."""
    graph = package_imports()
    assert len(graph) > 5, "the scan found too few packages to mean anything"
    cycle = find_cycle(graph)
    files = [graph[a][b] for a, b in zip(cycle, cycle[1:])]
    assert cycle == [], f"import cycle {' -> '.join(cycle)} (through {', '.join(files)})"
