"""Per case: were the business goals met, and did the investment pay back? Both read a fitted comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .notes import join_notes
from .timeseries import positions

GOAL_COLUMNS = ["case_id", "goal_id", "statement", "kpi", "target", "target_kind", "achieved", "ci_low", "ci_high",
                "unit", "baseline", "beyond_trend", "beyond_trend_unit", "status", "note"]


def goal_table(comparison) -> pd.DataFrame:
    """Each business goal's target against what was achieved: see :meth:`casekit.CaseComparison.goals`.

    Parameters
    ----------
    comparison : casekit.CaseComparison
        The fitted comparison.

    Returns
    -------
    pandas.DataFrame
        The columns of :meth:`casekit.CaseComparison.goals`.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> goal_table(comparison).equals(comparison.goals())
    True
    """
    portfolio, case_id = comparison.portfolio, comparison.case_id
    goals = portfolio.goals[portfolio.goals["case_id"] == case_id]
    table = comparison.table.set_index("kpi")
    rows = []
    for _, rows_of_goal in goals.groupby("goal_id", sort=False):
        targeted = rows_of_goal[rows_of_goal["target_change_pct"].notna() | rows_of_goal["target_value"].notna()]
        goal = (targeted if len(targeted) else rows_of_goal).iloc[0]
        kpi = goal["kpi"]
        fitted = comparison.fits[kpi].fit if kpi in comparison.fits else None
        rows.append(_attainment(case_id, goal, table.loc[kpi] if kpi in table.index else None, fitted))
    return pd.DataFrame(rows, columns=GOAL_COLUMNS)


def _attainment(case_id: str, goal: pd.Series, result, fit) -> dict:
    row = dict.fromkeys(GOAL_COLUMNS, np.nan)
    row.update(case_id=case_id, goal_id=goal["goal_id"], statement=goal["statement"], kpi=goal["kpi"], note="",
               beyond_trend_unit="")
    if pd.notna(goal["target_change_pct"]):
        kind = "change_pct"
    elif pd.notna(goal["target_value"]):
        kind = "value"
    else:
        return {**row, "target_kind": "", "status": "no target"}
    if result is None or fit is None:
        return {**row, "target_kind": kind, "status": "not enough data"}
    sign = 1 if result["better"] == "higher" else -1
    log = fit.scale == "log"
    change, fitted = fit.estimate["change"], fit.estimate["fitted"]
    half_change = fit.critical["change"] * fit.se["change"]
    half_level = fit.critical["fitted"] * fit.se["fitted"]
    baseline = np.exp(fitted - change) if log else fitted - change
    row.update(baseline=baseline, beyond_trend=result["improvement"], beyond_trend_unit=result["improvement_unit"])
    if kind == "change_pct":
        target = sign * goal["target_change_pct"]
        if log:
            bounds = sign * 100 * np.expm1(np.array([change, change - half_change, change + half_change]))
        elif baseline > 0:
            bounds = sign * 100 * np.array([change, change - half_change, change + half_change]) / baseline
        else:
            return {**row, "target_kind": kind, "status": "not enough data",
                    "note": "the baseline level is not positive, so a percent change is undefined"}
        low, high = sorted(bounds[1:])
        row.update(target=target, achieved=bounds[0], ci_low=low, ci_high=high, unit="%")
        worst, best = low, high
    else:
        target = goal["target_value"]
        level = np.array([fitted, fitted - half_level, fitted + half_level])
        level = np.exp(level) if log else level
        row.update(target=target, achieved=level[0], ci_low=level[1], ci_high=level[2], unit=result["unit"])
        # compare on the "higher is better" scale so that one rule serves both directions
        worst, best = sorted((sign * level[1], sign * level[2]))
        target = sign * target
    status = "met" if worst >= target else "not met" if best < target else "inconclusive"
    if result["descriptive"]:
        row["note"] = f"{result['label']} is described, not tested"
    return {**row, "target_kind": kind, "status": status}


ROI_COLUMNS = ["case_id", "currency", "investment", "monthly_benefit", "valuation_months", "benefit", "benefit_low",
               "benefit_high", "net_benefit", "benefit_cost_ratio", "roi_pct", "payback_months", "kpis_valued",
               "discount_rate", "note"]

DRAWS = 4000  # simulated coefficient vectors per valued KPI for the benefit's interval


def roi_table(comparison, discount_rate: float = 0.0, valuation_months: int | None = None,
              draws: int = DRAWS) -> pd.DataFrame:
    """Return on the improvement investment: see :meth:`casekit.CaseComparison.roi`.

    Parameters
    ----------
    comparison : casekit.CaseComparison
        The fitted comparison.
    discount_rate, valuation_months
        As :meth:`casekit.CaseComparison.roi`.
    draws : int
        Simulated draws of the benefit's interval.

    Returns
    -------
    pandas.DataFrame
        The columns of :meth:`casekit.CaseComparison.roi`.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> roi_table(comparison).equals(comparison.roi())
    True
    """
    portfolio, case_id, alpha = comparison.portfolio, comparison.case_id, comparison.alpha
    case = portfolio.cases.set_index("case_id").loc[case_id]
    investments = portfolio.investments[portfolio.investments["case_id"] == case_id]
    start = case["adoption_start"]
    rate = float(discount_rate)
    row = dict.fromkeys(ROI_COLUMNS, np.nan)
    row.update(case_id=case_id, currency=case["currency"], kpis_valued="", discount_rate=rate, note="")
    if pd.isna(start):
        row["note"] = "no return worked out: the case has no adoption month (a published source's summaries only)"
        return pd.DataFrame([row], columns=ROI_COLUMNS)
    invested = _discounted(investments["amount"].to_numpy(), _months_since(investments["date"], start), rate)
    row["investment"] = float(invested.sum())
    values = portfolio.kpi_values[portfolio.kpi_values["case_id"] == case_id].set_index("kpi")["unit_value"]
    if values.empty:
        return pd.DataFrame([row], columns=ROI_COLUMNS)
    table = comparison.table.set_index("kpi")
    missing = [kpi for kpi in values.index if kpi not in comparison.fits or comparison.fits[kpi].fit is None]
    if missing:
        row["note"] = "not counted (could not be compared): " + ", ".join(
            f"{kpi} ({table.loc[kpi, 'verdict'] if kpi in table.index else 'not compared'})" for kpi in missing)
    valued = [kpi for kpi in values.index if kpi not in missing]
    if not valued:
        return pd.DataFrame([row], columns=ROI_COLUMNS)
    descriptive = [kpi for kpi in valued if table.loc[kpi, "descriptive"]]
    if descriptive:
        row["note"] = join_notes(row["note"], "rests on comparisons that are descriptive only: " + ", ".join(descriptive))
    months = comparison.transition_months
    first_after = start + months
    last = pd.Period(portfolio.kpis.loc[portfolio.kpis["case_id"] == case_id, "date"].max(), freq="M")
    window = max((last - first_after).n + 1, 0) if valuation_months is None else int(valuation_months)
    calendar = first_after.ordinal + np.arange(window)  # the valued months, as months since 1970-01
    discount = _discounted(np.ones(window), calendar - start.ordinal, rate)
    rng = np.random.default_rng(0)
    point = np.zeros(window)
    simulated = np.zeros((draws, window))
    for kpi in valued:
        one = comparison.fits[kpi]
        freq = one.measurements["freq"].iloc[0]
        sign = 1.0 if table.loc[kpi, "better"] == "higher" else -1.0
        per_month = values[kpi] / (3 if freq == "Q" else 1)
        t, seasons, _ = positions(calendar, freq, start, months)
        point += per_month * sign * _gain(one, one.fit.beta, t, seasons)[0]
        simulated += per_month * sign * _gain(one, _coefficient_draws(one.fit, alpha, draws, rng), t, seasons)
    benefit = float((point * discount).sum())
    totals = (simulated * discount).sum(axis=1)
    low, high = np.quantile(totals, [alpha / 2, 1 - alpha / 2])
    investment = row["investment"]
    row.update(
        monthly_benefit=float(point.mean()) if window else np.nan,
        valuation_months=window,
        benefit=benefit,
        benefit_low=float(low),
        benefit_high=float(high),
        net_benefit=benefit - investment,
        benefit_cost_ratio=benefit / investment if investment > 0 else np.nan,
        roi_pct=100 * (benefit - investment) / investment if investment > 0 else np.nan,
        kpis_valued=", ".join(valued),
    )
    reached = np.nonzero(np.cumsum(point * discount) >= investment)[0] if investment > 0 else []
    if len(reached):
        row["payback_months"] = months + int(reached[0]) + 1
    return pd.DataFrame([row], columns=ROI_COLUMNS)


def _gain(one, beta: np.ndarray, t, seasons) -> np.ndarray:
    """The fitted level less the counterfactual level at times ``t``, in the KPI's unit, for each row of beta."""
    beta = np.atleast_2d(beta)
    offset = one.series.offset_at(t)  # the comparison's course, for a series fitted against one; else 0
    changed = beta @ one.series.regressors(t, seasons, changed=True).T + offset
    carried_on = beta @ one.series.regressors(t, seasons, changed=False).T + offset
    if one.fit.scale == "log":
        return np.exp(changed) - np.exp(carried_on)
    return changed - carried_on


def _coefficient_draws(fit, alpha: float, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Coefficients drawn from the fit's sampling distribution, widened as the effect's interval is.

    The plug-in covariance is scaled by (q / z)², q the multiplier of the effect's interval (the bootstrap's,
    which allows for the autocorrelation being estimated) and z the normal one, so that the benefit's interval
    is as wide, relative to its standard error, as the effect's.
    """
    widen = fit.critical["effect"] / stats.norm.ppf(1 - alpha / 2)
    cov = fit.cov * widen**2
    shocks = rng.standard_normal((draws, len(fit.beta)))
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    return fit.beta + (shocks * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _months_since(dates, start: pd.Period) -> np.ndarray:
    return np.asarray(pd.to_datetime(dates).to_numpy().astype("datetime64[M]").astype(np.int64)) - start.ordinal


def _discounted(amounts: np.ndarray, months_since_start: np.ndarray, rate: float) -> np.ndarray:
    """Amounts valued at the adoption start, at ``rate`` a year compounded monthly (0: undiscounted)."""
    return amounts * (1 + rate) ** (-np.asarray(months_since_start, dtype=float) / 12)
