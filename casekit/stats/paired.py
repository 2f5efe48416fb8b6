"""Paired tests on cases' effects (one effect per case against zero), as scipy computes them."""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats


def paired_tests(effects, alpha: float = 0.05) -> dict:
    """Wilcoxon signed-rank, one-sample t and sign tests of effects against zero, and d_z.

    ``effects`` are each case's own effect on the analysis scale: in casekit,
    the change at adoption beyond the baseline trend (the interrupted time
    series' counterfactual contrast, a direction-aware log ratio of the
    fitted to the counterfactual level, or points), so these test whether
    the cases' effects are centred on zero. Returns
    ``wilcoxon_stat, wilcoxon_p`` (scipy.stats.wilcoxon, two-sided, exact for
    small k without ties), ``t_stat, t_p`` (scipy.stats.ttest_1samp),
    ``sign_positive, sign_n, sign_p`` (scipy.stats.binomtest on the non-zero
    effects), and ``dz, dz_ci_low, dz_ci_high``: the standardized mean
    effect d_z = mean / sd with a CI from the noncentral t distribution
    (Cumming & Finch 2001). NaN where k is too small (fewer than 2; d_z and
    t need a non-zero spread).

    Parameters
    ----------
    effects : array_like of float
        One effect per case.
    alpha : float, default 0.05
        1 − the d_z interval's confidence.

    Returns
    -------
    dict
        The keys above.

    Examples
    --------
    >>> result = paired_tests([0.21, 0.10, 0.35, 0.05, 0.18, -0.02])
    >>> round(result["wilcoxon_p"], 4), round(result["t_p"], 4), result["sign_positive"]
    (0.0625, 0.0422, 5)
    """
    d = np.asarray(effects, dtype=float)
    k = len(d)
    out = dict.fromkeys(
        ["wilcoxon_stat", "wilcoxon_p", "t_stat", "t_p", "sign_positive", "sign_n", "sign_p", "dz", "dz_ci_low",
         "dz_ci_high"], np.nan)
    if k < 2:
        return out
    nonzero = d[d != 0]
    if len(nonzero):
        w = stats.wilcoxon(nonzero)
        out.update(wilcoxon_stat=float(w.statistic), wilcoxon_p=float(w.pvalue))
        positive = int((nonzero > 0).sum())
        out.update(sign_positive=positive, sign_n=len(nonzero),
                   sign_p=float(stats.binomtest(positive, len(nonzero), 0.5).pvalue))
    if np.ptp(d) > 0:
        sd = d.std(ddof=1)
        t = stats.ttest_1samp(d, 0.0)
        out.update(t_stat=float(t.statistic), t_p=float(t.pvalue), dz=float(d.mean() / sd))
        low, high = _noncentral_ci(float(t.statistic), k - 1, alpha)
        out.update(dz_ci_low=float(low / np.sqrt(k)), dz_ci_high=float(high / np.sqrt(k)))
    return out


def _noncentral_ci(t: float, df: int, alpha: float) -> tuple[float, float]:
    """Noncentrality parameters whose t distributions put ``t`` at the 1 − α/2 and α/2 quantiles."""

    def excess(nc: float, prob: float) -> float:
        p = stats.nct.cdf(t, df, nc)
        if np.isnan(p):  # far tails, where scipy's nct gives up: the cdf is 0 or 1 there
            p = 0.0 if nc > t else 1.0
        return p - prob

    def solve(prob: float) -> float:
        step = 2.0
        while excess(t - step, prob) * excess(t + step, prob) > 0:
            step *= 2
        return float(optimize.brentq(excess, t - step, t + step, args=(prob,)))

    return solve(1 - alpha / 2), solve(alpha / 2)
