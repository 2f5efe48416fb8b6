"""`casekit workshop`: every workshop notebook rendered for learners and for the instructor, as handouts that
run wherever they are unpacked (each audience's folder holds the cases its notebooks read)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import CaseError, RenderError, display_path
from ..project import CASES, NOTEBOOKS, SAMPLE_CASES
from ..validation import validate_cases
from .jobs import Job
from .parameters import check_parameters, check_run_settings, declared_parameters
from .runners import LocalRunner, with_progress

WORKSHOP = NOTEBOOKS / "workshop"
SOLUTION_TAG = "solution"
AUDIENCES = (("learner", False), ("instructor", True))


def learner_copy(notebook: Path, target: Path) -> Path:
    """Write ``notebook`` without its cells tagged ``solution`` (removed entirely, not hidden).

    nbconvert's TagRemovePreprocessor does the removing.
    """
    import nbformat
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(notebook, as_version=4)
    nb, _ = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True).preprocess(nb, {})
    nbformat.write(nb, target)
    return target


def render_workshop(out: str | Path = "workshop", jobs: int = 2, timeout: float = 600, progress: bool = True,
                    notebooks: str | Path | None = None, cases_dir: str | Path | None = None,
                    runner=None) -> pd.DataFrame:
    """Render each workshop notebook twice: ``out/learner/`` and ``out/instructor/``, ipynb and HTML.

    The learner rendering runs a copy without the cells tagged ``solution``
    (so neither their code nor their output is in it) with
    ``solutions=False``; the instructor rendering runs the whole notebook
    with ``solutions=True``. Both run with papermill, like the reports.

    Each audience's folder gets a copy of the cases (``cases/``) and the
    notebooks read them by that relative path, so a handout folder runs
    again wherever it is copied or unpacked.

    Parameters
    ----------
    cases_dir : path, optional
        The cases the notebooks read (default: the sample cases casekit
        ships, which casekit's workshop notebooks are written about).
    notebooks : path, optional
        A folder of your own workshop notebooks (default: casekit's).

    Returns
    -------
    pandas.DataFrame
        One row per rendering: ``audience, report, status, error, cell,
        seconds, ipynb, html``.

    Raises
    ------
    CaseError
        When a case in ``cases_dir`` is invalid (``.problems`` lists them).
    RenderError
        When there are no notebooks, or a setting cannot make a run.
    """
    check_run_settings(out, jobs, timeout)
    source = WORKSHOP if notebooks is None else Path(notebooks).resolve()
    found = sorted(source.glob("*.ipynb"))
    if not found:
        raise RenderError(f"no workshop notebooks in {display_path(source)}")
    cases = SAMPLE_CASES if cases_dir is None else Path(cases_dir).resolve()
    problems = validate_cases(cases)
    if problems:
        raise CaseError(problems)
    out = Path(out).resolve()
    staging = Path(tempfile.mkdtemp(prefix="casekit-learner-"))
    planned = []
    try:
        for audience, solutions in AUDIENCES:
            folder = out / audience
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copytree(cases, folder / CASES, dirs_exist_ok=True)
        for notebook in found:
            declared = declared_parameters(notebook)
            for audience, solutions in AUDIENCES:
                parameters = {"solutions": solutions, "cases_dir": CASES}
                parameters = {name: value for name, value in parameters.items() if name in declared}
                check_parameters(notebook, parameters)
                path = learner_copy(notebook, staging / notebook.name) if not solutions else notebook
                planned.append(Job(notebook.stem, str(path), parameters, str(out / audience), False, timeout,
                                   cwd=str(out / audience)))
        runner = runner or LocalRunner(max(1, min(jobs, len(planned))))
        try:
            outcomes = list(with_progress(runner.run(planned), len(planned), "rendering the workshop", progress))
        finally:
            runner.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    table = pd.DataFrame([{**outcome.row(), "audience": outcome.folder} for outcome in outcomes])
    columns = ["audience", "report", "status", "error", "cell", "seconds", "ipynb", "html"]
    return table[columns].sort_values(["report", "audience"], ignore_index=True)

