"""A KPI's change by time since adoption across a portfolio, against the organizations not yet adopting.

:func:`event_study` builds the panel from a portfolio's KPI rows and runs
:func:`casekit.stats.event_study.event_study`; the :class:`KpiEventStudy` it returns gives the table in
the KPI's terms (percent or points), the average after adoption, the finding in words and the chart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..inputs.catalog import RELATIVE
from ..inputs.loading import Portfolio
from ..stats.event_study import EventStudy
from ..stats.event_study import event_study as fit_event_study

# A portfolio report shows the event study of a KPI measured by at least this many organizations: with
# fewer, the cohorts and the not-yet-adopted behind each time since adoption are too few to say much
MIN_ORGANIZATIONS = 10
PERIODS = {"M": ("month", 1), "Q": ("quarter", 3)}
TABLE_COLUMNS = ["event_time", "change", "ci_low", "ci_high", "p_value", "cohorts", "organizations", "estimate",
                 "se"]


class KpiEventStudy:
    """One KPI's effects by time since adoption (returned by :func:`event_study`).

    Attributes
    ----------
    kpi, label, unit, better, scale : str
        The KPI, as the catalog or its cases define it; ``scale`` is ``"log"`` when the effects are log
        ratios (shown as percent changes) and ``"raw"`` when they are differences in the KPI's unit.
    frequency : {"M", "Q"}
        The periods the event time counts.
    fit : casekit.stats.event_study.EventStudy
        The estimates on the analysis scale, their influence and the pre-trend test.
    organizations, cohorts : int
        Organizations in the panel and adoption periods among them.
    left_out : list of str
        Organizations measuring the KPI at another frequency than most, left out.
    alpha : float

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3)
    >>> study = ck.event_time.event_study(pf, "defect_density", leads=6, lags=12)
    >>> study.organizations, study.frequency
    (30, 'M')
    """

    def __init__(self, kpi: str, info: dict, frequency: str, fit: EventStudy, organizations: int, cohorts: int,
                 left_out: list[str], alpha: float):
        self.kpi, self.frequency, self.fit = kpi, frequency, fit
        self.label, self.unit, self.better, self.scale = info["label"], info["unit"], info["better"], info["scale"]
        self.organizations, self.cohorts, self.left_out, self.alpha = organizations, cohorts, left_out, alpha

    @property
    def period_name(self) -> str:
        """``"month"`` or ``"quarter"``: what the event time counts.

        Returns
        -------
        str

        Examples
        --------
        >>> import casekit as ck
        >>> ck.event_time.event_study(ck.simulate_portfolio(n_orgs=12, effect=0.2, seed=3), "defect_density").period_name
        'month'
        """
        return PERIODS[self.frequency][0]

    @property
    def change_unit(self) -> str:
        """The unit of :meth:`table`'s ``change``: ``"%"`` on the log scale, ``"points"`` for a KPI in percent
        compared in its own unit, else the KPI's unit.

        Returns
        -------
        str

        Examples
        --------
        >>> import casekit as ck
        >>> ck.event_time.event_study(ck.simulate_portfolio(n_orgs=12, effect=0.2, seed=3), "defect_density").change_unit
        '%'
        """
        if self.scale == "log":
            return "%"
        return "points" if self.unit in ("%", "percent") else self.unit

    def _in_kpi_terms(self, values):
        values = np.asarray(values, dtype=float)
        return 100 * np.expm1(values) if self.scale == "log" else values

    def table(self) -> pd.DataFrame:
        """The change at each time since adoption, in the KPI's terms.

        Returns
        -------
        pandas.DataFrame
            One row per time since adoption (``event_time``, in :attr:`period_name`\\s; -1, the reference,
            left out): ``change, ci_low, ci_high`` (percent for a log scale, the KPI's unit otherwise; the
            change of the adopting organizations beyond that of the organizations not yet adopting, not
            direction-aware), ``p_value``, ``cohorts, organizations`` (the adopting cohorts and
            organizations behind it), and ``estimate, se`` on the analysis scale.

        Examples
        --------
        >>> import casekit as ck
        >>> study = ck.event_time.event_study(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3), "defect_density")
        >>> study.table().columns.tolist()[:4]
        ['event_time', 'change', 'ci_low', 'ci_high']
        """
        effects = self.fit.effects
        return effects.assign(change=self._in_kpi_terms(effects["estimate"]),
                              ci_low=self._in_kpi_terms(effects["ci_low"]),
                              ci_high=self._in_kpi_terms(effects["ci_high"]))[TABLE_COLUMNS]

    def average(self, first: int = 0, last: int | None = None) -> dict:
        """The change averaged over times since adoption ``first`` to ``last``, in the KPI's terms.

        Parameters
        ----------
        first, last : int
            Times since adoption (``last`` default: the last estimated).

        Returns
        -------
        dict
            ``change, ci_low, ci_high`` (percent or the KPI's unit), ``p_value``, ``periods`` averaged, and
            ``estimate, se`` on the analysis scale.

        Examples
        --------
        >>> import casekit as ck
        >>> study = ck.event_time.event_study(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3), "defect_density")
        >>> round(study.average(6)["change"])
        -25
        """
        result = self.fit.average(first, last)
        change, low, high = self._in_kpi_terms([result["estimate"], result["ci_low"], result["ci_high"]])
        return {"change": float(change), "ci_low": float(low), "ci_high": float(high),
                "p_value": float(result["p_value"]), "periods": result["periods"], "estimate": result["estimate"],
                "se": result["se"]}

    def _amount(self, value) -> str:
        if self.scale == "log":
            return f"{abs(value):.1f}% {'higher' if value > 0 else 'lower'}"
        return f"{abs(value):,.3g} {self.change_unit} {'higher' if value > 0 else 'lower'}"

    def finding(self) -> str:
        """The result in a few plain sentences: the average change after adoption and the pre-trend check.

        Returns
        -------
        str

        Examples
        --------
        >>> import casekit as ck
        >>> study = ck.event_time.event_study(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3), "defect_density")
        >>> print(study.finding())  # doctest: +ELLIPSIS
        Defect density, 30 organizations adopting in 17 different months: averaged over months 0 to 19 ...
        """
        result = self.average()
        period = self.period_name
        opening = (f"{self.label}, {self.organizations:,} organizations adopting in {self.cohorts:,} different "
                   f"{period}s")
        if not result["periods"]:
            return f"{opening}: no {period} after adoption has organizations not yet adopting to compare with."
        last = int(self.fit.effects["event_time"].max())
        confidence = f"{100 * (1 - self.alpha):g}%"
        clear = result["p_value"] < self.alpha
        sides = (f"{self._amount(result['ci_low'])} to {self._amount(result['ci_high'])}"
                 if np.sign(result["ci_low"]) == np.sign(result["ci_high"])
                 else f"from {self._amount(result['ci_low'])} to {self._amount(result['ci_high'])}")
        better = "lower is better" if self.better == "lower" else "higher is better"
        text = (f"{opening}: averaged over {period}s 0 to {last} after adoption, "
                f"{self._amount(result['change'])} than the organizations not yet adopting would suggest "
                f"({confidence} CI {sides}; {better})"
                + ("." if clear else f", which is no clear change (p = {result['p_value']:.2g})."))
        pretrend = self.fit.pretrend
        if not np.isfinite(pretrend.p_value):
            return text + f" Too few {period}s before adoption could be compared to check for a pre-trend."
        if pretrend.p_value < self.alpha:
            return text + (f" Before adoption, the adopting organizations already moved differently from the "
                           f"ones not yet adopting (level or trend, p = {pretrend.p_value:.2g}): the change after "
                           f"adoption may not be CMMI's.")
        return text + (f" Before adoption they moved like the ones not yet adopting (no difference in level or "
                       f"trend, p = {pretrend.p_value:.2g}).")

    def plot(self, ax=None):
        """The change by time since adoption with its intervals (:func:`casekit.report.plots.event_time_chart`).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import casekit as ck, matplotlib.pyplot as plt
        >>> ax = ck.event_time.event_study(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3), "defect_density").plot()
        >>> ax.get_xlabel()
        'months since adoption'
        >>> plt.close("all")
        """
        from .plots import event_time_chart

        return event_time_chart(self.table(), self.label, self.change_unit, self.better, self.period_name, self.alpha,
                                ax=ax)

    def __repr__(self) -> str:
        return (f"<KpiEventStudy: {self.kpi}, {self.organizations:,} organizations in {self.cohorts:,} cohorts, "
                f"{len(self.fit.effects)} {self.period_name}s estimated>")


def event_study(portfolio: Portfolio, kpi: str, leads: int = 12, lags: int = 24,
                alpha: float = 0.05) -> KpiEventStudy:
    """A KPI's change by months since adoption, against the organizations not yet adopting.

    :meth:`casekit.PortfolioComparison.event_study` runs it on a comparison's portfolio. Every organization measuring the KPI takes part: as an adopting cohort (the organizations that
    adopted in the same month), and, before it adopts, as a comparison for the cohorts that adopted
    earlier (Callaway & Sant'Anna 2021; :func:`casekit.stats.event_study.event_study`). A ratio-scale KPI
    is compared on the log scale, as percent changes; an interval-scale KPI, or one with zeros, in its
    own unit. Comparison units (``comparison.csv``) do not take part.

    Parameters
    ----------
    portfolio : Portfolio
    kpi : str
        The KPI.
    leads, lags : int
        Months before adoption (down to ``-leads``) and after it (up to ``lags``); a KPI measured quarterly
        counts quarters, a third as many.
    alpha : float
        1 − the intervals' confidence, and the level of the pre-trend check.

    Returns
    -------
    KpiEventStudy

    Raises
    ------
    ArgumentError
        When no organization measures the KPI, or no cohort has organizations not yet adopting to
        compare with.

    Examples
    --------
    >>> import casekit as ck
    >>> study = ck.event_time.event_study(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3), "defect_density")
    >>> study.table().query("event_time == 12")["change"].round().tolist()
    [-27.0]
    """
    rows = portfolio.kpis[portfolio.kpis["kpi"] == kpi]
    if rows.empty:
        raise ArgumentError(f"no organization measures {kpi!r}; the portfolio's KPIs are "
                            f"{', '.join(sorted(portfolio.kpis['kpi'].unique()))}")
    per_case = rows.groupby("case_id", sort=False)["freq"].first()
    frequency = per_case.value_counts().index[0]
    left_out = sorted(per_case.index[per_case != frequency])
    rows = rows[rows["freq"] == frequency]
    first = rows.iloc[0]
    log = first["scale"] in RELATIVE and bool((rows["value"] > 0).all())
    step = PERIODS[frequency][1]
    dates = pd.DatetimeIndex(rows["date"])
    time = dates.year * 12 + dates.month - 1
    month_of_adoption = {case_id: start.year * 12 + start.month - 1
                         for case_id, start in zip(portfolio.cases["case_id"], portfolio.cases["adoption_start"])}
    adoption = rows["case_id"].map(month_of_adoption).to_numpy()
    if step > 1:  # a quarter's number; adoption counts from the quarter it falls in
        time, adoption = time // step, adoption // step
    fit = fit_event_study(rows["case_id"].to_numpy(), np.asarray(time), np.asarray(adoption, dtype=float),
                          np.log(rows["value"]).to_numpy() if log else rows["value"].to_numpy(),
                          leads=-(-leads // step), lags=-(-lags // step), alpha=alpha)
    info = {"label": first["label"], "unit": first["unit"], "better": first["better"], "scale": "log" if log else "raw"}
    organizations = rows["case_id"].nunique()
    cohorts = len(set(np.asarray(adoption)))
    return KpiEventStudy(kpi, info, frequency, fit, organizations, cohorts, left_out, alpha)
