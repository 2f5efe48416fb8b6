"""Per case: were the business goals met, and did the investment pay back?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .loading import Portfolio
from .within import compare_case, join_notes

GOAL_COLUMNS = ["case_id", "goal_id", "statement", "kpi", "target", "target_kind", "achieved", "ci_low", "ci_high",
                "unit", "status", "note"]


def goal_attainment(portfolio: Portfolio, case_id: str, alpha: float = 0.05,
                    transition_months: int | None = None) -> pd.DataFrame:
    """Each business goal's target against what was achieved, with the CI deciding.

    Returns
    -------
    pandas.DataFrame
        One row per goal: ``case_id, goal_id, statement, kpi`` (the KPI
        the target is for, or the goal's first KPI), ``target`` and
        ``target_kind`` (``change_pct``: a change against the baseline,
        restated as a direction-aware improvement, so a −30% target on
        defects reads 30; ``value``: a level to reach), ``achieved`` with
        ``ci_low, ci_high`` (the effect of :func:`compare_case` in percent
        — the change beyond the baseline trend — or the post-adoption
        level), ``unit``, and ``status``: ``met`` when the
        whole CI is at or beyond the target, ``not met`` when the whole CI
        falls short of it, ``inconclusive`` when it straddles the target,
        ``not enough data`` when the KPI cannot be compared, ``no target``
        for a goal without one; and ``note``, which says when the KPI's
        comparison is descriptive only (too short or too autocorrelated to
        test, :func:`compare_case`): the status then describes rather than
        proves.

    Examples
    --------
    >>> import casekit as ck
    >>> goals = ck.goal_attainment(ck.load_cases("cases"), "quantia-tech")
    >>> goals[["goal_id", "kpi", "target", "status"]].values.tolist()
    [['G1', 'escaped_defects', 50.0, 'inconclusive'], ['G2', 'customer_satisfaction', 10.0, 'met']]
    """
    goals = portfolio.goals[portfolio.goals["case_id"] == case_id]
    compared = compare_case(portfolio, case_id, alpha=alpha, transition_months=transition_months).set_index("kpi")
    rows = []
    for goal_id, rows_of_goal in goals.groupby("goal_id", sort=False):
        targeted = rows_of_goal[rows_of_goal["target_change_pct"].notna() | rows_of_goal["target_value"].notna()]
        goal = (targeted if len(targeted) else rows_of_goal).iloc[0]
        rows.append(_attainment(case_id, goal, compared.loc[goal["kpi"]]))
    return pd.DataFrame(rows, columns=GOAL_COLUMNS)


def _attainment(case_id: str, goal: pd.Series, result: pd.Series) -> dict:
    row = dict.fromkeys(GOAL_COLUMNS, np.nan)
    row.update(case_id=case_id, goal_id=goal["goal_id"], statement=goal["statement"], kpi=goal["kpi"], note="")
    if pd.notna(goal["target_change_pct"]):
        kind = "change_pct"
    elif pd.notna(goal["target_value"]):
        kind = "value"
    else:
        return {**row, "target_kind": "", "status": "no target"}
    if result["verdict"] == "not enough data":
        return {**row, "target_kind": kind, "status": "not enough data"}
    sign = 1 if result["better"] == "higher" else -1
    if kind == "change_pct":
        target = sign * goal["target_change_pct"]
        row.update(target=target, achieved=result["improvement"], ci_low=result["ci_low"],
                   ci_high=result["ci_high"], unit="%")
        worst, best = result["ci_low"], result["ci_high"]
    else:
        target = goal["target_value"]
        row.update(target=target, achieved=result["post"], ci_low=result["post_ci_low"],
                   ci_high=result["post_ci_high"], unit=result["unit"])
        # compare on the "higher is better" scale so that one rule serves both directions
        worst, best = sorted((sign * result["post_ci_low"], sign * result["post_ci_high"]))
        target = sign * target
    status = "met" if worst >= target else "not met" if best < target else "inconclusive"
    if result["descriptive"]:
        row["note"] = f"{result['label']} is described, not tested"
    return {**row, "target_kind": kind, "status": status}


ROI_COLUMNS = ["case_id", "currency", "investment", "monthly_benefit", "horizon_months", "benefit", "benefit_low",
               "benefit_high", "net_benefit", "benefit_cost_ratio", "roi_pct", "payback_months", "kpis_valued",
               "discounted", "note"]


def roi(portfolio: Portfolio, case_id: str, alpha: float = 0.05,
        transition_months: int | None = None) -> pd.DataFrame:
    """Return on the improvement investment, from the KPIs the case gives a money value.

    The case's ``kpi_values`` say what one unit of a KPI is worth per period
    (e.g. 4,500 per escaped defect per month). The monthly benefit is the
    sum over those KPIs of the effect (:func:`compare_case`: the change
    beyond the baseline trend, direction-aware) in the KPI's own unit —
    the baseline level times the relative effect for ratio-scale KPIs —
    times the unit value (per quarter divided by 3 for quarterly KPIs).
    Benefits accrue from the first post-transition month to the end of the
    data (the horizon). Neither benefits nor investments are discounted:
    the ratios are undiscounted, as in the SEI's performance reports.

    Returns
    -------
    pandas.DataFrame
        One row: ``case_id, currency, investment`` (total of the case's
        investments), ``monthly_benefit``, ``horizon_months``, ``benefit``
        with ``benefit_low, benefit_high`` (a 1 − alpha interval from the
        KPIs' standard errors by the delta method, added as if the KPIs'
        estimates were perfectly correlated — the widest case for any
        correlation, which the data of one case cannot pin down),
        ``net_benefit`` (benefit − investment), ``benefit_cost_ratio`` (the
        SEI's "x : 1" ROI), ``roi_pct`` (net benefit / investment × 100),
        ``payback_months`` (months from the adoption start until the
        cumulative benefit reaches the total investment; NaN if not within
        the data), ``kpis_valued`` (the KPIs counted), ``discounted``
        (False) and ``note`` (valued KPIs left out because they could not
        be compared: they are not counted as zero benefit, and no benefit is
        given when none is left; and valued KPIs whose comparison is
        descriptive only). NaN throughout when the case values no KPI.

    Examples
    --------
    >>> import casekit as ck
    >>> r = ck.roi(ck.load_cases("cases"), "quantia-tech")
    >>> r[["currency", "investment"]].values.tolist()
    [['EUR', 305000.0]]
    >>> bool(r["benefit_cost_ratio"].iloc[0] > 1)
    True
    """
    case = portfolio.cases.set_index("case_id").loc[case_id]
    investment = float(portfolio.investments.loc[portfolio.investments["case_id"] == case_id, "amount"].sum())
    row = dict.fromkeys(ROI_COLUMNS, np.nan)
    row.update(case_id=case_id, currency=case["currency"], investment=investment, kpis_valued="", discounted=False,
               note="")
    values = portfolio.kpi_values[portfolio.kpi_values["case_id"] == case_id].set_index("kpi")["unit_value"]
    if values.empty:
        return pd.DataFrame([row], columns=ROI_COLUMNS)
    compared = compare_case(portfolio, case_id, alpha=alpha, transition_months=transition_months,
                            kpis=list(values.index)).set_index("kpi")
    missing = compared.index[~np.isfinite(compared["effect"]) | ~(compared["effect_se"] >= 0)]
    if len(missing):
        row["note"] = "not counted (could not be compared): " + ", ".join(
            f"{kpi} ({compared.loc[kpi, 'verdict']})" for kpi in missing)
    compared = compared.drop(index=missing)
    if compared.empty:
        return pd.DataFrame([row], columns=ROI_COLUMNS)
    descriptive = compared.index[compared["descriptive"].astype(bool)]
    if len(descriptive):
        row["note"] = join_notes(row["note"], "rests on comparisons that are descriptive only: " + ", ".join(descriptive))
    freq = portfolio.kpis[portfolio.kpis["case_id"] == case_id].groupby("kpi")["freq"].first()
    per_month = (values / freq.reindex(values.index).map({"M": 1, "Q": 3})).reindex(compared.index)
    ratio = (compared["improvement_unit"] == "%").to_numpy()
    sign = np.where(compared["better"] == "higher", 1.0, -1.0)
    raw = sign * compared["effect"].to_numpy()  # the log ratio (or points) in the KPI's own direction
    baseline = compared["baseline"].to_numpy()
    # the effect in the KPI's own unit, direction-aware, and its standard error (delta method)
    change = np.where(ratio, sign * baseline * np.expm1(raw), compared["effect"].to_numpy())
    change_se = np.where(ratio, baseline * np.exp(raw), 1.0) * compared["effect_se"].to_numpy()
    monthly = float((change * per_month).sum())
    monthly_se = float((change_se * per_month.abs()).sum())
    months = case["transition_months"] if transition_months is None else transition_months
    first_after = case["adoption_start"] + months
    last = pd.Period(portfolio.kpis.loc[portfolio.kpis["case_id"] == case_id, "date"].max(), freq="M")
    horizon = max((last - first_after).n + 1, 0)
    benefit = monthly * horizon
    half = stats.norm.ppf(1 - alpha / 2) * monthly_se * horizon
    row.update(
        monthly_benefit=monthly,
        horizon_months=horizon,
        benefit=benefit,
        benefit_low=benefit - half,
        benefit_high=benefit + half,
        net_benefit=benefit - investment,
        benefit_cost_ratio=benefit / investment if investment > 0 else np.nan,
        roi_pct=100 * (benefit - investment) / investment if investment > 0 else np.nan,
        kpis_valued=", ".join(compared.index),
    )
    if monthly > 0:
        needed = int(np.ceil(investment / monthly))
        row["payback_months"] = months + needed if needed <= horizon else np.nan
    return pd.DataFrame([row], columns=ROI_COLUMNS)
