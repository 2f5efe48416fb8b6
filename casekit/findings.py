"""Findings in plain language, from the statistics' tables."""

from __future__ import annotations

import pandas as pd

from .across import compare_portfolio
from .goals import goal_attainment, roi
from .loading import Portfolio
from .within import compare_case


def confidence(alpha: float) -> str:
    """``95% CI`` for ``alpha = 0.05``: how every interval casekit prints is labelled."""
    return f"{100 * (1 - alpha):g}% CI"


def _improvement_text(row: pd.Series, alpha: float) -> str:
    unit = "%" if row["improvement_unit"] == "%" else " points"
    return (f"{row['improvement']:+.1f}{unit} ({confidence(alpha)} {row['ci_low']:+.1f} to "
            f"{row['ci_high']:+.1f})")


def case_profile(portfolio: Portfolio, case_id: str) -> pd.DataFrame:
    """Who and when, as a two-column table (``field``, ``value``) for the top of a case report."""
    case = portfolio.cases.set_index("case_id").loc[case_id]
    rows = [
        ("organization", case["name"]), ("sector", case["sector"]), ("region", case["region"]),
        ("employees", f"{case['size']:,}"), ("source", case["source"]), ("CMMI model", case["model"]),
        ("adoption start", str(case["adoption_start"])), ("transition (months)", case["transition_months"]),
        ("data", f"{case['first_period']} to {case['last_period']}"),
        ("maturity level before adoption", "not rated" if pd.isna(case["maturity_before"]) else case["maturity_before"]),
        ("maturity level latest", "not rated" if pd.isna(case["maturity_latest"]) else case["maturity_latest"]),
    ]
    return pd.DataFrame(rows, columns=["field", "value"]).astype({"value": str})


def case_findings(portfolio: Portfolio, case_id: str, alpha: float = 0.05,
                  transition_months: int | None = None, kpis=None) -> list[str]:
    """The case's findings as sentences: the headline first, then each KPI (improved, worsened, the rest),
    each goal and the ROI.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.case_findings(ck.load_cases("cases"), "meridian-financial")[0]  # doctest: +NORMALIZE_WHITESPACE
    'Of 5 KPIs, 1 improved, 0 worsened and 4 showed no clear change beyond their trend before adoption
    (95% confidence, Holm-corrected across the 5 compared).'
    """
    groups = case_summary_lines(portfolio, case_id, alpha=alpha, transition_months=transition_months, kpis=kpis)
    return [line for lines in groups.values() for line in lines]


SUMMARY_GROUPS = ("headline", "improved", "worsened", "no clear change", "descriptive only", "not enough data",
                  "goal", "roi")


def case_summary_lines(portfolio: Portfolio, case_id: str, alpha: float = 0.05,
                       transition_months: int | None = None, kpis=None) -> dict[str, list[str]]:
    """:func:`case_findings`' sentences by group: ``headline``, each verdict, ``goal`` and ``roi``."""
    table = compare_case(portfolio, case_id, alpha=alpha, transition_months=transition_months, kpis=kpis)
    counts = table["verdict"].value_counts()
    compared = int(table["p_adjusted"].notna().sum())
    groups: dict[str, list[str]] = {group: [] for group in SUMMARY_GROUPS}
    groups["headline"].append(
        f"Of {len(table)} KPIs, {counts.get('improved', 0)} improved, {counts.get('worsened', 0)} worsened and "
        f"{counts.get('no clear change', 0)} showed no clear change beyond their trend before adoption "
        f"({100 * (1 - alpha):g}% confidence, Holm-corrected across the {compared} compared)."
        + (f" {counts['descriptive only']} descriptive only (too short or too autocorrelated to test)."
           if counts.get("descriptive only") else "")
        + (f" {counts['not enough data']} had too little data." if counts.get("not enough data") else ""))
    for _, row in table.iterrows():
        if row["verdict"] == "not enough data":
            groups["not enough data"].append(f"{row['label']}: not enough data ({row['note']}).")
            continue
        verdict = "" if row["verdict"] == "descriptive only" else f"{row['verdict']}, "  # the note says it
        text = f"{row['label']}: {verdict}{_improvement_text(row, alpha)}"
        groups.setdefault(row["verdict"], []).append(text + (f"; {row['note']}." if row["note"] else "."))
    kpis_of = table.set_index("kpi")
    for _, goal in goal_attainment(portfolio, case_id, alpha=alpha, transition_months=transition_months).iterrows():
        caution = f" ({goal['note']})" if goal["note"] else ""
        against = ""
        if goal["target_kind"] == "change_pct" and pd.notna(goal["achieved"]):
            against = (f", {goal['achieved']:+.1f}% ({confidence(alpha)} {goal['ci_low']:+.1f} to "
                       f"{goal['ci_high']:+.1f}) against a target of {goal['target']:.0f}% better")
        elif goal["target_kind"] == "value" and pd.notna(goal["achieved"]) and goal["kpi"] in kpis_of.index:
            higher = kpis_of.at[goal["kpi"], "better"] == "higher"
            against = (f", {goal['achieved']:,.4g} {goal['unit']} after adoption ({confidence(alpha)} "
                       f"{goal['ci_low']:,.4g} to {goal['ci_high']:,.4g}) against a target of "
                       f"{'at least' if higher else 'at most'} {goal['target']:,.4g}")
        groups["goal"].append(f"Goal {goal['goal_id']} ({goal['statement']}): {goal['status']}{against}{caution}.")
    money = roi(portfolio, case_id, alpha=alpha, transition_months=transition_months).iloc[0]
    if pd.notna(money["benefit"]):
        payback = (f"paid back after {int(money['payback_months'])} months" if pd.notna(money["payback_months"])
                   else "not paid back within the data")
        groups["roi"].append(f"Estimated benefit {money['benefit']:,.0f} {money['currency']} against an investment "
                             f"of {money['investment']:,.0f} {money['currency']}: {money['benefit_cost_ratio']:.1f} : 1, "
                             f"{payback}.")
    return groups


def format_p(p: float) -> str:
    """A p-value as a reader expects it: ``= 0.042``, ``< 0.001``, ``= 1``.

    Examples
    --------
    >>> [format_p(p) for p in (0.04213, 0.0000788, 1.0, 0.5)]
    ['= 0.042', '< 0.001', '= 1', '= 0.500']
    """
    if p != p:
        return "not computed"
    if p < 0.001:
        return "< 0.001"
    return "= 1" if p >= 0.9995 else f"= {p:.3f}"


CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": "no"}


def portfolio_findings(portfolio: Portfolio, alpha: float = 0.05, correction: str = "holm",
                       meta_method: str = "DL") -> list[str]:
    """The portfolio's findings as sentences, from :func:`compare_portfolio` by KPI and by category.

    Examples
    --------
    >>> import casekit as ck
    >>> print(ck.portfolio_findings(ck.load_cases("cases"))[0])
    Across 8 organizations, of the 10 KPIs measured by two or more, 0 improved, 0 worsened and 10 showed no clear change (95% confidence, Holm correction across the 10); 8 more KPIs were measured by one organization only.
    """
    by_kpi = compare_portfolio(portfolio, correction=correction, alpha=alpha, meta_method=meta_method)
    named = CORRECTION_NAMES.get(correction, correction)
    tested = by_kpi[by_kpi["verdict"] != "not enough data"]
    counts = tested["verdict"].value_counts()
    stated = f"{100 * (1 - alpha):g}% confidence" + (f", {named} correction across the {len(tested)}"
                                                    if correction != "none" and len(tested) > 1 else "")
    single = len(by_kpi) - len(tested)
    lines = [f"Across {len(portfolio.cases):,} organizations, of the {len(tested)} KPIs measured by two or more, "
             f"{counts.get('improved', 0)} improved, {counts.get('worsened', 0)} worsened and "
             f"{counts.get('no clear change', 0)} showed no clear change ({stated})"
             + (f"; {single} more KPIs were measured by one organization only." if single else ".")]
    level = confidence(alpha)
    labels = portfolio.kpis.drop_duplicates("kpi").set_index("kpi")["label"]
    corrected = f"once corrected for testing {len(tested)} KPIs" if correction != "none" and len(tested) > 1 else ""
    for _, row in tested.sort_values("p_adjusted").iterrows():
        unit = "%" if row["improvement_unit"] == "%" else " points"
        p_text = (f"{named}-adjusted p {format_p(row['p_adjusted'])}, unadjusted p {format_p(row['p_value'])}"
                  if corrected else f"p {format_p(row['p_value'])}")
        lines.append(
            f"{labels.get(row['kpi'], row['kpi'])}: {row['verdict']} across {row['k']:,} organizations"
            f"{' ' + corrected if corrected else ''} ({p_text}); pooled {row['pooled_improvement']:+.1f}{unit} "
            f"({level} {row['pooled_ci_low']:+.1f} to {row['pooled_ci_high']:+.1f}), I² = {100 * row['i2']:.0f}%.")
    by_category = compare_portfolio(portfolio, by="category", correction=correction, alpha=alpha,
                                    meta_method=meta_method)
    for _, row in by_category[by_category["verdict"] != "not enough data"].iterrows():
        lines.append(f"Category {row['category']}: {row['verdict']}, pooled {row['pooled_improvement']:+.1f}% "
                     f"across {row['k']:,} organizations.")
    return lines
