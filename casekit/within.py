"""Inside one case: each KPI before and after adoption."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from .behaviour import xmr
from .loading import Portfolio
from .periods import phases_of
from .timeseries import its, mean_shift

MIN_POINTS = 3  # per side, for any comparison
MIN_ITS_POINTS = 6  # per side, for the segmented regression

COLUMNS = [
    "case_id", "kpi", "label", "unit", "better", "category", "scale",
    "n_before", "n_after", "baseline", "post", "post_ci_low", "post_ci_high", "improvement", "ci_low", "ci_high", "improvement_unit",
    "p_value", "its_level_change", "its_level_ci_low", "its_level_ci_high", "its_level_p",
    "its_slope_change", "its_slope_p", "its_pre_slope", "its_pre_slope_p",
    "xmr_signals_better", "xmr_signals_worse", "effect", "effect_se", "verdict", "note",
]


def case_series(portfolio: Portfolio, case_id: str, transition_months: int | None = None) -> pd.DataFrame:
    """A case's KPI rows with ``phase`` recomputed for ``transition_months`` (default: the case's own)."""
    case = portfolio.cases.set_index("case_id").loc[case_id]
    rows = portfolio.kpis[portfolio.kpis["case_id"] == case_id].copy()
    months = case["transition_months"] if transition_months is None else int(transition_months)
    rows["phase"] = phases_of(rows["period"].tolist(), case["adoption_start"], months)
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
          positive ratio-scale KPIs, arithmetic means otherwise), and
          ``post_ci_low, post_ci_high``, the CI of the post-adoption level;
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
    The latest results are remembered by the content of their inputs, so
    asking again is cheap and changed data is always compared afresh.

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
    # A report asks for the same comparison several times (the table, the goals, the ROI, the findings).
    # The key is the content of what the result depends on, so changed data is never answered from memory.
    key = (case_id, alpha, months, case["adoption_start"], tuple(chosen), seasonal,
           int(pd.util.hash_pandas_object(rows, index=False).sum()))
    if key not in _RECENT:
        out = []
        for kpi in chosen:
            series = rows[rows["kpi"] == kpi].sort_values("date")
            out.append(_compare_kpi(case_id, kpi, series, case["adoption_start"], months, alpha, seasonal))
        _RECENT[key] = pd.DataFrame(out, columns=COLUMNS)
        while len(_RECENT) > _KEEP:
            _RECENT.popitem(last=False)
    _RECENT.move_to_end(key)
    return _RECENT[key].copy()


_RECENT: OrderedDict = OrderedDict()  # compare_case's latest results, by the content of their inputs
_KEEP = 64


INFO = ("label", "unit", "better", "category", "scale")


def _before_after(before: np.ndarray, after: np.ndarray, info: dict, alpha: float) -> dict:
    """The HAC before/after comparison of one KPI, as compare_case's columns.

    ``info`` holds the KPI's ``label, unit, better, category, scale``.
    """
    row: dict = {"note": "", **info, "n_before": len(before), "n_after": len(after)}
    if len(before) < MIN_POINTS or len(after) < MIN_POINTS:
        return {**row, "verdict": "not enough data",
                "note": f"needs {MIN_POINTS} periods before and after; has {len(before)} and {len(after)}"}
    if np.ptp(np.r_[before, after]) == 0:
        return {**row, "verdict": "not enough data", "note": "the values never vary"}
    sign = 1 if info["better"] == "higher" else -1
    if info["scale"] == "ratio":
        shift = mean_shift(before, after, alpha=alpha)
        if shift.baseline <= 0:
            return {**row, "verdict": "not enough data", "baseline": shift.baseline, "post": shift.post,
                    "note": "the baseline is zero, so a relative change is undefined"}
        low, high = sorted((sign * shift.change_ci_low, sign * shift.change_ci_high))
        row.update(improvement=sign * shift.change_pct, improvement_unit="%",
                   effect=sign * shift.log_ratio, effect_se=shift.log_ratio_se)
    else:
        shift = mean_shift(before, after, log=False, alpha=alpha)
        low, high = sorted((sign * shift.diff_ci_low, sign * shift.diff_ci_high))
        row.update(improvement=sign * shift.diff, improvement_unit="points",
                   effect=sign * shift.diff, effect_se=shift.diff_se)
    row.update(ci_low=low, ci_high=high, baseline=shift.baseline, post=shift.post, post_ci_low=shift.post_ci_low,
               post_ci_high=shift.post_ci_high, p_value=shift.p_value, log_scale=shift.scale == "log")
    row["verdict"] = "improved" if low > 0 else "worsened" if high < 0 else "no clear change"
    if not row["effect_se"] > 0:
        row["note"] = "no variation within each phase: the interval has no width"
    return row


def _compare_kpi(case_id, kpi, series, start, months, alpha, seasonal) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(case_id=case_id, kpi=kpi, note="")
    if series.empty:
        return {**row, "n_before": 0, "n_after": 0, "verdict": "not enough data", "note": "no measurements"}
    before, after = (series.loc[series["phase"] == p, "value"].to_numpy() for p in ("before", "after"))
    row.update(_before_after(before, after, series.iloc[0][list(INFO)].to_dict(), alpha))
    if row["verdict"] == "not enough data":
        return {c: row[c] for c in COLUMNS}
    notes = []
    sign = 1 if row["better"] == "higher" else -1
    if len(before) >= MIN_ITS_POINTS and len(after) >= MIN_ITS_POINTS:
        fit = its(series["value"], series["period"], start, months, seasonal=seasonal,
                  log=row.pop("log_scale"), alpha=alpha)
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
    return {c: row[c] for c in COLUMNS}


EFFECT_COLUMNS = [
    "case_id", "kpi", "category", "better", "scale", "n_before", "n_after", "baseline", "post",
    "improvement", "ci_low", "ci_high",
    "improvement_unit", "effect", "effect_se", "usable", "sector", "maturity_before", "maturity_latest",
    "levels_gained",
]


def kpi_effects(portfolio: Portfolio, kpis=None, alpha: float = 0.05,
                transition_months: int | None = None) -> pd.DataFrame:
    """Each case's before/after effect for each KPI: the inputs of the cross-case tests.

    Returns
    -------
    pandas.DataFrame
        One row per case and KPI: ``case_id, kpi, category, better, scale,
        n_before, n_after, baseline, post``, ``improvement, ci_low, ci_high,
        improvement_unit`` (as in :func:`compare_case`), ``effect,
        effect_se`` (direction-aware log ratio, or points, and its standard
        error), ``usable`` (enough data for both), and the case's ``sector,
        maturity_before, maturity_latest`` and ``levels_gained`` (latest
        minus before adoption; an organization with no rated appraisal
        before adoption counts as maturity level 1).

    Examples
    --------
    >>> import casekit as ck
    >>> effects = ck.kpi_effects(ck.load_cases("cases"))
    >>> int(effects["usable"].sum()), len(effects)
    (39, 39)
    """
    data = portfolio.kpis if kpis is None else portfolio.kpis[portfolio.kpis["kpi"].isin(list(kpis))]
    if transition_months is not None:
        data = pd.concat([case_series(portfolio, c, transition_months) for c in data["case_id"].unique()])
        data = data[data["kpi"].isin(list(kpis))] if kpis is not None else data
    values, phases = data["value"].to_numpy(), data["phase"].to_numpy()
    info = data[list(INFO)].to_numpy()
    rows = []
    for (case_id, kpi), index in sorted(data.groupby(["case_id", "kpi"]).indices.items()):
        index = index[np.argsort(data["date"].to_numpy()[index], kind="stable")]
        ph, vals = phases[index], values[index]
        row = _before_after(vals[ph == "before"], vals[ph == "after"], dict(zip(INFO, info[index[0]])), alpha)
        rows.append({"case_id": case_id, "kpi": kpi, **row})
    table = pd.DataFrame(rows).reindex(columns=EFFECT_COLUMNS[:-5])
    table["usable"] = np.isfinite(table["effect"]) & (table["effect_se"] > 0)
    cases = portfolio.cases.set_index("case_id")
    table = table.join(cases[["sector", "maturity_before", "maturity_latest"]], on="case_id")
    table["levels_gained"] = table["maturity_latest"] - table["maturity_before"].fillna(1)
    return table[EFFECT_COLUMNS]
