"""The paper benchmark's output folder: ``report.md`` with its PNG figures, the raw curves and the numbers.

Files: ``report.md`` (links ``figures/*.png`` by relative path), ``curves.csv`` / ``speed_curves.csv`` (one row per
run and round, errors in the dataset's units), ``runs.json`` (the same runs as JSON), ``results.json`` (every number
the report shows) and ``meta.json`` (command, versions, machine, date). The text only formats ``results.json``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from alcore.atomic import atomic_path, write_json, write_text
from alcore.bench import paper_stats as stats
from alcore.bench.paper_results import BASELINE, BLOWUP_FACTOR, PAPER_CHOICE, json_ready
from alcore.bench.paper_robustness import robustness_section
from alcore.comparison.caveats import p_floor_text
from alcore.comparison.grid import RunResult
from alcore.comparison.labels_saved import saved_text
from alcore.comparison.stats import curve_bands
from alcore.comparison.tables import curves_frame
from alcore.units import display_unit

FIGURES = "figures"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "case"


# ---- raw data ---------------------------------------------------------------------------------------------------


def runs_frame(groups: Sequence[tuple[dict[str, str], Sequence[RunResult]]]) -> pd.DataFrame:
    """Long curves table of several groups of runs; each group's labels (e.g. dataset, descriptor) lead the columns."""
    frames = []
    for labels, results in groups:
        frame = curves_frame(results)
        for i, (key, value) in enumerate(labels.items()):
            frame.insert(i, key, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)


def runs_document(groups: Sequence[tuple[dict[str, str], Sequence[RunResult]]]) -> list[dict[str, Any]]:
    return [labels | r.to_dict() for labels, results in groups for r in results]


# ---- figures ----------------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")


def case_figure(path: Path, case: dict[str, Any], results: Sequence[RunResult], unit: str, scale: float) -> None:
    """MAE vs labels (mean and 95 % t-interval over seeds per strategy, whole-pool reference line) and
    Spearman(std, |error|) vs labels.

    The MAE axis is logarithmic: one extrapolating committee can make a round's mean MAE 100x the rest, and a
    linear axis would then hide every difference that matters. Band parts at or below zero are cut at the axis."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ref = case["reference"]
    bands = curve_bands(results, "mae", band="ci95")
    means = np.concatenate([b.mean for b in bands.values()] + [[ref["mae_mean"]]]) * scale
    floor = float(np.nanmin(means)) * 0.8
    for name, band in bands.items():
        (line,) = left.plot(band.n_labels, band.mean * scale, marker="o", ms=3, label=name)
        lower = np.maximum(band.lower * scale, floor)
        left.fill_between(band.n_labels, lower, band.upper * scale, color=line.get_color(), alpha=0.15)
    left.axhline(ref["mae_mean"] * scale, color="black", ls="--", lw=1, label=f"whole pool ({ref['n_labels']} labels)")
    left.set_yscale("log")
    left.set_ylim(floor, float(np.nanmax(means)) * 1.25)
    left.set(xlabel="labels", ylabel=f"test MAE ({unit}, log scale)", title=f"{case['name']}: MAE, mean and 95 % CI")
    left.legend(fontsize=8)
    for name, band in curve_bands(results, "spearman", band="ci95").items():
        right.plot(band.n_labels, band.mean, marker="o", ms=3, label=name)
    right.axhline(0, color="grey", lw=0.8)
    right.set(xlabel="labels", ylabel="Spearman(std, |error|)", title="uncertainty ranks errors? (test split)")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def improvement_figure(path: Path, cases: Sequence[dict[str, Any]]) -> None:
    """Forest plot: % lower final MAE than random with the 95 % bootstrap interval, one panel per strategy."""
    plt = _pyplot()
    strategies = [s for s in dict.fromkeys(k for c in cases for k in c["strategies"]) if s != BASELINE]
    if not strategies:
        return
    fig, axes = plt.subplots(1, len(strategies), figsize=(3.2 * len(strategies), 0.45 * len(cases) + 1.4), sharey=True)
    axes = [axes] if len(strategies) == 1 else list(axes)
    for ax, name in zip(axes, strategies, strict=True):
        for y, case in enumerate(cases):
            s = case["strategies"].get(name)
            if not s or s["improvement_pct"] is None:
                continue
            ci = s["improvement_ci"]
            err = None if ci is None else [[s["improvement_pct"] - ci[0]], [ci[1] - s["improvement_pct"]]]
            ax.errorbar(s["improvement_pct"], y, xerr=err, fmt="o", ms=4, capsize=2, color="C0")
        ax.axvline(0, color="black", lw=0.8)
        ax.set(title=name, xlabel="% lower final MAE than random")
    axes[0].set_yticks(range(len(cases)), [c["name"] for c in cases])
    axes[0].invert_yaxis()
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def speed_figure(path: Path, speed: Sequence[dict[str, Any]]) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.6 * len(speed) + 2.5, 3.6))
    for i, s in enumerate(speed):
        for j, committee in enumerate((s["ours"], s["baseline"])):
            seconds = s["committees"][committee]["seconds"]
            ax.bar(i + (j - 0.5) * 0.38, seconds, width=0.36, color=f"C{j}", label=committee if i == 0 else None)
        ax.text(i, max(c["seconds"] for c in s["committees"].values()), f"x{1 / s['ratio_protocol']:.1f}",
                ha="center", va="bottom")  # fmt: skip
    ax.axhline(60, color="grey", ls="--", lw=0.8, label="60 s target")
    tallest = max(c["seconds"] for s in speed for c in s["committees"].values())
    ax.set_ylim(0, max(tallest, 60) * 1.15)  # room for the speed-up labels
    ax.set_xticks(range(len(speed)), [s["dataset"] for s in speed])
    ax.set(ylabel="wall time of the protocol (s)", title="paper protocol: ours vs scikit-learn committee")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


# ---- markdown ---------------------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _f(value: float | None, spec: str, scale: float = 1.0, missing: str = "–") -> str:
    return missing if value is None else format(value * scale, spec)


def _ci(interval: Sequence[float] | None) -> str:
    return "–" if interval is None else f"[{interval[0]:+.1f}, {interval[1]:+.1f}]"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def strategy_table(case: dict[str, Any], unit: str, scale: float) -> str:
    rows = []
    for name, s in case["strategies"].items():
        sp = s["spearman"]
        spearman = "–" if sp["median"] is None else f"{sp['median']:.2f} [{sp['low']:.2f}, {sp['high']:.2f}]"
        rows.append([
            name,
            f"{_f(s['final_mae_mean'], '.1f', scale)} ± {_f(s['final_mae_std'], '.1f', scale)}",
            _f(s["improvement_pct"], "+.1f"),
            _ci(s["improvement_ci"]),
            s["versus_random"] or "baseline",
            _f(s["labels_to_target"], ".0f", missing="not reached"),
            saved_text(s["labels_saved_pct"], s.get("labels_saved_note"), s["labels_to_target"]),
            _f(s["aulc"], ".1f", scale),
            _p(s["p_mann_whitney"]),
            _p(s["p_wilcoxon"]),
            spearman,
            f"{s['calibration_final_median']:.2f}",
        ])  # fmt: skip
    headers = [
        "strategy", f"final MAE ({unit}) mean ± std", "vs random (%)", "95 % CI (%)", "vs random",
        "labels to reach random's final MAE", "labels saved (%)", f"AULC ({unit})", "p Mann-Whitney",
        "p Wilcoxon (paired)", "Spearman(std, \\|err\\|) median [range]", "RMSE / RMS(std) at budget",
    ]  # fmt: skip
    return table(headers, rows)


def case_section(case: dict[str, Any], figure: str, unit: str, scale: float) -> str:
    ref = case["reference"]
    random_final = case["strategies"].get(BASELINE, {}).get("final_mae_mean")
    gap = ""
    if random_final is not None:
        gap = f" (random at {case['budget']} labels: {_f(random_final, '.1f', scale)} {unit})"
    lines = [
        f"### {case['name']}",
        "",
        f"{case['n_structures']} structures ({', '.join(case['elements'])}), {case['n_features']} descriptor features; "
        f"test split {case['n_test']}, pool {case['n_pool']} + {case['n_initial']} initial; "
        f"budget {case['budget']} labels; "
        f"seeds {_seed_text(case['seeds'])}.",
        "",
        f"![{case['name']}]({figure})",
        "",
        strategy_table(case, unit, scale),
        "",
        p_floor_text(len(case["seeds"])),
        f"Reference: the same committee trained on the whole pool ({ref['n_labels']} labels), same seeds: "
        f"{_f(ref['mae_mean'], '.1f', scale)} ± {_f(ref['mae_std'], '.1f', scale)} {unit}{gap}.",
        f"Calibration: RMSE / RMS(committee std) on the test split, median over seeds: "
        f"{case['calibration_initial_median']:.2f} at {case['n_initial']} labels (the shared initial committee); "
        "the last column gives it at the budget (1 = calibrated, > 1 = the committee is over-confident).",
    ]
    blowups = {k: v["runs_with_blowup"] for k, v in case["strategies"].items() if v["runs_with_blowup"]}
    initial = case["seeds_with_initial_blowup"]
    if blowups or initial:
        where = []
        if initial:
            seeds = ", ".join(map(str, initial))
            where.append(f"the shared initial committee of seed{'s' * (len(initial) > 1)} {seeds}")
        if blowups:
            runs = ", ".join(f"{n} {k} run{'s' * (n > 1)}" for k, n in blowups.items())
            where.append(f"later rounds of {runs}")
        lines.append(
            f"**Note:** a test MAE above {BLOWUP_FACTOR:g}x the whole-pool reference (the committee extrapolating far "
            f"outside its training data) occurred in {' and '.join(where)}. Such rounds dominate the mean curve and "
            "the AULC; see the per-run curves in curves.csv."
        )
    if case["budget_exhausts_pool"]:
        lines.append(
            f"**Note:** the budget uses the whole pool, so every strategy ends with the same {case['budget']} labels; "
            "final-MAE differences, the % vs random and the p-values only reflect training-order noise (not a "
            "strategy comparison at the final round), and labels saved is not comparable. Compare AULC and the "
            "curves instead."
        )
    return "\n".join(lines)


def _seed_text(seeds: Sequence[int]) -> str:
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]} ({len(seeds)})"
    return ", ".join(map(str, seeds))


def speed_section(speed: Sequence[dict[str, Any]], unit: str, scale: float, figure: str | None) -> str:
    if not speed:
        return "## Speed against scikit-learn\n\nNot run (no bundled system selected, or `--speed-systems none`)."
    rows = []
    for s in speed:
        ours, base = s["committees"][s["ours"]], s["committees"][s["baseline"]]
        rows.append([
            s["dataset"],
            f"{len(s['strategies'])} x {len(s['seeds'])}",
            f"{ours['seconds']:.1f}",
            f"{base['seconds']:.1f}",
            f"{s['ratio_protocol']:.2f} (x{1 / s['ratio_protocol']:.1f})",
            f"{ours['round_seconds']:.3f} / {base['round_seconds']:.3f} = {s['ratio_round']:.2f}",
            f"{_f(ours['final_mae_mean'], '.1f', scale)} ± {_f(ours['final_mae_std'], '.1f', scale)}",
            f"{_f(base['final_mae_mean'], '.1f', scale)} ± {_f(base['final_mae_std'], '.1f', scale)}",
            "–" if s["mae_difference_ci"] is None else
            f"[{s['mae_difference_ci'][0] * scale:+.1f}, {s['mae_difference_ci'][1] * scale:+.1f}]",
            "met" if s["target_speedup_met"] else "missed",
            "met" if s["target_60s_met"] else "missed",
        ])  # fmt: skip
    first = speed[0]
    headers = [
        "system", "strategies x seeds", f"{first['ours']} (s)", f"{first['baseline']} (s)", "ratio ours/baseline",
        "per round (s): ours / baseline", f"final MAE ours ({unit})", f"final MAE baseline ({unit})",
        f"95 % CI of ours − baseline ({unit})", ">= 3x at equal or lower MAE", "< 60 s",
    ]  # fmt: skip
    lines = [
        "## Speed against scikit-learn",
        "",
        f"The paper protocol ({', '.join(first['strategies'])}; {len(first['seeds'])} seeds; 30 -> budget labels, "
        f"{first['n_rounds']} rounds) on the `paper` descriptors, run twice in the same session: with our batched "
        f"committee (`{first['ours']}`) and with the committee a user would write, 5 scikit-learn `MLPRegressor`s "
        f"with the same widths and epochs (`{first['baseline']}`). Same strategies, seeds, data and worker processes; "
        "both timed after a warm-up. A round is fit + predict + select. "
        "\"Equal or lower MAE\" means the 95 % bootstrap interval of the mean paired difference (ours − baseline, "
        "paired by strategy and seed) contains 0 or lies below it.",
        "",
        table(headers, rows),
    ]
    if figure:
        lines += ["", f"![speed]({figure})"]
    return "\n".join(lines)


def cost_section(cases: Sequence[dict[str, Any]], cost: Sequence[dict[str, Any]], cores: int | None) -> str:
    rows = [
        [
            c["name"],
            f"{c['seconds']['descriptors']:.1f}",
            f"{c['seconds']['grid']:.1f}",
            f"{c['seconds']['extra_fits']:.1f}",
            f"{c['seconds']['total'] / 60:.2f}",
            _f(c["peak_mb"], ".0f", missing="not measured"),
        ]
        for c in cases
    ]
    per_dataset = [
        [d["name"], d["cases"], f"{d['seconds'] / 60:.2f}", _f(d["peak_mb"], ".0f", missing="not measured"),
         f"{stats.CLAIMED_HOURS * 60:.0f} min / {stats.CLAIMED_MEMORY_GB * 1024:.0f} MB"]
        for d in cost
    ]  # fmt: skip
    return "\n".join([
        "## Cost",
        "",
        f"Wall time on this machine ({cores} cores, CPU only) and the peak resident memory of the whole process tree "
        "(main process + worker processes, sampled every 0.2 s; shared library pages count once per process, so "
        "this over-states physical memory). Descriptors are read from the on-disk cache when present (shipped "
        "features for the bundled pools). Extra fits = the whole-pool reference and the calibration refits. "
        "Per-system totals also include loading the dataset and choosing the `auto` descriptors.",
        "",
        table(["case", "descriptors (s)", "AL grid (s)", "extra fits (s)", "total (min)", "peak memory (MB)"], rows),
        "",
        "Per system (all its descriptor families), next to the paper's budget:",
        "",
        table(["system", "cases", "total (min)", "peak memory (MB)", "paper: per system"], per_dataset),
    ])  # fmt: skip


def descriptor_section(doc: dict[str, Any], unit: str, scale: float) -> str:
    """Random's final MAE per dataset and family (which descriptors make the better model of this data), and the
    numbers behind each ``auto`` choice."""
    cases = doc["cases"]
    families = list(dict.fromkeys(c["descriptor"] for c in cases))
    datasets = list(dict.fromkeys(c["dataset"] for c in cases))
    by = {(c["dataset"], c["descriptor"]): c for c in cases}
    rows = []
    for d in datasets:
        row = [d]
        for f in families:
            s = by.get((d, f), {}).get("strategies", {}).get(BASELINE)
            row.append("–" if s is None else f"{s['final_mae_mean'] * scale:.1f}")
        rows.append(row)
    lines = [
        "## Descriptor families",
        "",
        f"Random strategy, final MAE ({unit}) at the budget, mean over seeds (lower = a better model of this data; "
        "– = not run on that dataset):",
        "",
        table(["dataset", *families], rows),
    ]
    choices = doc.get("descriptor_choice") or {}
    if choices:
        candidates = doc["auto_candidates"]
        lines += [
            "",
            f"`auto` chose the structural family per dataset: the committee trained on {doc['protocol']['budget']} "
            "random labels (at most half of initial + pool) and scored on the remaining initial + pool rows, mean "
            f"over 3 seeds ({unit}); the test split is not used. The lower score wins.",
            "",
            table(
                ["dataset", "chosen", *(f"{c} validation MAE" for c in candidates)],
                [[d, f"**{ch['chosen']}**", *(_f(ch["validation_mae"].get(c), ".1f", scale) for c in candidates)]
                 for d, ch in choices.items()],
            ),
        ]  # fmt: skip
    return "\n".join(lines)


def _reduced_warning(protocol: dict[str, Any]) -> list[str]:
    if protocol["full"]:
        return []
    return [
        f"**Reduced run** ({len(protocol['seeds'])} seeds, budget {protocol['budget']}, committee of "
        f"{protocol['committee_params']['n_members']} members x {protocol['committee_params']['epochs']} epochs): "
        "not the full benchmark (>= 10 seeds, budget 300, default committee). Verdicts below hold for this "
        "configuration only.",
        "",
    ]


def markdown(doc: dict[str, Any], meta: dict[str, Any], figures: dict[str, str]) -> str:
    unit, scale = display_unit(doc["protocol"]["target"])
    protocol = doc["protocol"]
    verdict_rows = [[i + 1, v["claim"], f"**{v['status']}**", v["evidence"]] for i, v in enumerate(doc["verdicts"])]
    committee = ", ".join(f"{k} {v}" for k, v in protocol["committee_params"].items())
    parts = [
        "# Paper benchmark: selection strategies against random sampling",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} (alcore {meta['alcore']}, commit "
        f"{meta.get('git_commit') or 'unknown'}; python {meta['python']}, torch {meta['torch']}, numpy "
        f"{meta['numpy']}, scikit-learn {meta['sklearn']}; {meta['cpu_count']} cores). Exact versions and machine: "
        "[meta.json](meta.json). Raw per-run curves: [curves.csv](curves.csv), [runs.json](runs.json); every number "
        "below: [results.json](results.json).",
        "",
        "## Protocol",
        "",
        *_reduced_warning(protocol),
        f"- Datasets: {', '.join(dict.fromkeys(c['dataset'] for c in doc['cases']))}; descriptor families: "
        f"{', '.join(protocol['descriptors'])}"
        + (f" (auto = {' or '.join(doc['auto_candidates'])} per dataset, see Descriptor families)"
           if doc.get("descriptor_choice") else "")
        + f"; target `{protocol['target']}` (errors in {unit}).",
        f"- {protocol['n_initial']} initial labels, {protocol['batch_size']} per round, budget {protocol['budget']} "
        f"labels (or the pool, if smaller); held-out test split {protocol['test_fraction']:.0%} fixed by split seed "
        f"{protocol['split_seed']}; seeds {_seed_text(protocol['seeds'])}. A seed fixes the initial set and the "
        "committee seeds, so all strategies start from the same labels (paired comparisons).",
        f"- Committee `{protocol['committee']}` ({committee}); strategies: {', '.join(protocol['strategies'])}.",
        "- vs random (%) = (random's mean final MAE − the strategy's) / random's × 100: positive = lower error. "
        "95 % CI: paired bootstrap over seeds (BCa, 9 999 resamples, seeded). **Superior**: the CI lies above 0; "
        "**competitive**: it contains 0; **worse**: it lies below 0. With few seeds these intervals are optimistic.",
        "- Labels to reach random's final MAE: where the strategy's mean curve first reaches random's mean final MAE "
        "(linear interpolation between rounds); labels saved (%) compares it with where random's own mean curve "
        "reaches it (\"reaches\": within a relative 1e-9, i.e. rounding). It is **not comparable** (no number) "
        "when every strategy ends on the same labelled set (the budget uses the whole pool), when random's first-round "
        "mean MAE is within noise of its final mean (its curve does not decrease), or when the curve that reaches the "
        "target later is already within noise of it where the other one reaches it; noise = the half-width of the "
        "95 % t-interval of random's final mean MAE over seeds. "
        "AULC: area under the MAE-vs-labels curve divided by the label range (a mean MAE over the run).",
        "- p-values: two-sided Mann-Whitney U on final MAEs, and paired Wilcoxon signed-rank by seed, vs random. "
        + p_floor_text(len(protocol["seeds"])),
        "- Uncertainty quality: Spearman(committee std, |error|) on the test split, per round the median over seeds, "
        "then the median and range over rounds. Calibration: RMSE / RMS(std) on the test split (1 = calibrated).",
        "",
        "## Verdicts on the paper's claims",
        "",
        "Computed from the numbers below. Claim 2 is judged on every dataset made of Ti and O only; claim 4 on the "
        "whole protocol of each system (all descriptor families) on this machine.",
        "",
        table(["#", "claim", "verdict", "evidence"], verdict_rows),
        "",
        "Rules: (1) reproduced when diversity is competitive or superior in every case, not reproduced when it is "
        "worse in every case; (2) reproduced when diversity is significantly better than random (CI above 0 and "
        "paired Wilcoxon p < 0.05) with 10.9 % inside or below the CI; partly when better but not significantly or "
        "by less; (3) reproduced when diversity needs >= 5 % fewer labels than random to reach random's final MAE, "
        "partly when 0-5 %, cases where labels saved is not comparable count neither way; (4) reproduced when every "
        "system takes < 4 h and < 8 GB.",
    ]
    if "improvement" in figures:
        parts += ["", f"![improvement vs random]({figures['improvement']})"]
    if doc.get("robustness"):
        parts += ["", robustness_section(doc)]
    parts += ["", speed_section(doc["speed"], unit, scale, figures.get("speed")), ""]
    parts += [cost_section(doc["cases"], doc["cost"], meta.get("cpu_count")), ""]
    parts += [descriptor_section(doc, unit, scale), "", "## Results per dataset and descriptor family", ""]
    for case in doc["cases"]:
        parts += [case_section(case, figures[case["name"]], unit, scale), ""]
    deviation = max((c["refit_deviation"] for c in doc["cases"]), default=0.0)
    n_seeds = len(protocol["seeds"])
    n_strategies = max(len(protocol["strategies"]) - 1, 1)
    parts += [
        "## Notes",
        "",
        f"- The reference and calibration committees are refitted from each run's seeds and acquisition order; the "
        f"largest difference between a refitted final MAE and the run's own is {deviation * scale:.3g} {unit}.",
        f"- {PAPER_CHOICE} is the strategy the paper's claims are about; the other strategies are shown for context.",
        f"- p-values are not corrected for multiple comparisons ({n_strategies} strategies x {len(doc['cases'])} "
        f"cases). {p_floor_text(n_seeds)}",
        "- Bundled pools are labelled with CHGNet (a DFT surrogate); the real DFT sets come from their own codes and "
        "pseudopotentials, so absolute errors are comparable only within a dataset.",
        "",
    ]
    return "\n".join(parts)


def write_report(
    out: Path,
    doc: dict[str, Any],
    meta: dict[str, Any],
    case_runs: Sequence[tuple[dict[str, str], Sequence[RunResult]]],
    speed_runs: Sequence[tuple[dict[str, str], Sequence[RunResult]]],
) -> Path:
    """Write every file of the output folder (PNGs in ``figures/`` that this report does not link are removed, so a
    re-run into the same folder leaves no stale figure); returns the path of ``report.md``."""
    out = Path(out)
    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    unit, scale = display_unit(doc["protocol"]["target"])
    figures: dict[str, str] = {}
    for case, (_, results) in zip(doc["cases"], case_runs, strict=True):
        name = f"{FIGURES}/{slug(case['dataset'])}-{slug(case['descriptor'])}.png"
        case_figure(out / name, case, results, unit, scale)
        figures[case["name"]] = name
    if any(len(c["strategies"]) > 1 for c in doc["cases"]):
        improvement_figure(out / FIGURES / "improvement.png", doc["cases"])
        figures["improvement"] = f"{FIGURES}/improvement.png"
    if doc["speed"]:
        speed_figure(out / FIGURES / "speed.png", doc["speed"])
        figures["speed"] = f"{FIGURES}/speed.png"
    for stale in (out / FIGURES).glob("*.png"):  # left by an earlier report in this folder: not linked any more
        if f"{FIGURES}/{stale.name}" not in figures.values():
            stale.unlink()
    write_csv(out / "curves.csv", runs_frame(case_runs))
    if speed_runs:
        write_csv(out / "speed_curves.csv", runs_frame(speed_runs))
    write_json(out / "runs.json", {"cases": runs_document(case_runs), "speed": runs_document(speed_runs)})
    write_json(out / "results.json", json_ready(doc))
    write_json(out / "meta.json", meta)
    report = out / "report.md"
    write_text(report, markdown(doc, meta, figures))
    return report
