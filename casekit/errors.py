"""casekit's exceptions and the problem record that validation reports."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MAX_MESSAGE = 300  # characters of a problem's message shown: an excerpt of a value, never a file's contents
# control characters (a NUL, an escape sequence) are shown escaped, never sent to the terminal as they are
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case: where it is and what was expected.

    ``str(problem)`` gives ``path:line: field: message`` (the line only where
    there is one), the form editors and CI logs understand.
    """

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        message = self.message if len(self.message) <= MAX_MESSAGE else self.message[:MAX_MESSAGE] + "…"
        text = f"{where}: {self.field}: {message}" if self.field else f"{where}: {message}"
        return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


class CasekitError(Exception):
    """The base of every exception casekit raises to its users: ``except ck.CasekitError`` catches them all."""


class ArgumentError(CasekitError, ValueError):
    """A casekit function was called with an argument it cannot use; the message says what it takes."""


class CaseNotFound(CasekitError, KeyError):
    """A case id that the portfolio does not hold."""

    def __str__(self) -> str:  # KeyError's own would quote the message
        return str(self.args[0]) if self.args else ""


class CaseError(CasekitError, ValueError):
    """Raised when cases cannot be loaded; ``.problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the cases:\n{lines}")


class SpreadsheetError(CasekitError, ValueError):
    """A spreadsheet that ``casekit import`` cannot turn into a case's files; the message says how to fix it."""


class RenderError(CasekitError, ValueError):
    """A render that cannot start: bad settings or parameters, unknown cases, a missing notebook, no scheduler."""


class ParameterError(RenderError):
    """A report parameter casekit refuses: an unknown name, a wrong type, a value out of range.

    Raised before any kernel starts by :func:`casekit.render`, and inside a
    notebook by :func:`casekit.check_report_parameters`; in a notebook the
    error shows as its one-line message (``casekit.ParameterError: ...``), not
    a traceback, and that line is how papermill's command line knows it.
    """

    def _render_traceback_(self) -> list[str]:  # what IPython shows for it instead of a traceback
        return [f"casekit.{type(self).__name__}: {self}"]


class RenderInterrupted(CasekitError, KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, SIGHUP) during a render: ``.table`` holds what finished (the index and manifest list
    it); ``.signal_number`` is the signal that stopped it."""

    def __init__(self, table, signal_number: int = 2):
        super().__init__("render interrupted")
        self.table = table
        self.signal_number = signal_number


class ClusterError(RenderError):
    """A Dask cluster that cannot render: the scheduler could not be reached, or Dask distributed is not installed."""


class CellTimeoutError(CasekitError, TimeoutError):
    """A cell ran longer than the render's timeout."""


class ChildDied(CasekitError, RuntimeError):
    """The forked child ended without sending its result."""


class ServerDied(CasekitError, RuntimeError):
    """The render server ended before it sent a report's outcome."""


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory where possible.

    Made from the names alone (no symlink is followed): casekit names thousands of files a run.

    Parameters
    ----------
    path : pathlib.Path
        The path.

    Returns
    -------
    str

    Examples
    --------
    >>> import os, pathlib
    >>> display_path(pathlib.Path.cwd() / "reports" / "index.html"), display_path(pathlib.Path("/etc/hosts"))
    ('reports/index.html', '/etc/hosts')
    """
    absolute, here = os.path.abspath(path), os.getcwd()
    if absolute == here:
        return "."
    if absolute.startswith(here.rstrip(os.sep) + os.sep):
        return absolute[len(here.rstrip(os.sep)) + 1:]
    return str(path)
