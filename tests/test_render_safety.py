"""Render safety: unchanged reports skipped (manifest), --force, Ctrl-C, escaping, no path escapes."""

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import alive, copy_cases, descendants, wait_for

import casekit as ck
from casekit.errors import RenderError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def two_cases(tmp_path: Path) -> Path:
    return copy_cases(tmp_path / "cases", "quantia-tech", "chemhaven-specialty")


@pytest.mark.slow
def test_unchanged_reports_are_skipped_and_force_renders_all(two_cases: Path, tmp_path: Path):
    out = tmp_path / "out"
    first = ck.render(two_cases, out, progress=False).set_index("report")
    assert not first["skipped"].any() and (first["status"] == "ok").all()
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.*")
              if p.name not in ("index.html", "manifest.json", ".casekit.lock")}

    again = ck.render(two_cases, out, progress=False).set_index("report")
    assert again["skipped"].all()
    assert multiprocessing.active_children() == []  # the workers started early were stopped
    assert again.loc["quantia-tech", "headline"] == first.loc["quantia-tech", "headline"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.*") if p.name in stamps} == stamps

    # one case file changes: that case and the portfolio (which reads every case) are rendered again
    kpis = two_cases / "chemhaven-specialty" / "kpis.csv"
    kpis.write_text(kpis.read_text(encoding="utf-8").replace("2018-07,cost_of_quality,12.2", "2018-07,cost_of_quality,12.3"),
                    encoding="utf-8")
    changed = ck.render(two_cases, out, progress=False).set_index("report")
    assert changed["skipped"].to_dict() == {"chemhaven-specialty": False, "quantia-tech": True, "portfolio": False}

    forced = ck.render(two_cases, out, progress=False, force=True)
    assert not forced["skipped"].any()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_cleanly(tmp_path: Path):
    cases = tmp_path / "cases"
    for path in sorted((ROOT / "cases").iterdir()):
        shutil.copytree(path, cases / path.name)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "casekit", "render", str(cases), "--out", str(out),
                                "--jobs", "2", "--no-progress-bar"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    wait_for(lambda: list(out.glob("*.html")), what="one report to finish")
    family: set[int] = set()

    def more_running() -> bool:  # the render servers and the children running the next reports
        family.update(descendants(process.pid))
        return len(family) >= 3

    wait_for(more_running, what="the next reports to start")
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stdout + stderr[-3000:]
    assert "interrupted:" in stderr and "Traceback" not in stderr
    wait_for(lambda: not [pid for pid in family if alive(pid)], timeout=30,
             what="every process the render started to end")  # no orphaned kernels or workers
    assert not list(out.glob(".*tmp*"))  # no half-written files
    finished = {p.stem for p in out.glob("*.html")} - {"index"}
    assert finished and len(finished) < 9
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}.html"' in index for name in finished)
    for name in finished:
        assert (out / f"{name}.ipynb").exists()


def test_text_from_case_files_is_escaped_in_html(tmp_path: Path):
    cases = copy_cases(tmp_path / "cases", "quantia-tech", "voltcart-ecommerce")  # two: the portfolio is checked too
    case_yaml = cases / "quantia-tech" / "case.yaml"
    attack = "<script>alert('x')</script>"
    case_yaml.write_text(case_yaml.read_text(encoding="utf-8")
                         .replace("name: Quantia Software", f'name: "{attack} Quantia"')
                         .replace("statement: Halve the defects customers find", f'statement: "{attack} Halve defects"'),
                         encoding="utf-8")
    out = tmp_path / "out"
    ck.render(cases, out, progress=False)
    for page in ("index.html", "quantia-tech.html", "portfolio.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert attack not in text, page
    assert "&lt;script&gt;alert" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("case_id", ["../cases", "/etc", "quantia-tech/../../x", ".."])
def test_case_arguments_cannot_escape(tmp_path: Path, case_id: str):
    with pytest.raises(RenderError, match="no case"):
        ck.render(ROOT / "cases", tmp_path / "out", case_ids=[case_id], progress=False)
    assert not (tmp_path / "out").exists()


def test_parameters_are_passed_as_data(two_cases: Path, tmp_path: Path):
    """A value that looks like code stays a string in the injected parameters cell."""
    import nbformat

    from casekit.inputs.project import NOTEBOOKS

    out = tmp_path / "nb.ipynb"
    import papermill

    papermill.execute_notebook(str(NOTEBOOKS / "case_report.ipynb"), str(out), prepare_only=True,
                               parameters={"case_id": "x'); import os; os.system('touch pwned'); ('"})
    injected = [c for c in nbformat.read(out, as_version=4).cells if "injected-parameters" in c.metadata.get("tags", [])]
    namespace = {}
    exec(injected[0].source, namespace)  # noqa: S102 - the injected cell, run to read what it assigns
    assert namespace["case_id"] == "x'); import os; os.system('touch pwned'); ('"
    assert not Path("pwned").exists()
