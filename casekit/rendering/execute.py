"""Render one report: run its notebook with papermill, export it to HTML, and write both atomically."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .export import html_exporter
from .jobs import OK, Failure, Job, Outcome

# Kernel processes started at the same moment by other workers can race for the same ports, and one never
# answers (nteract/papermill#239): no cell has run then, so the report is started once more.
KERNEL_START_FAILURES = ("Kernel didn't respond", "Kernel died before replying to kernel_info")


def execute_report(job: Job) -> Outcome:
    """Run ``job.notebook`` with papermill into ``job.out/<name>.ipynb`` and export ``<name>.html``.

    A failure keeps the partial notebook as ``<name>.failed.ipynb`` and
    names the failing cell, and leaves an earlier finished report alone; a
    success removes an earlier failure's partial notebook.

    Parameters
    ----------
    job : Job
        The report.

    Returns
    -------
    Outcome

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> cells = [nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
    ...          nbformat.v4.new_code_cell("print(n * 2)")]
    >>> nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
    ...                "language": "python", "display_name": "Python 3"}}), folder / "tiny.ipynb")
    >>> outcome = execute_report(Job("tiny", str(folder / "tiny.ipynb"), {"n": 21}, out=str(folder), engine="casekit"))
    >>> outcome.status, sorted(p.name for p in folder.iterdir())
    ('ok', ['tiny.html', 'tiny.ipynb'])
    """
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
                    cwd=job.cwd or str(Path(job.notebook).parent), kernel_name="python3", language="python",
                    progress_bar=False,
                    request_save_on_cell_execute=False, execution_timeout=job.timeout, log_output=False,
                    engine_name=job.engine,
                )
                break
            except RuntimeError as exc:
                if attempt == 2 or not str(exc).startswith(KERNEL_START_FAILURES):
                    raise
    except Exception as exc:
        kept = ""
        if tmp_ipynb.exists():
            os.replace(tmp_ipynb, failed)
            kept = failed.name
        return Outcome.failed(job.name, Failure.from_exception(exc), out.name, time.perf_counter() - started, kept)
    if job.title:
        nb.metadata["title"] = job.title  # nbconvert's <title>
    body, resources = html_exporter(job.no_input).from_notebook_node(nb)
    tmp_html = out / f".{job.name}.tmp.html"
    tmp_html.write_text(body, encoding="utf-8")
    os.replace(tmp_ipynb, final_ipynb)
    os.replace(tmp_html, final_html)
    failed.unlink(missing_ok=True)
    return Outcome(job.name, OK, out.name, time.perf_counter() - started, resources.get("headline", ""),
                   final_ipynb.name, final_html.name, improved=tuple(resources.get("improved", ())),
                   worsened=tuple(resources.get("worsened", ())))
