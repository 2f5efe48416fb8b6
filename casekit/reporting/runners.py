"""Runners: where a render's reports run. Each has ``run(jobs)``, yielding one Outcome per job as it finishes,
and ``close()``; a Ctrl-C during ``run`` stops what runs, yields what finished meanwhile, then propagates.

``LocalRunner`` runs reports in this machine's processes; ``casekit.reporting.cluster.DaskRunner`` on a Dask
cluster. Tests drive :func:`casekit.reporting.batch.render` with a fake one.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import forkserver, get_context
from typing import Protocol

from .jobs import Failure, Job, Outcome
from ._fast.worker import PRELOAD_NOTEBOOKS, prepare_worker, render_one

PORTFOLIO = "portfolio"


class Runner(Protocol):
    def run(self, jobs: list[Job]) -> Iterable[Outcome]: ...

    def close(self) -> None: ...


class LocalRunner:
    """Reports in ``workers`` local processes, each report in a fresh interpreter.

    With ``preload`` (the notebooks whose imports to follow; for the casekit
    engine) the workers are forked from a fork server that imports and warms
    up once, while the caller goes on (validating cases); each report then
    runs in a child forked from a worker. Without, workers are spawned and
    each report starts its own kernel process (papermill's nbclient engine).
    """

    def __init__(self, workers: int, preload: list[str] | None = None):
        preload = list(preload or [])
        if preload:
            context = get_context("forkserver")
            context.set_forkserver_preload(["casekit.reporting._fast.preloaded"])
            os.environ[PRELOAD_NOTEBOOKS] = os.pathsep.join(preload)
            try:
                forkserver.ensure_running()  # starts the server's imports, without waiting for them
            finally:
                del os.environ[PRELOAD_NOTEBOOKS]
        else:
            context = get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=prepare_worker,
                                         initargs=(preload,))
        if not preload:
            for _ in range(workers):
                self._pool.submit(int)  # the pool starts a process for each task submitted while none is idle

    def submit(self, function, *args):
        """Run ``function(*args)`` in a worker; a ``concurrent.futures.Future`` of its result."""
        return self._pool.submit(function, *args)

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        futures: dict = {}
        collected: set = set()
        try:
            longest_first = sorted(jobs, key=lambda job: job.name != PORTFOLIO)  # so it does not finish last
            futures = {self._pool.submit(render_one, job): job for job in longest_first}
            for future in as_completed(futures):
                collected.add(future)
                job = futures[future]
                try:
                    outcome = future.result()
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # the worker process itself died
                    outcome = Outcome.failed(job.name, Failure.from_exception(exc), os.path.basename(job.out))
                yield outcome
        except KeyboardInterrupt:
            # Stop what runs (each worker's papermill shuts its kernel down on KeyboardInterrupt), drop what waits.
            for process in list((self._pool._processes or {}).values()):
                if process.is_alive():
                    os.kill(process.pid, signal.SIGINT)
            self._pool.shutdown(wait=True, cancel_futures=True)
            for future in set(futures) - collected:  # reports that finished while we were stopping
                if future.done() and not future.cancelled() and future.exception() is None:
                    yield future.result()
            raise

    def close(self) -> None:
        """Stop the workers; any still running are only importing (the reports have all been collected)."""
        for process in list((self._pool._processes or {}).values()):  # None once the pool has been shut down
            process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


def with_progress(outcomes: Iterable[Outcome], total: int, description: str, progress: bool = True
                  ) -> Iterator[Outcome]:
    """The outcomes as they come, with a tqdm progress bar (none when ``progress`` is False)."""
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=description, unit="report", disable=not progress) as bar:
        for outcome in outcomes:
            bar.update()
            yield outcome
