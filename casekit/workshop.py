"""`casekit workshop`: every workshop notebook rendered for learners and for the instructor."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .render import NOTEBOOKS, RenderError, _Job, _run_all, _start_pool, check_parameters, check_run_settings

WORKSHOP = NOTEBOOKS / "workshop"
SOLUTION_TAG = "solution"


def learner_copy(notebook: Path, target: Path) -> Path:
    """Write ``notebook`` without its cells tagged ``solution`` (removed entirely, not hidden)."""
    import nbformat  # here, not at import time: nbformat takes seconds to import

    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [cell for cell in nb.cells if SOLUTION_TAG not in cell.metadata.get("tags", [])]
    nbformat.write(nb, target)
    return target


def render_workshop(out: str | Path = "workshop", jobs: int = 2, timeout: float = 600, progress: bool = True,
                    notebooks: str | Path | None = None, cases_dir: str | Path | None = None) -> pd.DataFrame:
    """Render each workshop notebook twice: ``out/learner/`` and ``out/instructor/``, ipynb and HTML.

    The learner rendering is run from a copy without the cells tagged
    ``solution`` (so neither their code nor their output is in it) with
    ``solutions=False``; the instructor rendering runs the whole notebook
    with ``solutions=True``. Both run with papermill, like the reports, and
    get ``cases_dir`` as an absolute path (default: casekit's ``cases/``), so
    the rendered notebooks run again from wherever they are copied.

    Returns
    -------
    pandas.DataFrame
        One row per rendering: ``audience, report, status, error, cell,
        seconds, ipynb, html``.
    """
    check_run_settings(out, jobs, timeout)
    source = WORKSHOP if notebooks is None else Path(notebooks).resolve()
    found = sorted(source.glob("*.ipynb"))
    if not found:
        raise RenderError(f"no workshop notebooks in {source}")
    out = Path(out).resolve()
    cases = (NOTEBOOKS.parent / "cases" if cases_dir is None else Path(cases_dir)).resolve()
    staging = Path(tempfile.mkdtemp(prefix="casekit-learner-"))
    try:
        jobs_to_run = []
        for notebook in found:
            check_parameters(notebook, {"solutions": True, "cases_dir": str(cases)})
            for audience, solutions in (("learner", False), ("instructor", True)):
                folder = out / audience
                folder.mkdir(parents=True, exist_ok=True)
                path = learner_copy(notebook, staging / notebook.name) if audience == "learner" else notebook
                parameters = {"solutions": solutions, "cases_dir": str(cases)}
                jobs_to_run.append(_Job(notebook.stem, str(path), parameters, str(folder), False, timeout,
                                        cwd=str(source)))
        outcomes = _run_all(jobs_to_run, _start_pool(max(1, min(jobs, len(jobs_to_run))), []), progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    table = pd.DataFrame(outcomes).rename(columns={"folder": "audience"})
    columns = ["audience", "report", "status", "error", "cell", "seconds", "ipynb", "html"]
    return table[columns].sort_values(["report", "audience"], ignore_index=True)
