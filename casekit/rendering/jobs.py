"""What a render is made of: a job (one notebook to run into one folder) and its outcome."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .export import PORTFOLIO

OK, FAILED = "ok", "failed"
# The columns of the table `render` returns, in order (Outcome.row gives them).
COLUMNS = ["report", "status", "error", "cell", "seconds", "headline", "ipynb", "html", "skipped"]


@dataclass(frozen=True)
class Job:
    """One report to render: ``notebook`` run with ``parameters``, written to ``out/<name>.ipynb`` and ``.html``.

    ``cwd`` is the kernel's working directory (default: the notebook's
    folder); ``engine`` is ``"casekit"`` or ``"nbclient"``;
    ``memory_limit`` the bytes the report may allocate (casekit engine);
    ``title`` the HTML page's title (default: the notebook's).
    """

    name: str
    notebook: str
    parameters: dict = field(default_factory=dict)
    out: str = "."
    no_input: bool = False
    timeout: float = 600
    engine: str = "nbclient"
    cwd: str = ""
    memory_limit: int | None = None
    title: str = ""  # the HTML page's <title>


@dataclass(frozen=True)
class Failure:
    """Why a report failed: the error's name and message, and the failing cell's execution count if in one.

    ``str(failure)`` reads ``Name: message``, as a traceback's last line does.
    """

    name: str
    message: str
    cell: int | None = None

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        """From papermill's PapermillExecutionError (which names the cell) or any other exception.

        Parameters
        ----------
        exc : BaseException
            The exception.

        Returns
        -------
        Failure
            Its name, the first line of its message, and the cell's execution count where known.

        Examples
        --------
        >>> print(Failure.from_exception(ValueError("no KPI 'nps'\\nmore detail")))
        ValueError: no KPI 'nps'
        """
        name = getattr(exc, "ename", None) or type(exc).__name__
        message = str(getattr(exc, "evalue", exc)).strip()
        return cls(name, message.splitlines()[0] if message else "", getattr(exc, "exec_count", None))


@dataclass(frozen=True)
class Outcome:
    """What became of one job: ``status`` ``ok`` or ``failed`` (with ``failure``), and the files written.

    ``ipynb`` and ``html`` are file names in ``folder``; a failed report
    keeps its partial notebook as ``<name>.failed.ipynb`` (then ``ipynb``).
    ``skipped`` is True when the report's inputs had not changed since it
    was last rendered, so it was not run again.
    """

    report: str
    status: str
    folder: str = ""
    seconds: float = 0.0
    headline: str = ""
    ipynb: str = ""
    html: str = ""
    failure: Failure | None = None
    skipped: bool = False
    improved: tuple = ()  # the KPIs its findings call improved, and worsened
    worsened: tuple = ()

    @classmethod
    def failed(cls, job_name: str, failure: Failure, folder: str = "", seconds: float = 0.0,
               partial: str = "") -> Outcome:
        """The outcome of a report that failed with ``failure`` (``partial``: its partial notebook, if any).

        Parameters
        ----------
        job_name : str
            The report.
        failure : Failure
            Why it failed.
        folder : str, default ""
            Where its files are.
        seconds : float, default 0.0
            How long it ran.
        partial : str, default ""
            Its partial notebook's file name.

        Returns
        -------
        Outcome

        Examples
        --------
        >>> outcome = Outcome.failed("acme", Failure("ValueError", "bad value", 7), partial="acme.failed.ipynb")
        >>> outcome.status, outcome.ipynb, outcome.row()["cell"]
        ('failed', 'acme.failed.ipynb', 7)
        """
        return cls(job_name, FAILED, folder, seconds, ipynb=partial, failure=failure)

    def replace(self, **changes) -> Outcome:
        """A copy with ``changes`` (the outcome is frozen).

        Parameters
        ----------
        **changes
            Fields and their new values.

        Returns
        -------
        Outcome

        Examples
        --------
        >>> Outcome("acme", "ok").replace(skipped=True).skipped
        True
        """
        return dataclasses.replace(self, **changes)

    def row(self) -> dict:
        """A row of the table :func:`casekit.render` returns (``error`` and ``cell`` from the failure).

        Returns
        -------
        dict
            ``report, status, error, cell, seconds, headline, ipynb, html, skipped``.

        Examples
        --------
        >>> Outcome("acme", "ok", headline="3 of 5 KPIs improved").row()["headline"]
        '3 of 5 KPIs improved'
        """
        return {"report": self.report, "status": self.status, "error": str(self.failure or ""),
                "cell": None if self.failure is None else self.failure.cell, "seconds": self.seconds,
                "headline": self.headline, "ipynb": self.ipynb, "html": self.html, "skipped": self.skipped}


def report_files(name: str) -> tuple[str, str, str, str]:
    """The only files report ``name`` may write: its notebook, its page, its failed notebook and its PDF.

    Parameters
    ----------
    name : str
        The report's name.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> report_files("acme")
    ('acme.ipynb', 'acme.html', 'acme.failed.ipynb', 'acme.pdf')
    """
    return f"{name}.ipynb", f"{name}.html", f"{name}.failed.ipynb", f"{name}.pdf"


def portfolio_first(jobs: list[Job]) -> list[Job]:
    """The jobs with the portfolio report first: the longest, started last it would finish alone after the rest.

    Parameters
    ----------
    jobs : list of Job
        The jobs.

    Returns
    -------
    list of Job

    Examples
    --------
    >>> [job.name for job in portfolio_first([Job("acme", "case.ipynb"), Job("portfolio", "portfolio.ipynb")])]
    ['portfolio', 'acme']
    """
    return sorted(jobs, key=lambda job: job.name != PORTFOLIO)
