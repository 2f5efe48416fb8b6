"""Report parameters, checked before a kernel starts: names and types against the notebook's ``parameters``
cell, values against what casekit's reports accept; and the run's own settings (jobs, timeout, --out)."""

from __future__ import annotations

import ast
import math
import os
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ArgumentError, ParameterError, RenderError, display_path
from ..inputs.periods import SEASONALITY_CHOICES, seasonality_setting

MAX_TRANSITION = 120  # months: ten years of transition leave nothing to compare
_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list": (list, tuple)}


def declared_parameters(notebook: Path) -> dict[str, str]:
    """The names the notebook's ``parameters`` cell defines, each with its type's name ("None": any value).

    A parameter's type is its annotation where papermill found one, or else
    the type of its default; a default of None accepts any value.

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> import pathlib
    >>> declared = declared_parameters(pathlib.Path("notebooks/case_report.ipynb"))
    >>> declared["case_id"], declared["alpha"]
    ('str', 'float')
    """
    from papermill import inspect_notebook

    try:
        found = inspect_notebook(str(notebook))
    except ValueError as exc:
        if "kernel name" not in str(exc):
            raise RenderError(f"{Path(notebook).name}: casekit cannot read its parameters ({str(exc)[:200]})") from None
        found = _inspected_as_python(Path(notebook))
    except Exception as exc:  # noqa: BLE001 - not JSON, not a notebook: one line, not papermill's traceback
        raise RenderError(f"{Path(notebook).name}: not a notebook casekit can read ({type(exc).__name__}: "
                          f"{str(exc)[:200]}); open and save it in JupyterLab") from None
    return {name: _declared_type(parameter) for name, parameter in found.items()}


def _inspected_as_python(notebook: Path) -> dict:
    """papermill's reading of the parameters of a notebook that names no kernel, as the Python 3 kernel casekit
    runs every report with."""
    import tempfile

    import nbformat
    from papermill import inspect_notebook

    nb = nbformat.read(notebook, as_version=4)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    nb.metadata.setdefault("language_info", {"name": "python"})
    with tempfile.TemporaryDirectory(prefix="casekit-inspect-") as folder:
        copy = Path(folder) / notebook.name
        nbformat.write(nb, copy)
        return inspect_notebook(str(copy))


def _declared_type(parameter: dict) -> str:
    if parameter["inferred_type_name"] not in ("None", ""):
        return parameter["inferred_type_name"]
    try:
        default = ast.literal_eval(parameter["default"])
    except (ValueError, SyntaxError):
        return "None"
    return "None" if default is None else type(default).__name__


def _matches(value, type_name: str) -> bool:
    expected = _TYPES.get(type_name)
    if expected is None or value is None:  # a None default, or a type papermill could not infer
        return True
    if isinstance(value, bool) and bool not in expected:  # True is an int to Python, not to a report
        return False
    return isinstance(value, expected)


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Refuse names the notebook's ``parameters`` cell does not define, and values of the wrong type.

    papermill itself only warns about unknown names and guesses types.

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook.
    parameters : dict
        The values to pass it.

    Raises
    ------
    ParameterError
        Naming the parameter and what the notebook takes.

    Examples
    --------
    >>> import pathlib
    >>> check_parameters(pathlib.Path("notebooks/case_report.ipynb"), {"alpha": 0.1})
    >>> check_parameters(pathlib.Path("notebooks/case_report.ipynb"), {"alpah": 0.1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    casekit.errors.ParameterError: ...
    """
    declared = declared_parameters(notebook)
    for name, value in parameters.items():
        if name not in declared:
            raise ParameterError(f"{Path(notebook).name} has no parameter {name!r}; it takes {', '.join(declared)}")
        if not _matches(value, declared[name]):
            raise ParameterError(f"{Path(notebook).name}: parameter {name!r} expects {declared[name]}, "
                                 f"got {type(value).__name__} {value!r}")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _id_list(value) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _list_hint(name: str, value) -> str:
    if isinstance(value, str):
        return f"; for one, pass a list: -y '{name}: [{value}]'"
    return ""


def _cases_in(cases_dir) -> list[str] | None:
    """The case ids in ``cases_dir`` as validation finds them (:func:`casekit.inputs.validation.case_folders`)."""
    if cases_dir is None or not Path(cases_dir).is_dir():
        return None
    from ..inputs.validation import case_folders

    return [folder.name for folder in case_folders(Path(cases_dir), [])]


def _kpi_ids(cases_dir, case_ids) -> set[str]:
    """The catalog's KPI ids and those the cases define in their case.yaml (read with case files' limits:
    size, links, anchors, depth)."""
    from ..inputs.casefiles import read_yaml
    from ..inputs.catalog import kpi_catalog

    known = set(kpi_catalog()["kpi"])
    for case_id in case_ids or []:
        doc = read_yaml(Path(cases_dir) / case_id / "case.yaml", [])
        meta = doc.data if doc is not None else None
        definitions = meta.get("kpis") if isinstance(meta, dict) else None
        if isinstance(definitions, dict):
            known |= {str(k) for k in definitions}
        elif isinstance(definitions, list):
            known |= {str(d.get("id")) for d in definitions if isinstance(d, dict)}
    return known


def check_report_parameters(**values) -> None:
    """Check the values of a report's parameters; raise one ParameterError with a line per problem.

    casekit's notebooks call it right after their ``parameters`` cell, so a
    papermill user gets the same one-line message as ``casekit render``.

    Parameters
    ----------
    **values
        The parameters, by name. Names it knows: ``alpha`` (0 < alpha < 1),
        ``transition_months`` (None or a whole number of months from 0 to
        120), ``case_id`` and ``case_ids`` (cases in ``cases_dir``), ``kpis``
        (None or a list of KPI ids: the catalog's and the cases' own),
        ``sectors`` (None or a list of names), ``correction`` (``holm``,
        ``bh``, ``none``), ``meta_method`` (``DL``, ``PM``), ``primary`` (None
        or a KPI id), ``discount_rate`` (0 to 1), ``seasonal`` (None,
        ``"none"``, 1 to 6 or ``"months"``), ``seed`` (a whole number from 0
        to 2**32 - 1), ``solutions`` (True or False), ``reference_file``
        (None or a file). Other names are not checked.

    Returns
    -------
    None
        When every value is acceptable.

    Raises
    ------
    ParameterError
        Shown in a notebook as its message only, not a traceback.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.check_report_parameters(alpha=0.1, transition_months=3)
    >>> ck.check_report_parameters(alpha=5)
    Traceback (most recent call last):
    ...
    casekit.errors.ParameterError: alpha must be a number between 0 and 1 (such as 0.05), got 5
    """
    problems = parameter_problems(values)
    if problems:
        raise ParameterError("\n".join(problems))


def parameter_problems(values: dict, kpi_ids: set[str] | None = None) -> list[str]:
    """What :func:`check_report_parameters` refuses in ``values``, a line per problem.

    ``kpi_ids``: the KPIs the ``kpis`` and ``primary`` parameters may name, when the caller has read the
    cases already (``casekit render``); otherwise they are read from the cases' ``case.yaml``.

    Parameters
    ----------
    values : dict
        The parameters' values.
    kpi_ids : set of str, optional
        The KPIs the cases measure.

    Returns
    -------
    list of str

    Examples
    --------
    >>> parameter_problems({"alpha": 0.05, "kpis": ["defect_density"]}, kpi_ids={"defect_density"})
    []
    """
    known = [kpi_ids]  # read at most once, and only for a parameter that names KPIs
    return [problem for name, value in values.items() if (problem := _problem(name, value, values, known))]


def _known_kpis(values: dict, known: list) -> set[str]:
    """The KPIs of the report's case (``case_id``), or of its cases (``case_ids``, else all in ``cases_dir``)."""
    if known[0] is None:
        ids = [values["case_id"]] if isinstance(values.get("case_id"), str) else values.get("case_ids")
        cases_dir = values.get("cases_dir")
        known[0] = _kpi_ids(cases_dir, ids if ids is not None else _cases_in(cases_dir))
    return known[0]


def _problem(name: str, value, values: dict, known: list) -> str | None:
    cases_dir = values.get("cases_dir")
    if name == "alpha" and not (_number(value) and 0 < value < 1):
        return f"alpha must be a number between 0 and 1 (such as 0.05), got {_shown(value)}"
    if name == "transition_months" and value is not None and not (_whole(value) and value <= MAX_TRANSITION):
        return f"transition_months must be None (the case's own window) or a whole number of months from 0 to " \
               f"{MAX_TRANSITION}, got {_shown(value)}"
    if name == "seed" and not (_whole(value) and value < 2**32):
        return f"{name} must be a whole number from 0 to 2**32 - 1, got {_shown(value)}"
    if name == "solutions" and not isinstance(value, bool):
        return f"solutions must be True or False, got {_shown(value)}"
    if name == "cases_dir" and value is not None:
        if not isinstance(value, (str, os.PathLike)):
            return f"cases_dir must be a folder's path, got {type(value).__name__} {_shown(value)}"
        if not Path(value).is_dir():
            return f"cases_dir: no folder {display_path(Path(value))}"
    if name == "reference_file" and value is not None and not (
            isinstance(value, (str, os.PathLike)) and Path(value).is_file()):
        return f"reference_file must be None (casekit's SEI 2006 data) or a CSV file's path, got {_shown(value)}"
    if name == "case_id":
        known = _cases_in(cases_dir)
        if not isinstance(value, str):
            return f"case_id must be a case's id (text), got {type(value).__name__} {_shown(value)}"
        if known is not None and value not in known:
            return f"case_id: no case {_shown(value)} in {display_path(Path(cases_dir))}; cases are {', '.join(known)}"
    if name in ("case_ids", "sectors", "kpis") and value is not None:
        if not _id_list(value):
            return f"{name} must be None or a list of {'ids' if name != 'sectors' else 'names'}, " \
                   f"got {type(value).__name__} {_shown(value)}{_list_hint(name, value)}"
        if name == "case_ids" and (known := _cases_in(cases_dir)) is not None:
            unknown = [v for v in value if v not in known]
            if unknown:
                return f"case_ids: no case {', '.join(map(repr, unknown))} in {display_path(Path(cases_dir))}; " \
                       f"cases are {', '.join(known)}"
        if name == "kpis":
            known_kpis = _known_kpis(values, known)
            unknown = [v for v in value if v not in known_kpis]
            if unknown:
                return f"kpis: unknown KPI {', '.join(map(repr, unknown))}; KPIs are {', '.join(sorted(known_kpis))}"
    if name == "seasonal":
        try:
            seasonality_setting(value)
        except ArgumentError:
            return f"seasonal must be None (the case's own adoption.seasonality) or {SEASONALITY_CHOICES}, " \
                   f"got {_shown(value)}"
    if name == "discount_rate" and not (_number(value) and 0 <= value < 1):
        return f"discount_rate must be a yearly rate from 0 to 1 (such as 0.08 for 8%), got {_shown(value)}"
    if name == "primary" and value is not None:
        if not isinstance(value, str):
            return f"primary must be None or a KPI's id, got {type(value).__name__} {_shown(value)}"
        known_kpis = _known_kpis(values, known)
        if value not in known_kpis:
            return f"primary: unknown KPI {_shown(value)}; KPIs are {', '.join(sorted(known_kpis))}"
    if name == "correction":
        from ..stats.multiplicity import CORRECTIONS

        if value not in CORRECTIONS:
            return f"correction must be one of {', '.join(map(repr, CORRECTIONS))}, got {_shown(value)}"
    if name == "meta_method":
        from ..stats.meta import METHODS

        if value not in METHODS:
            return f"meta_method must be one of {', '.join(map(repr, METHODS))}, got {_shown(value)}"
    return None


def parse_value(text: str):
    """A ``-p NAME VALUE`` value as papermill's command line reads it: True, False, None, int, float, else text.

    Parameters
    ----------
    text : str
        The value as typed.

    Returns
    -------
    bool, None, int, float or str

    Examples
    --------
    >>> [parse_value(v) for v in ("0.1", "3", "True", "None", "bh")]
    [0.1, 3, True, None, 'bh']
    """
    if len(text) > MAX_PARAMETER_CHARS:
        raise ParameterError(f"-p: a value of {len(text):,} characters ({_shown(text)}); report parameters are at "
                             f"most {MAX_PARAMETER_CHARS:,}")
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_yaml_parameters(text: str) -> dict:
    """A ``-y YAML`` argument as papermill's command line reads it: a mapping of names to values.

    Parameters
    ----------
    text : str
        The YAML.

    Returns
    -------
    dict

    Raises
    ------
    ParameterError
        Not YAML, or not a mapping of names.

    Examples
    --------
    >>> parse_yaml_parameters("kpis: [defect_density, cycle_time]")
    {'kpis': ['defect_density', 'cycle_time']}
    """
    from ..inputs.casefiles import parse_yaml

    if len(text) > MAX_PARAMETER_CHARS:
        raise ParameterError(f"-y: {len(text):,} characters ({_shown(text)}); report parameters are at most "
                             f"{MAX_PARAMETER_CHARS:,}")
    problems: list = []
    doc = parse_yaml(text, "-y", problems)
    if doc is None:
        reason = problems[0].message if problems else "not YAML"
        raise ParameterError(f"-y: {reason[:200]}: {_shown(text)}")
    if not isinstance(doc.data, dict):
        raise ParameterError(f"-y takes a mapping of parameters, such as -y 'kpis: [cycle_time]'; got {_shown(text)}")
    return doc.data


MAX_PARAMETER_CHARS = 10_000  # far longer than any list of KPIs, sectors or case ids a report takes


def _shown(value) -> str:
    """A short, escaped excerpt of a value for a message: never the whole of a long one."""
    import reprlib

    shortened = reprlib.Repr()
    shortened.maxstring, shortened.maxother, shortened.maxlist, shortened.maxlevel = 60, 60, 8, 3
    return shortened.repr(value)


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20,
          "GIB": 2**30, "TIB": 2**40}


def memory_bytes(limit, jobs: int = 1) -> int | None:
    """A report's memory limit in bytes: from a number, ``"2GB"``-style text, ``"auto"`` or None (no limit).

    ``"auto"`` is half of this machine's memory shared among ``jobs``.

    Parameters
    ----------
    limit : int, str or None
        Bytes, text such as ``"2GB"`` or ``"512MiB"``, ``"auto"``, or None.
    jobs : int, default 1
        Reports running at once (for ``"auto"``).

    Returns
    -------
    int or None

    Examples
    --------
    >>> memory_bytes("2GB"), memory_bytes("512MiB"), memory_bytes(None)
    (2000000000, 536870912, None)
    """
    import re

    if limit is None or (isinstance(limit, str) and limit.strip().lower() in ("none", "0")):
        return None
    if isinstance(limit, str) and limit.strip().lower() == "auto":
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
        share = total // 2 // max(jobs, 1)
        if share < MIN_REPORT_MEMORY:
            raise RenderError(f"--jobs {jobs} leaves {share / 1e6:,.0f} MB a report (half of this machine's memory, "
                              f"shared); a report needs at least {MIN_REPORT_MEMORY // 10**6} MB: use fewer --jobs, "
                              "or give --memory-limit")
        return share
    if isinstance(limit, str):
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", limit)
        if not match or match.group(2).upper() not in _UNITS:
            raise RenderError(f"memory limit must be a size such as 2GB or 500MB, 'auto' or 'none'; got {limit!r}")
        limit = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 < limit < float("inf"):
        raise RenderError(f"memory limit must be a positive size such as 2GB, got {limit!r}")
    if limit < MIN_REPORT_MEMORY:
        raise RenderError(f"memory limit {limit:.0f} bytes is less than a report needs to start; give at least "
                          f"{MIN_REPORT_MEMORY // 10**6}MB")
    return int(limit)


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
MIN_REPORT_MEMORY = 200 * 10**6  # what one report needs to start and draw its charts


def max_jobs() -> int:
    """The most reports casekit runs at once on this machine: four per core, at least eight.

    Returns
    -------
    int

    Examples
    --------
    >>> max_jobs() >= 8
    True
    """
    return max(8, 4 * (os.cpu_count() or 1))


def check_run_settings(out, jobs, timeout, scheduler: str | None = None) -> None:
    """Refuse settings that cannot make a run, before anything starts: one clear RenderError each.

    ``jobs`` is a whole number of at least 1; ``timeout`` a positive, finite
    number of seconds; ``out`` a folder (or a path to create one at);
    ``scheduler`` an address such as ``tcp://HOST:PORT``.

    Parameters
    ----------
    out : str or pathlib.Path
        The output folder.
    jobs : int
        Reports at once.
    timeout : float
        Seconds a cell may run.
    scheduler : str, optional
        A Dask scheduler's address.

    Raises
    ------
    RenderError
        The first setting that cannot make a run, and what it takes.

    Examples
    --------
    >>> from casekit.rendering import check_run_settings
    >>> check_run_settings("reports", 2, 600)
    >>> check_run_settings("reports", 2, 0)
    Traceback (most recent call last):
    ...
    casekit.errors.RenderError: timeout must be a positive, finite number of seconds, got 0
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise RenderError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    if jobs > max_jobs() and scheduler is None:
        raise RenderError(f"--jobs {jobs} is more reports at once than this machine's {os.cpu_count()} core(s) can "
                          f"run; use at most {max_jobs()} (each report is a process of its own)")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise RenderError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    if Path(out).exists() and not Path(out).is_dir():
        raise RenderError(f"--out must be a folder; {display_path(Path(out))} is a file")
    if scheduler is not None:
        parts = urlsplit(str(scheduler))
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None:
            raise RenderError(f"scheduler must be an address such as tcp://HOST:8786, got {str(scheduler)!r}")
