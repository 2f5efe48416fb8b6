"""A one-row-per-case overview of a portfolio, for people and for `casekit summary`."""

from __future__ import annotations

import pandas as pd

from .loading import Portfolio


def case_overview(portfolio: Portfolio) -> pd.DataFrame:
    """One row per case: who, when, how much data, maturity before and after.

    Returns
    -------
    pandas.DataFrame
        Columns ``case_id, sector, model, adoption_start, kpis`` (number of
        KPIs measured), ``before, transition, after`` (measurements in each
        phase), ``maturity_before, maturity_latest``.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.case_overview(ck.load_cases("cases")).shape
    (8, 10)
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
    return table[["case_id", "sector", "model", "adoption_start", "kpis", "before", "transition", "after",
                  "maturity_before", "maturity_latest"]].reset_index(drop=True)
