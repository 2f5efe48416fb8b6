"""casekit: CMMI case studies in Jupyter — load, test, report.

See the README for the case format and the statistical methods.
"""

__version__ = "0.1.0"

from .catalog import kpi_catalog
from .errors import CaseError, Problem
from .loading import Portfolio, load_cases
from .summary import case_overview
from .validation import validate_cases

__all__ = [
    "CaseError",
    "Portfolio",
    "Problem",
    "case_overview",
    "kpi_catalog",
    "load_cases",
    "validate_cases",
]
