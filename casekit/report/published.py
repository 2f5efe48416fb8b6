"""What published case studies reported, for reading: their summaries as effects, and their values by level."""

from __future__ import annotations

import html

import pandas as pd

from ..inputs.loading import Portfolio
from ..stats.levels import CROSS_SECTIONAL
from .presentation import Block, interval, p_value, reader_table, signed

POOLING_NOTE = ("Before/after values and reported changes with a printed spread (an sd, a confidence interval, "
                "quartiles or a range) become a log ratio with its variance, as metafor's escalc and conv "
                "functions compute them, and are pooled beside the organizations' own series, marked "
                "'published' in the forest plots. A summary printed without any spread gets no invented variance: "
                "it is described here and not pooled.")


def reported_table(reported: pd.DataFrame, portfolio: Portfolio, alpha: float = 0.05) -> Block:
    """Published before/after values and reported changes as effects, with how each was converted and where it
    is printed.

    Parameters
    ----------
    reported : pandas.DataFrame
        :attr:`casekit.CaseComparison.reported`, or :func:`casekit.stats.summaries.summary_effects` of a
        portfolio's published cases.
    portfolio : Portfolio
        For the organizations' names.
    alpha : float
        The intervals' level.

    Returns
    -------
    Block
        One row per case and KPI.

    Examples
    --------
    >>> import casekit as ck, pandas as pd
    >>> from casekit.stats.summaries import summary_effects
    >>> pf = ck.load_cases("cases")
    >>> published = pd.DataFrame({"case_id": "motorola-ged", "kpi": "cost_variance", "group": ["change"],
    ...                           "n": [None], "mean": [-30.0], "ci_low": [-45.0], "ci_high": [-12.0],
    ...                           "location": ["p. 3"]})
    >>> table = reported_table(summary_effects(published, pf.kpi_definitions), pf)
    >>> table.text.splitlines()[1].split()[:3]
    ['KPI', 'Reported', 'as']
    """
    names = portfolio.cases.set_index("case_id")["name"]
    frame = pd.DataFrame({
        "Organization": reported["case_id"].map(names),
        "KPI": reported["label"],
        "Reported as": reported["design"].str.removeprefix("published "),
        "Improvement": [signed(v, u) for v, u in zip(reported["improvement"], reported["improvement_unit"])],
        _interval_heading(alpha): [interval(a, b) for a, b in zip(reported["ci_low"], reported["ci_high"])],
        "Projects or organizations": reported["n"].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}"),
        "Pooled": reported["pooled"].map({True: "yes", False: "no"}),
        "Converted from": reported["conversion"] + reported["note"].map(lambda v: f" ({v})" if v else ""),
        "Where in the source": reported["location"],
    })
    frame = _one_organization(frame)
    return reader_table(frame, text_columns=["Organization", "KPI", "Reported as", "Pooled", "Converted from",
                                             "Where in the source"],
                        caption="What published case studies reported, as effects (positive is better)")


def levels_table(levels: pd.DataFrame, portfolio: Portfolio, alpha: float = 0.05) -> Block:
    """Values by maturity level as published: from the lowest level to the highest, and the trend per level.

    Parameters
    ----------
    levels : pandas.DataFrame
        :attr:`casekit.CaseComparison.levels`, or :func:`casekit.stats.levels.level_trends` of a portfolio.
    portfolio : Portfolio
        For the organizations' names.
    alpha : float
        The trend's interval level.

    Returns
    -------
    Block
        One row per case and KPI.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "motorola-ged")
    >>> print(levels_table(comparison.levels, comparison.portfolio).text.splitlines()[0])
    By maturity level, as published (positive is better)
    """
    names = portfolio.cases.set_index("case_id")["name"]
    frame = pd.DataFrame({
        "Organization": levels["case_id"].map(names),
        "KPI": levels["label"],
        "Levels": [f"{a}–{b} ({k})" for a, b, k in zip(levels["lowest_level"], levels["highest_level"],
                                                       levels["levels"])],
        "Projects": levels["projects"],
        "Lowest level → highest": [f"{low:,.4g} → {high:,.4g} {unit}" for low, high, unit in
                                   zip(levels["lowest_value"], levels["highest_value"], levels["unit"])],
        "Improvement": [signed(v, u, 0) for v, u in zip(levels["overall"], levels["improvement_unit"])],
        "Trend a level": [signed(v, u) for v, u in zip(levels["per_level"], levels["improvement_unit"])],
        _interval_heading(alpha): [interval(a, b) for a, b in zip(levels["per_level_ci_low"],
                                                                       levels["per_level_ci_high"])],
        "Trend p": levels["p_value"].map(p_value),
    })
    frame = _one_organization(frame)
    return reader_table(frame, text_columns=["Organization", "KPI", "Levels", "Lowest level → highest"],
                        caption="By maturity level, as published (positive is better)")


def published_block(reported: pd.DataFrame, levels: pd.DataFrame, portfolio: Portfolio,
                    alpha: float = 0.05, heading: str = "") -> Block:
    """Everything published case studies reported, for reading: the sources, the effects and the levels, with
    how each was read. Empty when there is nothing published.

    Parameters
    ----------
    reported : pandas.DataFrame
        As :func:`reported_table`.
    levels : pandas.DataFrame
        As :func:`levels_table`.
    portfolio : Portfolio
        The cases (their names and references).
    alpha : float
        The intervals' level.
    heading : str
        A heading above it all (a report's section, shown only when there is something published).

    Returns
    -------
    Block

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "motorola-ged")
    >>> block = published_block(comparison.reported, comparison.levels, comparison.portfolio)
    >>> block.text.splitlines()[0][:40]
    'Sources: Motorola Government Electronics'
    >>> published_block(comparison.reported.iloc[:0], comparison.levels.iloc[:0], comparison.portfolio).text
    ''
    """
    shown = sorted(set(reported["case_id"]) | set(levels["case_id"]))
    if not shown:
        return Block("", "")
    cases = portfolio.cases.set_index("case_id")
    sources = [f"{cases.at[case, 'name']}: {_reference(cases, case)}" for case in shown]
    html_parts = [f"<h2>{html.escape(heading)}</h2>" if heading else ""]
    html_parts += ["<p class=\"casekit-note\"><strong>Sources.</strong></p><ul>"
                  + "".join(f"<li>{html.escape(line)}</li>" for line in sources) + "</ul>"]
    text_parts = ([heading] if heading else []) + ["Sources: " + " | ".join(sources)]
    if len(reported):
        table = reported_table(reported, portfolio, alpha)
        html_parts += [table._repr_html_(), f"<p class=\"casekit-note\">{html.escape(POOLING_NOTE)}</p>"]
        text_parts += [table.text, POOLING_NOTE]
    if len(levels):
        table = levels_table(levels, portfolio, alpha)
        note = (f"The trend is a line through the levels' log values, each level weighted by its number of projects; "
                f"its only error is the levels' scatter around it. It is {CROSS_SECTIONAL}: projects at higher "
                f"levels may differ in domain, size or staff, and organizations that reach high levels are not "
                f"a random draw.")
        html_parts += [table._repr_html_(), f"<p class=\"casekit-note\">{html.escape(note)}</p>"]
        text_parts += [table.text, note]
    return Block("".join(html_parts), "\n".join(text_parts))


def _one_organization(frame: pd.DataFrame) -> pd.DataFrame:
    """The table without its Organization column when one organization fills it (a case report's)."""
    return frame.drop(columns="Organization") if frame["Organization"].nunique() <= 1 else frame


def _reference(cases: pd.DataFrame, case_id: str) -> str:
    reference = cases.at[case_id, "reference"] if "reference" in cases else None
    return reference if isinstance(reference, str) and reference else "no reference given in case.yaml"


def _interval_heading(alpha: float) -> str:
    return f"{100 * (1 - alpha):g}% CI"
