"""Batch rendering: every case report and the portfolio report, in parallel processes, to ipynb and HTML."""

from __future__ import annotations

import ast
import html
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import forkserver, get_context
from pathlib import Path

import pandas as pd

from .catalog import kpi_catalog
from .errors import display_path
from .forking import can_fork, defer_iri_grammar, preload, run_forked
from .loading import _portfolio, load_cases
from .manifest import fingerprint, read_manifest, write_manifest
from .validation import case_folders, check_case

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
ENGINES = ("casekit", "nbclient")
CASE_NOTEBOOK = "case_report.ipynb"
PORTFOLIO_NOTEBOOK = "portfolio_report.ipynb"
PORTFOLIO = "portfolio"
KERNEL_START_FAILURES = ("Kernel didn't respond", "Kernel died before replying to kernel_info")
# The environment variable that tells the fork server (casekit.preloaded) which notebooks' imports to follow.
PRELOAD_NOTEBOOKS = "CASEKIT_PRELOAD_NOTEBOOKS"


class RenderError(ValueError):
    """A render that cannot start: bad parameters, unknown cases, a missing notebook."""


class RenderInterrupted(KeyboardInterrupt):
    """Ctrl-C during a render: ``.table`` holds what finished (the index and manifest list it)."""

    def __init__(self, table: pd.DataFrame):
        super().__init__("render interrupted")
        self.table = table


@dataclass(frozen=True)
class _Job:
    name: str
    notebook: str
    parameters: dict
    out: str
    no_input: bool
    timeout: float
    engine: str = "nbclient"
    cwd: str = ""  # the kernel's working directory; default the notebook's folder


_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list": (list, tuple)}


def _matches(value, type_name: str) -> bool:
    expected = _TYPES.get(type_name)
    if expected is None or value is None:  # a None default, or a type papermill could not infer
        return True
    if isinstance(value, bool) and bool not in expected:  # True is an int to Python, not to a report
        return False
    return isinstance(value, expected)


def _declared_type(parameter: dict) -> str:
    """A parameter's type: its annotation where papermill found one, else the type of its default literal."""
    if parameter["inferred_type_name"] not in ("None", ""):
        return parameter["inferred_type_name"]
    try:
        default = ast.literal_eval(parameter["default"])
    except (ValueError, SyntaxError):
        return "None"
    return "None" if default is None else type(default).__name__


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Refuse names the notebook's ``parameters`` cell does not define, and values of the wrong type.

    papermill itself only warns about unknown names and guesses types; this
    check runs before any kernel starts (papermill.inspect_notebook reads the
    cell). A parameter's type is its annotation, or else the type of its
    default; parameters whose default is None accept any value.
    """
    from papermill import inspect_notebook

    declared = inspect_notebook(str(notebook))
    for name, value in parameters.items():
        if name not in declared:
            raise RenderError(f"{notebook.name} has no parameter {name!r}; it takes {', '.join(declared)}")
        expected = _declared_type(declared[name])
        if not _matches(value, expected):
            raise RenderError(f"{notebook.name}: parameter {name!r} expects {expected}, "
                              f"got {type(value).__name__} {value!r}")


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def check_run_settings(out, jobs, timeout, scheduler: str | None = None) -> None:
    """Refuse settings that cannot make a run, before anything starts: one clear RenderError each.

    ``jobs`` is a whole number of at least 1; ``timeout`` a positive, finite
    number of seconds; ``out`` a folder (or a path to create one at);
    ``scheduler`` an address such as ``tcp://HOST:PORT``.

    Examples
    --------
    >>> from casekit.render import check_run_settings
    >>> check_run_settings("reports", 2, 600)
    >>> check_run_settings("reports", 2, 0)
    Traceback (most recent call last):
    ...
    casekit.render.RenderError: timeout must be a positive, finite number of seconds, got 0
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise RenderError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise RenderError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    if Path(out).exists() and not Path(out).is_dir():
        raise RenderError(f"--out must be a folder; {display_path(Path(out))} is a file")
    if scheduler is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(str(scheduler))
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None:
            raise RenderError(f"scheduler must be an address such as tcp://HOST:8786, got {str(scheduler)!r}")


def render(cases_dir: str | Path = "cases", out: str | Path = "reports", jobs: int = 2, case_ids=None,
           no_input: bool = False, timeout: float = 600, progress: bool = True,
           notebooks: str | Path | None = None, force: bool = False, engine: str | None = None,
           scheduler: str | None = None) -> pd.DataFrame:
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
        Only these cases (the portfolio report covers them too).
    no_input : bool
        Hide code cells in the HTML (for executive readers).
    timeout : float
        Seconds one cell may run before its report is stopped and reported.
    progress : bool
        Show a progress bar.
    notebooks : path, optional
        A folder with your own ``case_report.ipynb`` and
        ``portfolio_report.ipynb`` (default: casekit's ``notebooks/``).
    force : bool
        Render every report, even those whose inputs are unchanged.
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

    Raises
    ------
    RenderError
        Before any kernel starts: unknown cases, bad parameters, settings
        that cannot make a run (:func:`check_run_settings`), an unreachable
        scheduler.
    RenderInterrupted
        On Ctrl-C: running reports are stopped with their kernels, nothing
        half-written is left, and the index lists what finished.

    Notes
    -----
    A failing report never stops the others. Every file is written under a
    temporary name and renamed when complete, so a finished name never holds
    a half-written file. Cases with validation problems are reported as
    failed without starting a kernel, and left out of the portfolio report.
    ``out/manifest.json`` records a fingerprint of each finished report's
    inputs (its case files, the notebook, casekit's code, the parameters);
    a report whose fingerprint is unchanged is skipped unless ``force``.
    """
    check_run_settings(out, jobs, timeout, scheduler)
    engine = engine or ("casekit" if can_fork() else "nbclient")
    if engine not in ENGINES:
        raise RenderError(f"unknown engine {engine!r}; engines are {', '.join(ENGINES)}")
    if engine == "casekit" and not can_fork():
        raise RenderError("the casekit engine needs os.fork, which this system lacks; use engine='nbclient'")
    cases_dir, out = Path(cases_dir).resolve(), Path(out).resolve()
    notebooks = NOTEBOOKS if notebooks is None else Path(notebooks).resolve()
    for name in (CASE_NOTEBOOK, PORTFOLIO_NOTEBOOK):
        if not (notebooks / name).is_file():
            raise RenderError(f"notebook not found: {notebooks / name}")
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
    out.mkdir(parents=True, exist_ok=True)
    pool = None if scheduler else _start_pool(
        max(1, min(jobs, len(folders) + 1)),
        [str(notebooks / CASE_NOTEBOOK), str(notebooks / PORTFOLIO_NOTEBOOK)] if engine == "casekit" else [])

    outcomes, valid, parsed = [], [], []
    try:
        catalog = kpi_catalog()
        for name, folder in sorted(folders.items()):
            case, found = check_case(folder, catalog)
            if found:
                outcomes.append(_failure(name, "invalid case: " + "; ".join(str(p) for p in found), out))
            else:
                valid.append(name)
                parsed.append(case)
        jobs_to_run = [
            _Job(name, str(notebooks / CASE_NOTEBOOK), {"case_id": name, "cases_dir": str(cases_dir)}, str(out),
                 no_input, timeout, engine)
            for name in valid
        ]
        if valid:
            jobs_to_run.append(_Job(PORTFOLIO, str(notebooks / PORTFOLIO_NOTEBOOK),
                                    {"cases_dir": str(cases_dir), "case_ids": valid}, str(out), no_input, timeout,
                                    engine))
        defer_iri_grammar()  # before papermill imports nbformat
        for notebook in {job.notebook: job for job in jobs_to_run}.values():  # one job per notebook
            check_parameters(Path(notebook.notebook), notebook.parameters)

        previous = {} if force else read_manifest(out)
        data = notebooks.parent / "data"
        prints = {
            job.name: fingerprint(Path(job.notebook), job.parameters, no_input,
                                  [cases_dir / name for name in (valid if job.name == PORTFOLIO else [job.name])]
                                  + ([data] if job.name == PORTFOLIO else []))
            for job in jobs_to_run
        }
        unchanged = [job for job in jobs_to_run if previous.get(job.name, {}).get("fingerprint") == prints[job.name]
                     and (out / f"{job.name}.html").exists() and (out / f"{job.name}.ipynb").exists()]
        outcomes += [{**previous[job.name], "report": job.name, "status": "ok", "error": "", "cell": None,
                      "seconds": 0.0, "skipped": True} for job in unchanged]
        to_run = [job for job in jobs_to_run if job not in unchanged]
        if scheduler:
            outcomes += _run_on_cluster(to_run, scheduler, cases_dir, data, progress)
        elif to_run:
            outcomes += _run_all(to_run, pool, progress)
        interrupted = False
    except _Interrupted as stop:
        outcomes += stop.finished
        interrupted = True
    finally:
        if pool is not None:
            _stop_pool(pool)
    for leftover in out.glob(".*.tmp*"):  # from reports stopped mid-way
        leftover.unlink(missing_ok=True)
    table = pd.DataFrame(outcomes, columns=["report", "status", "error", "cell", "seconds", "headline", "ipynb",
                                            "html", "skipped"])
    table["skipped"] = table["skipped"].eq(True)
    order = table["report"].eq(PORTFOLIO).astype(int).astype(str) + table["report"]  # cases by id, then the portfolio
    table = table.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    write_manifest(out, {row["report"]: {"fingerprint": prints[row["report"]], "headline": row["headline"],
                                         "ipynb": row["ipynb"], "html": row["html"]}
                         for _, row in table.iterrows() if row["status"] == "ok"})
    write_index(table, cases_dir, out, _portfolio(parsed, catalog).cases if parsed else None)
    if interrupted:
        raise RenderInterrupted(table)
    return table


class _Interrupted(Exception):
    def __init__(self, finished: list[dict]):
        super().__init__("interrupted")
        self.finished = finished


def _start_pool(workers: int, notebooks: list[str]) -> ProcessPoolExecutor:
    """Start the render workers' imports now, so that they happen while the cases are validated.

    ``notebooks``: what the workers preload, for the casekit engine. Its workers are forked from a fork
    server that imports and warms up once (``casekit.preloaded``), not once per worker. The nbclient
    engine's workers import nothing ahead, and are started at once.
    """
    if notebooks:
        context = get_context("forkserver")
        context.set_forkserver_preload(["casekit.preloaded"])
        os.environ[PRELOAD_NOTEBOOKS] = os.pathsep.join(notebooks)
        try:
            forkserver.ensure_running()  # starts the server's imports, without waiting for them
        finally:
            del os.environ[PRELOAD_NOTEBOOKS]
    else:
        context = get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_prepare_worker,
                               initargs=(notebooks,))
    if not notebooks:
        for _ in range(workers):
            pool.submit(int)  # the pool starts a process for each task submitted while none is idle
    return pool


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the workers; any still running are only importing (the reports have all been collected)."""
    for process in list((pool._processes or {}).values()):  # None once the pool has been shut down
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_all(jobs_to_run: list[_Job], pool: ProcessPoolExecutor, progress: bool) -> list[dict]:
    """Run the jobs in the pool's worker processes; on Ctrl-C stop them and raise _Interrupted with what finished."""
    from tqdm.auto import tqdm

    results: list[dict] = []
    bar = tqdm(total=len(jobs_to_run), desc="rendering", unit="report", disable=not progress)
    futures: dict = {}
    collected: set = set()
    try:
        longest_first = sorted(jobs_to_run, key=lambda job: job.name != PORTFOLIO)  # so it does not finish last
        futures = {pool.submit(_render_one, job): job for job in longest_first}
        for future in as_completed(futures):
            collected.add(future)
            job = futures[future]
            try:
                results.append(future.result())
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # the worker process itself died
                results.append(_failure(job.name, f"{type(exc).__name__}: {exc}", Path(job.out)))
            bar.update()
    except KeyboardInterrupt:
        # Stop what runs (each worker's papermill shuts its kernel down on KeyboardInterrupt), drop what waits.
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                os.kill(process.pid, signal.SIGINT)
        pool.shutdown(wait=True, cancel_futures=True)
        for future in set(futures) - collected:  # reports that finished while we were stopping
            if future.done() and not future.cancelled() and future.exception() is None:
                results.append(future.result())
        raise _Interrupted(results) from None
    finally:
        bar.close()
        pool.shutdown(wait=True)
    return results


def _run_on_cluster(jobs_to_run: list[_Job], scheduler: str, cases_dir: Path, data: Path, progress: bool) -> list[dict]:
    """Render on a Dask cluster; write each report's files here as they come back."""
    from .cluster import ClusterError, run_on_cluster, store_outputs

    results: list[dict] = []
    try:
        run_on_cluster(jobs_to_run, scheduler, cases_dir, data, progress,
                       lambda job, result: results.append(store_outputs(job, result)))
    except ClusterError as exc:
        raise RenderError(str(exc)) from None
    except KeyboardInterrupt:
        raise _Interrupted(results) from None
    return results


def _prepare_worker(notebooks: list[str]) -> None:
    """Quieten this process, then import what the notebooks need (for the casekit engine) and warm up.

    stderr, which kernels and forked children inherit, goes to /dev/null: imports and kernels log
    start-up warnings there, and on Ctrl-C the traceback of the cell they were running. Errors reach
    the summary through papermill. A worker forked from the fork server finds both done already, and
    follows only notebooks the server was not given (a later render's, in the same session).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    if notebooks:
        new = [notebook for notebook in notebooks if notebook not in _PRELOADED]
        if new:
            preload(new)
            _PRELOADED.update(new)
        _warm_up()


_PRELOADED: set[str] = set()  # notebooks whose imports this process (or its fork server) has followed


def _warm_up() -> None:
    """Do, once per process (a forked one inherits it), the first-use work every report would repeat:
    draw a dated seaborn chart to PNG (fonts, tick locators) and export a small notebook with each kind
    of cell and output a report has (templates, the code highlighter, the Markdown and HTML sanitiser).
    Only caches change; no figure is left open."""
    global _WARM
    if _WARM:
        return
    import matplotlib.pyplot as plt
    import seaborn as sns

    from .inline import figure_png

    data = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=24, freq="MS"), "value": range(24),
                         "phase": ["before"] * 12 + ["after"] * 12})
    _, ax = plt.subplots()
    sns.lineplot(data=data, x="date", y="value", hue="phase", marker="o", ax=ax)
    ax.set_title("warm-up")
    png = figure_png(ax.figure)
    plt.close("all")
    for no_input in (False, True):
        _exporter(no_input).from_notebook_node(_sample_notebook(data.head(), png))
    _WARM = True


_WARM = False  # whether _warm_up has run in this process (or in the fork server it was forked from)


def _sample_notebook(table: pd.DataFrame, png: str):
    """An executed notebook with a Markdown cell and a code cell whose outputs are text, a table and a chart."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    code = new_code_cell("%matplotlib inline\nimport pandas as pd\n\nprint(len(table))  # rows\ntable", outputs=[
        new_output("stream", name="stdout", text="5\n"),
        new_output("execute_result", {"text/plain": table.to_string(), "text/html": table.to_html()},
                   execution_count=1),
        new_output("display_data", {"image/png": png, "text/plain": "<Figure>"}),
    ], execution_count=1)
    markdown = new_markdown_cell("## Warm-up\n\nA *short* note with `code` and a [link](#warm-up):\n\n- one\n- two")
    language = {"name": "python", "pygments_lexer": "ipython3", "codemirror_mode": {"name": "ipython", "version": 3}}
    return new_notebook(cells=[markdown, code], metadata={"language_info": language})


_EXPORTERS: dict = {}


def _exporter(no_input: bool):
    """nbconvert's HTML exporter with casekit's template, made once per worker."""
    if no_input not in _EXPORTERS:
        from nbconvert import HTMLExporter

        _EXPORTERS[no_input] = HTMLExporter(
            extra_template_paths=[str(TEMPLATES)], template_file="casekit_report.html.j2", embed_images=True,
            exclude_input=no_input, exclude_input_prompt=no_input, exclude_output_prompt=no_input)
    return _EXPORTERS[no_input]


def _failure(name: str, error: str, out: Path, cell=None, seconds=0.0, failed_notebook: str = "") -> dict:
    return {"report": name, "status": "failed", "error": error, "cell": cell, "seconds": seconds, "headline": "",
            "ipynb": failed_notebook, "html": "", "folder": out.name}


def _render_one(job: _Job) -> dict:
    """Render one report: with the casekit engine in a child forked from this worker, else here."""
    if job.engine == "casekit":
        return run_forked(_execute_and_export, job)
    return _execute_and_export(job)


def _execute_and_export(job: _Job) -> dict:
    """Run one notebook with papermill and export it to HTML."""
    import papermill

    out = Path(job.out)
    started = time.perf_counter()
    tmp_ipynb = out / f".{job.name}.tmp.ipynb"
    final_ipynb, final_html = out / f"{job.name}.ipynb", out / f"{job.name}.html"
    failed = out / f"{job.name}.failed.ipynb"
    try:
        for attempt in (1, 2):
            try:
                nb = papermill.execute_notebook(
                    job.notebook, str(tmp_ipynb), parameters=job.parameters,
                    cwd=job.cwd or str(Path(job.notebook).parent), kernel_name="python3", progress_bar=False,
                    request_save_on_cell_execute=False, execution_timeout=job.timeout, log_output=False,
                    engine_name=job.engine,
                )
                break
            except RuntimeError as exc:
                # Kernel processes started at the same moment by other workers can race for the same ports, and
                # one never answers (nteract/papermill#239): no cell has run, so start the report once more.
                if attempt == 2 or not str(exc).startswith(KERNEL_START_FAILURES):
                    raise
    except Exception as exc:
        for stale in (final_ipynb, final_html):
            stale.unlink(missing_ok=True)
        cell = getattr(exc, "exec_count", None)
        evalue = str(getattr(exc, "evalue", exc)).strip()
        message = f"{getattr(exc, 'ename', type(exc).__name__)}: {evalue.splitlines()[0] if evalue else ''}"
        kept = ""
        if tmp_ipynb.exists():
            os.replace(tmp_ipynb, failed)
            kept = failed.name
        return _failure(job.name, message.strip(), out, cell, time.perf_counter() - started, kept)
    body, _ = _exporter(job.no_input).from_notebook_node(nb)
    tmp_html = out / f".{job.name}.tmp.html"
    tmp_html.write_text(body, encoding="utf-8")
    os.replace(tmp_ipynb, final_ipynb)
    os.replace(tmp_html, final_html)
    failed.unlink(missing_ok=True)
    return {"report": job.name, "status": "ok", "error": "", "cell": None, "seconds": time.perf_counter() - started,
            "headline": _headline(nb), "ipynb": final_ipynb.name, "html": final_html.name, "folder": out.name}


def _headline(nb) -> str:
    """The first line the notebook's ``findings`` cell printed (a kernel may split a print across outputs)."""
    for cell in nb.cells:
        if "findings" in cell.metadata.get("tags", []):
            text = "".join(o["text"] for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            lines = [line for line in text.splitlines() if line.strip()]
            return lines[0].lstrip("- ").strip() if lines else ""
    return ""


def _failure_row(row: pd.Series) -> str:
    e = html.escape
    cell = "" if pd.isna(row["cell"]) else str(int(row["cell"]))
    link = f'<a href="{e(row["ipynb"])}">partial notebook</a>' if row["ipynb"] else ""
    return f"<tr><td>{e(row['report'])}</td><td>{e(row['error'])}</td><td>{cell}</td><td>{link}</td></tr>"


def write_index(table: pd.DataFrame, cases_dir: Path, out: Path, cases: pd.DataFrame | None = None) -> Path:
    """Write ``index.html``: every report with its case's details and headline, then every failure.

    ``cases`` is ``Portfolio.cases`` for (at least) the rendered cases; they are loaded when not given.
    """
    ok_cases = [r for r in table["report"] if r != PORTFOLIO and (table.loc[table["report"] == r, "status"] == "ok").all()]
    if cases is None and ok_cases:
        cases = load_cases(cases_dir, case_ids=ok_cases).cases
    cases = cases.set_index("case_id") if ok_cases else None
    e = html.escape
    rows = []
    for _, row in table[table["status"] == "ok"].iterrows():
        if row["report"] == PORTFOLIO:
            who, sector, maturity = "Portfolio: all organizations", "", ""
        else:
            case = cases.loc[row["report"]]
            who, sector = case["name"], case["sector"]
            before = "not rated" if pd.isna(case["maturity_before"]) else f"ML{case['maturity_before']}"
            latest = "not rated" if pd.isna(case["maturity_latest"]) else f"ML{case['maturity_latest']}"
            maturity = f"{before} → {latest}"
        rows.append(
            f"<tr><td><a href=\"{e(row['html'])}\">{e(who)}</a></td><td>{e(sector)}</td><td>{e(maturity)}</td>"
            f"<td>{e(row['headline'])}</td><td><a href=\"{e(row['html'])}\">HTML</a> · "
            f"<a href=\"{e(row['ipynb'])}\">notebook</a></td></tr>"
        )
    failures = [_failure_row(row) for _, row in table[table["status"] == "failed"].iterrows()]
    failed_section = (
        "<h2>Failures</h2><table><tr><th>report</th><th>error</th><th>cell</th><th></th></tr>" + "".join(failures)
        + "</table>" if failures else "<p>All reports rendered.</p>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>casekit reports</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;margin:2em;}}table{{border-collapse:collapse;}}
td,th{{border-bottom:1px solid #ddd;padding:.4em .8em;text-align:left;vertical-align:top;}}</style></head>
<body><h1>CMMI case reports</h1>
<p>{len(rows)} report(s) rendered, {len(failures)} failed, from {e(str(cases_dir))}.</p>
<table><tr><th>organization</th><th>sector</th><th>maturity</th><th>headline</th><th>files</th></tr>
{''.join(rows)}</table>
{failed_section}
</body></html>
"""
    tmp, final = out / ".index.html.tmp", out / "index.html"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, final)
    return final
