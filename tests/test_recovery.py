"""Recovery without --force: after kill -9 of a render, with a damaged manifest, with a second run started
mid-run, and after SIGTERM, casekit knows its own files and says what it found."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import copy_cases

CASES = ("northwood-paper", "quantia-tech", "voltcart-ecommerce")


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    return copy_cases(tmp_path / "cases", *CASES)


def _casekit(*arguments: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", *arguments], capture_output=True, text=True,
                          timeout=600, **options)


def _start(cases: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "casekit", "render", str(cases), "--out", str(out), "--jobs", "1",
                             "--no-progress-bar"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _wait_for(condition, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, "the render ended before the moment the test waits for"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _published(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("*.html") if p.name != "index.html")


def _stopped_after_a_report(cases: Path, out: Path, how: int) -> None:
    """Start a render, and send its process group ``how`` once a report is in place."""
    render = _start(cases, out)
    try:
        _wait_for(lambda: len(_published(out)) >= 1, render)
    finally:
        os.killpg(render.pid, how)
        render.wait(timeout=120)


@pytest.mark.slow
def test_after_kill_9_a_plain_rerun_recovers_and_needs_no_force(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _stopped_after_a_report(cases, out, signal.SIGKILL)
    assert not (out / "manifest.json").exists()  # killed before it could write its manifest
    again = _casekit("render", str(cases), "--out", str(out), "--no-progress-bar")
    assert again.returncode == 0, again.stderr
    assert "holds files casekit did not write" not in again.stderr
    assert not list(out.glob(".casekit-staging-*")) and not list(out.glob("*.casekit-tmp*"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert sorted(manifest) == sorted([*CASES, "portfolio"])


@pytest.mark.slow
def test_a_damaged_manifest_is_named_and_rebuilt(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    first = _casekit("render", str(cases), "--out", str(out), "--case", "quantia-tech", "--case", "northwood-paper",
                     "--no-progress-bar")
    assert first.returncode == 0, first.stderr
    (out / "manifest.json").write_text('{"format": "casekit-manif', encoding="utf-8")
    again = _casekit("render", str(cases), "--out", str(out), "--case", "voltcart-ecommerce", "--no-progress-bar")
    assert again.returncode == 0, again.stderr
    assert "manifest.json was damaged (not JSON" in again.stdout and "rebuilt" in again.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert {"quantia-tech", "northwood-paper", "voltcart-ecommerce"} <= set(manifest)  # the others recognised
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="quantia-tech.html"' in index and 'href="voltcart-ecommerce.html"' in index


def test_a_second_run_mid_run_is_told_the_holders_pid(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    render = _start(cases, out)
    try:
        _wait_for(lambda: (out / ".casekit.lock").is_file() and (out / ".casekit.lock").read_text().strip(), render)
        _wait_for(lambda: list(out.glob(".casekit-staging-*")), render)
        second = _casekit("render", str(cases), "--out", str(out), "--no-progress-bar")
    finally:
        os.killpg(render.pid, signal.SIGKILL)
        render.wait()
    assert second.returncode == 2
    assert f"another casekit render (pid {render.pid}) is writing to" in second.stderr, second.stderr


def test_sigterm_leaves_no_temporaries(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _stopped_after_a_report(cases, out, signal.SIGTERM)
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".casekit.lock"]
    assert leftovers == []
