"""Plan a measurement programme: the power of casekit's tests before the months are measured.

:func:`plan` takes a KPI's noise and autocorrelation from a case's months before adoption (estimated as the
test estimates them) or by hand, and the design (months after adoption, transition, KPIs tested, a
comparison unit, organizations and their spread), and returns a :class:`Plan`: power curves against the
months after adoption and against the number of organizations, for a change of level (tested as the verdict
tests it: the first-year effect) and of slope, and
the smallest change found with 80% power, as a tidy table and a chart (:mod:`casekit.stats.planning`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..inputs.loading import Portfolio
from ..stats.ar1 import ar1_estimates
from ..stats.counts import count_fits
from ..stats.planning import (
    COUNT_GRID,
    COUNT_SIMULATIONS,
    EFFECT_GRID,
    count_pooled_power,
    count_power_table,
    event_study_power,
    pooled_power,
    power_table,
    smallest_detectable,
)

MONTHS_AFTER = (6, 12, 18, 24, 30, 36)
CASES = (2, 4, 8, 16, 32)
STAGGERED_ORGANIZATIONS = (10, 20, 40, 80)  # the event study's curve: it needs 10 or more (casekit.report.event_time)
STAGGERED_AFTER = 12  # months measured after the last organization adopts
PLANNED_COUNT_SIMULATIONS = 600  # a count plan's curve point; its detectable change is read on fewer
LARGEST_COUNT_CHANGE = 100 * (1 - np.exp(-COUNT_GRID[-1]))  # a count plan looks for a detectable change up to this
TABLE_COLUMNS = ["axis", "months_after", "organizations", "contrast", "change", "power"]


class Plan:
    """A measurement programme's power (returned by :func:`plan`).

    Attributes
    ----------
    inputs : dict
        What the plan assumed: ``months_before, phi, noise, transition, comparison, kpis, tau, alpha``,
        ``change`` (percent, the level change planned for), ``slope_change`` (percent a month),
        ``source`` (the case and KPI they were estimated from, or ``"by hand"``) and ``staggered`` (the
        months over which organizations adopt, for the event study; None when not planned); a count KPI's
        plan has ``mean`` and ``dispersion`` in place of ``noise`` (None), and no slope change.
    curves : pandas.DataFrame
        The power table (:meth:`table`).
    detectable : dict
        The smallest change found with ``power``'s probability: ``effect`` (a change of level, tested as the
        verdict tests it, the first-year effect; percent, either way) at each
        planned number of months after adoption, and ``slope`` (percent a month) likewise.

    Examples
    --------
    >>> import casekit as ck
    >>> programme = ck.plan(months_before=24, phi=0.4, noise=0.1)
    >>> round(programme.detectable["effect"][24])
    30
    """

    def __init__(self, inputs: dict, curves: pd.DataFrame, detectable: dict):
        self.inputs, self.curves, self.detectable = inputs, curves, detectable

    def table(self) -> pd.DataFrame:
        """The power curves as a tidy table.

        Returns
        -------
        pandas.DataFrame
            ``axis`` (``"months after adoption"``, ``"organizations"``, or ``"event study"`` when planned:
            organizations adopting at different months), ``months_after``, ``organizations``,
            ``contrast`` (``"effect"``: a change of level, tested by the first-year effect as the verdict is;
            ``"slope"``: a change of slope; the cases' curve pools the first-year effect),
            ``change`` (the planned change: percent, or percent a month for the slope) and ``power``.

        Examples
        --------
        >>> import casekit as ck
        >>> ck.plan(months_before=24, phi=0.4, noise=0.1).table()["axis"].unique().tolist()
        ['months after adoption', 'organizations']
        """
        return self.curves.copy()

    def summary(self) -> str:
        """The plan in a sentence or two.

        Returns
        -------
        str

        Examples
        --------
        >>> import casekit as ck
        >>> print(ck.plan(months_before=24, phi=0.4, noise=0.1).summary())  # doctest: +ELLIPSIS
        With 24 months before adoption, month-to-month noise of 10% and autocorrelation 0.4: ...
        """
        found = {m: d for m, d in sorted(self.detectable["effect"].items()) if np.isfinite(d)}
        missed = [m for m in sorted(self.detectable["effect"]) if m not in found]
        level = ", ".join(f"±{d:.0f}% after {m} months" for m, d in found.items())
        finds = f"finds a change of level of {level} with 80% power" if found else ""
        if missed:
            finds += (f"{'; ' if found else ''}finds no change of level of up to {LARGEST_COUNT_CHANGE:.0f}% with "
                      f"80% power after {', '.join(str(m) for m in missed)} months")
        inputs = self.inputs
        organizations = self.curves[self.curves["axis"] == "organizations"]
        enough = organizations[organizations["power"] >= 0.8]["organizations"]
        pooled = (f" Pooled across organizations like this one (τ = {inputs['tau']:g}), a {abs(inputs['change']):g}% "
                  f"change is found 80% of the time from {int(enough.min())} organizations." if len(enough) else
                  f" Pooled across up to {int(organizations['organizations'].max())} organizations like this one, "
                  f"a {abs(inputs['change']):g}% change is found less than 80% of the time.")
        staggered = self.curves[self.curves["axis"] == "event study"]
        if len(staggered):
            enough = staggered[staggered["power"] >= 0.8]["organizations"]
            pooled += (f" Organizations adopting over {inputs['staggered']} months, compared by the event study: "
                       + (f"found 80% of the time from {int(enough.min())} organizations." if len(enough) else
                          f"found less than 80% of the time with up to {int(staggered['organizations'].max())} "
                          "organizations."))
        noise = (f"month-to-month noise of {100 * inputs['noise']:.0f}%" if inputs.get("noise") is not None else
                 f"{inputs['mean']:.3g} events a month on average (variance {inputs['dispersion']:.2g} times the "
                 f"mean)")
        return (f"With {inputs['months_before']} months before adoption, {noise} and autocorrelation "
                f"{inputs['phi']:.2g}: casekit's verdict {finds}." + pooled)

    def plot(self):
        """Power against the months after adoption (level and slope) and against the number of organizations.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> import casekit as ck, matplotlib.pyplot as plt
        >>> fig = ck.plan(months_before=24, phi=0.4, noise=0.1).plot()
        >>> [ax.get_xlabel() for ax in fig.axes]
        ['months measured after the transition', 'organizations pooled']
        >>> plt.close("all")
        """
        from .plots import plan_chart

        return plan_chart(self.curves, self.inputs)

    def __repr__(self) -> str:
        return f"<Plan: {self.summary()}>"


def plan(portfolio: Portfolio | None = None, case_id: str | None = None, kpi: str | None = None, *,
         months_before: int | None = None, phi: float | None = None, noise: float | None = None,
         months_after=MONTHS_AFTER, change: float = -20.0, slope_change: float = -1.0,
         transition: int | None = None, comparison: float | None = None, kpis: int = 1, cases=CASES,
         tau: float = 0.05, alpha: float = 0.05, power: float = 0.8, staggered: int | None = None,
         staggered_organizations=STAGGERED_ORGANIZATIONS, mean: float | None = None,
         dispersion: float | None = None) -> Plan:
    """Plan a measurement programme: how likely casekit's tests are to find a change, and the smallest they find.

    Either from a case (``portfolio, case_id, kpi``: the KPI's months before adoption give the noise and the
    autocorrelation, estimated as the test estimates them, and the case its transition and its number of
    KPIs), or by hand (``months_before, phi, noise``). A count KPI (``scale: count``) is planned for the count
    test, from its months before adoption or by hand (``months_before, mean, dispersion, phi``): its mean count
    a month, the counts' variance over their mean, and the Pearson residuals' autocorrelation
    (:func:`casekit.stats.planning.count_power_table`); its plan has the change of level, not of slope.

    Parameters
    ----------
    portfolio : Portfolio, optional
        The cases, with ``case_id`` and ``kpi``.
    case_id, kpi : str, optional
        The case and the KPI whose baseline is planned from.
    months_before : int, optional
        Periods before adoption (from the case: those it has).
    phi, noise : float, optional
        The noise's autocorrelation and its innovations' sd on the log scale (0.1: about 10% month to month).
    months_after : sequence of int
        The months after the transition to plan for.
    change : float
        The level change to plan for, in percent (-20: 20% lower).
    slope_change : float
        The change of slope to plan for, in percent a month.
    transition : int, optional
        Months left out after adoption (from the case, or 3).
    comparison : float, optional
        A comparison unit whose noise correlates this much with the KPI's (the controlled design).
    kpis : int
        KPIs tested in the case (from the case: those it measures); the test is planned at alpha / kpis.
    cases : sequence of int
        Numbers of organizations to plan the pooled test for (each measured as this one, with 24 months
        after the transition, or the longest of ``months_after`` when shorter).
    tau : float
        The between-organization sd of the true effect, on the log scale.
    alpha : float
        The level.
    power : float
        The power the smallest detectable change is read at.
    staggered : int, optional
        Plan the event study too: organizations adopting in random months over this many months, each
        measured ``months_before`` months before the first adoption month and 12 after the last, their
        change tested by the event study's average change after adoption
        (:func:`casekit.stats.planning.event_study_power`), each organization's change spread by ``tau``.
    staggered_organizations : sequence of int
        Numbers of organizations to plan the event study for.
    mean, dispersion : float, optional
        A count KPI planned by hand: the mean count a month before adoption, and the counts' variance over
        their mean (1 for Poisson counts; from a count KPI of a case: its own).

    Returns
    -------
    Plan

    Raises
    ------
    ArgumentError
        Without a case or the by-hand inputs, or for a KPI on an interval scale.

    Examples
    --------
    >>> import casekit as ck
    >>> programme = ck.plan(ck.load_cases("cases"), "quantia-tech", "defect_density")
    >>> programme.inputs["months_before"], programme.inputs["kpis"]
    (29, 5)
    """
    source = "by hand"
    if portfolio is not None:
        if case_id is None or kpi is None:
            raise ArgumentError("plan from a case needs case_id and kpi")
        estimated = _from_case(portfolio, case_id, kpi)
        months_before = estimated["months_before"] if months_before is None else months_before
        phi = estimated["phi"] if phi is None else phi
        noise = estimated.get("noise") if noise is None else noise
        mean = estimated.get("mean") if mean is None else mean
        dispersion = estimated.get("dispersion") if dispersion is None else dispersion
        transition = estimated["transition"] if transition is None else transition
        kpis = estimated["kpis"]
        source = f"{case_id}, {kpi}"
    transition = 3 if transition is None else int(transition)
    if mean is not None:
        if months_before is None or phi is None:
            raise ArgumentError("a count KPI's plan needs the months before adoption, the mean count and phi")
        if staggered is not None or comparison is not None:
            raise ArgumentError("a count KPI is planned for its own count test: casekit does not compare counts "
                                "with a comparison unit, and plans the event study for ratio-scale KPIs")
        return _count_plan(months_before, float(mean), 1.0 if dispersion is None else float(dispersion), phi,
                           months_after, change, transition, kpis, cases, tau, alpha, power, source)
    if months_before is None or phi is None or noise is None:
        raise ArgumentError("give a case and a KPI to plan from, or the months before adoption, phi and noise")
    design = dict(transition=transition, comparison=comparison, alpha=alpha, kpis=kpis)
    level, slope = np.log1p(change / 100), np.log1p(slope_change / 100)
    rows, detectable = [], {"effect": {}, "slope": {}}
    grid = np.r_[-EFFECT_GRID[::-1], EFFECT_GRID]
    for months in months_after:
        table = power_table(months_before, months, phi, noise, np.r_[level, slope, grid],
                            contrast=["effect", "slope"], **design)
        for contrast, planned in (("effect", 0), ("slope", 1)):
            found = table.loc[table["contrast"] == contrast, "power"].to_numpy()
            rows.append({"axis": "months after adoption", "months_after": months, "organizations": 1,
                         "contrast": contrast, "change": change if contrast == "effect" else slope_change,
                         "power": float(found[planned])})
            d = smallest_detectable(found[2:], power)
            detectable[contrast][months] = 100 * (1 - np.exp(-d)) if np.isfinite(d) else float("inf")
    pooled_months = min(24, max(months_after))
    pooled = pooled_power(cases, level, months_before, pooled_months, phi, noise, tau=tau, alpha=alpha,
                          transition=transition, comparison=comparison)
    rows += [{"axis": "organizations", "months_after": pooled_months, "organizations": int(k), "contrast": "effect",
              "change": change, "power": float(p)} for k, p in zip(cases, pooled)]
    if staggered is not None:
        found = event_study_power(staggered_organizations, level, int(staggered), months_before, STAGGERED_AFTER,
                                  phi, noise, tau=tau, alpha=alpha)[:, 0]
        rows += [{"axis": "event study", "months_after": STAGGERED_AFTER, "organizations": int(k),
                  "contrast": "effect", "change": change, "power": float(p)}
                 for k, p in zip(staggered_organizations, found)]
    inputs = {"months_before": int(months_before), "phi": float(phi), "noise": float(noise),
              "transition": transition, "comparison": comparison, "kpis": int(kpis), "tau": tau, "alpha": alpha,
              "change": change, "slope_change": slope_change, "source": source, "staggered": staggered}
    return Plan(inputs, pd.DataFrame(rows, columns=TABLE_COLUMNS), detectable)


def _count_plan(months_before, mean, dispersion, phi, months_after, change, transition, kpis, cases, tau, alpha,
                power, source) -> Plan:
    """A count KPI's plan: the count test's power by months after adoption and by organizations pooled."""
    level = np.log1p(change / 100)
    rows, detectable = [], {"effect": {}, "slope": {}}
    for months in months_after:
        changes = np.r_[level, -COUNT_GRID[::-1], COUNT_GRID]
        simulations = np.r_[PLANNED_COUNT_SIMULATIONS, np.full(len(changes) - 1, COUNT_SIMULATIONS)]
        found = count_power_table(months_before, months, mean, dispersion, phi, changes, transition=transition,
                                  alpha=alpha, kpis=kpis, simulations=simulations)["power"].to_numpy()
        rows.append({"axis": "months after adoption", "months_after": months, "organizations": 1,
                     "contrast": "effect", "change": change, "power": float(found[0])})
        d = smallest_detectable(found[1:], power, COUNT_GRID)
        detectable["effect"][months] = 100 * (1 - np.exp(-d)) if np.isfinite(d) else float("inf")
    pooled_months = min(24, max(months_after))
    pooled = count_pooled_power(cases, level, months_before, pooled_months, mean, dispersion, phi, tau=tau,
                                alpha=alpha, transition=transition)
    rows += [{"axis": "organizations", "months_after": pooled_months, "organizations": int(k), "contrast": "effect",
              "change": change, "power": float(p)} for k, p in zip(cases, pooled)]
    inputs = {"months_before": int(months_before), "phi": float(phi), "noise": None, "mean": mean,
              "dispersion": dispersion, "transition": transition, "comparison": None, "kpis": int(kpis), "tau": tau,
              "alpha": alpha, "change": change, "slope_change": None, "source": source, "staggered": None}
    return Plan(inputs, pd.DataFrame(rows, columns=TABLE_COLUMNS), detectable)


def _from_case(portfolio: Portfolio, case_id: str, kpi: str) -> dict:
    """A KPI's months before adoption, and the autocorrelation and innovations' sd of its log values around
    their trend, by the same bias-corrected AR(1) estimate the test uses."""
    cases = portfolio.cases.set_index("case_id")
    if case_id not in cases.index:
        raise ArgumentError(f"no case {case_id!r}; cases are {', '.join(cases.index)}")
    rows = portfolio.kpis[(portfolio.kpis["case_id"] == case_id) & (portfolio.kpis["kpi"] == kpi)]
    if rows.empty:
        raise ArgumentError(f"{case_id} does not measure {kpi!r}")
    scale = rows["scale"].iloc[0]
    if scale not in ("ratio", "count"):
        raise ArgumentError(f"{kpi} is on an {scale} scale; the planner plans ratio-scale and count KPIs "
                            "(changes in percent)")
    before = rows[rows["phase"] == "before"].sort_values("date")
    if scale == "count":
        return {**_count_baseline(before, kpi, case_id), "transition": int(cases.at[case_id, "transition_months"]),
                "kpis": int(portfolio.kpis.loc[portfolio.kpis["case_id"] == case_id, "kpi"].nunique())}
    if len(before) < 6 or not (before["value"] > 0).all():
        raise ArgumentError(f"{kpi} in {case_id} needs 6 or more positive values before adoption to plan from")
    dates = pd.DatetimeIndex(before["date"])
    t = (dates.year * 12 + dates.month).to_numpy()
    t = t - t[-1]
    X = np.column_stack([np.ones(len(t)), t.astype(float)])
    y = np.log(before["value"].to_numpy())
    _, _, phi = ar1_estimates(y, X, t, np.eye(2)[1:])
    residual = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    noise = float(np.std(residual, ddof=2) * np.sqrt(max(1 - phi**2, 1e-6)))
    return {"months_before": len(before), "phi": float(phi), "noise": noise,
            "transition": int(cases.at[case_id, "transition_months"]),
            "kpis": int(portfolio.kpis.loc[portfolio.kpis["case_id"] == case_id, "kpi"].nunique())}


def _count_baseline(before: pd.DataFrame, kpi: str, case_id: str) -> dict:
    """A count KPI's months before adoption: their mean count a month, and the dispersion and
    Pearson residuals' autocorrelation of a Poisson trend through them, as the count test estimates them."""
    if len(before) < 6:
        raise ArgumentError(f"{kpi} in {case_id} needs 6 or more months before adoption to plan from")
    dates = pd.DatetimeIndex(before["date"])
    t = (dates.year * 12 + dates.month).to_numpy()
    t = t - t[-1]
    X = np.column_stack([np.ones(len(t)), t.astype(float)])
    fit = count_fits(before["value"].to_numpy(float)[None], X, t, np.eye(2))
    return {"months_before": len(before), "phi": float(fit["phi"][0]),
            "dispersion": float(max(fit["dispersion"][0], 1.0)), "mean": float(before["value"].mean())}
