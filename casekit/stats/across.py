"""Across cases: is the improvement real in the portfolio, KPI by KPI or by SEI category?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..inputs.catalog import RELATIVE
from .meta import meta_analysis
from .multiplicity import CORRECTIONS, adjust_pvalues
from .notes import join_notes
from .paired import paired_tests


def percent_improvement(theta, sign, scale):
    """Direction-aware effect (log ratio, or points) → improvement (%, or points).

    Parameters
    ----------
    theta : float or array_like
        Effects on the analysis scale, signed so that positive is better
        (a log ratio for a ratio-scale KPI, points for an interval-scale one).
    sign : {1, -1}
        1 for a higher-is-better KPI, −1 for a lower-is-better one.
    scale : {"ratio", "interval"}
        The KPI's scale.

    Returns
    -------
    numpy.ndarray
        The improvement: percent on the ratio scale (a fall of a lower-is-better
        KPI is positive), points on the interval scale.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(percent_improvement([0.2231], -1, "ratio"), 1)  # a 20% fall of defects
    array([20.])
    >>> percent_improvement([4.0], 1, "interval")
    array([4.])
    """
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
    ratio = usable[usable["scale"].isin(RELATIVE)]
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


def portfolio_tests(effects: pd.DataFrame, definitions: pd.DataFrame, by: str = "kpi", correction: str = "holm",
                    alpha: float = 0.05, meta_method: str = "DL", meta_test: str = "robust") -> pd.DataFrame:
    """Cross-case tests of the effects pooling takes: see :meth:`casekit.PortfolioComparison.tests`.

    Parameters
    ----------
    effects : pandas.DataFrame
        :attr:`casekit.PortfolioComparison.effects`.
    definitions : pandas.DataFrame
        The KPI catalog rows of the KPIs in ``effects``.
    by, correction, alpha, meta_method, meta_test
        As :meth:`casekit.PortfolioComparison.tests`.

    Returns
    -------
    pandas.DataFrame
        One row per KPI or category; its columns are those of
        :meth:`casekit.PortfolioComparison.tests`.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_portfolio(ck.load_cases("cases"))
    >>> table = portfolio_tests(comparison.effects, ck.kpi_catalog())
    >>> table.equals(comparison.tests())
    True
    """
    if correction not in CORRECTIONS:
        raise ArgumentError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    groups = _group_effects(effects, by)
    rows = []
    for group, cases in groups.groupby("group", sort=True):
        rows.append(_test_group(group, cases, alpha, meta_method, meta_test))
    if by == "kpi":  # a KPI whose every estimate was left out still gets its row, saying so
        for kpi, cases in effects[~effects["kpi"].isin(groups["group"])].groupby("kpi", sort=True):
            rows.append({**_test_group(kpi, cases, alpha, meta_method, meta_test), "k": 0,
                         "median_improvement": np.nan, "heterogeneity_note": ""})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values("group", kind="stable", ignore_index=True)
    if by == "category":
        table = table.drop(columns="category")
    else:
        table = _bounded_predictions(table, groups, definitions, alpha, meta_method, meta_test)
    table = table.rename(columns={"group": by})
    left_out = effects[np.isfinite(effects["effect"]) & ~effects["tested"]]
    if by == "kpi" and len(left_out):
        counts = left_out.groupby("kpi").size()
        table["left_out"] = table[by].map(counts).fillna(0).astype(int)
        for i in table.index[table["left_out"] > 0]:
            table.loc[i, "heterogeneity_note"] = join_notes(
                table.loc[i, "heterogeneity_note"], f"{table.loc[i, 'left_out']} organization(s) left out: their "
                "series had too few periods on a side to be tested, so their case reports describe rather than test")
    else:
        table["left_out"] = 0
    tested = table["p_value"].notna()
    table["p_adjusted"] = np.nan
    table.loc[tested, "p_adjusted"] = adjust_pvalues(table.loc[tested, "p_value"], correction)
    table["verdict"] = np.select(
        [~tested, table["p_adjusted"] < alpha],
        ["not enough data", np.where(table["pooled_improvement"] > 0, "improved", "worsened")],
        "no clear change",
    )
    return table


def _bounded_predictions(table: pd.DataFrame, effects: pd.DataFrame, definitions: pd.DataFrame, alpha: float,
                         meta_method: str, meta_test: str) -> pd.DataFrame:
    """Prediction intervals of KPIs bounded on both sides (a percentage), on the logit scale of the level.

    A prediction interval on the log-ratio scale can put a typical organization outside the KPI's range (a
    300% rise of on-time delivery from 80% is 320%). For a KPI with a minimum and a maximum, each case's
    effect is read as the change it makes to the level of the median baseline, L: the share of the range
    p1 = (L·exp(r) − min)/(max − min) against p0 = (L − min)/(max − min) (L + r for points), as a logit
    difference with its standard error by the delta method; these are pooled by the same random-effects
    model, the prediction interval taken on that scale and carried back through the median baseline, so
    that its bounds are always levels the KPI can take. The pooled estimate and its CI are unchanged.
    """
    ranges = definitions.drop_duplicates("kpi").set_index("kpi")[["min", "max"]]
    for i, row in table.iterrows():
        if row["k"] < 3 or row["group"] not in ranges.index:
            continue
        low, high = ranges.loc[row["group"]]
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            continue
        cases = effects[effects["group"] == row["group"]]
        sign = 1 if cases["better"].iloc[0] == "higher" else -1
        raw, se = sign * cases["effect"].to_numpy(), cases["effect_se"].to_numpy()
        level = float(cases["baseline"].median())
        interval = row["scale"] == "interval"
        after = level + raw if interval else level * np.exp(raw)
        p0, p1 = (level - low) / (high - low), (after - low) / (high - low)
        table.loc[i, ["pi_low", "pi_high"]] = np.nan
        if not (0 < p0 < 1 and ((p1 > 0) & (p1 < 1)).all()):
            table.loc[i, "heterogeneity_note"] = join_notes(
                row["heterogeneity_note"], f"no prediction interval: a case's effect takes the median baseline "
                                           f"outside the KPI's range ({low:g} to {high:g})")
            continue
        slope = (1.0 if interval else after) / (high - low)
        d = np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))
        d_se = se * slope / (p1 * (1 - p1))
        res = meta_analysis(d, d_se**2, method=meta_method, test=meta_test, alpha=alpha)
        shares = 1 / (1 + np.exp(-(np.log(p0 / (1 - p0)) + np.array([res.pi_low, res.pi_high]))))
        levels = low + shares * (high - low)
        bounds = sign * (levels - level) if interval else sign * 100 * (levels / level - 1)
        table.loc[i, ["pi_low", "pi_high"]] = sorted(bounds)
    return table


def _test_group(group, cases: pd.DataFrame, alpha, meta_method, meta_test) -> dict:
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
                            test=meta_test, alpha=alpha)
        values = percent_improvement([res.estimate, res.ci_low, res.ci_high, res.pi_low, res.pi_high], sign, scale)
        low, high = sorted(values[1:3])
        pi_low, pi_high = sorted(values[3:5])
        pooled.update(pooled_improvement=float(values[0]), pooled_ci_low=float(low), pooled_ci_high=float(high),
                      pi_low=float(pi_low), pi_high=float(pi_high), tau2=res.tau2, i2=res.i2, q=res.q,
                      q_pvalue=res.q_pvalue, p_value=res.p_value)
    return {**row, **pooled, **paired_tests(cases["effect"].to_numpy(), alpha),
            "heterogeneity_note": heterogeneity_note(len(cases))}


def heterogeneity_note(k: int) -> str:
    """How to read tau², I² and the prediction interval of a meta-analysis of ``k`` cases.

    Parameters
    ----------
    k : int
        Number of cases pooled.

    Returns
    -------
    str
        A caution, or ``""`` from 10 cases on.

    Examples
    --------
    >>> heterogeneity_note(2)
    '2 case(s): no prediction interval (it needs 3); tau² and I² say almost nothing'
    >>> heterogeneity_note(12)
    ''
    """
    if k < 3:
        return f"{k} case(s): no prediction interval (it needs 3); tau² and I² say almost nothing"
    if k < 10:
        return (f"{k} cases: tau², I² and the prediction interval are very imprecise (a tau² or I² of 0 does not "
                f"show that the cases agree); read them as descriptions, not tests")
    return ""
