"""Rendering: case and portfolio reports in batch (:func:`render`), the workshop's handouts
(:func:`render_workshop`), and the checks a report's parameters and a run's settings pass first.

Modules: ``jobs`` (a job and its outcome), ``parameters``, ``execute`` (one report), ``export`` (HTML and the
index), ``manifest`` (what is unchanged), ``runners`` (local processes) and ``cluster`` (Dask), ``batch``
(planning a render), ``workshop``, ``engine`` (papermill's ``--engine casekit``); ``_fast`` is private.
"""

from .batch import render
from .parameters import check_parameters, check_report_parameters, check_run_settings
from .workshop import render_workshop

__all__ = ["check_parameters", "check_report_parameters", "check_run_settings", "render", "render_workshop"]
