"""A sweep declared in TOML, expanded into the list of ``RunConfig`` it stands for.

The file has three tables::

    [sweep]                  # the axes: every combination is one run
    datasets = ["Si", "C"]   # (alias: systems) registered names, or paths relative to this file
    descriptors = ["paper", "rdf"]
    strategies = ["random", "diversity"]
    seeds = 5                # 0..4, or an explicit list [3, 7, 11]
    n_members = [3, 5]       # committee sizes
    batch_sizes = [10, 20]

    [base]                   # fixed settings: any other RunConfig field
    n_initial = 20
    budget = 100
    committee_params = { epochs = 50, hidden = [32] }

    [strategy_params.hybrid] # per-strategy options (and [descriptor_params.NAME] per descriptor)
    alpha = 0.5

Every mistake is reported as a ``GridError`` naming the file and the key, before any run starts.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from alcore.config import RunConfig

AXES = ("datasets", "descriptors", "strategies", "seeds", "n_members", "batch_sizes")
AXIS_ALIASES = {"systems": "datasets"}
TABLES = ("sweep", "base", "strategy_params", "descriptor_params")
# RunConfig fields the axes (or the per-name tables) set; [base] may not set them as well.
_AXIS_FIELDS = ("dataset", "descriptor", "strategy", "seed", "batch_size", "strategy_params", "descriptor_params")


class GridError(ValueError):
    """A sweep file that cannot be expanded: names the file, the key and what is wrong with it."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


@dataclass(frozen=True)
class SweepGrid:
    """The runs of a sweep in a fixed order (strategy and seed vary fastest), and the axes they came from."""

    source: str
    axes: Mapping[str, tuple[Any, ...]]
    runs: tuple[RunConfig, ...]

    def __len__(self) -> int:
        return len(self.runs)


def load_grid(path: str | Path) -> SweepGrid:
    """Read and expand a sweep TOML file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such sweep file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GridError(str(path), "(file)", f"not valid TOML ({exc})") from None
    return parse_grid(doc, str(path), base_dir=path.parent)


def parse_grid(doc: Mapping[str, Any], source: str = "<sweep>", base_dir: Path | None = None) -> SweepGrid:
    """Expand a parsed TOML document; ``base_dir`` resolves dataset paths (the folder of the file)."""
    unknown = sorted(set(doc) - set(TABLES))
    if unknown:
        raise GridError(source, unknown[0], f"unknown table or key; known tables: {', '.join(TABLES)}")
    sweep = _table(doc, "sweep", source, required=True)
    axes = _axes(sweep, source, base_dir)
    base = _base(_table(doc, "base", source), source)
    strategy_params = _per_name(doc, "strategy_params", axes["strategies"], source)
    descriptor_params = _per_name(doc, "descriptor_params", axes["descriptors"], source)

    runs = []
    for dataset, descriptor, members, batch, strategy, seed in itertools.product(
        axes["datasets"], axes["descriptors"], axes["n_members"], axes["batch_sizes"], axes["strategies"], axes["seeds"]
    ):
        committee_params = dict(base.get("committee_params", RunConfig().committee_params)) | {"n_members": members}
        fields = base | {
            "dataset": dataset,
            "descriptor": descriptor,
            "descriptor_params": dict(descriptor_params.get(descriptor, {})),
            "strategy": strategy,
            "strategy_params": dict(strategy_params.get(strategy, {})),
            "committee_params": committee_params,
            "batch_size": batch,
            "seed": seed,
        }
        try:
            runs.append(RunConfig(**fields))
        except (TypeError, ValueError) as exc:
            raise GridError(source, "base", f"these settings do not make a valid run ({exc})") from None
    return SweepGrid(source=source, axes=axes, runs=tuple(runs))


def _table(doc: Mapping[str, Any], name: str, source: str, required: bool = False) -> dict[str, Any]:
    if name not in doc:
        if required:
            raise GridError(source, f"[{name}]", "missing table")
        return {}
    value = doc[name]
    if not isinstance(value, dict):
        raise GridError(source, name, f"must be a table ([{name}]), got {type(value).__name__}")
    return dict(value)


def _axes(sweep: dict[str, Any], source: str, base_dir: Path | None) -> dict[str, tuple[Any, ...]]:
    for alias, name in AXIS_ALIASES.items():
        if alias in sweep:
            if name in sweep:
                raise GridError(source, f"sweep.{alias}", f"give either {alias} or {name}, not both")
            sweep[name] = sweep.pop(alias)
    unknown = sorted(set(sweep) - set(AXES))
    if unknown:
        raise GridError(source, f"sweep.{unknown[0]}", f"unknown axis; known: {', '.join(AXES)} (or systems)")
    missing = [a for a in ("datasets", "strategies", "seeds") if a not in sweep]
    if missing:
        raise GridError(source, f"sweep.{missing[0]}", "required axis is missing")
    defaults = RunConfig()
    seeds = sweep["seeds"]
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise GridError(source, "sweep.seeds", f"a number of seeds must be at least 1, got {seeds}")
        sweep["seeds"] = list(range(seeds))
    axes = {
        "datasets": _list(sweep, "datasets", str, source),
        "descriptors": _list(sweep, "descriptors", str, source, default=[defaults.descriptor]),
        "strategies": _list(sweep, "strategies", str, source),
        "seeds": _list(sweep, "seeds", int, source, minimum=0),
        "n_members": _list(sweep, "n_members", int, source, default=[defaults.committee_params["n_members"]],
                           minimum=1),  # fmt: skip
        "batch_sizes": _list(sweep, "batch_sizes", int, source, default=[defaults.batch_size], minimum=1),
    }
    _check_names(axes, source)
    axes["datasets"] = tuple(_dataset(name, source, base_dir) for name in axes["datasets"])
    if len(set(axes["datasets"])) != len(axes["datasets"]):
        raise GridError(source, "sweep.datasets", f"two entries name the same dataset: {list(axes['datasets'])}")
    return axes


def _list(sweep: dict[str, Any], axis: str, kind: type, source: str, default: list | None = None,
          minimum: int | None = None) -> tuple[Any, ...]:  # fmt: skip
    key = f"sweep.{axis}"
    values = sweep.get(axis, default)
    if not isinstance(values, list) or not values:
        raise GridError(source, key, f"must be a non-empty list, got {values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, kind):
            raise GridError(source, key, f"every entry must be a {kind.__name__}, got {v!r}")
        if minimum is not None and v < minimum:
            raise GridError(source, key, f"entries must be at least {minimum}, got {v}")
    if len(set(values)) != len(values):
        raise GridError(source, key, f"each value once, got {values}")
    return tuple(values)


def _check_names(axes: dict[str, tuple[Any, ...]], source: str) -> None:
    from alcore.descriptors import DESCRIPTORS
    from alcore.strategies import STRATEGIES

    for axis, registry in (("strategies", STRATEGIES), ("descriptors", DESCRIPTORS)):
        unknown = [n for n in axes[axis] if n not in registry]
        if unknown:
            raise GridError(source, f"sweep.{axis}", f"unknown {unknown}; known: {', '.join(registry.names())}")


def _dataset(name: str, source: str, base_dir: Path | None) -> str:
    """A registered name stays a name; anything else must be an existing path (relative to the sweep file)."""
    from alcore.datasets.sources import find_source

    if find_source(name) is not None:
        return name
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise GridError(source, "sweep.datasets", f"{name!r} is neither a registered dataset nor an existing path")
    return str(path.resolve())


def _base(base: dict[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(RunConfig)}
    for key in base:
        if key in _AXIS_FIELDS:
            raise GridError(source, f"base.{key}", "is set by the [sweep] axes (or a per-name table); remove it here")
        if key not in known:
            raise GridError(source, f"base.{key}", f"unknown setting; known: {', '.join(sorted(known - set(_AXIS_FIELDS)))}")
    params = base.get("committee_params", {})
    if not isinstance(params, dict):
        raise GridError(source, "base.committee_params", f"must be a table, got {params!r}")
    if "n_members" in params:
        raise GridError(source, "base.committee_params.n_members", "is set by the sweep.n_members axis")
    return base


def _per_name(doc: Mapping[str, Any], table: str, names: tuple[str, ...], source: str) -> dict[str, dict[str, Any]]:
    """``[strategy_params.NAME]`` / ``[descriptor_params.NAME]``: options for one value of an axis."""
    entries = _table(doc, table, source)
    for name, params in entries.items():
        if name not in names:
            raise GridError(source, f"{table}.{name}", f"{name!r} is not on the sweep's axis ({', '.join(names)})")
        if not isinstance(params, dict):
            raise GridError(source, f"{table}.{name}", f"must be a table of options, got {params!r}")
    if table == "descriptor_params":
        from alcore.descriptors.features import make_descriptor

        for name, params in entries.items():
            try:
                make_descriptor(name, params)
            except (TypeError, ValueError) as exc:
                raise GridError(source, f"{table}.{name}", str(exc)) from None
    else:
        from alcore.strategies import STRATEGIES

        for name, params in entries.items():
            known = STRATEGIES.spec(name).option_names()
            unknown = sorted(set(params) - set(known))
            if unknown:
                raise GridError(source, f"{table}.{name}", f"no option(s) {unknown}; known: {known or 'none'}")
    return entries
