"""Published summaries as effects: what a case study printed, turned into a log ratio with its variance.

A published case's results.csv (:mod:`casekit.inputs.results`) gives summaries, not series. Each KPI's
summaries become one effect on the scale of the time-series cases' effects, so that they can be set
beside them and pooled:

- **before and after** values with their n: the log ratio of the means, ``log(m_after / m_before)``
  with Lajeunesse's (2015) small-sample bias correction ``+ (v_a − v_b)/2``, and variance
  ``v_a + v_b = sd_a²/(n_a m_a²) + sd_b²/(n_b m_b²)`` (metafor's ``escalc(measure="ROM")``); for an
  interval-scale KPI the difference of means with ``sd_a²/n_a + sd_b²/n_b`` (``measure="MD"``). The two
  groups are taken as independent (different projects before and after), as ROM assumes.
- each group's **sd** comes from what was printed: the sd itself; a confidence interval of the mean,
  ``sd = √n (upper − lower) / (2 t)`` with t on n − 1 degrees of freedom (the Cochrane Handbook,
  6.5.2.2); a median with its quartiles and/or range, by metafor's ``conv.fivenum`` default: the mean of
  Luo et al. (2018), the sd of Wan et al. (2014) or, with both, Shi et al. (2020), assuming normal data.
  Its skewness test (Shi et al. 2023) comes first: when the five numbers are too skewed for a normal
  distribution, no mean or sd is estimated and the KPI is described, not pooled.
- a reported **change** in percent (a fall of 34% is −34), as the log ratio ``log(1 + c/100)``: with its
  confidence interval, the variance of the interval's width on the log scale (metafor's ``conv.wald``
  with ``transf=log``, which assumes the interval was symmetric on that scale); with the spread of the
  changes across n organizations (a median with its range or quartiles, or a mean with its sd), the
  mean log ratio and its standard error ``sd/√n``, the five numbers taken to the log scale first (a
  monotone map keeps medians, quartiles and ranges), the sd by the delta method.
- a summary with **no spread** (a mean alone, as Motorola's table gives) gets no variance: it is shown
  and described, never pooled as if measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..inputs.catalog import RELATIVE
from .across import percent_improvement

SUMMARY_EFFECT_COLUMNS = [
    "case_id", "kpi", "label", "unit", "category", "better", "scale", "design", "n", "baseline", "post",
    "improvement", "ci_low", "ci_high", "improvement_unit", "effect", "effect_se", "pooled", "conversion", "note",
    "location",
]
DESIGNS = {"before/after": "published before/after", "change": "published change"}
TIME_SERIES = "time series"  # the design of every effect fitted from a case's own series


def fivenum_mean_sd(n, median, q1=None, q3=None, low=None, high=None) -> tuple[float, float, str]:
    """A mean and sd from a median with its quartiles and/or range: metafor's ``conv.fivenum`` default.

    Parameters
    ----------
    n : int
        The number of values summarised.
    median : float
    q1, q3 : float, optional
        The quartiles.
    low, high : float, optional
        The minimum and maximum.

    Returns
    -------
    tuple of (float, float, str)
        The mean and sd (NaN when the skewness test of Shi et al. 2023 rejects a normal distribution) and
        the method's name, or why there is none.

    Examples
    --------
    >>> mean, sd, how = fivenum_mean_sd(30, 4, low=1, high=10)
    >>> round(mean, 4), round(sd, 4), how
    (4.3567, 2.2056, 'median and range (Luo et al. 2018; Wan et al. 2014)')
    """
    has_range, has_quartiles = low is not None and high is not None, q1 is not None and q3 is not None
    xi = 2 * stats.norm.ppf((n - 0.375) / (n + 0.25))
    eta = 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    if has_range and has_quartiles:
        skew = max(2.65 * np.log(0.6 * n) / np.sqrt(n) * abs((low + high - 2 * median) / (high - low)),
                   abs((q1 + q3 - 2 * median) / (q3 - q1)))
        critical = 3 / np.sqrt(n) - 40 / n**3
        w1, w2 = 2.2 / (2.2 + n**0.75), 0.7 - 0.72 / n**0.55
        mean = w1 * (low + high) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
        weight = 1 / (1 + 0.07 * n**0.6)
        sd = weight * (high - low) / xi + (1 - weight) * (q3 - q1) / eta
        how = "median, quartiles and range (Luo et al. 2018; Shi et al. 2020)"
    elif has_range:
        skew = abs((low + high - 2 * median) / (high - low))
        critical = 1 / np.log(n + 9) + 2.5 / (n + 1)
        weight = 4 / (4 + n**0.75)
        mean, sd = weight * (low + high) / 2 + (1 - weight) * median, (high - low) / xi
        how = "median and range (Luo et al. 2018; Wan et al. 2014)"
    else:
        skew = abs((q1 + q3 - 2 * median) / (q3 - q1))
        critical = 2.65 / np.sqrt(n) - 6 / n**2
        weight = 0.7 + 0.39 / n
        mean, sd = weight * (q1 + q3) / 2 + (1 - weight) * median, (q3 - q1) / eta
        how = "median and quartiles (Luo et al. 2018; Wan et al. 2014)"
    if skew >= critical:
        return np.nan, np.nan, ("too skewed for a normal distribution (Shi et al. 2023's test), so no mean and sd "
                                "are estimated from it")
    return float(mean), float(sd), how


def group_mean_sd(row: pd.Series) -> tuple[float, float, str]:
    """One printed group's mean and sd on the KPI's own scale, and how they were had.

    Parameters
    ----------
    row : pandas.Series
        A row of :attr:`casekit.Portfolio.published`.

    Returns
    -------
    tuple of (float, float, str)
        The mean, the sd (NaN when nothing of the spread was printed, or it cannot be converted) and the
        conversion in words.

    Examples
    --------
    >>> import pandas as pd
    >>> row = pd.Series({"n": 25.0, "mean": 10.0, "sd": None, "ci_low": 8.0, "ci_high": 12.0, "ci_level": None})
    >>> mean, sd, how = group_mean_sd(row)
    >>> round(sd, 4), how
    (4.8452, 'sd from the 95% interval of the mean (t, 24 df)')
    """
    n = row["n"]
    if _given(row.get("mean")):
        if _given(row.get("sd")):
            return float(row["mean"]), float(row["sd"]), "mean and sd as printed"
        if _given(row.get("ci_low")):
            level = row["ci_level"] if _given(row.get("ci_level")) else 95.0
            t = stats.t.ppf(0.5 + level / 200, n - 1)
            return (float(row["mean"]), float(np.sqrt(n) * (row["ci_high"] - row["ci_low"]) / (2 * t)),
                    f"sd from the {level:g}% interval of the mean (t, {n - 1:g} df)")
        return float(row["mean"]), np.nan, "a mean with no spread"
    mean, sd, how = fivenum_mean_sd(
        n, row["median"], *(row[name] if _given(row.get(name)) else None for name in ("q1", "q3", "min", "max")))
    if not np.isfinite(mean) and not any(_given(row.get(name)) for name in ("q1", "min")):
        how = "a median with no spread"
    return (mean if np.isfinite(mean) else row["median"]), sd, how


def _given(value) -> bool:
    return value is not None and not pd.isna(value)


def summary_effects(published: pd.DataFrame, definitions: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Each published case's before/after or reported change per KPI, as an effect with its standard error.

    Parameters
    ----------
    published : pandas.DataFrame
        :attr:`casekit.Portfolio.published`.
    definitions : pandas.DataFrame
        :attr:`casekit.Portfolio.kpi_definitions`.
    alpha : float
        The intervals' level is 1 − alpha (normal, as metafor's).

    Returns
    -------
    pandas.DataFrame
        One row per case and KPI with before/after rows or a change row (values by maturity level are
        :func:`casekit.stats.levels.level_trends`'): ``case_id, kpi, label, unit, category, better,
        scale``, ``design`` (``published before/after`` or ``published change``), ``n`` (projects or
        organizations behind it), ``baseline, post`` (the means compared; NaN for a change),
        ``improvement, ci_low, ci_high, improvement_unit`` (direction-aware, as the time-series cases'),
        ``effect, effect_se`` (direction-aware log ratio or points), ``pooled`` (a standard error was had,
        so pooling takes it), ``conversion`` (how, in words), ``note`` and ``location``.

    Examples
    --------
    >>> import pandas as pd, casekit as ck
    >>> published = pd.DataFrame({"case_id": "x", "kpi": "cost_variance", "group": ["change"], "n": [None],
    ...                           "mean": [-30.0], "ci_low": [-45.0], "ci_high": [-12.0], "location": ["p. 3"]})
    >>> row = summary_effects(published, ck.kpi_catalog()).iloc[0]
    >>> row["design"], float(round(row["improvement"], 1)), float(round(row["effect_se"], 4))
    ('published change', 30.0, 0.1199)
    """
    columns = ["n", "mean", "sd", "ci_low", "ci_high", "ci_level", "median", "q1", "q3", "min", "max", "location"]
    published = published.reindex(columns=["case_id", "kpi", "group", *columns])
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for (case_id, kpi), rows_of in published.groupby(["case_id", "kpi"], sort=True):
        groups = rows_of.set_index("group")
        if not ({"before", "after"} <= set(groups.index) or "change" in groups.index):
            continue
        kpi_info = kpi_details(definitions, case_id, kpi)
        scale, better = kpi_info["scale"], kpi_info["better"]
        sign = 1 if better == "higher" else -1
        ratio = scale in RELATIVE
        if "change" in groups.index:
            raw, se, how, note, n = _change_effect(groups.loc["change"], ratio, z)
            baseline = post = np.nan
        else:
            raw, se, how, note, n, baseline, post = _before_after_effect(groups.loc["before"], groups.loc["after"],
                                                                         ratio)
        effect = sign * raw
        pooled = bool(np.isfinite(se) and se > 0)
        low, high = (sorted(percent_improvement([effect - z * se, effect + z * se], sign, scale)) if pooled
                     else (np.nan, np.nan))
        rows.append({
            "case_id": case_id, "kpi": kpi, "label": kpi_info["label"], "unit": kpi_info["unit"],
            "category": kpi_info["category"], "better": better, "scale": scale,
            "design": DESIGNS["change" if "change" in groups.index else "before/after"], "n": n,
            "baseline": baseline, "post": post,
            "improvement": float(percent_improvement([effect], sign, scale)[0]), "ci_low": low, "ci_high": high,
            "improvement_unit": "%" if ratio else "points", "effect": effect, "effect_se": se if pooled else np.nan,
            "pooled": pooled, "conversion": how, "note": note,
            "location": "; ".join(sorted({str(v) for v in rows_of["location"].dropna()})),
        })
    return pd.DataFrame(rows, columns=SUMMARY_EFFECT_COLUMNS)


def kpi_details(definitions: pd.DataFrame, case_id: str, kpi: str) -> pd.Series:
    """A KPI's definition as a case uses it: the case's own where it defines the KPI, else the catalog's.

    Parameters
    ----------
    definitions : pandas.DataFrame
        :attr:`casekit.Portfolio.kpi_definitions`, or the catalog alone.
    case_id, kpi : str

    Returns
    -------
    pandas.Series
        ``label, unit, better, category, scale, ...``.

    Examples
    --------
    >>> import casekit as ck
    >>> kpi_details(ck.load_cases("cases").kpi_definitions, "motorola-ged", "cycle_time_factor")["better"]
    'higher'
    """
    rows = definitions[definitions["kpi"] == kpi]
    if "case_id" in rows:
        own = rows[rows["case_id"] == case_id]
        rows = own if len(own) else rows[rows["case_id"].isna()]
    return rows.iloc[0]


def _before_after_effect(before: pd.Series, after: pd.Series, ratio: bool):
    """ROM (or MD) of two printed groups: (raw effect, se, how, note, n, baseline, post)."""
    (m0, sd0, how0), (m1, sd1, how1) = group_mean_sd(before), group_mean_sd(after)
    n0, n1 = before["n"], after["n"]
    if ratio:
        v1, v0 = sd1**2 / (n1 * m1**2), sd0**2 / (n0 * m0**2)
        raw, variance = np.log(m1 / m0), v1 + v0
        if np.isfinite(variance):  # Lajeunesse (2015), eq. 8: the log ratio's small-sample bias, as escalc corrects it
            raw += (v1 - v0) / 2
        what = "log ratio of the means, bias-corrected (escalc ROM)"
    else:
        raw, variance = m1 - m0, sd1**2 / n1 + sd0**2 / n0
        what = "difference of the means (escalc MD)"
    how = f"{what}; before: {how0}; after: {how1}"
    note = "" if np.isfinite(variance) else "no spread to measure its uncertainty: described, not pooled"
    return raw, float(np.sqrt(variance)), how, note, int(n0 + n1), m0, m1


def _change_effect(row: pd.Series, ratio: bool, z: float):
    """A reported change: (raw effect, se, how, note, n)."""
    to_scale = (lambda v: np.log1p(np.asarray(v, dtype=float) / 100)) if ratio else (lambda v: np.asarray(v, float))
    n = row["n"] if _given(row.get("n")) else np.nan
    centre = row["mean"] if _given(row.get("mean")) else row["median"]
    raw = float(to_scale(centre))
    note = ""
    if _given(row.get("ci_low")):
        level = row["ci_level"] if _given(row.get("ci_level")) else 95.0
        q = stats.norm.ppf(0.5 + level / 200)
        low, high = to_scale([row["ci_low"], row["ci_high"]])
        se = float((high - low) / (2 * q))
        how = f"the change's {level:g}% interval, read as symmetric on the {'log' if ratio else 'points'} scale " \
              "(conv.wald)"
        if abs((low + high) / 2 - raw) > 0.1 * (high - low):
            note = ("the change is not halfway between its bounds on the log scale: the source's interval may be "
                    "symmetric in percent; its width is used as printed")
    elif _given(row.get("sd")):
        mean = float(row["mean"])
        sd = row["sd"] / (100 + mean) if ratio else row["sd"]
        se = float(sd / np.sqrt(n))
        how = f"the mean change and its sd across {n:g} organizations ({'delta method, ' if ratio else ''}sd/√n)"
    elif _given(row.get("q1")) or _given(row.get("min")):
        five = {name: (float(to_scale(row[name])) if _given(row.get(name)) else None)
                for name in ("median", "q1", "q3", "min", "max")}
        mean, sd, fivenum = fivenum_mean_sd(n, five["median"], five["q1"], five["q3"], five["min"], five["max"])
        if np.isfinite(mean):
            raw, se = mean, float(sd / np.sqrt(n))
            how = f"the mean {'log ratio' if ratio else 'change'} across {n:g} organizations from their {fivenum}, " \
                  "with sd/√n"
        else:
            se, how, note = np.nan, "a median change", f"its spread is {fivenum}: described, not pooled"
    else:
        se, how, note = np.nan, "a change with no spread", "no spread to measure its uncertainty: described, not pooled"
    return raw, se, how, note, n
