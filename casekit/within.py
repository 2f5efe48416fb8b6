"""Inside one case: did each KPI change at adoption, beyond the trend it already had?"""

from __future__ import annotations

import hashlib

from collections import OrderedDict

import numpy as np
import pandas as pd

from .behaviour import xmr
from .errors import CaseNotFound
from .loading import Portfolio
from .multiplicity import adjust_pvalues
from .periods import phases_of
from .timeseries import HORIZON_MONTHS, SegmentedSeries, its_arrays, its_estimates, mean_shift, positions

MIN_POINTS = 6  # per side, for any comparison: the segmented regression has four coefficients and an AR(1)
TESTED_POINTS = 12  # per side, for a verdict that is a test rather than a description
DESCRIPTIVE_PHI = 0.6  # from this autocorrelation on, no method holds its error rate with a few years of data

COLUMNS = [
    "case_id", "kpi", "label", "unit", "better", "category", "scale",
    "n_before", "n_after", "baseline", "post", "post_ci_low", "post_ci_high", "simple_change",
    "improvement", "ci_low", "ci_high", "improvement_unit", "p_value", "p_adjusted", "autocorrelation",
    "its_level_change", "its_level_ci_low", "its_level_ci_high", "its_level_p",
    "its_slope_change", "its_slope_p", "its_pre_slope", "its_pre_slope_p",
    "xmr_signals_better", "xmr_signals_worse", "effect", "effect_se", "descriptive", "verdict", "note",
]


def case_series(portfolio: Portfolio, case_id: str, transition_months: int | None = None) -> pd.DataFrame:
    """A case's KPI rows with ``phase`` recomputed for ``transition_months`` (default: the case's own)."""
    case = portfolio.cases.set_index("case_id").loc[case_id]
    rows = portfolio.kpis[portfolio.kpis["case_id"] == case_id].copy()
    months = case["transition_months"] if transition_months is None else int(transition_months)
    rows["phase"] = phases_of(rows["period"].tolist(), case["adoption_start"], months)
    return rows


def compare_case(portfolio: Portfolio, case_id: str, alpha: float = 0.05, transition_months: int | None = None,
                 kpis=None, seasonal: bool = False, horizon_months: int = HORIZON_MONTHS) -> pd.DataFrame:
    """Each KPI of one case: did it change at adoption beyond its baseline trend?

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`load_cases`.
    case_id : str
        The case to compare.
    alpha : float
        1 − confidence level; the verdicts control the case's family-wise
        error at this level (Holm across its KPIs).
    transition_months : int, optional
        Months after the adoption start left out; default the case's own.
    kpis : list of str, optional
        The KPIs to compare (default all the case measures).
    seasonal : bool
        Add yearly Fourier terms to the interrupted time series.
    horizon_months : int
        The effect is averaged over this many months after the transition.

    Returns
    -------
    pandas.DataFrame
        One row per KPI:

        - ``case_id, kpi, label, unit, better, category, scale``;
        - ``n_before, n_after``: periods in each phase (transition excluded);
        - ``baseline, post``: the mean level before and after (geometric
          means for positive ratio-scale KPIs, arithmetic otherwise), and
          ``post_ci_low, post_ci_high``, the CI of the post-adoption level;
        - ``simple_change``: the direction-aware change from ``baseline``
          to ``post`` (percent, or points): descriptive only, since it
          mistakes a continuing trend for a change;
        - ``improvement, ci_low, ci_high, improvement_unit``: **the effect**,
          direction-aware (a 20% drop in defects is +20): the average
          difference, over the first ``horizon_months`` after the
          transition, between the KPI and its baseline trend extrapolated —
          percent for ratio-scale KPIs, points for interval-scale KPIs such
          as NPS; the CI at level 1 − ``alpha``, not adjusted;
        - ``p_value`` of the effect (AR(1) parametric bootstrap, see
          :func:`its`) and ``p_adjusted`` (Holm across every KPI of the
          case that could be compared, descriptive ones included);
        - ``autocorrelation``: the KPI's estimated AR(1) coefficient;
        - ``its_level_change, its_level_ci_low, its_level_ci_high,
          its_level_p, its_slope_change, its_slope_p, its_pre_slope,
          its_pre_slope_p``: the parts of the effect (see :func:`its`; raw
          direction, % on the log scale);
        - ``xmr_signals_better, xmr_signals_worse``: post-adoption points that
          break the baseline's XmR limits or zone rules, by direction
          (descriptive: under positive autocorrelation the limits are too
          narrow, so signals are not evidence of a change on their own);
        - ``effect, effect_se``: the effect as pooled across cases, a
          direction-aware log ratio (points for interval scale), and its
          standard error;
        - ``descriptive``: True when the data cannot support a test —
          ``autocorrelation`` ≥ 0.6 or fewer than 12 periods on a side;
        - ``verdict``: ``improved`` / ``worsened`` (Holm-adjusted p-value
          below ``alpha``), ``no clear change``, ``descriptive only`` (see
          ``descriptive``; the note says which way the estimate points) or
          ``not enough data`` (fewer than 6 periods a side, values that
          never vary, or a ratio-scale KPI whose baseline level is zero);
          ``note`` says why or adds a caution.

    Notes
    -----
    The effect is the interrupted time series' counterfactual contrast:
    segmented regression with AR(1) errors (generalized least squares;
    missing months and the transition window are gaps, not neighbours),
    the autocorrelation estimated without its small-sample bias, p-values
    and intervals from a parametric bootstrap of the t statistic. Its error
    rate is measured in the README. A KPI that only continues a trend it
    had before adoption shows no effect. The latest results are remembered
    by the content of their inputs, so asking again is cheap and changed
    data is always compared afresh.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> table = ck.compare_case(pf, "quantia-tech")
    >>> table.set_index("kpi").loc["escaped_defects", ["better", "verdict"]].tolist()
    ['lower', 'improved']
    """
    if case_id not in set(portfolio.cases["case_id"]):
        raise CaseNotFound(f"no case {case_id!r}; cases are {', '.join(portfolio.cases['case_id'])}")
    case = portfolio.cases.set_index("case_id").loc[case_id]
    rows = case_series(portfolio, case_id, transition_months)
    months = case["transition_months"] if transition_months is None else int(transition_months)
    chosen = sorted(rows["kpi"].unique()) if kpis is None else list(kpis)
    # A report asks for the same comparison several times (the table, the goals, the ROI, the findings).
    # The key is the content of what the result depends on, so changed data is never answered from memory.
    key = (case_id, alpha, months, case["adoption_start"], tuple(chosen), seasonal, horizon_months,
           int(pd.util.hash_pandas_object(rows, index=False).sum()))
    if key not in _RECENT:
        out = []
        for kpi in chosen:
            series = rows[rows["kpi"] == kpi].sort_values("date")
            out.append(_compare_kpi(case_id, kpi, series, case["adoption_start"], months, alpha, seasonal,
                                    horizon_months))
        _RECENT[key] = _decide(pd.DataFrame(out, columns=COLUMNS), alpha)
        while len(_RECENT) > _KEEP:
            _RECENT.popitem(last=False)
    _RECENT.move_to_end(key)
    return _RECENT[key].copy()


_RECENT: OrderedDict = OrderedDict()  # compare_case's latest results, by the content of their inputs
_KEEP = 64


INFO = ("label", "unit", "better", "category", "scale")


def _decide(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Verdicts from p-values Holm-adjusted across every KPI compared, descriptive ones included.

    The family is fixed before looking at which KPIs turn out descriptive: a KPI is descriptive when its
    estimated autocorrelation is high, and leaving those out would let the family shrink exactly where the
    remaining p-values are least trustworthy.
    """
    compared = table["verdict"] == ""
    table.loc[compared, "p_adjusted"] = adjust_pvalues(table.loc[compared, "p_value"], "holm")
    tested = compared & ~table["descriptive"].astype(bool)
    significant = tested & (table["p_adjusted"] < alpha)
    table.loc[tested, "verdict"] = "no clear change"
    table.loc[significant, "verdict"] = np.where(table.loc[significant, "improvement"] > 0, "improved", "worsened")
    only_raw = tested & ~significant & (table["p_value"] < alpha)
    raw_only = f"significant at {alpha:g} before, but not after, the Holm correction across the case's KPIs"
    table.loc[only_raw, "note"] = table.loc[only_raw, "note"].map(lambda note: join_notes(note, raw_only))
    table.loc[table["verdict"] == "", "verdict"] = "descriptive only"
    table["descriptive"] = table["descriptive"].astype(bool)
    return table


def _has_width(effect, se):
    """A standard error above rounding noise (an exact fit leaves one of about 1e-16)."""
    return se > 1e-9 * np.abs(effect)


def join_notes(*notes: str) -> str:
    """Notes joined by semicolons, empty ones left out."""
    return "; ".join(n for n in notes if n)


def _effect(fit, sign: int, interval: bool) -> dict:
    """The fit's effect as compare_case's columns, direction-aware.

    ``effect_se`` is the standard error to pool by (the plug-in one times the fit's inflation factor); the
    interval uses the plug-in one with the bootstrap's multiplier, or the pooled one with t's.
    """
    b, se, crit = fit.estimate["effect"], fit.se["effect"], fit.critical["effect"]
    if not interval and fit.scale == "raw":  # a ratio-scale KPI with a zero month: the log ratio of its levels
        b, se = fit.log_ratio, fit.log_ratio_se
    pooled = se * fit.inflation
    half = crit * (se if fit.bootstrap else pooled)
    if interval:
        low, high = sorted((sign * (b - half), sign * (b + half)))
        return dict(improvement=sign * b, ci_low=low, ci_high=high, improvement_unit="points",
                    effect=sign * b, effect_se=pooled)
    with np.errstate(over="ignore"):  # a bound beyond exp(709): unbounded, as far as the data can tell
        low, high = sorted(sign * 100 * np.expm1([b - half, b + half]))
    return dict(improvement=sign * 100 * np.expm1(b), ci_low=low, ci_high=high, improvement_unit="%",
                effect=sign * b, effect_se=pooled)


def _compare_kpi(case_id, kpi, series, start, months, alpha, seasonal, horizon_months) -> dict:
    if series.empty:
        row = dict.fromkeys(COLUMNS, np.nan)
        return {**row, "case_id": case_id, "kpi": kpi, "n_before": 0, "n_after": 0, "descriptive": False,
                "verdict": "not enough data", "note": "no measurements"}
    return _kpi_row(case_id, kpi, _month_numbers(series["date"]), series["freq"].iloc[0], series["phase"].to_numpy(),
                    series["value"].to_numpy(), series.iloc[0][list(INFO)].to_dict(), start, months, alpha,
                    seasonal, horizon_months, full=True)


def _month_numbers(dates) -> np.ndarray:
    """Months since 1970-01 of datetime64 values."""
    return np.asarray(dates, dtype="datetime64[M]").astype(np.int64)


def _kpi_row(case_id, kpi, month_numbers, freq, phases, values, info, start, months, alpha, seasonal,
             horizon_months, full: bool, log: bool | None = None) -> dict:
    """compare_case's columns for one KPI; without ``full``, only what pooling needs (no bootstrap,
    no level intervals, no XmR)."""
    row, ready = _kpi_screen(case_id, kpi, month_numbers, freq, phases, values, info, start, months, alpha, full, log)
    if ready is None:
        return row
    t, seasons, cycle, use_log = ready
    fit = its_arrays(values, t, phases, seasons, cycle, seasonal=seasonal, log=use_log, alpha=alpha,
                     horizon_months=horizon_months, bootstrap=full)
    return _kpi_finish(row, fit, phases, values, info, cycle, alpha, full)


def _kpi_screen(case_id, kpi, month_numbers, freq, phases, values, info, start, months, alpha, full, log):
    """The row before the segmented regression, and what the regression needs (None when it is not run)."""
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(case_id=case_id, kpi=kpi, note="", descriptive=False, verdict="", **info)
    t, seasons, cycle = positions(month_numbers, freq, start, months)
    before, after = values[phases == "before"], values[phases == "after"]
    row.update(n_before=len(before), n_after=len(after))
    if len(before) < MIN_POINTS or len(after) < MIN_POINTS:
        return {**row, "verdict": "not enough data",
                "note": f"needs {MIN_POINTS} periods before and after; has {len(before)} and {len(after)}"}, None
    compared = np.concatenate([before, after])
    if compared.min() == compared.max():
        return {**row, "verdict": "not enough data", "note": "the values never vary"}, None
    ratio = info["scale"] == "ratio"
    use_log = (log if log is not None else bool(compared.min() > 0)) if ratio else False
    if full:
        levels = mean_shift(before, after, log=use_log, alpha=alpha, positions=t[phases != "transition"])
        baseline, post = levels.baseline, levels.post
        row.update(post_ci_low=levels.post_ci_low, post_ci_high=levels.post_ci_high)
    else:
        # what ndarray.mean computes, without its wrapper's cost (twice for each of 20,000 series at scale)
        mean = (lambda v: float(np.exp(np.add.reduce(np.log(v)) / len(v)))) if use_log else \
            (lambda v: float(np.add.reduce(v) / len(v)))
        baseline, post = mean(before), mean(after)
    row.update(baseline=baseline, post=post)
    return row, (t, seasons, cycle, use_log)


def _kpi_finish(row, fit, phases, values, info, cycle, alpha, full) -> dict:
    """The row completed from its segmented regression."""
    ratio, sign = info["scale"] == "ratio", 1 if info["better"] == "higher" else -1
    baseline, post = row["baseline"], row["post"]
    if ratio and (baseline <= 0 or (fit.scale == "raw" and not np.isfinite(fit.log_ratio))):
        return {**row, "verdict": "not enough data",
                "note": "the baseline level is zero, so a relative change is undefined"}
    row.update(_effect(fit, sign, interval=not ratio))
    row["simple_change"] = sign * (100 * (post / baseline - 1) if ratio else post - baseline)
    row["autocorrelation"] = fit.phi
    if not full:
        return row
    before, after = values[phases == "before"], values[phases == "after"]
    level, slope, pre_slope = fit.shown("level"), fit.shown("slope"), fit.shown("pre_slope")
    row.update(p_value=fit.p_value["effect"], its_level_change=level[0], its_level_ci_low=level[1],
               its_level_ci_high=level[2], its_level_p=level[3], its_slope_change=slope[0], its_slope_p=slope[3],
               its_pre_slope=pre_slope[0], its_pre_slope_p=pre_slope[3])
    notes = []
    if not _has_width(row["effect"], row["effect_se"]):
        notes.append("no variation around the fitted trends: the interval has no width")
    if fit.p_value["pre_slope"] < alpha:
        unit = "%" if fit.scale == "log" else f" {info['unit']}"
        per = "quarter" if cycle == 4 else "month"
        notes.append(f"the baseline trend ({row['its_pre_slope']:+.2g}{unit} a {per}) is extrapolated: the "
                     f"effect is the change beyond it")
    short = min(len(before), len(after)) < TESTED_POINTS
    if short or fit.phi >= DESCRIPTIVE_PHI:
        row["descriptive"] = True
        why = (f"fewer than {TESTED_POINTS} periods on a side" if short
               else f"autocorrelation {fit.phi:.2f} ≥ {DESCRIPTIVE_PHI}")
        way = "improvement" if row["improvement"] > 0 else "worsening" if row["improvement"] < 0 else "no change"
        notes.insert(0, f"descriptive only ({why}): the estimate points to {way}")
    chart = xmr(after, baseline=before)
    better_side = "above" if sign > 0 else "below"
    flagged = chart.signals.groupby("side")["position"].nunique()
    row["xmr_signals_better"] = int(flagged.get(better_side, 0))
    row["xmr_signals_worse"] = int(flagged.drop(better_side, errors="ignore").sum())
    row["note"] = join_notes(*notes)
    return {c: row[c] for c in COLUMNS}


EFFECT_COLUMNS = [
    "case_id", "kpi", "label", "unit", "category", "better", "scale", "n_before", "n_after", "baseline", "post",
    "improvement", "ci_low", "ci_high", "improvement_unit", "effect", "effect_se", "autocorrelation", "usable",
    "sector", "maturity_before", "maturity_latest", "levels_gained",
]


def kpi_effects(portfolio: Portfolio, kpis=None, alpha: float = 0.05,
                transition_months: int | None = None, horizon_months: int = HORIZON_MONTHS) -> pd.DataFrame:
    """Each case's effect for each KPI: the inputs of the cross-case tests.

    The effect and its standard error are those of :func:`compare_case`
    (the same model and estimate); the bootstrap, which only calibrates a
    single case's p-value, is skipped, and ``ci_low, ci_high`` use t on
    n − p degrees of freedom. A ratio-scale KPI that has a zero or negative
    value in any case is compared on the raw scale in every case (the log
    ratio of its levels, delta method), so that one estimand is pooled.

    Returns
    -------
    pandas.DataFrame
        One row per case and KPI: ``case_id, kpi, label, unit, category, better, scale,
        n_before, n_after, baseline, post``, ``improvement, ci_low, ci_high,
        improvement_unit`` (as in :func:`compare_case`), ``effect,
        effect_se`` (direction-aware log ratio, or points, and its standard
        error), ``autocorrelation``, ``usable`` (an effect with a positive
        standard error), and the case's ``sector, maturity_before,
        maturity_latest`` and ``levels_gained`` (latest minus before
        adoption; an organization with no rated appraisal before adoption
        counts as maturity level 1).

    Examples
    --------
    >>> import casekit as ck
    >>> effects = ck.kpi_effects(ck.load_cases("cases"))
    >>> int(effects["usable"].sum()), len(effects)
    (39, 39)
    """
    key = (portfolio_fingerprint(portfolio), None if kpis is None else tuple(kpis), alpha, transition_months,
           horizon_months)
    if key not in _EFFECTS:
        if len(_EFFECTS) >= EFFECTS_KEPT:
            _EFFECTS.pop(next(iter(_EFFECTS)))
        _EFFECTS[key] = _kpi_effects(portfolio, kpis, alpha, transition_months, horizon_months)
    return _EFFECTS[key].copy()


# kpi_effects feeds every cross-case table of a portfolio report (the tests, the findings, categories,
# subgroups, dose-response): it is worked out once per portfolio content and settings
_EFFECTS: dict = {}
EFFECTS_KEPT = 4


KPI_COLUMNS = ["case_id", "kpi", "date", "freq", "value", "phase", *INFO]
CASE_COLUMNS = ["case_id", "adoption_start", "transition_months", "sector", "maturity_before", "maturity_latest"]


def portfolio_fingerprint(portfolio: Portfolio) -> str:
    """A digest of what :func:`kpi_effects` reads, so that a portfolio edited in place is never served stale."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_measurements_digest(portfolio.kpis))
    digest.update(_hashed(portfolio.cases[CASE_COLUMNS]))
    return digest.hexdigest()


def _hashed(frame: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()


def _measurements_digest(kpis: pd.DataFrame) -> bytes:
    """The digest of the measurements' columns, remembered for the latest few tables by the memory they use.

    Hashing a million rows costs about half a second, and a portfolio report asks seven times. With pandas'
    copy-on-write (always on from pandas 3), a column that still lies in the very buffer it lay in when
    it was hashed, while a shallow copy held here shares that buffer, has not been written since: writing
    to a shared buffer copies it first. The arrays are held too, so that no new one can take their place
    in memory.
    """
    if not _copy_on_write():
        return _hashed(kpis[KPI_COLUMNS])
    arrays = [kpis[column].to_numpy() for column in KPI_COLUMNS]
    where = [_location(array) for array in arrays]
    for _, held_arrays, digest in _DIGESTS:
        if [_location(array) for array in held_arrays] == where:
            return digest
    digest = _hashed(kpis[KPI_COLUMNS])
    _DIGESTS.append((kpis.copy(deep=False), arrays, digest))
    del _DIGESTS[:-DIGESTS_KEPT]
    return digest


_DIGESTS: list = []  # (a shallow copy of a measurements table, its columns' arrays, their digest)
DIGESTS_KEPT = 2


def _location(array: np.ndarray) -> tuple:
    return array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str


def _copy_on_write() -> bool:
    return int(pd.__version__.split(".")[0]) >= 3 or pd.get_option("mode.copy_on_write") is True


def _kpi_effects(portfolio: Portfolio, kpis, alpha: float, transition_months, horizon_months: int) -> pd.DataFrame:
    data = portfolio.kpis if kpis is None else portfolio.kpis[portfolio.kpis["kpi"].isin(list(kpis))]
    if transition_months is not None:
        data = pd.concat([case_series(portfolio, c, transition_months) for c in data["case_id"].unique()])
        data = data[data["kpi"].isin(list(kpis))] if kpis is not None else data
    cases = portfolio.cases.set_index("case_id")
    starts, transitions = cases["adoption_start"].to_dict(), cases["transition_months"].to_dict()
    positive = (data.loc[data["phase"] != "transition"].groupby("kpi")["value"].min() > 0).to_dict()
    month_numbers, freqs = _month_numbers(data["date"]), data["freq"].to_numpy()
    phases, values, info = data["phase"].to_numpy(), data["value"].to_numpy(), data[list(INFO)].to_numpy()
    dates = data["date"].to_numpy()
    rows, waiting = [], []
    for (case_id, kpi), index in sorted(data.groupby(["case_id", "kpi"]).indices.items()):
        index = index[np.argsort(dates[index], kind="stable")]
        months = transitions[case_id] if transition_months is None else int(transition_months)
        kpi_info = dict(zip(INFO, info[index[0]]))
        row, ready = _kpi_screen(case_id, kpi, month_numbers[index], freqs[index[0]], phases[index], values[index],
                                 kpi_info, starts[case_id], months, alpha, False, bool(positive.get(kpi, True)))
        rows.append(row)
        if ready is not None:
            t, seasons, cycle, use_log = ready
            waiting.append((len(rows) - 1, kpi_info, cycle, SegmentedSeries(values[index], t, phases[index], seasons,
                                                                            cycle, False, use_log, horizon_months)))
    # the series are fitted together, a stack per design: thousands of cases share a few designs
    fits = its_estimates([series for *_, series in waiting], alpha)
    for (at, kpi_info, cycle, _), fit in zip(waiting, fits):
        rows[at] = _kpi_finish(rows[at], fit, None, None, kpi_info, cycle, alpha, full=False)
    table = pd.DataFrame(rows, columns=COLUMNS).reindex(columns=EFFECT_COLUMNS[:-5])
    table["usable"] = np.isfinite(table["effect"]) & _has_width(table["effect"], table["effect_se"])
    table = table.join(cases[["sector", "maturity_before", "maturity_latest"]], on="case_id")
    table["levels_gained"] = table["maturity_latest"] - table["maturity_before"].fillna(1)
    return table[EFFECT_COLUMNS]
