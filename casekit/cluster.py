"""Render reports on a Dask distributed cluster, for portfolios one machine cannot render in time.

Workers need no shared filesystem. Each task carries the files its report
reads (the notebook, the case folders, ``data/`` for the portfolio report) and
returns the rendered files; the client writes them, atomically, where a local
run would. On a worker, reports run as they do locally: with the casekit
engine, in a child forked from a process that imported the libraries once.

A worker that dies mid-report has its reports re-run on another worker by the
scheduler; one that dies every time (the scheduler's
``distributed.scheduler.allowed-failures``, 3 by default) is reported as failed.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

REMOTE_CASES = "cases"
REMOTE_NOTEBOOKS = "notebooks"


class ClusterError(RuntimeError):
    """The scheduler could not be reached."""


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


def pack(job, cases_dir: Path, data_dir: Path | None) -> dict[str, bytes]:
    """The files a job's report reads, by path relative to the worker's scratch folder."""
    files = {f"{REMOTE_NOTEBOOKS}/{Path(job.notebook).name}": Path(job.notebook).read_bytes()}
    ids = job.parameters.get("case_ids") or [job.parameters["case_id"]]
    for case_id in ids:
        for path in sorted((cases_dir / case_id).iterdir()):
            if path.is_file():
                files[f"{REMOTE_CASES}/{case_id}/{path.name}"] = path.read_bytes()
    if data_dir is not None and "case_ids" in job.parameters and data_dir.is_dir():  # the portfolio report
        for path in sorted(data_dir.rglob("*")):
            if path.is_file():
                files[f"data/{path.relative_to(data_dir).as_posix()}"] = path.read_bytes()
    return files


def render_remote(job, files: dict[str, bytes]) -> dict:
    """On a worker: unpack the files into a scratch folder, render there, return the result and its files."""
    from .render import _render_one

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
        result = _worker_pool(str(notebook)).submit(_render_one, local).result()
        result["files"] = read_outputs(local.name, root / "out")
        return result


def read_outputs(name: str, out: Path) -> dict[str, bytes]:
    """A rendered report's files in ``out``: ipynb and HTML, or the failed notebook."""
    names = (f"{name}.ipynb", f"{name}.html", f"{name}.failed.ipynb")
    return {file: (out / file).read_bytes() for file in names if (out / file).is_file()}


def store_outputs(job, result: dict) -> dict:
    """Write a report's files that came back from elsewhere into ``job.out``, each atomically; its outcome row."""
    from .render import _failure

    out = Path(job.out)
    if "files" not in result:  # the task itself failed
        return _failure(job.name, result["error"], out)
    files = result.pop("files")
    for file, content in files.items():
        tmp = out / f".{file}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, out / file)
    stale = ((f"{job.name}.ipynb", f"{job.name}.html") if result["status"] == "failed"
             else (f"{job.name}.failed.ipynb",))
    for file in stale:
        if file not in files:
            (out / file).unlink(missing_ok=True)
    return {**result, "folder": out.name}


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _worker_pool(notebook: str) -> ProcessPoolExecutor:
    """This Dask worker's render processes (one per worker thread), started once and prepared like local ones.

    Reports are not forked from the Dask worker itself: it runs threads, and a
    forked copy of a threaded process can deadlock.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import multiprocessing

            from distributed import get_worker

            if multiprocessing.current_process().daemon:
                raise ClusterError("this Dask worker is a daemonic process, which may not start the processes "
                                   "casekit renders in: start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False")

            os.environ["CASEKIT_DASK_WORKER_PID"] = str(os.getpid())  # for a report that wants to know its worker
            threads = get_worker().state.nthreads
            _POOL = ProcessPoolExecutor(max_workers=threads, mp_context=get_context("spawn"),
                                        initializer=_prepare_pool_process, initargs=([notebook],))
        return _POOL


def _prepare_pool_process(notebooks: list[str]) -> None:
    """Prepare like a local render process, and end when the Dask worker dies (a nanny then starts a new
    worker with a new pool; without this, the old pool's processes would wait for work forever)."""
    from .render import _prepare_worker

    parent = os.getppid()  # before the slow preparation, during which the worker may already die

    def exit_with_parent():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=exit_with_parent, daemon=True, name="casekit-exit-with-worker").start()
    _prepare_worker(notebooks)


def run_on_cluster(jobs, scheduler: str, cases_dir: Path, data_dir: Path | None, progress: bool,
                   on_result) -> None:
    """Send every job to the cluster and hand each result (or failure) to ``on_result`` as it arrives.

    Raises KeyboardInterrupt after cancelling what is still queued or running.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker
    from tqdm.auto import tqdm

    client = connect(scheduler)
    bar = tqdm(total=len(jobs), desc=f"rendering on {scheduler}", unit="report", disable=not progress)
    futures = {}
    try:
        for job in jobs:
            # The files go inside the task, not scattered to one worker: a task whose worker dies must be
            # re-runnable elsewhere, and scattered data dies with its worker.
            key = f"casekit-{job.name}-{os.urandom(4).hex()}"
            futures[client.submit(render_remote, job, pack(job, cases_dir, data_dir), pure=False, key=key)] = job
        for future in as_completed(list(futures), loop=client.loop):
            job = futures[future]
            try:
                on_result(job, future.result())
            except KilledWorker as exc:
                on_result(job, {"error": "the worker rendering this report died every time it was tried "
                                         f"(KilledWorker: {exc}); it was not retried again"})
            except Exception as exc:  # a task error outside the notebook (the notebook's own errors are results)
                on_result(job, {"error": f"{type(exc).__name__}: {exc}"})
            bar.update()
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        bar.close()
        client.close()
