"""Regression on a KPI's time series: the interrupted time series (segmented regression with
AR(1) errors) that decides, and the plain before/after mean shift with Newey–West errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError
from ..inputs.periods import SEASONALITY_CHOICES, parse_month, parse_period, phases_of, seasonality_setting
from .ar1 import ar1_estimates, ar1_estimates_many, ar1_estimates_stacked, ar1_test, phi_above, se_inflation
from .counts import count_test


def newey_west_lags(n: int) -> int:
    """Newey & West (1994)'s rule for the HAC bandwidth: floor(4 (n/100)^(2/9)).

    Parameters
    ----------
    n : int
        Number of observations.

    Returns
    -------
    int
        The bandwidth (lags) for the Bartlett kernel.

    Examples
    --------
    >>> newey_west_lags(48), newey_west_lags(200)
    (3, 4)
    """
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


HORIZON_MONTHS = 12  # the effect is the average over the first year after the transition
CAREFUL_POINTS = 24  # below this many periods on a side, the bootstrap allows for phi being underestimated


@dataclass(frozen=True)
class ItsResult:
    """Segmented regression of one KPI around its adoption (see :func:`its`)."""

    n_before: int
    n_after: int
    scale: str
    effect: float
    effect_ci_low: float
    effect_ci_high: float
    effect_p: float
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
    autocorrelation: float
    horizon: int
    seasonal: bool | int | str

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame.

        Returns
        -------
        pandas.DataFrame
            One row, a column per field of the result (``effect``, ``effect_ci_low``,
            ``effect_p``, ..., ``autocorrelation``, ``seasonal``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> periods = pd.period_range("2020-01", periods=36, freq="M").strftime("%Y-%m")
        >>> values = 20 * np.exp(np.where(np.arange(36) >= 18, -0.2, 0) + np.random.default_rng(3).normal(0, 0.05, 36))
        >>> its(values, periods, "2021-07", n_boot=199).to_frame().columns[:4].tolist()
        ['n_before', 'n_after', 'scale', 'effect']
        """
        return pd.DataFrame([asdict(self)])

    def __repr__(self) -> str:
        unit = "%" if self.scale == "log" else ""
        return (
            f"ItsResult(n={self.n_before}+{self.n_after}, phi={self.autocorrelation:.2f}, effect over the first "
            f"{self.horizon} periods {self.effect:+.3g}{unit} [{self.effect_ci_low:+.3g}, {self.effect_ci_high:+.3g}] "
            f"p={self.effect_p:.3g}; level change {self.level_change:+.3g}{unit} p={self.level_p:.3g}; "
            f"slope change {self.slope_change:+.3g}{unit}/period p={self.slope_p:.3g})"
        )


def positions(months, freq: str, start: pd.Period, transition_months: int):
    """Each period's time since the first post-transition period, in the series' own unit.

    ``months`` are the periods' first months as months since 1970-01 and
    ``freq`` is ``"M"`` or ``"Q"``. The first post-transition period of a
    quarterly series is the first quarter that begins at or after the end
    of the transition. Returns ``(t, seasons, cycle)``: integer times, the
    month or quarter of each period, and periods per year.

    Parameters
    ----------
    months : array_like of int
        Each period's first month, as months since 1970-01.
    freq : {"M", "Q"}
        Monthly or quarterly.
    start : pandas.Period
        The adoption month.
    transition_months : int
        Months after ``start`` that belong to neither side.

    Returns
    -------
    t : numpy.ndarray of int
        Each period's time since the first post-transition period (0 there).
    seasons : numpy.ndarray of int
        The month (1–12) or quarter (1–4) of each period.
    cycle : int
        Periods per year (12 or 4).

    Examples
    --------
    >>> import pandas as pd
    >>> start = pd.Period("2020-03", "M")
    >>> months = pd.period_range("2020-01", periods=5, freq="M").astype("int64")
    >>> t, seasons, cycle = positions(months, "M", start, transition_months=1)
    >>> t.tolist(), seasons.tolist(), cycle
    ([-3, -2, -1, 0, 1], [1, 2, 3, 4, 5], 12)
    """
    months = np.asarray(months, dtype=np.int64)
    first_after = start.ordinal + int(transition_months)
    if freq == "Q":
        return months // 3 - (-(-first_after // 3)), (months % 12) // 3 + 1, 4
    return months - first_after, months % 12 + 1, 12


def _positions(periods, start: pd.Period, transition_months: int):
    parsed = [p if isinstance(p, pd.Period) else parse_period(p) for p in periods]
    freqs = {p.freqstr[0] for p in parsed}
    if len(freqs) != 1:
        raise ArgumentError("a series must be all monthly or all quarterly")
    months = [p.ordinal * 3 if p.freqstr[0] == "Q" else p.ordinal for p in parsed]
    t, seasons, cycle = positions(months, freqs.pop(), start, transition_months)
    return t, phases_of(parsed, start, transition_months), seasons, cycle


def _scale(values: np.ndarray, log: bool | None) -> str:
    if log is None:
        log = bool((values > 0).all())
    if log and not (values > 0).all():
        raise ArgumentError("log scale needs positive values")
    return "log" if log else "raw"


@dataclass(frozen=True)
class ItsFit:
    """What casekit's comparisons take from a segmented regression, on the scale fitted.

    ``estimate``/``se`` are indexed by :data:`CONTRASTS`; ``log_ratio``/
    ``log_ratio_se`` on the raw scale are the log ratio of the average
    levels over the horizon with and without the change (delta method, both
    levels and their covariance); ``critical`` each contrast's interval multiplier (for the
    plug-in standard errors with the bootstrap, else for the inflated
    ones); ``inflation`` the factor (:func:`casekit.stats.ar1.se_inflation`) that
    turns the effect's plug-in standard error into the one a meta-analysis
    weighs by; ``bootstrap`` whether the bootstrap was run; ``beta, cov`` the
    coefficients and their plug-in covariance (for counterfactuals and
    their bands); ``controlled`` whether the series was fitted against a
    comparison (its ``pre_slope`` is then the trend of the gap between the
    two before adoption: the check of parallel trends).
    """

    n_before: int
    n_after: int
    scale: str
    horizon: int
    phi: float
    estimate: dict
    se: dict
    p_value: dict
    critical: dict
    log_ratio: float
    log_ratio_se: float
    inflation: float
    bootstrap: bool
    beta: np.ndarray = field(repr=False, compare=False)
    cov: np.ndarray = field(repr=False, compare=False)
    controlled: bool = False  # fitted against a comparison series (SegmentedSeries' comparison)

    def shown(self, name: str):
        """A contrast as reported: (value, CI low, CI high, p-value), in percent on the log scale.

        Parameters
        ----------
        name : str
            One of :data:`CONTRASTS` (``"effect"``, ``"level"``, ``"slope"``, ...).

        Returns
        -------
        tuple of float
            ``(value, ci_low, ci_high, p_value)``; percent on the log scale, the
            KPI's unit on the raw scale.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> periods = pd.period_range("2020-01", periods=36, freq="M").strftime("%Y-%m")
        >>> values = 20 * np.exp(np.where(np.arange(36) >= 18, -0.2, 0) + np.random.default_rng(3).normal(0, 0.05, 36))
        >>> fit = its_fit(values, periods, "2021-07", n_boot=199)
        >>> [round(v, 1) for v in fit.shown("level")[:3]]
        [-15.9, -21.4, -10.1]
        """
        b, half = self.estimate[name], self.critical[name] * self.se[name]
        show = (lambda v: float(100 * np.expm1(v))) if self.scale == "log" else float
        return show(b), show(b - half), show(b + half), self.p_value[name]


# the effect (averaged over the horizon), its parts, the baseline trend, the counterfactual and fitted levels over
# the horizon, and the fitted level over the horizon against the baseline period's mean level (what a goal names)
CONTRASTS = ("effect", "level", "slope", "pre_slope", "counterfactual", "fitted", "change")


def its_fit(values, periods, start, transition_months: int = 0, seasonal: bool | int | str = False, log: bool | None = None,
            alpha: float = 0.05, horizon_months: int = HORIZON_MONTHS, bootstrap: bool = True,
            n_boot: int = 999, comparison=None) -> ItsFit:
    """The segmented regression behind :func:`its` and :func:`casekit.compare_case`, unformatted.

    With ``bootstrap=False`` the p-values and intervals use t on n − p
    degrees of freedom instead of the bootstrap (the estimates and standard
    errors are the same): the inputs of the cross-case meta-analysis, which
    needs no per-case p-value.

    Parameters
    ----------
    values : array_like of float
        The KPI, one value per period.
    periods : array_like of str or pandas.Period
        ``YYYY-MM`` or ``YYYY-Qn``, one per value.
    start : str or pandas.Period
        The adoption month.
    transition_months : int, default 0
        Months after ``start`` left out of both sides.
    seasonal : bool, int or {"months"}, default False
        See :func:`seasonality`.
    log : bool, optional
        Fit log(values); by default when every value is positive.
    alpha : float, default 0.05
        1 − the intervals' confidence.
    horizon_months : int, default 12
        The effect is the change averaged over this many months after the transition.
    bootstrap : bool, default True
        Calibrate the p-values and intervals by the parametric bootstrap.
    n_boot : int, default 999
        Bootstrap replicates.
    comparison : array_like, optional
        A comparison unit's values, one per value: see :func:`its`.

    Returns
    -------
    ItsFit
        Estimates, standard errors, p-values and interval multipliers per
        contrast, phi, and the coefficients with their covariance.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> periods = pd.period_range("2020-01", periods=36, freq="M").strftime("%Y-%m")
    >>> values = 20 * np.exp(np.where(np.arange(36) >= 18, -0.2, 0) + np.random.default_rng(3).normal(0, 0.05, 36))
    >>> fit = its_fit(values, periods, "2021-07", bootstrap=False)
    >>> fit.scale, fit.n_before, fit.n_after, round(fit.estimate["level"], 2)
    ('log', 18, 18, -0.17)
    """
    start = start if isinstance(start, pd.Period) else parse_month(start)
    t, phases, seasons, cycle = _positions(periods, start, transition_months)
    return its_arrays(values, t, phases, seasons, cycle, seasonal, log, alpha, horizon_months, bootstrap, n_boot,
                      comparison)


def its_arrays(values, t, phases, seasons, cycle: int, seasonal: bool | int | str = False, log: bool | None = None,
               alpha: float = 0.05, horizon_months: int = HORIZON_MONTHS, bootstrap: bool = True,
               n_boot: int = 999, comparison=None) -> ItsFit:
    """:func:`its_fit` on arrays: values, times from :func:`positions`, phases, seasons, periods a year.

    Parameters
    ----------
    values : array_like of float
        The KPI.
    t : array_like of int
        Times from :func:`positions` (0 at the first post-transition period).
    phases : array_like of str
        ``"before"``, ``"transition"`` or ``"after"`` per value.
    seasons : array_like of int
        Month or quarter of each value.
    cycle : int
        Periods per year.
    seasonal, log, alpha, horizon_months, bootstrap, n_boot, comparison
        As :func:`its_fit`.

    Returns
    -------
    ItsFit

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(-18, 18)
    >>> phases = np.where(t < 0, "before", "after")
    >>> values = 20 * np.exp(np.where(t >= 0, -0.2, 0) + np.random.default_rng(3).normal(0, 0.05, 36))
    >>> fit = its_arrays(values, t, phases, (t % 12) + 1, 12, bootstrap=False)
    >>> round(fit.estimate["level"], 2)
    -0.17
    """
    series = SegmentedSeries(values, t, phases, seasons, cycle, seasonal, log, horizon_months, comparison)
    if not bootstrap:
        return its_estimates([series], alpha)[0]
    return its_series(series, alpha, n_boot)


INFLATION_PHI_MARGIN = 1.35  # standard errors of phi; calibrated on the grid in docs/methods.md, checked on fresh seeds


def _upper_phi(phi, n: int):
    """phi :data:`INFLATION_PHI_MARGIN` standard errors (√((1 − phi²)/n)) above its estimate, where the SE
    inflation factor is read.

    The factor grows with phi, and a short series' phi is often underestimated: read at the estimate, the
    pooled standard errors came out too small at 12 months a side (mean squared t 1.39 at phi 0.7); read
    higher, the mean squared t is 0.91-1.22 from 12 to 36 months a side and phi 0 to 0.7, above 1.1 only at
    12 a side and phi 0.7 (docs/methods.md).
    """
    return phi_above(phi, n, INFLATION_PHI_MARGIN)


def its_series(series: SegmentedSeries, alpha: float = 0.05, n_boot: int = 999) -> ItsFit:
    """The bootstrap-calibrated fit of one :class:`SegmentedSeries` (see :func:`its_arrays`).

    With fewer than :data:`CAREFUL_POINTS` periods on a side the null is simulated one standard error of phi
    above its estimate, which holds the test's size at 12 a side and high autocorrelation (docs/methods.md).

    Parameters
    ----------
    series : SegmentedSeries
        The prepared series.
    alpha : float, default 0.05
        1 − the intervals' confidence.
    n_boot : int, default 999
        Bootstrap replicates.

    Returns
    -------
    ItsFit
        With bootstrap p-values and interval multipliers.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(-18, 18)
    >>> values = 20 * np.exp(np.where(t >= 0, -0.2, 0) + np.random.default_rng(3).normal(0, 0.05, 36))
    >>> series = SegmentedSeries(values, t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12)
    >>> fit = its_series(series, n_boot=199)
    >>> fit.bootstrap, fit.p_value["level"] < 0.05
    (True, True)
    """
    if series.counts is not None:
        return _count_fit(series, alpha, n_boot, bootstrap=True)
    margin = 1.0 if min(series.n_before, series.n_after) < CAREFUL_POINTS else 0.0
    test = ar1_test(series.target, series.X, series.t, series.rows, alpha=alpha, n_boot=n_boot, phi_margin=margin)
    estimate, se, p_value, critical = test.estimate, test.se.copy(), test.p_value.copy(), test.critical.copy()
    if series.controlled:  # the pre_slope slot holds the check of parallel trends: the gap's own baseline trend
        estimate = estimate.copy()
        estimate[3], se[3], p_value[3], critical[3] = _parallel_trends_check(series, alpha, n_boot, margin)
    log_ratio, log_ratio_se = np.nan, np.nan
    levels = test.estimate + series.constants
    if series.scale == "raw" and levels[4] > 0 and levels[5] > 0:
        gradient = series.rows[5] / levels[5] - series.rows[4] / levels[4]
        log_ratio = float(np.log(levels[5] / levels[4]))
        log_ratio_se = float(ar1_estimates(series.target, series.X, series.t, gradient)[1][0])
    inflation = se_inflation(*series.inflation_design(), series.rows[0], _upper_phi(test.phi, len(series.t)))
    return series.fit(estimate, se, test.phi, p_value, critical, log_ratio, log_ratio_se,
                      inflation, bootstrap=True, beta=test.beta, cov=test.cov)


def _count_fit(series: SegmentedSeries, alpha: float, n_boot: int, bootstrap: bool) -> ItsFit:
    """A count series' fit (:func:`casekit.stats.counts.count_test`), as an ItsFit on the log scale."""
    margin = 1.0 if min(series.n_before, series.n_after) < CAREFUL_POINTS else 0.0
    test = count_test(series.counts, series.X, series.t, series.rows, offset=series.offset, alpha=alpha,
                      n_boot=n_boot, bootstrap=bootstrap, phi_margin=margin)
    inflation = se_inflation(*series.inflation_design(), series.rows[0], _upper_phi(test.phi, len(series.t)))
    return series.fit(test.estimate, test.se, test.phi, test.p_value, test.critical, np.nan, np.nan, inflation,
                      bootstrap=bootstrap, beta=test.beta, cov=test.cov)


def _parallel_trends_check(series: SegmentedSeries, alpha: float, n_boot: int, margin: float):
    """The trend of the gap between the organization and its comparison before adoption, with the same calibrated
    test: (estimate, se, p-value, critical). Under parallel trends it is zero; NaN with too few periods."""
    before = ~series.after
    X = np.column_stack([np.ones(before.sum()), series.t[before].astype(float),
                         *_season_columns(series.seasons[before], series.cycle, series.seasonal)])
    if before.sum() - X.shape[1] < 2:
        return np.nan, np.nan, np.nan, np.nan
    contrast = np.zeros((1, X.shape[1]))
    contrast[0, 1] = 1
    check = ar1_test(series.target[before], X, series.t[before], contrast, alpha=alpha, n_boot=n_boot,
                     phi_margin=margin)
    return check.estimate[0], check.se[0], check.p_value[0], check.critical[0]


def seasonality(setting, cycle: int):
    """A seasonality setting made canonical: 0 (none), a number of harmonic pairs, or ``"months"`` (dummies).

    As :func:`casekit.inputs.periods.seasonality_setting`, and ``True`` is one harmonic pair, ``False`` none; a
    quarterly series (``cycle`` 4) takes at most 2 pairs.

    Parameters
    ----------
    setting : bool, int or str
        ``True``/``False``, a number of harmonic pairs, ``"none"``, ``"months"``.
    cycle : int
        Periods per year (12 or 4).

    Returns
    -------
    int or "months"

    Examples
    --------
    >>> seasonality(True, 12), seasonality("none", 12), seasonality(2, 4), seasonality("months", 12)
    (1, 0, 2, 'months')
    """
    if isinstance(setting, bool):
        return int(setting)
    try:
        setting = seasonality_setting(setting)
    except ArgumentError:
        raise ArgumentError(f"seasonality must be {SEASONALITY_CHOICES}, got {setting!r}") from None
    return setting if setting == "months" else min(setting, cycle // 2)


def _season_columns(seasons, cycle: int, setting) -> list[np.ndarray]:
    """The seasonal regressors: K pairs of sin and cos of the month (or quarter), or a dummy per season but the
    first. At K = cycle/2 the last sine is zero at every season and is left out."""
    seasons = np.asarray(seasons)
    if setting == "months":
        return [(seasons == season).astype(float) for season in range(2, cycle + 1)]
    columns = []
    for k in range(1, int(setting) + 1):
        angle = 2 * np.pi * k * seasons / cycle
        if 2 * k != cycle:
            columns.append(np.sin(angle))
        columns.append(np.cos(angle))
    return columns


class SegmentedSeries:
    """One series made ready for the segmented regression (the arguments of :func:`its_arrays`): the
    transition left out, ordered in time, on its scale, with its design and contrasts.

    With ``comparison`` (a comparison unit's values of the same KPI, one per value; NaN where it has none)
    the series is *controlled*: the model is the adopting series less the comparison (on the log scale,
    their log ratio), ``y − c = a + b·after + d·t·after + e``, with no trend of its own before adoption:
    the comparison carries the trend the organization would have followed (parallel trends). Periods the
    comparison lacks are left out. :attr:`offset` holds the comparison on the analysis scale, and
    :meth:`offset_at` gives it at the times a path is drawn, so that levels and paths are the organization's.
    """

    def __init__(self, values, t, phases, seasons, cycle: int, seasonal: bool | int | str = False, log: bool | None = None,
                 horizon_months: int = HORIZON_MONTHS, comparison=None, counts: bool = False, exposure=None):
        y = np.asarray(values, dtype=float)
        t, phases, seasons = np.asarray(t), np.asarray(phases), np.asarray(seasons)
        if counts and comparison is not None:
            raise ArgumentError("a count KPI is not fitted against a comparison unit")
        keep = phases != "transition"
        other = None if comparison is None else np.asarray(comparison, dtype=float)
        if other is not None:
            keep &= np.isfinite(other)
        exposed = None if exposure is None else np.asarray(exposure, dtype=float)
        if exposed is not None:
            keep &= np.isfinite(exposed) & (exposed > 0)
        y, t, phases, seasons = y[keep], t[keep], phases[keep], seasons[keep]
        order = np.argsort(t, kind="stable")
        y, t, phases, seasons = y[order], t[order], phases[order], seasons[order]
        post = (phases == "after").astype(float)
        self.n_before, self.n_after = int((post == 0).sum()), int(post.sum())
        if self.n_before < 3 or self.n_after < 3:
            raise ArgumentError(f"need at least 3 periods before and after, got {self.n_before} and {self.n_after}")
        self.controlled = other is not None
        self.counts = y if counts else None  # a count series: the counts, fitted by casekit.stats.counts
        other = None if other is None else other[keep][order]
        if counts:
            self.scale = "log"  # the log link: effects are log rate ratios, shown in percent
            self.offset = np.zeros(len(y)) if exposed is None else np.log(exposed[keep][order])
            self.target = np.log(y + 0.5) - self.offset  # for screens only (the seasonal one); the fit uses counts
        else:
            self.scale = _scale(y if other is None else np.concatenate([y, other]), log)
            as_scale = np.log if self.scale == "log" else (lambda v: v)
            self.offset = np.zeros(len(y)) if other is None else as_scale(other)
            self.target = as_scale(y) - self.offset
        self.seasonal, self.cycle = seasonality(seasonal, cycle), cycle
        self.t, self.seasons, self.after = t, seasons, post == 1
        self.X = self._design(t, post, seasons)
        self.horizon = max(1, horizon_months // (3 if cycle == 4 else 1))
        middle = (self.horizon - 1) / 2
        trend = not self.controlled
        level, slope, seasons_from = (2, 3, 4) if trend else (1, 2, 3)
        rows = np.zeros((len(CONTRASTS), self.X.shape[1]))
        rows[0, level], rows[0, slope] = 1, middle  # effect: level + slope change, averaged over the horizon
        rows[1, level], rows[2, slope] = 1, 1       # level change, slope change
        rows[4, 0] = 1                              # the counterfactual level over the horizon (season averages out)
        if trend:
            rows[3, 1] = 1                          # baseline slope
            rows[4, 1] = middle
        else:                                       # none of its own: a stand-in, replaced by the check of parallel
            rows[3] = rows[1]                       # trends (its_series), or NaN (SegmentedSeries.fit)
        if self.seasonal == "months":               # levels averaged over the year, as Fourier terms average out
            rows[4, seasons_from:] = 1 / cycle
        rows[5] = rows[4] + rows[0]                 # the fitted level with the change
        rows[6] = rows[5]                           # less the baseline period's level, at its mean time
        rows[6, 0], rows[6, seasons_from:] = 0, 0
        if trend:
            rows[6, 1] = middle - t[post == 0].mean()
        self.rows = rows
        # the comparison's (or the exposure's) part of the levels the contrasts 4-6 name: over the horizon, and
        # over the baseline
        self.constants = np.zeros(len(CONTRASTS))
        if self.controlled or self.offset.any():
            horizon = (t >= 0) & (t < self.horizon)
            ahead = self.offset[horizon].mean() if horizon.any() else self.offset[self.after].mean()
            self.constants[4:6] = ahead
            self.constants[6] = ahead - self.offset[~self.after].mean()

    def _design(self, t, after, seasons) -> np.ndarray:
        """The design's columns: intercept, trend (not for a controlled series), after, trend after, seasons."""
        t, after = np.asarray(t, dtype=float), np.asarray(after, dtype=float)
        trend = [] if self.controlled else [t]
        return np.column_stack([np.ones(len(t)), *trend, after, t * after,
                                *_season_columns(seasons, self.cycle, self.seasonal)])

    def offset_at(self, t) -> np.ndarray:
        """The comparison on the analysis scale at times ``t`` (0 for a series without one): what a path drawn
        from :meth:`regressors` adds to be the organization's level. Between the comparison's periods it is
        interpolated, and beyond them held at the nearest one.

        Parameters
        ----------
        t : array_like of int
            Times, as :func:`positions` gives them.

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(-6, 6)
        >>> phases = np.where(t < 0, "before", "after")
        >>> series = SegmentedSeries(np.full(12, 10.0) + (t >= 0), t, phases, (t % 12) + 1, 12,
        ...                          comparison=np.full(12, 5.0))
        >>> np.round(series.offset_at([-1, 0, 99]), 3).tolist()
        [1.609, 1.609, 1.609]
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if not self.offset.any():
            return np.zeros(len(t))
        return np.interp(t, self.t, self.offset)

    def regressors(self, t, seasons, changed: bool = True) -> np.ndarray:
        """The design's rows at times ``t`` (with their ``seasons``) after adoption, with the change or, without
        ``changed``, as the counterfactual: the baseline trend carried on.

        Parameters
        ----------
        t : array_like of int
            Times after the transition.
        seasons : array_like of int
            Their months or quarters.
        changed : bool, default True
            With the level and slope change, or without (the counterfactual).

        Returns
        -------
        numpy.ndarray, shape (len(t), p)
            Rows of the design; times the coefficients, the fitted or counterfactual path.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(-6, 6)
        >>> series = SegmentedSeries(np.linspace(10, 12, 12), t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12)
        >>> series.regressors([0, 1], [1, 2]).tolist()
        [[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]]
        >>> series.regressors([0, 1], [1, 2], changed=False).tolist()
        [[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
        """
        return self._design(t, np.full(len(np.atleast_1d(t)), 1.0 if changed else 0.0), seasons)

    def inflation_design(self) -> tuple[np.ndarray, np.ndarray]:
        """The design the SE inflation factor is read on: this one without its missing periods.

        The factor measures how much the estimated phi spreads the t ratio, a property of how many periods
        lie on each side and how far apart the sides are, barely of which single months are missing; read on
        the gap-free design with the same counts, series that differ only in their gaps share one curve.
        For a series without missing periods this is its own design.

        Returns
        -------
        X : numpy.ndarray, shape (n, p)
            The design over the gap-free times.
        t : numpy.ndarray of int
            Those times.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.r_[-6:-2, -1:6]  # one month missing before adoption
        >>> series = SegmentedSeries(np.linspace(10, 12, 11), t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12)
        >>> X, times = series.inflation_design()
        >>> len(series.t), len(times)
        (11, 11)
        """
        gap, first_season = self._inflation_layout()
        t = np.r_[np.arange(-gap - self.n_before, -gap), np.arange(self.n_after)]
        seasons = (t + first_season) % self.cycle + 1
        return self._design(t, (t >= 0).astype(float), seasons), t

    def _inflation_layout(self) -> tuple[int, int]:
        """The gap between the sides (in periods) and the season at t = 0 (from 0): with the counts, the
        seasonality and the contrast, what the inflation design is made of."""
        gap = -int(self.t[~self.after].max()) - 1
        return gap, (int(self.seasons[0]) - 1 - int(self.t[0])) % self.cycle

    def _inflation_key(self) -> tuple:
        """Equal for series whose :meth:`inflation_design` and effect contrast are equal: one curve serves them."""
        gap, first_season = self._inflation_layout()
        return (self.n_before, self.n_after, gap, self.cycle, self.seasonal, first_season if self.seasonal else 0,
                self.rows[0].tobytes())

    def seasonal_pattern_p(self) -> float:
        """p-value of a yearly pattern in the months before adoption (NaN with fewer than two years of them).

        The baseline months alone, fitted with a trend and two harmonic pairs (one and three for a quarterly
        series) by the same GLS with AR(1) errors; the Wald F test of the seasonal terms. A screen for the
        analyst, shown in a note, not a test casekit acts on: seasonality is a setting decided beforehand.

        Returns
        -------
        float
            The F test's p-value, or NaN.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(-36, 12)
        >>> month = (t % 12) + 1
        >>> values = 10 + np.sin(2 * np.pi * month / 12) + np.random.default_rng(2).normal(0, 0.2, 48)
        >>> series = SegmentedSeries(values, t, np.where(t < 0, "before", "after"), month, 12)
        >>> series.seasonal_pattern_p() < 0.001
        True
        """
        before = ~self.after
        if before.sum() < 2 * self.cycle:
            return float("nan")
        t, seasons = self.t[before], self.seasons[before]
        X = np.column_stack([np.ones(len(t)), t.astype(float), *_season_columns(seasons, self.cycle, 2)])
        q = X.shape[1] - 2
        if before.sum() - X.shape[1] < 4:
            return float("nan")
        contrasts = np.eye(X.shape[1])[2:]
        _, _, _, beta, cov = ar1_estimates_many(self.target[before][None], X, t, contrasts)
        b, V = beta[0, 2:], cov[0, 2:, 2:]
        try:
            f = float(b @ np.linalg.solve(V, b)) / q
        except np.linalg.LinAlgError:
            return float("nan")
        return float(stats.f.sf(f, q, before.sum() - X.shape[1]))

    def design_key(self) -> tuple:
        """Equal for series whose regressors and contrasts are equal: they can be fitted in one stack.

        Returns
        -------
        tuple
            Hashable; equal keys, equal designs.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(-6, 6)
        >>> phases, seasons = np.where(t < 0, "before", "after"), (t % 12) + 1
        >>> a = SegmentedSeries(np.linspace(10, 12, 12), t, phases, seasons, 12)
        >>> b = SegmentedSeries(np.linspace(5, 3, 12), t, phases, seasons, 12)
        >>> a.design_key() == b.design_key()
        True
        """
        return self.X.shape, self.X.tobytes(), (self.t - self.t[0]).tobytes(), self.rows.tobytes()

    def fit(self, estimate, se, phi, p_values, critical, log_ratio, log_ratio_se, inflation, bootstrap, beta,
            cov) -> ItsFit:
        """The ItsFit of this series from its fitted contrasts (a controlled series fitted without the bootstrap has
        no check of parallel trends: its pre_slope is NaN).

        Parameters
        ----------
        estimate, se, p_values, critical : array_like, shape (k,)
            Per contrast of :data:`CONTRASTS`.
        phi : float
            The AR(1) coefficient.
        log_ratio, log_ratio_se : float
            The raw scale's log ratio and its standard error (NaN on the log scale).
        inflation : float
            The standard error inflation factor.
        bootstrap : bool
            Whether ``p_values`` and ``critical`` come from the bootstrap.
        beta, cov : array_like
            The coefficients and their covariance.

        Returns
        -------
        ItsFit

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(-6, 6)
        >>> series = SegmentedSeries(np.linspace(10, 12, 12), t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12)
        >>> k = len(CONTRASTS)
        >>> fit = series.fit(np.zeros(k), np.ones(k), 0.2, np.ones(k), np.full(k, 2.0), np.nan, np.nan, 1.1, False,
        ...                  np.zeros(4), np.eye(4))
        >>> fit.estimate["level"], fit.critical["effect"]
        (0.0, 2.0)
        """
        if self.controlled and not bootstrap:
            estimate, se, p_values = (np.array(v, dtype=float) for v in (estimate, se, p_values))
            estimate[3] = se[3] = p_values[3] = np.nan
        return ItsFit(
            n_before=self.n_before, n_after=self.n_after, scale=self.scale, horizon=self.horizon, phi=float(phi),
            estimate=dict(zip(CONTRASTS, map(float, np.asarray(estimate) + self.constants))),
            se=dict(zip(CONTRASTS, map(float, se))),
            p_value=dict(zip(CONTRASTS, map(float, p_values))), critical=dict(zip(CONTRASTS, map(float, critical))),
            log_ratio=float(log_ratio), log_ratio_se=float(log_ratio_se), inflation=float(inflation),
            bootstrap=bootstrap, beta=np.asarray(beta, dtype=float), cov=np.asarray(cov, dtype=float),
            controlled=self.controlled,
        )


SHARED_DESIGN = 8  # series on one design are fitted as one stack; fewer are stacked with others of their shape


def its_estimates(series: list[SegmentedSeries], alpha: float = 0.05) -> list[ItsFit]:
    """:func:`its_arrays` without the bootstrap, for many series at once (the cross-case inputs).

    The series that share a design (the same times around adoption, so the same regressors) are fitted
    together, as one stack of GLS fits; series with a design of their own (their own span and gaps) are
    stacked with the others of the same shape, each on its own design. The results are those of fitting
    each series alone.

    Parameters
    ----------
    series : list of SegmentedSeries
        The series.
    alpha : float, default 0.05
        1 − the intervals' confidence (t on the residual degrees of freedom).

    Returns
    -------
    list of ItsFit
        One per series, in order, without the bootstrap.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(-12, 12)
    >>> phases, seasons = np.where(t < 0, "before", "after"), (t % 12) + 1
    >>> rng = np.random.default_rng(4)
    >>> many = [SegmentedSeries(10 + (t >= 0) + rng.normal(0, 0.3, 24), t, phases, seasons, 12) for _ in range(3)]
    >>> fits = its_estimates(many)
    >>> len(fits), all(fit.scale == "log" for fit in fits)
    (3, True)
    """
    if any(one.counts is not None for one in series):  # count series are fitted by their own model, one by one
        fits = [_count_fit(one, alpha, 0, bootstrap=False) if one.counts is not None else None for one in series]
        rest = [i for i, fit in enumerate(fits) if fit is None]
        for i, fit in zip(rest, its_estimates([series[i] for i in rest], alpha) if rest else []):
            fits[i] = fit
        return fits
    groups: dict = {}
    for position, one in enumerate(series):
        groups.setdefault(one.design_key(), []).append(position)
    batches, alone = [], {}
    for members in groups.values():
        first = series[members[0]]
        if len(members) < SHARED_DESIGN:
            alone.setdefault(first.X.shape, []).extend(members)
            continue
        fitted = ar1_estimates_many(np.stack([series[m].target for m in members]), first.X, first.t, first.rows)
        batches.append((members, *fitted, first.rows))
    for members in alone.values():
        rows = np.stack([series[m].rows for m in members])
        fitted = ar1_estimates_stacked(np.stack([series[m].target for m in members]),
                                       np.stack([series[m].X for m in members]),
                                       np.stack([series[m].t for m in members]), rows)
        batches.append((members, *fitted, rows))
    inflation = _inflation_factors(series, batches)
    # the p-values of every batch at once: scipy's distributions cost a call's overhead per call, not per value
    ratios = np.concatenate([estimate / se for _, estimate, se, *_ in batches]) if batches else np.zeros((0, 1))
    dfs = np.concatenate([np.full((len(members), 1), _residual_df(series[members[0]])) for members, *_ in batches]
                         ) if batches else np.zeros((0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_values = 2 * stats.t.sf(np.abs(ratios), dfs)
    fits = [None] * len(series)
    at = 0
    for members, estimate, se, phi, beta, cov, rows in batches:
        critical = np.full(len(CONTRASTS), _t_quantile(_residual_df(series[members[0]]), 1 - alpha / 2))
        raw = np.array([series[m].scale == "raw" for m in members])
        levels = estimate + np.stack([series[m].constants for m in members])
        log_ratio, log_ratio_se = _log_ratios(raw, levels, cov, rows)
        for i, m in enumerate(members):
            fits[m] = series[m].fit(estimate[i], se[i], phi[i], p_values[at + i], critical, log_ratio[i],
                                    log_ratio_se[i], inflation[m], bootstrap=False, beta=beta[i], cov=cov[i])
        at += len(members)
    return fits


def _residual_df(series: SegmentedSeries) -> int:
    n, p = series.X.shape
    return n - p


def _log_ratios(raw: np.ndarray, estimate: np.ndarray, cov: np.ndarray, rows: np.ndarray):
    """The log ratio of the fitted to the counterfactual level, with its delta-method SE, for the raw-scale
    series of a batch (NaN for the others); ``rows`` are the contrasts, (k, p) for all or (B, k, p)."""
    log_ratio, log_ratio_se = np.full(len(raw), np.nan), np.full(len(raw), np.nan)
    raw = raw & (estimate[:, 4] > 0) & (estimate[:, 5] > 0)
    if raw.any():
        fitted_row, counterfactual_row = (rows[raw, 5], rows[raw, 4]) if rows.ndim == 3 else (rows[5], rows[4])
        gradient = fitted_row / estimate[raw, 5:6] - counterfactual_row / estimate[raw, 4:5]
        log_ratio[raw] = np.log(estimate[raw, 5] / estimate[raw, 4])
        log_ratio_se[raw] = np.sqrt(np.maximum(np.einsum("bi,bij,bj->b", gradient, cov[raw], gradient), 0))
    return log_ratio, log_ratio_se


def _inflation_factors(series: list[SegmentedSeries], batches) -> np.ndarray:
    """Each series' SE inflation factor, read once per inflation design for all the series that share it
    (series whose designs differ only in their gaps share one)."""
    phi = np.empty(len(series))
    for members, _, _, fitted_phi, *_ in batches:
        phi[members] = fitted_phi
    groups: dict = {}
    for position, one in enumerate(series):
        groups.setdefault(one._inflation_key(), []).append(position)
    factors = np.empty(len(series))
    for members in groups.values():
        first = series[members[0]]
        points = np.array([len(series[m].target) for m in members])
        factors[members] = se_inflation(*first.inflation_design(), first.rows[0], _upper_phi(phi[members], points))
    return factors


def its(values, periods, start, transition_months: int = 0, seasonal: bool | int | str = False,
        log: bool | None = None, alpha: float = 0.05, horizon_months: int = HORIZON_MONTHS,
        n_boot: int = 999, comparison=None) -> ItsResult:
    """Interrupted time series: the change at adoption beyond the baseline trend.

    Fits ``y_t = b0 + b1 t + b2 post_t + b3 t·post_t (+ season) + e_t`` to
    the periods before and after the adoption (the transition window left
    out), with ``t`` counted in periods from the first post-transition
    period and AR(1) errors (:func:`casekit.stats.ar1.ar1_test`): generalized
    least squares, the autocorrelation estimated without its small-sample
    bias, and p-values and intervals from a parametric bootstrap of the t
    statistic, so that their error rate holds for autocorrelated monthly
    KPIs of realistic length (docs/methods.md, "Inside one case").

    Parameters
    ----------
    values : array_like
        The KPI's values.
    periods : sequence of str or pandas.Period
        Their periods (``YYYY-MM`` or ``YYYY-Qn``; one frequency). Missing
        periods are gaps: the points either side are not neighbours.
    start : str or pandas.Period
        The adoption month.
    transition_months : int
        Months after ``start`` left out of the fit.
    seasonal : bool, int or "months"
        A yearly cycle: ``True`` or a number K for K pairs of Fourier terms
        (sin and cos of k·2π·month/12, k = 1..K), ``"months"`` for a dummy per
        month (quarter) but the first; ``False`` for none.
    log : bool, optional
        Fit log(y), so that changes are relative (reported in percent). By
        default log when all values are positive.
    alpha : float
        1 − confidence level.
    horizon_months : int
        The effect is averaged over this many months after the transition
        (12: the first year; in quarters for a quarterly KPI).
    n_boot : int
        Bootstrap replicates.
    comparison : array_like, optional
        A comparison unit's values of the same KPI, one per period (NaN where
        it has none): a business unit that did not adopt, a sister
        organization, a benchmark. The fit is then *controlled*: the series
        less the comparison (their log ratio on the log scale),
        ``y_t − c_t = b0 + b2 post_t + b3 t·post_t (+ season) + e_t``, on the
        periods both measured, with no trend of its own before adoption: the
        comparison carries the trend the organization would have followed
        (parallel trends), and a shock that hits both at adoption cancels.
        ``pre_slope`` is then the trend of the gap before adoption, the check
        of that assumption (its p-value from the same calibrated test).

    Returns
    -------
    ItsResult
        ``effect`` (b2 + b3·(H − 1)/2: the average, over the first H
        post-transition periods, of the difference between the series and
        its baseline trend extrapolated), ``level_change`` (b2, the jump at
        the first post-transition period) and ``slope_change`` (b3, per
        period), each with CI and p-value; ``pre_slope`` (the baseline
        trend); ``autocorrelation`` (phi); in percent on the log scale
        (100·(exp(b) − 1)) or in the KPI's unit otherwise. Raw, not
        direction-aware: a drop in defects is negative.

    Raises
    ------
    ValueError
        With fewer than 3 points on either side or mixed frequencies.

    Notes
    -----
    Segmented regression as in Wagner et al. (2002) and Bernal, Cummins &
    Gasparrini (2017). A trend that was already under way before adoption
    and simply continues has b2 = b3 = 0 and no effect, where a plain
    before/after comparison of means would call it a change. A quarterly
    KPI's first post-transition period is the first quarter that begins at
    or after the end of the transition.

    References
    ----------
    Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression
    analysis of interrupted time series studies in medication use research.
    J Clin Pharm Ther 27:299–309.
    Bernal JL, Cummins S, Gasparrini A (2017). Interrupted time series
    regression for the evaluation of public health interventions: a tutorial.
    Int J Epidemiol 46:348–355.

    Examples
    --------
    A monthly series that drops by 20% at adoption, with 2% noise:

    >>> import numpy as np, pandas as pd, casekit as ck
    >>> periods = [str(p) for p in pd.period_range("2020-01", "2023-12", freq="M")]
    >>> noise = np.exp(np.random.default_rng(1).normal(0, 0.02, 48))
    >>> y = np.where(np.arange(48) < 24, 10.0, 8.0) * noise
    >>> res = ck.its(y, periods, start="2022-01")
    >>> res.effect_ci_low < -20 < res.effect_ci_high, res.slope_p > 0.05
    (True, True)

    A steady 1% monthly fall that simply continues is no effect of adoption:

    >>> trend = 10 * 0.99 ** np.arange(48) * noise
    >>> res = ck.its(trend, periods, start="2022-01")
    >>> res.effect_ci_low < 0 < res.effect_ci_high
    True

    A market-wide 15% fall at adoption, which a unit that did not adopt shows too, is no effect once the
    comparison is in the model:

    >>> shock = np.where(np.arange(48) < 24, 1.0, 0.85)
    >>> rng = np.random.default_rng(2)
    >>> ours, theirs = 10 * shock * noise, 12 * shock * np.exp(rng.normal(0, 0.02, 48))
    >>> ck.its(ours, periods, start="2022-01").effect_p < 0.05
    True
    >>> ck.its(ours, periods, start="2022-01", comparison=theirs).effect_p > 0.05
    True
    """
    fit = its_fit(values, periods, start, transition_months, seasonal, log, alpha, horizon_months, n_boot=n_boot,
                  comparison=comparison)
    effect, level, slope = fit.shown("effect"), fit.shown("level"), fit.shown("slope")
    return ItsResult(
        n_before=fit.n_before, n_after=fit.n_after, scale=fit.scale,
        effect=effect[0], effect_ci_low=effect[1], effect_ci_high=effect[2], effect_p=effect[3],
        level_change=level[0], level_ci_low=level[1], level_ci_high=level[2], level_p=level[3],
        slope_change=slope[0], slope_ci_low=slope[1], slope_ci_high=slope[2], slope_p=slope[3],
        pre_slope=fit.shown("pre_slope")[0], pre_slope_p=fit.p_value["pre_slope"],
        autocorrelation=fit.phi, horizon=fit.horizon, seasonal=seasonal,
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
               maxlags: int | None = None, positions=None) -> MeanShift:
    """Compare a KPI's mean level after adoption with its baseline (descriptive; not the verdict).

    Regresses the KPI on an after-adoption indicator, ``y = a + b·after + e``,
    with Newey–West standard errors, as Stata's ``newey`` (Bartlett kernel,
    n/(n − 2) correction, t on n − 2 df), written out for this two-group
    design; tests/test_timeseries.py checks it against statsmodels' HAC. This is the naive comparison: it reads a trend that was
    under way before adoption as a change, and with 24 monthly points a side
    its p-values are too small for autocorrelated KPIs (docs/methods.md). casekit's
    verdicts come from :func:`its`; this gives the levels either side.

    ``positions`` (the periods' integer times, before then after) makes the
    lags count in periods: points either side of a gap are not neighbours.

    On the log scale (the default for positive values) ``baseline`` and
    ``post`` are geometric means and ``change_pct`` = 100·(post/baseline − 1)
    with its CI. On the raw scale (values of zero or below) they are
    arithmetic means and ``log_ratio`` = log(post/baseline), with the delta
    method's standard error from both means and their covariance; the
    percent change and its CI follow from it, so they account for the
    baseline's uncertainty. ``diff`` = post − baseline, with ``diff_se`` its
    standard error (delta method on the log scale).

    Parameters
    ----------
    before, after : array_like of float
        The KPI's values before and after adoption.
    log : bool, optional
        Compare on the log scale; by default when every value is positive.
    alpha : float, default 0.05
        1 − the intervals' confidence.
    maxlags : int, optional
        The HAC bandwidth; by default :func:`newey_west_lags`.
    positions : array_like of int, optional
        The periods' integer times, before then after.

    Returns
    -------
    MeanShift
        ``baseline``, ``post``, ``change_pct`` with ``change_ci_low/high``,
        ``diff`` with its CI and SE, ``p_value``, ``log_ratio`` and its SE, and
        ``post_ci_low/high``.

    Examples
    --------
    >>> shift = mean_shift([10, 11, 10, 12, 11, 10], [8, 9, 8, 8, 9, 7])
    >>> shift.scale, round(shift.change_pct, 1), shift.p_value < 0.05
    ('log', -23.5, True)
    """
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    n_before, n_after = len(before), len(after)
    if n_before < 3 or n_after < 3:
        raise ArgumentError(f"need at least 3 periods before and after, got {n_before} and {n_after}")
    y = np.r_[before, after]
    scale = _scale(y, log)
    target = np.log(y) if scale == "log" else y
    a, post_level = target[:n_before].mean(), target[n_before:].mean()
    b = post_level - a
    positions = np.arange(len(y)) if positions is None else np.asarray(positions, dtype=np.int64)
    cov = _hac_two_groups(target - np.r_[np.full(n_before, a), np.full(n_after, post_level)], n_before,
                          newey_west_lags(len(y)) if maxlags is None else maxlags, positions)
    # an exact fit leaves variances of rounding size, possibly just below zero
    se_b, se_post = np.sqrt(max(cov[1, 1], 0.0)), np.sqrt(max(cov[0, 0] + 2 * cov[0, 1] + cov[1, 1], 0.0))
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
        log_ratio = log_se = np.nan
        change = np.full(3, np.nan)
        if a > 0 and post > 0:
            var_a, var_post, cov_a_post = cov[0, 0], se_post**2, cov[0, 0] + cov[0, 1]
            log_ratio = np.log(post / a)
            log_se = np.sqrt(max(var_post / post**2 + var_a / a**2 - 2 * cov_a_post / (a * post), 0.0))
            change = 100 * np.expm1(log_ratio + np.array([0, -crit, crit]) * log_se)
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


def _hac_two_groups(residuals: np.ndarray, n_before: int, maxlags: int, positions: np.ndarray) -> np.ndarray:
    """Newey–West covariance of (a, b) in y = a + b·after, with the n/(n − 2) correction.

    Lag l pairs the points whose positions are l apart, so a gap is not bridged.
    """
    n = len(residuals)
    X = np.column_stack([np.ones(n), np.r_[np.zeros(n_before), np.ones(n - n_before)]])
    scores = X * residuals[:, None]
    meat = scores.T @ scores
    for lag in range(1, maxlags + 1):
        later = np.searchsorted(positions, positions + lag).clip(max=n - 1)
        pairs = positions[later] == positions + lag
        gamma = scores[later[pairs]].T @ scores[pairs]
        meat += (1 - lag / (maxlags + 1)) * (gamma + gamma.T)
    bread = np.linalg.inv(X.T @ X)
    return bread @ meat @ bread * n / (n - 2)


@lru_cache(maxsize=512)
def _t_quantile(df: int, q: float) -> float:
    return float(stats.t.ppf(q, df))
