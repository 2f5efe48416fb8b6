"""`casekit new`: a new case folder from a commented template that validates as shipped."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from functools import cache
from pathlib import Path

from ..errors import ArgumentError
from .validation import CASE_ID

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "new_case"
PUBLISHED_TEMPLATE = TEMPLATE.parent / "new_published_case"


def new_case(case_id: str, cases_dir: str | Path = "cases", published: bool = False) -> Path:
    """Create ``cases_dir/case_id`` from casekit's commented template.

    The template's files (``case.yaml`` with a comment on every field,
    example ``kpis.csv``, ``appraisals.csv`` and ``practice_areas.csv``)
    validate as they are; replace their values with the organization's.

    Parameters
    ----------
    case_id : str
        The new case's id and folder name: lowercase letters, digits and
        single hyphens (``acme-bank``).
    cases_dir : path
        The cases folder to create it in (created if missing).
    published : bool
        A published case study instead: ``case.yaml`` with ``source: published`` and a ``reference``,
        and an example ``results.csv`` of reported summaries (before/after, a change, values by level).

    Returns
    -------
    pathlib.Path
        The new case's folder.

    Raises
    ------
    ValueError
        When ``case_id`` is not a lowercase slug (so it can never name a path
        outside ``cases_dir``) or the folder exists already.

    Examples
    --------
    >>> import tempfile, casekit as ck
    >>> folder = ck.new_case("acme-bank", tempfile.mkdtemp())
    >>> ck.validate_cases(folder.parent)
    []
    """
    if not isinstance(case_id, str) or not CASE_ID.match(case_id):
        raise ArgumentError(f"a case id is lowercase letters, digits and single hyphens, such as acme-bank; "
                         f"got {case_id!r}")
    cases_dir = Path(cases_dir)
    folder = cases_dir / case_id
    if os.path.lexists(folder):
        raise ArgumentError(f"{folder} exists already; choose another id or remove it")
    if cases_dir.is_symlink() and not cases_dir.exists():
        raise ArgumentError(f"{cases_dir} is a link to nothing; point it at a folder, or choose another --cases")
    try:
        cases_dir.mkdir(parents=True, exist_ok=True)
        # created like any folder the user makes (the umask's permissions), not mkdtemp's private 0700;
        # mkdir refuses a name that exists, so a planted folder or link is never written into
        staging = cases_dir / f".{case_id}.{secrets.token_hex(6)}.new"
        staging.mkdir()
    except OSError as exc:
        raise ArgumentError(f"cannot make {folder}: {exc.strerror or exc} (--cases {cases_dir} must be a folder "
                            "you can write in)") from None
    try:
        for source in sorted((PUBLISHED_TEMPLATE if published else TEMPLATE).iterdir()):
            text = source.read_text(encoding="utf-8")
            (staging / source.name).write_text(text.replace("{case_id}", case_id), encoding="utf-8")
        os.replace(staging, folder)  # the folder appears complete or not at all
    except OSError as exc:
        raise ArgumentError(f"cannot make {folder}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# the templates' example data, not a client's, and the template each comes from
EXAMPLE_DATA = {"kpis.csv": TEMPLATE, "appraisals.csv": TEMPLATE, "practice_areas.csv": TEMPLATE,
                "results.csv": PUBLISHED_TEMPLATE}


def template_copies(folder: str | Path, digests: dict[str, str] | None = None) -> list[Path]:
    """The example data files in a case ``folder`` that are still exactly as :func:`new_case` wrote them.

    Only plain files of the template's size are read (never a link's target), so checking costs a stat a file.
    With ``digests`` (each file's SHA-256 by name, as validation read it), nothing is read: a file is the
    example's when its digest is.

    Parameters
    ----------
    folder : str or pathlib.Path
        The case folder.
    digests : dict of str to str, optional
        The files' SHA-256 by name, where already read.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> folder = new_case("acme-bank", tempfile.mkdtemp())
    >>> [path.name for path in template_copies(folder)]
    ['kpis.csv', 'appraisals.csv', 'practice_areas.csv']
    """
    found = []
    for name, template in EXAMPLE_DATA.items():
        path, example = Path(folder) / name, template / name
        if digests is not None:
            if digests.get(name) == _example_digest(name):
                found.append(path)
        elif path.is_file() and not path.is_symlink() and path.stat().st_size == example.stat().st_size \
                and path.read_bytes() == example.read_bytes():
            found.append(path)
    return found


@cache
def _example_digest(name: str) -> str:
    """The SHA-256 of the template's example file ``name``: a file casekit ships, read once per process."""
    return hashlib.sha256((EXAMPLE_DATA[name] / name).read_bytes()).hexdigest()
