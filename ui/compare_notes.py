"""Texts of the Compare page that depend on the comparison shown: the whole-pool warning and the summary caption
(kept out of the page, which only places them)."""

from __future__ import annotations

from alcore.comparison.caveats import p_floor_text, whole_pool_warning
from alcore.config import RunConfig
from alcore.splits import max_labels
from ui.datasets import get_dataset


def whole_pool_note(base: RunConfig) -> str | None:
    """The warning when ``base``'s budget labels every structure outside the test split (None otherwise)."""
    return whole_pool_warning(base.budget, max_labels(len(get_dataset(base.dataset)), base.test_fraction))


def summary_caption(n_seeds: int, with_random: bool) -> str:
    """What each column means, the rules for "not comparable", and the smallest p-value the seeds allow."""
    return (
        "Final MAE: mean ± std over seeds at the budget. Labels to reach random's final MAE: where the mean curve "
        "first gets there (interpolated). Labels saved: % fewer labels than random's own curve needs; no number, "
        "but *not comparable (reason)*, when every strategy ends on the same labelled set (the whole pool), when "
        "random's curve does not fall by more than the noise of its final MAE (95 % t-interval over seeds), or where "
        "the curve that gets there later is already within that noise. AULC: area under the MAE curve per label (a "
        "mean MAE over the run). p-values compare final MAEs with random: Mann-Whitney (unpaired) and Wilcoxon "
        f"signed-rank (paired by seed). {p_floor_text(n_seeds)}"
        + ("" if with_random else " Add **random** to the strategies to get the comparison columns.")
    )
