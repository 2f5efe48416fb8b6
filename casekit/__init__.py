"""casekit: CMMI case studies in Jupyter — load, test, report.

The documentation site (``make docs``; its pages are ``docs/``) has the case format, the statistical
methods and the API reference.
"""

import importlib
import importlib.util

from .errors import CaseError, CasekitError, ParameterError, RenderError
from .version import VERSION as __version__

# Every public name but the errors loads on first use: the statistics import scipy and statsmodels and the
# tables pandas, which take seconds, so ``import casekit`` (and papermill, which imports casekit's engine
# while it starts) costs nothing until a name is used. Modules (casekit.presentation, casekit.plots, ...) load
# the same way.
_LAZY = {  # the public names, as the documentation presents them (docs/api.md), and where each lives
    # cases: files in, tidy tables out
    "load_cases": "loading", "validate_cases": "validation", "Portfolio": "loading", "kpi_catalog": "catalog",
    "import_kpis": "spreadsheets", "new_case": "scaffold", "init_project": "project", "find_cases": "project",
    "simulate_portfolio": "simulate",
    # comparisons: fitted once, then asked
    "compare_case": "comparison", "CaseComparison": "comparison", "compare_portfolio": "comparison",
    "PortfolioComparison": "comparison", "Findings": "findings", "its": "timeseries", "meta_analysis": "meta",
    "xmr": "behaviour",
    # reports
    "render": "reporting", "render_workshop": "reporting", "check_report_parameters": "reporting",
    "export_excel": "excel",
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


__all__ = [*_LAZY, "CasekitError", "CaseError", "ParameterError", "RenderError", "__version__"]
