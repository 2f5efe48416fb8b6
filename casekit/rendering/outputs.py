"""The output folder: what casekit owns in it, one run at a time, and reports replaced only by finished ones.

A run takes the folder's lock, renders every report into a private staging folder inside it, checks each
finished report (its notebook parses, its page is whole) and only then renames it into place. A report that
fails keeps its last good copy; its failed notebook goes beside it. casekit writes only names it owns (those
recorded in ``manifest.json``, the index, the lock) and removes only what it wrote; ``--force`` lets it write
beside other files, never over them.

After a crash (``kill -9``, a full disk) or with a damaged manifest, casekit knows its own reports again by
their content (:func:`survey`): a notebook papermill ran with casekit's parameters for that report, and a
page made from casekit's template. Those are recovered into the manifest; nothing else is taken for casekit's.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import is_temporary, remove_leftovers, replaced
from ..errors import RenderError, display_path
from .export import PORTFOLIO, headline, verdict_kpis
from .jobs import FAILED, OK, Failure, Outcome

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK = ".casekit.lock"
STAGING_PREFIX = ".casekit-staging-"
FORMAT = "casekit-manifest-1"
RESERVED = ("index", "manifest", "portfolio")  # names of casekit's own pages: no case report may take them
IGNORED = (".DS_Store", "Thumbs.db", "desktop.ini")  # what file browsers leave in any folder
STAGING_MARK = ".casekit-staging"  # a file in every staging folder: how a leftover one is known to be casekit's
# in the head of every page casekit writes (nbconvert may write the attributes in either order)
GENERATOR = re.compile(rb'<meta (name="generator" content="casekit"|content="casekit" name="generator")\s*/?>')
MAX_RECOGNISED_BYTES = 200 * 10**6  # a notebook larger than this is not read to recognise it


def check_out_folder(out: Path, cases_dir: Path) -> None:
    """Refuse an output folder that is the filesystem's root, the cases folder, or inside it.

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    cases_dir : pathlib.Path
        The cases folder.

    Raises
    ------
    RenderError
        With the folder to choose instead.

    Examples
    --------
    >>> import pathlib
    >>> check_out_folder(pathlib.Path("reports"), pathlib.Path("cases"))
    >>> check_out_folder(pathlib.Path("cases/reports"), pathlib.Path("cases"))
    Traceback (most recent call last):
    ...
    casekit.errors.RenderError: --out cases/reports is inside the cases folder; reports go in a folder of their own, such as reports
    """
    out, cases_dir = Path(out).resolve(), Path(cases_dir).resolve()
    if out == Path(out.anchor):
        raise RenderError(f"--out {out} is the filesystem's root; choose a folder of its own, such as reports")
    if out == cases_dir or cases_dir in out.parents:
        raise RenderError(f"--out {display_path(out)} is inside the cases folder; reports go in a folder of their "
                          "own, such as reports")


@dataclass
class Survey:
    """What is in an output folder: the reports casekit wrote (``entries``, as the manifest records them, with
    any it recognised), the names it owns, what it did not write (``foreign``) and what to tell the user."""

    entries: dict
    owned: set
    foreign: list
    notes: list = field(default_factory=list)


def survey(out: Path, casekit_was_here: bool = False) -> Survey:
    """Read ``out``: the manifest, the reports casekit recognises that it does not record, and the rest.

    ``casekit_was_here`` (the lock file was there before this run) makes a damaged ``manifest.json``
    casekit's own, to be rebuilt; without it, or a recognised report, an unreadable one is the user's.

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    casekit_was_here : bool, default False
        The lock file was there before this run.

    Returns
    -------
    Survey

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "notes.txt").write_text("mine")
    >>> found = survey(out)
    >>> found.entries, found.foreign
    ({}, ['notes.txt'])
    """
    if not out.is_dir():
        return Survey({}, set(), [])
    data, damage = _manifest_state(out)
    entries = _entries(data) if data is not None else {}
    recorded = {name for entry in entries.values() for name in entry.get("files", {})}
    recovered = recognise(out, recorded)
    notes = []
    owned = {LOCK} | recorded
    if data is not None:
        owned.add(MANIFEST)
    elif damage and (casekit_was_here or recovered):
        owned.add(MANIFEST)
        notes.append(f"{MANIFEST} was damaged ({damage}); it is rebuilt from the {len(recovered)} report(s) "
                     "casekit recognised in the folder")
    if recovered and data is not None:
        notes.append(f"recovered {len(recovered)} report(s) that a run which did not finish had written: "
                     f"{', '.join(sorted(recovered)[:5])}{' …' if len(recovered) > 5 else ''}")
    for name, entry in recovered.items():
        entries.setdefault(name, entry)
        owned |= set(entry["files"])
    index = out / INDEX
    if data is not None and (data.get("index") is None or (index.is_file() and not index.is_symlink()
                                                           and digest(index) == data["index"])):
        owned.add(INDEX)  # an index recorded by hash; a manifest from before hashes were kept vouches for it
    elif _made_by_casekit(index):
        owned.add(INDEX)
    foreign = sorted(p.name for p in out.iterdir()
                     if p.name not in owned and p.name not in IGNORED and not is_temporary(p.name)
                     and not _staging_leftover(p))
    return Survey(entries, owned, foreign, notes)


def refuse_foreign(out: Path, foreign: list[str], clashes: list[str], force: bool) -> None:
    """Refuse a run that would replace a file casekit did not write (``clashes``, even with ``force``), or,
    without ``force``, one into a folder that holds any (``foreign``).

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    foreign : list of str
        Files in it that casekit did not write.
    clashes : list of str
        Those a report of this run would replace.
    force : bool
        The user allowed writing beside ``foreign``.

    Raises
    ------
    RenderError
        Naming the files and the way out.

    Examples
    --------
    >>> import pathlib
    >>> refuse_foreign(pathlib.Path("reports"), ["notes.txt"], [], force=True)
    >>> refuse_foreign(pathlib.Path("reports"), ["notes.txt"], [], force=False)
    Traceback (most recent call last):
    ...
    casekit.errors.RenderError: --out reports holds files casekit did not write (notes.txt); choose an empty or new folder, or pass --force to write beside them
    """
    if clashes:
        raise RenderError(f"--out {display_path(out)} holds {listed(clashes)}, which casekit did not write and would "
                          "have to replace; casekit never overwrites a file it did not write, even with --force: "
                          "move them, or choose another --out")
    if foreign and not force:
        raise RenderError(f"--out {display_path(out)} holds files casekit did not write ({listed(foreign)}); choose "
                          "an empty or new folder, or pass --force to write beside them")


def listed(names: list[str], shown: int = 5) -> str:
    """The first few names, and how many more.

    Parameters
    ----------
    names : list of str
        The names.
    shown : int, default 5
        How many to name.

    Returns
    -------
    str

    Examples
    --------
    >>> listed(["a", "b"]), listed([f"f{k}" for k in range(8)], shown=2)
    ('a, b', 'f0, f1 and 6 more')
    """
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _manifest_state(out: Path) -> tuple[dict | None, str]:
    """The manifest as casekit wrote it (or None), and why a ``manifest.json`` that is there cannot be read."""
    path = out / MANIFEST
    if not os.path.lexists(path):
        return None, ""
    data = _manifest_data(out)
    if data is not None:
        return data, ""
    if path.is_symlink() or not path.is_file():
        return None, ""  # a link or a folder is never casekit's manifest, damaged or not
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"not JSON: {str(exc)[:80]}"
    return None, "not casekit's format"


def recognise(out: Path, recorded: set[str]) -> dict[str, dict]:
    """Manifest entries for the reports in ``out`` that casekit wrote but does not record (a run killed before
    it wrote its manifest, or a damaged manifest): each notebook that papermill ran with casekit's parameters
    for the report of its name, with the page casekit's template made from it.

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    recorded : set of str
        File names the manifest already records.

    Returns
    -------
    dict of str to dict
        A manifest entry per recognised report.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "acme.ipynb").write_text("{}")  # not a notebook papermill ran for casekit
    >>> recognise(out, set())
    {}
    """
    found: dict[str, dict] = {}
    try:
        names = sorted(p.name for p in out.iterdir())
    except OSError:
        return found
    for file in names:
        if file in recorded or not file.endswith(".ipynb"):
            continue
        failed = file.endswith(".failed.ipynb")
        name = file[: -len(".failed.ipynb" if failed else ".ipynb")]
        notebook = _casekit_notebook(out / file, name)
        if notebook is None:
            continue
        entry = found.setdefault(name, {"status": FAILED, "files": {}, "headline": "", "ipynb": "", "html": "",
                                        "failed_ipynb": "", "error": "", "cell": None, "fingerprint": None,
                                        "improved": [], "worsened": []})
        entry["files"][file] = digest(out / file)
        if failed:
            entry["failed_ipynb"] = file
            continue
        page = out / f"{name}.html"
        if page.name not in recorded and _made_by_casekit(page):
            import nbformat

            node = nbformat.from_dict(notebook)
            improved, worsened = verdict_kpis(node)
            entry.update(status=OK, ipynb=file, html=page.name, headline=headline(node), improved=improved,
                         worsened=worsened)
            entry["files"][page.name] = digest(page)
    for entry in found.values():
        if entry["status"] == OK:
            entry.pop("failed_ipynb")
            entry.pop("error")
    return found


def _casekit_notebook(path: Path, name: str) -> dict | None:
    """The notebook at ``path`` if papermill ran it with casekit's parameters for report ``name``, else None."""
    try:
        info = os.lstat(path)
        if not os.path.isfile(path) or os.path.islink(path) or info.st_size > MAX_RECOGNISED_BYTES:
            return None
        notebook = json.loads(path.read_bytes())
        parameters = notebook["metadata"]["papermill"]["parameters"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(parameters, dict) or "cases_dir" not in parameters:
        return None
    if parameters.get("case_id") == name or (name == PORTFOLIO and isinstance(parameters.get("case_ids"), list)):
        return notebook
    return None


def _made_by_casekit(page: Path) -> bool:
    """Whether ``page`` is a plain file whose head carries casekit's generator tag."""
    try:
        if page.is_symlink() or not page.is_file():
            return False
        with open(page, "rb") as file:
            return GENERATOR.search(file.read(1 << 16)) is not None
    except OSError:
        return False


def _staging_leftover(path: Path) -> bool:
    return (path.name.startswith(STAGING_PREFIX) and path.is_dir() and not path.is_symlink()
            and (path / STAGING_MARK).is_file())


def _manifest_data(out: Path) -> dict | None:
    """The manifest as casekit wrote it, or None: missing, unreadable, or not casekit's."""
    path = out / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("reports"), dict):
        return data
    return None


def read_manifest(out: Path) -> dict:
    """The manifest's report entries; an unreadable one or one that is not casekit's counts as empty.

    Parameters
    ----------
    out : pathlib.Path
        The output folder.

    Returns
    -------
    dict of str to dict
        Each report's entry by name.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> read_manifest(out)
    {}
    >>> _ = (out / "manifest.json").write_text("not json")
    >>> read_manifest(out)
    {}
    """
    data = _manifest_data(out)
    return {} if data is None else _entries(data)


def _entries(data: dict) -> dict:
    entries = {}
    for name, entry in data["reports"].items():
        if isinstance(name, str) and isinstance(entry, dict) and isinstance(entry.get("files", {}), dict):
            files = {f: h for f, h in entry.get("files", {}).items() if _plain_name(f) and isinstance(h, str)}
            # links in the index come only from here: each must be one of the entry's own files
            links = {key: entry[key] if entry.get(key) in files else "" for key in ("html", "ipynb", "failed_ipynb",
                                                                                    "pdf")}
            text = {key: entry[key] if isinstance(entry.get(key), str) else "" for key in ("headline", "error")}
            entries[name] = {**entry, **links, **text, "files": files}
    return entries


def write_manifest(out: Path, entries: dict, index: str) -> None:
    """Record each report's files (with their hashes), headline, status and inputs' fingerprint, and the index's
    hash; then write the index (``index``, its HTML).

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    entries : dict of str to dict
        Each report's entry by name.
    index : str
        The index page's HTML.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "acme.html").write_text("<html></html>")
    >>> entry = {"files": {"acme.html": digest(out / "acme.html")}, "html": "acme.html", "status": "rendered"}
    >>> write_manifest(out, {"acme": entry}, "<html>index</html>")
    >>> list(read_manifest(out)), (out / "index.html").read_text()
    (['acme'], '<html>index</html>')
    """
    record = {"format": FORMAT, "index": hashlib.sha256(index.encode("utf-8")).hexdigest(), "reports": entries}
    write_text_atomically(out, MANIFEST, json.dumps(record, indent=1, sort_keys=True))
    write_text_atomically(out, INDEX, index)


def present(out: Path, entry: dict) -> dict | None:
    """The entry with only the files still in ``out``; None when none is left (a failure is kept to be listed).

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    entry : dict
        A manifest entry.

    Returns
    -------
    dict or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "acme.html").write_text("<html></html>")
    >>> present(out, {"files": {"acme.html": "...", "acme.ipynb": "..."}, "status": "rendered"})["files"]
    {'acme.html': '...'}
    >>> present(out, {"files": {"gone.html": "..."}, "status": "rendered"}) is None
    True
    """
    files = {name: sha for name, sha in entry.get("files", {}).items() if (out / name).is_file()}
    return {**entry, "files": files} if files or entry.get("status") == FAILED else None


def _plain_name(name) -> bool:
    return isinstance(name, str) and name == Path(name).name and name not in ("", ".", "..")


def digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, as the manifest records each report's files.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "empty").write_bytes(b"")
    >>> digest(out / "empty")[:16]
    'e3b0c44298fc1c14'
    """
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def intact(out: Path, entry: dict) -> bool:
    """Whether every file the entry records is in ``out``, a plain file, with the content casekit wrote.

    Parameters
    ----------
    out : pathlib.Path
        The output folder.
    entry : dict
        A manifest entry.

    Returns
    -------
    bool

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "acme.html").write_text("<html></html>")
    >>> entry = {"files": {"acme.html": digest(out / "acme.html")}}
    >>> intact(out, entry)
    True
    >>> _ = (out / "acme.html").write_text("edited by hand")
    >>> intact(out, entry)
    False
    """
    try:
        return bool(entry.get("files")) and all(
            (out / name).is_file() and not (out / name).is_symlink() and digest(out / name) == sha
            for name, sha in entry["files"].items())
    except OSError:
        return False


def write_text_atomically(folder: Path, name: str, text: str) -> None:
    """Write ``folder/name`` through an exclusively created temporary file, then rename it into place, with
    the permissions the reports have (the umask's, so that whoever may read the reports may read the index).

    Parameters
    ----------
    folder : pathlib.Path
        The folder.
    name : str
        The file's name.
    text : str
        Its text (written as UTF-8).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> write_text_atomically(out, "index.html", "<html></html>")
    >>> sorted(p.name for p in out.iterdir())
    ['index.html']
    """
    with replaced(folder / name) as temporary:
        temporary.write_text(text, encoding="utf-8")


@dataclass
class Lock:
    """A held lock: ``existed`` is True when the lock file was there before (casekit had written here)."""

    existed: bool


@contextmanager
def locked(out: Path):
    """Hold ``out``'s lock for the run: a second run into the same folder is refused, naming the holder.

    A lock file this call made is removed again when the run is refused inside the block (RenderError), so
    that a refusal leaves a user's folder as it was.

    Parameters
    ----------
    out : pathlib.Path
        The output folder.

    Yields
    ------
    Lock
        ``existed``: whether casekit had written here before.

    Raises
    ------
    RenderError
        Another run holds the lock, or the folder cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with locked(out) as lock:
    ...     print(lock.existed)
    ...     with locked(out):
    ...         pass  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    casekit.errors.RenderError: another casekit render (pid ...) is writing to ...; wait for it to finish or choose another --out
    """
    path = out / LOCK
    existed = os.path.lexists(path)
    if path.is_symlink():
        raise RenderError(f"{display_path(path)} is a symbolic link; casekit does not follow links in --out: remove "
                          "it and run again")
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise RenderError(f"cannot write to --out {display_path(out)}: {exc.strerror}") from None
    refused = False
    try:
        try:
            import fcntl

            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no advisory locks here
            pass
        except OSError:
            holder = os.pread(descriptor, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise RenderError(f"another casekit render (pid {holder}) is writing to {display_path(out)}; wait for "
                              "it to finish or choose another --out") from None
        try:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        except OSError as exc:
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
            raise RenderError(f"cannot write to --out {display_path(out)}: {reason}") from None
        try:
            yield Lock(existed)
        except RenderError:
            refused = True
            raise
    finally:
        if refused and not existed:
            path.unlink(missing_ok=True)
        os.close(descriptor)  # releases the lock; the file stays, so that the next run's lock is the same file


@contextmanager
def staging_folder(out: Path):
    """A private folder inside ``out`` (so that renames into place stay on one filesystem), removed after.

    What an earlier run left behind (killed before it could remove it) is removed first: its staging folders,
    known by the mark casekit leaves in each, and its temporaries (:mod:`casekit.atomic`). The lock is held,
    so no other run is using them; a user's folder that only starts with the same name is left alone.

    Parameters
    ----------
    out : pathlib.Path
        The output folder (its lock held).

    Yields
    ------
    pathlib.Path
        The staging folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with staging_folder(out) as staging:
    ...     print(staging.parent == out)
    True
    >>> list(out.iterdir())
    []
    """
    for leftover in out.glob(f"{STAGING_PREFIX}*"):
        if _staging_leftover(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
    remove_leftovers(out)
    try:
        folder = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
        (folder / STAGING_MARK).write_text(str(os.getpid()), encoding="ascii")
    except OSError as exc:
        raise RenderError(f"cannot write to --out {display_path(out)}: {exc.strerror}") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _whole_notebook(path: Path) -> str | None:
    """Why the file is not a whole version 4 notebook (cut short, empty, not one), or None when it is."""
    try:
        notebook = json.loads(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - any unreadable output is a damaged one
        return f"{type(exc).__name__}: {exc}"
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        return "the notebook is not a version 4 notebook with cells"
    return None


def _whole_report(staging: Path, name: str) -> str | None:
    """Why the report in ``staging`` is not whole, or None when it is: the notebook parses as a version 4
    notebook, the page ends. (papermill wrote the notebook with nbformat; its schema is not checked again,
    which would cost more than the rest of publishing.)"""
    problem = _whole_notebook(staging / f"{name}.ipynb")
    if problem is not None:
        return problem
    try:
        page = (staging / f"{name}.html").read_bytes()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    if b"</html>" not in page[-4096:]:
        return "the HTML page is incomplete"
    return None


def publish(outcome: Outcome, staging: Path, out: Path, previous: dict | None) -> tuple[Outcome, dict | None]:
    """Move a report from ``staging`` into ``out`` and return its outcome and manifest entry.

    A finished report replaces the old one only once it is checked whole. A failed one leaves the last good
    copy where it was (the outcome then points at it, and the entry keeps its files) and puts its partial
    notebook beside it. A disk that is full or read-only fails this report with one line; nothing is lost.

    Parameters
    ----------
    outcome : Outcome
        The report's outcome, its files in ``staging``.
    staging : pathlib.Path
        The staging folder.
    out : pathlib.Path
        The output folder.
    previous : dict or None
        The report's manifest entry from the last run.

    Returns
    -------
    outcome : Outcome
        The outcome, its paths now in ``out``.
    entry : dict or None
        The report's new manifest entry.

    Examples
    --------
    A report that failed before writing anything, with no earlier copy:

    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> staging = out / "staging"; staging.mkdir()
    >>> failed = Outcome.failed("acme", Failure("ValueError", "no KPI 'nps'"))
    >>> outcome, entry = publish(failed, staging, out, previous=None)
    >>> entry["status"], entry["error"], entry["files"]
    ('failed', "ValueError: no KPI 'nps'", {})
    """
    name = outcome.report
    previous = previous or {}
    kept = dict(previous.get("files", {}))  # what casekit wrote before stays its own until replaced
    good = previous.get("html") in kept
    try:
        if outcome.status == OK:
            problem = _whole_report(staging, name)
            if problem is not None:
                outcome = Outcome.failed(name, Failure("DamagedReport", problem), out.name, outcome.seconds)
            else:
                files = {}
                for file in (f"{name}.ipynb", f"{name}.html"):
                    files[file] = digest(staging / file)
                    os.replace(staging / file, out / file)
                _remove_owned(out, f"{name}.failed.ipynb", previous)
                _remove_owned(out, f"{name}.pdf", previous)  # it printed the page this one replaces
                entry = {"status": OK, "headline": outcome.headline, "ipynb": f"{name}.ipynb",
                         "html": f"{name}.html", "files": files, "improved": list(outcome.improved),
                         "worsened": list(outcome.worsened)}
                return outcome.replace(folder=out.name, ipynb=f"{name}.ipynb", html=f"{name}.html"), entry
        files = dict(kept)
        partial = staging / f"{name}.failed.ipynb"
        if outcome.ipynb and partial.is_file() and _whole_notebook(partial) is None:
            files[partial.name] = digest(partial)
            os.replace(partial, out / partial.name)
        entry = {"status": FAILED, "error": str(outcome.failure or ""), "files": files,
                 "cell": outcome.failure.cell if outcome.failure else None,
                 "headline": previous.get("headline", "") if good else "",
                 "ipynb": previous.get("ipynb", "") if good else "", "html": previous.get("html", "") if good else "",
                 "failed_ipynb": partial.name if partial.name in files else ""}
        return outcome.replace(folder=out.name, ipynb=entry["failed_ipynb"], html=entry["html"]), entry
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        failure = Failure("OSError", f"cannot write {name}'s files into {display_path(out)}: {reason}; "
                                     "the last good copy is kept")
        entry = {**previous, "status": FAILED, "error": str(failure), "cell": None, "files": kept}
        return Outcome.failed(name, failure, out.name, outcome.seconds), entry


def _remove_owned(out: Path, name: str, previous: dict) -> None:
    """Remove ``out/name`` only if casekit wrote it (the manifest records it with this content)."""
    path = out / name
    sha = previous.get("files", {}).get(name)
    try:
        if sha and path.is_file() and not path.is_symlink() and digest(path) == sha:
            path.unlink()
    except OSError:
        pass
