"""A one-row-per-case overview of a portfolio, for people and for `casekit summary`."""

from __future__ import annotations

import pandas as pd

from ..inputs.loading import Portfolio


def maturity_label(level) -> str:
    """A maturity level as reports write it: ``ML3``, or "not rated".

    Parameters
    ----------
    level : int or None
        The level, or a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> maturity_label(3), maturity_label(None)
    ('ML3', 'not rated')
    """
    return "not rated" if pd.isna(level) else f"ML{int(level)}"


def case_profile(portfolio: Portfolio, case_id: str) -> pd.DataFrame:
    """Who and when, as a two-column table (``field``, ``value``) for the top of a case report.

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`casekit.load_cases`.
    case_id : str
        The case.

    Returns
    -------
    pandas.DataFrame
        ``field, value``: organization, sector, model, adoption dates, maturity
        and the data's span.

    Examples
    --------
    >>> import casekit as ck
    >>> case_profile(ck.load_cases("cases"), "quantia-tech")["field"].tolist()
    ['organization', 'sector', 'region', 'employees', 'source', 'CMMI model', 'adoption start', 'transition (months)', 'data', 'maturity level before adoption', 'maturity level latest']
    """
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


def case_overview(portfolio: Portfolio) -> pd.DataFrame:
    """One row per case: who, when, how much data, maturity before and after.

    Returns
    -------
    pandas.DataFrame
        Columns ``case_id, sector, model, adoption_start, kpis`` (number of
        KPIs measured), ``before, transition, after`` (measurements in each
        phase), ``maturity_before, maturity_latest``.

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`casekit.load_cases`.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.summary.case_overview(ck.load_cases("cases")).shape
    (9, 10)
    """
    counts = (
        portfolio.kpis.groupby(["case_id", "phase"]).size().unstack(fill_value=0)
        .reindex(columns=["before", "transition", "after"], fill_value=0)
    )
    kpis = portfolio.kpis.groupby("case_id")["kpi"].nunique().rename("kpis")
    table = (
        portfolio.cases[["case_id", "sector", "model", "adoption_start", "maturity_before", "maturity_latest"]]
        .join(kpis, on="case_id")
        .join(counts, on="case_id")
    )
    counted = ["kpis", "before", "transition", "after"]  # a published case of summaries only has no series
    table[counted] = table[counted].fillna(0).astype(int)
    return table[["case_id", "sector", "model", "adoption_start", "kpis", "before", "transition", "after",
                  "maturity_before", "maturity_latest"]].reset_index(drop=True)


def overview_text(portfolio: Portfolio) -> str:
    """:func:`case_overview` as the aligned text table ``casekit summary`` prints.

    Text left-aligned, counts right-aligned; maturity reads "ML3" or "not
    rated" (never ``<NA>``); ``before``, ``transition`` and ``after`` count
    measurements in each phase.

    Parameters
    ----------
    portfolio : Portfolio
        From :func:`casekit.load_cases`.

    Returns
    -------
    str

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit.report.summary import overview_text
    >>> print(overview_text(ck.load_cases("cases")).splitlines()[4])
    ironforge-industrial  Industrial manufacturing  CMMI-DEV v1.3  2018-07      5     146          30    178  not rated        ML3
    """
    table = case_overview(portfolio)
    for column in ("maturity_before", "maturity_latest"):
        table[column] = [maturity_label(level) for level in table[column]]
    table["adoption_start"] = [str(start) if pd.notna(start) else "–" for start in table["adoption_start"]]
    table["model"] = table["model"].fillna("–")  # a published case of summaries only has neither
    names = {"case_id": "case", "sector": "sector", "model": "CMMI model", "adoption_start": "adoption",
             "kpis": "KPIs", "before": "before", "transition": "transition", "after": "after",
             "maturity_before": "maturity before", "maturity_latest": "maturity latest"}
    counts = {"kpis", "before", "transition", "after"}
    columns = []
    for column, name in names.items():
        cells = [str(value) for value in table[column]]
        width = max(len(name), *(len(cell) for cell in cells)) if cells else len(name)
        align = str.rjust if column in counts else str.ljust
        columns.append([align(name, width)] + [align(cell, width) for cell in cells])
    return "\n".join("  ".join(row).rstrip() for row in zip(*columns))


def portfolio_title(organizations: int, published: int = 0) -> str:
    """A portfolio's title: its organizations (those with series) and its published case studies.

    Parameters
    ----------
    organizations : int
        Organizations with measurements over time.
    published : int
        Published case studies of summaries only.

    Returns
    -------
    str

    Examples
    --------
    >>> portfolio_title(8, 1), portfolio_title(1)
    ('Portfolio of 8 organizations and 1 published case study', 'Portfolio of 1 organization')
    """
    title = f"Portfolio of {organizations:,} organization{'s' if organizations != 1 else ''}"
    return title + (f" and {published:,} published case stud{'y' if published == 1 else 'ies'}" if published else "")
