"""A papermill engine that runs a notebook in an IPython kernel inside the calling process.

casekit's render workers import the analysis libraries once, then fork one child
process per report that runs this engine: each report gets a fresh interpreter
without paying for a kernel's start-up and imports (see ``forking``).
The kernel is ipykernel's own in-process kernel, so outputs, tracebacks and
inline figures are what a kernel process would send; cells run in the main
thread, which lets a timer stop a cell that runs too long.

papermill finds it as ``--engine casekit`` through ``casekit.rendering.engine``;
a separate kernel process, papermill's default engine, is ``--engine nbclient``.
"""

from __future__ import annotations

import faulthandler
import functools
import os
import signal
import sys
from contextlib import contextmanager
from queue import Empty

from ...errors import CellTimeoutError

# Seconds a cell may go on after its timeout fired before its whole process is stopped (a cell stuck in C code).
_GRACE = 10.0


@functools.cache
def papermill_engine():
    """papermill's ``Engine`` subclass that runs cells in an in-process kernel (built on first use)."""
    from papermill.engines import Engine

    return type("InProcessEngine", (Engine,), {"execute_managed_notebook": classmethod(_execute_managed_notebook)})


def _execute_managed_notebook(cls, nb_man, kernel_name, execution_timeout=None, **kwargs):
    """Run every cell like papermill's nbclient engine: stop at the first error, record it, keep the outputs."""
    from nbclient.exceptions import CellExecutionError
    from papermill.exceptions import PapermillException

    language = nb_man.nb.metadata.get("kernelspec", {}).get("language", "python")
    if language != "python":
        raise PapermillException(f"the casekit engine runs Python notebooks only, not {language}; "
                                 "use papermill's nbclient engine")
    with _kernel() as client:
        runner = _CellRunner(nb_man.nb, client, execution_timeout)
        for index, cell in enumerate(nb_man.nb.cells):
            try:
                nb_man.cell_start(cell, index)
                runner.run(cell, index)
            except CellExecutionError as error:
                nb_man.cell_exception(nb_man.nb.cells[index], cell_index=index, exception=error)
                break
            finally:
                nb_man.cell_complete(nb_man.nb.cells[index], cell_index=index)
        reply = _reply_to(client.shell_channel, client.kernel_info())
        nb_man.nb.metadata["language_info"] = reply["content"]["language_info"]
    return nb_man.nb


@contextmanager
def _kernel():
    """A fresh in-process kernel with inline figures and an in-memory history, and a client for it."""
    from ipykernel.inprocess.manager import InProcessKernelManager
    from traitlets.config import Config

    manager = InProcessKernelManager(config=Config({"HistoryManager": {"hist_file": ":memory:"}}))
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    manager.kernel.shell.enable_matplotlib("inline")
    if "" not in sys.path:  # as in a kernel process: modules beside the notebook (its working directory) import
        sys.path.insert(0, "")
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel()


def _reply_to(channel, msg_id: str, timeout: float = 60) -> dict:
    """The message on ``channel`` that answers ``msg_id``."""
    while True:
        msg = channel.get_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


class _CellRunner:
    """Execute cells one by one and turn the kernel's messages into outputs, with nbclient's own handling."""

    def __init__(self, nb, client, timeout: float | None):
        from nbclient import NotebookClient

        self.client = client
        self.timeout = timeout
        self.outputs = NotebookClient(nb)  # only its message-to-output logic is used; it starts no kernel
        self.outputs.reset_execution_trackers()
        self.outputs.kc = client

    def run(self, cell, index: int) -> None:
        from nbclient.exceptions import CellControlSignal, CellExecutionError

        if cell.cell_type != "code" or not cell.source.strip():
            return
        tags = cell.metadata.get("tags", [])
        if "skip-execution" in tags:
            return
        cell.outputs = []
        cell.metadata["execution"] = {}  # nbclient's timestamps, which process_message fills in
        self.outputs.clear_before_next_output = False
        with _time_limit(self.timeout):
            msg_id = self.client.execute(cell.source, store_history=True,
                                         stop_on_error="raises-exception" not in tags)
        reply = _reply_to(self.client.shell_channel, msg_id)
        cell.execution_count = reply["content"].get("execution_count")
        while True:
            try:
                msg = self.client.iopub_channel.get_msg(timeout=60)
            except Empty:
                raise RuntimeError("the in-process kernel sent no end-of-cell message") from None
            # ipykernel 7's in-process kernel sends streams with no parent; cells run one at a time and flush
            # their streams before going idle, so an unparented stream belongs to this cell.
            if msg["parent_header"].get("msg_id") not in (msg_id, None):
                continue
            try:
                self.outputs.process_message(msg, cell, index)
            except CellControlSignal:  # the kernel is idle: the cell's outputs are complete
                break
        if reply["content"]["status"] == "error" and "raises-exception" not in tags:
            raise CellExecutionError.from_cell_and_msg(cell, reply["content"])


@contextmanager
def _time_limit(seconds: float | None):
    """Raise CellTimeoutError in the cell after ``seconds``; if the cell is stuck where Python cannot interrupt
    it, stop the process ``_GRACE`` seconds later (its render then reports the cell as timed out)."""
    if not seconds:
        yield
        return

    def expire(signum, frame):
        raise CellTimeoutError(f"the cell ran longer than the {seconds:g} s timeout")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    with open(os.devnull, "w") as devnull:
        faulthandler.dump_traceback_later(seconds + _GRACE, exit=True, file=devnull)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            faulthandler.cancel_dump_traceback_later()
            signal.signal(signal.SIGALRM, previous)
