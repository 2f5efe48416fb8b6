"""Maturity as a dose: a KPI's values by maturity level, as a published case study prints them.

A table by level (Motorola's, say) gives each level's mean and its number of projects, with no spread. A
trend across levels is then the one test such a table allows: a weighted least-squares line through the
levels' log values (the values themselves for an interval-scale KPI), each level weighted by its number
of projects, as R's ``lm(log(value) ~ level, weights = n)`` fits it. Its error is the scatter of the
levels around the line, on k − 2 degrees of freedom: nothing within a level is known. The slope reads as
the change from one level to the next.

What such a table cannot show: its levels are different projects at one time, not the same
organizations before and after they rose a level; projects at higher levels may differ in domain, size
or staff, and organizations that reach high levels are not a random draw. A trend is an association,
not the effect of raising a level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..inputs.catalog import RELATIVE
from ..inputs.results import LEVELS
from .across import percent_improvement
from .summaries import kpi_details

LEVEL_COLUMNS = [
    "case_id", "kpi", "label", "unit", "better", "scale", "levels", "projects", "lowest_level", "highest_level",
    "lowest_value", "highest_value", "overall", "per_level", "per_level_ci_low", "per_level_ci_high",
    "improvement_unit", "df", "p_value", "note",
]
CROSS_SECTIONAL = ("a cross-sectional comparison: different projects at each level, at one time, so the trend is "
                   "an association, not the effect of raising a level")


def level_values(published: pd.DataFrame) -> pd.DataFrame:
    """Each printed value by maturity level, one row per case, KPI and level.

    Parameters
    ----------
    published : pandas.DataFrame
        :attr:`casekit.Portfolio.published`.

    Returns
    -------
    pandas.DataFrame
        ``case_id, kpi, level`` (1–5), ``n`` (projects), ``value`` (the mean, or the median where only
        that was printed) and ``location``.

    Examples
    --------
    >>> import casekit as ck
    >>> table = level_values(ck.load_cases("cases").published)
    >>> table[table["kpi"] == "in_process_defects"]["value"].tolist()
    [890.0, 411.0, 205.0, 126.0]
    """
    rows = published[published["group"].isin(LEVELS)]
    values = rows["mean"].fillna(rows["median"])
    table = pd.DataFrame({
        "case_id": rows["case_id"].to_numpy(), "kpi": rows["kpi"].to_numpy(),
        "level": rows["group"].str.removeprefix("level ").astype(int).to_numpy(),
        "n": rows["n"].astype(float).to_numpy(), "value": np.asarray(values, dtype=float),
        "location": rows["location"].to_numpy(),
    })
    return table.sort_values(["case_id", "kpi", "level"], kind="stable", ignore_index=True)


def level_trends(published: pd.DataFrame, definitions: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per case and KPI printed by maturity level: the change from the lowest level to the highest, and the
    trend per level with its test.

    Parameters
    ----------
    published : pandas.DataFrame
        :attr:`casekit.Portfolio.published`.
    definitions : pandas.DataFrame
        :attr:`casekit.Portfolio.kpi_definitions`.
    alpha : float
        The trend's interval is at 1 − alpha (t on k − 2 degrees of freedom).

    Returns
    -------
    pandas.DataFrame
        ``case_id, kpi, label, unit, better, scale``, ``levels`` (k), ``projects`` (their n added up),
        ``lowest_level, highest_level, lowest_value, highest_value``, ``overall`` (the direction-aware
        improvement from the lowest level printed to the highest), ``per_level, per_level_ci_low,
        per_level_ci_high`` (the weighted trend's improvement from one level to the next), ``improvement_unit``
        (% or points), ``df`` and ``p_value`` (the slope's t test; NaN with two levels) and ``note``.

    Examples
    --------
    >>> import casekit as ck
    >>> portfolio = ck.load_cases("cases")
    >>> row = level_trends(portfolio.published, portfolio.kpi_definitions).set_index("kpi").loc["in_process_defects"]
    >>> float(round(row["overall"], 1)), float(round(row["per_level"], 1)), int(row["df"])
    (85.8, 48.2, 2)
    """
    values = level_values(published)
    rows = []
    for (case_id, kpi), of_kpi in values.groupby(["case_id", "kpi"], sort=True):
        info = kpi_details(definitions, case_id, kpi)
        sign = 1 if info["better"] == "higher" else -1
        ratio = info["scale"] in RELATIVE
        x, n = of_kpi["level"].to_numpy(float), of_kpi["n"].to_numpy(float)
        y = np.log(of_kpi["value"].to_numpy(float)) if ratio else of_kpi["value"].to_numpy(float)
        k = len(x)
        centre = np.average(x, weights=n)
        spread = np.sum(n * (x - centre) ** 2)
        slope = np.sum(n * (x - centre) * (y - np.average(y, weights=n))) / spread
        intercept = np.average(y, weights=n) - slope * centre
        df = k - 2
        row = {"case_id": case_id, "kpi": kpi, "label": info["label"], "unit": info["unit"], "better": info["better"],
               "scale": info["scale"], "levels": k, "projects": int(n.sum()), "lowest_level": int(x[0]),
               "highest_level": int(x[-1]), "lowest_value": float(of_kpi["value"].iloc[0]),
               "highest_value": float(of_kpi["value"].iloc[-1]),
               "overall": float(percent_improvement([sign * (y[-1] - y[0])], sign, info["scale"])[0]),
               "per_level": float(percent_improvement([sign * slope], sign, info["scale"])[0]),
               "improvement_unit": "%" if ratio else "points", "df": df, "p_value": np.nan,
               "per_level_ci_low": np.nan, "per_level_ci_high": np.nan}
        notes = [CROSS_SECTIONAL]
        if df > 0:
            residual = np.sum(n * (y - intercept - slope * x) ** 2) / df
            se = np.sqrt(residual / spread)
            t = stats.t.ppf(1 - alpha / 2, df)
            bounds = percent_improvement([sign * (slope - t * se), sign * (slope + t * se)], sign, info["scale"])
            row.update(per_level_ci_low=float(min(bounds)), per_level_ci_high=float(max(bounds)),
                       p_value=float(2 * stats.t.sf(abs(slope / se), df)) if se > 0 else 0.0)
            notes.append(f"each level weighted by its projects; the scatter of the {k} levels around the line is the "
                         f"test's only error ({df} df), so it has little power")
        else:
            notes.append("two levels: no test (the line passes through both)")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=LEVEL_COLUMNS)
