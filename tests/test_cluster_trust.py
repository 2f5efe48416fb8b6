"""The cluster trusts nothing it receives: a rogue worker's pickles are never unpickled on the client, its file
names never leave the output folder, and a scheduler that never answers (or answers garbage) is a clear error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import copy_cases

import casekit as ck
from casekit.rendering.cluster import InsecureSchedulerWarning

pytestmark = pytest.mark.slow  # `make test-fast` leaves these out; `make test` and CI run them

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]

ROGUE = """\
import json, os
import casekit.rendering.cluster as cluster

MARK = {mark!r}


class Payload:
    def __reduce__(self):
        return (os.system, ("echo $PPID >> " + MARK,))


class PayloadError(Exception):
    # unpickles as a ValueError after running the command, so it passes the worker's own round trip
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo $PPID >> " + MARK + "') or ValueError('from a rogue worker')",))


def rogue(job, files):
    mode = {mode!r}
    if mode == "pickle":
        return Payload()
    if mode == "exception":
        raise PayloadError("from a rogue worker")
    record = {{"format": "casekit-result-1", "report": job.name, "status": "ok", "seconds": 1.0, "headline": "",
              "ipynb": "", "html": "", "improved": [], "worsened": [], "failure": None, "files": [{name!r}]}}
    return (json.dumps(record).encode(), b"escaped")


cluster.render_remote = rogue
"""


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    return copy_cases(tmp_path / "cases", "quantia-tech")


def _rogue_cluster(tmp_path: Path, mode: str, name: str = "x"):
    preload = tmp_path / f"rogue_{mode}.py"
    preload.write_text(ROGUE.format(mark=str(tmp_path / "ran"), mode=mode, name=name), encoding="utf-8")
    return distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None, preload=[str(preload)])


def _commands_run_here(tmp_path: Path) -> list[str]:
    """The pids of the processes that ran the rogue's command; the client's must not be among them."""
    mark = tmp_path / "ran"
    return mark.read_text().split() if mark.exists() else []


@pytest.mark.parametrize("mode", ["pickle", "exception"])
def test_a_rogue_workers_pickle_never_runs_on_the_client(cases: Path, tmp_path: Path, mode: str):
    with _rogue_cluster(tmp_path, mode) as rogue:
        with pytest.warns(InsecureSchedulerWarning, match="not authenticated"):
            table = ck.render(cases, tmp_path / "out", scheduler=rogue.scheduler_address, progress=False)
    assert str(os.getpid()) not in _commands_run_here(tmp_path)
    row = table.set_index("report").loc["quantia-tech"]
    assert row["status"] == "failed"
    if mode == "pickle":
        assert "UntrustedResult" in row["error"]


@pytest.mark.parametrize("name", ["../../escaped.txt", "./../../x", "/tmp/abs.txt", "index.html", "other.html"])
def test_a_rogue_workers_file_names_are_refused(cases: Path, tmp_path: Path, name: str):
    with _rogue_cluster(tmp_path, "escape", name) as rogue, pytest.warns(UserWarning):
        table = ck.render(cases, tmp_path / "deep" / "out", scheduler=rogue.scheduler_address, progress=False)
    row = table.set_index("report").loc["quantia-tech"]
    assert row["status"] == "failed" and "UntrustedResult" in row["error"], row["error"]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == b"escaped"]
    assert written == []


def _listener(answer: bytes | None):
    """A TCP listener on loopback that accepts and then says nothing (None) or ``answer``; closed after."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if answer is not None:
                try:
                    connection.sendall(answer)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return server, held


def _close(server: socket.socket, held: list) -> None:
    """Close the listener (shutting it down first wakes its thread from accept) and what it accepted."""
    try:
        server.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    server.close()
    for connection in held:
        connection.close()


@pytest.mark.parametrize("answer", [None, b"HTTP/1.1 200 OK\r\n\r\ngarbage" * 50, b"\x00" * 64])
def test_a_scheduler_that_never_answers_or_answers_garbage_is_a_clear_error(answer, tmp_path: Path):
    server, held = _listener(answer)
    port = server.getsockname()[1]
    try:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out",
                                 str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{port}",
                                 "--no-progress-bar"], capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
    finally:
        _close(server, held)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"tcp://127.0.0.1:{port}" in result.stderr and "not authenticated" in result.stderr
    assert took < 60


def test_tls_without_certificates_is_a_clear_error(tmp_path: Path):
    server, held = _listener(None)
    port = server.getsockname()[1]
    try:
        result = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out",
                                 str(tmp_path / "out"), "--scheduler", f"tls://127.0.0.1:{port}",
                                 "--no-progress-bar"], capture_output=True, text=True, timeout=120)
    finally:
        _close(server, held)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "tls://" in result.stderr and "certificates" in result.stderr
    partial = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out",
                              str(tmp_path / "out"), "--scheduler", f"tls://127.0.0.1:{port}", "--tls-cert", "x.pem"],
                             capture_output=True, text=True, timeout=120)
    assert partial.returncode == 2 and "--tls-ca-file, --tls-key missing" in partial.stderr


def test_a_tls_cluster_renders_with_certificates_and_no_warning(cases: Path, tmp_path: Path):
    pytest.importorskip("cryptography")
    import warnings

    from distributed.security import Security

    security = Security.temporary()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, protocol="tls", security=security) as secure:
        assert secure.scheduler_address.startswith("tls://")
        with warnings.catch_warnings():
            warnings.simplefilter("error", InsecureSchedulerWarning)
            table = ck.render(cases, tmp_path / "out", scheduler=secure.scheduler_address, progress=False,
                              security=security)
    assert (table["status"] == "ok").all(), table["error"].tolist()
    assert (tmp_path / "out" / "quantia-tech.html").is_file()


def test_results_are_checked_field_by_field():
    from casekit.rendering.cluster import UntrustedResult, decode_result, encode_result
    from casekit.rendering.jobs import Failure, Job, Outcome

    job = Job("acme", "case_report.ipynb")
    outcome = Outcome("acme", "failed", "", 2.5, failure=Failure("ValueError", "bad", 3), ipynb="acme.failed.ipynb")
    decoded, files = decode_result(job, encode_result(outcome, {"acme.failed.ipynb": b"{}"}))
    assert decoded.failure == Failure("ValueError", "bad", 3) and files == {"acme.failed.ipynb": b"{}"}
    header, content = encode_result(outcome, {"acme.failed.ipynb": b"{}"})
    for bad in (b"\x80\x04K\x01.", (b"[]",), (b'{"format": "casekit-result-1"}',), "text", (header,),
                (header, content, content), (header, "text"),
                encode_result(outcome.replace(report="other"), {}),
                encode_result(outcome, {"acme.html/../x": b""}),
                encode_result(outcome.replace(html="../index.html"), {})):
        with pytest.raises(UntrustedResult):
            decode_result(job, bad)
