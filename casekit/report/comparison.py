"""Comparisons as result objects: fitted once, then asked for tables, goals, ROI, findings and charts.

As a statsmodels results object holds one fit, :class:`CaseComparison` holds one case's KPIs fitted once and
:class:`PortfolioComparison` holds every case's effects worked out once. Nothing is remembered between
objects: a portfolio edited and compared again is compared afresh.
"""

from __future__ import annotations

import pandas as pd

from ..errors import ArgumentError
from ..inputs.loading import Portfolio
from ..stats.across import portfolio_tests
from ..stats.breakdowns import category_summary, dose_points, dose_response, subgroup_analysis
from ..stats.findings import Findings, case_findings, portfolio_findings
from ..stats.goals import DRAWS, goal_table, roi_table
from ..stats.influence import kpi_robustness
from ..stats.levels import level_trends, level_values
from ..stats.meta import METHODS, TESTS
from ..stats.multiplicity import CORRECTIONS
from ..stats.sensitivity import case_placebos, other_specifications, specification_lines
from ..stats.summaries import TIME_SERIES, summary_effects
from ..stats.timeseries import HORIZON_MONTHS
from ..stats.within import KpiFit, fit_case, portfolio_effects
from .event_time import MIN_ORGANIZATIONS, KpiEventStudy, event_study


class CaseComparison:
    """One case's KPIs compared at adoption, each fitted once (returned by :func:`compare_case`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per KPI with every column of the test (see :func:`compare_case`).
    fits : dict of str to KpiFit
        Each KPI's measurements, the series as fitted and its fit (``None`` when it could not be compared).
    reported : pandas.DataFrame
        A published case's before/after values and reported changes as effects
        (:func:`casekit.stats.summaries.summary_effects`); empty for a case without results.csv.
    levels : pandas.DataFrame
        Its values by maturity level with their trend (:func:`casekit.stats.levels.level_trends`); empty
        without them.
    portfolio, case_id, alpha, transition_months, horizon_months, seasonal, correction, primary
        What was compared, and how.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> comparison.table.set_index("kpi").loc["defect_density", "verdict"]
    'improved'
    >>> comparison.findings().counts["improved"]
    4
    """

    def __init__(self, portfolio: Portfolio, case_id: str, table: pd.DataFrame, fits: dict[str, KpiFit],
                 alpha: float, transition_months: int, horizon_months: int, seasonal: bool, correction: str,
                 primary: str | None):
        self.portfolio, self.case_id, self.table, self.fits = portfolio, case_id, table, fits
        self.alpha, self.transition_months, self.horizon_months = alpha, transition_months, horizon_months
        self.seasonal, self.correction, self.primary = seasonal, correction, primary
        published = portfolio.published[portfolio.published["case_id"] == case_id]
        self.reported = summary_effects(published, portfolio.kpi_definitions, alpha)
        self.reported["pooled"] &= ~self.reported["kpi"].isin(table["kpi"])  # its own series is pooled instead
        self.levels = level_trends(published, portfolio.kpi_definitions, alpha)

    def goals(self) -> pd.DataFrame:
        """Each business goal's target against what was achieved, with the interval deciding.

        A ``change_pct`` target is a change against the level before adoption, so it is judged on exactly
        that: the KPI's fitted level over the first ``horizon_months`` after the transition against its mean
        level over the months before adoption, both from the same calibrated model, with the interval of
        their difference. How much of that change lies beyond the trend the KPI was already on is given
        beside it (``beyond_trend``: the effect the verdict tests). A ``value`` target (a level to reach) is
        judged on the fitted level over the first ``horizon_months`` after the transition, with its
        calibrated interval.

        Returns
        -------
        pandas.DataFrame
            One row per goal: ``case_id, goal_id, statement, kpi`` (the KPI the target is for, or the
            goal's first KPI), ``target`` and ``target_kind`` (``change_pct``, restated as a
            direction-aware improvement so that a −30% target on defects reads 30; or ``value``),
            ``achieved, ci_low, ci_high, unit`` (percent better than the level before adoption, or the
            level reached), ``baseline`` (the fitted level before adoption), ``beyond_trend,
            beyond_trend_unit`` (the effect beyond the earlier trend, as in the table), ``status``:
            ``met`` when the whole interval is at or beyond the target, ``not met`` when the whole
            interval falls short, ``inconclusive`` when it straddles the target, ``not enough data``,
            or ``no target``; and ``note`` (a KPI described rather than tested says so).

        Examples
        --------
        >>> import casekit as ck
        >>> goals = ck.compare_case(ck.load_cases("cases"), "quantia-tech").goals()
        >>> goals[["goal_id", "kpi", "target", "status"]].values.tolist()
        [['G1', 'escaped_defects', 50.0, 'inconclusive'], ['G2', 'customer_satisfaction', 10.0, 'met']]
        """
        return goal_table(self)

    def roi(self, discount_rate: float = 0.0, valuation_months: int | None = None,
            draws: int = DRAWS) -> pd.DataFrame:
        """Return on the improvement investment, valued against the counterfactual.

        Each month's benefit is, summed over the KPIs the case gives a money value (``kpi_values``: what one
        unit is worth per period), the unit value times the difference between the counterfactual (the
        baseline trend carried on) and the fitted level with the change, in the KPI's better direction. The
        months valued run from the first month after the transition for ``valuation_months`` (default: to
        the end of the data). The interval comes from ``draws`` coefficient vectors simulated from each
        fit's covariance (the KPIs' draws independent). With ``discount_rate`` (an effective annual rate,
        e.g. 0.08) benefits and investments are valued at the adoption start.

        Returns
        -------
        pandas.DataFrame
            One row: ``case_id, currency, investment`` (the total, discounted when asked),
            ``monthly_benefit`` (the average undiscounted benefit a month), ``valuation_months``,
            ``benefit`` with ``benefit_low, benefit_high`` (1 − alpha interval), ``net_benefit``,
            ``benefit_cost_ratio`` (the SEI's "x : 1"), ``roi_pct``, ``payback_months`` (months from
            the adoption start until the cumulative benefit reaches the investment; NaN if not within the
            months valued), ``kpis_valued``, ``discount_rate`` and ``note`` (valued KPIs that could not be
            compared are left out, not counted as zero; valued KPIs that are described, not tested).
            NaN throughout when the case values no KPI.

        Parameters
        ----------
        discount_rate : float, default 0.0
            Effective annual rate at which benefits and investments are discounted.
        valuation_months : int, optional
            Months valued after the transition; by default to the end of the data.
        draws : int
            Simulated coefficient vectors for the interval.

        Examples
        --------
        >>> import casekit as ck
        >>> r = ck.compare_case(ck.load_cases("cases"), "quantia-tech").roi()
        >>> r[["currency", "investment"]].values.tolist()
        [['EUR', 305000.0]]
        >>> bool(r["benefit_low"].iloc[0] < r["benefit"].iloc[0] < r["benefit_high"].iloc[0])
        True
        """
        if not discount_rate >= 0:
            raise ArgumentError(f"discount_rate must be 0 or more (0.08 is 8% a year), got {discount_rate!r}")
        return roi_table(self, discount_rate, valuation_months, draws)

    def findings(self, discount_rate: float = 0.0) -> Findings:
        """The case's findings: the headline, then each KPI by verdict, each goal and the ROI.

        Parameters
        ----------
        discount_rate : float, default 0.0
            As :meth:`roi`.

        Returns
        -------
        Findings
            ``headline``, ``sentences()``, ``counts`` and ``items`` (one row per
            KPI, goal and ROI statement: ``group, kpi, label, sentence``, ...).

        Examples
        --------
        >>> import casekit as ck
        >>> found = ck.compare_case(ck.load_cases("cases"), "meridian-financial").findings()
        >>> found.headline  # doctest: +NORMALIZE_WHITESPACE
        'Of 5 KPIs, 1 improved, 0 worsened and 4 showed no clear change beyond their trend before adoption
        (95% confidence, Holm-corrected across the 5 tested).'
        >>> found.items.query("group == 'improved'")["kpi"].tolist()
        ['customer_satisfaction']
        """
        return case_findings(self.table, self.goals(), self.roi(discount_rate), self.alpha, self.correction,
                             self.primary, self.reported, self.levels)

    def placebos(self) -> pd.DataFrame:
        """The placebo-in-time check of each KPI: the same model at fake adoption dates inside the baseline.

        A finding whose effect is no larger than many of the effects the model finds where nothing was
        adopted says less than its p-value suggests. Each placebo date has at least six periods on each
        side within the baseline; see :func:`casekit.stats.sensitivity.placebo_effects`.

        Returns
        -------
        pandas.DataFrame
            ``kpi, placebos, as_large, placebo_p, summary`` (:func:`casekit.stats.sensitivity.case_placebos`).

        Examples
        --------
        >>> import casekit as ck
        >>> checks = ck.compare_case(ck.load_cases("cases"), "quantia-tech").placebos().set_index("kpi")
        >>> checks.loc["defect_density", ["placebos", "as_large"]].tolist()
        [11, 0]
        """
        return case_placebos(self.table, self.fits)

    def specifications(self) -> pd.DataFrame:
        """Each KPI's effect under the analysis choices one could have made instead, and its range.

        The transition window three months shorter and longer, the first 6 and 24 months as the horizon, and
        yearly seasonal terms on (or off, where the case sets them): the same model, without the bootstrap
        (:func:`casekit.stats.sensitivity.other_specifications`).

        Returns
        -------
        pandas.DataFrame
            ``kpi, low, high, same_direction, choices, summary``
            (:func:`casekit.stats.sensitivity.specification_lines`).

        Examples
        --------
        >>> import casekit as ck
        >>> checks = ck.compare_case(ck.load_cases("cases"), "quantia-tech").specifications().set_index("kpi")
        >>> bool(checks.loc["defect_density", "same_direction"])
        True
        """
        case = self.portfolio.cases.set_index("case_id").loc[self.case_id]
        months = int(case["transition_months"]) if self.transition_months is None else int(self.transition_months)
        variants = other_specifications(self.portfolio, self.case_id, months, self.horizon_months, self.seasonal,
                                        kpis=list(self.table["kpi"]))
        return specification_lines(self.table, variants)

    def effects(self) -> pd.DataFrame:
        """The KPIs' effects as pooling takes them: ``kpi, effect, effect_se, tested``, one row per KPI.

        ``effect`` is the direction-aware log ratio (points for interval-scale KPIs) the verdict tests;
        ``tested`` is False for a KPI described rather than tested, which pooling leaves out.

        Returns
        -------
        pandas.DataFrame
            ``kpi, effect, effect_se, tested``.

        Examples
        --------
        >>> import casekit as ck
        >>> effects = ck.compare_case(ck.load_cases("cases"), "quantia-tech").effects()
        >>> effects[["kpi", "tested"]].values.tolist()[:2]
        [['customer_satisfaction', True], ['cycle_time', True]]
        """
        table = self.table
        tested = table["verdict"].isin(["improved", "worsened", "no clear change"])
        return table[["case_id", "kpi", "label", "effect", "effect_se"]].assign(tested=tested.to_numpy())

    def plot(self, kpi: str, view: str = "counterfactual"):
        """The chart of one KPI: what was tested (``view="counterfactual"``), or its XmR chart (``"xmr"``).

        Returns the matplotlib Figure (see :func:`casekit.report.plots.counterfactual_chart`).

        Parameters
        ----------
        kpi : str
            A KPI of the comparison's table.
        view : {"counterfactual", "xmr"}, default "counterfactual"
            The tested model's chart, or the process-behaviour chart.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> import casekit as ck
        >>> figure = ck.compare_case(ck.load_cases("cases"), "quantia-tech").plot("escaped_defects")
        >>> [ax.get_title(loc="left") for ax in figure.axes][0]
        'Escaped defects (lower is better)'
        """
        from ..stats.behaviour import xmr_phases
        from . import plots

        if kpi not in self.fits:
            raise ArgumentError(f"no KPI {kpi!r} in this comparison; it has {', '.join(self.fits)}")
        if view == "xmr":
            return plots.kpi_chart(xmr_phases(self.fits[kpi].measurements)).figure
        if view != "counterfactual":
            raise ArgumentError(f"view must be 'counterfactual' or 'xmr', got {view!r}")
        start = self.portfolio.cases.set_index("case_id").at[self.case_id, "adoption_start"]
        return plots.counterfactual_chart(self.fits[kpi], self.table.set_index("kpi").loc[kpi], start,
                                          self.transition_months, self.alpha)

    def plot_levels(self, kpi: str):
        """A published KPI's values by maturity level and their trend (:func:`casekit.report.plots.level_chart`).

        Parameters
        ----------
        kpi : str
            A KPI of :attr:`levels`.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import casekit as ck
        >>> ck.compare_case(ck.load_cases("cases"), "motorola-ged").plot_levels("in_process_defects").get_title()
        'In-process defects by maturity level'
        """
        return _level_chart(self.portfolio, self.levels, self.case_id, kpi)

    def summary(self, discount_rate: float = 0.0):
        """The executive summary for a report or notebook: :meth:`findings` as headed lists (plain text in a
        terminal, one sentence per line after "- ").

        Parameters
        ----------
        discount_rate : float, default 0.0
            As :meth:`roi`.

        Returns
        -------
        Summary
            Displays as headed lists in a notebook; ``.text`` is the plain text.

        Examples
        --------
        >>> import casekit as ck
        >>> print(ck.compare_case(ck.load_cases("cases"), "quantia-tech").summary().text.splitlines()[2])
        - Defect density: improved, +55.2% (95% CI +39.8 to +66.6).
        """
        from .presentation import findings_block

        return findings_block(self.findings(discount_rate), self.alpha, self.horizon_months)

    def __repr__(self) -> str:
        counts = self.table["verdict"].value_counts()
        verdicts = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
        return (f"<CaseComparison {self.case_id}: {len(self.table)} KPIs ({verdicts}); alpha {self.alpha:g}, "
                f"{self.correction} correction, transition {self.transition_months} months, effect over the first "
                f"{self.horizon_months} months>")


def compare_case(portfolio: Portfolio, case_id: str, alpha: float = 0.05, transition_months: int | None = None,
                 kpis=None, seasonal=None, horizon_months: int = HORIZON_MONTHS, correction: str = "holm",
                 primary: str | None = None) -> CaseComparison:
    """Each KPI of one case: did it change at adoption beyond its baseline trend?

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`load_cases`.
    case_id : str
        The case to compare.
    alpha : float
        1 − confidence level.
    transition_months : int, optional
        Months after the adoption start left out; default the case's own.
    kpis : list of str, optional
        The KPIs to compare (default all the case measures).
    seasonal : None, "none", int or "months"
        The yearly cycle the regressions allow for: K pairs of Fourier terms, a dummy per month, or none;
        default the case's own ``adoption.seasonality``. With none, a KPI whose baseline months show a
        yearly pattern (a Wald test of two harmonic pairs on them, p below ``alpha``) says so in its note.
    horizon_months : int
        The effect is averaged over this many months after the transition.
    correction : {"holm", "bh", "none"}
        Across the KPIs tested: Holm (family-wise error, the default), Benjamini–Hochberg (false discovery
        rate) or none.
    primary : str, optional
        A KPI declared primary before looking at the data: tested at full ``alpha``, with the correction
        applied to the others only; default the case's own ``primary_kpi`` (when it is among those compared).

    Returns
    -------
    CaseComparison
        Fitted once; its ``table`` has one row per KPI:

        - ``case_id, kpi, label, unit, better, category, scale``;
        - ``n_before, n_after``: periods in each phase (transition excluded);
        - ``baseline, post``: the mean level before and after (geometric means for positive ratio-scale
          KPIs, arithmetic otherwise), and ``post_ci_low, post_ci_high``, a Newey–West CI of the
          post-adoption mean (descriptive);
        - ``simple_change``: the direction-aware change from ``baseline`` to ``post`` (percent, or
          points): descriptive only, since it mistakes a continuing trend for a change;
        - ``improvement, ci_low, ci_high, improvement_unit``: **the effect**, direction-aware (a 20% drop
          in defects is +20): the average difference, over the first ``horizon_months`` after the
          transition, between the KPI and its baseline trend extrapolated — percent for ratio-scale KPIs,
          points for interval-scale KPIs such as NPS; the CI at level 1 − ``alpha``, not adjusted;
        - ``p_value`` of the effect (AR(1) parametric bootstrap, see :func:`its`) and ``p_adjusted``
          (``correction`` across the KPIs tested; NaN for those described, not tested);
        - ``autocorrelation``: the KPI's estimated AR(1) coefficient;
        - ``its_level_change, its_level_ci_low, its_level_ci_high, its_level_p``: the level change at
          the first period after the transition (the other estimand, reported beside the effect),
          ``its_slope_change, its_slope_p, its_pre_slope, its_pre_slope_p``: the parts of the effect (see
          :func:`its`; raw direction, % on the log scale);
        - ``xmr_signals_better, xmr_signals_worse``: post-adoption points that break the baseline's XmR
          limits or zone rules, by direction (descriptive);
        - ``effect, effect_se, critical``: the effect as pooled across cases, a direction-aware log ratio
          (points for interval scale), its one standard error (what pooling weighs by), and the critical
          value that makes the interval: ``effect ± critical · effect_se`` on that scale, ``critical``
          the bootstrap's calibrated quantile (so not 1.96);
        - ``detectable``: the smallest improvement (% or points) the KPI's test would have found with 80%
          power, with these data: ``(q + 0.84) · effect_se``, ``q`` the interval's multiplier at the level
          the correction's first step tests at; the case report states it for a KPI with no clear change
          (``ck.plan`` simulates the same before measuring, and reads 3–4 points higher);
        - ``descriptive``: True with fewer than 12 periods on a side;
        - ``verdict``: ``improved`` / ``worsened`` (adjusted p-value below ``alpha``), ``no clear
          change``, ``descriptive only`` (the note says which way the estimate points) or ``not enough
          data`` (fewer than 6 periods a side, values that never vary, or a ratio-scale KPI whose
          baseline level is zero); ``note`` says why or adds a caution.

    Notes
    -----
    The effect is the interrupted time series' counterfactual contrast: segmented regression with AR(1)
    errors (generalized least squares; missing months and the transition window are gaps, not neighbours),
    the autocorrelation estimated without its small-sample bias, p-values and intervals from a parametric
    bootstrap of the t statistic, seeded from the series' own values so that the same data always give
    the same interval (a file rounded differently is different data, and its interval may move in the
    last digit). Its error rate is measured in docs/methods.md.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> comparison.table.set_index("kpi").loc["escaped_defects", ["better", "verdict"]].tolist()
    ['lower', 'improved']
    """
    table, fits, seasonal, primary = fit_case(portfolio, case_id, alpha, transition_months, kpis, seasonal,
                                              horizon_months, correction, primary)
    months = portfolio.cases.set_index("case_id").at[case_id, "transition_months"]
    months = int(months if transition_months is None else transition_months)
    return CaseComparison(portfolio, case_id, table, fits, alpha, months, horizon_months, seasonal, correction,
                          primary)


# Up to this many organizations, a portfolio's findings count each one's verdicts as its case report gives
# them (a bootstrap a case); beyond, from its effects' own tests, and say that the case reports can count fewer.
REPORTED_UP_TO = 200


class PortfolioComparison:
    """Every case's effects worked out once, then tested across cases (returned by :func:`compare_portfolio`).

    Attributes
    ----------
    effects : pandas.DataFrame
        One row per case and KPI: ``case_id, kpi, label, unit, category, better, scale, n_before,
        n_after, baseline, post``, ``improvement, ci_low, ci_high, improvement_unit`` (as in
        :func:`compare_case`), ``effect, effect_se`` (direction-aware log ratio, or points, and its
        standard error), ``critical`` (t's quantile: no bootstrap runs here, so a case's interval here
        is the t interval, not its own report's calibrated one), ``p_value`` (t's, likewise),
        ``autocorrelation``, ``descriptive``, ``tested`` (the case's own report tests this KPI), ``usable`` (tested, with a positive standard error: what pooling takes), and the case's
        ``name, sector, maturity_before, maturity_latest, levels_gained`` (an organization with no rated
        appraisal before adoption counts as maturity level 1), and ``design``: ``time series`` for an
        effect fitted from a case's own series, ``published before/after`` or ``published change`` for a
        published source's summary (:func:`casekit.stats.summaries.summary_effects`; ``n_before, n_after,
        autocorrelation`` are NaN, ``p_value`` is z's, and it is ``usable`` only where a spread was printed).
    reported : pandas.DataFrame
        The published cases' before/after values and reported changes as effects, with how each was
        converted and where it is printed (:func:`casekit.stats.summaries.summary_effects`); the ones with a
        spread are also rows of :attr:`effects`.
    levels : pandas.DataFrame
        The published values by maturity level with their trends (:func:`casekit.stats.levels.level_trends`).
    portfolio, alpha, correction, meta_method, meta_test
        What was compared, and how.

    Examples
    --------
    >>> import casekit as ck
    >>> across = ck.compare_portfolio(ck.load_cases("cases"))
    >>> int(across.effects["usable"].sum()), len(across.tests())
    (37, 18)
    """

    def __init__(self, portfolio: Portfolio, effects: pd.DataFrame, alpha: float, correction: str,
                 meta_method: str, meta_test: str, transition_months: int | None = None,
                 horizon_months: int = HORIZON_MONTHS, reported: pd.DataFrame | None = None):
        self.portfolio, self.effects = portfolio, effects
        self.reported = (summary_effects(portfolio.published, portfolio.kpi_definitions, alpha) if reported is None
                         else reported)
        self.levels = level_trends(portfolio.published, portfolio.kpi_definitions, alpha)
        self.alpha, self.correction, self.meta_method, self.meta_test = alpha, correction, meta_method, meta_test
        self.transition_months, self.horizon_months = transition_months, horizon_months

    def as_reported(self) -> pd.DataFrame:
        """:attr:`effects` with each organization's result as its own case report states it.

        Each case is fitted as :func:`compare_case` fits it, bootstrap and correction across the case's KPIs
        included (with this comparison's ``alpha``, transition and horizon, and the case's own settings), so
        that an organization's KPI reads the same in its case report and in the portfolio's tables and
        charts: about a tenth of a second a case, where :attr:`effects` skips the bootstrap. Pooling keeps
        using :attr:`effects`' estimates and standard errors, which are the same fits'.

        Returns
        -------
        pandas.DataFrame
            :attr:`effects`' columns, with ``improvement, ci_low, ci_high`` the case report's (its calibrated
            interval), and ``verdict`` its verdict (``improved``, ``worsened``, ``no clear change``,
            ``descriptive only`` or ``not enough data``; ``reported`` for a published source's summary, whose
            figures stay as converted).

        Examples
        --------
        >>> import casekit as ck
        >>> reported = ck.compare_portfolio(ck.load_cases("cases")).as_reported()
        >>> int((reported["verdict"] == "improved").sum())
        16
        """
        tables = [fit_case(self.portfolio, case_id, self.alpha, self.transition_months,
                           horizon_months=self.horizon_months)[0] for case_id in self.portfolio.cases["case_id"]]
        columns = ["case_id", "kpi", "improvement", "ci_low", "ci_high", "verdict"]
        cases = pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)
        reported = self.effects.drop(columns=columns[2:5]).merge(cases, on=["case_id", "kpi"], how="left")[
            [*self.effects.columns, "verdict"]]
        published = (reported["design"] != TIME_SERIES).to_numpy()  # as the source reported it: no case report
        reported.loc[published, columns[2:5]] = self.effects.loc[published, columns[2:5]].to_numpy()
        reported.loc[published, "verdict"] = "reported"
        return reported

    def tests(self, by: str = "kpi") -> pd.DataFrame:
        """Cross-case tests of improvement, one row per KPI (or per SEI category).

        Each case contributes the effect its own verdict tests, with that test's standard error; a KPI a
        case describes rather than tests (fewer than 12 periods a side) is left out, and ``left_out`` and
        the note say how many.

        Parameters
        ----------
        by : {"kpi", "category"}
            One row per KPI, or per SEI category: a case's ratio-scale KPIs in a category are averaged
            first (the mean of their direction-aware log ratios), with the mean of their standard errors
            as its standard error (exact when the KPIs' estimates are perfectly correlated, an upper bound
            otherwise). The percent follows the direction most of the category's rows share.

        Returns
        -------
        pandas.DataFrame
            One row per KPI (``kpi``) or category (``category``), with ``category, scale, k`` (cases
            pooled), ``median_improvement`` and ``improvement_unit`` (% or points); the random-effects
            model: ``pooled_improvement, pooled_ci_low, pooled_ci_high, pi_low, pi_high`` (same unit),
            ``tau2, i2, q, q_pvalue``; ``p_value`` (the robust test) and ``p_adjusted``; the paired tests
            ``wilcoxon_stat, wilcoxon_p, t_stat, t_p, sign_positive, sign_n, sign_p``; the effect size
            ``dz, dz_ci_low, dz_ci_high``; ``heterogeneity_note``; ``left_out``; and ``verdict``:
            ``improved`` / ``worsened`` when ``p_adjusted < alpha``, ``no clear change``, or ``not enough
            data`` (fewer than 2 cases).

        Notes
        -----
        The primary test is the random-effects meta-analysis with the cluster-robust (CR2) variance and
        Satterthwaite degrees of freedom (Tipton 2015; metafor's ``robust(..., clubSandwich=TRUE)``): it
        holds its error rate although each case's standard error is itself estimated from a short series
        (see :func:`casekit.meta_analysis`). The Wilcoxon signed-rank test is the distribution-free check, but with k cases its
        smallest two-sided p-value is 2/2^k, which a correction over many KPIs may never let through; the
        paired t and the sign test are reported beside it for sensitivity.

        Examples
        --------
        >>> import casekit as ck
        >>> comparison = ck.compare_portfolio(ck.load_cases("cases"))
        >>> row = comparison.tests().set_index("kpi").loc["defect_density"]
        >>> int(row["k"]), row["verdict"]
        (5, 'no clear change')
        """
        return portfolio_tests(self.effects, self.portfolio.kpi_definitions, by, self.correction, self.alpha,
                               self.meta_method, self.meta_test)

    def categories(self, reference: pd.DataFrame | None = None) -> pd.DataFrame:
        """Median, lowest and highest improvement per SEI category (:func:`casekit.stats.breakdowns.category_summary`).

        Parameters
        ----------
        reference : pandas.DataFrame, optional
            Published medians per category (``category, median``), shown beside
            the portfolio's, e.g. the SEI's (``casekit.project.reference_path()``).

        Returns
        -------
        pandas.DataFrame
            ``category, data_points, cases, median, lowest, highest`` and, with a
            reference, ``reference_median``.

        Examples
        --------
        >>> import casekit as ck, pandas as pd
        >>> table = ck.compare_portfolio(ck.load_cases("cases")).categories(pd.read_csv(ck.project.reference_path()))
        >>> list(table.columns)
        ['category', 'data_points', 'cases', 'median', 'lowest', 'highest', 'reference_median']
        """
        return category_summary(self.effects, reference)

    def subgroups(self, by: str = "sector") -> pd.DataFrame:
        """Pooled improvement per KPI within subgroups of cases (:func:`casekit.stats.breakdowns.subgroup_analysis`).

        Parameters
        ----------
        by : str, default "sector"
            A column of :attr:`effects`: ``"sector"``, ``"maturity_latest"``,
            ``"levels_gained"``...

        Returns
        -------
        pandas.DataFrame
            The columns of :func:`casekit.stats.breakdowns.subgroup_analysis`.

        Examples
        --------
        >>> import casekit as ck
        >>> table = ck.compare_portfolio(ck.load_cases("cases")).subgroups("maturity_latest")
        >>> sorted(table["maturity_latest"].unique().tolist())
        [3, 4, 5]
        """
        return subgroup_analysis(self.effects, by, self.meta_method, self.alpha, self.correction)

    def dose(self, by: str = "category") -> pd.DataFrame:
        """Do organizations that gained more maturity levels improve more? (:func:`casekit.stats.breakdowns.dose_response`)

        Parameters
        ----------
        by : {"category", "kpi", "all"}, default "category"
            One correlation per SEI category, per KPI, or over all KPIs.

        Returns
        -------
        pandas.DataFrame
            ``<by>, n, levels, rho, p_value``.

        Examples
        --------
        >>> import casekit as ck
        >>> list(ck.compare_portfolio(ck.load_cases("cases")).dose().columns)
        ['category', 'n', 'levels', 'rho', 'p_value']
        """
        return dose_response(self.effects, by)

    def robustness(self) -> pd.DataFrame:
        """How each pooled KPI's result holds when any one organization is left out, and who is influential.

        Each KPI pooled from three or more organizations is pooled again without each of them, by the same
        model and test (metafor's ``leave1out``), and each organization's influence is measured with
        metafor's ``influence`` diagnostics (:mod:`casekit.stats.influence`). A pooled result is *clear*
        as the report's verdict decides it: its p-value, corrected across KPIs as the verdict's was, below
        alpha.

        Returns
        -------
        pandas.DataFrame
            The columns of :func:`casekit.stats.influence.kpi_robustness`; ``summary`` is the line the
            portfolio report prints under each pooled KPI.

        Examples
        --------
        >>> import casekit as ck
        >>> table = ck.compare_portfolio(ck.load_cases("cases")).robustness().set_index("kpi")
        >>> table.loc["defect_density", ["k", "loo_low", "loo_high"]].round(1).tolist()
        [5.0, 16.4, 31.4]
        """
        tests = self.tests()
        pooled = tests[tests["p_value"] > 0]
        adjustment = dict(zip(pooled["kpi"], pooled["p_adjusted"] / pooled["p_value"]))
        return kpi_robustness(self.effects, self.meta_method, self.meta_test, self.alpha, adjustment)

    def event_study(self, kpi: str, leads: int = 12, lags: int = 24) -> KpiEventStudy:
        """A KPI's change by months since adoption, against the organizations not yet adopting
        (:func:`casekit.report.event_time.event_study`, at this comparison's ``alpha``).

        Parameters
        ----------
        kpi : str
            The KPI.
        leads, lags : int
            Months before adoption and after it.

        Returns
        -------
        KpiEventStudy

        Examples
        --------
        >>> import casekit as ck
        >>> comparison = ck.compare_portfolio(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3))
        >>> comparison.event_study("defect_density").cohorts
        17
        """
        return event_study(self.portfolio, kpi, leads, lags, self.alpha)

    def event_studies(self, leads: int = 12, lags: int = 24) -> list[KpiEventStudy]:
        """:meth:`event_study` for every KPI measured by enough organizations to say something.

        A KPI takes part when at least :data:`casekit.report.event_time.MIN_ORGANIZATIONS` organizations
        measure it and they adopted in more than one month.

        Parameters
        ----------
        leads, lags : int
            Months before adoption and after it.

        Returns
        -------
        list of KpiEventStudy
            In the order of the KPIs in :attr:`effects`.

        Examples
        --------
        >>> import casekit as ck
        >>> ck.compare_portfolio(ck.load_cases("cases")).event_studies()
        []
        >>> len(ck.compare_portfolio(ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3)).event_studies())
        2
        """
        kpis = self.portfolio.kpis[["case_id", "kpi"]].drop_duplicates()
        starts = kpis.merge(self.portfolio.cases[["case_id", "adoption_start"]], on="case_id")
        counts = starts.groupby("kpi").agg(organizations=("case_id", "size"), months=("adoption_start", "nunique"))
        enough = counts[(counts["organizations"] >= MIN_ORGANIZATIONS) & (counts["months"] > 1)].index
        studies = []
        for kpi in [kpi for kpi in self.effects["kpi"].unique() if kpi in enough]:
            try:
                studies.append(self.event_study(kpi, leads, lags))
            except ArgumentError:  # no cohort with organizations not yet adopting to compare with
                continue
        return studies

    def dose_points(self, by: str = "category") -> pd.DataFrame:
        """One point per case for :meth:`dose`'s chart (:func:`casekit.stats.breakdowns.dose_points`).

        Parameters
        ----------
        by : {"category", "kpi", "all"}, default "category"
            As :meth:`dose`.

        Returns
        -------
        pandas.DataFrame
            ``case_id, <by>, levels_gained, effect``.

        Examples
        --------
        >>> import casekit as ck
        >>> list(ck.compare_portfolio(ck.load_cases("cases")).dose_points().columns)
        ['case_id', 'category', 'levels_gained', 'effect']
        """
        return dose_points(self.effects, by)

    def plot_levels(self, case_id: str, kpi: str):
        """A published case's values of a KPI by maturity level and their trend
        (:func:`casekit.report.plots.level_chart`).

        Parameters
        ----------
        case_id, kpi : str
            A row of :attr:`levels`.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import casekit as ck
        >>> ck.compare_portfolio(ck.load_cases("cases")).plot_levels("motorola-ged", "cycle_time_factor").get_title()
        'Cycle-time factor by maturity level'
        """
        return _level_chart(self.portfolio, self.levels, case_id, kpi)

    def findings(self, reported: pd.DataFrame | None = None) -> Findings:
        """The portfolio's findings, by KPI and by category.

        Parameters
        ----------
        reported : pandas.DataFrame, optional
            :meth:`as_reported`, when already worked out: the headline counts each organization's verdicts
            as its case report gives them. Without it they are worked out here for up to
            :data:`REPORTED_UP_TO` organizations; beyond, the headline counts each organization's tests in
            :attr:`effects` and says that its case report can count fewer.

        Returns
        -------
        Findings
            The headline (a paragraph in plain words), the KPI and category sentences, the items as data.

        Examples
        --------
        >>> import casekit as ck
        >>> print(ck.compare_portfolio(ck.load_cases("cases")).findings().headline)  # doctest: +ELLIPSIS
        Organization by organization, 8 of 8 improved at least one KPI ...
        """
        labels = self.portfolio.kpis.drop_duplicates("kpi").set_index("kpi")["label"].to_dict()
        if reported is None and len(self.portfolio.cases) <= REPORTED_UP_TO:
            reported = self.as_reported()
        with_series = self.portfolio.kpis["case_id"].nunique()  # a published case of summaries has none
        return portfolio_findings(self.tests(), self.tests(by="category"), labels, with_series,
                                  self.alpha, self.correction, self.effects if reported is None else reported)

    def summary(self, reported: pd.DataFrame | None = None):
        """The portfolio's findings for a report or notebook: the headline first, then by KPI and by category
        (``reported``: as :meth:`findings`).

        Parameters
        ----------
        reported : pandas.DataFrame, optional
            Each organization's verdicts as their case reports give them
            (:meth:`as_reported`); by default the portfolio's own tests.

        Returns
        -------
        Summary
            Displays as headed lists in a notebook; ``.text`` is the plain text.

        Examples
        --------
        >>> import casekit as ck
        >>> print(ck.compare_portfolio(ck.load_cases("cases")).summary().text.splitlines()[0][:40])
        - Organization by organization, 8 of 8 i
        """
        from .presentation import portfolio_block

        return portfolio_block(self.findings(reported), self.alpha)

    def __repr__(self) -> str:
        return (f"<PortfolioComparison: {len(self.portfolio.cases):,} organizations, "
                f"{self.effects['kpi'].nunique()} KPIs, {int(self.effects['usable'].sum()):,} effects pooled; "
                f"alpha {self.alpha:g}, {self.correction} correction, {self.meta_method} random effects, "
                f"{self.meta_test} test>")


def _level_chart(portfolio: Portfolio, levels: pd.DataFrame, case_id: str, kpi: str):
    from . import plots

    chosen = levels[(levels["case_id"] == case_id) & (levels["kpi"] == kpi)]
    if chosen.empty:
        shown = ", ".join(f"{c}/{k}" for c, k in zip(levels["case_id"], levels["kpi"])) or "none"
        raise ArgumentError(f"no values by maturity level for {case_id}/{kpi}; there are: {shown}")
    values = level_values(portfolio.published[portfolio.published["case_id"] == case_id])
    return plots.level_chart(values[values["kpi"] == kpi], chosen.iloc[0])


def compare_portfolio(portfolio: Portfolio, kpis=None, correction: str = "holm", alpha: float = 0.05,
                      meta_method: str = "DL", meta_test: str = "robust", transition_months: int | None = None,
                      horizon_months: int = HORIZON_MONTHS) -> PortfolioComparison:
    """Every case's effects, worked out once, ready to be tested across cases.

    Parameters
    ----------
    portfolio : Portfolio
    kpis : list of str, optional
        KPIs to compare (default every KPI measured by a case).
    correction : {"holm", "bh", "none"}
        Multiplicity correction across the rows tested: Holm (family-wise error) or Benjamini–Hochberg
        (false discovery rate).
    alpha : float
        Level for CIs and the verdicts.
    meta_method : {"DL", "PM"}
        tau² estimator of the random-effects model.
    meta_test : {"robust", "hk", "z"}
        How the pooled effect is tested (:func:`casekit.meta_analysis`): the cluster-robust CR2 variance
        with Satterthwaite degrees of freedom (default), Hartung–Knapp with the ad hoc floor, or the usual
        normal test.
    transition_months : int, optional
        Override every case's transition window.
    horizon_months : int
        The effect is averaged over this many months after the transition.

    Returns
    -------
    PortfolioComparison
        Ask it for ``.tests(by=)``, ``.categories()``, ``.subgroups(by)``, ``.dose()`` and
        ``.findings()``; ``.effects`` holds every case's effect.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_portfolio(ck.load_cases("cases"))
    >>> row = comparison.tests(by="category").set_index("category").loc["schedule"]
    >>> int(row["k"]), row["verdict"]
    (8, 'no clear change')
    """
    if correction not in CORRECTIONS:
        raise ArgumentError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    if meta_method not in METHODS or meta_test not in TESTS:
        raise ArgumentError(f"meta_method must be one of {', '.join(METHODS)} and meta_test one of "
                            f"{', '.join(TESTS)}; got {meta_method!r} and {meta_test!r}")
    reported = summary_effects(portfolio.published, portfolio.kpi_definitions, alpha)
    effects = portfolio_effects(portfolio, kpis, alpha, transition_months, horizon_months, reported=reported)
    pooled = effects[(effects["design"] != TIME_SERIES) & effects["usable"]].set_index(["case_id", "kpi"]).index
    reported["pooled"] = pd.MultiIndex.from_frame(reported[["case_id", "kpi"]]).isin(pooled)  # once per case
    return PortfolioComparison(portfolio, effects, alpha, correction, meta_method, meta_test, transition_months,
                               horizon_months, reported)
