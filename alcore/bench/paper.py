"""``python -m alcore bench paper``: the paper's protocol on every system, with statistics, verdicts and a report.

For each dataset x descriptor family: the strategies x seeds grid (30 initial labels, 15 per round, budget 300 or
the pool; paired initial sets), the committee trained on the whole pool as a reference, calibration, wall time and
peak memory. Then, on each bundled pool, the paper protocol (4 strategies x 5 seeds) with our committee and with the
scikit-learn committee a user would write. Everything lands in ``--out``: ``report.md`` (see ``paper_report``).

Structural descriptors (``--descriptors paper,auto``): ``auto`` picks ``soap`` or ``rdf`` per dataset by a cheap rule
(``paper_runs.choose_structural``: the committee trained on 300 random labels, validated on the rest of the pool,
never on the test split). One family for all does not work. Measured at commit 68b90be (committee trained on 300
random labels, test MAE in meV/atom, mean of 3 seeds; soap / rdf): C 399.9 / 356.7, Si 205.7 / 105.5, Fe 64.9 /
51.9, TiO2 319.2 / 316.9, c-carbon24 48.5 / 36.0 (rdf better); si-mlearn 14.4 / 32.7, fe-fitsnap 32.2 / 5859,
tio2-aenet 617.5 / 29030 (soap better: rdf's 1/r^2 shell normalisation blows up on the few very short contacts of
compressed or high-energy cells, and the committee extrapolates). Every report shows the rule's numbers and random's
MAE per family, so a different outcome shows up there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from alcore.config import PAPER_STRATEGIES, RunConfig

BUNDLED = ("C", "Si", "Fe", "TiO2")
REAL_DFT = ("si-mlearn", "tio2-aenet", "c-carbon24", "fe-fitsnap")
AUTO = "auto"  # per dataset, the better of AUTO_CANDIDATES by ``choose_structural``
AUTO_CANDIDATES = ("soap", "rdf")
DEFAULT_DESCRIPTORS = ("paper", AUTO)
DEFAULT_REFERENCES = ("auto", "none")  # the default reference, and absolute energies beside it where they differ
FULL_SEEDS = 10  # fewer seeds make a reduced report (allowed, e.g. for tests; the report says so)
OURS, PEER = "mlp", "sklearn-mlp"


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m alcore bench paper", description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=_names, default=None,
                        help="datasets, comma-separated (default: the 4 bundled pools + the real DFT sets present)")
    parser.add_argument("--seeds", type=int, default=FULL_SEEDS, help="seeds 0..N-1 (default: %(default)s)")
    parser.add_argument("--budget", type=int, default=RunConfig.budget, help="labels per run (default: %(default)s)")
    parser.add_argument("--descriptors", type=_names, default=DEFAULT_DESCRIPTORS,
                        help="descriptor families; 'auto' = soap or rdf per dataset (default: paper,auto)")
    parser.add_argument("--strategies", type=_names, default=None, help="default: every registered strategy")
    parser.add_argument("--references", type=_names, default=DEFAULT_REFERENCES,
                        help="energy references, each resolved per dataset (auto = fitted for two or more elements, "
                        "else none; duplicates after resolving run once) (default: auto,none)")
    parser.add_argument("--out", type=Path, default=Path("paper-benchmark"),
                        help="report folder (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--members", type=int, default=5, help="committee members (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per round (default: the committee's)")
    parser.add_argument("--speed-systems", type=_names, default=None,
                        help="systems of the speed comparison; 'none' skips it (default: the bundled pools run)")
    parser.add_argument("--speed-seeds", type=int, default=5, help="seeds of the speed protocol (default: %(default)s)")
    parser.add_argument("--speed-strategies", type=_names, default=PAPER_STRATEGIES,
                        help="strategies of the speed protocol (default: the paper's four)")
    parser.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap intervals")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    args = parser.parse_args(argv)  # fmt: skip
    for name in ("seeds", "budget", "members", "speed_seeds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("jobs", "epochs"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.budget < RunConfig.n_initial:
        parser.error(f"--budget must be at least the {RunConfig.n_initial} initial labels")
    return args


def resolve(args: argparse.Namespace) -> tuple[list[str], list[str], list[str], list[str]]:
    """Systems, strategies, speed systems and speed strategies, checked before any work starts."""
    from alcore.datasets import list_datasets
    from alcore.descriptors import DESCRIPTORS
    from alcore.strategies import STRATEGIES

    available = {d.name: d.available for d in list_datasets()}
    if args.systems is None:
        systems = [s for s in (*BUNDLED, *REAL_DFT) if available.get(s)]
    else:
        systems = list(args.systems)
        unknown = [s for s in systems if s not in available]
        if unknown:
            raise ValueError(f"--systems: unknown dataset(s) {unknown}; known: {sorted(available)}")
        missing = [s for s in systems if not available[s]]
        if missing:
            raise ValueError(f"--systems: {missing} not available on this machine (see `python -m alcore datasets`)")
    strategies = list(args.strategies or STRATEGIES.names())
    for option, names in (("--strategies", strategies), ("--speed-strategies", args.speed_strategies)):
        unknown = [s for s in names if s not in STRATEGIES]
        if unknown:
            raise ValueError(f"{option}: unknown strategy {unknown}; known: {STRATEGIES.names()}")
    from alcore.references import REFERENCES

    unknown = [r for r in args.references if r not in ("auto", *REFERENCES.names()) or r == "given"]
    if unknown:
        raise ValueError(f"--references: {unknown} cannot be used; choose from auto, none, fitted")
    unknown = [d for d in args.descriptors if d not in DESCRIPTORS and d != AUTO]
    if unknown:
        raise ValueError(f"--descriptors: unknown family {unknown}; known: {DESCRIPTORS.names()}")
    if args.speed_systems == ("none",):
        speed = []
    elif args.speed_systems is None:
        speed = [s for s in systems if s in BUNDLED]
    else:
        speed = list(args.speed_systems)
        outside = [s for s in speed if s not in systems]
        if outside:
            raise ValueError(f"--speed-systems: {outside} are not among --systems {systems}")
    return systems, strategies, speed, list(args.speed_strategies)


def base_config(args: argparse.Namespace) -> RunConfig:
    params: dict[str, Any] = {"n_members": args.members}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    return RunConfig(committee=OURS, committee_params=params, budget=args.budget)


def git_commit() -> tuple[str | None, bool | None]:
    """The checkout's commit and whether it has uncommitted changes (read-only git calls; None outside git)."""
    repo = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None, None
    if head.returncode != 0:
        return None, None
    return head.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None


def machine_meta(argv: Sequence[str]) -> dict[str, Any]:
    import joblib
    import matplotlib
    import numpy
    import pandas
    import scipy
    import sklearn
    import torch

    from alcore import __version__

    commit, dirty = git_commit()
    meta: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "alcore", "bench", "paper", *argv]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "alcore": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "pandas": pandas.__version__,
        "joblib": joblib.__version__,
        "matplotlib": matplotlib.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        import psutil

        meta["psutil"] = psutil.__version__
        meta["memory_total_gb"] = round(psutil.virtual_memory().total / 2**30, 2)
    except ImportError:
        meta["psutil"] = None
    return meta


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Train in this process with one torch thread (restored afterwards), as every worker process does.

    The committees are tiny: a second thread gains little, and on a busy machine its synchronisation costs a lot
    (measured on 2 shared cores: one Si run 1.6 s with 1 thread, 1.5-43 s with 2; the tiny test config 4.9 s vs
    27.5 s)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    try:
        systems, strategies, speed_systems, speed_strategies = resolve(args)
        if not systems:
            raise ValueError("no dataset to run (none of the default systems is available)")
        with one_torch_thread():
            report = run(args, systems, strategies, speed_systems, speed_strategies, argv, say)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"error: {exc.args[0] if isinstance(exc, KeyError) and exc.args else exc}", file=sys.stderr)
        return 2
    print(report)
    return 0


def run(args, systems, strategies, speed_systems, speed_strategies, argv, say) -> Path:
    """Every case, then the speed comparison, then the report; returns the path of ``report.md``."""
    from alcore.bench.paper_report import write_report
    from alcore.bench.paper_results import cost_by_dataset, verdicts
    from alcore.bench.paper_robustness import robustness

    meta = machine_meta(argv)
    jobs = args.jobs or os.cpu_count() or 1
    meta |= {"jobs": jobs, "torch_threads_per_worker": max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 1}
    base = base_config(args)
    started = time.perf_counter()
    cases, case_runs, loads, choices = run_cases(args, systems, strategies, base, jobs, say)
    speed, speed_runs = run_speed_comparison(args, speed_systems, speed_strategies, base, jobs, say)
    cost = cost_by_dataset(cases)
    for entry in cost:
        entry["seconds"] += loads.get(entry["name"], 0.0)
    doc = {
        "format": 1,
        "protocol": protocol(args, base, strategies),
        "cases": cases,
        "cost": cost,
        "load_seconds": loads,
        "descriptor_choice": choices,
        "auto_candidates": list(AUTO_CANDIDATES),
        "speed": speed,
        "verdicts": verdicts(cases),
        "robustness": robustness(cases),
    }
    meta["seconds"] = time.perf_counter() - started
    meta["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return write_report(args.out, doc, meta, case_runs, speed_runs)


def run_cases(args, systems, strategies, base: RunConfig, jobs: int, say):
    """Per system: load, choose the ``auto`` family, run every descriptor family's case. Returns the case summaries,
    (labels, runs) per case for the raw files, per-system load + choice seconds, and the choices."""
    from alcore.bench.paper_results import case_summary
    from alcore.bench.paper_runs import choose_structural, run_case
    from alcore.datasets import load_dataset

    seeds = list(range(args.seeds))
    cases, case_runs, loads, choices = [], [], {}, {}
    for system in systems:
        t0 = time.perf_counter()
        dataset = load_dataset(system)
        loads[system] = time.perf_counter() - t0
        families = list(args.descriptors)
        if AUTO in families:
            choice = choose_structural(dataset, base, AUTO_CANDIDATES)
            choices[system] = {"chosen": choice.chosen, "validation_mae": choice.validation_mae,
                               "seconds": choice.seconds}  # fmt: skip
            loads[system] += choice.seconds
            families = list(dict.fromkeys(choice.chosen if f == AUTO else f for f in families))
            say(f"[bench paper] {system}: structural descriptors {choice.chosen} ({choice.seconds:.1f} s to choose)")
        for descriptor in families:
            for reference in case_references(dataset, base, args.references):
                say(f"[bench paper] {system} / {descriptor} / {reference}: {len(strategies)} strategies x "
                    f"{len(seeds)} seeds ...")
                case = run_case(dataset, descriptor, base, strategies, seeds, jobs, energy_reference=reference)
                cases.append(case_summary(case, args.budget, bootstrap_seed=args.bootstrap_seed))
                group = {"dataset": system, "descriptor": descriptor, "energy_reference": reference}
                case_runs.append((group, case.results))
                say(f"[bench paper]   {case.seconds['total']:.1f} s, peak {case.peak_mb or 0:.0f} MB")
    return cases, case_runs, loads, choices


def case_references(dataset, base: RunConfig, names: Sequence[str]) -> list[str]:
    """``names`` resolved for ``dataset`` (``auto`` decided by its elements), each once, in order."""
    from alcore.references import resolve
    from alcore.structures import Structures

    composition = Structures.from_dataset(dataset).composition
    return list(dict.fromkeys(resolve(base.replace(energy_reference=n), composition) for n in names))


def run_speed_comparison(args, systems, strategies, base: RunConfig, jobs: int, say):
    """The paper protocol with our committee and with scikit-learn's on each system (``paper`` descriptors)."""
    from alcore.bench.paper_results import speed_summary
    from alcore.bench.paper_runs import run_speed
    from alcore.datasets import load_dataset

    speed, speed_runs = [], []
    for system in systems:
        say(f"[bench paper] speed on {system}: {OURS} vs {PEER}, {len(strategies)} x {args.speed_seeds} runs ...")
        runs = run_speed(
            load_dataset(system), base.replace(descriptor="paper"), (OURS, PEER), strategies, range(args.speed_seeds),
            jobs,
        )  # fmt: skip
        speed.append(speed_summary(runs, OURS, PEER, bootstrap_seed=args.bootstrap_seed))
        speed_runs += [({"dataset": system, "committee": c}, r.results) for c, r in runs.items()]
        say(f"[bench paper]   {OURS} {runs[OURS].seconds:.1f} s, {PEER} {runs[PEER].seconds:.1f} s")
    return speed, speed_runs


def protocol(args, base: RunConfig, strategies) -> dict[str, Any]:
    """What every case shares; ``full`` is False when the run departs from the benchmark's defaults."""
    full = args.seeds >= FULL_SEEDS and args.budget == RunConfig.budget and args.epochs is None and args.members == 5
    return {
        "target": base.target,
        "n_initial": base.n_initial,
        "batch_size": base.batch_size,
        "budget": args.budget,
        "test_fraction": base.test_fraction,
        "split_seed": base.split_seed,
        "seeds": list(range(args.seeds)),
        "committee": base.committee,
        "committee_params": committee_params(base),
        "strategies": list(strategies),
        "descriptors": list(args.descriptors),
        "energy_references": list(args.references),
        "full": full,
    }


def committee_params(base: RunConfig) -> dict[str, Any]:
    """The committee's effective options: the given ones over the committee's defaults."""
    import inspect

    from alcore.committee import COMMITTEES

    signature = inspect.signature(COMMITTEES.get(base.committee))
    defaults = {k: p.default for k, p in signature.parameters.items() if k not in ("random_state", "warm_start")}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in (defaults | dict(base.committee_params)).items()}


if __name__ == "__main__":
    raise SystemExit(main())
