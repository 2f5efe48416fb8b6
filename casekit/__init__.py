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
# while it starts) costs nothing until a name is used. The layers' modules load the same way under their own
# names: ck.presentation is casekit.report.presentation, ck.within casekit.stats.within.
_LAYERS = ("inputs", "stats", "report")
_LAZY = {  # the public names, as the documentation presents them (docs/api.md), and where each lives
    # cases: files in, tidy tables out
    "load_cases": "inputs.loading", "validate_cases": "inputs.validation", "Portfolio": "inputs.loading",
    "kpi_catalog": "inputs.catalog", "import_kpis": "inputs.spreadsheets", "new_case": "inputs.scaffold",
    "init_project": "inputs.project", "find_cases": "inputs.project", "simulate_portfolio": "inputs.simulate",
    # comparisons: fitted once, then asked
    "compare_case": "report.comparison", "CaseComparison": "report.comparison",
    "compare_portfolio": "report.comparison", "PortfolioComparison": "report.comparison",
    "plan": "report.plan",
    "Findings": "stats.findings", "its": "stats.timeseries", "meta_analysis": "stats.meta", "xmr": "stats.behaviour",
    # reports
    "render": "rendering", "render_workshop": "rendering", "check_report_parameters": "rendering",
    "export_excel": "report.excel",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif module := _layer_module(name):
        value = importlib.import_module(module)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _layer_module(name: str) -> str | None:
    """The full name of casekit's module ``name``: a layer (``stats``) or one of a layer's (``within``)."""
    if name.startswith("_"):
        return None
    for package in (__name__, *(f"{__name__}.{layer}" for layer in _LAYERS)):
        if importlib.util.find_spec(f"{package}.{name}") is not None:
            return f"{package}.{name}"
    return None


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [*_LAZY, "CasekitError", "CaseError", "ParameterError", "RenderError", "__version__"]
