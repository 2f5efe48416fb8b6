"""Imported by the fork server that casekit's render workers are forked from: it imports what the reports need
and warms the chart and HTML caches once, so that each worker starts with them instead of repeating the work.

A fork server is given module names only, so the notebooks whose imports to follow come from the environment
variable ``worker.PRELOAD_NOTEBOOKS``. Nothing here may raise: a fork server that fails to start
would take the render down, where a cold worker only costs time.
"""

import atexit
import os
import sys

from .worker import PRELOAD_NOTEBOOKS, prepare_worker


def _exit_at_once(server: int = os.getpid()) -> None:
    """End the fork server without tearing down its interpreter, which takes about a second with all it has
    imported; the server holds the caller's stdout, so whoever reads the render's output waits for it."""
    if os.getpid() == server:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(0)


if os.environ.get(PRELOAD_NOTEBOOKS):
    try:
        prepare_worker(os.environ[PRELOAD_NOTEBOOKS].split(os.pathsep))
    except Exception:  # the workers import and warm up themselves
        pass
    atexit.register(_exit_at_once)  # after the imports' own handlers, so that it runs before them
