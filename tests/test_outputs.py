"""The output folder's contract, through a fake runner: casekit owns only what it writes, the last good copy
survives a failure, damaged outputs re-render, one run at a time, names that cannot collide."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeRunner, copy_cases

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    return copy_cases(tmp_path / "cases", "quantia-tech", "voltcart-ecommerce")


def _render(cases: Path, out: Path, runner=None, **options):
    return ck.render(cases, out, runner=runner or FakeRunner(), progress=False, **options)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}


def test_an_out_holding_someone_elses_files_is_refused_unless_forced(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    mine = {".thesis.tmp": b"chapter 1", ".notes.tmp.swp": b"swap"}
    for name, content in mine.items():
        (out / name).write_bytes(content)
    with pytest.raises(ck.RenderError, match=r"holds files casekit did not write \(\.notes\.tmp\.swp, \.thesis\.tmp\); "
                                             r"choose an empty or new folder, or pass --force"):
        _render(cases, out)
    assert _snapshot(out) == mine and sorted(p.name for p in out.iterdir()) == sorted(mine)  # no lock left either
    _render(cases, out, force=True)
    _render(cases, out, force=True)
    assert {name: (out / name).read_bytes() for name in mine} == mine  # beside them, never removed
    assert "index.html" in _snapshot(out)


@pytest.mark.parametrize("name", ["index.html", "manifest.json", "quantia-tech.html", "portfolio.ipynb",
                                  "voltcart-ecommerce.failed.ipynb"])
def test_force_never_overwrites_a_file_casekit_did_not_write(cases: Path, tmp_path: Path, name: str):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(b"<p>my own page</p>")
    for force in (False, True):
        with pytest.raises(ck.RenderError, match=rf"holds {re.escape(name)}, which casekit did not write and would "
                                                 r"have to replace; casekit never overwrites a file it did not "
                                                 r"write, even with --force"):
            _render(cases, out, force=force)
    assert _snapshot(out) == {name: b"<p>my own page</p>"}


def test_a_users_folder_named_like_casekits_staging_is_never_removed(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out)
    notes = out / ".casekit-staging-notes"
    notes.mkdir()
    (notes / "draft.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ck.RenderError, match=r"\.casekit-staging-notes"):
        _render(cases, out)
    _render(cases, out, force=True)
    assert (notes / "draft.txt").read_text(encoding="utf-8") == "mine"


def test_a_second_run_needs_no_force_once_casekit_owns_the_folder(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out)
    runner = FakeRunner()
    _render(cases, out, runner=runner)  # the folder holds only casekit's files
    assert runner.jobs == []  # and all of them unchanged


@pytest.mark.parametrize("where", ["root", "cases", "inside a case"])
def test_out_may_not_be_the_root_or_the_cases(cases: Path, where: str):
    out = {"root": Path("/"), "cases": cases, "inside a case": cases / "quantia-tech" / "reports"}[where]
    with pytest.raises(ck.RenderError, match="filesystem's root|inside the cases folder"):
        _render(cases, out)
    assert not (cases / "quantia-tech" / "reports").exists()


@pytest.mark.parametrize("reserved", ["index", "portfolio", "manifest"])
def test_a_case_cannot_take_the_name_of_casekits_own_pages(cases: Path, tmp_path: Path, reserved: str):
    shutil.copytree(cases / "quantia-tech", cases / reserved)
    yaml = cases / reserved / "case.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("id: quantia-tech", f"id: {reserved}"), encoding="utf-8")
    runner = FakeRunner()
    table = _render(cases, tmp_path / "out", runner=runner)
    refused = table[table["error"].str.contains("is the name of casekit's")]
    assert refused["report"].tolist() == [reserved] and refused["status"].tolist() == ["failed"]
    assert [job.name for job in runner.jobs].count(reserved) == (reserved == "portfolio")  # only the real portfolio
    assert (tmp_path / "out" / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_failed_rerender_keeps_the_last_good_copy(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out)
    good = (out / "quantia-tech.html").read_bytes()
    table = _render(cases, out, runner=FakeRunner(fail={"quantia-tech"}), force=True).set_index("report")
    assert (out / "quantia-tech.html").read_bytes() == good and (out / "quantia-tech.ipynb").is_file()
    assert (out / "quantia-tech.failed.ipynb").is_file()
    assert table.loc["quantia-tech", "html"] == "quantia-tech.html"  # the last good copy, still linked
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "last good copy: its latest render failed" in index and "(the last good copy is kept)" in index
    runner = FakeRunner()
    _render(cases, out, runner=runner)  # a failed report is tried again, though its inputs are unchanged
    assert [job.name for job in runner.jobs] == ["quantia-tech"]
    assert not (out / "quantia-tech.failed.ipynb").exists()  # the new good copy replaces the failure's notebook


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_a_damaged_or_missing_output_is_rendered_again(cases: Path, tmp_path: Path, damage):
    out = tmp_path / "out"
    _render(cases, out)
    if damage is None:
        (out / "quantia-tech.ipynb").unlink()
    else:
        (out / "quantia-tech.html").write_bytes(damage)
    runner = FakeRunner()
    _render(cases, out, runner=runner, force=damage is None)
    assert "quantia-tech" in [job.name for job in runner.jobs]


def test_an_output_that_is_not_whole_never_replaces_a_good_one(cases: Path, tmp_path: Path):
    class Truncating(FakeRunner):
        def run(self, jobs):
            for outcome in super().run(jobs):
                Path(jobs[0].out, f"{outcome.report}.html").write_text("<html><body>cut sho", encoding="utf-8")
                yield outcome

    out = tmp_path / "out"
    _render(cases, out)
    good = (out / "quantia-tech.html").read_bytes()
    table = _render(cases, out, runner=Truncating(), force=True).set_index("report")
    assert table.loc["quantia-tech", "error"] == "DamagedReport: the HTML page is incomplete"
    assert (out / "quantia-tech.html").read_bytes() == good


def test_links_planted_in_out_are_replaced_not_written_through(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (out / "quantia-tech.html").unlink()
    (out / "quantia-tech.html").symlink_to(victim)
    for planted in (".quantia-tech.tmp.html", ".index.html.tmp", ".manifest.json.tmp"):
        (out / planted).symlink_to(victim)
    _render(cases, out, force=True)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (out / "quantia-tech.html").is_symlink()


def test_a_full_disk_fails_the_report_in_one_line_and_loses_nothing(cases: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    _render(cases, out)
    before = _snapshot(out)
    from casekit.rendering import outputs

    real_replace = os.replace

    def full(source, target):
        if str(target).endswith("quantia-tech.html"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(outputs.os, "replace", full)
    table = _render(cases, out, force=True).set_index("report")
    assert table.loc["quantia-tech", "error"].endswith("the disk is full; the last good copy is kept")
    assert (out / "quantia-tech.html").read_bytes() == before["quantia-tech.html"]


def test_one_run_at_a_time_per_folder(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time\n"
                               f"fd = os.open({str(out / '.casekit.lock')!r}, os.O_RDWR)\n"
                               "fcntl.flock(fd, fcntl.LOCK_EX)\nos.ftruncate(fd, 0)\nos.pwrite(fd, b'4242', 0)\n"
                               "print('held', flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ck.RenderError, match=r"another casekit render \(pid 4242\) is writing to"):
            _render(cases, out, force=True)
    finally:
        holder.kill()
        holder.wait()
    _render(cases, out, force=True)  # a lock is released when its holder ends, however it ends


def test_a_subset_render_keeps_the_other_reports_in_the_index_and_manifest(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out)
    _render(cases, out, case_ids=["quantia-tech"], force=True)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert sorted(manifest) == ["portfolio", "quantia-tech", "voltcart-ecommerce"]
    assert 'href="voltcart-ecommerce.html"' in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("manifest", ['[1, 2]', '{"quantia-tech": 3}', "not json", "DIR",
                                      '{"x": {"html": "javascript:alert(1)", "files": {"x.html": "0"}}}'])
def test_a_damaged_manifest_is_read_as_empty_and_never_linked(cases: Path, tmp_path: Path, manifest: str):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".casekit.lock").write_text("", encoding="ascii")  # casekit has written here before
    if manifest == "DIR":
        (out / "manifest.json").mkdir()
    else:
        (out / "manifest.json").write_text(manifest, encoding="utf-8")
    from casekit.rendering.outputs import read_manifest

    entries = read_manifest(out)
    assert all(entry.get("html", "") in ("", *entry["files"]) for entry in entries.values())
    if manifest != "DIR":
        table = _render(cases, out)
        assert "javascript:" not in (out / "index.html").read_text(encoding="utf-8")
        if manifest == "not json":
            assert any("manifest.json was damaged (not JSON" in note for note in table.attrs["notes"])


def test_failing_twice_leaves_no_file_casekit_would_later_call_foreign(cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    _render(cases, out, runner=FakeRunner(fail={"quantia-tech"}))
    bad = cases / "quantia-tech" / "kpis.csv"
    bad.write_text("period,kpi,value\n", encoding="utf-8")  # now invalid: no kernel, no new partial notebook
    _render(cases, out)
    bad.unlink()
    shutil.copy(ROOT / "cases" / "quantia-tech" / "kpis.csv", bad)
    _render(cases, out)  # no --force needed: every file in out is still casekit's
    assert not (out / "quantia-tech.failed.ipynb").exists()  # and the good render removed the old partial


@pytest.mark.parametrize("notebook, error", [
    ('{"cells": [{"cell_type": "code", "sou', "DamagedReport: JSONDecodeError"),  # cut short
    ('{"nbformat": 4, "cells": {}}', "DamagedReport: the notebook is not a version 4 notebook with cells"),
    ("[]", "DamagedReport: the notebook is not a version 4 notebook with cells"),
])
def test_a_notebook_that_is_not_whole_never_replaces_a_good_one(cases: Path, tmp_path: Path, notebook, error):
    class Damaging(FakeRunner):
        def run(self, jobs):
            for outcome in super().run(jobs):
                Path(jobs[0].out, f"{outcome.report}.ipynb").write_text(notebook, encoding="utf-8")
                yield outcome

    out = tmp_path / "out"
    _render(cases, out)
    good = (out / "quantia-tech.ipynb").read_bytes()
    table = _render(cases, out, runner=Damaging(), force=True).set_index("report")
    assert table.loc["quantia-tech", "error"].startswith(error)
    assert (out / "quantia-tech.ipynb").read_bytes() == good


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_the_index_and_manifest_are_as_readable_as_the_reports(cases: Path, tmp_path: Path, umask):
    # a web server or a colleague that may read the reports may read the index that links them
    old = os.umask(umask)
    try:
        _render(cases, tmp_path / "out")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")}
    assert set(modes.values()) == {0o666 & ~umask}, modes
