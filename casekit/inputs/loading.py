"""Loading validated cases into a Portfolio of tidy pandas tables."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CaseError, Problem, display_path
from .catalog import kpi_catalog
from .periods import format_period, month_starts, phases
from .validation import ParsedCase, case_folders, check_case


def _empty_exposures() -> pd.DataFrame:
    return pd.DataFrame(columns=["case_id", "kpi", "exposure"])


PUBLISHED_COLUMNS = ["case_id", "kpi", "group", "n", "mean", "sd", "ci_low", "ci_high", "ci_level", "median", "q1",
                     "q3", "min", "max", "location", "line"]


def _empty_published() -> pd.DataFrame:
    return pd.DataFrame(columns=PUBLISHED_COLUMNS)


def _empty_comparison() -> pd.DataFrame:
    return pd.DataFrame(columns=["case_id", "kpi", "period", "date", "freq", "value", "comparison_unit", "phase",
                                 "label", "unit", "better", "category", "scale"])


@dataclass
class Portfolio:
    """Cases as tidy tables, one fact per row.

    Attributes
    ----------
    cases : DataFrame
        One row per case: ``case_id, name, sector, region, size`` (NA where a
        published case gives none), ``source, summary, reference`` (None
        where case.yaml has none), ``model, adoption_start`` (a monthly
        Period; both None for a published case of summaries only),
        ``transition_months``, ``seasonality`` (0, a number of harmonic pairs, or
        ``"months"``), ``primary_kpi`` (None or the KPI declared primary),
        ``currency``, ``comparison_unit`` (the unit comparison.csv holds, or None),
        ``first_period``, ``last_period``,
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
    kpi_values : DataFrame
        ``case_id, kpi, unit_value, currency``: money per unit of a KPI per
        period, where the case gives it (for ROI).
    kpi_definitions : DataFrame
        The catalog plus every case's own KPIs (``case_id`` NA for the
        catalog's).
    truth : DataFrame or None
        For simulated portfolios only (:func:`simulate_portfolio`): each
        case's true effect per KPI.
    comparison : DataFrame
        The comparison units' measurements (comparison.csv), with the columns
        of ``kpis`` and ``unit``; empty when no case has one.
    exposures : DataFrame
        ``case_id, kpi, exposure``: a count KPI and the KPI its case names as
        its exposure (``exposures:`` in case.yaml); empty when none does.
    published : DataFrame
        What published cases' sources reported (results.csv), one summary a
        row: ``case_id, kpi, group`` (``before``, ``after``, ``change`` or
        ``level 1`` to ``level 5``), ``n, mean, sd, ci_low, ci_high,
        ci_level, median, q1, q3, min, max`` (NaN where not printed),
        ``location`` (where in the source) and ``line`` (in results.csv);
        empty when no case has one.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> len(pf.cases), sorted(pf.kpis["phase"].unique())
    (9, ['after', 'before', 'transition'])
    >>> len(pf.subset(sectors=["Financial services"]).cases)
    2
    """

    cases: pd.DataFrame
    kpis: pd.DataFrame
    appraisals: pd.DataFrame
    practice_areas: pd.DataFrame
    goals: pd.DataFrame
    investments: pd.DataFrame
    kpi_definitions: pd.DataFrame
    kpi_values: pd.DataFrame
    truth: pd.DataFrame | None = None
    comparison: pd.DataFrame = field(default_factory=_empty_comparison)
    exposures: pd.DataFrame = field(default_factory=_empty_exposures)
    published: pd.DataFrame = field(default_factory=_empty_published)

    def subset(self, case_ids=None, sectors=None) -> Portfolio:
        """The cases named in ``case_ids`` and/or in ``sectors`` (None: no filter on that).

        Parameters
        ----------
        case_ids : iterable of str, optional
            These cases.
        sectors : iterable of str, optional
            The cases of these sectors.

        Returns
        -------
        Portfolio
            A new portfolio; its tables hold only the chosen cases' rows.

        Examples
        --------
        >>> import casekit as ck
        >>> portfolio = ck.load_cases("cases")
        >>> portfolio.subset(case_ids=["quantia-tech", "meridian-financial"]).cases["case_id"].tolist()
        ['meridian-financial', 'quantia-tech']
        """
        keep = self.cases
        if case_ids is not None:
            keep = keep[keep["case_id"].isin(list(case_ids))]
        if sectors is not None:
            keep = keep[keep["sector"].isin(list(sectors))]
        ids = set(keep["case_id"])
        tables = {
            name: table[table["case_id"].isin(ids)].reset_index(drop=True)
            for name, table in vars(self).items()
            if isinstance(table, pd.DataFrame) and name != "kpi_definitions"
        }
        definitions = self.kpi_definitions[self.kpi_definitions["case_id"].isna()
                                           | self.kpi_definitions["case_id"].isin(ids)]
        return replace(self, **tables, kpi_definitions=definitions.reset_index(drop=True))

    def __repr__(self) -> str:
        return (
            f"Portfolio({len(self.cases)} cases, {self.kpis['kpi'].nunique()} KPIs, "
            f"{len(self.kpis)} measurements, {len(self.appraisals)} appraisals)"
        )


def load_cases(path: str | Path = "cases", case_ids=None) -> Portfolio:
    """Load and validate every case under ``path`` (or only those in ``case_ids``).

    Parameters
    ----------
    path : str or Path
        The folder holding one folder per case.
    case_ids : list of str, optional
        Load only these cases; problems in the others are then not looked at.

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
    9
    >>> list(pf.kpis.columns[:6])
    ['case_id', 'kpi', 'period', 'date', 'freq', 'value']
    """
    problems: list[Problem] = []
    catalog = kpi_catalog()
    parsed = []
    folders = case_folders(Path(path), problems)
    if case_ids is not None:
        wanted = set(case_ids)
        missing = sorted(wanted - {f.name for f in folders})
        problems += [Problem(display_path(Path(path) / m), None, "", "no such case folder") for m in missing]
        folders = [f for f in folders if f.name in wanted]
    with _collection_paused():
        for folder in folders:
            case, found = check_case(folder, catalog)
            problems.extend(found)
            parsed.append(case)
        if problems:
            raise CaseError(problems)
        return portfolio_from(parsed, catalog)


@contextmanager
def _collection_paused():
    """Python's cyclic garbage collector paused: the parsed cases are millions of objects that live on,
    and every collection would walk them all again (a tenth of loading 10,000 cases). Case files make no
    reference cycles to collect."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def portfolio_from(parsed: list[ParsedCase], catalog: pd.DataFrame) -> Portfolio:
    """The Portfolio of cases already parsed and checked (``validation.check_case``), with the KPI catalog.

    Parameters
    ----------
    parsed : list of ParsedCase
        Cases as :func:`casekit.inputs.validation.check_case` returned them, each without problems.
    catalog : pandas.DataFrame
        :func:`casekit.kpi_catalog`.

    Returns
    -------
    Portfolio

    Examples
    --------
    >>> from casekit.inputs.catalog import kpi_catalog
    >>> from casekit.inputs.validation import check_case
    >>> portfolio_from([check_case("cases/quantia-tech")[0]], kpi_catalog()).cases["case_id"].tolist()
    ['quantia-tech']
    """
    definitions = pd.concat(
        [catalog.assign(case_id=pd.NA)]
        + [c.kpi_definitions.assign(case_id=c.meta["id"]) for c in parsed if len(c.kpi_definitions)],
        ignore_index=True,
    )
    kpis = _kpi_table(parsed, definitions)
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
    values = _table(
        [{"case_id": c.meta["id"], "kpi": k, "unit_value": v, "currency": c.meta.get("currency")}
         for c in parsed for k, v in c.meta.get("kpi_values", {}).items()],
        ["case_id", "kpi", "unit_value", "currency"],
    )
    cases = _case_rows(parsed, kpis, appraisals)
    compared = [c for c in parsed if len(c.comparison)]
    comparison = _kpi_table(compared, definitions, lambda c: c.comparison) if compared else _empty_comparison()
    if compared:
        comparison.insert(comparison.columns.get_loc("value") + 1, "comparison_unit",
                          comparison["case_id"].map(cases.set_index("case_id")["comparison_unit"]))
    exposures = _table([{"case_id": c.meta["id"], "kpi": kpi, "exposure": exposure}
                        for c in parsed for kpi, exposure in c.meta.get("exposures", {}).items()],
                       ["case_id", "kpi", "exposure"])
    published = _table([{"case_id": c.meta["id"], **r} for c in parsed for r in c.results], PUBLISHED_COLUMNS)
    numbers = ["n", "mean", "sd", "ci_low", "ci_high", "ci_level", "median", "q1", "q3", "min", "max"]
    published[numbers] = published[numbers].astype(float)
    return Portfolio(cases, kpis, appraisals, practice, goals, investments, definitions, values,
                     comparison=comparison, exposures=exposures, published=published)


def _table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _kpi_table(parsed: list[ParsedCase], definitions: pd.DataFrame, records=lambda case: case.kpis) -> pd.DataFrame:
    """All cases' measurements in one tidy table, built column by column (portfolios can be large).

    ``records`` picks a case's rows: its kpis.csv, or (for the comparison table) its comparison.csv.
    """
    rows = [records(c) for c in parsed]
    counts = [len(r) for r in rows]
    spans = np.concatenate([r.month_spans() for r in rows] or [np.zeros((0, 2), dtype=np.int64)])
    # a pandas Period is slow to format: each distinct object (rows with one text share one) is formatted once
    texts = {id(p): p for r in rows for p in r.period}
    texts = {key: format_period(period) for key, period in texts.items()}
    table = pd.DataFrame({
        "case_id": np.repeat([c.meta["id"] for c in parsed], counts),
        "kpi": [kpi for r in rows for kpi in r.kpi],
        "period": [texts[id(p)] for r in rows for p in r.period],
        "date": month_starts(spans[:, 0]),
        "freq": np.where(spans[:, 0] == spans[:, 1], "M", "Q"),
        "value": np.concatenate([r.value for r in rows] or [np.zeros(0)]),
        "phase": phases(spans[:, 0], spans[:, 1],
                        np.repeat([_ordinal(c.meta["adoption_start"]) for c in parsed], counts).astype(np.int64),
                        np.repeat([c.meta["transition_months"] for c in parsed], counts).astype(np.int64)),
    })
    table = table.astype({"case_id": object, "kpi": object})  # an empty table too (published cases of summaries only)
    table = table.sort_values(["case_id", "kpi", "date"], kind="stable", ignore_index=True)
    info = definitions[["case_id", "kpi", "label", "unit", "better", "category", "scale"]]
    own = table.merge(info.dropna(subset=["case_id"]), on=["case_id", "kpi"], how="left")
    shared = table[["kpi"]].merge(info[info["case_id"].isna()].drop(columns="case_id"), on="kpi", how="left")
    details = own[["label", "unit", "better", "category", "scale"]].fillna(shared)
    return pd.concat([table, details], axis=1)


def _ordinal(month: pd.Period | None) -> int:
    """A month's number; a published case without series has no adoption month, and no rows to place."""
    return 0 if month is None else month.ordinal


def _case_rows(parsed: list[ParsedCase], kpis: pd.DataFrame, appraisals: pd.DataFrame) -> pd.DataFrame:
    """One row per case, built column by column: a per-case pandas lookup costs milliseconds, at 10,000
    cases most of loading."""
    metas = [case.meta for case in parsed]
    cases = pd.DataFrame({
        "case_id": [m["id"] for m in metas], "name": [m["name"] for m in metas],
        "sector": [m["sector"] for m in metas], "region": [m["region"] for m in metas],
        "size": pd.array([m.get("size") for m in metas], dtype="Int64"), "source": [m["source"] for m in metas],
        "summary": [m["summary"] for m in metas], "reference": [m.get("reference") for m in metas],
        "model": [m["model"] for m in metas],
        "adoption_start": [m["adoption_start"] for m in metas],
        "transition_months": [m["transition_months"] for m in metas],
        "seasonality": [m.get("seasonality", 0) for m in metas],
        "primary_kpi": [m.get("primary_kpi") for m in metas],
        "currency": [m.get("currency") for m in metas],
        "comparison_unit": [(m.get("comparison") or {}).get("unit") for m in metas],
    })
    spans = kpis.groupby("case_id")["date"].agg(["idxmin", "idxmax"])
    periods = kpis["period"].to_numpy()
    for column, end in (("first_period", "idxmin"), ("last_period", "idxmax")):
        rows = cases["case_id"].map(spans[end])  # NaN for a published case with no series
        cases[column] = np.where(rows.notna(), periods[rows.fillna(0).astype(int).to_numpy()] if len(periods)
                                 else None, None)
    rated = appraisals[appraisals["rated"].astype(bool)].sort_values(["case_id", "date"], kind="stable")
    adopted = dict(zip(cases["case_id"], [pd.NaT if m["adoption_start"] is None else m["adoption_start"].start_time
                                          for m in metas]))
    before = rated[rated["date"].to_numpy() <= rated["case_id"].map(adopted).to_numpy()]
    for column, table in (("maturity_before", before), ("maturity_latest", rated)):
        latest = table.groupby("case_id", sort=False)["maturity_level"].last()
        cases[column] = cases["case_id"].map(latest).astype("Int64")
    return cases
