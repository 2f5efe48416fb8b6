"""Imported by the fork server that casekit's render workers are forked from: it imports what the reports need
and warms the chart and HTML caches once, so that each worker starts with them instead of repeating the work.

A fork server is given module names only, so the notebooks whose imports to follow come from the environment
variable ``casekit.render.PRELOAD_NOTEBOOKS``. Nothing here may raise: a fork server that fails to start
would take the render down, where a cold worker only costs time.
"""

import os

from .render import PRELOAD_NOTEBOOKS, _prepare_worker

if os.environ.get(PRELOAD_NOTEBOOKS):
    try:
        _prepare_worker(os.environ[PRELOAD_NOTEBOOKS].split(os.pathsep))
    except Exception:  # the workers import and warm up themselves
        pass
