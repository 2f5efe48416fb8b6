"""Planning a render, skipping the unchanged, the index and failure reporting, through a fake runner (no kernel),
and the report parameters casekit refuses, through casekit render and through papermill's own command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import FakeRunner, copy_cases, edit, opened_files

import casekit as ck
from casekit.rendering.jobs import Job
from casekit.rendering.parameters import parse_value

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "casekit" / "notebooks"
BIN = Path(sys.executable).parent


@pytest.fixture
def three_cases(tmp_path: Path) -> Path:
    return copy_cases(tmp_path / "cases", "northwood-paper", "quantia-tech", "voltcart-ecommerce")


def test_render_plans_a_job_per_case_and_the_portfolio(three_cases: Path, tmp_path: Path):
    runner = FakeRunner()
    table = ck.render(three_cases, tmp_path / "out", runner=runner, progress=False, parameters={"alpha": 0.1,
                                                                                              "meta_method": "PM"})
    assert runner.closed and table["report"].tolist() == ["northwood-paper", "quantia-tech", "voltcart-ecommerce",
                                                          "portfolio"]
    jobs = {job.name: job for job in runner.jobs}
    assert jobs["quantia-tech"].parameters == {"case_id": "quantia-tech", "cases_dir": str(three_cases), "alpha": 0.1}
    assert jobs["portfolio"].parameters == {"cases_dir": str(three_cases), "alpha": 0.1, "meta_method": "PM",
                                            "case_ids": ["northwood-paper", "quantia-tech", "voltcart-ecommerce"]}
    assert all(isinstance(job, Job) and Path(job.notebook).is_file() for job in runner.jobs)
    assert table["headline"].tolist()[1] == "headline of quantia-tech"


def test_unchanged_reports_are_skipped_and_a_changed_case_is_rerun(three_cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    ck.render(three_cases, out, runner=FakeRunner(), progress=False)
    again = FakeRunner()
    table = ck.render(three_cases, out, runner=again, progress=False)
    assert again.jobs == [] and table["skipped"].all() and (table["status"] == "ok").all()
    assert table.loc[table["report"] == "quantia-tech", "headline"].item() == "headline of quantia-tech"
    kpis = three_cases / "quantia-tech" / "kpis.csv"
    kpis.write_text(kpis.read_text(encoding="utf-8") + "2024-12,defect_density,2.0\n", encoding="utf-8")
    changed = FakeRunner()
    ck.render(three_cases, out, runner=changed, progress=False)
    assert sorted(job.name for job in changed.jobs) == ["portfolio", "quantia-tech"]
    forced = FakeRunner()
    ck.render(three_cases, out, runner=forced, progress=False, force=True)
    assert len(forced.jobs) == 4
    other = FakeRunner()
    ck.render(three_cases, out, runner=other, progress=False, parameters={"alpha": 0.1})
    assert len(other.jobs) == 4  # new parameters, new reports


def test_failures_and_invalid_cases_reach_the_table_and_the_index(three_cases: Path, tmp_path: Path):
    (three_cases / "northwood-paper" / "appraisals.csv").write_text("date,method,maturity_level\n2020-01-01,SCAMPI A,7\n",
                                                                   encoding="utf-8")
    out = tmp_path / "out"
    table = ck.render(three_cases, out, runner=FakeRunner(fail={"quantia-tech"}), progress=False).set_index("report")
    assert table.loc["quantia-tech", ["status", "error", "cell", "ipynb"]].tolist() == [
        "failed", "RuntimeError: boom <quantia-tech>", 7, "quantia-tech.failed.ipynb"]
    assert table.loc["northwood-paper", "error"].startswith("invalid case: ")
    assert "maturity_level" in table.loc["northwood-paper", "error"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "boom &lt;quantia-tech&gt;" in index and "<quantia-tech>" not in index  # escaped by the template
    assert 'href="quantia-tech.failed.ipynb"' in index and '<td data-label="cell">7</td>' in index
    assert 'href="voltcart-ecommerce.html"' in index and "headline of voltcart-ecommerce" in index
    assert "2 reports from the cases folder" in index and "2 failed in their latest render" in index
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest = manifest["reports"]
    assert {name: entry["status"] for name, entry in manifest.items()} == {
        "northwood-paper": "failed", "quantia-tech": "failed", "voltcart-ecommerce": "ok", "portfolio": "ok"}
    assert sorted(manifest["quantia-tech"]["files"]) == ["quantia-tech.failed.ipynb"]


@pytest.mark.parametrize("options", [{}, {"case_ids": ["quantia-tech", "voltcart-ecommerce"]},
                                     {"parameters": {"kpis": ["defect_density"], "primary": "defect_density"}}])
def test_a_render_reads_each_case_file_once(three_cases: Path, tmp_path: Path, options: dict):
    out = tmp_path / "out"
    ck.render(three_cases, out, runner=FakeRunner(), progress=False)
    for run in ("changed", "unchanged"):  # a render that re-runs reports, and one that skips them all
        if run == "changed":
            edit(three_cases / "quantia-tech" / "case.yaml", "name: Quantia Software", "name: Quantia Software Ltd")
        with opened_files() as opened:
            table = ck.render(three_cases, out, runner=FakeRunner(), progress=False, **options)
        read = Counter(path.relative_to(three_cases).as_posix() for path in opened if three_cases in path.parents)
        rendered = options.get("case_ids") or ["northwood-paper", "quantia-tech", "voltcart-ecommerce"]
        expected = {f"{case}/{name}" for case in rendered for name in ("case.yaml", "kpis.csv", "appraisals.csv")}
        assert expected <= set(read), (run, sorted(expected - set(read)))
        assert all(count == 1 for count in read.values()), (run, read)
        assert table["skipped"].all() == (run == "unchanged")


def test_interrupted_run_keeps_what_finished(three_cases: Path, tmp_path: Path):
    class Interrupted(FakeRunner):
        def run(self, jobs):
            yield from super().run(jobs[:1])
            raise KeyboardInterrupt

    runner = Interrupted()
    with pytest.raises(ck.errors.RenderInterrupted) as stop:
        ck.render(three_cases, tmp_path / "out", runner=runner, progress=False)
    assert runner.closed and stop.value.table["report"].tolist() == ["northwood-paper"]
    assert isinstance(stop.value, ck.CasekitError) and isinstance(stop.value, KeyboardInterrupt)
    assert "headline of northwood-paper" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_every_error_casekit_raises_to_users_shares_one_base():
    from casekit.rendering._fast.forking import ChildDied
    from casekit.rendering._fast.inprocess import CellTimeoutError
    from casekit.rendering._fast.server import ServerDied
    from casekit.rendering.cluster import ClusterError

    for error in (ck.CaseError, ck.RenderError, ck.ParameterError, ck.errors.RenderInterrupted, ChildDied,
                  CellTimeoutError, ServerDied, ClusterError):
        assert issubclass(error, ck.CasekitError), error


REFUSED_BY_THE_CASE_REPORT = [
    (["-p", "alpha", "abc"], "alpha must be a number between 0 and 1 (such as 0.05), got 'abc'"),
    (["-p", "alpha", "5"], "alpha must be a number between 0 and 1 (such as 0.05), got 5"),
    (["-p", "alpha", "0"], "alpha must be a number between 0 and 1 (such as 0.05), got 0"),
    (["-p", "transition_months", "-3"], "transition_months must be None (the case's own window) or a whole number "
                                        "of months from 0 to 120, got -3"),
    (["-p", "transition_months", "1.5"], "transition_months must be None (the case's own window) or a whole number "
                                         "of months from 0 to 120, got 1.5"),
    (["-p", "kpis", "defect_density"], "kpis must be None or a list of ids, got str 'defect_density'; for one, "
                                       "pass a list: -y 'kpis: [defect_density]'"),
    (["-y", "kpis: [defect_density, nope]"], "kpis: unknown KPI 'nope'; KPIs are "),
]
REFUSED_BY_THE_PORTFOLIO_REPORT = [
    (["-p", "correction", "bonferroni"], "correction must be one of 'holm', 'bh', 'fdr_bh', 'none', got 'bonferroni'"),
    (["-p", "meta_method", "REML"], "meta_method must be one of 'DL', 'PM', got 'REML'"),
    (["-y", "case_ids: [quantia-tech, nope]"], "case_ids: no case 'nope' in"),
    (["-p", "reference_file", "missing.csv"], "reference_file must be None (casekit's SEI 2006 data) or a CSV file's "
                                              "path, got 'missing.csv'"),
    (["-p", "sectors", "Technology"], "sectors must be None or a list of names, got str 'Technology'"),
]


@pytest.mark.parametrize("arguments, message", REFUSED_BY_THE_CASE_REPORT + REFUSED_BY_THE_PORTFOLIO_REPORT[:2] + [
    (["-p", "alhpa", "0.1"], "no report takes a parameter 'alhpa'; they take alpha, correction, discount_rate, kpis"),
    (["-p", "case_id", "123"], "case_id is set by casekit render for each report; use --case ID"),
    (["-p", "cases_dir", "x"], "cases_dir is set by casekit render for each report; use the CASES_DIR argument"),
])
def test_casekit_render_refuses_a_bad_parameter_before_any_kernel(tmp_path: Path, arguments, message):
    result = subprocess.run([str(BIN / "casekit"), "render", str(ROOT / "cases"), "--out", str(tmp_path / "out"),
                             *arguments], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"casekit render: {message}" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("notebook, arguments, message", [
    ("case_report.ipynb", arguments, message) for arguments, message in REFUSED_BY_THE_CASE_REPORT + [
        (["-p", "case_id", "123"], "case_id must be a case's id (text), got int 123"),
        (["-p", "case_id", "nope"], "case_id: no case 'nope' in"),
        (["-p", "cases_dir", "/nonexistent/cases"], "cases_dir: no folder /nonexistent/cases")]
] + [("portfolio_report.ipynb", arguments, message) for arguments, message in REFUSED_BY_THE_PORTFOLIO_REPORT])
def test_papermills_cli_gets_the_same_one_line_refusal(tmp_path: Path, notebook, arguments, message):
    result = subprocess.run([str(BIN / "papermill"), str(NOTEBOOKS / notebook), str(tmp_path / "o.ipynb"),
                             "--cwd", str(ROOT), "--no-progress-bar", *arguments],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"papermill: {message}" in result.stderr
    said = _without_kernel_noise(result.stderr)
    assert "Traceback" not in said and "PapermillExecutionError" not in said


_TRACEBACK = re.compile(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)*\S.*(?:\n|$)")
_KERNEL_MACHINERY = ("/zmq/", "/ipykernel/", "/jupyter_client/", "/tornado/", "/asyncio/", "/threading.py", "zmq/backend")


def _without_kernel_noise(stderr: str) -> str:
    """stderr without the tracebacks the kernel's own machinery logs and survives (a heartbeat port taken by
    another socket between jupyter_client choosing it and the kernel binding it, a stream closed at
    shutdown): every frame of such a traceback is in zmq, ipykernel, jupyter_client, tornado or asyncio.
    What the notebook itself raises keeps its traceback, and fails the test."""
    def noise(block: re.Match) -> str:
        frames = re.findall(r'^\s*File "([^"]+)"', block.group(), flags=re.M)
        return "" if frames and all(any(part in frame for part in _KERNEL_MACHINERY) for frame in frames) \
            else block.group()

    return _TRACEBACK.sub(noise, stderr)


def test_python_parameters_are_checked_like_the_command_lines(three_cases: Path, tmp_path: Path):
    with pytest.raises(ck.ParameterError, match=re.escape("alpha must be a number between 0 and 1")):
        ck.render(three_cases, tmp_path / "out", parameters={"alpha": 1.5}, runner=FakeRunner(), progress=False)
    with pytest.raises(ck.ParameterError, match="kpis: unknown KPI 'x'"):
        ck.check_report_parameters(kpis=["defect_density", "x"], case_id="quantia-tech", cases_dir=three_cases)
    ck.check_report_parameters(kpis=["defect_density"], case_id="quantia-tech", cases_dir=three_cases,
                               transition_months=0, alpha=0.01, correction="bh", meta_method="PM", seed=3)
    assert not (tmp_path / "out").exists()


def test_a_kpi_a_case_defines_itself_is_known(tmp_path: Path, case_dir: Path):
    ck.check_report_parameters(kpis=["review_coverage"], case_id="acme", cases_dir=case_dir)


def test_values_are_read_as_papermill_reads_them():
    assert [parse_value(v) for v in ("0.1", "-3", "True", "False", "None", "bh", "1e-3")] == [
        0.1, -3, True, False, None, "bh", 0.001]


@pytest.mark.parametrize("arguments, message", [
    (["--timeout", "-5"], "timeout must be a positive, finite number of seconds, got -5.0"),
    (["--jobs", "0"], "jobs must be a whole number of at least 1, got 0"),
])
def test_run_settings_are_refused_at_the_command_line(tmp_path: Path, arguments, message):
    for command in (["render", str(ROOT / "cases"), "--out", str(tmp_path / "out")],
                    ["workshop", "--out", str(tmp_path / "out")]):
        result = subprocess.run([str(BIN / "casekit"), *command, *arguments], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 2 and f": {message}" in result.stderr and "Traceback" not in result.stderr


def _needs_chromium():
    import os
    import shutil

    if not (shutil.which("chromium") or shutil.which("chromium-browser")) and not os.environ.get("CI"):
        pytest.skip("Chromium not installed (apt-get install chromium)")


def test_pdf_for_every_report_recorded_linked_and_kept_in_step_with_its_page(three_cases: Path, tmp_path: Path):
    _needs_chromium()
    out = tmp_path / "out"
    table = ck.render(three_cases, out, runner=FakeRunner(), progress=False, pdf=True)
    assert table.attrs["notes"] == []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in ["northwood-paper", "quantia-tech", "voltcart-ecommerce", "portfolio"]:
        pdf = out / f"{name}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF") and manifest[name]["pdf"] == pdf.name
        assert pdf.name in manifest[name]["files"] and f'href="{pdf.name}"' in index
    # a report rendered again without --pdf: its PDF, of the page it replaces, goes with it
    edit(three_cases / "quantia-tech" / "case.yaml", "name: Quantia Software", "name: Quantia Software Ltd")
    ck.render(three_cases, out, runner=FakeRunner(), progress=False)
    assert not (out / "quantia-tech.pdf").exists() and (out / "northwood-paper.pdf").exists()
    # asked again, an unchanged report is not run, but its missing PDF is printed
    runner = FakeRunner()
    table = ck.render(three_cases, out, runner=runner, progress=False, pdf=True)
    assert table["skipped"].all() and runner.jobs == [] and (out / "quantia-tech.pdf").exists()
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]["quantia-tech"]["pdf"]


def test_a_pdf_that_cannot_be_printed_is_a_note_and_the_reports_stand(three_cases: Path, tmp_path: Path,
                                                                      monkeypatch):
    monkeypatch.setenv("CASEKIT_CHROMIUM", str(tmp_path / "no-such-browser"))
    table = ck.render(three_cases, tmp_path / "out", runner=FakeRunner(), progress=False, pdf=True)
    assert (table["status"] == "ok").all() and not list((tmp_path / "out").glob("*.pdf"))
    assert any(note.startswith("no PDF was written: --pdf could not start Chromium") for note in table.attrs["notes"])
