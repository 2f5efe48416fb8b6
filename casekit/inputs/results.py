"""results.csv: what a published case study reported, one summary a row, checked with hints.

A published case may carry, instead of kpis.csv or beside it, the summaries its source printed: a
KPI's value before and after adoption (``group`` ``before`` and ``after``), a reported change
(``change``), or values by maturity level (``level 1`` to ``level 5``). Each row gives a centre
(``mean`` or ``median``), the number of projects or organizations behind it (``n``) and whatever
spread was printed: an ``sd``, a confidence interval (``ci_low, ci_high``, at ``ci_level`` percent,
95 unless given), quartiles (``q1, q3``) or a range (``min, max``). ``location`` says where in the
source the figure is printed. What the numbers become is :mod:`casekit.stats.summaries`' work;
here each row is checked to be a summary that can be read only one way.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from ..errors import Problem, display_path
from .casefiles import read_csv
from .catalog import RELATIVE
from .numbers import read_number_text

REQUIRED = ["kpi", "group"]
NUMBERS = ["n", "mean", "sd", "ci_low", "ci_high", "ci_level", "median", "q1", "q3", "min", "max"]
OPTIONAL = [*NUMBERS, "location"]
LEVELS = tuple(f"level {level}" for level in range(1, 6))
GROUPS = ("before", "after", "change", *LEVELS)
MAX_LOCATION = 200


def check_results(path: Path, known: dict | None, problems: list[Problem],
                  digests: dict[str, str] | None = None) -> list[dict]:
    """The rows of a published case's results.csv that can be read one way; every other row is a problem.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    known : dict or None
        The KPIs the case may name (:func:`casekit.inputs.validation.known_kpis`); None when case.yaml
        could not be read, and then KPI names are not checked.
    problems : list of Problem
        Receives every problem, with its line, field and how to fix it.
    digests : dict of str to str, optional
        Receives the file's SHA-256.

    Returns
    -------
    list of dict
        One record per valid row: ``line, kpi, group``, each number (None where the cell is empty)
        and ``location``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
    >>> _ = path.write_text("kpi,group,n,mean,ci_low,ci_high\\ncost_variance,change,,-30,-60,-40\\n")
    >>> problems = []
    >>> check_results(path, None, problems), problems[0].field, problems[0].message[:48]
    ([], 'ci_low', 'the interval -60 to -40 does not contain its est')
    """
    rows = read_csv(path, REQUIRED, OPTIONAL, problems, digests=digests)
    where = display_path(path)
    records = []
    for line, row in rows or []:
        found = _row_problems(row, known)
        if isinstance(found, tuple):
            problems.append(Problem(where, line, *found))
            continue
        records.append({"line": line, **found})
    problems.extend(_combination_problems(records, where))
    return records


def _row_problems(row: dict[str, str], known: dict | None) -> dict | tuple[str, str]:
    """A row's record, or the (field, message) of its first problem."""
    kpi, group = row["kpi"].strip(), " ".join(row["group"].split()).lower()
    if known is not None and kpi not in known:
        return "kpi", f"unknown KPI {kpi!r}: name a KPI of casekit's catalog or define it under kpis: in case.yaml"
    if group not in GROUPS:
        return "group", f"expected one of {', '.join(GROUPS)}; got {row['group']!r}"
    values: dict[str, float | None] = {}
    for name in NUMBERS:
        text = (row.get(name) or "").strip()
        if not text:
            values[name] = None
            continue
        number = read_number_text(text)
        if number is None or number.percent or number.grouped or not math.isfinite(number.value):
            hint = " (write 34 for 34%, without the sign)" if number is not None and number.percent else ""
            return name, f"expected a number, got {text!r}{hint}"
        values[name] = number.value
    location = (row.get("location") or "").strip()
    if len(location) > MAX_LOCATION:
        return "location", f"at most {MAX_LOCATION} characters (a page and a table), got {len(location)}"
    record = {"kpi": kpi, "group": group, **values, "location": location or None}
    scale = None if known is None else known[kpi].get("scale")
    problem = _statistic_problems(record) or _size_problem(record) or _scale_problem(record, scale)
    return problem if problem else record


def _statistic_problems(r: dict) -> tuple[str, str] | None:
    """The first way the row's numbers cannot be one summary, with how to fix it."""
    n = r["n"]
    if n is not None and (n < 1 or n != int(n)):
        return "n", f"expected a whole number of projects or organizations, 1 or more; got {n:g}"
    for low, high in (("ci_low", "ci_high"), ("q1", "q3"), ("min", "max")):
        if (r[low] is None) != (r[high] is None):
            given, missing = (low, high) if r[high] is None else (high, low)
            return missing, f"{given} is given without {missing}: give both, or neither"
    centre = "mean" if r["mean"] is not None else "median" if r["median"] is not None else None
    spreads = [name for name in ("sd", "ci_low", "q1", "min") if r[name] is not None]
    if centre is None:
        if spreads:
            return ("mean", "a spread with no centre: give the mean or the median it was printed with (casekit "
                            "never guesses a centre from a range)")
        return "mean", "no centre: give the mean or the median the source printed"
    if r["sd"] is not None and (r["sd"] <= 0 or r["mean"] is None):
        return "sd", ("an sd must be above 0" if r["sd"] <= 0 else
                      "an sd goes with a mean; with a median give the quartiles or the range")
    if r["ci_low"] is not None:
        if r["mean"] is None:
            return "ci_low", "a confidence interval goes with a mean; with a median give the quartiles or the range"
        if not r["ci_low"] <= r["mean"] <= r["ci_high"] or r["ci_low"] == r["ci_high"]:
            return ("ci_low", f"the interval {r['ci_low']:g} to {r['ci_high']:g} does not contain its estimate "
                              f"{r['mean']:g}: check the row")
    if r["ci_level"] is not None and not 50 <= r["ci_level"] < 100:
        return "ci_level", f"expected the interval's level in percent, such as 95 or 90; got {r['ci_level']:g}"
    if r["q1"] is not None or r["min"] is not None:
        if r["median"] is None:
            return "median", "quartiles and ranges go with the median they were printed with: give it"
        order = [r[name] for name in ("min", "q1", "median", "q3", "max") if r[name] is not None]
        if order != sorted(order) or order[0] == order[-1]:
            return "median", ("expected min ≤ q1 ≤ median ≤ q3 ≤ max, with some spread; got "
                              + ", ".join(f"{name} {r[name]:g}" for name in ("min", "q1", "median", "q3", "max")
                                          if r[name] is not None))
    return None


def _size_problem(r: dict) -> tuple[str, str] | None:
    """An n the row's conversion needs and does not have (no variance, and no weight, is made up without it)."""
    if r["n"] is not None:
        if r["n"] < 2 and (r["sd"] is not None or r["q1"] is not None or r["min"] is not None):
            return "n", "a spread of a single project or organization says nothing: n must be 2 or more"
        return None
    if r["group"] != "change":
        return "n", (f"a '{r['group']}' value needs the number of projects or organizations behind it (n): the "
                     "variance and the weights rest on it; sources print it beside the value")
    if r["sd"] is not None or r["q1"] is not None or r["min"] is not None:
        return "n", ("a change's spread across organizations needs their number (n) to become a standard error; "
                     "without it give the change's confidence interval")
    return None


def _scale_problem(r: dict, scale: str | None) -> tuple[str, str] | None:
    """A value a ratio of levels cannot take: a level at or below 0, or a fall of 100% or more."""
    if scale not in RELATIVE:
        return None
    names = [name for name in ("mean", "median", "ci_low", "q1", "min") if r[name] is not None]
    if r["group"] == "change":
        if any(r[name] <= -100 for name in names):
            return (names[0], "a change of -100% or less leaves nothing to compare on a ratio scale: a change is in "
                              "percent of the level before (a fall of 34% is -34)")
        return None
    if any(r[name] <= 0 for name in names if name != "ci_low"):
        return names[0], "a level at or below 0 has no ratio: the KPI's scale is a ratio scale, levels are positive"
    return None


def _combination_problems(records: list[dict], where: str) -> list[Problem]:
    """Rules across a KPI's rows: each group once, before with after, a change alone, two levels or more."""
    problems = []
    by_kpi: dict[str, list[dict]] = {}
    for record in records:
        by_kpi.setdefault(record["kpi"], []).append(record)
    for kpi, rows in by_kpi.items():
        counts = Counter(r["group"] for r in rows)
        for group, count in counts.items():
            if count > 1:
                twice = [r["line"] for r in rows if r["group"] == group]
                problems.append(Problem(where, twice[1], "group", f"{kpi} has two '{group}' rows (lines "
                                        f"{', '.join(map(str, twice))}): one summary per KPI and group"))
        pair = {"before", "after"} & counts.keys()
        first = rows[0]["line"]
        if len(pair) == 1:
            missing = ({"before", "after"} - pair).pop()
            problems.append(Problem(where, first, "group", f"{kpi} has a '{pair.pop()}' row but no '{missing}' row: "
                                    f"a before/after comparison needs both"))
        if pair and "change" in counts:
            problems.append(Problem(where, first, "group", f"{kpi} has both before/after rows and a 'change' row: keep "
                                    "the one the source's conclusion rests on, so that the KPI is counted once"))
        levels = [g for g in counts if g in LEVELS]
        if len(levels) == 1:
            problems.append(Problem(where, first, "group", f"{kpi} has one maturity level ({levels[0]}): values by "
                                    "level need two levels or more"))
    return problems
