"""No orphans, ever: every process a render starts ends with it, however it ends (kill -9, SIGTERM, a killed
render server, a cell that forks or starts a subprocess and times out), and a memory-hungry cell fails alone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import after_parameters, alive, copy_cases, descendants, wait_for

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "casekit" / "notebooks"
CASES = ("quantia-tech", "voltcart-ecommerce", "northwood-paper")

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")


def _cases(tmp_path: Path) -> Path:
    return copy_cases(tmp_path / "cases", *CASES)


def _notebooks(tmp_path: Path, trap: str) -> Path:
    """casekit's notebooks, with ``trap`` run by quantia-tech's report right after its parameters are checked."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder, ignore=shutil.ignore_patterns("workshop"))
    nb = nbformat.read(folder / "case_report.ipynb", as_version=4)
    nb.cells.insert(after_parameters(nb) + 1, nbformat.v4.new_code_cell('if case_id == "quantia-tech":\n' + "\n".join(
        "    " + line for line in trap.splitlines())))
    nbformat.write(nb, folder / "case_report.ipynb")
    return folder


def _alive(pids) -> list[int]:
    return [pid for pid in pids if alive(pid)]


def _tagged(tag: str) -> list[int]:
    """This test's own descendants whose command line holds ``tag`` (what a trap cell started); other
    checkouts' processes on the machine are never looked at."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def _start_render(tmp_path: Path, notebooks: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "casekit", "render", str(_cases(tmp_path)), "--out",
                             str(tmp_path / "out"), "--notebooks", str(notebooks), "--no-progress-bar", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_main_process_ending_takes_every_process_of_the_run_with_it(tmp_path: Path, how):
    tag = f"casekit-trap-{tmp_path.name}"
    render = _start_render(tmp_path, _notebooks(tmp_path, f"import subprocess, sys, time\n"
                                                          f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{tag}'])\n"
                                                          "time.sleep(300)"))
    wait_for(lambda: _tagged(tag), what="the trap cell to run")  # servers, a report child and its subprocess
    family = descendants(render.pid)
    assert len(family) >= 3
    os.kill(render.pid, how)
    render.communicate(timeout=60)
    # every process of the run ends with it, within seconds (the trap would sleep 300)
    wait_for(lambda: not _alive(family) and not _tagged(tag), timeout=15, what="every process of the run to end")
    if how == signal.SIGTERM:  # stopped cleanly: the index lists what finished, exit 128 + 15
        assert render.returncode == 143 and (tmp_path / "out" / "index.html").is_file()
        assert not list((tmp_path / "out").glob(".casekit-staging-*"))


@pytest.mark.slow
def test_a_killed_render_server_costs_only_its_report(tmp_path: Path):
    tag = f"casekit-victim-{tmp_path.name}"
    render = _start_render(tmp_path, _notebooks(tmp_path, f"import subprocess, sys, time\n"
                                                          f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{tag}'])\n"
                                                          "time.sleep(300)"), "--jobs", "2")
    wait_for(lambda: _tagged(tag), what="the trap cell to run")
    victim_child = int(Path(f"/proc/{_tagged(tag)[0]}/stat").read_text().split(")")[-1].split()[1])  # the report
    server = int(Path(f"/proc/{victim_child}/stat").read_text().split(")")[-1].split()[1])
    os.kill(server, signal.SIGKILL)
    stdout, stderr = render.communicate(timeout=300)
    assert render.returncode == 1, stdout + stderr
    assert ": 3 rendered" in stdout and "FAILED quantia-tech" in stdout, stdout
    assert "render server ended" in stdout
    wait_for(lambda: not _alive([victim_child]), timeout=15, what="the killed server's report to end")


@pytest.mark.slow
@pytest.mark.parametrize("trap", [
    "import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(300)\n    os._exit(0)\n",
    "import subprocess, sys, time\npid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']).pid\n",
])
def test_a_timeout_ends_the_report_with_everything_it_started(tmp_path: Path, trap: str):
    record = tmp_path / "started.pid"
    trap += f"open({str(record)!r}, 'w').write(str(pid))\ntime.sleep(300)"
    started = time.monotonic()
    table = ck.render(_cases(tmp_path), tmp_path / "out", timeout=4, progress=False, case_ids=["quantia-tech"],
                      notebooks=_notebooks(tmp_path, trap))
    assert time.monotonic() - started < 60  # the 4 s timeout ended it, not the trap's 300 s sleep
    assert table.set_index("report").loc["quantia-tech", "error"].startswith("CellTimeoutError")
    assert _alive([int(record.read_text())]) == []


def test_a_memory_hungry_cell_fails_its_report_alone(tmp_path: Path):
    table = ck.render(_cases(tmp_path), tmp_path / "out", progress=False, memory_limit="1GB",
                      notebooks=_notebooks(tmp_path, "hog = bytearray(3 * 2**30)")).set_index("report")
    assert table.loc["quantia-tech", "status"] == "failed" and "MemoryError" in table.loc["quantia-tech", "error"]
    assert (table.drop("quantia-tech")["status"] == "ok").all(), table["error"].tolist()


def test_the_output_pipe_closes_when_the_render_ends(tmp_path: Path):
    # `casekit render | tee log` must not wait for anything the render started: a server left holding the pipe
    # would keep `cat` reading until the timeout
    result = subprocess.run(f"{sys.executable} -m casekit render {_cases(tmp_path)} --out {tmp_path / 'out'} "
                            "--case voltcart-ecommerce --no-progress-bar | cat", shell=True, capture_output=True,
                            text=True, timeout=300)
    assert ": 1 rendered" in result.stdout


@pytest.mark.parametrize("trap", [
    # a new session: not in the report's process group
    "import subprocess, sys\npid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], "
    "start_new_session=True).pid\n",
    # a daemon: double fork and setsid, its parent gone at once
    "import os, time\nread, write = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
    "        os.write(write, str(os.getpid()).encode())\n        time.sleep(300)\n    os._exit(0)\n"
    "pid = int(os.read(read, 32))\n",
])
def test_a_process_a_report_detaches_ends_with_the_report(tmp_path: Path, trap: str):
    record = tmp_path / "started.pid"
    trap += f"open({str(record)!r}, 'w').write(str(pid))\n"
    table = ck.render(_cases(tmp_path), tmp_path / "out", progress=False, case_ids=["quantia-tech"],
                      notebooks=_notebooks(tmp_path, trap))
    assert (table["status"] == "ok").all(), table["error"].tolist()
    wait_for(lambda: not _alive([int(record.read_text())]), timeout=15, what="the escaped process to end")


def test_jobs_are_capped_and_a_report_keeps_a_memory_floor(tmp_path: Path, monkeypatch):
    from casekit.rendering.parameters import max_jobs, memory_bytes

    result = subprocess.run([sys.executable, "-m", "casekit", "render", str(_cases(tmp_path)), "--out",
                             str(tmp_path / "out"), "--no-progress-bar", "--jobs", "1000"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--jobs 1000 is more reports at once than this machine" in result.stderr
    assert f"at most {max_jobs()}" in result.stderr
    monkeypatch.setattr(os, "sysconf", lambda name: {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 2**18}[name])  # 1 GiB
    with pytest.raises(ck.RenderError, match=r"--jobs 8 leaves 67 MB a report .* at least 200 MB"):
        memory_bytes("auto", 8)
