"""`casekit workshop`: every workshop notebook rendered for learners and for the instructor, as handouts that
run wherever they are unpacked (each audience's folder holds the cases its notebooks read).

It writes under the same contract as ``casekit render``: one run at a time (the lock), everything rendered
into a private staging folder first, and only then moved into ``--out``; a file casekit did not write is
never replaced (a run that would have to is refused by name, even with ``--force``), no link in ``--out`` is
followed, and a rendering that fails keeps the last good one. ``manifest.json`` records what it wrote.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pandas as pd

from ..atomic import is_temporary
from ..errors import CaseError, RenderError, display_path
from ..inputs.casefiles import CASE_FILES, plain_file_problem
from ..inputs.project import CASES, NOTEBOOKS, SAMPLE_CASES
from ..inputs.validation import case_folders, validate_cases
from .jobs import OK, Job, report_files
from .outputs import (
    IGNORED,
    LOCK,
    MANIFEST,
    STAGING_MARK,
    STAGING_PREFIX,
    digest,
    locked,
    refuse_foreign,
    staging_folder,
    write_text_atomically,
)
from .parameters import check_parameters, check_run_settings, declared_parameters
from .runners import LocalRunner, with_progress

WORKSHOP = NOTEBOOKS / "workshop"
SOLUTION_TAG = "solution"
AUDIENCES = (("learner", False), ("instructor", True))
WORKSHOP_FORMAT = "casekit-workshop-1"
GUIDE_SOURCE = "README.md"  # in the workshop's notebooks folder: the facilitator guide
GUIDE = "facilitator_guide"  # written beside the instructor's handouts, as .md and .html


def _learner_copy(notebook: Path, target: Path) -> Path:
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
                    runner=None, force: bool = False) -> pd.DataFrame:
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
    force : bool
        Write into an ``out`` that holds files casekit did not write,
        beside them; a file at a name casekit writes is never replaced.

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

    Examples
    --------
    A workshop of one notebook of your own, whose solution is kept from the learners:

    >>> import pathlib, tempfile, nbformat, casekit as ck
    >>> mine = pathlib.Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("solutions = False", metadata={"tags": ["parameters"]}),
    ...     nbformat.v4.new_code_cell("print(6 * 7)", metadata={"tags": ["solution"]})])
    >>> nbformat.write(nb, mine / "01_multiply.ipynb")
    >>> table = ck.render_workshop(pathlib.Path(tempfile.mkdtemp()) / "out", notebooks=mine, progress=False)
    >>> sorted(zip(table["audience"], table["status"]))
    [('instructor', 'ok'), ('learner', 'ok')]
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
    case_ids = sorted(folder.name for folder in case_folders(cases, []))
    planned_files = {f"{audience}/{file}" for audience, _ in AUDIENCES for notebook in found
                     for file in report_files(notebook.stem)}
    planned_files |= {f"{audience}/{CASES}/{case_id}/{name}" for audience, _ in AUDIENCES for case_id in case_ids
                      for name in CASE_FILES}
    guide = source / GUIDE_SOURCE
    if guide.is_file() and not guide.is_symlink():
        planned_files |= {f"instructor/{GUIDE}.md", f"instructor/{GUIDE}.html"}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot make --out {display_path(out)}: {exc.strerror}") from None
    with locked(out), staging_folder(out) as staging:
        recorded = _read_workshop_manifest(out)
        foreign = _foreign(out, recorded)
        clashes = [name for name in foreign if name in planned_files or name == MANIFEST
                   or any(planned.startswith(name + "/") for planned in planned_files)]
        refuse_foreign(out, foreign, clashes, force)
        planned = []
        for audience, _ in AUDIENCES:
            _copy_cases(cases, case_ids, staging / audience / CASES)
        if f"instructor/{GUIDE}.md" in planned_files:
            _write_guide(guide, staging / "instructor")
        for notebook in found:
            declared = declared_parameters(notebook)
            for audience, solutions in AUDIENCES:
                parameters = {"solutions": solutions, "cases_dir": CASES}
                parameters = {name: value for name, value in parameters.items() if name in declared}
                check_parameters(notebook, parameters)
                path = _learner_copy(notebook, staging / f"{notebook.stem}.learner.ipynb") if not solutions \
                    else notebook
                planned.append(Job(notebook.stem, str(path), parameters, str(staging / audience), False, timeout,
                                   cwd=str(staging / audience), title=f"{_page_title(notebook)} ({audience})"))
        runner = runner or LocalRunner(max(1, min(jobs, len(planned))))
        try:
            outcomes = list(with_progress(runner.run(planned), len(planned), "rendering the workshop", progress))
        finally:
            runner.close()
        written = _publish(staging, out, recorded, outcomes)
        write_text_atomically(out, MANIFEST, json.dumps({"format": WORKSHOP_FORMAT, "files": written}, indent=1,
                                                        sort_keys=True))
    table = pd.DataFrame([{**outcome.row(), "audience": outcome.folder} for outcome in outcomes])
    columns = ["audience", "report", "status", "error", "cell", "seconds", "ipynb", "html"]
    return table[columns].sort_values(["report", "audience"], ignore_index=True)



def _page_title(notebook: Path) -> str:
    r"""A workshop page's title: its notebook's first heading without the timing, else its file's name.

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "01_read.ipynb"
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
    ...     "# Workshop 1 — Read a case (about 40 minutes)\n\nText.")]), path)
    >>> _page_title(path)
    'Workshop 1 — Read a case'
    """
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"\s*\((about )?[\d\s–-]+ ?min(ute)?s?\)\s*$", "", line[2:].strip())
    return notebook.stem.replace("_", " ")


def _write_guide(source: Path, folder: Path) -> None:
    """The facilitator guide beside the instructor's handouts, as Markdown and as a page."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    text = source.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{GUIDE}.md").write_text(text, encoding="utf-8")
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), "Facilitator guide")
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<style>body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;"
            "line-height:1.5;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
            "text-align:left;vertical-align:top}code{background:#f3f3f3;padding:0 .2em}"
            "a.anchor-link{visibility:hidden;text-decoration:none;margin-left:.2em}"
            ":is(h1,h2,h3):hover a.anchor-link{visibility:visible}</style></head>"
            f"<body>{markdown2html_mistune(text)}</body></html>\n")
    (folder / f"{GUIDE}.html").write_text(page, encoding="utf-8")


def _copy_cases(cases: Path, case_ids: list[str], target: Path) -> None:
    """Copy the files casekit reads of each case (plain files only: never a link, a FIFO or a device)."""
    for case_id in case_ids:
        (target / case_id).mkdir(parents=True)
        for name in CASE_FILES:
            source = cases / case_id / name
            if os.path.lexists(source) and plain_file_problem(source) is None:
                (target / case_id / name).write_bytes(source.read_bytes())


def _read_workshop_manifest(out: Path) -> dict[str, str]:
    """The files an earlier ``casekit workshop`` wrote into ``out`` (relative path: sha256); empty if none."""
    path = out / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != WORKSHOP_FORMAT or not isinstance(data.get("files"), dict):
        return {}
    return {name: sha for name, sha in data["files"].items() if isinstance(name, str) and isinstance(sha, str)
            and ".." not in Path(name).parts and not Path(name).is_absolute()}


def _foreign(out: Path, recorded: dict[str, str]) -> list[str]:
    """What is in ``out`` that casekit did not write, by path relative to ``out``: files not recorded with
    their content, and any link (never followed)."""
    found = []
    for root, folders, files in os.walk(out):
        here = Path(root)
        for name in list(folders):
            path = here / name
            relative = path.relative_to(out).as_posix()
            if path.is_symlink():
                found.append(relative)
                folders.remove(name)
            elif here == out and name.startswith(STAGING_PREFIX) and (path / STAGING_MARK).is_file():
                folders.remove(name)
        for name in files:
            path = here / name
            relative = path.relative_to(out).as_posix()
            if here == out and (name in (LOCK,) or name in IGNORED or is_temporary(name)):
                continue
            if here == out and name == MANIFEST and (recorded or not path.is_symlink() and _is_workshop_manifest(path)):
                continue
            if path.is_symlink() or recorded.get(relative) is None or not path.is_file() \
                    or digest(path) != recorded[relative]:
                found.append(relative)
    return sorted(found)


def _is_workshop_manifest(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == WORKSHOP_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _publish(staging: Path, out: Path, recorded: dict[str, str], outcomes) -> dict[str, str]:
    """Move what the run made from ``staging`` into ``out`` and return every file casekit now has there.

    A rendering that failed keeps its last good files (its failed notebook goes beside them); files an
    earlier run wrote that this one no longer makes are removed if they are unchanged.
    """
    failed = {(Path(o.folder).name, o.report) for o in outcomes if o.status != OK}
    keep_old = {f"{audience}/{file}" for audience, report in failed for file in report_files(report)[:2]}
    written = {name: sha for name, sha in recorded.items() if name in keep_old}
    for audience, _ in AUDIENCES:
        for path in sorted((staging / audience).rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            relative = path.relative_to(staging).as_posix()
            if relative in keep_old:
                continue
            target = out / relative
            for parent in reversed(target.relative_to(out).parents[:-1]):
                folder = out / parent
                if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                    raise RenderError(f"{display_path(folder)} is not a folder casekit made; nothing more was "
                                      "written")
                folder.mkdir(exist_ok=True)
            written[relative] = digest(path)
            os.replace(path, target)
    for name, sha in recorded.items():
        path = out / name
        if name not in written and path.is_file() and not path.is_symlink() and digest(path) == sha:
            path.unlink()
    return written
