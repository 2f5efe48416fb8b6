"""What is valid but probably wrong in a case: warnings that ``casekit validate`` prints and never fails on.

- a percentage KPI whose every value lies between 0 and 1: a percentage saved as a fraction (0.689 for
  68.9%) reads as a KPI that hardly moves;
- text left from ``casekit new``'s template (the name, the summary, the example data);
- an appraisal or capability levels dated after the KPI data ends, which the reports cannot relate to any
  measurement.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem, display_path
from .catalog import kpi_catalog
from .scaffold import template_copies
from .validation import ParsedCase, case_folders, check_case, known_kpis

TEMPLATE_TEXT = {"name": "Your organization", "summary": "Two or three sentences", "reference": "Author(s), \"Title\""}
MIN_VALUES = 3  # fewer values than this say nothing about their scale


def case_warnings(path: str | Path = "cases") -> list[Problem]:
    """Every warning about the cases under ``path`` (see the module's description), by file and line.

    Parameters
    ----------
    path : str or pathlib.Path, default "cases"
        A case folder or a folder of them.

    Returns
    -------
    list of Problem
        Each warning with its file, line and field.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.cautions.case_warnings("cases")
    []
    """
    return problems_and_warnings(path)[1]


def problems_and_warnings(path: str | Path = "cases") -> tuple[list[Problem], list[Problem]]:
    """:func:`casekit.validate_cases`' problems and :func:`case_warnings`' warnings, each case read once
    (``casekit validate`` prints both).

    Parameters
    ----------
    path : str or pathlib.Path, default "cases"
        A case folder or a folder of them.

    Returns
    -------
    problems, warnings : list of Problem

    Examples
    --------
    >>> problems, warnings = problems_and_warnings("cases")
    >>> problems, warnings
    ([], [])
    """
    catalog = kpi_catalog()
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for folder in case_folders(Path(path), problems):
        parsed, found = check_case(folder, catalog)
        problems += found
        warnings += warnings_about(parsed, catalog)
    return problems, sorted(warnings, key=lambda p: (p.path, p.line or 0))


def warnings_about(case: ParsedCase, catalog=None) -> list[Problem]:
    """The warnings about one case as :func:`casekit.inputs.validation.check_case` read it, reading nothing again.

    Parameters
    ----------
    case : ParsedCase
        The case, as ``check_case`` returned it.
    catalog : pandas.DataFrame, optional
        The KPI catalog (:func:`casekit.kpi_catalog`, read when not given).

    Returns
    -------
    list of Problem
        Each warning with its file, line and field, as ``casekit validate`` prints them.

    Examples
    --------
    >>> import tempfile
    >>> from casekit.inputs.catalog import kpi_catalog
    >>> from casekit.inputs.scaffold import new_case
    >>> from casekit.inputs.validation import check_case
    >>> case, problems = check_case(new_case("acme-bank", tempfile.mkdtemp()))
    >>> sorted({w.path.split("/")[-1] for w in warnings_about(case, kpi_catalog())})
    ['appraisals.csv', 'case.yaml', 'kpis.csv', 'practice_areas.csv']
    """
    catalog = kpi_catalog() if catalog is None else catalog
    return (_fractions(case, catalog) + _template_left(case) + _late_appraisals(case)
            + _late_practice_areas(case))


def _fractions(case: ParsedCase, catalog) -> list[Problem]:
    if not case.kpis:
        return []
    definitions = case.kpi_definitions if case.kpi_definitions is not None else catalog.iloc[0:0]
    known = known_kpis(catalog, definitions)
    by_kpi: dict[str, list[int]] = {}
    for row, kpi in enumerate(case.kpis.kpi):
        by_kpi.setdefault(kpi, []).append(row)
    found = []
    for kpi, rows in by_kpi.items():
        unit = str(known.get(kpi, {}).get("unit", ""))
        values = case.kpis.value[rows]
        if unit.startswith("%") and len(values) >= MIN_VALUES and 0 <= values.min() and values.max() <= 1:
            found.append(Problem(display_path(case.folder / "kpis.csv"), int(case.kpis.line[rows[0]]), "value",
                                 f"warning: every value of {kpi} lies between 0 and 1, but it is measured in {unit}: "
                                 f"a percentage saved as a fraction (0.689 for 68.9%)? Multiply the values by 100"))
    return found


def _template_left(case: ParsedCase) -> list[Problem]:
    found = []
    where = display_path(case.folder / "case.yaml")
    doc = case.doc if case.meta else None
    for name, text in TEMPLATE_TEXT.items():
        value = (case.meta or {}).get(name)
        if isinstance(value, str) and value.strip().startswith(text):
            found.append(Problem(where, doc.line(name) if doc else None, name,
                                 f"warning: still the template's text ({text!r}…): write your organization's"))
    fixes = {"kpis.csv": "replace it with your measurements (`casekit import` reads a spreadsheet)",
             "appraisals.csv": "replace it with the organization's appraisals (`casekit import --appraisals-sheet`)",
             "practice_areas.csv": "replace it with the organization's capability levels, or delete it (it is "
                                   "optional)",
             "results.csv": "replace it with the figures the source prints, each with its location"}
    for path in template_copies(case.folder, case.digests or None):  # digests, where the reading kept them
        found.append(Problem(display_path(path), None, "", f"warning: still the template's example data, not the "
                                                           f"organization's: {fixes[path.name]}"))
    return found


def _data_end(case: ParsedCase):
    return max({id(p): p for p in case.kpis.period}.values(), key=lambda p: p.end_time).end_time


def _late_practice_areas(case: ParsedCase) -> list[Problem]:
    if not case.kpis or not case.practice_areas:
        return []
    last = _data_end(case)
    late = sorted({a["date"] for a in case.practice_areas if a["date"] > last})
    if not late:
        return []
    dates = ", ".join(f"{d:%Y-%m-%d}" for d in late)
    return [Problem(display_path(case.folder / "practice_areas.csv"), None, "date",
                    f"warning: capability levels dated {dates}, after the KPI data ends ({last:%Y-%m}): check the "
                    "dates, or add the KPIs' later periods")]


def _late_appraisals(case: ParsedCase) -> list[Problem]:
    if not case.kpis or not case.appraisals:
        return []
    last = _data_end(case)
    return [Problem(display_path(case.folder / "appraisals.csv"), a["line"], "date",
                    f"warning: the appraisal of {a['date']:%Y-%m-%d} is after the KPI data ends ({last:%Y-%m}): "
                    "check its date, or add the KPIs' later periods")
            for a in case.appraisals if a.get("date") is not None and a["date"] > last]
