"""casekit: CMMI case studies in Jupyter — load, test, report.

See the README for the case format and the statistical methods.
"""

import importlib
import importlib.util

from .catalog import kpi_catalog
from .errors import CaseError, CasekitError, ParameterError, Problem, RenderError, RenderInterrupted
from .loading import Portfolio, load_cases
from .reporting import render
from .validation import validate_cases
from .version import VERSION as __version__

# The statistics import scipy and statsmodels, which take seconds: they load on first use, so that the
# command line (and a render's main process) starts at once. ``import casekit`` offers the same names.
_LAZY = {
    "compare_portfolio": "across", "XmrResult": "behaviour", "xmr": "behaviour", "xmr_phases": "behaviour",
    "category_summary": "breakdowns", "dose_response": "breakdowns", "subgroup_analysis": "breakdowns",
    "case_findings": "findings", "case_profile": "findings", "portfolio_findings": "findings",
    "goal_attainment": "goals", "roi": "goals", "MetaResult": "meta", "meta_analysis": "meta",
    "simulate_portfolio": "simulate", "new_case": "scaffold", "case_overview": "summary", "ItsResult": "timeseries",
    "its": "timeseries", "compare_case": "within", "kpi_effects": "within", "render_workshop": "reporting",
    "check_report_parameters": "reporting", "init_project": "project", "find_cases": "project",
    "reference_path": "project",
    "case_heading": "presentation",
    "case_summary": "presentation",
    "comparison_table": "presentation",
    "goals_table": "presentation",
    "investment_table": "presentation",
    "roi_table": "presentation",
    "reader_table": "presentation",
    "portfolio_heading": "presentation",
    "portfolio_summary": "presentation",
    "overview_table": "presentation",
    "tests_table": "presentation",
    "ranking_table": "presentation",
    "import_kpis": "spreadsheets",
    "case_warnings": "cautions",
    "export_excel": "excel",
    "category_table": "presentation",
    "subgroup_table": "presentation",
    "dose_table": "presentation",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a module, e.g. casekit.within
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "export_excel",
    "case_warnings",
    "import_kpis",
    "category_table",
    "subgroup_table",
    "dose_table",
    "case_heading",
    "case_summary",
    "comparison_table",
    "goals_table",
    "investment_table",
    "roi_table",
    "reader_table",
    "portfolio_heading",
    "portfolio_summary",
    "overview_table",
    "tests_table",
    "ranking_table",
    "CaseError",
    "CasekitError",
    "ParameterError",
    "RenderInterrupted",
    "MetaResult",
    "XmrResult",
    "Portfolio",
    "RenderError",
    "Problem",
    "ItsResult",
    "case_findings",
    "check_report_parameters",
    "case_overview",
    "case_profile",
    "category_summary",
    "compare_case",
    "compare_portfolio",
    "dose_response",
    "find_cases",
    "goal_attainment",
    "init_project",
    "its",
    "kpi_effects",
    "kpi_catalog",
    "load_cases",
    "meta_analysis",
    "new_case",
    "portfolio_findings",
    "reference_path",
    "render",
    "render_workshop",
    "roi",
    "simulate_portfolio",
    "subgroup_analysis",
    "validate_cases",
    "xmr",
    "xmr_phases",
]
