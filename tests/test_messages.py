"""One-line messages with the fix, exit 2 for usage errors, never a traceback: init and new on odd paths, a bad
matplotlib backend, simulate's ranges, a linked lock, control characters in problems."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _casekit(*arguments: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", *arguments], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env)


@pytest.mark.parametrize("setup, message", [
    ("dangling", "is a symbolic link"),
    ("link to an empty folder", "is a symbolic link"),
    ("parent is a file", "parent is a file, not a folder"),
])
def test_init_on_odd_paths_says_what_is_wrong(tmp_path: Path, setup: str, message: str):
    target = "parent/project" if setup == "parent is a file" else "project"
    if setup == "dangling":
        (tmp_path / "project").symlink_to(tmp_path / "nowhere")
    elif setup == "link to an empty folder":
        (tmp_path / "empty").mkdir()
        (tmp_path / "project").symlink_to(tmp_path / "empty")
    else:
        (tmp_path / "parent").write_text("", encoding="utf-8")
    result = _casekit("init", target, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("setup", ["dangling", "parent is a file"])
def test_new_on_odd_paths_says_what_is_wrong(tmp_path: Path, setup: str):
    if setup == "dangling":
        (tmp_path / "cases").symlink_to(tmp_path / "nowhere")
        cases = "cases"
    else:
        (tmp_path / "parent").write_text("", encoding="utf-8")
        cases = "parent/cases"
    result = _casekit("new", "acme", "--cases", cases, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr and cases in result.stderr, result.stderr


@pytest.mark.parametrize("option, value", [("--noise", "-1"), ("--heterogeneity", "-0.1"), ("--trend", "3")])
def test_simulate_refuses_values_out_of_range(tmp_path: Path, option: str, value: str):
    result = _casekit("simulate", "--orgs", "2", "--effect", "0.1", "--seed", "1", "--out", str(tmp_path / "s"),
                      option, value)
    assert result.returncode == 2 and option[2:] in result.stderr and "scale < 0" not in result.stderr


def test_a_bad_matplotlib_backend_is_named(tmp_path: Path):
    result = _casekit("render", str(ROOT / "cases"), "--out", str(tmp_path / "out"), "--case", "quantia-tech",
                      "--no-progress-bar", env={**os.environ, "MPLBACKEND": "nonsense"})
    assert result.returncode == 1 and "'nonsense' is not a valid value for backend" in result.stdout


def test_a_linked_lock_is_refused_by_name(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".casekit.lock").symlink_to(out / ".casekit.lock")
    result = _casekit("render", str(ROOT / "cases"), "--out", str(out), "--no-progress-bar")
    assert result.returncode == 2 and ".casekit.lock is a symbolic link" in result.stderr


def test_control_characters_in_a_case_are_shown_escaped(tmp_path: Path):
    import shutil

    case = tmp_path / "cases" / "quantia-tech"
    shutil.copytree(ROOT / "cases" / "quantia-tech", case)
    with open(case / "kpis.csv", "a", encoding="utf-8") as file:
        file.write("2031-01,cycle_time,\x00\x1b[31m12\n")
    result = _casekit("validate", str(tmp_path / "cases"))
    assert result.returncode == 1
    assert "\x00" not in result.stdout + result.stderr and "\x1b" not in result.stdout + result.stderr
