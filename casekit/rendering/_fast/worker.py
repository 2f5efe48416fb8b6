"""A render worker process: quietened, prepared once (imports and first-use caches), then one report at a time."""

from __future__ import annotations

import os

from ..execute import execute_report
from ..export import html_exporter
from ..jobs import Job, Outcome
from .forking import fork_call, preload


def render_one(job: Job) -> Outcome:
    """Render one report: with the casekit engine in a child forked from this worker (in a process group of
    its own, killed with all it started when the report ends, and held to the job's memory limit), else here."""
    if job.engine == "casekit":
        return fork_call(execute_report, (job,), memory_limit=job.memory_limit)
    return execute_report(job)


def prepare_worker(notebooks: list[str]) -> None:
    """Quieten this process, then import what the notebooks need (for the casekit engine) and warm up.

    stderr, which kernels and forked children inherit, goes to /dev/null: imports and kernels log
    start-up warnings there, and on Ctrl-C the traceback of the cell they were running. Errors reach
    the summary through papermill. Notebooks whose imports this process has followed already are not
    read again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    if notebooks:
        new = [notebook for notebook in notebooks if notebook not in _PRELOADED]
        if new:
            preload(new)
            _PRELOADED.update(new)
        warm_up()


_PRELOADED: set[str] = set()  # notebooks whose imports this process has followed
_WARM = False  # whether warm_up has run in this process


def warm_up() -> None:
    """Do, once per process (a forked one inherits it), the first-use work every report would repeat:
    draw a dated seaborn chart to PNG (fonts, tick locators) and export a small notebook with each kind
    of cell and output a report has (templates, the code highlighter, the Markdown and HTML sanitiser).
    Only caches change; no figure is left open."""
    global _WARM
    if _WARM:
        return
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    from ...report.inline import figure_png

    data = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=24, freq="MS"), "value": range(24),
                         "phase": ["before"] * 12 + ["after"] * 12})
    _, ax = plt.subplots()
    sns.lineplot(data=data, x="date", y="value", hue="phase", marker="o", ax=ax)
    ax.set_title("warm-up")
    png = figure_png(ax.figure)
    plt.close("all")
    for no_input in (False, True):
        html_exporter(no_input).from_notebook_node(_sample_notebook(data.head(), png))
    _WARM = True


def _sample_notebook(table, png: str):
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
