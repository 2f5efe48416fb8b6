"""Inside one case: each KPI before and after adoption."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .behaviour import xmr
from .loading import Portfolio
from .periods import parse_period, phase_of
from .timeseries import its, mean_shift

MIN_POINTS = 3  # per side, for any comparison
MIN_ITS_POINTS = 6  # per side, for the segmented regression

COLUMNS = [
    "case_id", "kpi", "label", "unit", "better", "category", "scale",
    "n_before", "n_after", "baseline", "post", "improvement", "ci_low", "ci_high", "improvement_unit",
    "p_value", "its_level_change", "its_level_ci_low", "its_level_ci_high", "its_level_p",
    "its_slope_change", "its_slope_p", "its_pre_slope", "its_pre_slope_p",
    "xmr_signals_better", "xmr_signals_worse", "effect", "effect_se", "verdict", "note",
]


def case_series(portfolio: Portfolio, case_id: str, transition_months: int | None = None) -> pd.DataFrame:
    """A case's KPI rows with ``phase`` recomputed for ``transition_months`` (default: the case's own)."""
    case = portfolio.cases.set_index("case_id").loc[case_id]
    rows = portfolio.kpis[portfolio.kpis["case_id"] == case_id].copy()
    months = case["transition_months"] if transition_months is None else int(transition_months)
    rows["phase"] = [phase_of(parse_period(p), case["adoption_start"], months) for p in rows["period"]]
    return rows


def compare_case(portfolio: Portfolio, case_id: str, alpha: float = 0.05, transition_months: int | None = None,
                 kpis=None, seasonal: bool = False) -> pd.DataFrame:
    """Each KPI of one case before and after its CMMI adoption.

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`load_cases`.
    case_id : str
        The case to compare.
    alpha : float
        1 − confidence level; a KPI's verdict is decided at this level.
    transition_months : int, optional
        Months after the adoption start left out; default the case's own.
    kpis : list of str, optional
        The KPIs to compare (default all the case measures).
    seasonal : bool
        Add yearly Fourier terms to the interrupted time series.

    Returns
    -------
    pandas.DataFrame
        One row per KPI:

        - ``case_id, kpi, label, unit, better, category, scale``;
        - ``n_before, n_after``: periods in each phase (transition excluded);
        - ``baseline, post``: the level before and after (geometric means for
          positive ratio-scale KPIs, arithmetic means otherwise);
        - ``improvement, ci_low, ci_high, improvement_unit``: the
          direction-aware change with its CI — percent for ratio-scale KPIs
          (a 20% drop in defects is +20), points for interval-scale KPIs
          such as NPS;
        - ``p_value``: of the before/after difference (HAC t test);
        - ``its_level_change, its_level_ci_low, its_level_ci_high,
          its_level_p, its_slope_change, its_slope_p, its_pre_slope,
          its_pre_slope_p``: the interrupted time series (see :func:`its`;
          raw direction, % on the log scale), NaN with fewer than 6 periods a
          side;
        - ``xmr_signals_better, xmr_signals_worse``: post-adoption points that
          break the baseline's XmR limits or zone rules, by direction;
        - ``effect, effect_se``: the direction-aware log ratio (points for
          interval scale) and its standard error, as pooled across cases;
        - ``verdict``: ``improved`` / ``worsened`` (the CI excludes no change),
          ``no clear change``, or ``not enough data``; ``note`` says why or
          adds a caution (a pre-existing trend).

    Notes
    -----
    The before/after comparison regresses the KPI (its log for positive
    ratio-scale KPIs) on an after-adoption indicator with Newey–West
    standard errors (:func:`casekit.timeseries.mean_shift`); monthly KPIs are
    autocorrelated, and ordinary t tests would overstate the evidence. The
    verdict uses this comparison; the interrupted time series beside it tells
    whether the change is a jump at adoption or the continuation of a trend.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> table = ck.compare_case(pf, "quantia-tech")
    >>> table.set_index("kpi").loc["escaped_defects", ["better", "verdict"]].tolist()
    ['lower', 'improved']
    """
    if case_id not in set(portfolio.cases["case_id"]):
        raise KeyError(f"no case {case_id!r}; cases are {', '.join(portfolio.cases['case_id'])}")
    case = portfolio.cases.set_index("case_id").loc[case_id]
    rows = case_series(portfolio, case_id, transition_months)
    months = case["transition_months"] if transition_months is None else int(transition_months)
    chosen = sorted(rows["kpi"].unique()) if kpis is None else list(kpis)
    out = []
    for kpi in chosen:
        series = rows[rows["kpi"] == kpi].sort_values("date")
        out.append(_compare_kpi(case_id, kpi, series, case["adoption_start"], months, alpha, seasonal))
    return pd.DataFrame(out, columns=COLUMNS)


def _compare_kpi(case_id, kpi, series, start, months, alpha, seasonal) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(case_id=case_id, kpi=kpi, note="")
    if series.empty:
        return {**row, "n_before": 0, "n_after": 0, "verdict": "not enough data", "note": "no measurements"}
    info = series.iloc[0]
    row.update({c: info[c] for c in ("label", "unit", "better", "category", "scale")})
    before = series.loc[series["phase"] == "before", "value"].to_numpy()
    after = series.loc[series["phase"] == "after", "value"].to_numpy()
    row.update(n_before=len(before), n_after=len(after))
    if len(before) < MIN_POINTS or len(after) < MIN_POINTS:
        return {**row, "verdict": "not enough data",
                "note": f"needs {MIN_POINTS} periods before and after; has {len(before)} and {len(after)}"}
    if np.ptp(np.r_[before, after]) == 0:
        return {**row, "verdict": "not enough data", "note": "the values never vary"}
    sign = 1 if info["better"] == "higher" else -1
    ratio = info["scale"] == "ratio"
    shift = mean_shift(before, after, log=None if ratio else False, alpha=alpha)
    if ratio:
        low, high = sorted((sign * shift.change_ci_low, sign * shift.change_ci_high))
        row.update(improvement=sign * shift.change_pct, ci_low=low, ci_high=high, improvement_unit="%",
                   effect=sign * shift.log_ratio, effect_se=shift.log_ratio_se)
    else:
        low, high = sorted((sign * shift.diff_ci_low, sign * shift.diff_ci_high))
        row.update(improvement=sign * shift.diff, ci_low=low, ci_high=high, improvement_unit="points",
                   effect=sign * shift.diff, effect_se=shift.diff_se)
    row.update(baseline=shift.baseline, post=shift.post, p_value=shift.p_value)
    row["verdict"] = "improved" if low > 0 else "worsened" if high < 0 else "no clear change"
    notes = []
    if len(before) >= MIN_ITS_POINTS and len(after) >= MIN_ITS_POINTS:
        fit = its(series["value"], series["period"], start, months, seasonal=seasonal,
                  log=shift.scale == "log", alpha=alpha)
        row.update(its_level_change=fit.level_change, its_level_ci_low=fit.level_ci_low,
                   its_level_ci_high=fit.level_ci_high, its_level_p=fit.level_p,
                   its_slope_change=fit.slope_change, its_slope_p=fit.slope_p,
                   its_pre_slope=fit.pre_slope, its_pre_slope_p=fit.pre_slope_p)
        if row["verdict"] == "improved" and fit.pre_slope_p < alpha and sign * fit.pre_slope > 0 and fit.level_p >= alpha:
            notes.append("improving before adoption already; the change may continue that trend")
    else:
        notes.append(f"time series needs {MIN_ITS_POINTS} periods a side")
    chart = xmr(after, baseline=before)
    better_side = "above" if sign > 0 else "below"
    flagged = chart.signals.groupby("side")["position"].nunique()
    row["xmr_signals_better"] = int(flagged.get(better_side, 0))
    row["xmr_signals_worse"] = int(flagged.drop(better_side, errors="ignore").sum())
    row["note"] = "; ".join(notes)
    return row

