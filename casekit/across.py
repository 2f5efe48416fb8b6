"""Across cases: is the improvement real in the portfolio, KPI by KPI or by SEI category?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ArgumentError
from .loading import Portfolio
from .meta import meta_analysis
from .multiplicity import CORRECTIONS, adjust_pvalues
from .paired import paired_tests
from .within import join_notes, kpi_effects


def percent_improvement(theta, sign, scale):
    """Direction-aware effect (log ratio, or points) → improvement (%, or points)."""
    theta = np.asarray(theta, dtype=float)
    if scale == "interval":
        return theta
    return sign * np.expm1(sign * theta) * 100


def _group_effects(effects: pd.DataFrame, by: str) -> pd.DataFrame:
    """One effect per case and group; a category averages the case's ratio-scale KPIs."""
    usable = effects[effects["usable"]]
    if by == "kpi":
        return usable.rename(columns={"kpi": "group"})
    if by != "category":
        raise ArgumentError(f"by must be 'kpi' or 'category', got {by!r}")
    ratio = usable[usable["scale"] == "ratio"]
    grouped = ratio.groupby(["case_id", "category"]).agg(
        effect=("effect", "mean"),
        # The KPIs of one case share its months and its organization, so their estimates are correlated by an
        # unknown amount; the mean of their standard errors is the standard error of their mean when they are
        # perfectly correlated, and an upper bound for any correlation.
        effect_se=("effect_se", "mean"),
        improvement=("improvement", "median"),
    ).reset_index()
    # A category's percent follows the KPI rows' convention for the direction most of its rows share
    # (a drop is a positive improvement of a lower-is-better KPI); ties read as higher-is-better.
    lower = ratio.assign(lower=ratio["better"] == "lower").groupby("category")["lower"].mean() > 0.5
    grouped["better"] = np.where(grouped["category"].map(lower), "lower", "higher")
    grouped["scale"] = "ratio"
    return grouped.rename(columns={"category": "group"}).assign(category=lambda g: g["group"])


def compare_portfolio(portfolio: Portfolio, kpis=None, correction: str = "holm", alpha: float = 0.05,
                      by: str = "kpi", meta_method: str = "DL", hartung_knapp: bool = True,
                      transition_months: int | None = None) -> pd.DataFrame:
    """Cross-case tests of improvement, one row per KPI (or per SEI category).

    Each case contributes one direction-aware effect per KPI, the same
    estimate and standard error as its own verdict (:func:`compare_case`):
    the first-year change beyond the baseline trend, as a log ratio signed
    so that positive is better (a difference in points for interval-scale
    KPIs), from the segmented regression with AR(1) errors.

    Parameters
    ----------
    portfolio : Portfolio
    kpis : list of str, optional
        KPIs to test (default every KPI measured by a case).
    correction : {"holm", "bh", "none"}
        Multiplicity correction across the rows tested: Holm (family-wise
        error) or Benjamini–Hochberg (false discovery rate).
    alpha : float
        Level for CIs and the verdict.
    by : {"kpi", "category"}
        One row per KPI, or per SEI category: a case's ratio-scale KPIs in a
        category are averaged first (the mean of their direction-aware log
        ratios), with the mean of their standard errors as its standard
        error (exact when the KPIs' estimates are perfectly correlated, an
        upper bound otherwise: a case's KPIs share its months, so they are
        not independent). The percent follows the KPI rows' convention for
        the direction most of the category's rows share: in a
        lower-is-better category a 20% drop reads as +20%, as it does on
        its KPI rows.
    meta_method : {"DL", "PM"}
        tau² estimator of the random-effects model.
    hartung_knapp : bool
        Hartung–Knapp CI and p-value for the pooled effect (default True).
    transition_months : int, optional
        Override every case's transition window.

    Returns
    -------
    pandas.DataFrame
        One row per KPI (``kpi``) or category (``category``), with
        ``category, scale, k`` (cases with usable data),
        ``median_improvement`` and ``improvement_unit`` (% or points);
        the random-effects model: ``pooled_improvement, pooled_ci_low,
        pooled_ci_high, pi_low, pi_high`` (in the same unit), ``tau2, i2, q,
        q_pvalue``; ``p_value`` (primary, see Notes) and ``p_adjusted``;
        the paired tests of each case's before against its after values:
        ``wilcoxon_stat, wilcoxon_p, t_stat, t_p`` (paired t on the log
        ratios), ``sign_positive, sign_n, sign_p``; the paired effect size
        ``dz, dz_ci_low, dz_ci_high`` (mean/sd of the effects, noncentral-t
        CI); ``heterogeneity_note`` (how to read tau², I² and the
        prediction interval with few cases, and why a prediction interval is
        missing: fewer than 3 cases, or bounds that would put an
        organization with the median baseline outside the KPI's range, such
        as an on-time delivery above 100%); and ``verdict``: ``improved`` / ``worsened`` when
        ``p_adjusted < alpha``, ``no clear change``, or ``not enough data``
        (fewer than 2 cases).

    Notes
    -----
    The primary test is the random-effects meta-analysis with the
    Hartung–Knapp adjustment: it weighs each case by the precision of its own
    before/after comparison, allows the true improvement to differ between
    organizations (tau²), and keeps its type I error near nominal even with
    few cases (IntHout et al. 2014). The Wilcoxon signed-rank test is the
    distribution-free check, but with k cases its smallest two-sided p-value
    is 2/2^k (0.0078 for 8 cases), which a Holm correction over many KPIs
    may never let through; the paired t on log ratios and the sign test are
    reported beside it for sensitivity.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> table = ck.compare_portfolio(pf)
    >>> row = table.set_index("kpi").loc["defect_density"]
    >>> int(row["k"]), row["verdict"]
    (5, 'no clear change')
    >>> row = ck.compare_portfolio(pf, by="category").set_index("category").loc["schedule"]
    >>> int(row["k"]), row["verdict"], round(float(row["pooled_improvement"]), 1)
    (8, 'no clear change', 26.8)
    """
    if correction not in CORRECTIONS:
        raise ArgumentError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    effects = kpi_effects(portfolio, kpis=kpis, alpha=alpha, transition_months=transition_months)
    groups = _group_effects(effects, by)
    rows = []
    for group, cases in groups.groupby("group", sort=True):
        rows.append(_test_group(group, cases, alpha, meta_method, hartung_knapp))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    if by == "category":
        table = table.drop(columns="category")
    else:
        table = _drop_impossible_predictions(table, groups, portfolio.kpi_definitions)
    table = table.rename(columns={"group": by})
    tested = table["p_value"].notna()
    table["p_adjusted"] = np.nan
    table.loc[tested, "p_adjusted"] = adjust_pvalues(table.loc[tested, "p_value"], correction)
    table["verdict"] = np.select(
        [~tested, table["p_adjusted"] < alpha],
        ["not enough data", np.where(table["pooled_improvement"] > 0, "improved", "worsened")],
        "no clear change",
    )
    return table


def _drop_impossible_predictions(table: pd.DataFrame, effects: pd.DataFrame, definitions: pd.DataFrame):
    """No prediction interval whose bounds put a typical organization outside the KPI's range.

    A bound is read as the level it implies for the median case's baseline (a 300% rise of on-time
    delivery from 80% is 320%); with 3 or 4 cases the t(k − 2) quantile makes such intervals common.
    """
    ranges = definitions.drop_duplicates("kpi").set_index("kpi")[["min", "max"]]
    baselines = effects.groupby("group")["baseline"].median()
    for i, row in table.iterrows():
        if not np.isfinite(row["pi_low"]) or row["group"] not in ranges.index:
            continue
        low, high = ranges.loc[row["group"]]
        sign = 1 if effects.loc[effects["group"] == row["group"], "better"].iloc[0] == "higher" else -1
        bounds = np.array([row["pi_low"], row["pi_high"]])
        base = baselines[row["group"]]
        levels = base + sign * bounds if row["scale"] == "interval" else base * (1 + sign * bounds / 100)
        if (np.isfinite(high) and (levels > high).any()) or (np.isfinite(low) and (levels < low).any()):
            table.loc[i, ["pi_low", "pi_high"]] = np.nan
            table.loc[i, "heterogeneity_note"] = join_notes(
                row["heterogeneity_note"], f"no prediction interval: its bounds imply levels outside the KPI's range "
                                           f"({low:g} to {high:g}) for a typical organization")
    return table


def _test_group(group, cases: pd.DataFrame, alpha, meta_method, hartung_knapp) -> dict:
    first = cases.iloc[0]
    sign = 1 if first["better"] == "higher" else -1
    scale = first["scale"]
    row = {
        "group": group,
        "category": first["category"],
        "scale": scale,
        "k": len(cases),
        "median_improvement": float(cases["improvement"].median()),
        "improvement_unit": "points" if scale == "interval" else "%",
    }
    pooled = dict.fromkeys(["pooled_improvement", "pooled_ci_low", "pooled_ci_high", "pi_low", "pi_high", "tau2",
                            "i2", "q", "q_pvalue", "p_value"], np.nan)
    if len(cases) >= 2:
        res = meta_analysis(cases["effect"], cases["effect_se"] ** 2, method=meta_method,
                            hartung_knapp=hartung_knapp, alpha=alpha)
        values = percent_improvement([res.estimate, res.ci_low, res.ci_high, res.pi_low, res.pi_high], sign, scale)
        low, high = sorted(values[1:3])
        pi_low, pi_high = sorted(values[3:5])
        pooled.update(pooled_improvement=float(values[0]), pooled_ci_low=float(low), pooled_ci_high=float(high),
                      pi_low=float(pi_low), pi_high=float(pi_high), tau2=res.tau2, i2=res.i2, q=res.q,
                      q_pvalue=res.q_pvalue, p_value=res.p_value)
    return {**row, **pooled, **paired_tests(cases["effect"].to_numpy(), alpha),
            "heterogeneity_note": heterogeneity_note(len(cases))}


def heterogeneity_note(k: int) -> str:
    """How to read tau², I² and the prediction interval of a meta-analysis of ``k`` cases."""
    if k < 3:
        return f"{k} case(s): no prediction interval (it needs 3); tau² and I² say almost nothing"
    if k < 10:
        return (f"{k} cases: tau², I² and the prediction interval are very imprecise (a tau² or I² of 0 does not "
                f"show that the cases agree); read them as descriptions, not tests")
    return ""
