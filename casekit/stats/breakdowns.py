"""The portfolio broken down: SEI-style category summary, subgroups, dose-response."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from ..errors import ArgumentError
from ..inputs.catalog import RELATIVE
from .across import percent_improvement
from .meta import meta_analysis
from .multiplicity import adjust_pvalues


def category_summary(effects: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median, lowest and highest improvement per SEI category, as the SEI reports them.

    Every case's comparison of every ratio-scale KPI is one data point
    (interval-scale KPIs such as NPS have no percentage and are left out).

    Parameters
    ----------
    effects : DataFrame
        :attr:`casekit.PortfolioComparison.effects`.
    reference : DataFrame, optional
        Published results to set beside, with columns ``category`` and
        ``median`` — e.g. ``pd.read_csv(ck.project.reference_path())``.

    Returns
    -------
    pandas.DataFrame
        One row per category: ``category, data_points, cases, median,
        lowest, highest`` (direction-aware improvement, %), and
        ``reference_median`` when a reference is given.

    Examples
    --------
    >>> import casekit as ck
    >>> summary = ck.compare_portfolio(ck.load_cases("cases")).categories()
    >>> summary[["category", "data_points", "cases"]].values.tolist()[:2]
    [['cost', 7, 6], ['customer satisfaction', 4, 3]]
    """
    ratio = effects[effects["usable"] & effects["scale"].isin(RELATIVE)]
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


def subgroup_analysis(effects: pd.DataFrame, by: str = "sector", meta_method: str = "DL", alpha: float = 0.05,
                      correction: str = "holm") -> pd.DataFrame:
    """Pooled improvement per KPI within subgroups of cases, and a test of their difference.

    Parameters
    ----------
    effects : DataFrame
        :attr:`casekit.PortfolioComparison.effects`.
    by : str
        A column of ``effects``: ``"sector"``, ``"maturity_latest"``
        (the maturity level reached), ``"levels_gained"``...
    correction : {"holm", "bh", "none"}
        Multiplicity correction of the tests for subgroup differences
        across the KPIs tested.

    Returns
    -------
    pandas.DataFrame
        One row per KPI and subgroup: ``kpi, <by>, k``, ``pooled_improvement,
        ci_low, ci_high`` (random effects within the subgroup with the
        Hartung–Knapp interval, never narrower than the usual one: the test
        for differences below sets the subgroups' standard errors side by
        side, which needs them on the model's scale, not the empirical one
        of :func:`compare_portfolio`'s robust test from two or three cases;
        a single case's own estimate and interval when k = 1), ``tau2``,
        ``improvement_unit`` (``%``, or ``points`` for an interval-scale
        KPI), and per KPI ``q_between``, ``p_between`` and
        ``p_between_adjusted``: the test for subgroup differences of R's meta
        package (Cochran's Q across the subgroup estimates with their
        standard errors, G − 1 df; Borenstein et al. 2009, ch. 19),
        corrected across KPIs, among the subgroups of two or more
        organizations only: a subgroup of one is one organization, whose
        difference from the others says nothing about its subgroup. NaN with
        fewer than two such subgroups; ``between_note`` says which subgroups
        were left out of the test, or why there is none.

    Examples
    --------
    >>> import casekit as ck
    >>> effects = ck.compare_portfolio(ck.load_cases("cases")).effects
    >>> table = subgroup_analysis(effects, by="sector")
    >>> table.columns[:6].tolist()
    ['kpi', 'sector', 'k', 'pooled_improvement', 'ci_low', 'ci_high']
    """
    effects = effects[effects["usable"]]
    if by not in effects.columns:
        raise ArgumentError(f"by must be a column of the effects, such as sector or maturity_latest; got {by!r}")
    rows = []
    for kpi, of_kpi in effects.groupby("kpi"):
        sign = 1 if of_kpi["better"].iloc[0] == "higher" else -1
        scale = of_kpi["scale"].iloc[0]
        estimates, singles = [], []
        groups = list(of_kpi.groupby(by))
        for group, cases in groups:
            if len(cases) >= 2:
                res = meta_analysis(cases["effect"], cases["effect_se"] ** 2, method=meta_method, alpha=alpha,
                                    test="hk")
                point, low, high = percent_improvement([res.estimate, res.ci_low, res.ci_high], sign, scale)
                estimates.append((res.estimate, res.se))
                tau2 = res.tau2
            else:
                case = cases.iloc[0]
                point, low, high, tau2 = case["improvement"], case["ci_low"], case["ci_high"], np.nan
                singles.append(str(group))
            low, high = sorted((low, high))
            rows.append({"kpi": kpi, by: group, "k": len(cases), "pooled_improvement": point, "ci_low": low,
                         "ci_high": high, "tau2": tau2, "improvement_unit": "points" if scale == "interval" else "%"})
        q, p = np.nan, np.nan
        if len(estimates) >= 2:
            theta, se = np.array(estimates).T
            with np.errstate(invalid="ignore"):  # only Q is used; see casekit.stats.meta on statsmodels' tau²
                q = float(combine_effects(theta, se**2, method_re="chi2").q)
            p = float(stats.chi2.sf(q, len(estimates) - 1))
        note = _between_note(len(groups), len(estimates), singles)
        for row in rows[-len(groups):]:
            row.update(q_between=q, p_between=p, between_note=note)
    table = pd.DataFrame(rows, columns=["kpi", by, "k", "pooled_improvement", "ci_low", "ci_high", "tau2",
                                        "improvement_unit", "q_between", "p_between", "between_note"])
    per_kpi = table.groupby("kpi")["p_between"].first().dropna()
    adjusted = pd.Series(adjust_pvalues(per_kpi.to_numpy(), correction), index=per_kpi.index)
    table["p_between_adjusted"] = table["kpi"].map(adjusted)
    return table


def _between_note(groups: int, tested: int, singles: list[str]) -> str:
    """Why a KPI's subgroups were compared as they were (empty when all of them were, each of two or more)."""
    if groups < 2:
        return "one subgroup: nothing to compare"
    if tested < 2:
        return "not tested: fewer than two subgroups have two or more organizations"
    if singles:
        return f"tested among the subgroups of two or more organizations; left out, with one: {', '.join(singles)}"
    return ""


def dose_response(effects: pd.DataFrame, by: str = "category") -> pd.DataFrame:
    """Do organizations that gained more maturity levels improve more?

    Spearman's rank correlation between maturity levels gained (latest
    rated level minus the level before adoption; unrated before adoption
    counts as ML1) and the direction-aware effect, with one point per case:
    per KPI, per category (the mean of the case's ratio-scale KPIs in it)
    or over all of a case's ratio-scale KPIs (``by="all"``). Interval-scale
    KPIs (points) are not averaged with log ratios; they appear only per
    KPI. The per-case points are :func:`dose_points`, for charts.

    Returns
    -------
    pandas.DataFrame
        One row per ``kpi``, ``category`` or (``all``) one row: ``n``
        (cases), ``levels`` (distinct levels gained), ``rho``
        (scipy.stats.spearmanr) and ``p_value`` (two-sided permutation test,
        exact up to 7 cases, else 9,999 seeded resamples: the t
        approximation is useless for the few cases a portfolio has; beyond
        1,000 cases it is scipy.stats.spearmanr's t approximation, which
        there agrees with the permutation test within the resampling's own
        error and costs no 9,999 × n array); NaN with fewer than 3 cases or
        no spread.

    Parameters
    ----------
    effects : pandas.DataFrame
        :attr:`casekit.PortfolioComparison.effects`.
    by : {"category", "kpi", "all"}
        One correlation per SEI category, per KPI, or over all KPIs.

    Examples
    --------
    >>> import casekit as ck
    >>> effects = ck.compare_portfolio(ck.load_cases("cases")).effects
    >>> dose_response(effects, by="all")[["n", "levels"]].values.tolist()
    [[8, 3]]
    """
    points = dose_points(effects, by=by)
    rows = []
    for group, cases in points.groupby(by):
        levels = cases["levels_gained"].astype(float)
        row = {by: group, "n": len(cases), "levels": int(levels.nunique()), "rho": np.nan, "p_value": np.nan}
        if len(cases) >= 3 and levels.nunique() > 1 and cases["effect"].nunique() > 1:
            row.update(_spearman(levels.to_numpy(), cases["effect"].to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, "n", "levels", "rho", "p_value"])


def dose_points(effects: pd.DataFrame, by: str = "category") -> pd.DataFrame:
    """One point per case (and KPI or category) for :func:`dose_response`: levels gained and effect.

    Returns ``case_id, <by>, levels_gained, effect`` (a direction-aware
    log ratio, or points for an interval-scale KPI when ``by="kpi"``).

    Parameters
    ----------
    effects : pandas.DataFrame
        :attr:`casekit.PortfolioComparison.effects`.
    by : {"category", "kpi", "all"}
        As :func:`dose_response`.

    Returns
    -------
    pandas.DataFrame
        ``case_id, <by>, levels_gained, effect``.

    Examples
    --------
    >>> import casekit as ck
    >>> effects = ck.compare_portfolio(ck.load_cases("cases")).effects
    >>> dose_points(effects, by="all").columns.tolist()
    ['case_id', 'all', 'levels_gained', 'effect']
    """
    if by not in ("kpi", "category", "all"):
        raise ArgumentError(f"by must be 'kpi', 'category' or 'all', got {by!r}")
    effects = effects[effects["usable"] & effects["levels_gained"].notna()]
    if by == "kpi":
        return effects[["case_id", "kpi", "levels_gained", "effect"]].reset_index(drop=True)
    ratio = effects[effects["scale"].isin(RELATIVE)].assign(all="all")
    return ratio.groupby(["case_id", by], as_index=False).agg(levels_gained=("levels_gained", "first"),
                                                              effect=("effect", "mean"))


PERMUTATION_CASES = 1_000  # beyond, the t approximation (see dose_response)


def _spearman(x: np.ndarray, y: np.ndarray) -> dict:
    if len(x) > PERMUTATION_CASES:
        test = stats.spearmanr(x, y)
        return {"rho": float(test.statistic), "p_value": float(test.pvalue)}
    # Ranking commutes with permuting, so the permutations shuffle x's ranks, ranked once, rather than
    # ranking every permuted sample: the same permutations and statistics, without a sort per resample.
    x_ranks = stats.rankdata(x)
    y_centred = stats.rankdata(y) - (len(y) + 1) / 2
    y_norm = np.sqrt((y_centred**2).sum())

    def rho(ranks, axis=-1):  # vectorized over permutations: Pearson correlation of the ranks
        centred = ranks - ranks.mean(axis=axis, keepdims=True)
        return (centred * y_centred).sum(axis=axis) / (np.sqrt((centred**2).sum(axis=axis)) * y_norm)

    test = stats.permutation_test((x_ranks,), rho, permutation_type="pairings", n_resamples=9999, vectorized=True,
                                  random_state=np.random.default_rng(0))
    return {"rho": float(test.statistic), "p_value": float(test.pvalue)}
