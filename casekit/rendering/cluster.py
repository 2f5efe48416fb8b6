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

Nothing a worker sends is trusted. A report comes back as bytes (a JSON header, checked field by field, and
the files' bytes), which the client's Dask connection decodes with msgpack only, never with pickle: a worker that returns a
pickle has its report failed, not unpickled. File names are checked against the three a report may write,
and written only inside the run's staging folder. Every scheduler call the client makes has a deadline.
An unauthenticated ``tcp://`` scheduler lets any process that reaches it join as a worker and read the case
files, which travel in clear: use ``tls://`` with certificates (``distributed.Security``, or Dask's
``distributed.comm.tls`` settings) on any network you do not control.
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import ClusterError
from ..inputs.casefiles import CASE_FILES, plain_file_problem
from ._fast.server import RenderServer, ServerDied
from .export import PORTFOLIO
from .jobs import FAILED, OK, Failure, Job, Outcome, portfolio_first, report_files

REMOTE_CASES = "cases"
REMOTE_NOTEBOOKS = "notebooks"
WORKER_PID = "CASEKIT_DASK_WORKER_PID"  # set for the reports, which may want to know their Dask worker
ENVELOPE = "casekit-result-1"
MAX_RESULT_BYTES = 512 * 10**6  # a report's files: far above any real report
UNAUTHENTICATED = ("tcp", "ws", "ucx")
TRACEBACK_PARTS = ("unpickle_traceback", "Traceback", "Frame", "Code")
EXCEPTION_ENDINGS = ("Error", "Exception", "Exit", "Interrupt", "KilledWorker")
PICKLED_ATTRIBUTES = ("__dict__", "args", "__cause__", "__context__", "__traceback__", "__notes__",
                      "__suppress_context__")
INSECURE_WARNING = ("{scheduler} is not authenticated: any process that reaches it can join as a worker and read "
                    "the case files, which travel in clear. Use tls:// with certificates on a network you do not "
                    "control (docs: Rendering on a Dask cluster)")


class InsecureSchedulerWarning(UserWarning):
    """The scheduler's connections are neither encrypted nor authenticated (``tcp://``)."""


def security_from_files(ca_file: str | None, cert: str | None, key: str | None):
    """A ``distributed.Security`` that encrypts and authenticates with these PEM files; None when none is given.

    Raises
    ------
    ClusterError
        When only some are given, or one is not a readable file.

    Parameters
    ----------
    ca_file, cert, key : str or None
        PEM files: the certificate authority's, this client's certificate and its key.

    Returns
    -------
    distributed.Security or None

    Examples
    --------
    >>> security_from_files(None, None, None) is None
    True
    >>> security_from_files("ca.pem", None, None)
    Traceback (most recent call last):
    ...
    casekit.errors.ClusterError: TLS needs the CA file, this client's certificate and its key; --tls-cert, --tls-key missing
    """
    given = {"--tls-ca-file": ca_file, "--tls-cert": cert, "--tls-key": key}
    if not any(given.values()):
        return None
    missing = [flag for flag, value in given.items() if not value]
    if missing:
        raise ClusterError(f"TLS needs the CA file, this client's certificate and its key; {', '.join(missing)} "
                           "missing")
    for flag, value in given.items():
        if not os.path.isfile(value):
            raise ClusterError(f"{flag} {value!r} is not a file")
    from distributed import Security

    return Security(tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key, require_encryption=True)


def connect(scheduler: str, timeout: float = 10, security=None):
    """A ``distributed.Client`` for the scheduler at ``scheduler``, or a ClusterError within ``timeout`` seconds.

    The client decodes what it receives with msgpack only (``deserializers``), never with pickle, and gathers
    through the scheduler, not from workers directly. ``security`` is a ``distributed.Security`` (certificates
    for ``tls://``); None takes Dask's configuration (``distributed.comm.tls``).

    Parameters
    ----------
    scheduler : str
        The scheduler's address (``tcp://HOST:PORT`` or ``tls://HOST:PORT``).
    timeout : float, default 10
        Seconds to wait for it.
    security : distributed.Security, optional
        Certificates for ``tls://``.

    Returns
    -------
    distributed.Client

    Raises
    ------
    ClusterError
        The scheduler cannot be reached in time, or Dask distributed is not installed.

    Examples
    --------
    >>> connect("tcp://127.0.0.1:9", timeout=0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    casekit.errors.ClusterError: ...
    """
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency of the cluster extra
        raise ClusterError("rendering on a cluster needs Dask distributed: pip install 'casekit[cluster]'") from None
    _handshake(scheduler, timeout, security)
    made: queue.SimpleQueue = queue.SimpleQueue()

    def attempt():
        try:
            made.put(Client(scheduler, timeout=f"{timeout}s", set_as_default=False, security=security,
                            deserializers=("msgpack",), direct_to_workers=False))
        except BaseException as exc:  # noqa: BLE001 - whatever the connection raised is reported below
            made.put(exc)

    threading.Thread(target=attempt, daemon=True, name="casekit-connect").start()
    try:
        result = made.get(timeout=timeout * 3)
    except queue.Empty:
        raise ClusterError(f"the Dask scheduler at {scheduler} did not answer within {timeout * 3:g} s") from None
    if isinstance(result, BaseException):
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {_reason(result, scheduler)}") from None
    _read_errors_as_data(result)
    return result


class RemoteError(Exception):
    """A task's error as a worker described it: its class's name and its message, read as data."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}" if message else name)
        self.name, self.message = name, message


def _read_errors_as_data(client) -> None:
    """Have ``client`` record a failed task's error as a :class:`RemoteError` instead of unpickling it.

    A distributed client unpickles a task's error as soon as the scheduler reports it (``task-erred``), and
    the pickle comes from whichever worker ran the task: a rogue worker's would run on this machine. The
    handler is replaced before any task is submitted, so no error of casekit's tasks reaches the original.
    """
    original = client._stream_handlers["task-erred"]

    def task_erred(key=None, exception=None, traceback=None, **_):
        original(key=key, exception=RemoteError(*_describe_error(exception)), traceback=None)

    client._stream_handlers["task-erred"] = task_erred


def _handshake(scheduler: str, timeout: float, security) -> None:
    """Ask the scheduler who it is, within ``timeout`` seconds, before a Client is made: a listener that
    accepts the connection and never answers, or answers garbage, would hold a Client past its own timeout,
    and leave it to fail again when it is collected."""
    import asyncio

    from distributed import Security
    from distributed.comm import connect as open_comm

    async def ask():
        arguments = (security or Security()).get_connection_args("client")
        comm = await open_comm(scheduler, timeout=timeout, deserialize=False, **arguments)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(ask(), timeout))
    except (asyncio.TimeoutError, TimeoutError):
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: no answer within {timeout:g} s; check "
                           "the address (a Dask scheduler listens on 8786 by default)") from None
    except Exception as exc:  # noqa: BLE001 - refused, reset, TLS, or bytes that are not Dask's protocol
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {_reason(exc, scheduler)}") from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        raise ClusterError(f"{scheduler} answered, but not as a Dask scheduler; check the address and port")


def _reason(exc: BaseException, scheduler: str) -> str:
    if not isinstance(exc, (OSError, TimeoutError, ValueError, TypeError)) or isinstance(exc, MemoryError):
        return f"it does not answer as a Dask scheduler ({type(exc).__name__}); check the address and port"
    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    if str(scheduler).startswith("tls://") and ("TLS" in text or "security" in text.lower() or "ssl" in text.lower()):
        return (f"{text}; a tls:// scheduler needs certificates: pass --tls-ca-file, --tls-cert and --tls-key, or "
                "set Dask's distributed.comm.tls settings")
    return text


def _insecure(scheduler: str) -> bool:
    """Whether the scheduler's address is one whose connections are neither encrypted nor authenticated."""
    return str(scheduler).split("://", 1)[0] in UNAUTHENTICATED


def _pack(job: Job, cases_dir: Path) -> dict[str, bytes]:
    """The files a job's report reads, by path relative to the worker's scratch folder."""
    files = {f"{REMOTE_NOTEBOOKS}/{Path(job.notebook).name}": Path(job.notebook).read_bytes()}
    ids = job.parameters.get("case_ids") or [job.parameters["case_id"]]
    for case_id in ids:
        for name in CASE_FILES:  # only what casekit reads there, and never through a link
            path = cases_dir / case_id / name
            if plain_file_problem(path) is None:
                files[f"{REMOTE_CASES}/{case_id}/{name}"] = path.read_bytes()
    return files


def render_remote(job: Job, files: dict[str, bytes]) -> tuple[bytes, ...]:
    """On a worker: unpack the files into a scratch folder, render there, return the outcome and its files as
    an envelope (:func:`encode_result`).

    Parameters
    ----------
    job : Job
        The report, its paths relative to the case files sent.
    files : dict of str to bytes
        The case files and the notebook, by relative path.

    Returns
    -------
    tuple of bytes
        The envelope :func:`decode_result` reads.

    Examples
    --------
    An error on the worker comes back as data, never as a pickled exception:

    >>> envelope = render_remote(Job("acme", "notebooks/missing.ipynb", {"case_id": "acme"}), {})
    >>> outcome, files = decode_result(Job("acme", "case_report.ipynb"), envelope)
    >>> outcome.status, outcome.failure.name, files
    ('failed', 'FileNotFoundError', {})
    """
    try:
        outcome, produced = _render_in_scratch(job, files)
    except Exception as exc:  # noqa: BLE001 - sent back as data: the client never unpickles a worker's error
        outcome, produced = Outcome.failed(job.name, Failure.from_exception(exc)), {}
    return encode_result(outcome, produced)


def _render_in_scratch(job: Job, files: dict[str, bytes]) -> tuple[Outcome, dict[str, bytes]]:
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
        return outcome, _read_outputs(local.name, root / "out")


def _read_outputs(name: str, out: Path) -> dict[str, bytes]:
    """A rendered report's files in ``out``: ipynb and HTML, or the failed notebook."""
    return {file: (out / file).read_bytes() for file in report_files(name) if (out / file).is_file()}


def encode_result(outcome: Outcome, files: dict[str, bytes]) -> tuple[bytes, ...]:
    """A report's outcome and files as plain data: a JSON header, then each file's bytes in the order the header
    names them (Dask carries bytes as they are: nothing is encoded twice).

    Parameters
    ----------
    outcome : Outcome
        The report's outcome.
    files : dict of str to bytes
        Its files by name.

    Returns
    -------
    tuple of bytes

    Examples
    --------
    >>> envelope = encode_result(Outcome("acme", "ok", html="acme.html"), {"acme.html": b"<html></html>"})
    >>> outcome, files = decode_result(Job("acme", "case.ipynb"), envelope)
    >>> outcome.status, files
    ('ok', {'acme.html': b'<html></html>'})
    """
    failure = outcome.failure
    header = {"format": ENVELOPE, "report": outcome.report, "status": outcome.status, "seconds": outcome.seconds,
              "headline": outcome.headline, "ipynb": outcome.ipynb, "html": outcome.html,
              "improved": list(outcome.improved), "worsened": list(outcome.worsened),
              "failure": None if failure is None else {"name": failure.name, "message": failure.message,
                                                       "cell": failure.cell},
              "files": list(files)}
    return (json.dumps(header).encode("utf-8"), *files.values())


class UntrustedResult(ValueError):
    """What came back from a worker is not a report's result as casekit's workers send it."""


def decode_result(job: Job, payload) -> tuple[Outcome, dict[str, bytes]]:
    """The outcome and files in a worker's result, checked field by field against what ``job`` may return.

    Raises
    ------
    UntrustedResult
        Anything else: not a sequence of bytes, not casekit's header, another report's name, a file name the
        report may not write (a path, a link's name), a field of the wrong type.

    Parameters
    ----------
    job : Job
        The report that was sent.
    payload : object
        What the worker returned.

    Returns
    -------
    outcome : Outcome
    files : dict of str to bytes

    Examples
    --------
    >>> envelope = encode_result(Outcome("acme", "ok", html="../acme.html"), {"../acme.html": b"x"})
    >>> decode_result(Job("acme", "case.ipynb"), envelope)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    casekit.rendering.cluster.UntrustedResult: ...
    """
    if not isinstance(payload, (tuple, list)) or not payload \
            or not all(isinstance(part, (bytes, bytearray)) for part in payload):
        raise UntrustedResult(f"the worker returned {type(payload).__name__}, not a casekit result")
    if sum(len(part) for part in payload) > MAX_RESULT_BYTES:
        raise UntrustedResult("the worker returned more bytes than a report's files can be")
    try:
        record = json.loads(payload[0])
    except ValueError:
        raise UntrustedResult("the worker's result is not a casekit result (its header is not JSON)") from None
    if not isinstance(record, dict) or record.get("format") != ENVELOPE:
        raise UntrustedResult("the worker's result is not a casekit result")
    allowed = report_files(job.name)
    text = {key: record.get(key) for key in ("report", "status", "headline", "ipynb", "html")}
    if not all(isinstance(value, str) for value in text.values()) or text["report"] != job.name \
            or text["status"] not in (OK, FAILED) or text["ipynb"] not in ("", *allowed) \
            or text["html"] not in ("", *allowed):
        raise UntrustedResult(f"the worker's result does not describe report {job.name!r}")
    seconds = record.get("seconds")
    lists = [record.get("improved"), record.get("worsened")]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not all(isinstance(items, list) and all(isinstance(item, str) for item in items) for items in lists):
        raise UntrustedResult("the worker's result has fields of the wrong type")
    failure = record.get("failure")
    if failure is not None:
        cell = failure.get("cell") if isinstance(failure, dict) else None
        if not (isinstance(failure, dict) and isinstance(failure.get("name"), str)
                and isinstance(failure.get("message"), str)
                and (cell is None or (isinstance(cell, int) and not isinstance(cell, bool)))):
            raise UntrustedResult("the worker's result has a failure of the wrong shape")
        failure = Failure(failure["name"], failure["message"], cell)
    names = record.get("files")
    if not isinstance(names, list) or len(names) != len(payload) - 1 or len(set(map(str, names))) != len(names):
        raise UntrustedResult("the worker's result does not list the files it carries")
    for name in names:
        if name not in allowed:
            raise UntrustedResult(f"the worker returned a file {str(name)[:80]!r}; report {job.name!r} may only "
                                  f"write {', '.join(allowed)}")
    outcome = Outcome(job.name, text["status"], "", float(seconds), text["headline"], text["ipynb"], text["html"],
                      failure, improved=tuple(lists[0]), worsened=tuple(lists[1]))
    return outcome, {name: bytes(content) for name, content in zip(names, payload[1:])}


def _store_outputs(job: Job, outcome: Outcome, files: dict[str, bytes]) -> Outcome:
    """Write a report's files that came back from a worker into ``job.out``, each atomically, never through a
    link: only the report's own file names (:func:`report_files`) are ever written."""
    out = Path(job.out)
    allowed = report_files(job.name)
    for file, content in files.items():
        if file not in allowed:
            raise UntrustedResult(f"a worker's file {file[:80]!r} is not one of report {job.name!r}'s")
        descriptor, temporary = tempfile.mkstemp(prefix=f".{job.name}.", suffix=".from-worker", dir=out)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            os.replace(temporary, out / file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
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

    def __init__(self, scheduler: str, cases_dir: Path, security=None):
        import warnings

        self.scheduler, self.cases_dir = scheduler, Path(cases_dir)
        if _insecure(scheduler):
            warnings.warn(INSECURE_WARNING.format(scheduler=scheduler), InsecureSchedulerWarning, stacklevel=2)
        self._client = connect(scheduler, security=security)

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        """Each job's outcome as its report ends on the cluster, its files stored under its ``out``.

        A report's case files travel inside its task, so that a task whose worker dies can run elsewhere;
        what comes back is checked (:func:`decode_result`) before anything is written.

        Parameters
        ----------
        jobs : list of Job
            The reports.

        Yields
        ------
        Outcome
        """
        from distributed import as_completed

        futures = {}
        try:
            # the portfolio report is sent first, and ahead of any queue on the scheduler: its inputs, the case
            # files, are ready now
            for job in portfolio_first(jobs):
                # The files go inside the task, not scattered to one worker: a task whose worker dies must be
                # re-runnable elsewhere, and scattered data dies with its worker.
                key = f"casekit-{job.name}-{os.urandom(4).hex()}"
                future = self._client.submit(render_remote, job, _pack(job, self.cases_dir), pure=False, key=key,
                                             priority=int(job.name == PORTFOLIO))
                futures[future] = job
            for future in as_completed(list(futures), loop=self._client.loop):
                yield self._outcome(futures[future], future)
        except KeyboardInterrupt:
            self._client.cancel(list(futures))
            raise

    @staticmethod
    def _outcome(job: Job, future) -> Outcome:
        """The job's outcome from its finished future, without unpickling anything a worker sent."""
        folder = Path(job.out).name
        if future.status != "finished":  # the task itself failed: not the notebook, whose errors are outcomes
            error = future.exception()
            name, message = (error.name, error.message) if isinstance(error, RemoteError) else _describe_error(error)
            if name == "KilledWorker":
                message = (f"the worker rendering this report died every time it was tried ({message}); "
                           "it was not retried again")
            return Outcome.failed(job.name, Failure(name, message), folder)
        try:
            outcome, files = decode_result(job, future.result())
            return _store_outputs(job, outcome, files)
        except TypeError as exc:  # Dask's own refusal of data encoded with a serializer the client does not allow
            failure = Failure("UntrustedResult", f"the worker's result is not plain data ({exc}); nothing it sent "
                                                 "was written")
        except UntrustedResult as exc:
            failure = Failure("UntrustedResult", f"{exc}; nothing it sent was written")
        except OSError as exc:
            failure = Failure("OSError", f"cannot write {job.name}'s files: {exc.strerror or exc}")
        return Outcome.failed(job.name, failure, folder)

    def close(self) -> None:
        """Close the client (the cluster itself goes on)."""
        self._client.close()


def _describe_error(raw) -> tuple[str, str]:
    """A failed task's exception as (class name, message), read from its pickle without running it.

    A pickle can run any command when it is loaded; pickletools only lists its opcodes, so the class's name
    and the message's text are read as data.
    """
    import pickletools

    if isinstance(raw, BaseException):
        return type(raw).__name__, " ".join(str(raw).split())[:300]
    if not isinstance(raw, (bytes, bytearray)):
        return "TaskFailed", "the task failed on the worker, outside the report"
    names, texts, recent, memo, last = [], [], [], {}, None
    try:
        for opcode, argument, _ in pickletools.genops(bytes(raw)):
            kind = opcode.name
            if kind.endswith("UNICODE") and isinstance(argument, str):
                last = argument
                recent.append((True, argument))
                texts.append(argument)
                continue
            if kind == "MEMOIZE":
                memo[len(memo)] = last
            elif kind in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[argument] = last
            elif kind in ("GET", "BINGET", "LONG_BINGET"):
                last = memo.get(argument)
                recent.append((False, last))
                continue
            elif kind in ("GLOBAL", "INST") and isinstance(argument, str):
                names.append(argument.split()[-1])
                if names[-1] in TRACEBACK_PARTS:
                    break
            elif kind == "STACK_GLOBAL" and len(recent) >= 2:
                for literal, text in recent[-2:]:
                    if literal and text in texts:
                        texts.reverse()
                        texts.remove(text)
                        texts.reverse()
                names.append(str(recent[-1][1]))
                if names[-1] in TRACEBACK_PARTS:  # tblib's frames follow: names and paths, not the message
                    break
            last = None
    except Exception:  # noqa: BLE001 - a damaged pickle is described as such
        return "TaskFailed", "the task failed on the worker, and its error could not be read"
    # the exception's class is the last one named (tblib's and copyreg's helpers come first)
    name = next((n for n in reversed(names) if n.isidentifier() and n.endswith(EXCEPTION_ENDINGS)), "TaskFailed")
    message = ", ".join(text for text in texts if text not in PICKLED_ATTRIBUTES)[:300]
    return name, " ".join(message.split())
