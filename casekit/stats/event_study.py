"""Effects by time since adoption across organizations that adopted at different times.

When organizations adopt at different dates, the ones that have not adopted yet are a natural comparison:
they live through the same calendar (the same market, the same tool migrations) without the change.
:func:`event_study` estimates the effect at each time since adoption, from ``-leads`` to ``lags``, with
the estimator of Callaway & Sant'Anna (2021): for every cohort ``g`` (organizations that adopted at the
same time) and time ``t``, the change of the cohort's KPI from the period before adoption (``g - 1``) to
``t``, minus the same change of the organizations that had not adopted by then (nor by ``g - 1``); then
each time since adoption averages its cohorts, weighted by their organizations.

Unlike a two-way fixed-effects regression with event-time dummies, no organization that has already
adopted ever serves as another's comparison, so effects that grow with time since adoption, or differ
between cohorts, do not bias it (Goodman-Bacon 2021; Sun & Abraham 2021). The leads (times before
adoption) compare cohorts with the not-yet-adopted before anyone adopted: under parallel trends they are
zero, and the test of their level and trend is the pre-trend check (:class:`PreTrendTest`).

Standard errors come from each organization's influence function, summed over every comparison it takes
part in (as treated or as comparison), with the term for the estimated cohort weights: they allow any
correlation over time within an organization. They equal the R package ``did``'s analytical standard
errors (``bstrap = FALSE``, through its Python port ``csdid``) wherever each comparison has two organizations or
more (with one, there is no spread to estimate its noise from, and casekit leaves that cohort out). The intervals use Student's t with the
effective number of organizations behind each estimate, less one (Carter, Schnepel & Steigerwald 2017):
late times since adoption rest on the few cohorts that adopted early and the few organizations that
adopted late, and a normal interval there covers far less than it says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError

# One organization has no spread to estimate its noise from: a comparison of one, or a time since adoption
# that rests on one adopting organization, would look certain
MIN_COMPARISONS = 2
MIN_ADOPTING = 2
EFFECT_COLUMNS = ["event_time", "estimate", "se", "ci_low", "ci_high", "p_value", "cohorts", "organizations"]


@dataclass(frozen=True)
class PreTrendTest:
    """The test that the leads (times before adoption) have no level and no trend.

    Before adoption, a cohort and the organizations not yet adopting should move alike: the leads' average
    and their linear trend over time are both zero. The two are tested jointly, by Hotelling's T² on the
    organizations' influence, as an F with ``df2`` the contributing organizations less two. The usual
    Wald test of every lead at once is badly sized with tens of organizations (its chi-square rejected
    29–72% of true nulls with 20–40 organizations, and its F form up to 9%), where the two contrasts hold
    their level (``tests/event_study_simulation.py``).

    Attributes
    ----------
    statistic : float
        The F statistic (NaN when there is nothing to test).
    df1, df2 : int
        Its degrees of freedom: the contrasts tested (2, or 1 with a single lead) and the organizations
        left over.
    p_value : float
    """

    statistic: float
    df1: int
    df2: int
    p_value: float


@dataclass(frozen=True)
class EventStudy:
    """The effects by time since adoption (returned by :func:`event_study`).

    Attributes
    ----------
    effects : pandas.DataFrame
        One row per time since adoption: ``event_time`` (-1, the reference, is 0 by construction and left
        out), ``estimate, se, ci_low, ci_high, p_value``, ``cohorts`` and ``organizations`` (the adopting
        cohorts and organizations the estimate averages).
    pretrend : PreTrendTest
        The test of the leads' level and trend.
    influence : numpy.ndarray
        Each organization's influence on each estimate (organizations × the rows of ``effects``): any
        average of the estimates has the same average of these as its influence.
    organizations : int
        Organizations that contribute to at least one estimate (treated or comparison).
    alpha : float
    """

    effects: pd.DataFrame
    pretrend: PreTrendTest
    influence: np.ndarray
    organizations: int
    alpha: float

    def average(self, first: int = 0, last: int | None = None) -> dict:
        """The average effect over times since adoption ``first`` to ``last``, with its interval.

        Parameters
        ----------
        first, last : int
            The times since adoption averaged (``last`` default: the last estimated). Times with no estimate
            are left out.

        Returns
        -------
        dict
            ``estimate, se, ci_low, ci_high, p_value`` and ``periods`` (how many times were averaged).

        Examples
        --------
        >>> import numpy as np
        >>> from casekit.stats.event_study import event_study
        >>> rng = np.random.default_rng(0)
        >>> units, times = np.repeat(np.arange(40), 30), np.tile(np.arange(30), 40)
        >>> adoption = np.repeat(rng.choice([10, 15, 20, 99], 40), 30)
        >>> y = rng.normal(0, 0.1, 1200) - 0.2 * (times >= adoption)
        >>> result = event_study(units, times, adoption, y, leads=5, lags=5)
        >>> round(result.average(0, 5)["estimate"], 1)
        -0.2
        """
        table = self.effects
        last = int(table["event_time"].max()) if last is None else last
        rows = np.flatnonzero((table["event_time"] >= first) & (table["event_time"] <= last)
                              & table["estimate"].notna())
        if len(rows) == 0:
            return {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
                    "periods": 0}
        estimate = float(table["estimate"].to_numpy()[rows].mean())
        psi = self.influence[:, rows].mean(axis=1)
        se = float(np.sqrt(psi @ psi))
        return {"estimate": estimate, "se": se, **_interval(estimate, se, _degrees_of_freedom(psi), self.alpha),
                "periods": len(rows)}


def _degrees_of_freedom(influence):
    """The effective number of organizations behind an estimate, less one (Carter, Schnepel & Steigerwald
    2017): a few organizations that carry most of the influence leave few degrees of freedom."""
    squares = influence**2
    with np.errstate(invalid="ignore", divide="ignore"):
        effective = squares.sum(axis=0)**2 / (squares**2).sum(axis=0)
    return np.maximum(np.nan_to_num(effective, nan=1.0) - 1, 1.0)


def _interval(estimate, se, df, alpha):
    critical = stats.t.ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = 2 * stats.t.sf(np.abs(np.divide(estimate, se)), df)
    return {"ci_low": estimate - critical * se, "ci_high": estimate + critical * se, "p_value": p_value}


def event_study(unit, time, adoption, y, leads: int = 12, lags: int = 24, alpha: float = 0.05) -> EventStudy:
    """Effects by time since adoption, with the not-yet-adopted as comparisons (Callaway & Sant'Anna 2021).

    Parameters
    ----------
    unit : array_like
        The organization of each observation.
    time : array_like of int
        Its period, as consecutive whole numbers (months or quarters since some origin).
    adoption : array_like
        The organization's adoption period on the same numbering (the first period adoption may affect),
        repeated on each of its observations; NaN for an organization that never adopted.
    y : array_like of float
        The outcome (a log, for effects as log ratios).
    leads, lags : int
        Times before adoption (``-leads`` to ``-2``; ``-1`` is the reference) and after it (``0`` to
        ``lags``) to estimate.
    alpha : float
        1 − the intervals' confidence, and the pre-trend test's level.

    Returns
    -------
    EventStudy
        The effects, their pre-trend test and each organization's influence.

    Raises
    ------
    ArgumentError
        When the arrays differ in length, a time is not a whole number, an organization has two adoption
        periods or two observations of one period, or no cohort has a comparison.

    Notes
    -----
    Organizations that adopted at or before their first observation have no reference period and are left
    out. A cohort contributes at a time since adoption when some of its organizations were observed then
    and at the reference period, and some not-yet-adopted organizations were too; the observed
    organizations are the ones compared (an unbalanced panel is compared on its complete pairs). Without
    not-yet-adopted organizations, the last cohort to adopt has no comparison after adoption.

    Examples
    --------
    >>> import numpy as np
    >>> from casekit.stats.event_study import event_study
    >>> rng = np.random.default_rng(0)
    >>> units, times = np.repeat(np.arange(40), 30), np.tile(np.arange(30), 40)
    >>> adoption = np.repeat(rng.choice([10, 15, 20, np.nan], 40), 30)
    >>> y = rng.normal(0, 0.1, 1200) + 0.01 * times - 0.2 * (times >= adoption)
    >>> result = event_study(units, times, adoption, y, leads=4, lags=4)
    >>> result.effects["event_time"].tolist()
    [-4, -3, -2, 0, 1, 2, 3, 4]
    >>> bool(result.effects.query("event_time >= 0")["estimate"].between(-0.3, -0.1).all())
    True
    """
    if leads < 1 or lags < 0:
        raise ArgumentError(f"leads is at least 1 and lags at least 0, got {leads} and {lags}")
    wide, cohort_of = _wide(unit, time, adoption, y)
    n_units, n_times = wide.shape
    events = np.array([e for e in range(-leads, lags + 1) if e != -1])
    numerator = np.zeros((n_units, len(events)))     # Σ_g n_g ψ_g(i), per event time
    weight_total = np.zeros(len(events))              # Σ_g n_g
    estimate_total = np.zeros(len(events))            # Σ_g n_g ATT(g, g+e)
    cohort_att = np.full((n_units, len(events)), np.nan)  # ATT(g, g+e) on each treated unit that contributes
    cohorts = np.zeros(len(events), dtype=int)
    contributes = np.zeros(n_units, dtype=bool)
    for g in np.unique(cohort_of[np.isfinite(cohort_of)]).astype(int):
        if not 1 <= g <= n_times:  # no reference period observed
            continue
        times = g + events
        inside = (times >= 0) & (times < n_times)
        columns = np.flatnonzero(inside)
        diff = wide[:, times[inside]] - wide[:, [g - 1]]
        observed = np.isfinite(diff)
        treated = (cohort_of == g)[:, None] & observed
        later = np.maximum(times[inside], g - 1)
        control = (~(cohort_of[:, None] <= later[None, :])) & (cohort_of != g)[:, None] & observed
        n_treated, n_control = treated.sum(axis=0), control.sum(axis=0)
        usable = (n_treated > 0) & (n_control >= MIN_COMPARISONS)
        if not usable.any():
            continue
        values = np.where(observed, diff, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_treated = (values * treated).sum(axis=0) / n_treated
            mean_control = (values * control).sum(axis=0) / n_control
            psi = (treated * (values - mean_treated) / n_treated
                   - control * (values - mean_control) / n_control)
        att = mean_treated - mean_control
        keep = columns[usable]
        numerator[:, keep] += n_treated[usable] * psi[:, usable]
        weight_total[keep] += n_treated[usable]
        estimate_total[keep] += n_treated[usable] * att[usable]
        cohort_att[:, keep] = np.where(treated[:, usable], att[usable], cohort_att[:, keep])
        cohorts[keep] += 1
        contributes |= (treated[:, usable] | control[:, usable]).any(axis=1)
    if not weight_total.any():
        raise ArgumentError("no cohort has a comparison: the event study needs organizations that adopted at "
                            "different times, or some that had not adopted, with periods before adoption")
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = estimate_total / weight_total
        weights_part = np.where(np.isfinite(cohort_att), cohort_att - estimate, 0.0) / weight_total
        influence = numerator / weight_total + weights_part
    influence = influence[contributes]
    se = np.sqrt((influence**2).sum(axis=0))
    organizations = int(contributes.sum())
    estimated = weight_total >= MIN_ADOPTING
    treated_count = np.isfinite(cohort_att).sum(axis=0)
    table = pd.DataFrame({"event_time": events, "estimate": estimate, "se": se})
    table = table.assign(**_interval(estimate, se, _degrees_of_freedom(influence), alpha), cohorts=cohorts,
                         organizations=treated_count)[EFFECT_COLUMNS][estimated].reset_index(drop=True)
    influence = influence[:, estimated]
    return EventStudy(table, _pretrend(table, influence), influence, organizations, alpha)


def _wide(unit, time, adoption, y):
    unit, time, adoption, y = (np.asarray(a) for a in (unit, time, adoption, y))
    if not (len(unit) == len(time) == len(adoption) == len(y)):
        raise ArgumentError("unit, time, adoption and y need one value per observation")
    time_float = time.astype(float)
    if not np.all(np.isfinite(time_float)) or np.any(time_float != np.round(time_float)):
        raise ArgumentError("time is a period number: whole numbers, consecutive periods one apart")
    codes, units = pd.factorize(unit, sort=True)
    origin = int(time_float.min()) if len(time_float) else 0
    columns = time_float.astype(int) - origin
    frame = pd.DataFrame({"code": codes, "adoption": adoption.astype(float) - origin})
    per_unit = frame.groupby("code")["adoption"].agg(["min", "max", "count", "size"])
    clash = per_unit[(per_unit["count"] > 0) & (per_unit["count"] < per_unit["size"])
                     | (per_unit["min"] != per_unit["max"]) & per_unit["min"].notna()]
    if len(clash):
        raise ArgumentError(f"organization {units[clash.index[0]]!r} has more than one adoption period; give "
                            f"each organization one (NaN on every row when it never adopted)")
    if pd.Series(codes * (columns.max() + 1 if len(columns) else 1) + columns).duplicated().any():
        raise ArgumentError("an organization has two observations of one period; give one value per "
                            "organization and period")
    wide = np.full((len(units), (columns.max() + 1) if len(columns) else 0), np.nan)
    wide[codes, columns] = y.astype(float)
    cohort_of = per_unit["min"].reindex(range(len(units))).to_numpy()
    cohort_of = np.where(np.isfinite(cohort_of), np.ceil(cohort_of), np.inf)
    return wide, cohort_of


def _pretrend(table, influence) -> PreTrendTest:
    leads = np.flatnonzero((table["event_time"] < -1).to_numpy() & table["se"].gt(0).to_numpy())
    if len(leads) == 0:
        return PreTrendTest(np.nan, 0, 0, np.nan)
    times = table["event_time"].to_numpy()[leads].astype(float)
    contrasts = np.column_stack([np.full(len(leads), 1 / len(leads)), times - times.mean()])[:, :min(2, len(leads))]
    estimate, psi = table["estimate"].to_numpy()[leads] @ contrasts, influence[:, leads] @ contrasts
    organizations = int((psi != 0).any(axis=1).sum())
    covariance = psi.T @ psi
    q = int(np.linalg.matrix_rank(covariance))
    if q == 0 or organizations - q < 1:
        return PreTrendTest(np.nan, q, 0, np.nan)
    wald = float(estimate @ np.linalg.pinv(covariance) @ estimate)
    df2 = organizations - q
    statistic = wald * df2 / (q * (organizations - 1))  # Hotelling's T² as an F
    return PreTrendTest(statistic, q, df2, float(stats.f.sf(statistic, q, df2)))
