"""Power before measuring: how large a change casekit's own tests would find, and how often.

The planner simulates casekit's test itself, not an idealised one. A KPI's series on the log scale is
``trend + change + AR(1) noise``; the generalized least squares estimate of a contrast is linear in the
series, and its standard error does not depend on the trend or the change, so one stack of noise series
gives the estimate's sampling error and standard error for every effect size at once: the test of an
effect ``d`` rejects a series when ``|(error + d) / se| > q``. The critical value ``q`` is the one casekit's
bootstrap uses for that series: the 1 − alpha quantile of the null ``|t|`` at the series' own estimated
autocorrelation (one standard error higher below 24 periods a side, as :func:`casekit.stats.ar1.ar1_test`),
read off a curve the planner simulates for the design. The rejection rate over the stack is the power.

Across cases, the planner simulates portfolios whose organizations' estimates come from the same stack,
around true effects spread by ``tau``, and tests each as casekit's cross-case test does (DerSimonian–Laird
with the cluster-robust CR2 variance and Satterthwaite degrees of freedom).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from .ar1 import ar1_estimates_many, ar1_series, phi_above, se_inflation
from .meta import robust_p_values
from .timeseries import CAREFUL_POINTS, CONTRASTS, HORIZON_MONTHS, INFLATION_PHI_MARGIN, SegmentedSeries

SIMULATIONS = 4000
CURVE_SIMULATIONS = 2000
PHI_GRID = np.round(np.linspace(-0.5, 0.95, 12), 4)  # the critical value's curve over phi
POWER_COLUMNS = ["months_before", "months_after", "contrast", "effect", "change", "power"]


def _design(months_before, months_after, transition, cycle, seasonal, horizon_months, comparison):
    """The segmented design casekit fits: times around adoption (0 = the first month after the transition)."""
    t = np.r_[np.arange(-transition - months_before, -transition), np.arange(months_after)]
    phases = np.where(t < 0, "before", "after")
    seasons = (t % cycle) + 1
    return SegmentedSeries(np.zeros(len(t)), t, phases, seasons, cycle, seasonal, log=False,
                           horizon_months=horizon_months,
                           comparison=None if comparison is None else np.ones(len(t)))


def _ar1(shocks, positions, phi):
    """AR(1) series with innovations of sd 1 (:func:`casekit.stats.ar1.ar1_series`, which has variance 1)."""
    return ar1_series(shocks, positions, phi) / np.sqrt(1 - phi**2)


def _errors(series, phi, noise, comparison, rows, count, rng):
    """The GLS estimation errors and standard errors of the contrasts ``rows``, and the estimated phi, of
    ``count`` noise series on the design (the gap's noise with a comparison): (error, se, phi_hat)."""
    scale = noise * (np.sqrt(2 - 2 * comparison) if comparison is not None else 1.0)
    noise_series = scale * _ar1(rng.standard_normal((count, len(series.t))), series.t, phi)
    error, se, phi_hat, _, _ = ar1_estimates_many(noise_series, series.X, series.t, rows)
    return error, se, phi_hat


def power_table(months_before: int, months_after: int, phi: float, noise: float, effects, transition: int = 3,
                cycle: int = 12, seasonal=0, horizon_months: int = HORIZON_MONTHS, comparison: float | None = None,
                alpha: float = 0.05, kpis: int = 1, contrast="effect", simulations: int = SIMULATIONS,
                seed: int = 0) -> pd.DataFrame:
    """The power of casekit's test of one KPI in one case, for each effect size (and each contrast).

    Parameters
    ----------
    months_before, months_after : int
        Periods measured before adoption and after the transition.
    phi : float
        The month-to-month autocorrelation of the KPI's noise (of its gap to the comparison, with one).
    noise : float
        The sd of the noise's innovations on the log scale (0.1: about 10% month to month).
    effects : array_like of float
        Effects as log ratios (``log(0.8)``: 20% lower), of the contrast tested.
    transition : int
        Months left out after adoption.
    cycle : int
        Periods a year (12 or 4).
    seasonal : int or {"months"}
        The seasonal terms fitted (0: none).
    horizon_months : int
        The effect is averaged over this many months after the transition.
    comparison : float, optional
        With a comparison unit whose noise correlates this much with the KPI's (same sd): the controlled
        design, whose noise is the gap's, ``noise · √(2 − 2·comparison)``.
    alpha : float
        The level.
    kpis : int
        KPIs tested in the case: the test is planned at ``alpha / kpis`` (Holm's first step, as Bonferroni).
    contrast : {"effect", "level", "slope"} or list of them
        What is tested: the first-year effect, the level change at adoption, or the change of slope; several
        are worked out from one simulation.
    simulations : int
        Series simulated.
    seed : int
        Of the simulation.

    Returns
    -------
    pandas.DataFrame
        ``months_before, months_after, contrast, effect, change`` (percent), ``power``: one row per effect,
        for each contrast in turn.

    Examples
    --------
    >>> import numpy as np
    >>> table = power_table(24, 24, phi=0.4, noise=0.1, effects=[0.0, np.log(0.8)])
    >>> table["power"].round(2).tolist()
    [0.06, 0.44]
    """
    contrasts = [contrast] if isinstance(contrast, str) else list(contrast)
    if not set(contrasts) <= {"effect", "level", "slope"} or not contrasts:
        raise ArgumentError(f"contrast is effect, level or slope, got {contrast!r}")
    if not -1 < phi < 1 or noise <= 0 or min(months_before, months_after) < 3 or kpis < 1:
        raise ArgumentError("phi lies strictly between -1 and 1, noise is above 0, at least 3 months a side are "
                            "measured and at least one KPI is tested")
    series = _design(months_before, months_after, transition, cycle, seasonal, horizon_months, comparison)
    rows = series.rows[[CONTRASTS.index(name) for name in contrasts]]
    rng = np.random.default_rng(seed)
    error, se, phi_hat = _errors(series, phi, noise, comparison, rows, simulations, rng)
    critical = _critical(series, rows, phi_hat, alpha / kpis, rng)
    effects = np.atleast_1d(np.asarray(effects, dtype=float))
    tables = []
    for j, name in enumerate(contrasts):
        with np.errstate(invalid="ignore", divide="ignore"):
            power = (np.abs((error[:, j:j + 1] + effects[None, :]) / se[:, j:j + 1])
                     > critical[:, j:j + 1]).mean(axis=0)
        tables.append(pd.DataFrame({"months_before": months_before, "months_after": months_after, "contrast": name,
                                    "effect": effects, "change": 100 * np.expm1(effects), "power": power}))
    return pd.concat(tables, ignore_index=True)[POWER_COLUMNS]


def _critical(series, rows, phi_hat, alpha, rng):
    """Each simulated series' critical value for each contrast (S, c): the null |t| quantile at its own phi
    estimate (plus casekit's margin below :data:`CAREFUL_POINTS` a side), interpolated on a simulated curve
    over phi."""
    quantiles = np.empty((len(PHI_GRID), len(rows)))
    shocks = rng.standard_normal((CURVE_SIMULATIONS, len(series.t)))  # the same at every phi: a smooth curve
    for i, phi in enumerate(PHI_GRID):
        estimate, se, _, _, _ = ar1_estimates_many(_ar1(shocks, series.t, phi), series.X, series.t, rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            quantiles[i] = np.quantile(np.abs(estimate / se), 1 - alpha, axis=0)
    at = phi_hat
    if min(series.n_before, series.n_after) < CAREFUL_POINTS:
        at = phi_above(phi_hat, len(series.t), 1.0)
    return np.column_stack([np.interp(at, PHI_GRID, quantiles[:, j]) for j in range(len(rows))])


EFFECT_GRID = np.r_[0.0, np.geomspace(0.002, 5.0, 240)]  # log ratios, each way


def detectable_effect(months_before: int, months_after: int, phi: float, noise: float, power: float = 0.8,
                      **design) -> float:
    """The smallest effect (a log ratio, either way) casekit's test finds with this power.

    Parameters
    ----------
    months_before, months_after : int
        Periods measured before adoption and after the transition.
    phi, noise : float
        As :func:`power_table`.
    power : float
        The power asked for.
    **design
        Any other argument of :func:`power_table` (``transition``, ``comparison``, ``kpis``, ``contrast``...).

    Returns
    -------
    float
        The log ratio ``d``: a fall to ``exp(-d)`` or a rise to ``exp(d)`` of the level is found that often
        (on average over the two); ``inf`` when no effect on the grid (up to a factor of 148) is.

    Examples
    --------
    >>> import numpy as np
    >>> d = detectable_effect(24, 24, phi=0.4, noise=0.1)
    >>> round(100 * (1 - np.exp(-d)))  # a fall of this many percent
    30
    """
    table = power_table(months_before, months_after, phi, noise, np.r_[-EFFECT_GRID[::-1], EFFECT_GRID], **design)
    return smallest_detectable(table["power"].to_numpy(), power)


def smallest_detectable(powers, power: float = 0.8, grid=EFFECT_GRID) -> float:
    """The smallest effect on ``grid`` found with this power, from :func:`power_table`'s (or
    :func:`count_power_table`'s, on :data:`COUNT_GRID`) powers at ``np.r_[-grid[::-1], grid]``: a fall and a rise
    of each size, averaged.

    Parameters
    ----------
    powers : array_like
        The powers, falls first (largest first), then rises.
    power : float
        The power asked for.
    grid : array_like
        The sizes of change (log ratios), smallest first.

    Returns
    -------
    float
        The log ratio, interpolated on the grid; ``inf`` when none is found that often.

    Examples
    --------
    >>> import numpy as np
    >>> powers = np.r_[np.linspace(1, 0.05, len(EFFECT_GRID)), np.linspace(0.05, 1, len(EFFECT_GRID))]
    >>> bool(0 < smallest_detectable(powers) < 5)
    True
    >>> round(smallest_detectable([1.0, 0.9, 0.5, 0.2, 0.06, 0.06, 0.2, 0.5, 0.9, 1.0], grid=COUNT_GRID), 3)
    0.35
    """
    powers, grid = np.asarray(powers, dtype=float), np.asarray(grid, dtype=float)
    n = len(grid)
    found = (powers[:n][::-1] + powers[n:]) / 2
    above = np.flatnonzero(found >= power)
    if not len(above):
        return float("inf")
    first = above[0]
    if first == 0:
        return float(grid[0])
    return float(np.interp(power, found[first - 1:first + 1], grid[first - 1:first + 1]))


def pooled_power(k, effect, months_before: int, months_after: int, phi: float, noise: float, tau: float = 0.0,
                 alpha: float = 0.05, portfolios: int = 2000, seed: int = 0, **design) -> np.ndarray:
    """The power of casekit's cross-case test of a KPI pooled from ``k`` organizations.

    Each simulated portfolio draws its organizations' estimates from the single-case simulation of
    :func:`power_table` (each with the standard error casekit pools by, inflated as
    :func:`casekit.stats.ar1.se_inflation` says), around true effects spread by ``tau``, and tests their
    mean as :func:`casekit.compare_portfolio` does: DerSimonian–Laird with the cluster-robust CR2 test
    (:func:`casekit.stats.meta.robust_p_values`).

    Parameters
    ----------
    k : int or array_like of int
        Organizations, each measured on the same design.
    effect : float
        The average effect, a log ratio.
    months_before, months_after, phi, noise : float
        As :func:`power_table`, for every organization.
    tau : float
        The between-organization sd of the true effect.
    alpha : float
        The level.
    portfolios : int
        Portfolios simulated for each ``k``.
    seed : int
        Of the simulation.
    **design
        Any other argument of :func:`power_table` but ``effects``, ``alpha``, ``kpis`` and ``contrast``.

    Returns
    -------
    numpy.ndarray
        The power for each ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> pooled_power([4, 16], np.log(0.9), 24, 24, phi=0.4, noise=0.1, tau=0.05).round(1).tolist()
    [0.2, 0.8]
    """
    k = _organizations(k)
    seasonal, cycle = design.get("seasonal", 0), design.get("cycle", 12)
    series = _design(months_before, months_after, design.get("transition", 3), cycle, seasonal,
                     design.get("horizon_months", HORIZON_MONTHS), design.get("comparison"))
    row = series.rows[[0]]
    rng = np.random.default_rng(seed)
    error, se, phi_hat = _errors(series, phi, noise, design.get("comparison"), row, SIMULATIONS, rng)
    return _pooled_rates(series, row[0], error[:, 0], se[:, 0], phi_hat, k, effect, tau, alpha, portfolios, rng)


def _organizations(k) -> np.ndarray:
    k = np.atleast_1d(np.asarray(k, dtype=int))
    if np.any(k < 2):
        raise ArgumentError("pooling needs at least 2 organizations")
    return k


def _pooled_rates(series, row, error, se, phi_hat, k, effect, tau, alpha, portfolios, rng) -> np.ndarray:
    """The share of portfolios of each size in ``k`` whose organizations, drawn from one organization's
    simulated estimation errors and standard errors around true effects spread by ``tau``, casekit's cross-case
    test finds; each standard error inflated as pooling inflates it (:func:`casekit.stats.ar1.se_inflation`)."""
    upper = phi_above(phi_hat, len(series.t), INFLATION_PHI_MARGIN)
    pooled_se = se * se_inflation(*series.inflation_design(), row, upper)
    power = []
    for size in k:
        drawn = rng.integers(0, len(error), (portfolios, size))
        effects = effect + tau * rng.standard_normal((portfolios, size)) + error[drawn]
        power.append(float((robust_p_values(effects, pooled_se[drawn] ** 2) < alpha).mean()))
    return np.array(power)


EVENT_PANELS = 300  # panels simulated for each number of organizations


def event_study_power(k, effect, spread: int, months_before: int, months_after: int, phi: float, noise: float,
                      tau: float = 0.0, never: float = 0.0, alpha: float = 0.05, leads: int = 12, lags: int = 24,
                      panels: int = EVENT_PANELS, seed: int = 0) -> np.ndarray:
    """The power of casekit's event study across ``k`` organizations adopting at different months: its average
    change after adoption (:meth:`casekit.stats.event_study.EventStudy.average`) tested at ``alpha``.

    Each panel's organizations adopt in random months over ``spread`` months (a share ``never`` do not), each
    measured ``months_before`` months before the first adoption month and ``months_after`` after the last, with
    AR(1) noise and a true change ``effect`` from its adoption on, spread across organizations by ``tau``. A
    change that is the same in every month after adoption shifts every estimate after adoption by exactly that
    change and leaves its standard error as it is (the organizations not yet adopting, its comparisons, do not
    have it), so one stack of panels without the change gives the power for any change: the test rejects
    when ``|error + effect| / se`` passes its t quantile. A change shared by every organization in the same
    calendar month (a market's turn) cancels in every comparison and does not enter.

    Parameters
    ----------
    k : int or array_like of int
        Organizations in a panel (10 or more: fewer leave the late months without comparisons).
    effect : float or array_like of float
        The change after adoption, a log ratio.
    spread : int
        Months over which the organizations adopt (2 or more).
    months_before, months_after : int
        Months measured before the first adoption month, and after the last.
    phi, noise : float
        The month-to-month autocorrelation of each organization's noise and its innovations' sd (log scale).
    tau : float
        The between-organization sd of the true change.
    never : float
        The share of organizations that do not adopt within the panel.
    alpha : float
        The level.
    leads, lags : int
        Months before adoption and after it that the event study estimates (the average takes 0 to ``lags``).
    panels : int
        Panels simulated for each ``k``.
    seed : int
        Of the simulation.

    Returns
    -------
    numpy.ndarray
        The power for each ``k`` (rows) and each effect (columns).

    Examples
    --------
    >>> import numpy as np
    >>> power = event_study_power([10, 40], [np.log(0.9)], spread=24, months_before=24, months_after=12,
    ...                           phi=0.4, noise=0.1, panels=100)
    >>> bool(power[1, 0] > power[0, 0])
    True
    """
    from .event_study import event_study  # the estimator planned for (imported only when planning it)

    k = np.atleast_1d(np.asarray(k, dtype=int))
    effects = np.atleast_1d(np.asarray(effect, dtype=float))
    if np.any(k < 3) or spread < 2:
        raise ArgumentError("an event study needs at least 3 organizations adopting over 2 months or more")
    months = months_before + spread + months_after
    rng = np.random.default_rng(seed)
    power = np.zeros((len(k), len(effects)))
    for row, size in enumerate(k):
        errors, ses, criticals = [], [], []
        for _ in range(panels):
            adoption = months_before + rng.integers(0, spread, size)
            adoption = np.where(rng.random(size) < never, months + 1, adoption)
            y = noise * _ar1(rng.standard_normal((size, months)), np.arange(months), phi)
            y += tau * rng.standard_normal((size, 1)) * (np.arange(months)[None, :] >= adoption[:, None])
            fit = event_study(np.repeat(np.arange(size), months), np.tile(np.arange(months), size),
                              np.repeat(adoption, months), y.ravel(), leads=leads, lags=lags, alpha=alpha)
            average = fit.average(0, lags)
            found = average["periods"] > 0 and np.isfinite(average["se"]) and average["se"] > 0
            errors.append(average["estimate"] if found else np.nan)
            ses.append(average["se"] if found else np.nan)
            # the t quantile at the estimate's own effective degrees of freedom, as its interval uses
            criticals.append((average["ci_high"] - average["estimate"]) / average["se"] if found else np.nan)
        error, se, critical = np.array(errors), np.array(ses), np.array(criticals)
        with np.errstate(invalid="ignore"):
            rejected = np.abs(error[:, None] + effects[None, :]) / se[:, None] > critical[:, None]
        power[row] = np.nan_to_num(rejected, nan=0.0).mean(axis=0)  # a panel with no estimate finds nothing
    return power


COUNT_SIMULATIONS = 250  # count series simulated for each change (each is a Poisson fit: no stack serves them all)
COUNT_PHI_GRID = np.round(np.linspace(-0.3, 0.9, 5), 4)  # the count test's critical value's curve over phi
COUNT_CURVE_SIMULATIONS = 600
COUNT_GRID = np.array([0.05, 0.1, 0.2, 0.4, 0.8])  # changes (log ratios, each way) the detectable is read on


def count_power_table(months_before: int, months_after: int, mean: float, dispersion: float, phi: float, effects,
                      transition: int = 3, cycle: int = 12, seasonal=0, horizon_months: int = HORIZON_MONTHS,
                      alpha: float = 0.05, kpis: int = 1, contrast: str = "effect",
                      simulations: int = COUNT_SIMULATIONS, seed: int = 0) -> pd.DataFrame:
    """The power of casekit's test of a count KPI (:func:`casekit.stats.counts.count_test`) in one case.

    Count series are drawn from the model the count test's own bootstrap draws from
    (:func:`casekit.stats.counts.count_replicates`: Poisson around a log-normal AR(1) factor with the given
    dispersion and Pearson residuals' autocorrelation), around a mean count that changes by each effect at
    adoption (or, for ``contrast="slope"``, by that much a month after it), and fitted as the test fits them
    (:func:`casekit.stats.counts.count_fits`). A count's standard error depends on its level, so each change
    gets its own series. Each series' critical value is the one its bootstrap would use: the null ``|t|``
    quantile at its own estimated autocorrelation (one standard error higher below 24 months a side, as
    :func:`casekit.stats.timeseries.its` fits counts), read off a curve simulated over phi for the design.

    Parameters
    ----------
    months_before, months_after : int
        Months measured before adoption and after the transition.
    mean : float
        The mean count a month before adoption.
    dispersion : float
        The counts' variance over their mean (1: Poisson; more when months vary beyond chance).
    phi : float
        The month-to-month correlation of the counts' Pearson residuals.
    effects : array_like of float
        Changes of the mean count as log ratios (``log(0.8)``: 20% fewer).
    transition, cycle, seasonal, horizon_months, alpha, kpis
        As :func:`power_table`.
    contrast : {"effect", "slope"}
        The first-year effect of a change of level, or the change of slope.
    simulations : int or array_like of int
        Series simulated for each change: one number, or one per change.
    seed : int
        Of the simulation.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`power_table`.

    Examples
    --------
    >>> import numpy as np
    >>> table = count_power_table(24, 24, mean=5, dispersion=1.5, phi=0.2, effects=[0.0, np.log(0.6)])
    >>> table["power"].round(2).tolist()
    [0.05, 0.13]
    """
    if contrast not in ("effect", "slope"):
        raise ArgumentError(f"contrast is effect or slope, got {contrast!r}")
    if not -1 < phi < 1 or mean <= 0 or dispersion < 1 or min(months_before, months_after) < 3 or kpis < 1:
        raise ArgumentError("phi lies strictly between -1 and 1, the mean count is above 0, the dispersion is 1 or "
                            "more, at least 3 months a side are measured and at least one KPI is tested")
    from .counts import count_fits, count_replicates  # the count model, loaded only when a count is planned

    series = _design(months_before, months_after, transition, cycle, seasonal, horizon_months, None)
    row = series.rows[[CONTRASTS.index(contrast)]]
    rng = np.random.default_rng(seed)
    effects = np.atleast_1d(np.asarray(effects, dtype=float))
    counts = np.broadcast_to(np.asarray(simulations, dtype=int), effects.shape)
    curve = np.empty(len(COUNT_PHI_GRID))
    for i, grid_phi in enumerate(COUNT_PHI_GRID):  # the bootstrap's null |t| quantile over phi
        same = np.random.default_rng(seed + 1)  # the same draws at every phi: a smooth curve
        null = count_fits(count_replicates(same, COUNT_CURVE_SIMULATIONS, np.full(len(series.t), float(mean)),
                                           dispersion, grid_phi, series.t), series.X, series.t, row)
        with np.errstate(invalid="ignore", divide="ignore"):
            curve[i] = np.quantile(np.abs(null["estimate"][:, 0] / null["se"][:, 0]), 1 - alpha / kpis)
    careful = min(series.n_before, series.n_after) < CAREFUL_POINTS
    shape = series.after.astype(float) if contrast == "effect" else series.t * series.after
    power = np.empty(len(effects))
    for j, effect in enumerate(effects):
        fits = count_fits(count_replicates(rng, int(counts[j]), mean * np.exp(effect * shape), dispersion, phi,
                                           series.t), series.X, series.t, row)
        at = phi_above(fits["phi"], len(series.t), 1.0) if careful else fits["phi"]
        with np.errstate(invalid="ignore", divide="ignore"):
            found = np.abs(fits["estimate"][:, 0] / fits["se"][:, 0]) > np.interp(at, COUNT_PHI_GRID, curve)
        power[j] = found.mean()
    return pd.DataFrame({"months_before": months_before, "months_after": months_after, "contrast": contrast,
                         "effect": effects, "change": 100 * np.expm1(effects), "power": power})[POWER_COLUMNS]


def count_pooled_power(k, effect, months_before: int, months_after: int, mean: float, dispersion: float, phi: float,
                       tau: float = 0.0, alpha: float = 0.05, portfolios: int = 2000, transition: int = 3,
                       simulations: int = COUNT_SIMULATIONS, seed: int = 0) -> np.ndarray:
    """:func:`pooled_power` for a count KPI: portfolios drawn from count series fitted as the count test fits them.

    Parameters
    ----------
    k : int or array_like of int
        Organizations, each measured on the same design.
    effect : float
        The average change of the mean count, a log ratio.
    months_before, months_after, mean, dispersion, phi, transition
        As :func:`count_power_table`, for every organization.
    tau, alpha, portfolios, seed
        As :func:`pooled_power`.
    simulations : int
        Count series simulated.

    Returns
    -------
    numpy.ndarray
        The power for each ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> power = count_pooled_power([4, 16], np.log(0.8), 24, 24, mean=5, dispersion=1.3, phi=0.2, tau=0.05)
    >>> bool(power[0] < power[1])
    True
    """
    from .counts import count_fits, count_replicates

    k = _organizations(k)
    series = _design(months_before, months_after, transition, 12, 0, HORIZON_MONTHS, None)
    row = series.rows[[0]]
    rng = np.random.default_rng(seed)
    fits = count_fits(count_replicates(rng, simulations, mean * np.exp(effect * series.after), dispersion, phi,
                                       series.t), series.X, series.t, row)
    return _pooled_rates(series, row[0], fits["estimate"][:, 0] - effect, fits["se"][:, 0], fits["phi"], k, effect,
                         tau, alpha, portfolios, rng)
