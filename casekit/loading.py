"""Loading validated cases into a Portfolio of tidy pandas tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .catalog import kpi_catalog
from .errors import CaseError, Problem
from .periods import format_period, phase_of
from .validation import ParsedCase, case_folders, check_case


@dataclass
class Portfolio:
    """Cases as tidy tables, one fact per row.

    Attributes
    ----------
    cases : DataFrame
        One row per case: ``case_id, name, sector, region, size, source,
        summary, model, adoption_start`` (a monthly Period),
        ``transition_months``, ``currency``, ``first_period``, ``last_period``,
        ``maturity_before`` (the level of the last rated appraisal up to
        the adoption start; NA when none) and ``maturity_latest`` (the last
        rated appraisal's level).
    kpis : DataFrame
        One row per case, KPI and period: ``case_id, kpi, period`` (as written,
        ``YYYY-MM`` or ``YYYY-Qn``), ``date`` (the period's first day), ``freq``
        (``M`` or ``Q``), ``value``, ``phase`` (``before``, ``transition`` or
        ``after`` the case's adoption), and the KPI's ``label, unit, better,
        category, scale``.
    appraisals : DataFrame
        ``case_id, date, method, rated, maturity_level, model, scope``.
    practice_areas : DataFrame
        ``case_id, date, practice_area, capability_level`` (empty when no case
        has practice_areas.csv).
    goals : DataFrame
        One row per goal and KPI: ``case_id, goal_id, statement, kpi``, and
        the target where the goal has one (``target_change_pct`` or
        ``target_value``, on the row of the KPI it is for).
    investments : DataFrame
        ``case_id, period, date, category, amount, currency``.
    kpi_definitions : DataFrame
        The catalog plus every case's own KPIs (``case_id`` NA for the
        catalog's).
    """

    cases: pd.DataFrame
    kpis: pd.DataFrame
    appraisals: pd.DataFrame
    practice_areas: pd.DataFrame
    goals: pd.DataFrame
    investments: pd.DataFrame
    kpi_definitions: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"Portfolio({len(self.cases)} cases, {self.kpis['kpi'].nunique()} KPIs, "
            f"{len(self.kpis)} measurements, {len(self.appraisals)} appraisals)"
        )


def load_cases(path: str | Path = "cases") -> Portfolio:
    """Load and validate every case under ``path``.

    Parameters
    ----------
    path : str or Path
        The folder holding one folder per case.

    Returns
    -------
    Portfolio
        Tidy tables of cases, KPI measurements, appraisals, practice-area
        capability, goals and investments (see :class:`Portfolio`).

    Raises
    ------
    CaseError
        When any case has a problem; its message and ``.problems`` list them
        all (the same list :func:`validate_cases` returns).

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> len(pf.cases)
    8
    >>> list(pf.kpis.columns[:6])
    ['case_id', 'kpi', 'period', 'date', 'freq', 'value']
    """
    problems: list[Problem] = []
    catalog = kpi_catalog()
    parsed = []
    for folder in case_folders(Path(path), problems):
        case, found = check_case(folder, catalog)
        problems.extend(found)
        parsed.append(case)
    if problems:
        raise CaseError(problems)
    return _portfolio(parsed, catalog)


def _portfolio(parsed: list[ParsedCase], catalog: pd.DataFrame) -> Portfolio:
    definitions = pd.concat(
        [catalog.assign(case_id=pd.NA)]
        + [c.kpi_definitions.assign(case_id=c.meta["id"]) for c in parsed if len(c.kpi_definitions)],
        ignore_index=True,
    )
    kpis = pd.concat([_kpi_table(c, catalog) for c in parsed], ignore_index=True)
    appraisals = _table(
        [{"case_id": c.meta["id"], **{k: v for k, v in r.items() if k != "line"}} for c in parsed for r in c.appraisals],
        ["case_id", "date", "method", "rated", "maturity_level", "model", "scope"],
    ).astype({"maturity_level": "Int64"})
    practice = _table(
        [{"case_id": c.meta["id"], **r} for c in parsed for r in c.practice_areas],
        ["case_id", "date", "practice_area", "capability_level"],
    )
    goals = _table(
        [
            {
                "case_id": c.meta["id"],
                "goal_id": g["goal_id"],
                "statement": g["statement"],
                "kpi": kpi,
                "target_change_pct": g["target_change_pct"] if kpi == g["target_kpi"] else None,
                "target_value": g["target_value"] if kpi == g["target_kpi"] else None,
            }
            for c in parsed
            for g in c.meta["goals"]
            for kpi in g["kpis"]
        ],
        ["case_id", "goal_id", "statement", "kpi", "target_change_pct", "target_value"],
    ).astype({"target_change_pct": float, "target_value": float})
    investments = _table(
        [
            {"case_id": c.meta["id"], "period": format_period(i["period"]), "date": i["period"].start_time,
             "category": i["category"], "amount": i["amount"], "currency": c.meta.get("currency")}
            for c in parsed
            for i in c.meta["investments"]
        ],
        ["case_id", "period", "date", "category", "amount", "currency"],
    )
    cases = pd.DataFrame([_case_row(c, kpis, appraisals) for c in parsed]).astype(
        {"maturity_before": "Int64", "maturity_latest": "Int64"}
    )
    return Portfolio(cases, kpis, appraisals, practice, goals, investments, definitions)


def _table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _kpi_table(case: ParsedCase, catalog: pd.DataFrame) -> pd.DataFrame:
    info = pd.concat([catalog, case.kpi_definitions], ignore_index=True).set_index("kpi")
    start, transition = case.meta["adoption_start"], case.meta["transition_months"]
    rows = [
        {
            "case_id": case.meta["id"],
            "kpi": r["kpi"],
            "period": format_period(r["period"]),
            "date": r["period"].start_time,
            "freq": r["period"].freqstr[0],
            "value": r["value"],
            "phase": phase_of(r["period"], start, transition),
        }
        for r in case.kpis
    ]
    table = pd.DataFrame(rows).sort_values(["kpi", "date"], kind="stable", ignore_index=True)
    details = info.loc[table["kpi"], ["label", "unit", "better", "category", "scale"]].reset_index(drop=True)
    return pd.concat([table, details], axis=1)


def _case_row(case: ParsedCase, kpis: pd.DataFrame, appraisals: pd.DataFrame) -> dict:
    meta = case.meta
    own = kpis[kpis["case_id"] == meta["id"]]
    rated = appraisals[(appraisals["case_id"] == meta["id"]) & appraisals["rated"]]
    start = meta["adoption_start"].start_time
    rated = rated.sort_values("date", kind="stable")
    before = rated.loc[rated["date"] <= start, "maturity_level"]
    latest = rated["maturity_level"]
    return {
        "case_id": meta["id"],
        "name": meta["name"],
        "sector": meta["sector"],
        "region": meta["region"],
        "size": int(meta["size"]),
        "source": meta["source"],
        "summary": meta["summary"],
        "model": meta["model"],
        "adoption_start": meta["adoption_start"],
        "transition_months": meta["transition_months"],
        "currency": meta.get("currency"),
        "first_period": own["period"].iloc[own["date"].argmin()],
        "last_period": own["period"].iloc[own["date"].argmax()],
        "maturity_before": before.iloc[-1] if len(before) else pd.NA,
        "maturity_latest": latest.iloc[-1] if len(latest) else pd.NA,
    }
