"""What a report's reader sees: headings, summaries and tables formatted for reading.

The statistics functions return tidy DataFrames with every column, for analysts. These functions turn
them into what an executive reads: labels instead of ids, units, percent and money with the case's
currency, p-values as "< 0.001", no index column, "—" where a value does not apply, effects in one
direction (positive is better) everywhere, and the detail columns folded into a collapsible section so
that no table scrolls sideways.

Each function returns a :class:`Block`: HTML in a notebook or report, plain text in a terminal (and for
nbval, which compares the text).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..inputs.catalog import practice_area_names
from ..inputs.loading import Portfolio
from ..stats.findings import confidence, format_level
from ..stats.notes import format_p
from ..stats.within import CORRECTION_NAMES
from .formats import FINDINGS_MIME
from .summary import case_overview, maturity_label, portfolio_title

DASH = "—"
DETAIL_ROWS = 25  # a longer table shows its first rows and folds the rest into a collapsible section
MAX_ROWS = 500  # and a page holds at most this many rows of a table: a reader pages through no more


class Block:
    """A piece of a report: ``html`` for pages and notebooks, ``text`` for terminals and nbval, and ``data``,
    further outputs by MIME type (a findings block carries its verdicts as data for the index)."""

    def __init__(self, html_text: str, text: str, data: dict | None = None):
        self.html = html_text
        self.text = text
        self.data = data or {}

    def _repr_html_(self) -> str:
        return f'<div class="casekit-block">{self.html}</div>'

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/html": self._repr_html_(), "text/plain": self.text, **self.data}

    def __repr__(self) -> str:
        return self.text


def reader_table(frame: pd.DataFrame, text_columns=(), caption: str = "") -> Block:
    """``frame`` as a reader's table: no index, "—" for missing values, text columns left-aligned.

    Numbers are shown as they are in ``frame``: format them first (the
    other functions here do). Rows beyond the first :data:`DETAIL_ROWS` go
    into a collapsible section, and rows beyond :data:`MAX_ROWS` are left
    out, with a note saying how many and where they are.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, its values already formatted.
    text_columns : sequence of str
        The columns to align left (the others are numbers, aligned right).
    caption : str
        A caption above the table.

    Returns
    -------
    Block
        HTML (with each cell's column name, for a phone's stacked layout) and plain text.

    Examples
    --------
    >>> import pandas as pd
    >>> print(reader_table(pd.DataFrame({"KPI": ["Defects"], "Effect": [None]})))
        KPI Effect
    Defects      —
    """
    left_out = max(0, len(frame) - MAX_ROWS)
    shown = frame.iloc[:MAX_ROWS].astype(object).where(frame.iloc[:MAX_ROWS].notna(), DASH).reset_index(drop=True)
    shown = shown.map(lambda v: f"{v:,}" if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else v)
    head, rest = shown.iloc[:DETAIL_ROWS], shown.iloc[DETAIL_ROWS:]
    body = _html_table(head, text_columns, caption)
    if len(rest):
        body += _details(f"{len(rest):,} more rows", _html_table(rest, text_columns, ""))
    text = (f"{caption}\n" if caption else "") + shown.to_string(index=False)
    if left_out:
        note = (f"{left_out:,} more rows are left out of the page; the notebook's DataFrames and "
                "`casekit export --xlsx` hold them all.")
        body += f"<p class=\"casekit-note\">{note}</p>"
        text += f"\n{note}"
    return Block(body, text)


def _html_table(frame: pd.DataFrame, text_columns, caption: str) -> str:
    left = {str(c) for c in text_columns}
    cells = ["<table class=\"dataframe casekit-table\">"]
    if caption:
        cells.append(f"<caption>{html.escape(caption)}</caption>")
    cells.append("<thead><tr>" + "".join(f"<th{_align(c, left)}>{html.escape(str(c))}</th>" for c in frame.columns)
                 + "</tr></thead><tbody>")
    for row in frame.itertuples(index=False):
        cells.append("<tr>" + "".join(f"<td{_align(c, left)} data-label=\"{html.escape(str(c))}\">"
                                      f"{html.escape(str(v))}</td>" for c, v in zip(frame.columns, row)) + "</tr>")
    cells.append("</tbody></table>")
    return "".join(cells)


def _align(column, left: set) -> str:
    return ' class="text"' if str(column) in left else ""


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>"


def signed(value, unit: str = "%", digits: int = 1) -> str:
    """A direction-aware effect with its sign: ``+12.4%``, ``-3.0 points``; "—" when missing.

    Parameters
    ----------
    value : float
        The effect; NaN or None for a missing one.
    unit : str
        ``%`` (written after the number) or another unit (after a space), such as ``points``.
    digits : int
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> signed(12.44), signed(-3, "points"), signed(float("nan"))
    ('+12.4%', '-3.0 points', '—')
    """
    if not _finite(value):
        return DASH
    return f"{value:+,.{digits}f}{'%' if unit == '%' else ' ' + unit}"


def interval(low, high, digits: int = 1) -> str:
    """A confidence interval: ``+1.1 to +48.3``; "—" when either bound is missing.

    Parameters
    ----------
    low, high : float
        The bounds.
    digits : int
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> interval(1.1, 48.27), interval(float("nan"), 3)
    ('+1.1 to +48.3', '—')
    """
    if not (_finite(low) and _finite(high)):
        return DASH
    return f"{low:+,.{digits}f} to {high:+,.{digits}f}"


def money(value, currency: str = "") -> str:
    """An amount as a reader writes it: ``1,493,661 USD``; "—" when missing.

    Parameters
    ----------
    value : float
        The amount; NaN or None for a missing one.
    currency : str
        Written after the amount, when given.

    Returns
    -------
    str

    Examples
    --------
    >>> money(1493661.4, "USD"), money(None)
    ('1,493,661 USD', '—')
    """
    if not _finite(value):
        return DASH
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


def estimate(value, currency: str = "") -> str:
    """An estimated amount to three significant figures: ``1,490,000 USD``; "—" when missing.

    Parameters
    ----------
    value : float
        The amount; NaN or None for a missing one.
    currency : str
        Written after the amount, when given.

    Returns
    -------
    str

    Examples
    --------
    >>> estimate(1493661.4, "USD"), estimate(-2345.6)
    ('1,490,000 USD', '-2,350')
    """
    if not _finite(value):
        return DASH
    return money(float(f"{float(value):.3g}"), currency)


def number(value, digits: int = 2) -> str:
    """A plain number with thousands separators; "—" when missing.

    Parameters
    ----------
    value : float
        The number; NaN or None for a missing one.
    digits : int
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> number(12345.678), number(0.5, 3)
    ('12,345.68', '0.500')
    """
    if not _finite(value):
        return DASH
    return f"{value:,.{digits}f}"


def p_value(p) -> str:
    """A p-value for a table: ``0.042``, ``< 0.001``; "—" when not computed.

    Parameters
    ----------
    p : float
        The p-value; NaN or None when it was not computed.

    Returns
    -------
    str

    Examples
    --------
    >>> p_value(0.04213), p_value(0.00002), p_value(float("nan"))
    ('0.042', '< 0.001', '—')
    """
    if not _finite(p):
        return DASH
    return format_p(p).removeprefix("= ")


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _unit(row) -> str:
    return "%" if row["improvement_unit"] == "%" else "points"


# --- the case report ------------------------------------------------------------------------------------

def case_heading(portfolio: Portfolio, case_id: str) -> Block:
    """The report's title (the organization), a line of facts, and the case's own description.

    Parameters
    ----------
    portfolio : Portfolio
        The cases (:func:`casekit.load_cases`).
    case_id : str
        The case whose heading it is.

    Returns
    -------
    Block
        HTML for the page and plain text for a notebook or a log.

    Examples
    --------
    >>> import casekit as ck
    >>> print(ck.presentation.case_heading(ck.load_cases("cases"), "northwood-paper").text.splitlines()[0])
    Northwood Paper & Forest Products
    """
    case = portfolio.cases.set_index("case_id").loc[case_id]
    series = isinstance(case["first_period"], str)  # a published case of summaries only has none
    facts = [case["sector"], case["region"], f"{case['size']:,} employees" if pd.notna(case["size"]) else "",
             f"{case['model']} adoption from {case['adoption_start']}" if pd.notna(case["adoption_start"]) else "",
             f"maturity {maturity_label(case['maturity_before'])} before, {maturity_label(case['maturity_latest'])} latest"
             if series else "",
             f"data {case['first_period']} to {case['last_period']}" if series else
             "a published source's reported figures"]
    facts = [str(f) for f in facts if isinstance(f, str) and f]
    body = (f"<h1>{html.escape(case['name'])}</h1>"
            f"<p class=\"casekit-subtitle\">CMMI case report · {html.escape(' · '.join(facts))}</p>"
            f"<p>{html.escape(str(case['summary']))}</p>")
    return Block(body, "\n".join([case["name"], "CMMI case report · " + " · ".join(facts), str(case["summary"])]))


def findings_block(findings, alpha: float = 0.05, horizon_months: int = 12) -> Block:
    """A case's findings for reading (:meth:`casekit.CaseComparison.summary`): the headline, then the KPIs that
    improved or worsened, the rest, goals, ROI; the plain text is one sentence per line after "- ".

    Parameters
    ----------
    findings : Findings
        :meth:`casekit.CaseComparison.findings`.
    alpha : float
        The level the findings were computed at, for the note on intervals.
    horizon_months : int
        The months after the transition the effects average over, for the note.

    Returns
    -------
    Block
        HTML, plain text, and the findings as data under :data:`casekit.report.formats.FINDINGS_MIME`.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> block = ck.presentation.findings_block(ck.compare_case(pf, "quantia-tech").findings())
    >>> block.text.splitlines()[0][:24]
    '- Of 5 KPIs, 4 improved,'
    """
    headings = {"improved": "Improved", "worsened": "Worsened", "no clear change": "No clear change",
                "descriptive only": "Descriptive only (not tested)", "not enough data": "Not enough data",
                "reported": "As reported by the published source", "by level": "By maturity level, as published",
                "goal": "Business goals", "roi": "Return on investment"}
    fitted = findings.items["group"].isin(["improved", "worsened", "no clear change", "descriptive only",
                                           "not enough data"]).any() if len(findings.items) else False
    how = (f"as the change beyond the trend before adoption{_against(findings)} averaged over the first "
           f"{horizon_months} months after it" if fitted or not len(findings.items) else
           "as the source reported them, converted as the report's methods say")
    parts = [f"<p class=\"casekit-headline\"><strong>{html.escape(findings.headline)}</strong></p>",
             f"<p class=\"casekit-note\">Effects are stated so that positive is better, whichever way a KPI runs "
             f"(fewer defects, more on-time deliveries), {how}; intervals are {html.escape(confidence(alpha))}s.</p>"]
    for group, lines in findings.groups.items():
        if lines:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
            parts.append(f"<h3>{headings.get(group, group.capitalize())}</h3><ul>{items}</ul>")
    return Block("".join(parts), repr(findings), {FINDINGS_MIME: findings.verdicts()})


def comparison_table(table: pd.DataFrame, alpha: float = 0.05, correction: str = "holm") -> Block:
    """:attr:`casekit.CaseComparison.table` for reading: the verdicts first, the test's details folded away.

    ``correction`` names the adjustment in the p-value's heading (``holm``, ``bh`` or ``none``).

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`casekit.CaseComparison.table`.
    alpha : float
        The level the table was computed at, for the interval's heading.
    correction : {"holm", "bh", "none"}
        The correction the p-values are adjusted by, for their heading.

    Returns
    -------
    Block
        A row per KPI (verdict, effect, interval, adjusted p) and, folded, the data, level change, simple change,
        unadjusted p and autocorrelation.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> block = ck.presentation.comparison_table(ck.compare_case(pf, "quantia-tech").table)
    >>> "Defect density" in block.text and "p (Holm-adjusted)" in block.text
    True
    """
    if table.empty:
        text = ("No KPI of this case is measured over time, so none is tested here; a published case's figures are "
                "under \"What the published source reported\".")
        return Block(f"<p class=\"casekit-note\">{html.escape(text)}</p>", text)
    level = confidence(alpha)
    adjusted = f"p ({CORRECTION_NAMES[correction]}-adjusted)" if correction != "none" else "p"
    main = pd.DataFrame({
        "KPI": table["label"],
        "Verdict": table["verdict"],
        "Effect (positive is better)": [signed(r["improvement"], _unit(r)) for _, r in table.iterrows()],
        level: [interval(r["ci_low"], r["ci_high"]) for _, r in table.iterrows()],
        adjusted: table["p_adjusted"].map(p_value),
    })
    against = table["comparison"].fillna("") if "comparison" in table else pd.Series("", index=table.index)
    if (against != "").any():  # a case with a comparison unit says, KPI by KPI, what each was measured against
        main.insert(2, "Measured against", against.replace("", "its own earlier trend").to_numpy())
    detail = pd.DataFrame({
        "KPI": table["label"],
        "Unit": table["unit"],
        "Periods before / after": [f"{a} / {b}" for a, b in zip(table["n_before"], table["n_after"])],
        "Mean before": table["baseline"].map(number),
        "Mean after": table["post"].map(number),
        "Level change at the first period (CI)": [_level_change(r) for _, r in table.iterrows()],
        "Simple change": [signed(r["simple_change"], _unit(r)) for _, r in table.iterrows()],
        "p (unadjusted)": table["p_value"].map(p_value),
        "Autocorrelation": table["autocorrelation"].map(lambda v: number(v, 2)),
        "Note": table["note"].replace("", DASH),
    })
    main_block = reader_table(main, text_columns=["KPI", "Verdict", "Measured against"])
    units = sorted(set(against) - {""})
    lead = (f"<p class=\"casekit-note\">A KPI measured against {html.escape(units[0])} is judged on the gap "
            "between the two: its effect is how far it moved beyond what the comparison did over the same months, "
            "assuming the two would have moved in parallel without CMMI. A KPI whose gap was already moving before "
            "adoption gets no verdict.</p>") if units else ""
    detail_block = reader_table(detail, text_columns=["KPI", "Unit", "Note"])
    body = lead + main_block.html + _details("Details: data, level change, simple before/after change, unadjusted p, "
                                             "autocorrelation", detail_block.html)
    return Block(body, main_block.text + "\n\n" + detail_block.text)


def _against(findings) -> str:
    """', or beyond what <unit> did, for the KPIs measured against it' where a case has a comparison unit."""
    units = sorted(set(findings.items.get("against", pd.Series(dtype=str)).fillna("")) - {""})
    return f" (or, for the KPIs measured against {html.escape(units[0])}, beyond what it did)" if units else ""


def _level_change(row) -> str:
    """The jump at the first period after the transition, direction-aware as the effect is."""
    if not _finite(row["its_level_change"]):
        return DASH
    sign = 1 if row["better"] == "higher" else -1
    low, high = sorted((sign * row["its_level_ci_low"], sign * row["its_level_ci_high"]))
    unit = "%" if row["improvement_unit"] == "%" else "points"
    return f"{signed(sign * row['its_level_change'], unit)} ({interval(low, high)})"


def goals_table(goals: pd.DataFrame, table: pd.DataFrame, alpha: float = 0.05) -> Block:
    """:meth:`casekit.CaseComparison.goals` for reading: targets and results in the same direction-aware terms.

    ``table`` is the comparison's table (labels, units and which way each KPI is better).

    Parameters
    ----------
    goals : pandas.DataFrame
        :meth:`casekit.CaseComparison.goals`.
    table : pandas.DataFrame
        :attr:`casekit.CaseComparison.table`.
    alpha : float
        The level the goals were judged at, for the heading.

    Returns
    -------
    Block
        One row per goal: statement, KPI, target, what was achieved with its interval, how much of it lies
        beyond the earlier trend, status and note.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> comparison = ck.compare_case(pf, "quantia-tech")
    >>> ck.presentation.goals_table(comparison.goals(), comparison.table).text.split()[:3]
    ['Goal', 'Statement', 'KPI']
    """
    if goals.empty:
        text = "The case states no business goals (business_goals: in case.yaml)."
        return Block(f"<p class=\"casekit-note\">{html.escape(text)}</p>", text)
    kpis = table.set_index("kpi")
    rows = []
    for _, goal in goals.iterrows():
        kpi = kpis.loc[goal["kpi"]] if goal["kpi"] in kpis.index else None
        label = kpi["label"] if kpi is not None else goal["kpi"]
        target, achieved, beyond = DASH, DASH, DASH
        if goal["target_kind"] == "change_pct":
            target = f"{goal['target']:,.0f}% better than before adoption"
            achieved = f"{signed(goal['achieved'])} ({interval(goal['ci_low'], goal['ci_high'])})"
            if _finite(goal["beyond_trend"]):
                beyond = signed(goal["beyond_trend"], "%" if goal["beyond_trend_unit"] == "%" else "points")
        elif goal["target_kind"] == "value" and kpi is not None:
            higher = kpi["better"] == "higher"
            target = f"{'at least' if higher else 'at most'} {format_level(goal['target'], kpi['unit'], True)}"
            achieved = (f"{format_level(goal['achieved'], kpi['unit'])} in the first year after adoption "
                        f"({format_level(goal['ci_low'])} to {format_level(goal['ci_high'])})")
        achieved_column = f"Achieved ({confidence(alpha)})"
        rows.append({"Goal": goal["goal_id"], "Statement": goal["statement"], "KPI": label, "Target": target,
                     achieved_column: achieved, "Beyond the earlier trend": beyond, "Status": goal["status"],
                     "Note": goal["note"] or DASH})
    columns = ["Goal", "Statement", "KPI", "Target", f"Achieved ({confidence(alpha)})",
               "Beyond the earlier trend", "Status", "Note"]
    frame = pd.DataFrame(rows, columns=columns)
    return reader_table(frame, text_columns=["Goal", "Statement", "KPI", "Status", "Note"])


def practice_area_key(practice_areas: pd.DataFrame) -> Block:
    """What the abbreviations of the practice areas in ``practice_areas`` (``Portfolio.practice_areas``) stand for,
    to read beside the capability chart; an abbreviation casekit does not know is shown as it is.

    Parameters
    ----------
    practice_areas : pandas.DataFrame
        Rows with a ``practice_area`` column, such as ``Portfolio.practice_areas``.

    Returns
    -------
    Block
        One line, the abbreviations in alphabetical order.

    Examples
    --------
    >>> import pandas as pd
    >>> print(practice_area_key(pd.DataFrame({"practice_area": ["MPM", "CAR", "XYZ"]})).text)
    CAR: Causal Analysis and Resolution · MPM: Managing Performance and Measurement · XYZ
    """
    names = practice_area_names()
    codes = sorted(set(practice_areas["practice_area"].astype(str)))
    parts = [f"{code}: {names[code]}" if code in names else code for code in codes]
    text = " · ".join(parts)
    return Block(f"<p class=\"casekit-note\">{html.escape(text)}</p>", text)


def investment_table(portfolio: Portfolio, case_id: str) -> Block:
    """Investments by period and category, in the case's currency, with totals.

    Parameters
    ----------
    portfolio : Portfolio
        The cases (:func:`casekit.load_cases`).
    case_id : str
        The case whose investments they are.

    Returns
    -------
    Block
        A row per period and a column per category, amounts in full (they are recorded, not estimated); a note
        when the case records none.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> print(ck.presentation.investment_table(pf, "quantia-tech").text.splitlines()[0])
    Amounts in EUR
    """
    rows = portfolio.investments[portfolio.investments["case_id"] == case_id]
    if rows.empty:
        return Block("<p>No investments recorded.</p>", "No investments recorded.")
    currency = rows["currency"].iloc[0]
    pivot = rows.pivot_table(index="period", columns="category", values="amount", aggfunc="sum", fill_value=0)
    pivot["Total"] = pivot.sum(axis=1)
    pivot.loc["Total"] = pivot.sum()
    shown = pivot.map(money).reset_index().rename(columns={"period": "Period"})
    shown.columns = [str(c).capitalize() if c != "Total" else c for c in shown.columns]
    return reader_table(shown, text_columns=["Period"], caption=f"Amounts in {currency}")


def roi_table(money_table: pd.DataFrame, table: pd.DataFrame | None = None, alpha: float = 0.05) -> Block:
    """:meth:`casekit.CaseComparison.roi`'s one row as a two-column list, money in the case's currency.

    ``table``, the comparison's table, gives the KPIs' labels. Estimated amounts are shown to three
    significant figures, the precision an estimate has; the investment, a recorded amount, in full.

    Parameters
    ----------
    money_table : pandas.DataFrame
        :meth:`casekit.CaseComparison.roi`.
    table : pandas.DataFrame, optional
        :attr:`casekit.CaseComparison.table`, for the KPIs' labels.
    alpha : float
        The level of the benefit's interval, for its label.

    Returns
    -------
    Block
        Two columns, measure and value.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> comparison = ck.compare_case(pf, "quantia-tech")
    >>> print(ck.presentation.roi_table(comparison.roi(), comparison.table).text.splitlines()[1].split())
    ['Investment', '305,000', 'EUR']
    """
    r = money_table.iloc[0]
    if not _finite(r["investment"]):  # nothing to work a return out from (a published case of summaries only)
        return Block(f"<p class=\"casekit-note\">{html.escape(r['note'].capitalize())}.</p>",
                     f"{r['note'].capitalize()}.")
    labels = {} if table is None else dict(zip(table["kpi"], table["label"]))
    valued = ", ".join(labels.get(k.strip(), k.strip()) for k in str(r["kpis_valued"] or "").split(",") if k.strip())
    currency = r["currency"]
    window = int(r["valuation_months"]) if _finite(r["valuation_months"]) else None
    payback = (f"{int(r['payback_months'])} months after the adoption start" if _finite(r["payback_months"])
               else ("not within the months valued" if _finite(r["benefit"]) else DASH))
    rows = [
        ("Investment", money(r["investment"], currency)),
        ("Average monthly benefit", estimate(r["monthly_benefit"], currency)),
        (f"Benefit over the {window} months after the transition" if window else "Benefit",
         estimate(r["benefit"], currency)),
        (f"Benefit, {confidence(alpha)}",
         f"{estimate(r['benefit_low'])} to {estimate(r['benefit_high'], currency)}" if _finite(r["benefit_low"])
         else DASH),
        ("Net benefit", estimate(r["net_benefit"], currency)),
        ("Benefit–cost ratio", f"{r['benefit_cost_ratio']:.1f} : 1" if _finite(r["benefit_cost_ratio"]) else DASH),
        ("Return on investment", f"{r['roi_pct']:,.0f}%" if _finite(r["roi_pct"]) else DASH),
        ("Payback", payback),
        ("KPIs valued", valued or DASH),
        ("Discounted", f"at {100 * r['discount_rate']:g}% a year" if r["discount_rate"] else "no"),
    ]
    if r["note"]:
        rows.append(("Note", r["note"]))
    return reader_table(pd.DataFrame(rows, columns=["Measure", "Value"]), text_columns=["Measure", "Value"])


# --- the portfolio report -------------------------------------------------------------------------------

NAMED_CASES = 8  # a portfolio of up to this many cases names them in its heading


def portfolio_heading(portfolio: Portfolio) -> Block:
    """The portfolio report's title, saying which organizations it covers.

    Parameters
    ----------
    portfolio : Portfolio
        The cases the portfolio report covers.

    Returns
    -------
    Block
        The title (how many organizations) and a line naming them (by sector beyond eight) with the span of
        their adoption dates.

    Examples
    --------
    >>> import casekit as ck
    >>> print(ck.presentation.portfolio_heading(ck.load_cases("cases")).text.splitlines()[0])
    Portfolio of 8 organizations and 1 published case study
    """
    cases = portfolio.cases.sort_values("name")
    studied = cases["case_id"].isin(portfolio.kpis["case_id"])  # the others: published summaries only
    n = int(studied.sum())
    title = portfolio_title(n, int((~studied).sum()))
    if n <= NAMED_CASES:
        covered = ", ".join(cases["name"])
    else:
        sectors = cases["sector"].value_counts()
        covered = "; ".join(f"{count:,} in {sector}" for sector, count in sectors.head(6).items())
        if len(sectors) > 6:
            covered += f"; {sectors.iloc[6:].sum():,} in {len(sectors) - 6} other sectors"
    starts = cases["adoption_start"].dropna()
    span = f"adoption from {starts.min()} to {starts.max()}" if len(starts) else ""
    body = (f"<h1>{html.escape(title)}</h1><p class=\"casekit-subtitle\">CMMI case studies · "
            f"{html.escape(covered)}{' · ' + html.escape(span) if span else ''}</p>")
    return Block(body, "\n".join([title, f"CMMI case studies · {covered}" + (f" · {span}" if span else "")]))


def portfolio_block(findings, alpha: float = 0.05) -> Block:
    """The portfolio's findings for reading (:meth:`casekit.PortfolioComparison.summary`), the overall result
    first.

    Parameters
    ----------
    findings : Findings
        :meth:`casekit.PortfolioComparison.findings`.
    alpha : float
        The level the findings were computed at, for the note on intervals.

    Returns
    -------
    Block
        The headline paragraph, then the KPI and category sentences folded; the findings as data under
        :data:`casekit.report.formats.FINDINGS_MIME`.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> block = ck.presentation.portfolio_block(ck.compare_portfolio(pf).findings())
    >>> block.html.startswith('<p class="casekit-headline">Organization by organization')
    True
    """
    parts = [f"<p class=\"casekit-headline\">{html.escape(findings.headline)}</p>"]
    details = ["<p class=\"casekit-note\">Each organization contributes its own case report's effect (positive "
               "is better); the pooled effects are random-effects meta-analyses; intervals are "
               f"{html.escape(confidence(alpha))}s.</p>"]
    for group, heading in (("kpi", "By KPI"), ("category", "By performance category")):
        if findings.groups.get(group):
            details.append(f"<h3>{heading}</h3><ul>"
                           + "".join(f"<li>{html.escape(x)}</li>" for x in findings.groups[group]) + "</ul>")
    parts.append(_details("The tests behind this, KPI by KPI", "".join(details)))
    return Block("".join(parts), repr(findings), {FINDINGS_MIME: findings.verdicts()})


def overview_table(portfolio: Portfolio) -> Block:
    """One row per organization: sector, model, adoption, maturity before and latest, KPIs and data.

    Parameters
    ----------
    portfolio : Portfolio
        The cases (:func:`casekit.load_cases`).

    Returns
    -------
    Block
        One row per organization.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> ck.presentation.overview_table(pf).text.split()[0]
    'Organization'
    """
    table = case_overview(portfolio).merge(portfolio.cases[["case_id", "name", "size"]], on="case_id")
    published = portfolio.published
    figures = published.groupby("case_id").size().to_dict()
    by_level = published[published["group"].str.startswith("level")]
    levels = {case: f"{rows.min()[-1]}–{rows.max()[-1]}" for case, rows in by_level.groupby("case_id")["group"]}
    frame = pd.DataFrame({
        "Organization": table["name"], "Sector": table["sector"], "Employees": table["size"].map(lambda v: "–" if pd.isna(v) else f"{v:,}"),
        "CMMI model": table["model"].fillna("–"),
        "Adoption": [str(start) if pd.notna(start) else "–" for start in table["adoption_start"]],
        "Maturity": [f"levels {levels[case]} compared" if case in levels else
                     f"{maturity_label(a)} → {maturity_label(b)}"
                     for case, a, b in zip(table["case_id"], table["maturity_before"], table["maturity_latest"])],
        "KPIs": table["kpis"] + table["case_id"].map(published.groupby("case_id")["kpi"].nunique()).fillna(0).astype(int),
        "Measurements before / after": [f"{a:,} / {b:,}" if a or b or not figures.get(case) else
                                        f"{figures[case]} published figures"
                                        for case, a, b in zip(table["case_id"], table["before"], table["after"])],
    })
    return reader_table(frame, text_columns=["Organization", "Sector", "CMMI model"])


def checks_block(placebos: pd.DataFrame, specifications: pd.DataFrame) -> Block:
    """How robust each finding of a case is, for reading: its placebo dates, and the other analysis choices.

    Parameters
    ----------
    placebos : pandas.DataFrame
        :meth:`casekit.CaseComparison.placebos`.
    specifications : pandas.DataFrame
        :meth:`casekit.CaseComparison.specifications`.

    Returns
    -------
    Block
        Two lists, a line per KPI in each.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> block = ck.presentation.checks_block(comparison.placebos(), comparison.specifications())
    >>> block.text.splitlines()[1][:48]
    '- Customer satisfaction: at 12 placebo adoption '
    """
    if placebos.empty and specifications.empty:
        text = "No KPI was compared, so there is nothing to check."
        return Block(f"<p class=\"casekit-note\">{html.escape(text)}</p>", text)
    parts, texts = [], []
    choices = f" ({specifications['choices'].iloc[0]})" if len(specifications) else ""
    for heading, table in (("Placebo dates", placebos), (f"Other analysis choices{choices}", specifications)):
        lines = [f"{line}." for line in table["summary"]]
        if lines:
            parts.append(f"<h4>{heading}</h4><ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines)
                         + "</ul>")
            texts.append(heading + "\n" + "\n".join(f"- {line}" for line in lines))
    return Block("".join(parts), "\n\n".join(texts))


def robustness_block(robustness: pd.DataFrame, portfolio: Portfolio) -> Block:
    """:meth:`casekit.PortfolioComparison.robustness` for reading: a line per pooled KPI, the figures folded away.

    Parameters
    ----------
    robustness : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.robustness`.
    portfolio : Portfolio
        The cases, for the KPIs' labels.

    Returns
    -------
    Block
        A list, one line per KPI pooled from three or more organizations ("how robust is this"), and,
        folded, each KPI's range with one organization left out, how many of those fits are clear, and
        the influential organizations.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> block = ck.presentation.robustness_block(ck.compare_portfolio(pf).robustness(), pf)
    >>> block.text.splitlines()[0][:60]
    '- Cost variance: without any one of the 3 organizations the '
    """
    if robustness.empty:
        text = "No KPI is pooled from three or more organizations: there is no one to leave out."
        return Block(f"<p class=\"casekit-note\">{html.escape(text)}</p>", text)
    labels = portfolio.kpis.drop_duplicates("kpi").set_index("kpi")["label"]
    lines = [f"{labels.get(row['kpi'], row['kpi'])}: {row['summary']}." for _, row in robustness.iterrows()]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    detail = pd.DataFrame({
        "KPI": robustness["kpi"].map(lambda k: labels.get(k, k)),
        "Organizations": robustness["k"],
        "Pooled": [signed(r["pooled_improvement"], r["improvement_unit"]) for _, r in robustness.iterrows()],
        "With one left out": [f"{signed(r['loo_low'], r['improvement_unit'])} to "
                              f"{signed(r['loo_high'], r['improvement_unit'])}" for _, r in robustness.iterrows()],
        "Clear with one left out": [f"{r['loo_clear']} of {r['k']}" for _, r in robustness.iterrows()],
        "Influential": robustness["influential"].map(lambda names: ", ".join(names) or DASH),
    })
    detail_block = reader_table(detail, text_columns=["KPI", "Influential"])
    body = f"<ul>{items}</ul>" + _details("Details: each pooled KPI with one organization left out", detail_block.html)
    return Block(body, "\n".join(f"- {line}" for line in lines) + "\n\n" + detail_block.text)


def event_time_block(studies, portfolio: Portfolio, shown=(-12, -6, -2, 0, 3, 6, 12, 18, 24)) -> Block:
    """:meth:`casekit.PortfolioComparison.event_studies` for reading: a finding per KPI, the figures folded away.

    Parameters
    ----------
    studies : list of KpiEventStudy
        :meth:`casekit.PortfolioComparison.event_studies`.
    portfolio : Portfolio
        The cases, to say why no KPI has an event study when none has.
    shown : sequence of int
        The times since adoption the folded table shows (those estimated).

    Returns
    -------
    Block
        A list, one finding per KPI; folded, each KPI's change at a few times since adoption with its
        interval.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> print(ck.presentation.event_time_block([], pf).text)  # doctest: +ELLIPSIS
    An event study needs a KPI that at least 10 organizations measure, ... measured by 5 organizations.
    """
    if not studies:
        from .event_time import MIN_ORGANIZATIONS

        counts = portfolio.kpis.drop_duplicates(["case_id", "kpi"]).groupby("label", sort=False).size()
        text = (f"An event study needs a KPI that at least {MIN_ORGANIZATIONS} organizations measure, adopting in "
                f"more than one month")
        if len(counts):
            label = counts.idxmax()
            text += f"; the most here is {label[0].lower() + label[1:]}, measured by {counts.max():,} organizations"
        text += "."
        return Block(f"<p class=\"casekit-note\">{html.escape(text)}</p>", text)
    lines = [study.finding() for study in studies]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    tables = []
    for study in studies:
        table = study.table().set_index("event_time")
        times = [t for t in shown if t in table.index]
        tables.append(pd.DataFrame({
            "KPI": study.label,
            f"{study.period_name.capitalize()}s since adoption": times,
            "Change": [signed(table.at[t, "change"], study.change_unit) for t in times],
            "Interval": [interval(table.at[t, "ci_low"], table.at[t, "ci_high"]) for t in times],
            "Adopting organizations": [int(table.at[t, "organizations"]) for t in times],
        }))
    detail = reader_table(pd.concat(tables, ignore_index=True), text_columns=["KPI"])
    body = f"<ul>{items}</ul>" + _details("Details: the change at a few times since adoption", detail.html)
    return Block(body, "\n".join(f"- {line}" for line in lines) + "\n\n" + detail.text)


def tests_table(tests: pd.DataFrame, portfolio: Portfolio, alpha: float = 0.05, correction: str = "holm") -> Block:
    """:meth:`casekit.PortfolioComparison.tests` for reading: one row per KPI tested, the other tests folded away.

    Parameters
    ----------
    tests : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.tests`.
    portfolio : Portfolio
        The cases, for the KPIs' labels.
    alpha : float
        The level of the intervals, for their heading.
    correction : {"holm", "bh", "none"}
        The correction the p-values are adjusted by, for their heading.

    Returns
    -------
    Block
        One row per KPI tested; the unadjusted p-values, the paired tests and tau² folded; the KPIs measured
        by one organization named below.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> across = ck.compare_portfolio(pf)
    >>> "Prediction interval" in ck.presentation.tests_table(across.tests(), pf).text
    True
    """
    labels = portfolio.kpis.drop_duplicates("kpi").set_index("kpi")["label"]
    tested = tests[tests["verdict"] != "not enough data"].sort_values("p_adjusted")
    adjusted = f"p ({CORRECTION_NAMES.get(correction, correction)}-adjusted)" if correction != "none" else "p"
    main = pd.DataFrame({
        "KPI": tested["kpi"].map(lambda k: labels.get(k, k)),
        "Organizations": [f"{r['k']:,}" + (f" ({r['left_out']:,} more not tested)" if r.get("left_out", 0) else "")
                          for _, r in tested.iterrows()],
        "Pooled effect": [signed(r["pooled_improvement"], _unit(r)) for _, r in tested.iterrows()],
        confidence(alpha): [interval(r["pooled_ci_low"], r["pooled_ci_high"]) for _, r in tested.iterrows()],
        "Prediction interval": [interval(r["pi_low"], r["pi_high"]) for _, r in tested.iterrows()],
        "I²": tested["i2"].map(lambda v: f"{100 * v:.0f}%" if _finite(v) else DASH),
        adjusted: tested["p_adjusted"].map(p_value),
        "Verdict": tested["verdict"],
    })
    detail = pd.DataFrame({
        "KPI": main["KPI"],
        "p (meta-analysis)": tested["p_value"].map(p_value),
        "Wilcoxon p": tested["wilcoxon_p"].map(p_value),
        "Paired t p": tested["t_p"].map(p_value),
        "Sign test": [f"{int(a)} of {int(b)} better, p {p_value(c)}" if _finite(b) else DASH
                      for a, b, c in zip(tested["sign_positive"], tested["sign_n"], tested["sign_p"])],
        "tau²": tested["tau2"].map(lambda v: number(v, 3)),
        "Note": tested["heterogeneity_note"].replace("", DASH),
    })
    untested = tests[tests["verdict"] == "not enough data"]
    main_block = reader_table(main, text_columns=["KPI", "Verdict"])
    detail_block = reader_table(detail, text_columns=["KPI", "Sign test", "Note"])
    body = main_block.html + _details("Details: unadjusted p-values and the other tests", detail_block.html)
    if len(untested):
        names = ", ".join(untested["kpi"].map(lambda k: labels.get(k, k)))
        body += f"<p>Measured by one organization only, so not tested across cases: {html.escape(names)}.</p>"
    return Block(body, main_block.text + "\n\n" + detail_block.text)


RANKED = 5  # per KPI, the most and the least improved organizations shown when there are many


def ranking_table(effects: pd.DataFrame, portfolio: Portfolio, alpha: float = 0.05) -> Block:
    # alpha: the level ``effects`` were computed at (``compare_portfolio(..., alpha=)``), for the column's name
    """Every organization's improvement per KPI, best first; with many, the top and bottom few and a count.

    Parameters
    ----------
    effects : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.as_reported` (each organization's interval as its case report gives
        it), or :attr:`casekit.PortfolioComparison.effects`.
    portfolio : Portfolio
        The cases, for their names.
    alpha : float
        The level the effects were computed at, for the interval's heading.

    Returns
    -------
    Block
        A row per organization and KPI (the top and bottom :data:`RANKED` and a median row beyond), with the
        maturity levels gained.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> block = ck.presentation.ranking_table(ck.compare_portfolio(pf).as_reported(), pf)
    >>> "Quantia Software" in block.text
    True
    """
    names = portfolio.cases.set_index("case_id")["name"]
    level = confidence(alpha)
    rows = []
    for _, group in effects[effects["usable"]].sort_values("improvement", ascending=False).groupby("kpi"):
        shown = group if len(group) <= 2 * RANKED + 2 else pd.concat([group.head(RANKED), group.tail(RANKED)])
        for position, (_, r) in enumerate(shown.iterrows()):
            if len(shown) < len(group) and position == RANKED:
                rest = group.iloc[RANKED:-RANKED]["improvement"]
                rows.append({"KPI": r["label"], "Organization": f"… {len(rest):,} more",
                             "Improvement": f"median {signed(rest.median(), _unit(r))}", level: DASH,
                             "Maturity gained": DASH})
            rows.append({"KPI": r["label"], "Organization": names.get(r["case_id"], r["case_id"]),
                         "Improvement": signed(r["improvement"], _unit(r)), level: interval(r["ci_low"], r["ci_high"]),
                         "Maturity gained": DASH if pd.isna(r["levels_gained"]) else f"{int(r['levels_gained']):+d}"})
    frame = pd.DataFrame(rows, columns=["KPI", "Organization", "Improvement", level, "Maturity gained"])
    return reader_table(frame, text_columns=["KPI", "Organization"])


def category_table(categories: pd.DataFrame) -> Block:
    """:meth:`casekit.PortfolioComparison.categories` for reading, beside the SEI's medians where given.

    Parameters
    ----------
    categories : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.categories`.

    Returns
    -------
    Block
        One row per category: organizations, effects, median, lowest and highest improvement, and the SEI's
        median where ``categories`` has ``reference_median``.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> block = ck.presentation.category_table(ck.compare_portfolio(pf).categories())
    >>> block.text.split()[:3]
    ['Category', 'Organizations', 'Effects']
    """
    frame = pd.DataFrame({
        "Category": categories["category"].str.capitalize(),
        "Organizations": categories["cases"],
        "Effects": categories["data_points"],
        "Median improvement": categories["median"].map(signed),
        "Lowest": categories["lowest"].map(signed),
        "Highest": categories["highest"].map(signed),
    })
    if "reference_median" in categories:
        frame["SEI 2006 median"] = categories["reference_median"].map(lambda v: f"{v:+.0f}%" if _finite(v) else DASH)
    return reader_table(frame, text_columns=["Category"])


SUBGROUP_NAMES = {"sector": "Sector", "maturity_latest": "Maturity reached", "maturity_before": "Maturity before"}


def subgroup_table(subgroups: pd.DataFrame, portfolio: Portfolio, by: str, alpha: float = 0.05) -> Block:
    """:meth:`casekit.PortfolioComparison.subgroups` for reading: each KPI with two or more subgroups, the test between
    them once per KPI (a KPI all in one subgroup has nothing to compare and is left out).

    Parameters
    ----------
    subgroups : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.subgroups`.
    portfolio : Portfolio
        The cases, for the KPIs' labels.
    by : str
        The column the subgroups are made by (``sector``, ``maturity_latest``...).
    alpha : float
        The level of the intervals, for their heading.

    Returns
    -------
    Block
        Per KPI measured in two or more subgroups, a row per subgroup, and the test between them (or why there
        is none) on its first row.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> across = ck.compare_portfolio(pf)
    >>> ck.presentation.subgroup_table(across.subgroups("sector"), pf, "sector").text.startswith("By sector")
    True
    """
    labels = portfolio.kpis.drop_duplicates("kpi").set_index("kpi")["label"]
    heading = SUBGROUP_NAMES.get(by, by.replace("_", " ").capitalize())
    rows = []
    for kpi, group in subgroups.groupby("kpi", sort=True):
        if len(group) < 2:
            continue
        for position, (_, r) in enumerate(group.iterrows()):
            level = r[by]
            rows.append({
                "KPI": labels.get(kpi, kpi) if position == 0 else "",
                heading: maturity_label(level) if by.startswith("maturity") else level,
                "Organizations": r["k"],
                "Pooled effect": signed(r["pooled_improvement"], _unit(r)),
                confidence(alpha): interval(r["ci_low"], r["ci_high"]),
                "Subgroups differ? p (adjusted)": _between(r) if position == 0 else "",
            })
    if not rows:
        return Block(f"<p>No KPI is measured in two or more {html.escape(heading.lower())} groups.</p>",
                     f"No KPI is measured in two or more {heading.lower()} groups.")
    caption = (f"By {heading.lower()}: each group's pooled effect, and whether the groups differ (a test only "
               "among groups of two or more organizations)")
    return reader_table(pd.DataFrame(rows), text_columns=["KPI", heading], caption=caption)


def _between(row) -> str:
    """The test between a KPI's subgroups, or why there is none, in a few words."""
    if not _finite(row["p_between_adjusted"]):
        return row["between_note"] or DASH
    return p_value(row["p_between_adjusted"]) + (f" ({row['between_note']})" if row["between_note"] else "")


def dose_table(dose: pd.DataFrame) -> Block:
    """:meth:`casekit.PortfolioComparison.dose` for reading: does improvement grow with maturity levels gained?

    Parameters
    ----------
    dose : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.dose`.

    Returns
    -------
    Block
        One row per category: organizations, distinct levels gained, Spearman's rho and its p-value.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> print(ck.presentation.dose_table(ck.compare_portfolio(pf).dose()).text.splitlines()[0])
    Does improvement grow with the maturity levels gained? Rank correlation per category
    """
    frame = pd.DataFrame({
        "Category": dose["category"].str.capitalize(),
        "Organizations": dose["n"],
        "Distinct levels gained": dose["levels"],
        "Spearman's rho": dose["rho"].map(lambda v: number(v, 2)),
        "p": dose["p_value"].map(p_value),
    })
    return reader_table(frame, text_columns=["Category"],
                        caption="Does improvement grow with the maturity levels gained? Rank correlation per category")
