"""The output folder: what casekit owns in it, one run at a time, and reports replaced only by finished ones.

A run takes the folder's lock, renders every report into a private staging folder inside it, checks each
finished report (its notebook parses, its page is whole) and only then renames it into place. A report that
fails keeps its last good copy; its failed notebook goes beside it. casekit writes only names it owns (those
recorded in ``manifest.json``, the index, the lock) and removes only what it wrote.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..atomic import replaced
from ..errors import RenderError, display_path
from .jobs import FAILED, OK, Failure, Outcome

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK = ".casekit.lock"
STAGING_PREFIX = ".casekit-staging-"
FORMAT = "casekit-manifest-1"
RESERVED = ("index", "manifest", "portfolio")  # names of casekit's own pages: no case report may take them
IGNORED = (".DS_Store", "Thumbs.db", "desktop.ini")  # what file browsers leave in any folder


def check_out_folder(out: Path, cases_dir: Path) -> None:
    """Refuse an output folder that is the filesystem's root, the cases folder, or inside it."""
    out, cases_dir = Path(out).resolve(), Path(cases_dir).resolve()
    if out == Path(out.anchor):
        raise RenderError(f"--out {out} is the filesystem's root; choose a folder of its own, such as reports")
    if out == cases_dir or cases_dir in out.parents:
        raise RenderError(f"--out {display_path(out)} is inside the cases folder; reports go in a folder of their "
                          "own, such as reports")


def owned_names(out: Path, entries: dict) -> set[str]:
    """The names in the output folder that casekit wrote: its manifest, the index and the reports it records."""
    names = {LOCK}
    data = _manifest_data(out)
    if data is not None:
        names.add(MANIFEST)
        index = out / INDEX
        if data.get("index") is None or (index.is_file() and not index.is_symlink() and digest(index) == data["index"]):
            names.add(INDEX)  # an index recorded by hash; a manifest from before hashes were kept vouches for it
    for entry in entries.values():
        names |= set(entry.get("files", {}))
    return names


def foreign_files(out: Path, entries: dict) -> list[str]:
    """What is in ``out`` that casekit did not write (its staging folders aside)."""
    if not out.is_dir():
        return []
    owned = owned_names(out, entries)
    return sorted(p.name for p in out.iterdir()
                  if p.name not in owned and p.name not in IGNORED and not p.name.startswith(STAGING_PREFIX))


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
    if isinstance(data, dict) and data and all(isinstance(e, dict) and "fingerprint" in e for e in data.values()):
        return {"reports": data, "index": None}  # written by casekit before the manifest had a format
    return None


def read_manifest(out: Path) -> dict:
    """The manifest's report entries; an unreadable one or one that is not casekit's counts as empty."""
    data = _manifest_data(out)
    if data is None:
        return {}
    entries = {}
    for name, entry in data["reports"].items():
        if isinstance(name, str) and isinstance(entry, dict) and isinstance(entry.get("files", {}), dict):
            files = {f: h for f, h in entry.get("files", {}).items() if _plain_name(f) and isinstance(h, str)}
            # links in the index come only from here: each must be one of the entry's own files
            links = {key: entry[key] if entry.get(key) in files else "" for key in ("html", "ipynb", "failed_ipynb")}
            text = {key: entry[key] if isinstance(entry.get(key), str) else "" for key in ("headline", "error")}
            entries[name] = {**entry, **links, **text, "files": files}
    return entries


def write_manifest(out: Path, entries: dict, index: str) -> None:
    """Record each report's files (with their hashes), headline, status and inputs' fingerprint, and the index's
    hash; then write the index (``index``, its HTML)."""
    record = {"format": FORMAT, "index": hashlib.sha256(index.encode("utf-8")).hexdigest(), "reports": entries}
    write_text_atomically(out, MANIFEST, json.dumps(record, indent=1, sort_keys=True))
    write_text_atomically(out, INDEX, index)


def present(out: Path, entry: dict) -> dict | None:
    """The entry with only the files still in ``out``; None when none is left (a failure is kept to be listed)."""
    files = {name: sha for name, sha in entry.get("files", {}).items() if (out / name).is_file()}
    return {**entry, "files": files} if files or entry.get("status") == FAILED else None


def _plain_name(name) -> bool:
    return isinstance(name, str) and name == Path(name).name and name not in ("", ".", "..")


def digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def intact(out: Path, entry: dict) -> bool:
    """Whether every file the entry records is in ``out``, a plain file, with the content casekit wrote."""
    try:
        return bool(entry.get("files")) and all(
            (out / name).is_file() and not (out / name).is_symlink() and digest(out / name) == sha
            for name, sha in entry["files"].items())
    except OSError:
        return False


def write_text_atomically(folder: Path, name: str, text: str) -> None:
    """Write ``folder/name`` through an exclusively created temporary file, then rename it into place, with
    the permissions the reports have (the umask's, so that whoever may read the reports may read the index)."""
    with replaced(folder / name) as temporary:
        temporary.write_text(text, encoding="utf-8")


@contextmanager
def locked(out: Path):
    """Hold ``out``'s lock for the run: a second run into the same folder is refused, naming the holder."""
    path = out / LOCK
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise RenderError(f"cannot write to --out {display_path(out)}: {exc.strerror}") from None
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
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock; the file stays, so that the next run's lock is the same file


@contextmanager
def staging_folder(out: Path):
    """A private folder inside ``out`` (so that renames into place stay on one filesystem), removed after.

    Staging folders an earlier run left behind (killed before it could remove them) are removed first:
    the lock is held, so no other run is using them.
    """
    for leftover in out.glob(f"{STAGING_PREFIX}*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    try:
        folder = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
    except OSError as exc:
        raise RenderError(f"cannot write to --out {display_path(out)}: {exc.strerror}") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _whole_report(staging: Path, name: str) -> str | None:
    """Why the report in ``staging`` is not whole, or None when it is: the notebook parses as a version 4
    notebook, the page ends. (papermill wrote the notebook with nbformat; its schema is not checked again,
    which would cost more than the rest of publishing.)"""
    try:
        notebook = json.loads((staging / f"{name}.ipynb").read_bytes())
        page = (staging / f"{name}.html").read_bytes()
    except Exception as exc:  # noqa: BLE001 - any unreadable output is a damaged one
        return f"{type(exc).__name__}: {exc}"
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        return "the notebook is not a version 4 notebook with cells"
    if b"</html>" not in page[-4096:]:
        return "the HTML page is incomplete"
    return None


def publish(outcome: Outcome, staging: Path, out: Path, previous: dict | None) -> tuple[Outcome, dict | None]:
    """Move a report from ``staging`` into ``out`` and return its outcome and manifest entry.

    A finished report replaces the old one only once it is checked whole. A failed one leaves the last good
    copy where it was (the outcome then points at it, and the entry keeps its files) and puts its partial
    notebook beside it. A disk that is full or read-only fails this report with one line; nothing is lost.
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
                entry = {"status": OK, "headline": outcome.headline, "ipynb": f"{name}.ipynb",
                         "html": f"{name}.html", "files": files, "improved": list(outcome.improved),
                         "worsened": list(outcome.worsened)}
                return outcome.replace(folder=out.name, ipynb=f"{name}.ipynb", html=f"{name}.html"), entry
        files = dict(kept)
        partial = staging / f"{name}.failed.ipynb"
        if outcome.ipynb and partial.is_file():
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
