"""Validation of case folders: every rule of the case format, every problem at once.

``check_case`` reads one folder and returns what it could parse plus the list
of problems; ``validate_cases`` does that for a folder of cases.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, Problem, display_path
from .casefiles import (
    CASE_FILES,
    MISSING_MARKERS,
    RowProblems,
    YamlDoc,
    csv_rows,
    plain_csv_columns,
    read_csv,
    read_text,
    read_yaml,
)
from .catalog import (
    CATEGORIES,
    DIRECTIONS,
    RELATIVE,
    SCALES,
    in_range,
    kpi_catalog,
    kpi_names,
    normalise,
    range_text,
    signed_hint,
)
from .kpi_records import KpiRecords
from .numbers import decimal_mark, read_number_text, squeeze
from .periods import (
    NUMERIC_DATE,
    month_span,
    parse_date,
    parse_month,
    parse_period,
    read_period_text,
    seasonality_setting,
)
from .results import check_results

CASE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KPI_ID = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCES = ("illustrative", "published", "client")
MODELS = (
    "CMMI-DEV v1.2",
    "CMMI-DEV v1.3",
    "CMMI-SVC v1.3",
    "CMMI-ACQ v1.3",
    "CMMI V2.0",
    "CMMI V3.0",
)
# Appraisal methods that yield a maturity level rating (SCAMPI A for v1.x,
# Benchmark and Sustainment for V2.0/V3.0); the others are informal checks.
RATING_METHODS = ("SCAMPI A", "Benchmark", "Sustainment")
OTHER_METHODS = ("SCAMPI B", "SCAMPI C", "Evaluation", "Action Plan Reappraisal")
METHODS = RATING_METHODS + OTHER_METHODS
INVESTMENT_CATEGORIES = (
    "appraisal",
    "training",
    "consulting",
    "process improvement",
    "tooling",
    "infrastructure",
    "staff",
)
MIN_BASELINE_PERIODS = 4
MAX_TRANSITION_MONTHS = 36

REQUIRED_FIELDS = ("id", "name", "sector", "region", "size", "source", "summary", "adoption")
OPTIONAL_FIELDS = ("currency", "reference", "business_goals", "investments", "kpis", "kpi_values", "primary_kpi",
                   "comparison", "exposures")
COMPARISON_KINDS = ("business unit", "sister organization", "benchmark", "other")
KPI_DEF_FIELDS = ("label", "unit", "better", "category", "scale", "min", "max", "description")


@dataclass
class ParsedCase:
    """What one case folder holds, parsed; complete only when no problems were found."""

    folder: Path
    meta: dict[str, Any] = field(default_factory=dict)
    kpi_definitions: pd.DataFrame | None = None
    kpis: KpiRecords = field(default_factory=KpiRecords)
    appraisals: list[dict[str, Any]] = field(default_factory=list)
    practice_areas: list[dict[str, Any]] = field(default_factory=list)
    comparison: KpiRecords = field(default_factory=KpiRecords)  # comparison.csv: the comparison unit's KPIs
    results: list[dict[str, Any]] = field(default_factory=list)  # results.csv: a published source's summaries
    doc: YamlDoc | None = None  # case.yaml as read, with each value's line
    digests: dict[str, str] = field(default_factory=dict)  # each file read: its bytes' SHA-256 (check_case(digests=True))


MAX_TEXT = 200  # characters in a name, sector, region, KPI label or unit, goal id
MAX_LONG_TEXT = 5_000  # in a summary, a reference, a goal statement, a KPI description
MAX_NUMBER = 1e15


def _number_text(text: str) -> float:
    """A CSV number: what ``float`` reads, except its '_' digit separators (``4_82`` is not 482)."""
    if "_" in text:
        raise ValueError(text)
    return float(text)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a yes/no value ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


class _YamlChecker:
    """Checks values of case.yaml and records problems with their lines."""

    def __init__(self, path: Path, doc: YamlDoc, problems: list[Problem]):
        self.where = display_path(path)
        self.doc = doc
        self.problems = problems

    def problem(self, keys: tuple, message: str) -> None:
        name = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")
        self.problems.append(Problem(self.where, self.doc.line(*keys), name, message))

    def text(self, keys: tuple, value: Any, limit: int = MAX_TEXT) -> str | None:
        if isinstance(value, str) and value.strip():
            if len(value.strip()) > limit:
                self.problem(keys, f"expected at most {limit:,} characters, got {len(value.strip()):,}")
                return None
            return value.strip()
        hint = " (put it in quotes)" if isinstance(value, (bool, int, float)) else ""
        self.problem(keys, f"expected text, got {_kind(value)}{hint}")
        return None

    def number(self, keys: tuple, value: Any, minimum: float | None = None, integer: bool = False) -> float | None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
            and not (isinstance(value, float) and not math.isfinite(value))
        if ok and abs(value) > MAX_NUMBER:
            self.problem(keys, f"expected a number below {MAX_NUMBER:.0e}, got one with {len(str(int(value)))} digits")
            return None
        if ok and integer and not float(value).is_integer():
            ok = False
        if not ok or not math.isfinite(value):
            self.problem(keys, f"expected {'a whole number' if integer else 'a finite number'}, got {_kind(value)}")
            return None
        if minimum is not None and value < minimum:
            self.problem(keys, f"expected a number >= {minimum:g}, got {value}")
            return None
        return value

    def choice(self, keys: tuple, value: Any, choices: tuple[str, ...]) -> str | None:
        if value in choices:
            return value
        self.problem(keys, f"expected one of {', '.join(choices)}; got {_kind(value)}")
        return None

    def month(self, keys: tuple, value: Any) -> pd.Period | None:
        try:
            return parse_month(value) if isinstance(value, str) else parse_month("")
        except ValueError as exc:
            self.problem(keys, str(exc) if "year must be" in str(exc)
                         else f"expected a month YYYY-MM (in quotes if need be), got {_kind(value)}")
            return None

    def mapping(self, keys: tuple, value: Any) -> dict | None:
        if isinstance(value, dict):
            return value
        self.problem(keys, f"expected a mapping of fields, got {_kind(value)}")
        return None

    def items(self, keys: tuple, value: Any) -> list:
        if isinstance(value, list):
            return value
        self.problem(keys, f"expected a list, got {_kind(value)}")
        return []

    def known_fields(self, keys: tuple, value: dict, allowed: tuple[str, ...]) -> None:
        for name in value:
            if name not in allowed:
                self.problem(keys + (name,), f"unknown field; expected one of {', '.join(allowed)}")


def _check_meta(folder: Path, doc: YamlDoc, problems: list[Problem], catalog: pd.DataFrame,
                summaries_only: bool = False) -> dict | None:
    """Check case.yaml; return the cleaned fields, plus the case's KPI definitions.

    A published case with reported summaries and no series (``summaries_only``) may leave out ``adoption``
    and ``size``: a table by maturity level has no adoption month, and a source need not print a head count."""
    c = _YamlChecker(folder / "case.yaml", doc, problems)
    raw = c.mapping((), doc.data)
    if raw is None:
        return None
    c.known_fields((), raw, REQUIRED_FIELDS + OPTIONAL_FIELDS)
    optional = ("adoption", "size") if summaries_only and raw.get("source") == "published" else ()
    for name in REQUIRED_FIELDS:
        if name not in raw and name not in optional:
            c.problem((name,), "required field is missing")
    meta: dict[str, Any] = {"adoption_start": None, "model": None, "transition_months": 0, "seasonality": 0}
    if "id" in raw and (case_id := c.text(("id",), raw["id"])):
        if not CASE_ID.match(case_id):
            c.problem(("id",), f"expected lowercase letters, digits and single hyphens, got {case_id!r}")
        elif case_id != folder.name:
            c.problem(("id",), f"must equal the folder name {folder.name!r}, got {case_id!r}")
        meta["id"] = case_id
    for name in ("name", "sector", "region", "summary", "reference"):
        if name in raw:
            meta[name] = c.text((name,), raw[name], MAX_LONG_TEXT if name in ("summary", "reference") else MAX_TEXT)
    if "size" in raw:
        meta["size"] = c.number(("size",), raw["size"], minimum=1, integer=True)
    if "source" in raw:
        meta["source"] = c.choice(("source",), raw["source"], SOURCES)
    if "currency" in raw and (currency := c.text(("currency",), raw["currency"])):
        if not re.fullmatch(r"[A-Z]{3}", currency):
            c.problem(("currency",), f"expected an ISO 4217 code such as USD or EUR, got {currency!r}")
        meta["currency"] = currency
    if "adoption" in raw and (adoption := c.mapping(("adoption",), raw["adoption"])) is not None:
        c.known_fields(("adoption",), adoption, ("start", "model", "transition_months", "seasonality"))
        for name in ("start", "model"):
            if name not in adoption:
                c.problem(("adoption", name), "required field is missing")
        if "start" in adoption:
            meta["adoption_start"] = c.month(("adoption", "start"), adoption["start"])
        if "model" in adoption:
            meta["model"] = c.choice(("adoption", "model"), adoption["model"], MODELS)
        months = adoption.get("transition_months", 0)
        months = c.number(("adoption", "transition_months"), months, minimum=0, integer=True)
        if months is not None and months > MAX_TRANSITION_MONTHS:
            c.problem(("adoption", "transition_months"), f"expected at most {MAX_TRANSITION_MONTHS} months, got {months}")
        meta["transition_months"] = None if months is None else int(months)
        meta["seasonality"] = _seasonality(c, adoption.get("seasonality", "none"))

    definitions = _check_kpi_definitions(c, raw.get("kpis", {}), catalog)
    meta["kpi_definitions"] = definitions
    known = known_kpis(catalog, definitions)
    meta["goals"] = _check_goals(c, raw.get("business_goals", []), known)
    meta["investments"] = _check_investments(c, raw.get("investments", []))
    meta["kpi_values"] = _check_kpi_values(c, raw.get("kpi_values", {}), known)
    meta["primary_kpi"] = None
    if raw.get("primary_kpi") is not None and (primary := c.text(("primary_kpi",), raw["primary_kpi"])):
        if primary in known:
            meta["primary_kpi"] = primary
        else:
            c.problem(("primary_kpi",), f"unknown KPI {primary!r}; the primary KPI is one the case measures, declared "
                                        f"before looking at the results")
    meta["comparison"] = _check_comparison(c, raw["comparison"]) if raw.get("comparison") is not None else None
    meta["exposures"] = _check_exposures(c, raw.get("exposures") or {}, known)
    return meta


def _check_exposures(c: _YamlChecker, raw: Any, known: dict) -> dict[str, str]:
    """``exposures``: for a count KPI, the KPI that measures how much could go wrong each period (releases,
    KLOC), so that the count is compared as a rate."""
    found = c.mapping(("exposures",), raw)
    exposures = {}
    for kpi, exposure in (found or {}).items():
        keys = ("exposures", kpi)
        if kpi not in known:
            c.problem(keys, f"unknown KPI {kpi!r}: name a count KPI the case measures")
            continue
        if known[kpi]["scale"] != "count":
            c.problem(keys, f"{kpi} is not a count (its scale is {known[kpi]['scale']}); an exposure turns a count "
                            "of events into a rate: give it for escaped_defects, incidents or a KPI of your own "
                            "with scale: count")
            continue
        name = c.text(keys, exposure)
        if name is None:
            continue
        if name not in known or name == kpi or known[name]["scale"] == "interval":
            c.problem(keys, f"{name!r} cannot be the exposure of {kpi}: name another KPI the case measures, always "
                            "above zero (such as releases)")
            continue
        exposures[kpi] = name
    return exposures


def _check_comparison(c: _YamlChecker, raw: Any) -> dict | None:
    """``comparison``: the unit whose KPIs (comparison.csv) stand for what the organization would have done."""
    found = c.mapping(("comparison",), raw)
    if found is None:
        return None
    c.known_fields(("comparison",), found, ("unit", "kind", "description"))
    if "unit" not in found:
        c.problem(("comparison", "unit"), "required field is missing: name the comparison unit (the business "
                                          "unit, sister organization or benchmark whose KPIs comparison.csv holds)")
        return None
    unit = c.text(("comparison", "unit"), found["unit"])
    kind = c.choice(("comparison", "kind"), found["kind"], COMPARISON_KINDS) if "kind" in found else "other"
    description = c.text(("comparison", "description"), found["description"], MAX_LONG_TEXT) \
        if "description" in found else ""
    return None if not unit else {"unit": unit, "kind": kind or "other", "description": description or ""}


def _seasonality(c: _YamlChecker, value: Any):
    """``adoption.seasonality``: what the KPIs' regressions allow for, decided before looking at the effect."""
    try:
        return seasonality_setting(value)
    except ArgumentError as exc:
        c.problem(("adoption", "seasonality"), str(exc))
        return 0


def _check_kpi_values(c: _YamlChecker, raw: Any, known: dict) -> dict[str, float]:
    """Money per unit of a KPI per period (for ROI): ``kpi_values: {escaped_defects: 4500}``."""
    values = {}
    for kpi, amount in (c.mapping(("kpi_values",), raw) or {}).items() if raw is not None else []:
        if not isinstance(kpi, str) or kpi not in known:
            c.problem(("kpi_values", kpi), f"unknown KPI {kpi!r}")
            continue
        amount = c.number(("kpi_values", kpi), amount, minimum=0)
        if amount is not None:
            values[kpi] = float(amount)
    return values


def known_kpis(catalog: pd.DataFrame, definitions: pd.DataFrame) -> dict[str, dict]:
    """Every KPI a case may use, ``{kpi: {label, unit, better, ..., min, max}}``: the catalog's and its own.

    The catalog's part is made once per catalog: most cases define no KPI of their own.

    Parameters
    ----------
    catalog : pandas.DataFrame
        :func:`casekit.kpi_catalog`.
    definitions : pandas.DataFrame
        The case's own KPIs (``ParsedCase.kpi_definitions``), possibly empty.

    Returns
    -------
    dict

    Examples
    --------
    >>> from casekit.inputs.catalog import kpi_catalog
    >>> known_kpis(kpi_catalog(), kpi_catalog().iloc[0:0])["cycle_time"]["unit"]
    'days'
    """
    key = id(catalog)
    if key not in _CATALOG_KPIS or _CATALOG_KPIS[key][0] is not catalog:
        _CATALOG_KPIS[key] = (catalog, catalog.set_index("kpi").to_dict("index"))
    shared = _CATALOG_KPIS[key][1]
    if definitions.empty:
        return shared
    return {**shared, **definitions.set_index("kpi").to_dict("index")}


_CATALOG_KPIS: dict[int, tuple[pd.DataFrame, dict]] = {}  # id -> (the catalog, kept alive so the id stays its)


def _check_kpi_definitions(c: _YamlChecker, raw: Any, catalog: pd.DataFrame) -> pd.DataFrame:
    if raw is None or raw == {}:
        return _no_definitions(catalog)
    rows = []
    definitions = c.mapping(("kpis",), raw) if raw is not None else {}
    for kpi, spec in (definitions or {}).items():
        keys = ("kpis", kpi)
        if not isinstance(kpi, str) or not KPI_ID.match(kpi):
            c.problem(keys, "KPI names are lowercase letters, digits and underscores, starting with a letter")
            continue
        if kpi in set(catalog["kpi"]):
            c.problem(keys, "already defined in casekit's KPI catalog; use the catalog's or choose another name")
            continue
        spec = c.mapping(keys, spec)
        if spec is None:
            continue
        c.known_fields(keys, spec, KPI_DEF_FIELDS)
        row = {"kpi": kpi, "description": ""}
        for name in ("label", "unit"):
            row[name] = c.text(keys + (name,), spec.get(name))
        row["better"] = c.choice(keys + ("better",), spec.get("better"), DIRECTIONS)
        row["category"] = c.choice(keys + ("category",), spec.get("category"), CATEGORIES)
        row["scale"] = c.choice(keys + ("scale",), spec.get("scale", "ratio"), SCALES)
        if "description" in spec:
            row["description"] = c.text(keys + ("description",), spec["description"], MAX_LONG_TEXT)
        for bound in ("min", "max"):
            value = spec.get(bound)
            row[bound] = float("nan") if value is None else c.number(keys + (bound,), value)
        if None not in row.values():
            rows.append(row)
    if not rows:
        return _no_definitions(catalog)
    return pd.DataFrame(rows, columns=catalog.columns).astype({"min": float, "max": float})


def _no_definitions(catalog: pd.DataFrame) -> pd.DataFrame:
    if _EMPTY_DEFINITIONS.get("columns") != list(catalog.columns):
        _EMPTY_DEFINITIONS.update(columns=list(catalog.columns), frame=pd.DataFrame(
            [], columns=catalog.columns).astype({"min": float, "max": float}))
    return _EMPTY_DEFINITIONS["frame"]  # shared: nothing writes to a case's definitions


_EMPTY_DEFINITIONS: dict = {}


def _check_goals(c: _YamlChecker, raw: Any, known: dict) -> list[dict]:
    goals, seen = [], set()
    for i, goal in enumerate(c.items(("business_goals",), raw) if raw is not None else []):
        keys = ("business_goals", i)
        goal = c.mapping(keys, goal)
        if goal is None:
            continue
        c.known_fields(keys, goal, ("id", "statement", "kpis", "target"))
        goal_id = c.text(keys + ("id",), goal.get("id"))
        if goal_id in seen:
            c.problem(keys + ("id",), f"goal id {goal_id!r} is used twice")
        seen.add(goal_id)
        statement = c.text(keys + ("statement",), goal.get("statement"), MAX_LONG_TEXT)
        kpis = c.items(keys + ("kpis",), goal.get("kpis"))
        if "kpis" in goal and not kpis:
            c.problem(keys + ("kpis",), "list at least one KPI that measures the goal")
        for j, kpi in enumerate(kpis):
            if not isinstance(kpi, str) or kpi not in known:
                c.problem(keys + ("kpis", j), f"unknown KPI {kpi!r}; define it under kpis: or use a catalog KPI")
        target = _check_target(c, keys + ("target",), goal.get("target"), kpis, known)
        goals.append({"goal_id": goal_id, "statement": statement, "kpis": list(kpis), **target})
    return goals


def _check_target(c: _YamlChecker, keys: tuple, raw: Any, kpis: list, known: dict) -> dict:
    empty = {"target_kpi": None, "target_change_pct": None, "target_value": None}
    if raw is None:
        return empty
    target = c.mapping(keys, raw)
    if target is None:
        return empty
    c.known_fields(keys, target, ("kpi", "change_pct", "value"))
    kpi = target.get("kpi", kpis[0] if len(kpis) == 1 else None)
    if kpi is not None and not isinstance(kpi, str):
        c.problem(keys + ("kpi",), f"expected a KPI name, got {_kind(kpi)}")
        return empty
    if kpi is None:
        c.problem(keys + ("kpi",), "the goal lists several KPIs; name the one the target is for")
        return empty
    if kpi not in kpis:
        c.problem(keys + ("kpi",), f"{kpi!r} is not one of the goal's KPIs ({', '.join(map(str, kpis))})")
        return empty
    if kpi not in known:
        return empty
    info = known[kpi]
    if ("change_pct" in target) == ("value" in target):
        c.problem(keys, "give exactly one of change_pct (against the baseline) or value (a level to reach)")
        return empty
    if "change_pct" in target:
        change = c.number(keys + ("change_pct",), target["change_pct"], minimum=-100)
        if change is None:
            return empty
        if info["scale"] == "interval":
            c.problem(keys + ("change_pct",), f"{kpi} is on an interval scale; give the target as value")
        elif change == 0 or (change < 0) != (info["better"] == "lower"):
            want = "negative (a drop)" if info["better"] == "lower" else "positive (a rise)"
            c.problem(keys + ("change_pct",), f"{kpi}: {info['better']} is better, so the target must be {want}, got {change}")
        return {**empty, "target_kpi": kpi, "target_change_pct": float(change)}
    value = c.number(keys + ("value",), target["value"])
    if value is not None and not in_range(value, info):
        c.problem(keys + ("value",), f"{kpi} ranges over {range_text(info)}, got {value}")
    return {**empty, "target_kpi": kpi, "target_value": value}


def _check_investments(c: _YamlChecker, raw: Any) -> list[dict]:
    rows = []
    for i, item in enumerate(c.items(("investments",), raw) if raw is not None else []):
        keys = ("investments", i)
        item = c.mapping(keys, item)
        if item is None:
            continue
        c.known_fields(keys, item, ("period", "category", "amount"))
        try:
            period = parse_period(item.get("period")) if isinstance(item.get("period"), str) else parse_period("")
        except ValueError:
            c.problem(keys + ("period",), f"expected YYYY-MM or YYYY-Qn, got {_kind(item.get('period'))}")
            period = None
        category = c.choice(keys + ("category",), item.get("category"), INVESTMENT_CATEGORIES)
        amount = c.number(keys + ("amount",), item.get("amount"), minimum=0)
        if None not in (period, category, amount):
            rows.append({"period": period, "category": category, "amount": float(amount)})
    return rows


def _check_kpi_rows(path: Path, known: dict | None, problems: list[Problem],
                    digests: dict[str, str] | None = None) -> KpiRows | None:
    """Check kpis.csv; KPI names and ranges only when case.yaml could be read (``known``, from
    :func:`known_kpis`). None when the file cannot be read at all (its absence of rows is then no news).

    Row problems come one per kind with their count and lines, and a hint where the value shows what
    went wrong (a percent sign, a decimal comma, a date, a KPI's label).
    """
    text = read_text(path, problems, digests)
    if text is None:
        return None
    fast = kpi_rows_in_bulk(text, known)
    if fast is not None:
        return fast
    return kpi_rows_one_by_one(text, display_path(path), known, problems)


def kpi_rows_one_by_one(text: str, where: str, known: dict | None, problems: list[Problem]) -> KpiRows | None:
    r"""kpis.csv's ``text`` checked row by row, each problem worded with its line (named ``where``) and hint.

    The rule for a row is this function's; :func:`kpi_rows_in_bulk` applies the same checks to whole columns
    and gives way here at the first doubt (tests/test_loading.py holds the two equal on generated files).

    Parameters
    ----------
    text : str
        kpis.csv's text.
    where : str
        The file's name for the problems.
    known : dict or None
        The case's KPIs (:func:`known_kpis`); None skips the checks that need them.
    problems : list of Problem
        Receives the problems.

    Returns
    -------
    KpiRows or None
        The valid rows, and whether every row was.

    Examples
    --------
    >>> from casekit.inputs.catalog import kpi_catalog
    >>> known = known_kpis(kpi_catalog(), kpi_catalog().iloc[0:0])
    >>> problems = []
    >>> read = kpi_rows_one_by_one("period,kpi,value\n2024-01,cycle_time,12\n2024-02,cycle_time,1,5\n",
    ...                            "kpis.csv", known, problems)
    >>> len(read.rows), read.complete, problems[0].line
    (1, False, 3)
    """
    reported = len(problems)
    rows = csv_rows(text, where, ["period", "kpi", "value"], ["note"], problems,
                    header_hint=lambda header, text: _wide_hint(header, known))
    if rows is None:
        return None
    skipped = len(problems) > reported  # rows read_csv could not split into the header's fields
    grouped = RowProblems(where)
    out: list[dict] = []
    first_line: dict[tuple[str, str], int] = {}
    freq_of: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        ok = True
        try:
            period = parse_period(row["period"])
        except ValueError as exc:
            grouped.add("period", line, "period", str(exc), _period_hint(row["period"]))
            ok = False
        kpi = row["kpi"]
        if known is not None and kpi not in known:
            grouped.add(f"kpi {kpi}", line, "kpi", f"unknown KPI {kpi!r}", _kpi_hint(kpi, known)
                        or "use a catalog KPI or define it in case.yaml under kpis:")
            ok = False
        try:
            value = _number_text(row["value"])
            if not math.isfinite(value) or abs(value) > MAX_NUMBER:
                raise ValueError
        except ValueError:
            kind, hint = _number_hint(row["value"])
            grouped.add(f"value {kind}", line, "value", f"expected a finite number, got {row['value']!r}", hint)
            ok = False
        if not ok:
            continue
        if known is not None and not in_range(value, info := known[kpi]):
            grouped.add(f"range {kpi}", line, "value", f"{kpi} ranges over {range_text(info)}, got {value:g}",
                        signed_hint(kpi) if value < 0 else "")
        elif known is not None and info.get("scale") == "ratio" and value < 0:
            grouped.add(f"negative {kpi}", line, "value", f"{kpi} is compared as a ratio, so it cannot be negative, "
                        f"got {value:g}; give it scale: interval in case.yaml if it can")
        elif known is not None and info.get("scale") == "count" and (value < 0 or value != round(value)):
            grouped.add(f"count {kpi}", line, "value", f"{kpi} is a count of events, a whole number of at least 0, "
                        f"got {value:g}", "give the month's count; for an average or a rate (per release, per "
                        "KLOC), give the counts and name the exposure under exposures: in case.yaml, or define "
                        "your own KPI with scale: ratio")
        key = (row["period"], kpi)  # parse_period accepts only the written forms format_period gives
        if key in first_line:
            problems.append(Problem(where, line, "period", f"duplicate row for {kpi} in {key[0]}; first given on line {first_line[key]}"))
            continue
        first_line[key] = line
        freq, freq_line = freq_of.setdefault(kpi, (period.freqstr, line))
        if period.freqstr != freq:
            grouped.add(f"mixed {kpi}", line, "period", f"{kpi} mixes monthly and quarterly periods (see line "
                        f"{freq_line}); use one")
            continue
        out.append({"period": period, "kpi": kpi, "value": value, "line": line})
    problems.extend(grouped.problems())
    return KpiRows(KpiRecords.from_rows(out), complete=not grouped.kinds and not skipped)


def kpi_rows_in_bulk(text: str, known: dict | None) -> KpiRows | None:
    r"""kpis.csv's ``text`` checked column by column, when it is plain (``plain_csv_columns``) and every row is
    valid; None otherwise, and :func:`kpi_rows_one_by_one` finds and words each problem. The same checks, in
    bulk: a portfolio of 10,000 cases holds a million rows.

    Parameters
    ----------
    text : str
        kpis.csv's text.
    known : dict or None
        As :func:`kpi_rows_one_by_one`.

    Returns
    -------
    KpiRows or None

    Examples
    --------
    >>> from casekit.inputs.catalog import kpi_catalog
    >>> known = known_kpis(kpi_catalog(), kpi_catalog().iloc[0:0])
    >>> len(kpi_rows_in_bulk("period,kpi,value\n2024-01,cycle_time,12\n", known).rows)
    1
    >>> kpi_rows_in_bulk("period,kpi,value\n2024-01,cycle_time,-12\n", known) is None  # a problem to word
    True
    """
    if known is None:
        return None
    table = plain_csv_columns(text, ["period", "kpi", "value"], ["note"])
    if table is None:
        return None
    columns, lines = table
    periods, kpis, texts = columns["period"], columns["kpi"], columns["value"]
    if not set(kpis) <= known.keys() or "_" in "\n".join(texts):
        return None
    try:
        parsed = {text: parse_period(text) for text in set(periods)}
        values = [float(text) for text in texts]
    except ValueError:
        return None
    array = np.array(values)
    limits = {k: (known[k]["min"], known[k]["max"], known[k].get("scale") in RELATIVE, known[k].get("scale") == "count")
              for k in set(kpis)}
    lows, highs, ratio, count = np.array([limits[k] for k in kpis], dtype=float).reshape(-1, 4).T
    ratio, count = ratio.astype(bool), count.astype(bool)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(array) | (np.abs(array) > MAX_NUMBER) | (array < lows) | (array > highs) | (ratio & (array < 0))
        bad |= count & (array != np.round(array))
    if bad.any() or len(set(zip(periods, kpis))) < len(kpis):
        return None
    if len({period.freqstr for period in parsed.values()}) > 1:  # a KPI may not mix monthly and quarterly
        frequencies = {(k, parsed[p].freqstr) for k, p in set(zip(kpis, periods))}
        if len(frequencies) > len(set(kpis)):
            return None
    distinct = {text: number for number, text in enumerate(parsed)}
    which = np.fromiter((distinct[p] for p in periods), dtype=np.int64, count=len(periods))
    spans = np.array([month_span(period) for period in parsed.values()], dtype=np.int64)[which]
    return KpiRows(KpiRecords([parsed[p] for p in periods], kpis, array, lines, spans), complete=True)


@dataclass
class KpiRows:
    """kpis.csv's valid rows, and whether every row was."""

    rows: KpiRecords
    complete: bool


IMPORT = "or run `casekit import FILE CASE_DIR`"
IMPORT_DECIMAL_COMMA = "or run `casekit import FILE CASE_DIR --decimal ,`"


def _number_hint(text: str) -> tuple[str, str]:
    """The kind of a value that is not a number, and how to fix it."""
    t = text.strip()
    if not t:
        return "blank", "leave the row out for a missing period (casekit reads it as a gap)"
    if t.lower() in MISSING_MARKERS:
        return "missing", f"{t} marks a missing value: leave the row out (casekit reads a missing period as a gap)"
    found = read_number_text(t, decimal_mark([squeeze(t).rstrip("%").strip()]) or ".")
    if found is not None and found.percent:
        return "percent", f"remove the % sign (68.9% is written 68.9), {IMPORT}"
    if found is not None and found.grouped:
        return "thousands", f"remove the thousands separator (1,012 is written 1012), {IMPORT}"
    if found is not None and found.decimal_comma:
        return "decimal comma", f"write decimals with a point (12,5 is written 12.5), {IMPORT_DECIMAL_COMMA}"
    if "_" in t:
        return "underscore", "write numbers without '_'"
    return "other", ""


def _period_hint(text: str) -> str:
    """What a period written another way reads as, by the reader ``casekit import`` converts with."""
    text = text.strip()
    found = read_period_text(text)
    if found is not None and found[0] != text:
        unit = "quarter as YYYY-Qn" if "Q" in found[0] else "month as YYYY-MM"
        return f"write the {unit} ({found[0]}), {IMPORT}, which converts every period"
    if NUMERIC_DATE.match(text):
        return ("a date that reads two ways (day or month first): write the month as YYYY-MM (2020-01), or run "
                "`casekit import FILE CASE_DIR --dayfirst` (or --monthfirst)")
    return ""


def _kpi_hint(kpi: str, known: dict) -> str:
    """'that is the label of on_time_delivery' or 'did you mean on_time_delivery?', where one fits."""
    kpi_id = _names(known).get(normalise(kpi))
    if kpi_id is not None:
        return f"that is how {kpi_id} is named, and kpis.csv takes the id: write {kpi_id}"
    labels = {str(info.get("label", "")): kpi_id for kpi_id, info in known.items()}
    close = difflib.get_close_matches(kpi, list(known) + list(labels), n=1, cutoff=0.75)
    return f"did you mean {labels.get(close[0], close[0])}?" if close else ""


def _names(known: dict) -> dict[str, str]:
    return kpi_names(list(known), [info.get("label", "") for info in known.values()])


def _wide_hint(header: list[str], known: dict | None) -> str:
    """A header of a period column and KPI columns: the wide layout, which casekit import makes tidy."""
    if known is None or len(header) < 2:
        return ""
    names = _names(known)
    if sum(normalise(h) in names for h in header) >= 1 and normalise(header[0]) in {"period", "month", "date",
                                                                                        "quarter"}:
        return ("one column per KPI (a wide layout): casekit reads one row per period and KPI (period,kpi,value); "
                "`casekit import FILE CASE_DIR` converts it")
    return ""


def _int_in(text: str, low: int, high: int) -> int:
    if "_" in text:
        raise ValueError(text)
    value = int(text)
    if not low <= value <= high:
        raise ValueError
    return value


def _check_appraisals(path: Path, problems: list[Problem], digests: dict[str, str] | None = None) -> list[dict]:
    rows = read_csv(path, ["date", "method", "maturity_level"], ["model", "scope"], problems, digests=digests)
    where = display_path(path)
    out = []
    for line, row in rows or []:
        record: dict[str, Any] = {"line": line, "model": row.get("model") or None, "scope": row.get("scope") or None}
        try:
            record["date"] = parse_date(row["date"])
        except ValueError as exc:
            problems.append(Problem(where, line, "date", str(exc)))
        if row["method"] not in METHODS:
            problems.append(Problem(where, line, "method", f"expected one of {', '.join(METHODS)}; got {row['method']!r}"))
        record["method"] = row["method"]
        record["rated"] = row["method"] in RATING_METHODS
        level = row["maturity_level"]
        if not level and record["rated"]:
            problems.append(Problem(where, line, "maturity_level", f"a {row['method']} appraisal gives a maturity level 1-5; it is empty"))
        elif level:
            try:
                record["maturity_level"] = _int_in(level, 1, 5)
            except ValueError:
                problems.append(Problem(where, line, "maturity_level", f"expected a whole number 1-5, got {level!r}"))
        if record["model"] and record["model"] not in MODELS:
            problems.append(Problem(where, line, "model", f"expected one of {', '.join(MODELS)}; got {record['model']!r}"))
        out.append(record)
    return out


def _check_practice_areas(path: Path, problems: list[Problem], digests: dict[str, str] | None = None) -> list[dict]:
    rows = read_csv(path, ["date", "practice_area", "capability_level"], [], problems, digests=digests)
    where = display_path(path)
    out, seen = [], {}
    for line, row in rows or []:
        ok = True
        try:
            date = parse_date(row["date"])
        except ValueError as exc:
            problems.append(Problem(where, line, "date", str(exc)))
            ok = False
        try:
            level = _int_in(row["capability_level"], 0, 3)
        except ValueError:
            problems.append(Problem(where, line, "capability_level",
                                    f"expected a whole number 0-3 (CMMI V2.0/V3.0 capability levels), got {row['capability_level']!r}"))
            ok = False
        if not ok:
            continue
        if not row["practice_area"]:
            problems.append(Problem(where, line, "practice_area", "expected the practice area's name or abbreviation, got nothing"))
            continue
        key = (date, row["practice_area"])
        if key in seen:
            problems.append(Problem(where, line, "practice_area", f"{row['practice_area']} rated twice on {date.date()}; first on line {seen[key]}"))
            continue
        seen[key] = line
        out.append({"date": date, "practice_area": row["practice_area"], "capability_level": level})
    return out


def _check_span(folder: Path, doc: YamlDoc, meta: dict, kpis: KpiRecords, problems: list[Problem]) -> None:
    """Adoption inside the data's span, with a baseline before it."""
    start = meta.get("adoption_start")
    if start is None or not len(kpis):
        return
    spans = kpis.month_spans()
    first, last = int(spans[:, 0].min()), int(spans[:, 1].max())
    adopted = start.ordinal  # a monthly Period's ordinal counts months since 1970-01

    def problem(message: str) -> Problem:
        return Problem(display_path(folder / "case.yaml"), doc.line("adoption", "start"), "adoption.start", message)

    if not first <= adopted <= last:
        problems.append(problem(f"{start} lies outside the KPI data ({_month_text(first)} to {_month_text(last)})"))
        return
    before = Counter(itertools.compress(kpis.kpi, spans[:, 1] < adopted))
    if max(before.values(), default=0) < MIN_BASELINE_PERIODS:
        problems.append(problem(f"no KPI has {MIN_BASELINE_PERIODS} or more periods before {start} to form a "
                                "baseline"))


def _month_text(months: int) -> str:
    year, month = divmod(months, 12)
    return f"{1970 + year}-{month + 1:02d}"


def _check_goal_data(folder: Path, doc: YamlDoc, meta: dict, measured: set[str], problems: list[Problem]) -> None:
    for kpi in meta.get("kpi_values", {}):
        if kpi not in measured:
            problems.append(Problem(display_path(folder / "case.yaml"), doc.line("kpi_values", kpi),
                                    f"kpi_values.{kpi}", f"kpis.csv has no rows for {kpi}"))
    for i, goal in enumerate(meta.get("goals", [])):
        for j, kpi in enumerate(goal["kpis"]):
            if isinstance(kpi, str) and kpi not in measured:
                problems.append(Problem(display_path(folder / "case.yaml"), doc.line("business_goals", i, "kpis", j),
                                        f"business_goals[{i}].kpis[{j}]", f"kpis.csv has no rows for {kpi}"))


def _check_exposure_data(folder: Path, doc: YamlDoc, meta: dict, kpis: KpiRecords, problems: list[Problem]) -> None:
    """Each exposure is measured, at its count's frequency, and above zero in the count's periods."""
    quarterly = _quarterly(kpis)
    for kpi, exposure in meta.get("exposures", {}).items():
        where = (display_path(folder / "case.yaml"), doc.line("exposures", kpi), f"exposures.{kpi}")
        if kpi not in quarterly or exposure not in quarterly:
            missing = kpi if kpi not in quarterly else exposure
            problems.append(Problem(*where, f"kpis.csv has no rows for {missing}"))
        elif quarterly[kpi] != quarterly[exposure]:
            problems.append(Problem(*where, f"{exposure} is {'quarterly' if quarterly[exposure] else 'monthly'} but "
                                    f"{kpi} is {'quarterly' if quarterly[kpi] else 'monthly'}: an exposure is "
                                    "measured in the same periods as its count"))
        else:
            counted = {period for period, name in zip(kpis.period, kpis.kpi) if name == kpi}
            empty = sorted(str(period) for period, name, value in zip(kpis.period, kpis.kpi, kpis.value)
                           if name == exposure and period in counted and not value > 0)
            if empty:
                problems.append(Problem(*where, f"{exposure} is zero or less in {empty[0]}"
                                        + (f" and {len(empty) - 1} other periods" if len(empty) > 1 else "")
                                        + f": with no exposure a rate of {kpi} is undefined; remove those rows "
                                        f"of {exposure} (the months of {kpi} without one are then left out of its "
                                        "comparison), or choose an exposure that is always above zero"))


def _check_comparison_data(folder: Path, doc: YamlDoc, meta: dict, case: ParsedCase, present: bool,
                           read: KpiRows | None, compared: KpiRows | None, problems: list[Problem]) -> None:
    """comparison.csv and case.yaml's ``comparison`` go together; each compared KPI is one the case measures."""
    yaml_path, csv_path = display_path(folder / "case.yaml"), display_path(folder / "comparison.csv")
    if present and isinstance(doc.data, dict) and doc.data.get("comparison") is None:
        problems.append(Problem(yaml_path, None, "comparison", "comparison.csv is in the case folder but case.yaml "
                                "names no comparison unit: add `comparison:` with `unit: <its name>` (and `kind:` "
                                f"one of {', '.join(COMPARISON_KINDS)})"))
    if not present and meta.get("comparison") is not None:
        problems.append(Problem(yaml_path, doc.line("comparison"), "comparison", "case.yaml names a comparison "
                                "unit but the case folder has no comparison.csv (columns period,kpi,value, as "
                                "kpis.csv): add it, or remove `comparison:`"))
    if compared is None or read is None or not read.complete:
        return
    measured = set(case.kpis.kpi)
    for kpi in sorted(set(case.comparison.kpi) - measured):
        line = int(case.comparison.line[case.comparison.kpi.index(kpi)])
        problems.append(Problem(csv_path, line, "kpi", f"{kpi} has comparison rows but no rows in kpis.csv: a "
                                "comparison series stands beside the organization's own series of the same KPI"))
    quarterly = _quarterly(case.kpis)
    for kpi, theirs in sorted(_quarterly(case.comparison).items()):
        if kpi in quarterly and quarterly[kpi] != theirs:
            line = int(case.comparison.line[case.comparison.kpi.index(kpi)])
            problems.append(Problem(csv_path, line, "period", f"{kpi} is {'quarterly' if theirs else 'monthly'} here "
                                    f"but {'quarterly' if quarterly[kpi] else 'monthly'} in kpis.csv: give the "
                                    "comparison's values for the same periods as the organization's"))


def _quarterly(records: KpiRecords) -> dict[str, bool]:
    """Whether each KPI's rows are quarters (validation holds each KPI to one frequency)."""
    spans = records.month_spans()
    return {kpi: bool(spans[i, 1] > spans[i, 0]) for i, kpi in enumerate(records.kpi)}


def check_case(folder: Path, catalog: pd.DataFrame | None = None,
               digests: bool = False) -> tuple[ParsedCase, list[Problem]]:
    """Read and check one case folder.

    Returns what could be parsed and every problem found; the parsed case is
    complete only when the list is empty.

    Parameters
    ----------
    folder : path
        One case's folder.
    catalog : pandas.DataFrame, optional
        :func:`casekit.kpi_catalog` (read when not given).
    digests : bool
        Record the SHA-256 of each file's bytes as read in ``ParsedCase.digests``: what a render's
        fingerprints are made of, so that it reads each file once. Loading and validating need none.

    Returns
    -------
    tuple of (ParsedCase, list of Problem)
        The parsed case (with ``case.yaml``'s document, and the digests when asked), and every problem by
        file and line.

    Examples
    --------
    >>> case, problems = check_case("cases/quantia-tech")
    >>> case.meta["name"], problems
    ('Quantia Software', [])
    """
    folder = Path(folder)
    catalog = kpi_catalog() if catalog is None else catalog
    problems: list[Problem] = []
    case = ParsedCase(folder)
    recorded = case.digests if digests else None
    if folder.is_symlink():
        problems.append(Problem(display_path(folder), None, "", "the case folder is a symbolic link; casekit reads "
                                                                "only folders inside the cases folder"))
        return case, problems
    files = {name: folder / name for name in CASE_FILES}
    try:  # one listing rather than a look-up per file; a link is present, and refused
        listed = set(os.listdir(folder))
        present = {name: name in listed for name in files}
    except OSError:  # a folder that can be searched but not listed
        present = {name: os.path.lexists(path) for name, path in files.items()}
    if not present["case.yaml"]:
        problems.append(Problem(display_path(files["case.yaml"]), None, "", "required file is missing"))
    doc = read_yaml(files["case.yaml"], problems, recorded) if present["case.yaml"] else None
    case.doc = doc
    summaries_only = present["results.csv"] and not present["kpis.csv"]
    meta = _check_meta(folder, doc, problems, catalog, summaries_only) if doc is not None else None
    published = meta is not None and meta.get("source") == "published"
    for name in ("kpis.csv", "appraisals.csv"):
        if not present[name] and not (published and summaries_only):
            hint = (" (a published case may give results.csv, its source's reported summaries, instead)"
                    if name == "kpis.csv" else "")
            problems.append(Problem(display_path(files[name]), None, "", f"required file is missing{hint}"))
    known = None if meta is None else known_kpis(catalog, meta["kpi_definitions"])
    if present["results.csv"]:
        if meta is not None and not published:
            problems.append(Problem(display_path(files["results.csv"]), None, "", "results.csv holds a published "
                                    "source's summaries: set source: published in case.yaml (and name the source "
                                    "under reference:), or move the file out of the case folder"))
        case.results = check_results(files["results.csv"], known, problems, recorded)
    read = None
    if present["kpis.csv"]:
        read = _check_kpi_rows(files["kpis.csv"], known, problems, recorded)
        case.kpis = read.rows if read is not None else KpiRecords()
    if present["appraisals.csv"]:
        case.appraisals = _check_appraisals(files["appraisals.csv"], problems, recorded)
    if present["practice_areas.csv"]:
        case.practice_areas = _check_practice_areas(files["practice_areas.csv"], problems, recorded)
    compared = None
    if present["comparison.csv"]:
        compared = _check_kpi_rows(files["comparison.csv"], known, problems, recorded)
        case.comparison = compared.rows if compared is not None else KpiRecords()
    if meta is not None:
        _check_comparison_data(folder, doc, meta, case, present["comparison.csv"], read, compared, problems)
        # an unreadable kpis.csv, or its rejected rows, were reported once: what they leave missing is no news
        if read is not None and read.complete:
            _check_span(folder, doc, meta, case.kpis, problems)
            _check_goal_data(folder, doc, meta, set(case.kpis.kpi), problems)
            _check_exposure_data(folder, doc, meta, case.kpis, problems)
        case.kpi_definitions = meta.pop("kpi_definitions")
        case.meta = meta
    problems.sort(key=lambda p: (p.path, p.line or 0))  # by file, then line: as an editor lists them
    return case, problems


def case_folders(path: Path, problems: list[Problem]) -> list[Path]:
    """The case folders under ``path`` (folders starting with ``.`` or ``_`` are skipped).

    Parameters
    ----------
    path : path
        The cases folder.
    problems : list of Problem
        Receives a problem when ``path`` is missing or holds no case folder.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> [folder.name for folder in case_folders("cases", [])][:2]
    ['atlas-capital', 'borealis-fibre']
    """
    path = Path(path)
    if not path.is_dir():
        problems.append(Problem(display_path(path), None, "", "cases folder not found"))
        return []
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not folders:
        problems.append(Problem(display_path(path), None, "", "no case folders found; each case is a folder with case.yaml"))
    return folders


def validate_cases(path: str | Path = "cases") -> list[Problem]:
    """Check every case under ``path`` and return every problem found.

    Parameters
    ----------
    path : str or Path
        A folder holding one folder per case (``<case-id>/case.yaml``,
        ``kpis.csv``, ``appraisals.csv`` and optionally ``practice_areas.csv``).

    Returns
    -------
    list of Problem
        Empty when all is well. Each problem has ``path``, ``line`` (or None),
        ``field`` and ``message``; ``str(problem)`` reads
        ``path:line: field: message``.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.validate_cases("cases")
    []
    >>> [str(p) for p in ck.validate_cases("no-such-folder")]
    ['no-such-folder: cases folder not found']
    """
    problems: list[Problem] = []
    catalog = kpi_catalog()
    for folder in case_folders(Path(path), problems):
        problems.extend(check_case(folder, catalog)[1])
    return problems
