"""casekit: CMMI case studies in Jupyter — load, test, report.

See the README for the case format and the statistical methods.
"""

__version__ = "0.1.0"

from .across import compare_portfolio
from .behaviour import XmrResult, xmr, xmr_phases
from .breakdowns import category_summary, dose_response, subgroup_analysis
from .catalog import kpi_catalog
from .errors import CaseError, Problem
from .findings import case_findings, case_profile, portfolio_findings
from .goals import goal_attainment, roi
from .loading import Portfolio, load_cases
from .meta import MetaResult, meta_analysis
from .render import RenderError, render
from .simulate import simulate_portfolio
from .scaffold import new_case
from .summary import case_overview
from .timeseries import ItsResult, its
from .validation import validate_cases
from .within import compare_case, kpi_effects
from .workshop import render_workshop

__all__ = [
    "CaseError",
    "MetaResult",
    "XmrResult",
    "Portfolio",
    "RenderError",
    "Problem",
    "ItsResult",
    "case_findings",
    "case_overview",
    "case_profile",
    "category_summary",
    "compare_case",
    "compare_portfolio",
    "dose_response",
    "goal_attainment",
    "its",
    "kpi_effects",
    "kpi_catalog",
    "load_cases",
    "meta_analysis",
    "new_case",
    "portfolio_findings",
    "render",
    "render_workshop",
    "roi",
    "simulate_portfolio",
    "subgroup_analysis",
    "validate_cases",
    "xmr",
    "xmr_phases",
]
