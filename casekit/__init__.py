"""casekit: CMMI case studies in Jupyter — load, test, report.

The documentation site (``make docs``; its pages are ``docs/``) has the case format, the statistical
methods and the API reference.
"""

import importlib
import importlib.util

from .errors import CaseError, CasekitError, ParameterError, Problem, RenderError, RenderInterrupted
from .version import VERSION as __version__

# Every public name but the errors loads on first use: the statistics import scipy and statsmodels and the
# tables pandas, which take seconds, so ``import casekit`` (and papermill, which imports casekit's engine
# while it starts) costs nothing until a name is used. ``import casekit`` offers the same names.
_LAZY = {
    "kpi_catalog": "catalog", "Portfolio": "loading", "load_cases": "loading", "render": "reporting",
    "validate_cases": "validation",
    "compare_case": "comparison", "compare_portfolio": "comparison", "CaseComparison": "comparison",
    "PortfolioComparison": "comparison", "Findings": "findings",
    "XmrResult": "behaviour", "xmr": "behaviour", "xmr_phases": "behaviour",
    "case_profile": "summary", "MetaResult": "meta", "meta_analysis": "meta",
    "simulate_portfolio": "simulate", "new_case": "scaffold", "case_overview": "summary", "ItsResult": "timeseries",
    "its": "timeseries", "render_workshop": "reporting",
    "check_report_parameters": "reporting", "init_project": "project", "find_cases": "project",
    "reference_path": "project",
    "case_heading": "presentation",
    "comparison_table": "presentation",
    "goals_table": "presentation",
    "investment_table": "presentation",
    "roi_table": "presentation",
    "reader_table": "presentation",
    "portfolio_heading": "presentation",
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
    "__version__",
    "export_excel",
    "case_warnings",
    "import_kpis",
    "category_table",
    "subgroup_table",
    "dose_table",
    "case_heading",
    "comparison_table",
    "goals_table",
    "investment_table",
    "roi_table",
    "reader_table",
    "portfolio_heading",
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
    "check_report_parameters",
    "case_overview",
    "case_profile",
    "compare_case",
    "CaseComparison",
    "PortfolioComparison",
    "Findings",
    "compare_portfolio",
    "find_cases",
    "init_project",
    "its",
    "kpi_catalog",
    "load_cases",
    "meta_analysis",
    "new_case",
    "reference_path",
    "render",
    "render_workshop",
    "simulate_portfolio",
    "validate_cases",
    "xmr",
    "xmr_phases",
]
