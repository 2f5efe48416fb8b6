"""Rendering: case and portfolio reports in batch (:func:`render`), the workshop's handouts
(:func:`render_workshop`), and the checks a report's parameters and a run's settings pass first.

Modules: ``jobs`` (a job and its outcome), ``parameters``, ``execute`` (one report), ``export`` (HTML and the
index), ``fingerprints`` (what is unchanged), ``outputs`` (the output folder's contract), ``runners`` (local
processes) and ``cluster`` (Dask), ``batch`` (planning a render), ``workshop``, ``engine`` (papermill's
``--engine casekit``); ``_fast`` is private.

The names load on first use, so that papermill, which imports ``casekit.rendering.engine`` while it
starts, imports nothing else of casekit's.
"""

import importlib

_NAMES = {"render": "batch", "check_parameters": "parameters", "check_report_parameters": "parameters",
          "check_run_settings": "parameters", "render_workshop": "workshop"}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_NAMES))
