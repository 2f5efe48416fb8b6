"""Render reports on a Dask distributed cluster, for portfolios one machine cannot render in time.

Workers need casekit installed and nothing else: no shared filesystem and no special settings (a stock
``dask worker tcp://HOST:8786`` will do). Each task carries the files its report reads (the notebook and
the case folders) and returns the rendered files; the client writes them, atomically, where a local run
would. On a worker, reports run as they do locally, each in a fresh child forked from a process that
imported the libraries once: a render server per worker thread, started with ``subprocess`` (a Dask worker
is a daemonic process, which ``multiprocessing`` would refuse to give children).

A worker that dies mid-report has its reports re-run on another worker by the scheduler; one that dies
every time (the scheduler's ``distributed.scheduler.allowed-failures``, 3 by default) is reported as
failed. The render servers of a dead worker end with it, and so does the report they were running.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..casefiles import CASE_FILES, plain_file_problem
from ..errors import RenderError
from .export import PORTFOLIO
from .jobs import FAILED, Failure, Job, Outcome, portfolio_first
from ._fast.server import RenderServer, ServerDied

REMOTE_CASES = "cases"
REMOTE_NOTEBOOKS = "notebooks"
WORKER_PID = "CASEKIT_DASK_WORKER_PID"  # set for the reports, which may want to know their Dask worker


class ClusterError(RenderError):
    """The scheduler could not be reached, or Dask distributed is not installed."""


def connect(scheduler: str, timeout: float = 10):
    """A ``distributed.Client`` for the scheduler at ``scheduler`` (``tcp://HOST:PORT``)."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency of the cluster extra
        raise ClusterError("rendering on a cluster needs Dask distributed: pip install 'casekit[cluster]'") from None
    try:
        return Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def pack(job: Job, cases_dir: Path) -> dict[str, bytes]:
    """The files a job's report reads, by path relative to the worker's scratch folder."""
    files = {f"{REMOTE_NOTEBOOKS}/{Path(job.notebook).name}": Path(job.notebook).read_bytes()}
    ids = job.parameters.get("case_ids") or [job.parameters["case_id"]]
    for case_id in ids:
        for name in CASE_FILES:  # only what casekit reads there, and never through a link
            path = cases_dir / case_id / name
            if plain_file_problem(path) is None:
                files[f"{REMOTE_CASES}/{case_id}/{name}"] = path.read_bytes()
    return files


def render_remote(job: Job, files: dict[str, bytes]) -> tuple[Outcome, dict[str, bytes]]:
    """On a worker: unpack the files into a scratch folder, render there, return the outcome and its files."""
    with tempfile.TemporaryDirectory(prefix="casekit-") as scratch:
        root = Path(scratch)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        (root / "out").mkdir()
        notebook = root / REMOTE_NOTEBOOKS / Path(job.notebook).name
        local = replace(job, notebook=str(notebook), out=str(root / "out"), cwd=str(notebook.parent),
                        parameters={**job.parameters, "cases_dir": str(root / REMOTE_CASES)})
        server = _servers.take(str(notebook))
        try:
            outcome = server.render(local)
        except ServerDied:
            server.close()
            raise
        _servers.give_back(server)
        return outcome, read_outputs(local.name, root / "out")


def read_outputs(name: str, out: Path) -> dict[str, bytes]:
    """A rendered report's files in ``out``: ipynb and HTML, or the failed notebook."""
    names = (f"{name}.ipynb", f"{name}.html", f"{name}.failed.ipynb")
    return {file: (out / file).read_bytes() for file in names if (out / file).is_file()}


def store_outputs(job: Job, outcome: Outcome, files: dict[str, bytes]) -> Outcome:
    """Write a report's files that came back from a worker into ``job.out``, each atomically."""
    out = Path(job.out)
    for file, content in files.items():
        tmp = out / f".{file}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, out / file)
    stale = ((f"{job.name}.ipynb", f"{job.name}.html") if outcome.status == FAILED
             else (f"{job.name}.failed.ipynb",))
    for file in stale:
        if file not in files:
            (out / file).unlink(missing_ok=True)
    return outcome.replace(folder=out.name)


class _Servers:
    """This Dask worker's render servers, one per worker thread, started on first use and reused."""

    def __init__(self):
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()

    def take(self, notebook: str) -> RenderServer:
        while True:
            try:
                server = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    os.environ[WORKER_PID] = str(os.getpid())
                    return RenderServer([notebook])
            if server.alive():
                return server
            server.close()

    def give_back(self, server: RenderServer) -> None:
        self._idle.put(server)


_servers = _Servers()


class DaskRunner:
    """Reports on the Dask cluster at ``scheduler``; the case files are read from ``cases_dir`` and sent along."""

    def __init__(self, scheduler: str, cases_dir: Path):
        self.scheduler, self.cases_dir = scheduler, Path(cases_dir)
        self._client = connect(scheduler)

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        futures = {}
        try:
            # the portfolio report is sent first, and ahead of any queue on the scheduler: its inputs, the case
            # files, are ready now
            for job in portfolio_first(jobs):
                # The files go inside the task, not scattered to one worker: a task whose worker dies must be
                # re-runnable elsewhere, and scattered data dies with its worker.
                key = f"casekit-{job.name}-{os.urandom(4).hex()}"
                future = self._client.submit(render_remote, job, pack(job, self.cases_dir), pure=False, key=key,
                                             priority=int(job.name == PORTFOLIO))
                futures[future] = job
            for future in as_completed(list(futures), loop=self._client.loop):
                job = futures[future]
                try:
                    outcome, files = future.result()
                    yield store_outputs(job, outcome, files)
                except KilledWorker as exc:
                    yield Outcome.failed(job.name, Failure("KilledWorker", (
                        f"the worker rendering this report died every time it was tried ({exc}); "
                        "it was not retried again")), Path(job.out).name)
                except Exception as exc:  # a task error outside the notebook (the notebook's own errors are outcomes)
                    yield Outcome.failed(job.name, Failure.from_exception(exc), Path(job.out).name)
        except KeyboardInterrupt:
            self._client.cancel(list(futures))
            raise

    def close(self) -> None:
        self._client.close()
