"""Run each task in a fresh child forked from a worker that has already imported what the tasks need.

A report's set-up, not its analysis, is what costs: starting a kernel and
importing pandas, scipy, statsmodels and seaborn take about forty times as long
as the numbers. A render worker imports those once (`preload`); each report
then runs in a child forked from that worker (`run_forked`), so it starts with
the libraries loaded and with nothing any other report defined, and its
process, with everything the report changed, ends when the report does.
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import os
import pickle
import signal
import sys
import types
from pathlib import Path

from ...errors import ChildDied

PACKAGE = Path(__file__).resolve().parents[2]  # casekit

# What an in-process kernel needs that the notebooks' own imports do not name.
KERNEL_MODULES = (
    "IPython", "IPython.core.interactiveshell", "IPython.display", "ipykernel.inprocess.manager",
    "ipykernel.inprocess.blocking", "ipykernel.inprocess.ipkernel", "ipykernel.ipkernel", "ipykernel.zmqshell",
    "ipykernel.comm", "ipykernel.debugger", "comm", "matplotlib_inline.backend_inline", "jupyter_client.session",
    "nbclient", "papermill", "nbconvert", "nbformat", "sqlite3",
    # what starting a kernel and running its first cell import on the way
    "IPython.core.application", "IPython.core.completerlib", "IPython.core.crashhandler", "IPython.core.logger",
    "IPython.core.magic_arguments", "IPython.core.magics.ast_mod", "IPython.core.magics.execution",
    "IPython.core.magics.pylab", "IPython.core.oinspect", "IPython.utils.module_paths",
    "IPython.utils.wildcard", "bdb", "psutil", "resource", "tornado.platform.asyncio", "zmq.utils.garbage",
    # what pandas and casekit import on first use
    "pandas.core.reshape.reshape", "encodings.utf_8_sig",
)


def can_fork() -> bool:
    """True where processes can fork (Linux, macOS); elsewhere casekit starts a kernel per report instead."""
    return hasattr(os, "fork")


def defer_iri_grammar() -> None:
    """Build rfc3987-syntax's IRI grammar when an IRI is first validated, not when nbformat is imported.

    jsonschema imports rfc3987-syntax 1.1 eagerly when it is installed (it is, for
    jupyter-events), and that import builds a Lark grammar: 2-3 s added to every
    process that imports nbformat, papermill or nbconvert
    (python-jsonschema/jsonschema#1392). Notebooks never validate IRIs; if
    something does, the real module is imported then. Does nothing when the
    module is already imported or not installed.
    """
    name = "rfc3987_syntax"
    if name in sys.modules or importlib.util.find_spec(name) is None:
        return
    stand_in = types.ModuleType(name)

    def is_valid_syntax(term: str, value: str) -> bool:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name).is_valid_syntax(term, value)

    stand_in.is_valid_syntax = is_valid_syntax
    sys.modules[name] = stand_in


def preload(notebooks) -> list[str]:
    """Import what the notebooks and casekit import anywhere, and the in-process kernel's own modules.

    Parameters
    ----------
    notebooks : iterable of path
        Notebooks whose code cells' import statements are followed.

    Returns
    -------
    list of str
        The modules that could not be imported here (a report that needs one
        imports it itself, or fails with the usual error).
    """
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # a kernel's default
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel's debugger warns otherwise
    defer_iri_grammar()
    wanted = list(KERNEL_MODULES) + sorted(notebook_imports(notebooks) | package_imports(PACKAGE))
    missing = []
    for name in wanted:
        try:
            importlib.import_module(name)
        except Exception:  # a module the notebook only finds beside itself, or not at all
            missing.append(name)
    return missing


def notebook_imports(notebooks) -> set[str]:
    """Modules named by ``import`` statements in the notebooks' code cells (IPython magics allowed).

    A notebook that no longer exists is skipped: a Dask worker's render
    processes may start after the scratch folder of the report that created
    them is gone.
    """
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    to_python = TransformerManager().transform_cell
    names: set[str] = set()
    for path in notebooks:
        if not Path(path).is_file():
            continue
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type == "code":
                names |= _imports(to_python(cell.source))
    return names


# Modules no report uses: the Dask client's and worker's code (importing distributed takes half a second).
NOT_FOR_REPORTS = ("cluster", "server")


def package_imports(package: Path) -> set[str]:
    """Modules a package's code imports anywhere, inside functions too, and the package's own modules
    (except those in NOT_FOR_REPORTS)."""
    names = {package.name}
    for path in package.rglob("*.py"):
        relative = path.relative_to(package.parent).with_suffix("")
        if relative.name in NOT_FOR_REPORTS:
            continue
        names |= _imports(path.read_text(encoding="utf-8"))
        if relative.name not in ("__init__", "__main__"):  # __main__ would run the command line
            names.add(".".join(relative.parts))
    return {name for name in names if not name.startswith(".")}


def _imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def run_forked(function, *args, **kwargs):
    """Return ``function(*args, **kwargs)``, run in a child process forked from this one.

    The child sends back its result (or the exception it raised) through a
    pipe and ends with ``os._exit``, so nothing it did survives it. See
    :func:`fork_call` for the child's process group and memory limit.

    Raises
    ------
    ChildDied
        The child ended without a result: killed, or stopped by a watchdog.
    KeyboardInterrupt
        On Ctrl-C, after the child has been killed.

    Examples
    --------
    >>> import os
    >>> run_forked(os.getpid) != os.getpid()
    True
    """
    return fork_call(function, args, kwargs)


_running: list[int] = []  # the child fork_call is waiting for, if any


def running_child() -> int | None:
    """The pid (and process group) of the child :func:`fork_call` is waiting for, or None."""
    return _running[-1] if _running else None


def fork_call(function, args=(), kwargs=None, memory_limit: int | None = None):
    """:func:`run_forked` with the child in a process group of its own, and optionally a memory limit.

    Whatever the child starts (a forked process, a subprocess) is in its
    group, which is killed when the call returns, however it returns: nothing
    a report started outlives it. ``memory_limit`` (bytes) caps what the child
    may allocate beyond what it inherited (its address space, RLIMIT_AS); an
    allocation past it raises MemoryError in the child.
    """
    kwargs = kwargs or {}
    # What this process holds now (the preloaded modules) is never garbage: freezing it keeps the child's
    # collections from walking it, which is both slow and writes to every page it touches (copy-on-write).
    gc.collect()
    gc.freeze()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        status = 0
        try:
            os.setpgid(0, 0)
            _die_with_parent()
            if memory_limit:
                _limit_memory(memory_limit)
            try:
                result = (True, function(*args, **kwargs))
            except BaseException as exc:
                result = (False, exc)
            try:
                payload = pickle.dumps(result)
            except Exception:  # an exception that cannot be pickled
                payload = pickle.dumps((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(len(payload).to_bytes(8, "big") + payload)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    _running.append(pid)
    try:
        try:
            os.setpgid(pid, pid)  # also here: the group must exist before anything the child starts joins it
        except OSError:  # the child has set it already, or has ended
            pass
        payload, status = _receive(read_end, pid)
    except BaseException:
        _kill_group(pid)
        raise
    finally:
        _running.remove(pid)
        os.close(read_end)
    _kill_group(pid)  # what the child started and left running
    if payload is None:
        how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exited with code {os.WEXITSTATUS(status)}")
        raise ChildDied(f"the report's process {how} before it finished")
    ok, value = pickle.loads(payload)
    if ok:
        return value
    raise value


def _receive(read_end: int, pid: int) -> tuple[bytes | None, int]:
    """The child's length-prefixed payload (None if it ended without one) and its exit status.

    The child's own descendants may hold the pipe open after it ends, so the end of the payload is read by
    its length, not at end of file, and the child's exit is watched meanwhile.
    """
    import select

    buffer, status = b"", None
    while True:
        ready, _, _ = select.select([read_end], [], [], 0.5)
        if ready:
            chunk = os.read(read_end, 1 << 20)
            buffer += chunk
            if len(buffer) >= 8 and len(buffer) >= 8 + int.from_bytes(buffer[:8], "big"):
                break
            if chunk:
                continue
        if status is None:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
        if status is not None and (not ready or not chunk):
            return None, status
    if status is None:
        _, status = os.waitpid(pid, 0)
    return buffer[8:8 + int.from_bytes(buffer[:8], "big")], status


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already
        pass


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this process if its parent dies (PR_SET_PDEATHSIG); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_memory(limit: int) -> None:
    import resource

    inherited = _address_space()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = inherited + limit
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS counts)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
