"""A render server: a process of its own, started with ``subprocess``, that prepares like a render worker and
then renders one report at a time, each in a fresh child forked from it (the casekit engine).

It serves a parent that may not have ``multiprocessing`` children: a stock Dask worker runs as a daemonic
process, and those may not. Jobs arrive on stdin and outcomes leave on a private copy of stdout, as pickles
(a pickle marks its own end); a report's own writes to stdout go to /dev/null instead. The server leads a
process group of its own, and when its parent dies (a killed Dask worker) it kills that group: itself, the
report running, and any process that report started.

    python -m casekit.rendering._fast.server [NOTEBOOK ...]   # the notebooks whose imports to preload
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time

from ...errors import ServerDied
from ..jobs import Failure, Job, Outcome

POLL_SECONDS = 0.5


class RenderServer:
    """The parent's handle on one render server: ``render(job)`` one report at a time, ``close()`` at the end."""

    def __init__(self, preload: list[str]):
        # what the server says before it quietens its stderr (an import that fails, a bad MPLBACKEND) is kept
        self._errors = tempfile.TemporaryFile()
        self._process = subprocess.Popen([sys.executable, "-m", __name__, *preload], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._errors)

    def render(self, job: Job) -> Outcome:
        try:
            pickle.dump(job, self._process.stdin)
            self._process.stdin.flush()
            return pickle.load(self._process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self._process.wait()
            said = self._last_words()
            raise ServerDied(f"the report's render server ended (exit status {code}) before it finished"
                             + (f": {said}" if said else "")) from None

    def _last_words(self) -> str:
        """The last line the server wrote to stderr before it quietened it (a traceback's last line), if any."""
        try:
            size = self._errors.seek(0, os.SEEK_END)
            self._errors.seek(max(0, size - 4096))
            lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        lines = [line for line in lines if "Warning:" not in line]
        return lines[-1].strip()[:300] if lines else ""

    def alive(self) -> bool:
        return self._process.poll() is None

    @property
    def pid(self) -> int:
        return self._process.pid

    def kill(self) -> None:
        """Stop the server at once, with the report it is running and everything that report started.

        SIGTERM lets the server kill the report's process group before its own; one that does not end
        promptly is killed with its group.
        """
        try:
            self._process.terminate()
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self._kill_group()
        self._errors.close()

    def close(self) -> None:
        """End the server: it exits when its stdin closes; one that does not is killed with its group."""
        try:
            self._process.stdin.close()
            self._process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._kill_group()
        self._errors.close()

    def _kill_group(self) -> None:
        """SIGKILL the server's process group (the server, its report, what the report started), then reap it."""
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._process.wait()


def _end_with_parent(parent: int) -> None:
    """When the parent is gone (killed, even by SIGKILL), end everything, as on SIGTERM."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    _end_everything()


def _end_everything(*_) -> None:
    """Kill the report running (its process group: all it started), then this server's group."""
    from .forking import running_child

    child = running_child()
    if child is not None:
        try:
            os.killpg(child, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    os.killpg(0, signal.SIGKILL)


def _adopt_orphans() -> None:
    """On Linux, become the subreaper of everything this server starts (PR_SET_CHILD_SUBREAPER): a process a
    report detaches (a new session, a double fork) is re-parented here, not to init, and ended after the
    report (:func:`_end_orphans`)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # 36: PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _children() -> list[int]:
    found = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as file:
                found += [int(pid) for pid in file.read().split()]
        except (OSError, ValueError):
            continue
    return found


def _end_orphans() -> None:
    """Kill and reap every process still a child of this server once a report is over: between reports a
    server has none of its own, so each is something a report left running (adopted as its subreaper).
    Killing one re-parents its own children here, so this repeats until none is left."""
    for _ in range(100):
        children = _children()
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def serve(preload: list[str]) -> None:
    """The server's side: read jobs from stdin until it closes, write each outcome."""
    from .worker import prepare_worker, render_one

    os.setpgid(0, 0)
    _adopt_orphans()
    signal.signal(signal.SIGTERM, _end_everything)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; a terminal's Ctrl-C is its to handle
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True, name="casekit-end-with-parent").start()
    outcomes = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process's stdout for its lifetime)
    jobs = sys.stdin.buffer
    said = os.dup(2)  # prepare_worker quietens stderr; why it failed must still reach the parent
    try:
        prepare_worker(preload)
    except BaseException as exc:
        os.write(said, f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}\n".encode("utf-8", "replace"))
        raise SystemExit(1) from None
    os.close(said)
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        try:
            outcome = render_one(job)
        except Exception as exc:  # the report's child died, or the render itself failed
            outcome = Outcome.failed(job.name, Failure.from_exception(exc), os.path.basename(job.out))
        _end_orphans()
        pickle.dump(outcome, outcomes)
        outcomes.flush()


if __name__ == "__main__":
    serve(sys.argv[1:])
