"""What a comparison's numbers cannot say, as text for every place that shows them (Compare page, CLI, sweeps,
the paper report): the smallest p-value the number of seeds allows, and a budget that labels the whole pool.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu, wilcoxon


def min_mann_whitney_p(n1: int, n2: int) -> float:
    """The smallest two-sided Mann-Whitney U p-value two samples of these sizes can give: scipy's own p for
    complete separation, so it is the floor of the p-values we report (exact, 2/C(n1+n2, n1), below 8 per group;
    scipy's normal approximation above, whose floor is higher)."""
    return float(mannwhitneyu(np.arange(n1), np.arange(n2) + n1, alternative="two-sided").pvalue)


def min_wilcoxon_p(n_pairs: int) -> float:
    """The smallest two-sided Wilcoxon signed-rank p-value ``n_pairs`` pairs can give (all differences of one sign):
    scipy's exact 2/2^n up to 50 pairs."""
    return float(wilcoxon(np.arange(1.0, n_pairs + 1.0)).pvalue)


def p_floor_text(n_seeds: int) -> str:
    """One sentence to print next to p-values: why p = 0.008 with 5 seeds is "every run better", not "strong"."""
    if n_seeds < 2:
        return f"With {n_seeds} seed there are no p-values (at least 2 seeds are needed)."
    return (
        f"With {n_seeds} seeds the smallest possible two-sided p is {min_mann_whitney_p(n_seeds, n_seeds):.3g} "
        f"(Mann-Whitney, {n_seeds} vs {n_seeds}) and {min_wilcoxon_p(n_seeds):.3g} (paired Wilcoxon): a p at that "
        "floor only says that every run (Mann-Whitney) or every seed's pair (Wilcoxon) favoured one strategy."
    )


def uses_whole_pool(budget: int, n_labelable: int) -> bool:
    """True when ``budget`` >= initial set + pool (``n_labelable``): every strategy ends on the same labelled set."""
    return budget >= n_labelable


def whole_pool_warning(budget: int, n_labelable: int) -> str | None:
    """The warning for a budget that labels the whole pool (None otherwise)."""
    if not uses_whole_pool(budget, n_labelable):
        return None
    return (
        f"The budget ({budget} labels) uses the whole pool (initial set + pool = {n_labelable} labels): every "
        "strategy ends on the same labelled set. At the final round the final MAE, the % vs random and the p-values "
        "compare training-order noise, not strategies, and labels saved is not comparable. Use a budget below "
        f"{n_labelable}, or compare the curves before the last rounds and the AULC."
    )
