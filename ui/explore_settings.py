"""The Explore page's settings (all in the URL) and the RunConfig they describe. Strategy options come from the
strategies' specs (``ui.strategy_options``), keyed by the option's own name (``?alpha=0.3``)."""

from __future__ import annotations

from typing import Any, Mapping

from alcore.config import RunConfig
from ui.reference_options import reference_fields, reference_settings
from ui.strategy_options import option_settings, params_for
from ui.urlstate import Setting

HIDDEN = ["32", "64,64", "128,128", "128,64", "256,128,64"]
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1]
DEFAULT = RunConfig()


def DATASET(names: list[str]) -> Setting:  # noqa: N802 - reads like the constant it stands for
    default = DEFAULT.dataset if DEFAULT.dataset in names else names[0]
    return Setting("dataset", default, str, options=names)


def run_settings(targets: list[str], descriptors: list[str], strategies: list[str]) -> list[Setting]:
    """Settings that define the run (changing one shows another run)."""
    target = DEFAULT.target if DEFAULT.target in targets else targets[0]
    return [
        Setting("target", target, str, options=targets),
        Setting("descriptor", DEFAULT.descriptor, str, options=descriptors),
        *reference_settings(""),
        Setting("strategy", "diversity", str, options=strategies),
        *option_settings("", RESERVED),
        Setting("n_initial", DEFAULT.n_initial, int, bounds=(2, 500)),
        Setting("batch_size", DEFAULT.batch_size, int, bounds=(1, 200)),
        Setting("budget", DEFAULT.budget, int, bounds=(3, 100_000)),
        Setting("members", 5, int, bounds=(2, 20)),
        Setting("epochs", 100, int, bounds=(10, 2000)),
        Setting("hidden", "64,64", str, options=HIDDEN),
        Setting("lr", 0.01, float, options=LEARNING_RATES),
        Setting("seed", DEFAULT.seed, int, bounds=(0, 1_000_000)),
    ]


# Explore keys an option must not take over
RESERVED = ("dataset", "target", "descriptor", "energy_reference", "reference_energies", "strategy", "n_initial",
            "batch_size", "budget", "members", "epochs", "hidden", "lr", "seed", "colour_by", "show_test",
            "show_random", "show_baseline", "n_rounds", "autoplay_seconds", "autoplay", "round", "step", "run_n",
            "reset", "explore", "explore_run", "inspect_pick", "inspect_index", "map", "map_start", "map_loading",
            "branch", "branch_strategy", "branch_batch", "curve", "parity", "std_hist", "std_error", "calibration")


def view_settings() -> list[Setting]:
    """Settings that only change what is drawn."""
    return [
        Setting("colour_by", "role", str, options=["role", "std", "abs_error", "target", "labelled_in_round"]),
        Setting("show_test", False, bool),
        Setting("show_random", True, bool),
        Setting("show_baseline", True, bool),
        Setting("n_rounds", 5, int, bounds=(1, 100)),
        Setting("autoplay_seconds", 2.0, float, bounds=(0.5, 30.0)),
    ]


def build_config(values: Mapping[str, Any]) -> RunConfig:
    """The RunConfig of the current settings (raises ValueError on an impossible combination)."""
    strategy = values["strategy"]
    return RunConfig(
        dataset=values["dataset"],
        target=values["target"],
        descriptor=values["descriptor"],
        **reference_fields(values),
        strategy=strategy,
        strategy_params=params_for(values, "", strategy, RESERVED),
        committee_params={
            "n_members": int(values["members"]),
            "hidden": [int(w) for w in values["hidden"].split(",")],
            "epochs": int(values["epochs"]),
            "lr": float(values["lr"]),
        },
        n_initial=int(values["n_initial"]),
        batch_size=int(values["batch_size"]),
        budget=int(values["budget"]),
        seed=int(values["seed"]),
    )
