"""Regression on a KPI's time series with Newey–West (HAC) errors: the before/after
mean shift and the interrupted time series (segmented regression)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from functools import lru_cache

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from .periods import parse_month, parse_period, phases_of


def newey_west_lags(n: int) -> int:
    """Newey & West (1994)'s rule for the HAC bandwidth: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


def hac_ols(y, X, maxlags: int | None = None):
    """OLS with Newey–West standard errors, as Stata's ``newey``.

    Bartlett kernel with ``maxlags`` lags (default :func:`newey_west_lags`),
    the small-sample factor n / (n − k), and t tests on the residual degrees
    of freedom. Returns the statsmodels results object.
    """
    y = np.asarray(y, dtype=float)
    lags = newey_west_lags(len(y)) if maxlags is None else maxlags
    return sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)


@dataclass(frozen=True)
class ItsResult:
    """Segmented regression of one KPI around its adoption (see :func:`its`)."""

    n_before: int
    n_after: int
    scale: str
    level_change: float
    level_ci_low: float
    level_ci_high: float
    level_p: float
    slope_change: float
    slope_ci_low: float
    slope_ci_high: float
    slope_p: float
    pre_slope: float
    pre_slope_p: float
    maxlags: int
    seasonal: bool

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])

    def __repr__(self) -> str:
        unit = "%" if self.scale == "log" else ""
        return (
            f"ItsResult(n={self.n_before}+{self.n_after}, level change {self.level_change:+.3g}{unit} "
            f"[{self.level_ci_low:+.3g}, {self.level_ci_high:+.3g}] p={self.level_p:.3g}; "
            f"slope change {self.slope_change:+.3g}{unit}/period p={self.slope_p:.3g})"
        )


def _positions(periods, start: pd.Period, transition_months: int):
    """Periods since the first post-transition period (in the series' own unit), and phases."""
    parsed = [p if isinstance(p, pd.Period) else parse_period(p) for p in periods]
    freqs = {p.freqstr[0] for p in parsed}
    if len(freqs) != 1:
        raise ValueError("a series must be all monthly or all quarterly")
    first_after = start + transition_months
    anchor = first_after.asfreq(parsed[0].freqstr, how="start") if freqs == {"Q"} else first_after
    t = np.array([p.ordinal - anchor.ordinal for p in parsed], dtype=float)
    phases = phases_of(parsed, start, transition_months)
    seasons = np.array([p.quarter if p.freqstr[0] == "Q" else p.month for p in parsed])
    return t, phases, seasons, 4 if freqs == {"Q"} else 12


def _scale(values: np.ndarray, log: bool | None) -> str:
    if log is None:
        log = bool((values > 0).all())
    if log and not (values > 0).all():
        raise ValueError("log scale needs positive values")
    return "log" if log else "raw"


def its(values, periods, start, transition_months: int = 0, seasonal: bool = False,
        log: bool | None = None, alpha: float = 0.05, maxlags: int | None = None) -> ItsResult:
    """Interrupted time series: level and slope change at adoption (segmented regression).

    Fits ``y_t = b0 + b1 t + b2 post_t + b3 t·post_t (+ season) + e_t`` by OLS
    to the periods before and after the adoption (the transition window left
    out), with ``t`` counted in periods from the first post-transition period
    and Newey–West (HAC) standard errors, because monthly KPIs are
    autocorrelated.

    Parameters
    ----------
    values : array_like
        The KPI's values.
    periods : sequence of str or pandas.Period
        Their periods (``YYYY-MM`` or ``YYYY-Qn``; one frequency).
    start : str or pandas.Period
        The adoption month.
    transition_months : int
        Months after ``start`` left out of the fit.
    seasonal : bool
        Add one pair of Fourier terms (sin and cos of the month or quarter)
        for a yearly cycle.
    log : bool, optional
        Fit log(y), so that changes are relative (reported in percent). By
        default log when all values are positive.
    alpha : float
        1 − confidence level.
    maxlags : int, optional
        HAC bandwidth; default floor(4 (n/100)^(2/9)) (Newey & West 1994).

    Returns
    -------
    ItsResult
        ``level_change`` (the jump at the first post-transition period,
        against the extrapolated baseline trend) and ``slope_change`` (per
        period), each with CI and p-value, and ``pre_slope`` (the baseline
        trend), in percent on the log scale or in the KPI's unit otherwise.
        Raw, not direction-aware: a drop in defects is negative.

    Raises
    ------
    ValueError
        With fewer than 3 points on either side or mixed frequencies.

    Notes
    -----
    Segmented regression as in Wagner et al. (2002) and Bernal, Cummins &
    Gasparrini (2017). Missing periods are simply absent; the HAC estimator
    treats the remaining points as consecutive. On the log scale a
    coefficient b is reported as 100·(exp(b) − 1) percent.

    References
    ----------
    Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression
    analysis of interrupted time series studies in medication use research.
    J Clin Pharm Ther 27:299–309.
    Bernal JL, Cummins S, Gasparrini A (2017). Interrupted time series
    regression for the evaluation of public health interventions: a tutorial.
    Int J Epidemiol 46:348–355.
    Newey WK, West KD (1994). Automatic lag selection in covariance matrix
    estimation. Rev Econ Stud 61:631–653.

    Examples
    --------
    A monthly series that drops by 20% at adoption, with 2% noise:

    >>> import numpy as np, pandas as pd, casekit as ck
    >>> periods = [str(p) for p in pd.period_range("2020-01", "2023-12", freq="M")]
    >>> noise = np.exp(np.random.default_rng(1).normal(0, 0.02, 48))
    >>> y = np.where(np.arange(48) < 24, 10.0, 8.0) * noise
    >>> res = ck.its(y, periods, start="2022-01")
    >>> res.level_ci_low < -20 < res.level_ci_high, res.slope_p > 0.05
    (True, True)
    """
    y = np.asarray(values, dtype=float)
    start = start if isinstance(start, pd.Period) else parse_month(start)
    t, phases, seasons, cycle = _positions(periods, start, transition_months)
    keep = phases != "transition"
    y, t, phases, seasons = y[keep], t[keep], phases[keep], seasons[keep]
    post = (phases == "after").astype(float)
    n_before, n_after = int((post == 0).sum()), int(post.sum())
    if n_before < 3 or n_after < 3:
        raise ValueError(f"need at least 3 periods before and after, got {n_before} and {n_after}")
    scale = _scale(y, log)
    target = np.log(y) if scale == "log" else y
    columns = [np.ones_like(t), t, post, t * post]
    if seasonal:
        columns += [np.sin(2 * np.pi * seasons / cycle), np.cos(2 * np.pi * seasons / cycle)]
    fit = hac_ols(target, np.column_stack(columns), maxlags)
    ci = fit.conf_int(alpha)
    show = (lambda b: 100 * np.expm1(b)) if scale == "log" else (lambda b: b)
    return ItsResult(
        n_before=n_before,
        n_after=n_after,
        scale=scale,
        level_change=float(show(fit.params[2])),
        level_ci_low=float(show(ci[2, 0])),
        level_ci_high=float(show(ci[2, 1])),
        level_p=float(fit.pvalues[2]),
        slope_change=float(show(fit.params[3])),
        slope_ci_low=float(show(ci[3, 0])),
        slope_ci_high=float(show(ci[3, 1])),
        slope_p=float(fit.pvalues[3]),
        pre_slope=float(show(fit.params[1])),
        pre_slope_p=float(fit.pvalues[1]),
        maxlags=int(fit.cov_kwds["maxlags"]),
        seasonal=seasonal,
    )


@dataclass(frozen=True)
class MeanShift:
    """Before/after levels of one KPI, from ``y = a + b·after + e`` with HAC errors."""

    n_before: int
    n_after: int
    scale: str
    baseline: float
    post: float
    change_pct: float
    change_ci_low: float
    change_ci_high: float
    diff: float
    diff_ci_low: float
    diff_ci_high: float
    diff_se: float
    p_value: float
    log_ratio: float
    log_ratio_se: float
    post_ci_low: float
    post_ci_high: float


def mean_shift(before, after, log: bool | None = None, alpha: float = 0.05,
               maxlags: int | None = None) -> MeanShift:
    """Compare a KPI's level after adoption with its baseline.

    Regresses the KPI on an after-adoption indicator, ``y = a + b·after + e``,
    with Newey–West standard errors: the same estimator as :func:`hac_ols`
    (Bartlett kernel, n/(n − 2) correction, t on n − 2 df), written out for
    this two-group design because the cross-case tests run it once per case
    and KPI; tests/test_timeseries.py checks it against statsmodels.

    On the log scale (the default for positive values) ``baseline`` and
    ``post`` are geometric means and ``change_pct`` = 100·(post/baseline − 1)
    with its CI; ``log_ratio`` and its standard error are what
    meta-analysis pools. On the raw scale (values of zero or below) they are
    arithmetic means, ``change_pct`` = 100·diff/baseline with the baseline
    taken as fixed, and ``log_ratio`` = log(post/baseline) with a delta-method
    standard error. ``diff`` = post − baseline, with ``diff_se`` its standard
    error (delta method on the log scale).
    """
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    n_before, n_after = len(before), len(after)
    if n_before < 3 or n_after < 3:
        raise ValueError(f"need at least 3 periods before and after, got {n_before} and {n_after}")
    y = np.r_[before, after]
    scale = _scale(y, log)
    target = np.log(y) if scale == "log" else y
    a, post_level = target[:n_before].mean(), target[n_before:].mean()
    b = post_level - a
    cov = _hac_two_groups(target - np.r_[np.full(n_before, a), np.full(n_after, post_level)], n_before,
                          newey_west_lags(len(y)) if maxlags is None else maxlags)
    se_b, se_post = np.sqrt(cov[1, 1]), np.sqrt(cov[0, 0] + 2 * cov[0, 1] + cov[1, 1])
    crit = _t_quantile(len(y) - 2, 1 - alpha / 2)
    b_low, b_high = b - crit * se_b, b + crit * se_b
    post_low, post_high = post_level - crit * se_post, post_level + crit * se_post
    p_value = float(2 * stats.t.sf(abs(b / se_b), len(y) - 2)) if se_b > 0 else float(b == 0)
    if scale == "log":
        baseline, post = np.exp(a), np.exp(post_level)
        change = 100 * np.expm1([b, b_low, b_high])
        log_ratio, log_se = b, se_b
        post_low, post_high = np.exp(post_low), np.exp(post_high)
    else:
        baseline, post = a, post_level
        change = 100 * np.array([b, b_low, b_high]) / a if a != 0 else np.full(3, np.nan)
        ok = a > 0 and post > 0
        log_ratio = np.log(post / a) if ok else np.nan
        log_se = se_b / post if ok else np.nan
    return MeanShift(
        n_before=n_before,
        n_after=n_after,
        scale=scale,
        baseline=float(baseline),
        post=float(post),
        change_pct=float(change[0]),
        change_ci_low=float(change[1]),
        change_ci_high=float(change[2]),
        diff=float(post - baseline),
        diff_ci_low=float(b_low) if scale == "raw" else float(baseline * np.expm1(b_low)),
        diff_ci_high=float(b_high) if scale == "raw" else float(baseline * np.expm1(b_high)),
        diff_se=float(se_b) if scale == "raw" else float(post * se_b),
        p_value=p_value,
        log_ratio=float(log_ratio),
        log_ratio_se=float(log_se),
        post_ci_low=float(post_low),
        post_ci_high=float(post_high),
    )


def _hac_two_groups(residuals: np.ndarray, n_before: int, maxlags: int) -> np.ndarray:
    """Newey–West covariance of (a, b) in y = a + b·after, with the n/(n − 2) correction."""
    n = len(residuals)
    X = np.column_stack([np.ones(n), np.r_[np.zeros(n_before), np.ones(n - n_before)]])
    scores = X * residuals[:, None]
    meat = scores.T @ scores
    for lag in range(1, maxlags + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        meat += (1 - lag / (maxlags + 1)) * (gamma + gamma.T)
    bread = np.linalg.inv(X.T @ X)
    return bread @ meat @ bread * n / (n - 2)


@lru_cache(maxsize=512)
def _t_quantile(df: int, q: float) -> float:
    return float(stats.t.ppf(q, df))
