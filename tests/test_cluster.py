"""Rendering on a real Dask distributed cluster on loopback: same reports as a local run, and workers that die."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from conftest import after_parameters, wait_for

import casekit as ck

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (after the skip: only with distributed installed)

pytestmark = pytest.mark.slow  # `make test-fast` leaves these out; `make test` and CI run them

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "casekit" / "notebooks"
CASES = ["northwood-paper", "quantia-tech", "voltcart-ecommerce"]


def _checked(notebook: Path) -> list[str]:
    """What each NBVAL_CHECK_OUTPUT cell printed, joined per cell (a print may come in several stream outputs)."""
    nb = nbformat.read(notebook, as_version=4)
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells if "NBVAL_CHECK_OUTPUT" in c.source]


@pytest.fixture
def cluster():
    """Two single-threaded worker processes and a scheduler on loopback, restarted by their nannies if killed.

    The workers keep Dask's default settings: daemonic processes, as ``dask worker`` starts them.
    """
    assert dask.config.get("distributed.worker.daemon") is True
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as local:
            yield local


def _worker_pids(address: str) -> dict[str, int]:
    with distributed.Client(address) as client:
        return client.run(os.getpid)


def test_cluster_renders_the_same_reports_as_a_local_run(cluster, tmp_path: Path):
    remote = ck.render(ROOT / "cases", tmp_path / "remote", case_ids=CASES, scheduler=cluster.scheduler_address,
                       progress=False)
    local = ck.render(ROOT / "cases", tmp_path / "local", case_ids=CASES, progress=False)
    assert (remote["status"] == "ok").all(), remote["error"].tolist()
    assert remote["headline"].tolist() == local["headline"].tolist()
    for name in CASES + ["portfolio"]:
        assert _checked(tmp_path / "remote" / f"{name}.ipynb") == _checked(tmp_path / "local" / f"{name}.ipynb")
        assert (tmp_path / "remote" / f"{name}.html").read_text(encoding="utf-8").count("data:image/png") > 0
    index = (tmp_path / "remote" / "index.html").read_text(encoding="utf-8")
    assert "none failed." in index and 'href="quantia-tech.html"' in index
    assert not list((tmp_path / "remote").glob(".*tmp*"))


def _slow_notebooks(tmp_path: Path, started: Path) -> Path:
    """casekit's notebooks, where every case report says it started (a file in ``started``) and then pauses, so
    that a worker can be killed mid-report."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    nb = nbformat.read(folder / "case_report.ipynb", as_version=4)
    nb.cells.insert(after_parameters(nb), nbformat.v4.new_code_cell(
        f"import pathlib, time\npathlib.Path({str(started)!r}, case_id).touch()\ntime.sleep(1.5)"))
    nbformat.write(nb, folder / "case_report.ipynb")
    return folder


def test_a_worker_killed_mid_run_loses_no_report(cluster, tmp_path: Path):
    cases = sorted(p.name for p in (ROOT / "cases").iterdir() if p.is_dir())
    victim = min(_worker_pids(cluster.scheduler_address).values())
    started = tmp_path / "started"
    started.mkdir()

    def kill_soon():
        # once three reports have started, both workers have had one: the victim is mid-report
        wait_for(lambda: len(list(started.iterdir())) >= 3, what="three case reports to start")
        os.kill(victim, signal.SIGKILL)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    table = ck.render(ROOT / "cases", tmp_path / "out", scheduler=cluster.scheduler_address, progress=False,
                      notebooks=_slow_notebooks(tmp_path, started))
    killer.join()
    assert victim not in _worker_pids(cluster.scheduler_address).values()  # it really died and was replaced
    assert (table["status"] == "ok").all(), table["error"].tolist()
    assert sorted(table["report"]) == sorted(cases + ["portfolio"])
    assert all((tmp_path / "out" / f"{name}.html").is_file() for name in cases)


def _killer_notebooks(tmp_path: Path) -> Path:
    """casekit's notebooks, where one case's report kills the Dask worker running it, every time."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    nb = nbformat.read(folder / "case_report.ipynb", as_version=4)
    nb.cells.insert(after_parameters(nb), nbformat.v4.new_code_cell(
        'if case_id == "quantia-tech":\n    import os, signal\n'
        '    os.kill(int(os.environ["CASEKIT_DASK_WORKER_PID"]), signal.SIGKILL)'))
    nbformat.write(nb, folder / "case_report.ipynb")
    return folder


def test_a_report_that_kills_every_worker_is_reported_not_retried_forever(cluster, tmp_path: Path):
    table = ck.render(ROOT / "cases", tmp_path / "out", case_ids=CASES, scheduler=cluster.scheduler_address,
                      progress=False, notebooks=_killer_notebooks(tmp_path)).set_index("report")
    assert table.loc["quantia-tech", "status"] == "failed"
    assert "KilledWorker" in table.loc["quantia-tech", "error"]
    assert (table.drop("quantia-tech")["status"] == "ok").all(), table["error"].tolist()
    assert "quantia-tech" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path):
    result = subprocess.run([str(Path(sys.executable).parent / "casekit"), "render", str(ROOT / "cases"), "--out",
                             str(tmp_path), "--scheduler", "tcp://127.0.0.1:9", "--no-progress-bar"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def _render_servers() -> list:
    """The render servers among this test's own descendants (never another checkout's on the same machine)."""
    import psutil

    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "casekit.rendering._fast.server" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_a_worker_started_with_the_dask_command_renders_and_its_processes_end_with_it(tmp_path: Path):
    import psutil

    dask_command = Path(sys.executable).parent / "dask"
    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([str(dask_command), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)], **quiet)
    worker = None
    try:
        for _ in range(600):
            if scheduler_file.is_file() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        # as a user starts one: no settings, no environment variables (a nanny and a daemonic worker process)
        worker = subprocess.Popen([str(dask_command), "worker", "--scheduler-file", str(scheduler_file),
                                   "--nthreads", "1", "--no-dashboard"], **quiet)
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        with distributed.Client(address) as client:
            client.wait_for_workers(1, timeout=120)
        table = ck.render(ROOT / "cases", tmp_path / "out", case_ids=CASES[:1], scheduler=address, progress=False)
        assert (table["status"] == "ok").all(), table["error"].tolist()
        servers = _render_servers()
        assert servers  # waiting for the next report
        for process in psutil.Process(worker.pid).children():  # the worker process, under its nanny
            process.kill()
        _, alive = psutil.wait_procs(servers, timeout=15)
        assert not alive, [p.info["cmdline"] for p in alive]
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)


def test_the_portfolio_report_starts_first_on_the_cluster(tmp_path: Path):
    # its inputs are ready at once and it is the longest: queued behind the case reports it would end the run alone
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as one:
        table = ck.render(ROOT / "cases", tmp_path / "out", case_ids=CASES[:2], scheduler=one.scheduler_address,
                          progress=False)
    assert (table["status"] == "ok").all(), table["error"].tolist()
    started = {name: nbformat.read(tmp_path / "out" / f"{name}.ipynb", as_version=4).metadata.papermill.start_time
               for name in CASES[:2] + ["portfolio"]}
    assert started["portfolio"] < min(started[name] for name in CASES[:2]), started
