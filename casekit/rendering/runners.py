"""Runners: where a render's reports run. Each has ``run(jobs)``, yielding one Outcome per job as it finishes,
and ``close()``; a Ctrl-C during ``run`` stops what runs, yields what finished meanwhile, then propagates.

``LocalRunner`` runs reports in this machine's processes; ``casekit.rendering.cluster.DaskRunner`` on a Dask
cluster. Tests drive :func:`casekit.rendering.batch.render` with a fake one.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Protocol

from ._fast.server import RenderServer, ServerDied
from .jobs import Failure, Job, Outcome, portfolio_first


class Runner(Protocol):
    """Where reports run (``render(runner=...)``): ``run`` yields each job's outcome as it ends; ``close``
    stops whatever it started."""

    def run(self, jobs: list[Job]) -> Iterable[Outcome]:
        """Run ``jobs``, yielding each one's outcome as it ends (in any order).

        Parameters
        ----------
        jobs : list of Job
            The reports.

        Yields
        ------
        Outcome
        """

    def close(self) -> None:
        """Stop whatever the runner started; a runner is closed once, after its last run."""


class LocalRunner:
    """Reports in ``workers`` local render servers (``_fast.server``), each report in a fresh interpreter.

    The servers start at once and import the notebooks' libraries (``preload``,
    for the casekit engine) while the caller goes on validating cases; each
    report then runs in a child forked from a server. A server that dies costs
    only the report it held: that report fails, and a new server takes its place
    for the rest. Every process a server starts ends with it, and every server
    ends with this process, however it ends.
    """

    def __init__(self, workers: int, preload: list[str] | None = None):
        self._preload = list(preload or [])
        self._servers = [RenderServer(self._preload) for _ in range(workers)]
        self._stopping = threading.Event()

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        """Each job's outcome as its report ends, the portfolio report started first (see :class:`Runner`).

        Parameters
        ----------
        jobs : list of Job
            The reports.

        Yields
        ------
        Outcome

        Examples
        --------
        >>> import pathlib, tempfile, nbformat
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> cells = [nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
        ...          nbformat.v4.new_code_cell("print(n * 2)")]
        >>> nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
        ...                "language": "python", "display_name": "Python 3"}}), folder / "tiny.ipynb")
        >>> runner = LocalRunner(workers=1)
        >>> try:
        ...     outcomes = list(runner.run([Job("tiny", str(folder / "tiny.ipynb"), {"n": 21}, out=str(folder),
        ...                                     engine="casekit")]))
        ... finally:
        ...     runner.close()
        >>> [(o.report, o.status, o.html) for o in outcomes]
        [('tiny', 'ok', 'tiny.html')]
        """
        waiting: queue.SimpleQueue = queue.SimpleQueue()
        for job in portfolio_first(jobs):
            waiting.put(job)
        done: queue.SimpleQueue = queue.SimpleQueue()
        threads = [threading.Thread(target=self._serve, args=(slot, waiting, done), daemon=True,
                                    name=f"casekit-render-{slot}") for slot in range(len(self._servers))]
        for thread in threads:
            thread.start()
        try:
            for _ in jobs:
                yield done.get()
        except KeyboardInterrupt:
            self._stopping.set()
            for server in self._servers:
                server.kill()
            while not done.empty():  # reports that finished while we were stopping
                outcome = done.get()
                if outcome.status == "ok":
                    yield outcome
            raise

    def _serve(self, slot: int, waiting: queue.SimpleQueue, done: queue.SimpleQueue) -> None:
        while not self._stopping.is_set():
            try:
                job = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = self._servers[slot].render(job)
            except ServerDied as exc:
                if self._stopping.is_set():
                    return
                outcome = Outcome.failed(job.name, Failure.from_exception(exc), os.path.basename(job.out))
                self._servers[slot].kill()
                self._servers[slot] = RenderServer(self._preload)  # the next report gets a fresh one
            except Exception as exc:  # anything else here still answers for the job, so that run() ends
                outcome = Outcome.failed(job.name, Failure.from_exception(exc), os.path.basename(job.out))
            done.put(outcome)

    def close(self) -> None:
        """End the servers, with anything they still run (after a full run, nothing: they are idle).

        Examples
        --------
        >>> LocalRunner(workers=1).close()
        """
        self._stopping.set()
        for server in self._servers:
            server.kill()


def with_progress(outcomes: Iterable[Outcome], total: int, description: str, progress: bool = True
                  ) -> Iterator[Outcome]:
    """The outcomes as they come, with a tqdm progress bar (none when ``progress`` is False).

    Parameters
    ----------
    outcomes : iterable of Outcome
        The outcomes as they come.
    total : int
        How many are expected.
    description : str
        The bar's label.
    progress : bool, default True
        Show the bar (on standard error).

    Yields
    ------
    Outcome

    Examples
    --------
    >>> [o.report for o in with_progress(iter([Outcome("acme", "ok")]), 1, "rendering", progress=False)]
    ['acme']
    """
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=description, unit="report", disable=not progress) as bar:
        for outcome in outcomes:
            bar.update()
            yield outcome
