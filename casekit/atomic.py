"""Files that appear whole or not at all, with the permissions of a file the user made.

A temporary file is named ``.<name>.<pid>-<random>.casekit-tmp`` beside its target: one that a killed
process left behind is known by that name and by its writer no longer running, and removed by the next run
(:func:`remove_leftovers`); nobody else's file is ever taken for one.
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

SUFFIX = ".casekit-tmp"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)-[0-9a-f]{12}" + re.escape(SUFFIX) + r"(\.[a-z]{1,5})?$")


@contextmanager
def replaced(path: Path, suffix: str = ""):
    """A temporary path beside ``path`` to write; when the block ends well it becomes ``path``, with the
    umask's permissions (not mkstemp's private ones), and when it fails it is removed: a failure never
    leaves half a file or destroys the last good one. The temporary is created exclusively (never through a
    link); ``path`` itself, if a link, is replaced, not written through. ``suffix`` ends the temporary's
    name, for writers that read the format from it (``".xlsx"``).

    Parameters
    ----------
    path : pathlib.Path
        The file to write.
    suffix : str, default ""
        The end of the temporary's name.

    Yields
    ------
    pathlib.Path
        The temporary to write.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "index.html"
    >>> _ = path.write_text("last good")
    >>> try:
    ...     with replaced(path) as temporary:
    ...         _ = temporary.write_text("half")
    ...         raise OSError("disk full")
    ... except OSError:
    ...     pass
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('last good', ['index.html'])
    """
    temporary = _temporary(Path(path), suffix)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _temporary_name(path: Path, suffix: str = "") -> Path:
    return path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}{SUFFIX}{suffix}"


def _temporary(path: Path, suffix: str = "") -> Path:
    """Create, exclusively and with the umask's permissions, an empty temporary beside ``path``."""
    temporary = _temporary_name(path, suffix)
    mask = os.umask(0)
    os.umask(mask)
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666 & ~mask))
    return temporary


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of :func:`replaced`'s temporaries (a running writer's or a leftover).

    Parameters
    ----------
    name : str
        A file's name.

    Returns
    -------
    bool

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> with replaced(path) as temporary:
    ...     print(is_temporary(temporary.name), is_temporary(path.name))
    True False
    """
    return _LEFTOVER.match(name) is not None


def remove_leftovers(folder: Path) -> list[str]:
    """Remove the temporaries in ``folder`` whose writer has ended (killed before it could remove them);
    return their names. A running writer's are left alone.

    Parameters
    ----------
    folder : pathlib.Path
        The folder.

    Returns
    -------
    list of str
        The names removed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> remove_leftovers(folder)
    []
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _LEFTOVER.match(name)
        if match is None or _running(int(match["pid"])):
            continue
        path = Path(folder) / name
        if path.is_symlink() or path.is_file():
            try:
                path.unlink()
                removed.append(name)
            except OSError:
                pass
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except PermissionError:  # another user's process
        return True
    except (ProcessLookupError, OverflowError):
        return False
    return True


def target_problem(path: Path, force: bool) -> str | None:
    """Why ``path`` cannot be written by casekit (or None): a missing or read-only folder, a folder, a link
    (never written through, even with ``force``), something that is not a regular file, or an existing file
    without ``force``.

    Parameters
    ----------
    path : pathlib.Path
        The file casekit would write.
    force : bool
        Whether an existing file may be replaced.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "kpis.csv").write_text("period,kpi,value\\n")
    >>> target_problem(folder / "kpis.csv", force=False)  # doctest: +ELLIPSIS
    '.../kpis.csv exists; casekit never overwrites it unless told: --force replaces it'
    >>> target_problem(folder / "kpis.csv", force=True) is None
    True
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        return f"{parent} is not a folder" if parent.exists() else f"the folder {parent} does not exist"
    if path.is_symlink():
        return f"{path} is a symbolic link; casekit does not write through links: remove it, or choose another name"
    if path.is_dir():
        return f"{path} is a folder; name a file"
    if path.exists() and not path.is_file():
        return f"{path} is not a regular file (a pipe or a device?); choose another name"
    if path.exists() and not force:
        return f"{path} exists; casekit never overwrites it unless told: --force replaces it"
    if not os.access(parent, os.W_OK):
        return f"cannot write in {parent}: the folder is read-only"
    return None


@contextmanager
def replaced_together(paths: list[Path]):
    """Temporaries for several files that then replace them all, or none: if one rename fails, those already
    renamed get their old content back (from a hard link kept meanwhile), and every temporary is removed.

    Parameters
    ----------
    paths : list of pathlib.Path
        The files to write.

    Yields
    ------
    list of pathlib.Path
        One temporary per path, in order.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with replaced_together([folder / "case.yaml", folder / "kpis.csv"]) as (yaml, kpis):
    ...     _ = yaml.write_text("id: acme"), kpis.write_text("period,kpi,value")
    >>> sorted(p.name for p in folder.iterdir())
    ['case.yaml', 'kpis.csv']
    """
    paths = [Path(p) for p in paths]
    temporaries, backups, done = [], {}, []
    try:
        for path in paths:
            temporaries.append(_temporary(path))
        yield temporaries
        for path in paths:
            if path.is_file() and not path.is_symlink():
                backup = _temporary_name(path)
                os.link(path, backup)
                backups[path] = backup
        try:
            for path, temporary in zip(paths, temporaries):
                os.replace(temporary, path)
                done.append(path)
        except BaseException:
            for path in done:
                if path in backups:
                    os.replace(backups.pop(path), path)
                else:
                    path.unlink(missing_ok=True)
            raise
    finally:
        for leftover in [*temporaries, *backups.values()]:
            leftover.unlink(missing_ok=True)
