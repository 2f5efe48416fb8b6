"""Where things are: the notebooks and data casekit ships, an analyst's cases folder, and `casekit init`."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from ..errors import CasekitError, ParameterError, display_path

PACKAGE = Path(__file__).resolve().parents[1]  # casekit
NOTEBOOKS = PACKAGE / "notebooks"  # case_report.ipynb, portfolio_report.ipynb, workshop/
DATA = PACKAGE / "data"  # reference datasets (see data/README.md)
# Sample cases, copies of three of the repository's: one starts a `casekit init` project; the workshop reads all.
SAMPLE_CASES = DATA / "cases"
CASES = "cases"
EXAMPLE_CASE = "quantia-tech"


def reference_path(name: str = "sei_performance_results_2006.csv") -> Path:
    """The path of a reference dataset casekit ships, such as the SEI's 2006 performance results.

    Parameters
    ----------
    name : str, default "sei_performance_results_2006.csv"
        The dataset's file name.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pandas as pd
    >>> from casekit.inputs.project import reference_path
    >>> sorted(pd.read_csv(reference_path()).columns)[:2]
    ['category', 'data_points']
    """
    path = DATA / name
    if not path.is_file():
        shipped = sorted(p.name for p in DATA.glob("*.csv"))
        raise CasekitError(f"casekit ships no dataset {name!r}; it ships {', '.join(shipped)}")
    return path


def find_cases(cases_dir: str | Path | None = None) -> Path:
    """The cases folder a notebook should read: ``cases_dir`` as given, or the nearest ``cases/`` above.

    With ``cases_dir=None`` the working directory and then each folder above
    it are searched for a ``cases/`` folder, as git looks for ``.git``: a
    notebook finds its project's cases whether it is opened in JupyterLab
    (working directory: the notebook's folder), run by papermill from the
    project's root, or rendered by casekit.

    Parameters
    ----------
    cases_dir : path, optional
        A cases folder to use as it is; None to search.

    Returns
    -------
    pathlib.Path
        The cases folder, absolute when found by the search.

    Raises
    ------
    ParameterError
        When ``cases_dir`` is not a folder, or none is found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from casekit.inputs.project import find_cases
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "cases").mkdir()
    >>> find_cases(root / "cases") == root / "cases"
    True
    """
    if cases_dir is not None:
        if not isinstance(cases_dir, (str, os.PathLike)):
            raise ParameterError(f"cases_dir must be a folder's path, got {type(cases_dir).__name__} {cases_dir!r}")
        if not Path(cases_dir).is_dir():
            raise ParameterError(f"cases_dir: no folder {display_path(Path(cases_dir))}; "
                                 "pass the folder that holds one folder per case")
        return Path(cases_dir)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CASES).is_dir():
            return folder / CASES
    raise ParameterError(f"cases_dir: no {CASES}/ folder in {here} or above it; pass cases_dir "
                         "(papermill: -p cases_dir PATH)")


INIT_README = """# {name}: CMMI case studies with casekit

    casekit validate          # check every case: file, line, field, what to fix
    casekit render            # every case report and the portfolio report, for readers -> reports/index.html
    casekit render --with-code  # the same with the code shown, for analysts
    casekit render -p alpha 0.1 -p correction bh    # report parameters, as with papermill
    casekit new my-org        # a new case from a commented template

- `cases/` holds one folder per organization; `{example}` is an example to copy or delete.
- `notebooks/` holds editable copies of casekit's report notebooks. `casekit render` uses casekit's own
  notebooks; to render yours, run `casekit render --notebooks notebooks`. Open them in JupyterLab
  (`jupyter lab`): each reads the nearest `cases/` folder.
- Reports go to `reports/` (change it with `--out`).
"""


def init_project(folder: str | Path) -> Path:
    """Create an analyst's project in ``folder``: ``cases/`` with an example case, the report notebooks, a README.

    ``folder`` may exist if it is empty; nothing in it is ever overwritten.
    Afterwards ``cd folder && casekit render`` renders the example case's
    report into ``reports/``; with a second case or more, a portfolio report too.

    Parameters
    ----------
    folder : path
        Where the project goes: a new folder, or an empty one.

    Returns
    -------
    pathlib.Path
        The project's folder, holding ``cases/``, ``notebooks/`` and ``README.md``.

    Raises
    ------
    CasekitError
        When ``folder`` is a file or a folder with anything in it.

    Examples
    --------
    >>> import tempfile, pathlib, casekit as ck
    >>> project = ck.init_project(pathlib.Path(tempfile.mkdtemp()) / "study")
    >>> sorted(p.name for p in project.iterdir())
    ['README.md', 'cases', 'notebooks']
    >>> ck.validate_cases(project / "cases")
    []
    """
    folder = Path(folder)
    if folder.is_symlink():
        raise CasekitError(f"{display_path(folder)} is a symbolic link; casekit makes a project in a folder of its "
                           "own: remove the link, or choose another name")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CasekitError(f"{display_path(folder)} exists and is not an empty folder; choose a new one")
    existing = next((p for p in folder.parents if os.path.lexists(p)), None)
    if existing is not None and not existing.is_dir():
        raise CasekitError(f"cannot make {display_path(folder)}: {display_path(existing)} is a file, not a folder")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        # built beside its target under a name mkdir refuses to reuse, then moved into place whole
        staging = folder.parent / f".{folder.name}.{secrets.token_hex(6)}.new"
        staging.mkdir()
    except OSError as exc:
        raise CasekitError(f"cannot make {display_path(folder)}: {_why(exc, folder.parent)}") from None
    try:
        shutil.copytree(SAMPLE_CASES / EXAMPLE_CASE, staging / CASES / EXAMPLE_CASE)
        (staging / "notebooks").mkdir()
        for notebook in ("case_report.ipynb", "portfolio_report.ipynb"):
            shutil.copyfile(NOTEBOOKS / notebook, staging / "notebooks" / notebook)
        (staging / "README.md").write_text(INIT_README.format(name=folder.resolve().name, example=EXAMPLE_CASE),
                                           encoding="utf-8")
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.replace(staging, folder)
    except OSError as exc:
        raise CasekitError(f"cannot make {display_path(folder)}: {_why(exc, folder.parent)}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _why(exc: OSError, parent: Path) -> str:
    """An OSError in a user's words, naming the folder that is the trouble."""
    import errno

    reasons = {errno.ENOTDIR: f"a part of the path ({display_path(parent)}) is a file, not a folder",
               errno.EACCES: f"{display_path(parent)} is not writable", errno.EROFS: "the disk is read-only",
               errno.ENOSPC: "the disk is full", errno.EEXIST: "something appeared at that name meanwhile"}
    return reasons.get(exc.errno, exc.strerror or str(exc))

