"""``python -m alcore``: run, resume, compare, list datasets and descriptors, replay saved runs, benchmarks, build
pools."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from alcore.atomic import write_json
from alcore.config import PAPER_STRATEGIES, RunConfig
from alcore.registry import plain_text
from alcore.units import display_unit


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


# every other flag of 'run' and 'compare' (dashes as underscores): a strategy option never takes one of these names
OTHER_FLAGS = ("h", "help", "dataset", "format", "target", "descriptor", "initial", "batch", "budget", "test_fraction",
               "split_seed", "committee", "members", "hidden", "epochs", "lr", "weight_decay", "strategy", "seed",
               "save", "rounds", "json", "q", "quiet", "strategies", "seeds", "seed_list", "n_jobs",
               "energy_reference", "reference_energies")


def _add_protocol_args(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=d.dataset, help="registered dataset name or a path (default: %(default)s)")
    g.add_argument("--format", dest="dataset_format", default=None, help="importer for a path (default: detect)")
    g.add_argument("--target", default=d.target, help="target column (default: %(default)s)")
    g.add_argument("--descriptor", default=d.descriptor, help="descriptor family (default: %(default)s)")
    _add_reference_args(g)
    _add_oracle_args(g)
    g = p.add_argument_group("protocol (defaults: the paper's)")
    g.add_argument("--initial", type=int, default=d.n_initial, help="initial labelled set (default: %(default)s)")
    g.add_argument("--batch", type=int, default=d.batch_size, help="labels per round (default: %(default)s)")
    g.add_argument("--budget", type=int, default=d.budget, help="total labels (default: %(default)s)")
    g.add_argument("--test-fraction", type=float, default=d.test_fraction, help="held-out test split (default: 0.2)")
    g.add_argument("--split-seed", type=int, default=d.split_seed, help="seed of the test split (default: 0)")
    g = p.add_argument_group("committee")
    g.add_argument("--committee", default=d.committee, help="committee family (default: %(default)s)")
    g.add_argument("--members", type=int, default=5, help="committee size (default: %(default)s)")
    g.add_argument("--hidden", type=_int_list, default=None, help="hidden widths, e.g. 64,64")
    g.add_argument("--epochs", type=int, default=None, help="training epochs per round")
    g.add_argument("--lr", type=float, default=None, help="learning rate")
    g.add_argument("--weight-decay", type=float, default=None, help="weight decay")
    _add_strategy_option_args(p)


def _add_strategy_option_args(p: argparse.ArgumentParser) -> None:
    """One flag per strategy option, from the registry specs (``--alpha``, ``--k``...): each applies only to the
    strategies that have the option. A name that clashes with another flag becomes ``--<strategy>-<option>``."""
    from alcore.strategies import STRATEGIES

    g = p.add_argument_group("strategy options (each applies only to the strategies named in its help)")
    keys = STRATEGIES.option_keys("", OTHER_FLAGS)
    for key in dict.fromkeys(keys.values()):
        users = [(s, o) for (s, o), k in keys.items() if k == key]
        option = STRATEGIES.spec(users[0][0]).option(users[0][1])
        names = ", ".join(s for s, _ in users)
        text = plain_text(f"{names}: {option.describe()}")
        g.add_argument(f"--{key.replace('_', '-')}", dest=f"option_{key}", type=_option_parser(option), default=None,
                       metavar=option.kind.__name__.upper(), help=text.replace("%", "%%"))


def _option_parser(option: Any):
    def parse(text: str) -> Any:
        try:
            return option.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _strategy_params(args: argparse.Namespace, strategy: str) -> dict[str, Any]:
    """The options given on the command line that ``strategy`` has."""
    from alcore.strategies import STRATEGIES

    keys = STRATEGIES.option_keys("", OTHER_FLAGS)
    params = {}
    for name in STRATEGIES.spec(strategy).option_names():
        value = getattr(args, f"option_{keys[(strategy, name)]}", None)
        if value is not None:
            params[name] = value
    return params


def _option(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as JSON when it parses (numbers, true, null), else kept as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. calculator=emt, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def _add_reference_args(g: argparse._ArgumentGroup) -> None:
    from alcore.references import AUTO, REFERENCES

    g.add_argument("--energy-reference", default=RunConfig().energy_reference, choices=[AUTO, *REFERENCES.names()],
                   help="what the committee learns on top of: none (absolute energies), fitted (per-element energies "
                   "fitted on the labelled set each round), given (--reference-energies); auto = fitted for an "
                   "energy_per_atom target with two or more elements, else none (default: %(default)s)")
    g.add_argument("--reference-energies", type=_reference_energies, default=None, metavar="FILE|EL=E,...",
                   help="per-element energies in eV/atom for --energy-reference given: a JSON or CSV file, or "
                   "e.g. Ti=-1604.6,O=-432.5 (implies given)")


def _reference_energies(text: str) -> dict[str, float]:
    from alcore.references import parse_energies, read_energies

    try:
        return parse_energies(text) if "=" in text else read_energies(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reference_choice(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """``--energy-reference`` and ``--reference-energies`` as RunConfig fields (energies imply ``given``)."""
    energies = getattr(args, "reference_energies", None)
    if energies is None:
        return args.energy_reference, {}
    if args.energy_reference not in ("given", RunConfig().energy_reference):
        raise ValueError(f"--reference-energies goes with --energy-reference given, not {args.energy_reference}")
    return "given", {"energies": energies}


def _add_oracle_args(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--oracle", default=RunConfig().oracle,
                   help="who labels: dataset (its own labels) or ase-calculator (default: %(default)s)")
    g.add_argument("--oracle-option", type=_option, action="append", default=[], metavar="KEY=VALUE",
                   help="oracle option (repeatable), e.g. calculator=emt, calculator=chgnet, timeout=60")


def _config_from_args(args: argparse.Namespace, strategy: str, seed: int) -> RunConfig:
    committee_params: dict[str, Any] = {"n_members": args.members}
    for key in ("hidden", "epochs", "lr", "weight_decay"):
        value = getattr(args, key)
        if value is not None:
            committee_params[key] = list(value) if key == "hidden" else value
    strategy_params = _strategy_params(args, strategy)
    reference, reference_params = _reference_choice(args)
    return RunConfig(
        dataset=args.dataset,
        dataset_format=args.dataset_format,
        target=args.target,
        oracle=args.oracle,
        oracle_params=dict(args.oracle_option),
        descriptor=args.descriptor,
        energy_reference=reference,
        energy_reference_params=reference_params,
        strategy=strategy,
        strategy_params=strategy_params,
        committee=args.committee,
        committee_params=committee_params,
        n_initial=args.initial,
        batch_size=args.batch,
        budget=args.budget,
        test_fraction=args.test_fraction,
        split_seed=args.split_seed,
        seed=seed,
    )


@contextmanager
def _progress(desc: str, enabled: bool) -> Iterator[Any]:
    """A tqdm bar on stderr fed by ``(done, total)`` callbacks."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, total=None, disable=not enabled, file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def _save_on_oracle_error(path: Path | None) -> Iterator[None]:
    """When the oracle fails mid-run, save the last good round (if saving) before reporting the error."""
    from alcore.oracles import OracleError
    from alcore.runs import save_run

    try:
        yield
    except OracleError as exc:
        if path is not None and exc.state is not None and exc.state.rounds:
            print(f"saved the run up to round {len(exc.state.rounds) - 1} to {save_run(exc.state, path)}",
                  file=sys.stderr)  # fmt: skip
        raise


def cmd_run(args: argparse.Namespace) -> int:
    from alcore.loop import prepare, run
    from alcore.runs import run_to_dict, save_run

    config = _config_from_args(args, args.strategy, args.seed)
    with _progress("descriptors", not args.quiet) as bar:
        problem = prepare(config, progress=bar)
    if args.rounds is not None and args.rounds < 1:
        raise ValueError(f"--rounds must be at least 1, got {args.rounds}")
    from alcore.references import describe_choice

    print(f"energy reference: {describe_choice(config, problem.structures.composition)}")
    with _progress(f"{config.strategy} seed {config.seed}", not args.quiet) as bar, _save_on_oracle_error(args.save):
        state = run(config, problem, progress=bar, max_rounds=args.rounds)
    _print_rounds(state.rounds, config.target)
    if args.save:
        print(f"saved run to {save_run(state, args.save)}")
    if args.json:
        write_json(args.json, run_to_dict(state.config, state.rounds, problem.dataset_fingerprint))
    return 0


def _print_rounds(rounds: Sequence[Any], target: str) -> None:
    """One line per round; errors and std in the target's display unit (meV/atom for per-atom energies)."""
    unit, scale = display_unit(target)
    print(f"errors and std in {unit}")
    print(f"{'labels':>7} {'MAE':>10} {'RMSE':>10} {'R2':>7} {'rho':>6} {'pool std':>9}")
    for r in rounds:
        print(f"{r.n_labels:7d} {r.mae * scale:10.5g} {r.rmse * scale:10.5g} {r.r2:7.3f} {r.spearman:6.2f} "
              f"{r.mean_pool_std * scale:9.4g}")


def cmd_resume(args: argparse.Namespace) -> int:
    """Continue a saved run (``run --rounds N --save``) where it stopped: exactly the rounds the uninterrupted run
    would have made. The file is replaced atomically, so a resume killed half-way leaves the previous save intact."""
    from alcore.loop import prepare, run
    from alcore.runs import load_run, run_to_dict, save_run

    if args.rounds is not None and args.rounds < 1:
        raise ValueError(f"--rounds must be at least 1, got {args.rounds}")
    saved = load_run(args.run)
    with _progress("descriptors", not args.quiet) as bar:
        problem = prepare(saved.config, progress=bar, known=saved.known_labels)
    state = saved.resume(problem)
    before = len(state.rounds)
    if state.done:
        print(f"{args.run}: the run is already finished ({before} rounds, {state.rounds[-1].n_labels} labels)")
    else:
        with _progress(f"{saved.config.strategy} seed {saved.config.seed}", not args.quiet) as bar:
            with _save_on_oracle_error(args.save or args.run):
                state = run(saved.config, problem, progress=bar, max_rounds=args.rounds, state=state)
        _print_rounds(state.rounds, saved.config.target)
        print(f"resumed after round {before - 1}: {len(state.rounds) - before} more rounds, {len(state.rounds)} in all")
    print(f"saved run to {save_run(state, args.save or args.run)}")
    if args.json:
        write_json(args.json, run_to_dict(state.config, state.rounds, problem.dataset_fingerprint, state.lineage))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from alcore.comparison.caveats import p_floor_text
    from alcore.comparison.grid import run_grid
    from alcore.comparison.stats import summarise
    from alcore.loop import prepare
    from alcore.strategies import STRATEGIES

    strategies = STRATEGIES.names() if args.strategies == "all" else [s for s in args.strategies.split(",") if s]
    for s in strategies:
        STRATEGIES.get(s)  # unknown names fail before any work starts
    seeds = list(range(args.seeds)) if args.seed_list is None else list(args.seed_list)
    base = _config_from_args(args, strategies[0], seeds[0])
    params = {s: _strategy_params(args, s) for s in strategies}
    with _progress("descriptors", not args.quiet) as bar:
        problem = prepare(base, progress=bar)
    _print_caveats(base.budget, len(problem.split.initial) + len(problem.split.pool))  # before the work it is about
    with _progress(f"{len(strategies)} strategies x {len(seeds)} seeds", not args.quiet) as bar:
        results = run_grid(base, problem, strategies, seeds, n_jobs=args.n_jobs, progress=bar, strategy_params=params)
    summary = summarise(results)
    _print_summary(summary)
    print(p_floor_text(len(seeds)))
    if args.json:
        write_json(
            args.json,
            {
                "config": {k: v for k, v in base.to_dict().items() if k not in ("strategy", "seed", "strategy_params")}
                | {"strategies": strategies, "seeds": seeds, "strategy_params": params},
                "summary": {k: v.to_dict() for k, v in summary.items()},
                "runs": [r.to_dict() for r in results],
            },
        )
    return 0


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _print_caveats(budget: int, n_labelable: int) -> None:
    """Printed with the table (stdout), so a saved or piped output keeps it."""
    from alcore.comparison.caveats import whole_pool_warning

    warning = whole_pool_warning(budget, n_labelable)
    if warning:
        print(f"warning: {warning}")


def _print_summary(summary: dict) -> None:
    from alcore.comparison.labels_saved import saved_text

    print(f"{'strategy':<20} {'final MAE':>20} {'vs random':>10} {'labels@rnd':>10} {'saved %':>11} {'AULC':>9} "
          f"{'p (MWU)':>8} {'p (Wilc.)':>9}")  # fmt: skip
    notes: dict[str, list[str]] = {}  # reason -> strategies whose labels saved is not comparable
    for name, s in summary.items():
        mae = f"{s.final_mae_mean:.5f} ± {s.final_mae_std:.5f}"
        saved = saved_text(s.labels_saved_pct, s.labels_saved_note, s.labels_to_target)
        if s.improvement_pct is None:
            saved = "-"
        elif s.labels_saved_note:
            notes.setdefault(s.labels_saved_note, []).append(name)
            saved = "n/c"
        print(
            f"{name:<20} {mae:>20} {_fmt(s.improvement_pct, '+.1f') + ' %':>10} "
            f"{_fmt(s.labels_to_target, '.0f'):>10} {saved:>11} {s.aulc:9.5f} {_fmt(s.p_value, '.3f'):>8} "
            f"{_fmt(s.p_value_paired, '.3f'):>9}"
        )
    for note, names in notes.items():
        print(f"saved % n/c = not comparable for {', '.join(names)}: {note}")


def cmd_datasets(args: argparse.Namespace) -> int:
    from alcore.datasets import list_datasets, load_dataset

    if args.describe:
        info = load_dataset(args.describe, format=args.dataset_format).describe()
        print(json.dumps(info, indent=2, default=str))
        return 0
    for info in list_datasets():
        status = "available" if info.available else "missing"
        print(f"{info.name:<14} {status:<10} {info.format or '':<14} {info.description}")
    return 0


def cmd_descriptors(args: argparse.Namespace) -> int:
    from alcore.descriptors import describe_descriptors

    for d in describe_descriptors():
        print(f"{d['name']:<8} {d['description']}  params={d['params']}")
    return 0


def cmd_strategies(args: argparse.Namespace) -> int:
    """Name, display name, summary, options (default, bounds) and citation of every strategy, as plain text."""
    from alcore.strategies import STRATEGIES

    keys = STRATEGIES.option_keys("", OTHER_FLAGS)
    for spec in STRATEGIES.specs():
        print(f"{spec.name:<20} {plain_text(spec.display_name)}: {plain_text(spec.summary)}")
        for option in spec.options:
            flag = keys[(spec.name, option.name)].replace("_", "-")
            print(f"{'':<20}   option {plain_text(option.describe())}  (--{flag})")
        if spec.citation:
            print(f"{'':<20}   cite: {plain_text(spec.citation)}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-run a saved run or an exported manifest from scratch and check that every round is identical."""
    from alcore.atomic import read_json
    from alcore.loop import prepare, replay_segments
    from alcore.manifest import READABLE_MANIFESTS, parse_manifest, replay_manifest
    from alcore.runs import run_from_document

    doc = read_json(args.run, "run or manifest file")
    if isinstance(doc, dict) and doc.get("format") in READABLE_MANIFESTS:
        manifest = parse_manifest(doc, str(args.run))
        _, differences = replay_manifest(manifest, prepare(manifest.config, known=manifest.known_labels))
        for line in differences:
            print(f"  {line}")
        print(f"{manifest.n_rounds} rounds replayed: {'DIFFERENT' if differences else 'identical'}")
        return 1 if differences else 0
    saved = run_from_document(doc, args.run)
    n_final = len(saved.rounds) - sum(n for _, n in saved.lineage)
    state = replay_segments(saved.lineage, prepare(saved.config, known=saved.known_labels), saved.config, n_final)
    same = len(state.rounds) == len(saved.rounds) and all(
        a.same_results(b) for a, b in zip(state.rounds, saved.rounds)
    )
    print(f"{len(saved.rounds)} rounds replayed: {'identical' if same else 'DIFFERENT'}")
    return 0 if same else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from alcore.bench import main as bench_main

    return bench_main(args.rest)


def cmd_data(args: argparse.Namespace) -> int:
    """Build the bundled pools (needs requirements-build.txt) or recompute their shipped features, maps or arrays."""
    from alcore.paths import BUNDLED_SYSTEMS, DATA_DIR
    from alcore.pool_builder.build import (
        DEFAULT_N_TOTAL,
        build_all,
        build_pool,
        embed_all,
        enforce_budget,
        ship_parsed_all,
    )
    from alcore.pool_builder.card import write_card

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    out = args.out if args.out is not None else DATA_DIR
    if args.action == "embed":
        embed_all(out, report=say)
        return 0
    if args.action == "parse":
        ship_parsed_all(out, report=say)
        return 0
    n_total = args.n_total if args.n_total is not None else DEFAULT_N_TOTAL
    if not args.all and not args.system:
        raise ValueError("data build: pass --system NAME or --all")
    if args.system and args.system not in BUNDLED_SYSTEMS:
        raise ValueError(f"unknown pool system {args.system!r}; known: {', '.join(BUNDLED_SYSTEMS)}")
    try:
        if args.all:
            manifests = build_all(args.seed, out, n_total, report=say)
        else:
            manifests = {args.system: build_pool(args.system, args.seed, out, n_total, report=say)}
            write_card(out, budget=enforce_budget(out, report=say))
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for system, m in manifests.items():
        check = m["sanity_checks"]
        print(f"{system:<5} {m['n_structures']:5d} structures  {m['build_time_s']:7.1f} s  "
              f"sanity {check['status']}: {check.get('check', check.get('reason', ''))}")
    return 0


def _offset(text: str) -> tuple[str, float]:
    database, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError(text)
        return database.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected DATABASE=EV, e.g. oqmd=0.05, got {text!r}") from None


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch a pool from the Materials Project / OQMD (or reuse the cached one) and say how to use it."""
    from alcore.fetch import FetchQuery, fetch_pool

    if args.source == "combine" and args.endpoint:
        raise ValueError("fetch combine: use --mp-endpoint / --oqmd-endpoint instead of --endpoint")
    if args.source != "combine" and args.offset:
        raise ValueError("--offset only applies to 'fetch combine'")
    query = FetchQuery(args.chemsys, args.max_e_above_hull, args.max_sites, args.stable_only)
    say = None if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    result = fetch_pool(
        "both" if args.source == "combine" else args.source,
        query,
        mp_endpoint=args.endpoint if args.source == "mp" else args.mp_endpoint,
        oqmd_endpoint=args.endpoint if args.source == "oqmd" else args.oqmd_endpoint,
        offsets=dict(args.offset) if args.offset else None,
        deduplicate=not args.keep_duplicates,
        timeout=args.timeout,
        refresh=args.refresh,
        progress=say,
    )
    pool = result.pool
    how = f"cached pool from {pool.fetched_at} (--refresh fetches again)" if result.from_cache else "fetched now"
    print(f"{pool.name}: {len(pool)} structures, {how}")
    for key, label in (("duplicates", "duplicates removed"), ("skipped", "unusable records skipped")):
        if pool.notes.get(key):
            print(f"  {label}: {len(pool.notes[key])}")
    print(f"saved in {result.path}")
    print(f"use it: python -m alcore run --dataset {pool.name}   (or pick {pool.name} on any page of the app)")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a TOML grid of runs locally or on Dask; finished runs are kept, so rerunning resumes a killed sweep."""
    from alcore.sweep import sweep_file

    try:
        report = sweep_file(args.config, args.out, scheduler=args.scheduler, local_workers=args.local_workers,
                            processes=args.processes, serial=args.serial, stream=None if args.quiet else sys.stderr)  # fmt: skip
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the same command again to resume", file=sys.stderr)
        return 130
    for key, error in report.failed.items():
        print(f"error: run {key} failed: {error.splitlines()[0]}", file=sys.stderr)
    return 0 if report.complete else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alcore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="one strategy, one seed")
    _add_protocol_args(p)
    p.add_argument("--strategy", default="diversity", help="selection strategy (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial set, committee and strategy")
    p.add_argument("--save", type=Path, help="save the run (JSON + arrays) for resume/replay")
    p.add_argument("--rounds", type=int, default=None, help="stop after N rounds (continue later with 'resume')")
    p.add_argument("--json", type=Path, help="write machine-readable results")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("resume", help="continue a saved run where it stopped (bit-identical to an uninterrupted run)")
    p.add_argument("run", type=Path, help="a run .json written by 'run --save' (or an earlier 'resume')")
    p.add_argument("--rounds", type=int, default=None, help="at most N more rounds (default: until the budget)")
    p.add_argument("--save", type=Path, default=None, help="where to save (default: replace RUN, atomically)")
    p.add_argument("--json", type=Path, help="write machine-readable results")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("compare", help="strategies x seeds on paired initial sets")
    _add_protocol_args(p)
    p.add_argument("--strategies", default=",".join(PAPER_STRATEGIES), help="comma list or 'all' (default: paper's 4)")
    p.add_argument("--seeds", type=int, default=5, help="number of seeds 0..N-1 (default: %(default)s)")
    p.add_argument("--seed-list", type=_int_list, default=None, help="explicit seeds, e.g. 3,7,11")
    p.add_argument("--n-jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--json", type=Path, help="write summary + per-run curves as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("datasets", help="list the datasets that can be loaded, or describe one")
    p.add_argument("--describe", metavar="NAME_OR_PATH", help="load and summarise one dataset")
    p.add_argument("--format", dest="dataset_format", default=None, help="importer for a path (default: detect)")
    p.set_defaults(func=cmd_datasets)

    sub.add_parser("descriptors", help="list descriptor families").set_defaults(func=cmd_descriptors)
    sub.add_parser("strategies", help="list selection strategies").set_defaults(func=cmd_strategies)

    p = sub.add_parser("replay", help="re-run a saved run or manifest and check it is bit-identical")
    p.add_argument("run", type=Path, help="a run .json written by 'run --save', or a manifest exported by the app")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("data", help="build the bundled pools (data build), their UMAP maps (data embed) or their "
                       "parsed arrays (data parse)")
    p.add_argument("action", choices=("build", "embed", "parse"),
                   help="build: CHGNet-labelled pools; embed: features + maps; parse: the arrays the app reads")
    p.add_argument("--system", default=None, help="one pool: C, Si, Fe or TiO2")
    p.add_argument("--all", action="store_true", help="all four pools, then the size check and data/README.md")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default: %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <repo>/data)")
    p.add_argument("--n-total", type=int, default=None, help="candidates per system (default: 1800)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser(
        "fetch", help="fetch a pool from the Materials Project or OQMD, or both combined (cached; key in $MP_API_KEY)"
    )
    p.add_argument("source", choices=("mp", "oqmd", "combine"), help="combine: MP + OQMD, duplicates removed")
    p.add_argument("--chemsys", required=True, help="chemical system, e.g. Si or Ti-O (exactly these elements)")
    p.add_argument("--max-e-above-hull", type=float, default=None, help="eV/atom (default: no limit)")
    p.add_argument("--max-sites", type=int, default=None, help="atoms per cell (default: no limit)")
    p.add_argument("--stable-only", action="store_true", help="only materials on the convex hull")
    p.add_argument("--endpoint", default=None, help="API URL of the chosen database (default: the public one)")
    p.add_argument("--mp-endpoint", default=None, help="Materials Project API URL for 'combine'")
    p.add_argument("--oqmd-endpoint", default=None, help="OQMD API base URL for 'combine'")
    p.add_argument("--offset", type=_offset, action="append", metavar="DATABASE=EV",
                   help="combine: add EV eV/atom to one database's energies (repeatable), e.g. oqmd=0.05")  # fmt: skip
    p.add_argument("--keep-duplicates", action="store_true", help="combine: keep structures found in both")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds without an answer before giving up (10)")
    p.add_argument("--refresh", action="store_true", help="fetch again even if this query is cached")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("sweep", help="a TOML grid of runs, locally or on a Dask cluster (resumable)")
    p.add_argument("config", type=Path, help="sweep file (see examples/sweep.toml)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: ./<config name>-sweep)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDR", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--local-workers", type=int, metavar="N", help="start a Dask LocalCluster of N processes")
    where.add_argument("--processes", type=int, metavar="N", help="N local processes, no Dask (default: all cores)")
    where.add_argument("--serial", action="store_true", help="one run after another in this process")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("bench", help="benchmarks (e.g. 'bench round')")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="benchmark name and its options")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
