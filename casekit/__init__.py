"""casekit: CMMI case studies in Jupyter — load, test, report.

See the README for the case format and the statistical methods.
"""

__version__ = "0.1.0"

from .behaviour import XmrResult, xmr
from .catalog import kpi_catalog
from .errors import CaseError, Problem
from .loading import Portfolio, load_cases
from .meta import MetaResult, meta_analysis
from .summary import case_overview
from .timeseries import ItsResult, its
from .validation import validate_cases
from .within import compare_case

__all__ = [
    "CaseError",
    "MetaResult",
    "XmrResult",
    "Portfolio",
    "Problem",
    "ItsResult",
    "case_overview",
    "compare_case",
    "its",
    "kpi_catalog",
    "load_cases",
    "meta_analysis",
    "validate_cases",
    "xmr",
]
