"""The portfolio broken down: SEI-style category summary, subgroups, dose-response."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from .across import _improvement
from .loading import Portfolio
from .meta import meta_analysis
from .within import kpi_effects


def category_summary(portfolio: Portfolio, reference: pd.DataFrame | None = None,
                     transition_months: int | None = None) -> pd.DataFrame:
    """Median, lowest and highest improvement per SEI category, as the SEI reports them.

    Every case's comparison of every ratio-scale KPI is one data point
    (interval-scale KPIs such as NPS have no percentage and are left out).

    Parameters
    ----------
    portfolio : Portfolio
    reference : DataFrame, optional
        Published results to set beside, with columns ``category`` and
        ``median`` — e.g. ``pd.read_csv("data/sei_performance_results_2006.csv")``.
    transition_months : int, optional
        Override every case's transition window.

    Returns
    -------
    pandas.DataFrame
        One row per category: ``category, data_points, cases, median,
        lowest, highest`` (direction-aware improvement, %), and
        ``reference_median`` when a reference is given.

    Examples
    --------
    >>> import casekit as ck
    >>> summary = ck.category_summary(ck.load_cases("cases"))
    >>> summary[["category", "data_points", "cases"]].values.tolist()[:2]
    [['cost', 7, 6], ['customer satisfaction', 6, 5]]
    """
    effects = kpi_effects(portfolio, transition_months=transition_months)
    ratio = effects[effects["usable"] & (effects["scale"] == "ratio")]
    table = ratio.groupby("category").agg(
        data_points=("improvement", "size"),
        cases=("case_id", "nunique"),
        median=("improvement", "median"),
        lowest=("improvement", "min"),
        highest=("improvement", "max"),
    ).reset_index()
    if reference is not None:
        table = table.merge(reference[["category", "median"]].rename(columns={"median": "reference_median"}),
                            on="category", how="left")
    return table


def subgroup_analysis(portfolio: Portfolio, by: str = "sector", kpis=None, meta_method: str = "DL",
                      alpha: float = 0.05, transition_months: int | None = None) -> pd.DataFrame:
    """Pooled improvement per KPI within subgroups of cases, and a test of their difference.

    Parameters
    ----------
    by : str
        A column of :func:`kpi_effects`: ``"sector"``, ``"maturity_latest"``
        (the maturity level reached), ``"levels_gained"``...

    Returns
    -------
    pandas.DataFrame
        One row per KPI and subgroup: ``kpi, <by>, k``, ``pooled_improvement,
        ci_low, ci_high`` (random-effects within the subgroup; a single case's
        own estimate when k = 1), ``tau2``, and per KPI ``q_between`` and
        ``p_between``: the test for subgroup differences of R's meta package
        (Cochran's Q across the subgroup estimates with their standard
        errors, G − 1 df; Borenstein et al. 2009, ch. 19). NaN with fewer
        than two subgroups.
    """
    effects = kpi_effects(portfolio, kpis=kpis, alpha=alpha, transition_months=transition_months)
    effects = effects[effects["usable"]]
    if by not in effects.columns:
        raise ValueError(f"by must be a column of kpi_effects, such as sector or maturity_latest; got {by!r}")
    rows = []
    crit = stats.norm.ppf(1 - alpha / 2)
    for kpi, of_kpi in effects.groupby("kpi"):
        sign = 1 if of_kpi["better"].iloc[0] == "higher" else -1
        scale = of_kpi["scale"].iloc[0]
        estimates = []
        for group, cases in of_kpi.groupby(by):
            if len(cases) >= 2:
                res = meta_analysis(cases["effect"], cases["effect_se"] ** 2, method=meta_method, alpha=alpha)
                theta, se, tau2 = res.estimate, res.se, res.tau2
            else:
                theta, se, tau2 = cases["effect"].iloc[0], cases["effect_se"].iloc[0], np.nan
            point, low, high = _improvement([theta, theta - crit * se, theta + crit * se], sign, scale)
            low, high = sorted((low, high))
            estimates.append((theta, se))
            rows.append({"kpi": kpi, by: group, "k": len(cases), "pooled_improvement": point, "ci_low": low,
                         "ci_high": high, "tau2": tau2})
        q, p = np.nan, np.nan
        if len(estimates) >= 2:
            theta, se = np.array(estimates).T
            with np.errstate(invalid="ignore"):  # only Q is used; see casekit.meta on statsmodels' tau²
                q = float(combine_effects(theta, se**2, method_re="chi2").q)
            p = float(stats.chi2.sf(q, len(estimates) - 1))
        for row in rows[-len(estimates):]:
            row.update(q_between=q, p_between=p)
    return pd.DataFrame(rows, columns=["kpi", by, "k", "pooled_improvement", "ci_low", "ci_high", "tau2",
                                       "q_between", "p_between"])


def dose_response(portfolio: Portfolio, by: str = "category", transition_months: int | None = None) -> pd.DataFrame:
    """Do organizations that gained more maturity levels improve more?

    Spearman's rank correlation between maturity levels gained (latest
    rated level minus the level before adoption; unrated before adoption
    counts as ML1) and the direction-aware effect, per KPI or per category.
    The per-case points are in :func:`kpi_effects` (``levels_gained``,
    ``improvement``) for charts.

    Returns
    -------
    pandas.DataFrame
        One row per ``kpi`` or ``category``: ``n`` (cases), ``levels``
        (distinct levels gained), ``rho`` (scipy.stats.spearmanr) and
        ``p_value`` (two-sided permutation test, exact up to 7 cases, else
        9,999 seeded resamples: the t approximation is useless for the few
        cases a portfolio has); NaN with fewer than 3 cases or no spread.
    """
    if by not in ("kpi", "category"):
        raise ValueError(f"by must be 'kpi' or 'category', got {by!r}")
    effects = kpi_effects(portfolio, transition_months=transition_months)
    effects = effects[effects["usable"] & effects["levels_gained"].notna()]
    rows = []
    for group, cases in effects.groupby(by):
        levels = cases["levels_gained"].astype(float)
        row = {by: group, "n": len(cases), "levels": int(levels.nunique()), "rho": np.nan, "p_value": np.nan}
        if len(cases) >= 3 and levels.nunique() > 1 and cases["effect"].nunique() > 1:
            row.update(_spearman(levels.to_numpy(), cases["effect"].to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, "n", "levels", "rho", "p_value"])


def _spearman(x: np.ndarray, y: np.ndarray) -> dict:
    y_ranks = stats.rankdata(y)

    def rho(sample, axis=-1):  # vectorized over permutations: Pearson correlation of the ranks
        ranks = stats.rankdata(sample, axis=axis)
        ranks = ranks - ranks.mean(axis=axis, keepdims=True)
        centred = y_ranks - y_ranks.mean()
        return (ranks * centred).sum(axis=axis) / np.sqrt((ranks**2).sum(axis=axis) * (centred**2).sum())

    test = stats.permutation_test((x,), rho, permutation_type="pairings", n_resamples=9999, vectorized=True,
                                  random_state=np.random.default_rng(0))
    return {"rho": float(test.statistic), "p_value": float(test.pvalue)}
