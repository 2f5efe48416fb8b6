"""Batch rendering: plan every case report and the portfolio report, skip the unchanged, run the rest on a
runner (local processes or a Dask cluster), then write the manifest and the index."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ParameterError, RenderError, RenderInterrupted, display_path
from ..inputs.catalog import kpi_catalog
from ..inputs.cautions import warnings_about
from ..inputs.loading import portfolio_from
from ..inputs.project import NOTEBOOKS
from ..inputs.validation import ParsedCase, case_folders, check_case
from ..report.summary import portfolio_title
from ._fast.forking import can_fork, defer_iri_grammar
from .export import PORTFOLIO, index_page
from .fingerprints import fingerprint
from .jobs import COLUMNS, OK, Failure, Job, Outcome, report_files
from .outputs import (
    INDEX,
    MANIFEST,
    RESERVED,
    check_out_folder,
    digest,
    intact,
    locked,
    present,
    publish,
    refuse_foreign,
    staging_folder,
    survey,
    write_manifest,
)
from .parameters import check_parameters, check_run_settings, declared_parameters, memory_bytes, parameter_problems
from .pdf import print_pages
from .runners import LocalRunner, Runner, with_progress
from .signals import signals_ignored, stopped_by_signals

ENGINES = ("casekit", "nbclient")
CASE_NOTEBOOK = "case_report.ipynb"
PORTFOLIO_NOTEBOOK = "portfolio_report.ipynb"
MIN_PORTFOLIO = 2  # valid cases a portfolio report needs
# Set by render itself for each report; the message says what to use instead.
SET_BY_RENDER = {"case_id": "--case ID (case_ids=)", "case_ids": "--case ID (case_ids=)",
                 "cases_dir": "the CASES_DIR argument (cases_dir=)"}


def render(cases_dir: str | Path = "cases", out: str | Path = "reports", jobs: int = 2, case_ids=None,
           no_input: bool = True, timeout: float = 600, progress: bool = True,
           notebooks: str | Path | None = None, force: bool = False, engine: str | None = None,
           scheduler: str | None = None, parameters: dict | None = None, memory_limit: int | str | None = "auto",
           runner: Runner | None = None, security=None, pdf: bool = False) -> pd.DataFrame:
    """Render every (or the named) case report and the portfolio report, ipynb and HTML, plus an index.

    Parameters
    ----------
    cases_dir : path
        Folder of cases.
    out : path
        Output folder: ``<case-id>.ipynb``, ``<case-id>.html``,
        ``portfolio.ipynb``, ``portfolio.html`` and ``index.html``.
    jobs : int
        Reports rendered at once, each in its own process with its own kernel.
    case_ids : list of str, optional
        Only these cases (the portfolio report covers them too, when there
        are at least two; other reports already in ``out`` stay).
    no_input : bool
        Reports for readers (the default): no code cells, no parameters, no
        how-to-run notes in the HTML. False gives the analyst's version, with
        the code (``casekit render --with-code``).
    timeout : float
        Seconds one cell may run before its report is stopped and reported.
    progress : bool
        Show a progress bar.
    notebooks : path, optional
        A folder with your own ``case_report.ipynb`` and
        ``portfolio_report.ipynb`` (default: the notebooks casekit ships).
    force : bool
        Render every report, even those whose inputs are unchanged; and write
        into an ``out`` that holds files casekit did not write.
    engine : {"casekit", "nbclient"}, optional
        How each report runs. ``"casekit"`` (the default where processes
        can fork: Linux, macOS): each worker imports the notebooks' libraries
        once, and every report runs in an in-process IPython kernel in a
        fresh child forked from it. ``"nbclient"`` (the default on Windows):
        papermill's own engine, a new kernel process per report.
    scheduler : str, optional
        A Dask distributed scheduler's address (``tcp://HOST:PORT``): render
        on its workers instead of in local processes (``jobs`` is then
        ignored; each worker renders as many reports at once as it has
        threads). Workers need casekit installed, not the files: each
        report's files travel with it and the rendered files come back here.
    parameters : dict, optional
        Report parameters, as papermill's ``-p``: each goes to every
        notebook whose ``parameters`` cell defines it (``alpha`` to both,
        ``correction`` to the portfolio report). Checked before any kernel
        starts (:func:`casekit.check_report_parameters`).
    memory_limit : int, str or None
        What one report may allocate, in bytes or as ``"2GB"`` / ``"500MB"``
        (casekit engine): a cell that asks for more fails its report with a
        MemoryError, and the others carry on. ``"auto"`` (the default): half
        of this machine's memory, shared among ``jobs``; None: no limit.
    runner : casekit.rendering.runners.Runner, optional
        Where the reports run, for tests and embedding: an object with
        ``run(jobs)`` yielding :class:`~casekit.rendering.jobs.Outcome` and
        ``close()``. Default: local processes, or the Dask cluster.
    pdf : bool
        Also write each report as a PDF for readers (``<name>.pdf``, A4, no
        chart, table row or list item split across pages), printed from its
        page by Chromium (:mod:`casekit.rendering.pdf`). A report skipped as
        unchanged gets its PDF too, when it has none. A PDF that cannot be
        printed is named in ``attrs["notes"]``; its report stands.
    security : distributed.Security, optional
        Certificates for a ``tls://`` scheduler (default: Dask's
        ``distributed.comm.tls`` configuration). A ``tcp://`` scheduler is
        unauthenticated and the case files travel to its workers in clear:
        casekit warns (``InsecureSchedulerWarning``).

    Returns
    -------
    pandas.DataFrame
        One row per report: ``report, status`` (``ok`` or ``failed``),
        ``error`` (the exception and its message, or the case's validation
        problems), ``cell`` (the failing cell's execution count, the ``[n]``
        shown beside it in the notebook), ``seconds``,
        ``headline`` (the first finding), ``ipynb, html`` (relative to
        ``out``; a failed report keeps its partial notebook as
        ``<name>.failed.ipynb``), ``skipped`` (True when the report's inputs
        were unchanged since it was last rendered, so it was not run again).
        ``attrs["warnings"]``: the rendered cases' warnings, as ``casekit
        validate`` words them; ``attrs["notes"]``: what render noticed about
        ``out``.

    Raises
    ------
    RenderError
        Before any kernel starts: unknown cases, settings that cannot make a
        run (:func:`check_run_settings`), an unreachable scheduler.
    ParameterError
        Before any kernel starts: a parameter no notebook defines, or a value
        of the wrong type or out of range.
    RenderInterrupted
        On Ctrl-C, SIGTERM or SIGHUP: running reports are stopped with all
        they started, nothing half-written is left, and the index lists what
        finished.

    Notes
    -----
    A failing report never stops the others, and keeps its last good copy.
    Reports are rendered into a private staging folder in ``out`` and
    renamed into place once checked whole, so a finished name never holds a
    half-written file. Cases with validation problems are reported as failed
    without starting a kernel, and left out of the portfolio report.
    ``out/manifest.json`` records what casekit wrote (each file's hash) and
    a fingerprint of each report's inputs (its case files, the notebook,
    casekit's code, the parameters); a report whose fingerprint is unchanged
    and whose files are intact is skipped unless ``force``. ``force`` also
    lets casekit write into a folder that holds files it did not write; it
    never removes them. One render at a time may write into ``out``. Each
    case's files are read once, before anything is written: the parameters'
    checks, the fingerprints, the warnings and the index use what was read.

    Examples
    --------
    One case's report, without code, into a new folder:

    >>> import tempfile, casekit as ck
    >>> table = ck.render("cases", tempfile.mkdtemp(), case_ids=["quantia-tech"], no_input=True, progress=False)
    >>> table[["report", "status"]].to_dict("records")
    [{'report': 'quantia-tech', 'status': 'ok'}]
    """
    check_run_settings(out, jobs, timeout, scheduler)
    memory_limit = memory_bytes(None if scheduler and memory_limit == "auto" else memory_limit, jobs)
    engine = engine or ("casekit" if can_fork() else "nbclient")
    if engine not in ENGINES:
        raise RenderError(f"unknown engine {engine!r}; engines are {', '.join(ENGINES)}")
    if engine == "casekit" and not can_fork():
        raise RenderError("the casekit engine needs os.fork, which this system lacks; use engine='nbclient'")
    cases_dir, out = Path(cases_dir).resolve(), Path(out).resolve()
    notebooks = NOTEBOOKS if notebooks is None else Path(notebooks).resolve()
    case_notebook, portfolio_notebook = notebooks / CASE_NOTEBOOK, notebooks / PORTFOLIO_NOTEBOOK
    for notebook in (case_notebook, portfolio_notebook):
        if not notebook.is_file():
            raise RenderError(f"notebook not found: {display_path(notebook)}")
    problems: list = []
    folders = {f.name: f for f in case_folders(cases_dir, problems)}
    if problems:
        raise RenderError("; ".join(str(p) for p in problems))
    if case_ids is not None:
        unknown = sorted(set(case_ids) - set(folders))
        if unknown:
            raise RenderError(f"no case {', '.join(map(repr, unknown))} in {display_path(cases_dir)}; "
                              f"cases are {', '.join(sorted(folders))}")
        folders = {name: folders[name] for name in case_ids}
    defer_iri_grammar()  # before papermill imports nbformat
    catalog = kpi_catalog()
    checked = _checked(folders, catalog)  # each case's files read once: all the render knows of them comes from here
    extra = _split_parameters(parameters or {}, [case_notebook, portfolio_notebook], cases_dir, sorted(folders),
                             _kpi_ids(catalog, checked))
    check_out_folder(out, cases_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot make --out {display_path(out)}: {exc.strerror}") from None
    with locked(out) as lock:
        found = survey(out, casekit_was_here=lock.existed)
        targets = {INDEX, MANIFEST} | {file for name in [*folders, PORTFOLIO] for file in report_files(name)}
        refuse_foreign(out, found.foreign, [name for name in found.foreign if name in targets], force)
        with staging_folder(out) as staging, stopped_by_signals() as stop:
            table, entries, interrupted, printed = _render_in(
                out, staging, cases_dir, checked, extra, found.entries, force, no_input, pdf, timeout, engine, progress,
                scheduler, runner or _default_runner(scheduler, cases_dir, jobs, len(folders) + 1, engine,
                                                     [str(case_notebook), str(portfolio_notebook)], memory_limit,
                                                     security),
                case_notebook, portfolio_notebook, memory_limit)
            with signals_ignored():  # what is known is written, however many times Ctrl-C is pressed now
                try:
                    write_manifest(out, entries, index_page(entries, cases_dir,
                                                            _index_cases(entries, cases_dir, checked, catalog)))
                except OSError as exc:
                    in_place = sum(1 for entry in entries.values() if entry.get("status") == OK)
                    raise RenderError(f"cannot write the index and manifest into {display_path(out)}: "
                                      f"{exc.strerror or exc}; " + (
                                          f"{in_place} finished report(s) are in place, and the next run "
                                          "recognises them" if in_place else "no report was written")) from None
    table.attrs["notes"] = found.notes + printed
    table.attrs["warnings"] = [str(w) for name in sorted(checked) if checked[name].valid
                               for w in warnings_about(checked[name].case, catalog)]
    if interrupted or stop.signal_number:
        raise RenderInterrupted(table, stop.signal_number or signal.SIGINT)
    return table


def _render_in(out: Path, staging: Path, cases_dir: Path, checked: dict, extra: list[dict], previous: dict,
               force: bool, no_input: bool, pdf: bool, timeout: float, engine: str, progress: bool, scheduler, runner,
               case_notebook: Path, portfolio_notebook: Path, memory_limit: int | None
               ) -> tuple[pd.DataFrame, dict, bool, list[str]]:
    """Plan, skip, run and publish (until Ctrl-C or a signal stops it): the run's table, the manifest's
    entries, whether it was stopped, and what could not be printed to PDF."""
    outcomes: list[Outcome] = []
    entries = {name: kept for name, entry in previous.items() if (kept := present(out, entry)) is not None}
    interrupted = False
    printed: list[str] = []
    try:
        for name, result in sorted(checked.items()):
            if name in RESERVED:  # reported, not recorded: its name is the page's, in the manifest too
                outcomes.append(Outcome.failed(name, result.failure, out.name))
            elif not result.valid:
                outcome, entry = publish(Outcome.failed(name, result.failure, out.name), staging, out,
                                         previous.get(name))
                outcomes.append(outcome)
                _record(entries, name, entry)
        valid = [name for name, result in sorted(checked.items()) if result.valid]
        parsed = {name: checked[name].case for name in valid}
        planned = [Job(name, str(case_notebook), {"case_id": name, "cases_dir": str(cases_dir), **extra[0]},
                       str(staging), no_input, timeout, engine, memory_limit=memory_limit,
                       title=f"{parsed[name].meta.get('name') or name}: CMMI case report") for name in valid]
        if len(valid) >= MIN_PORTFOLIO:  # a "portfolio" of one organization compares nothing
            planned.append(Job(PORTFOLIO, str(portfolio_notebook),
                               {"cases_dir": str(cases_dir), "case_ids": valid, **extra[1]}, str(staging), no_input,
                               timeout, engine, memory_limit=memory_limit,
                               title=f"{portfolio_title(*_series_and_summaries(parsed.values()))}: CMMI case studies"))
        for job in {job.notebook: job for job in planned}.values():  # one job per notebook
            check_parameters(Path(job.notebook), job.parameters)
        prints = {job.name: fingerprint(Path(job.notebook), job.parameters, no_input,
                                        {name: parsed[name].digests for name in _job_cases(job)}) for job in planned}
        unchanged = [job for job in planned if not force and previous.get(job.name, {}).get("status") == OK
                     and previous[job.name].get("fingerprint") == prints[job.name] and intact(out, previous[job.name])]
        outcomes += [Outcome(job.name, OK, out.name, 0.0, previous[job.name].get("headline", ""),
                             previous[job.name].get("ipynb", ""), previous[job.name].get("html", ""),
                             skipped=True) for job in unchanged]
        to_run = [job for job in planned if job not in unchanged]
        description = f"rendering on {scheduler}" if scheduler else "rendering"
        for outcome in with_progress(runner.run(to_run), len(to_run), description, progress):
            outcome, entry = publish(outcome, staging, out, previous.get(outcome.report))
            outcomes.append(outcome)
            if entry is not None and outcome.report == PORTFOLIO:
                entry["cases"] = valid  # the organizations it covers, for the index
            _record(entries, outcome.report, entry, prints.get(outcome.report))
        if pdf:
            printed = _add_pdfs(out, staging, [job.name for job in planned], entries)
    except KeyboardInterrupt:  # while planning or rendering: what is known is kept
        interrupted = True
    finally:
        with signals_ignored():
            runner.close()
    return _outcome_table(outcomes), entries, interrupted, printed


def _add_pdfs(out: Path, staging: Path, names: list[str], entries: dict) -> list[str]:
    """Print each finished report among ``names`` that lacks a PDF of its current page, into ``staging``, then
    move it into ``out`` and record it in its manifest entry; return a note per PDF that could not be made."""
    wanted = []
    for name in names:
        entry = entries.get(name)
        if not entry or entry.get("status") != OK or not entry.get("html"):
            continue
        page = entry["files"].get(entry["html"])
        if entry.get("pdf") in entry["files"] and entry.get("pdf_of") == page:
            continue
        wanted.append((name, out / entry["html"], staging / f"{name}.pdf", page))
    try:
        problems = print_pages([(html, pdf) for _, html, pdf, _ in wanted])
    except RenderError as exc:
        return [f"no PDF was written: {exc}"]
    notes = []
    for name, html, pdf, page in wanted:
        if html in problems or not pdf.is_file():
            notes.append(f"{name}.pdf was not written: {problems.get(html, 'Chromium printed nothing')}")
            continue
        try:
            entries[name]["files"][pdf.name] = digest(pdf)
            os.replace(pdf, out / pdf.name)
        except OSError as exc:
            entries[name]["files"].pop(pdf.name, None)
            notes.append(f"{name}.pdf was not written: {exc.strerror or exc}")
            continue
        entries[name].update(pdf=pdf.name, pdf_of=page)
    return notes


@dataclass(frozen=True)
class Checked:
    """One case as this render read and checked it: the parsed case, or why it cannot be rendered."""

    case: ParsedCase | None
    failure: Failure | None = None

    @property
    def valid(self) -> bool:
        """Whether the case passed validation (no failure recorded)."""
        return self.failure is None


def _checked(folders: dict[str, Path], catalog: pd.DataFrame) -> dict[str, Checked]:
    """Each case read and validated, once: everything the render needs of its files (parameters, fingerprints,
    warnings, the index) comes from here."""
    checked = {}
    for name, folder in sorted(folders.items()):
        if name in RESERVED:
            checked[name] = Checked(None, Failure("invalid case", (
                f"case id {name!r} is the name of casekit's {name} page; rename the case's folder and id")))
            continue
        try:
            case, problems = check_case(folder, catalog, digests=True)
            found = [str(p) for p in problems]
        except Exception as exc:  # noqa: BLE001 - one case that breaks validation never stops the others
            case, found = None, [f"{display_path(folder)}: casekit could not check this case "
                                 f"({type(exc).__name__}: {str(exc)[:200]}); please report it"]
        checked[name] = Checked(case, Failure("invalid case", "; ".join(found)) if found else None)
    return checked


def _kpi_ids(catalog: pd.DataFrame, checked: dict[str, Checked]) -> set[str]:
    """The KPIs a report parameter may name: the catalog's and those the cases define."""
    ids = set(catalog["kpi"])
    for result in checked.values():
        definitions = result.case.kpi_definitions if result.case is not None else None
        if definitions is not None and "kpi" in definitions:
            ids |= set(map(str, definitions["kpi"]))
    return ids


def _record(entries: dict, name: str, entry: dict | None, fingerprint: str | None = None) -> None:
    """Put a report's new manifest entry in ``entries`` (a finished report with the fingerprint of its inputs)."""
    if entry is None:
        entries.pop(name, None)
        return
    entries[name] = {**entry, "fingerprint": fingerprint} if entry["status"] == OK else \
        {**entry, "fingerprint": entries.get(name, {}).get("fingerprint")}


def _index_cases(entries: dict, cases_dir: Path, checked: dict[str, Checked], catalog: pd.DataFrame
                 ) -> pd.DataFrame | None:
    """``Portfolio.cases`` for the valid cases whose reports the index lists (others show by id): those this
    run validated, and those an earlier run rendered, checked now."""
    listed = []
    for name in sorted(entries):
        if name in checked:
            if checked[name].valid:
                listed.append(checked[name].case)
        elif name != PORTFOLIO and (cases_dir / name).is_dir():
            case, problems = check_case(cases_dir / name, catalog)
            if not problems:
                listed.append(case)
    return portfolio_from(listed, catalog).cases if listed else None


def _job_cases(job: Job) -> list[str]:
    """The case ids whose files a job's report reads."""
    return list(job.parameters.get("case_ids") or [job.parameters["case_id"]])


def _split_parameters(parameters: dict, notebooks: list[Path], cases_dir: Path, case_ids: list[str],
                     kpi_ids: set[str] | None = None) -> list[dict]:
    """The user's report parameters for each notebook: each name goes to the notebooks that define it.

    Refused with a ParameterError: a name no notebook defines, one render sets
    itself (``case_id``, ``case_ids``, ``cases_dir``), a value
    :func:`check_report_parameters` refuses (``kpi_ids``: the KPIs the cases know, when already read).
    """
    declared = [declared_parameters(notebook) for notebook in notebooks]
    problems = []
    for name in parameters:
        if name in SET_BY_RENDER:
            problems.append(f"{name} is set by casekit render for each report; use {SET_BY_RENDER[name]}")
        elif not any(name in names for names in declared):
            problems.append(f"no report takes a parameter {name!r}; they take "
                            f"{', '.join(sorted(set().union(*declared) - set(SET_BY_RENDER)))}")
    if problems:
        raise ParameterError("\n".join(problems))
    problems = parameter_problems({"cases_dir": str(cases_dir), **parameters, "case_ids": case_ids}, kpi_ids)
    if problems:
        raise ParameterError("\n".join(problems))
    return [{name: value for name, value in parameters.items() if name in names} for names in declared]


def _outcome_table(outcomes: list[Outcome]) -> pd.DataFrame:
    """The render's table: one row per outcome, the cases by id, then the portfolio."""
    table = pd.DataFrame([outcome.row() for outcome in outcomes], columns=COLUMNS)
    table["skipped"] = table["skipped"].eq(True)
    order = table["report"].eq(PORTFOLIO).astype(int).astype(str) + table["report"]
    return table.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def _default_runner(scheduler, cases_dir: Path, jobs: int, reports: int, engine: str, notebooks: list[str],
                    memory_limit: int | None, security=None):
    if scheduler:
        from .cluster import DaskRunner

        return DaskRunner(scheduler, cases_dir, security)
    return LocalRunner(max(1, min(jobs, reports)), notebooks if engine == "casekit" else [])


def _series_and_summaries(parsed) -> tuple[int, int]:
    """How many cases have series, and how many are published summaries only (the portfolio's title counts both)."""
    series = sum(1 for case in parsed if len(case.kpis))
    return series, sum(1 for _ in parsed) - series
