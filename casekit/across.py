"""Across cases: is the improvement real in the portfolio, KPI by KPI or by SEI category?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from .loading import Portfolio
from .meta import meta_analysis
from .paired import paired_tests
from .within import kpi_effects

CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "none": None}


def _improvement(theta, sign, scale):
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
        raise ValueError(f"by must be 'kpi' or 'category', got {by!r}")
    ratio = usable[usable["scale"] == "ratio"]
    grouped = ratio.groupby(["case_id", "category"]).agg(
        effect=("effect", "mean"),
        var_sum=("effect_se", lambda s: float((s**2).sum())),
        m=("effect", "size"),
        improvement=("improvement", "median"),
    ).reset_index()
    grouped["effect_se"] = np.sqrt(grouped["var_sum"]) / grouped["m"]
    # a category mixes KPIs of both directions; effects are already direction-aware, so report
    # its improvement on the "higher is better" convention: 100 (exp(effect) - 1)
    grouped["better"], grouped["scale"] = "higher", "ratio"
    return grouped.rename(columns={"category": "group"}).assign(category=lambda g: g["group"])


def adjust_pvalues(p_values, correction: str = "holm") -> np.ndarray:
    """p-values adjusted for testing several hypotheses (statsmodels' multipletests).

    ``correction``: ``"holm"`` (family-wise error, Holm 1979), ``"bh"``
    (false discovery rate, Benjamini & Hochberg 1995) or ``"none"``.

    Examples
    --------
    Holm multiplies the i-th smallest of m p-values by m − i + 1 and keeps
    the sequence increasing; Benjamini–Hochberg multiplies by m / i and keeps
    it decreasing from the top:

    >>> from casekit.across import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "holm").round(4).tolist()
    [0.05, 0.08, 0.09, 0.09, 0.09]
    >>> adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "bh").round(4).tolist()
    [0.05, 0.05, 0.05, 0.05, 0.05]
    """
    method = CORRECTIONS.get(correction, "invalid")
    if method == "invalid":
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    p = np.asarray(p_values, dtype=float)
    if method is None or len(p) <= 1:  # one test needs no correction (and multipletests' Holm runs gc.collect)
        return p.copy()
    return multipletests(p, method=method)[1]


def compare_portfolio(portfolio: Portfolio, kpis=None, correction: str = "holm", alpha: float = 0.05,
                      by: str = "kpi", meta_method: str = "DL", hartung_knapp: bool = True,
                      transition_months: int | None = None) -> pd.DataFrame:
    """Cross-case tests of improvement, one row per KPI (or per SEI category).

    Each case contributes one direction-aware effect per KPI: the log ratio
    of its post-adoption to its baseline level, signed so that positive is
    better (a difference in points for interval-scale KPIs), with the
    standard error from its own HAC before/after comparison (see
    :func:`compare_case`).

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
        One row per KPI, or per SEI category (a case's ratio-scale KPIs in a
        category are averaged first, their variances combined as if
        independent). A category mixes directions, so its pooled
        improvement is 100·(exp(θ) − 1) for the mean direction-aware log
        ratio θ: a 20% drop of a lower-is-better KPI alone (θ = −log 0.8)
        reads as 25%, the better-direction ratio 1/0.8.
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
        CI); and ``verdict``: ``improved`` / ``worsened`` when
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
    (8, 'improved', 35.1)
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
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
        values = _improvement([res.estimate, res.ci_low, res.ci_high, res.pi_low, res.pi_high], sign, scale)
        low, high = sorted(values[1:3])
        pi_low, pi_high = sorted(values[3:5])
        pooled.update(pooled_improvement=float(values[0]), pooled_ci_low=float(low), pooled_ci_high=float(high),
                      pi_low=float(pi_low), pi_high=float(pi_high), tau2=res.tau2, i2=res.i2, q=res.q,
                      q_pvalue=res.q_pvalue, p_value=res.p_value)
    return {**row, **pooled, **paired_tests(cases["effect"].to_numpy(), alpha)}
