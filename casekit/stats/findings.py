"""Findings in plain language, from the statistics' tables: structured data first, sentences from it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .multiplicity import adjust_pvalues
from .notes import format_p
from .summaries import TIME_SERIES
from .within import CORRECTION_NAMES


def confidence(alpha: float) -> str:
    """``95% CI`` for ``alpha = 0.05``: how every interval casekit prints is labelled.

    Parameters
    ----------
    alpha : float
        The test's level.

    Returns
    -------
    str

    Examples
    --------
    >>> confidence(0.05), confidence(0.1)
    ('95% CI', '90% CI')
    """
    return f"{100 * (1 - alpha):g}% CI"


def format_level(value: float, unit: str = "", written: bool = False) -> str:
    """A KPI's level as a reader writes it: an estimate with one decimal from 1 to 100, none from 100, three
    significant figures below 1; a number someone wrote (a target: ``written=True``) as they wrote it; the
    unit after it (``%`` without a space).

    Parameters
    ----------
    value : float
        The level.
    unit : str, default ""
        The KPI's unit.
    written : bool, default False
        The number is one the case wrote (a target), shown as written.

    Returns
    -------
    str

    Examples
    --------
    >>> format_level(71.4412, "% of releases"), format_level(0.4521, "defects per KLOC"), format_level(1234.5)
    ('71.4% of releases', '0.452 defects per KLOC', '1,234')
    >>> format_level(3, "% of revenue", written=True)
    '3% of revenue'
    """
    size = abs(value)
    if written:
        number = f"{value:,g}"
    else:
        number = f"{value:,.0f}" if size >= 100 else f"{value:,.1f}" if size >= 1 else f"{value:.3g}"
    if not unit:
        return number
    return f"{number}{unit}" if unit.startswith("%") else f"{number} {unit}"


@dataclass(frozen=True)
class Findings:
    """What a report says, as data: the headline, each group's sentences, and the items behind them.

    ``groups`` maps a group (``improved``, ``worsened``, ``no clear change``, ``descriptive only``, ``not
    enough data``, ``goal``, ``roi`` for a case; ``kpi`` and ``category`` for a portfolio) to its sentences,
    in reading order; ``items`` is one row per sentence with its ``group``, the ``kpi`` (or goal or category)
    it is about, its ``label`` and ``verdict`` (and, for a case's KPIs, the comparison unit it was measured
    ``against``, or ""), so that nothing downstream parses the sentences back;
    ``counts`` gives the number of KPIs (or tests) per verdict.

    Examples
    --------
    >>> import casekit as ck
    >>> findings = ck.compare_case(ck.load_cases("cases"), "quantia-tech").findings()
    >>> findings.headline.split(",")[0], findings.counts["improved"]
    ('Of 5 KPIs', 4)
    >>> findings.items.loc[findings.items["verdict"] == "improved", "kpi"].tolist()[:2]
    ['customer_satisfaction', 'defect_density']
    """

    headline: str
    groups: dict[str, list[str]]
    items: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def verdicts(self) -> dict:
        """The headline and the labels of the KPIs found improved and worsened: what the index of a render shows
        of a report, carried beside the notebook's findings as :data:`casekit.report.formats.FINDINGS_MIME` (never read back from the
        sentences, whatever a label holds).

        Returns
        -------
        dict
            ``headline`` (str), ``improved`` and ``worsened`` (lists of KPI labels).

        Examples
        --------
        >>> import casekit as ck
        >>> ck.compare_case(ck.load_cases("cases"), "quantia-tech").findings().verdicts()["improved"]
        ['Customer satisfaction', 'Defect density', 'Escaped defects', 'Net Promoter Score']
        """
        kpis = self.items[~self.items["group"].isin(NOT_KPIS)] if len(self.items) else self.items
        return {"headline": self.headline,
                **{verdict: [str(label) for label in kpis.loc[kpis["verdict"] == verdict, "label"]]
                   for verdict in ("improved", "worsened")}}

    @property
    def sentences(self) -> list[str]:
        """Every sentence, the headline first.

        Returns
        -------
        list of str

        Examples
        --------
        >>> import casekit as ck
        >>> found = ck.compare_case(ck.load_cases("cases"), "quantia-tech").findings()
        >>> found.sentences[0] == found.headline
        True
        """
        return [self.headline] + [line for lines in self.groups.values() for line in lines]

    def __repr__(self) -> str:
        return "\n".join(f"- {line}" for line in self.sentences)


NOT_KPIS = ("goal", "roi", "category")  # the groups of findings about something other than one KPI

CASE_GROUPS = ("improved", "worsened", "no clear change", "descriptive only", "not enough data", "reported",
               "by level", "goal", "roi")


def _unit_text(row: pd.Series) -> str:
    return "%" if row["improvement_unit"] == "%" else " points"


def _improvement_text(row: pd.Series, alpha: float) -> str:
    unit = _unit_text(row)
    return (f"{row['improvement']:+.1f}{unit} ({confidence(alpha)} {row['ci_low']:+.1f} to "
            f"{row['ci_high']:+.1f})")


def case_findings(table: pd.DataFrame, goals: pd.DataFrame, money: pd.DataFrame, alpha: float = 0.05,
                  correction: str = "holm", primary: str | None = None, reported: pd.DataFrame | None = None,
                  levels: pd.DataFrame | None = None) -> Findings:
    """A case's findings from its comparison's table, goals and ROI (see :meth:`casekit.CaseComparison.findings`).

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`casekit.CaseComparison.table`.
    goals : pandas.DataFrame
        :meth:`casekit.CaseComparison.goals`.
    money : pandas.DataFrame
        :meth:`casekit.CaseComparison.roi`.
    alpha : float, default 0.05
        The tests' level.
    correction : {"holm", "bh", "none"}, default "holm"
        The correction the table's verdicts used (named in the sentences).
    primary : str, optional
        The case's primary KPI, named first.
    reported : pandas.DataFrame, optional
        A published case's reported effects (:attr:`casekit.CaseComparison.reported`).
    levels : pandas.DataFrame, optional
        Its values by maturity level (:attr:`casekit.CaseComparison.levels`).

    Returns
    -------
    Findings
        The headline, the sentences, the counts and the items as data.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> found = case_findings(comparison.table, comparison.goals(), comparison.roi(), primary=comparison.primary)
    >>> found.headline == comparison.findings().headline
    True
    """
    counts = table["verdict"].value_counts().to_dict()
    tested = int(table["p_adjusted"].notna().sum())
    named = CORRECTION_NAMES[correction]
    how = (f"{100 * (1 - alpha):g}% confidence" + (f", {named}-corrected across the {tested} tested"
                                                    if correction != "none" and tested > 1 else ""))
    if primary is not None:
        how += f"; {table.set_index('kpi').at[primary, 'label']} is the primary KPI, tested on its own"
    against = table["comparison"].fillna("") if "comparison" in table else pd.Series("", index=table.index)
    units = sorted(set(against) - {""})
    basis = "beyond their trend before adoption" if not units else (
        f"beyond what {units[0]} did" if (against != "").all() else
        f"beyond their trend before adoption, or what {units[0]} did")
    headline = (f"Of {len(table)} KPIs, {counts.get('improved', 0)} improved, {counts.get('worsened', 0)} worsened "
                f"and {counts.get('no clear change', 0)} showed no clear change {basis} "
                f"({how})."
                + (f" {counts['descriptive only']} descriptive only (too few periods to test)."
                   if counts.get("descriptive only") else "")
                + (f" {counts['not enough data']} had too little data." if counts.get("not enough data") else ""))
    if table.empty and (len(reported if reported is not None else []) or len(levels if levels is not None else [])):
        headline = ("No KPI was measured over time here: this is a published case study, and what follows is what "
                    "its source reported, converted as the report's methods say.")
    groups: dict[str, list[str]] = {group: [] for group in CASE_GROUPS}
    items = []
    for group, rows, sentence in (("reported", reported, _reported_text), ("by level", levels, _level_text)):
        for _, row in (rows if rows is not None else pd.DataFrame()).iterrows():
            text = sentence(row, alpha)
            groups[group].append(text)
            items.append({"group": group, "kpi": row["kpi"], "label": row["label"], "verdict": "reported", "against": "",
                          "text": text})
    for _, row in table.iterrows():
        if row["verdict"] == "not enough data":
            text = f"{row['label']}: not enough data ({row['note']})."
        else:
            verdict = "" if row["verdict"] == "descriptive only" else f"{row['verdict']}, "  # the note says it
            could = ""
            if row["verdict"] == "no clear change" and np.isfinite(row.get("detectable", np.nan)):
                could = (f"; with these data this case could have detected a change of ±{row['detectable']:.0f}"
                         f"{_unit_text(row)} (80% power)")
            text = f"{row['label']}: {verdict}{_improvement_text(row, alpha)}{could}" + (
                f"; {row['note']}." if row["note"] else ".")
        groups[row["verdict"]].append(text)
        items.append({"group": row["verdict"], "kpi": row["kpi"], "label": row["label"], "verdict": row["verdict"],
                      "text": text, "against": row.get("comparison") or ""})
    labels = table.set_index("kpi")["label"].to_dict()
    for _, goal in goals.iterrows():
        text = _goal_text(goal, table.set_index("kpi"), alpha)
        groups["goal"].append(text)
        items.append({"group": "goal", "kpi": goal["kpi"], "label": labels.get(goal["kpi"], goal["kpi"]),
                      "verdict": goal["status"], "text": text})
    row = money.iloc[0]
    if pd.notna(row["benefit"]):
        payback = (f"paid back after {int(row['payback_months'])} months" if pd.notna(row["payback_months"])
                   else "not paid back within the data")
        discounted = f", discounted at {100 * row['discount_rate']:g}% a year" if row["discount_rate"] else ""
        text = (f"Estimated benefit {_money(row['benefit'])} {row['currency']} ({confidence(alpha)} "
                f"{_money(row['benefit_low'])} to {_money(row['benefit_high'])}) over {int(row['valuation_months'])} "
                f"months{discounted}, against an investment of {_money(row['investment'])} {row['currency']}: "
                f"{row['benefit_cost_ratio']:.1f} : 1, {payback}.")
        groups["roi"].append(text)
        items.append({"group": "roi", "kpi": row["kpis_valued"], "label": "", "verdict": "", "text": text})
    columns = ["group", "kpi", "label", "verdict", "text", "against"]
    return Findings(headline, groups, pd.DataFrame(items, columns=columns).fillna({"against": ""}), counts)


def _reported_text(row: pd.Series, alpha: float) -> str:
    """A published before/after or change in words, with its interval where a spread was printed."""
    unit = _unit_text(row)
    what = "from before to after" if row["design"].endswith("before/after") else "as a reported change"
    size = f", {int(row['n'])} projects or organizations" if pd.notna(row["n"]) else ""
    where = f"; {row['location']}" if row["location"] else ""
    if row["pooled"]:
        spread = f" ({confidence(alpha)} {row['ci_low']:+.1f} to {row['ci_high']:+.1f}{size})"
    else:  # the note says why: no spread printed, or one too skewed to convert
        spread = f" ({row['note'] or 'described, not pooled'}{size})"
    note = f"; {row['note']}" if row["note"] and row["pooled"] else ""
    return f"{row['label']}: {row['improvement']:+.1f}{unit} {what}{spread}{note}{where}."


def _level_text(row: pd.Series, alpha: float) -> str:
    """A KPI by maturity level in words: from the lowest level printed to the highest, and the trend a level."""
    unit = _unit_text(row)
    trend = ""
    if pd.notna(row["p_value"]):
        trend = (f"; {_better(row['per_level'], unit)} a level ({confidence(alpha)} {row['per_level_ci_low']:+.1f} to "
                 f"{row['per_level_ci_high']:+.1f}, trend p {format_p(row['p_value'])})")
    return (f"{row['label']} by maturity level: {format_level(row['lowest_value'], row['unit'])} at level "
            f"{row['lowest_level']}, {format_level(row['highest_value'], row['unit'])} at level {row['highest_level']} "
            f"({_better(row['overall'], unit, 0)}, {row['projects']} projects){trend}. A cross-sectional comparison: "
            "an association, not the effect of raising a level.")


def _better(value: float, unit: str, digits: int = 1) -> str:
    """``48% better`` or ``12.0 points worse``: a direction-aware change in words."""
    return f"{abs(value):.{digits}f}{unit} {'better' if value >= 0 else 'worse'}"


def _money(value: float) -> str:
    """An estimated amount to three significant figures: an estimate has no more."""
    return f"{float(f'{value:.3g}'):,.0f}"


def _goal_text(goal: pd.Series, kpis: pd.DataFrame, alpha: float) -> str:
    caution = f" ({goal['note']})" if goal["note"] else ""
    against = ""
    if goal["target_kind"] == "change_pct" and pd.notna(goal["achieved"]):
        beyond = ""
        if pd.notna(goal["beyond_trend"]):
            unit = "%" if goal["beyond_trend_unit"] == "%" else " points"
            beyond = f"; {goal['beyond_trend']:+.1f}{unit} beyond the earlier trend"
        against = (f", {goal['achieved']:+.1f}% against the level before adoption ({confidence(alpha)} "
                   f"{goal['ci_low']:+.1f} to {goal['ci_high']:+.1f}{beyond}) against a target of "
                   f"{goal['target']:.0f}% better")
    elif goal["target_kind"] == "value" and pd.notna(goal["achieved"]) and goal["kpi"] in kpis.index:
        higher = kpis.at[goal["kpi"], "better"] == "higher"
        against = (f", {format_level(goal['achieved'], goal['unit'])} in the first year after adoption "
                   f"({confidence(alpha)} {format_level(goal['ci_low'])} to {format_level(goal['ci_high'])}) against "
                   f"a target of {'at least' if higher else 'at most'} {format_level(goal['target'], goal['unit'], True)}")
    return f"Goal {goal['goal_id']} ({goal['statement']}): {goal['status']}{against}{caution}."


def portfolio_findings(by_kpi: pd.DataFrame, by_category: pd.DataFrame, labels: dict, organizations: int,
                       alpha: float = 0.05, correction: str = "holm", effects: pd.DataFrame | None = None
                       ) -> Findings:
    """The portfolio's findings from its tests by KPI and by category (see
    :meth:`casekit.PortfolioComparison.findings`).

    The headline is a paragraph in plain words: what the organizations showed one by one (from ``effects``,
    each organization's own interval), what the pooled evidence shows per KPI, and why a KPI that improved
    in several organizations can still show no clear change across them. The statistics' names are in the
    KPI sentences, not the headline.

    Parameters
    ----------
    by_kpi, by_category : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.tests` by KPI and by category.
    labels : dict of str to str
        Each KPI's label.
    organizations : int
        Organizations in the portfolio.
    alpha : float, default 0.05
        The tests' level.
    correction : {"holm", "bh", "none"}, default "holm"
        The correction the tests used.
    effects : pandas.DataFrame, optional
        Each organization's effects (for the headline's first part).

    Returns
    -------
    Findings

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_portfolio(ck.load_cases("cases"))
    >>> labels = dict(ck.kpi_catalog()[["kpi", "label"]].values)
    >>> found = portfolio_findings(comparison.tests(), comparison.tests(by="category"), labels, 8,
    ...                            effects=comparison.as_reported())
    >>> found.headline == comparison.findings().headline
    True
    """
    named = CORRECTION_NAMES[correction]
    tested = by_kpi[by_kpi["verdict"] != "not enough data"]
    counts = tested["verdict"].value_counts().to_dict()
    stated = f"{100 * (1 - alpha):g}% confidence" + (f", {named} correction across the {len(tested)}"
                                                    if correction != "none" and len(tested) > 1 else "")
    single = len(by_kpi) - len(tested)
    pooled = (f"Across {organizations:,} organizations, of the {len(tested)} KPIs measured by two or more, "
              f"{counts.get('improved', 0)} improved, {counts.get('worsened', 0)} worsened and "
              f"{counts.get('no clear change', 0)} showed no clear change ({stated})"
              + (f"; {single} more KPIs were measured by one organization only." if single else "."))
    headline = pooled if effects is None else plain_headline(tested, effects, labels, organizations, alpha,
                                                              correction)
    level = confidence(alpha)
    corrected = f"once corrected for testing {len(tested)} KPIs" if correction != "none" and len(tested) > 1 else ""
    groups: dict[str, list[str]] = {"kpi": [], "category": []}
    items = []
    for _, row in tested.sort_values("p_adjusted").iterrows():
        unit = "%" if row["improvement_unit"] == "%" else " points"
        p_text = (f"{named}-adjusted p {format_p(row['p_adjusted'])}, unadjusted p {format_p(row['p_value'])}"
                  if corrected else f"p {format_p(row['p_value'])}")
        label = labels.get(row["kpi"], row["kpi"])
        text = (f"{label}: {row['verdict']} across {row['k']:,} organizations"
                f"{' ' + corrected if corrected else ''} ({p_text}); pooled {row['pooled_improvement']:+.1f}{unit} "
                f"({level} {row['pooled_ci_low']:+.1f} to {row['pooled_ci_high']:+.1f}), I² = {100 * row['i2']:.0f}%.")
        groups["kpi"].append(text)
        items.append({"group": "kpi", "kpi": row["kpi"], "label": label, "verdict": row["verdict"], "text": text})
    if effects is not None:
        groups["kpi"].insert(0, pooled)
    for _, row in by_category[by_category["verdict"] != "not enough data"].iterrows():
        text = (f"Category {row['category']}: {row['verdict']}, pooled {row['pooled_improvement']:+.1f}% "
                f"across {row['k']:,} organizations.")
        groups["category"].append(text)
        items.append({"group": "category", "kpi": row["category"], "label": row["category"],
                      "verdict": row["verdict"], "text": text})
    return Findings(headline, groups, pd.DataFrame(items, columns=["group", "kpi", "label", "verdict", "text"]),
                    counts)


def plain_headline(tested: pd.DataFrame, effects: pd.DataFrame, labels: dict, organizations: int,
                   alpha: float = 0.05, correction: str = "holm") -> str:
    """A portfolio's result in plain words: organization by organization, then across them, then why the two
    can differ.

    ``tested``: the tests of the KPIs measured by two or more organizations
    (:meth:`casekit.PortfolioComparison.tests`); ``effects``: each organization's effect per KPI
    (:attr:`casekit.PortfolioComparison.effects`, or :meth:`casekit.PortfolioComparison.as_reported`, whose
    ``verdict`` column is each organization's verdict as its case report gives it). Without that column, an
    organization's KPI counts as improved (worsened) when its test in ``effects``, corrected across the
    organization's KPIs, says so, and the headline says that the case reports, which calibrate each test by
    a bootstrap, can count fewer.

    Parameters
    ----------
    tested : pandas.DataFrame
        The tests by KPI, as above.
    effects : pandas.DataFrame
        Each organization's effects, as above.
    labels : dict of str to str
        Each KPI's label.
    organizations : int
        Organizations in the portfolio.
    alpha : float, default 0.05
        The tests' level.
    correction : {"holm", "bh", "none"}, default "holm"
        The correction, within an organization and across KPIs.

    Returns
    -------
    str

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_portfolio(ck.load_cases("cases"))
    >>> print(comparison.findings().headline)  # doctest: +ELLIPSIS
    Organization by organization, 8 of 8 improved at least one KPI beyond its earlier trend: ...
    """
    usable = effects[effects["usable"]]
    published = usable[usable["design"] != TIME_SERIES] if "design" in usable else usable.iloc[:0]
    usable = usable.drop(published.index)
    if "verdict" in usable:
        better, worse = (usable["verdict"] == "improved").to_numpy(), (usable["verdict"] == "worsened").to_numpy()
        caveat = " in their case reports"
    else:
        adjusted = usable.groupby("case_id")["p_value"].transform(lambda p: adjust_pvalues(p.to_numpy(),
                                                                                          correction))
        significant = (adjusted < alpha).to_numpy()
        better = significant & (usable["improvement"] > 0).to_numpy()
        worse = significant & (usable["improvement"] < 0).to_numpy()
        caveat = (" (by each organization's own tests here; its case report, which calibrates them further, can "
                  "count a few fewer)")
    improving = usable.loc[better, "case_id"].nunique()
    first = (f"Organization by organization, {improving:,} of {organizations:,} improved at least one KPI beyond "
             f"its earlier trend: {int(better.sum()):,} of their {len(usable):,} KPI results improved and "
             f"{int(worse.sum()):,} worsened{caveat}.")
    clear = {verdict: [labels.get(k, k) for k in tested.loc[tested["verdict"] == verdict, "kpi"]]
             for verdict in ("improved", "worsened")}
    if len(published):
        first += (f" Pooled beside them: {len(published):,} result(s) reported by {published['case_id'].nunique():,} "
                  f"published case stud{'y' if published['case_id'].nunique() == 1 else 'ies'}.")
    if not len(tested):
        return first + " No KPI is measured by two or more organizations, so none is compared across them."
    if clear["improved"] or clear["worsened"]:
        parts = [f"{_listed(clear[v])} {v}" for v in ("improved", "worsened") if clear[v]]
        rest = len(tested) - len(clear["improved"]) - len(clear["worsened"])
        across = (f"Across organizations, {' and '.join(parts)}"
                  + (f"; the other {rest} KPIs show no clear change." if rest else "."))
    else:
        across = (f"Across organizations, none of the {len(tested)} KPIs measured by two or more shows a clear "
                  "change.")
    return " ".join([first, across] + _why_not_clear(tested, usable[better], labels, correction))


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _why_not_clear(tested: pd.DataFrame, improved: pd.DataFrame, labels: dict, correction: str,
                   shown: int = 2) -> list[str]:
    """For the KPIs that improved in two or more organizations but show no clear change across them, why."""
    in_cases = improved.groupby("kpi")["case_id"].nunique()
    unclear = tested[(tested["verdict"] == "no clear change") & tested["kpi"].map(in_cases).fillna(0).ge(2)]
    unclear = unclear.assign(cases=unclear["kpi"].map(in_cases)).sort_values(["cases", "p_value"],
                                                                              ascending=[False, True])
    sentences = []
    for _, row in unclear.head(shown).iterrows():
        unit = "%" if row["improvement_unit"] == "%" else " points"
        reasons = []
        if row["pooled_ci_low"] > 0 and correction != "none":
            reasons.append(f"its average, {row['pooled_improvement']:+.1f}{unit}, would count on its own, but not "
                           f"once {len(tested)} KPIs are judged together, where some would look better by chance")
        elif row["k"] <= 3:
            reasons.append(f"only {row['k']} organizations measure it, too few to pin the average down (somewhere "
                           f"from {row['pooled_ci_low']:+.1f}{unit} to {row['pooled_ci_high']:+.1f}{unit})")
        if row["i2"] >= 0.5:
            reasons.append("the organizations' results disagree with each other")
        if not reasons:
            reasons.append(f"the average across its {row['k']} organizations is too uncertain (somewhere from "
                           f"{row['pooled_ci_low']:+.1f}{unit} to {row['pooled_ci_high']:+.1f}{unit})")
        label = labels.get(row["kpi"], row["kpi"])
        sentences.append(f"{label} improved in {int(row['cases'])} of {row['k']} organizations but not clearly "
                         f"across them: {'; and '.join(reasons)}.")
    return sentences
