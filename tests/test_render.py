"""Batch rendering: all cases, a subset, failures among good reports, parameters checked first."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import after_parameters

import casekit as ck
from casekit.errors import RenderError
from casekit.rendering import check_parameters

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "casekit" / "notebooks"


@pytest.mark.slow
def test_render_all_cases(rendered):
    out, result = rendered
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 reports: 10 rendered, 0 failed" in result.stdout
    assert "the reports are for readers, without code (--with-code" in result.stdout
    ids = sorted(p.name for p in (ROOT / "cases").iterdir() if p.is_dir())
    for name in ids + ["portfolio"]:
        assert (out / f"{name}.ipynb").is_file() and (out / f"{name}.html").is_file()
    assert (out / "index.html").is_file()
    assert not list(out.glob(".*tmp*")) and not list(out.glob("*.failed.ipynb"))


def test_reports_are_self_contained_and_carry_papermill_metadata(rendered):
    out, _ = rendered
    page = (out / "quantia-tech.html").read_text(encoding="utf-8")
    assert re.findall(r'<img[^>]+src="data:image/png;base64,', page)
    assert not re.findall(r'src="https?://', page) and "import(\"http" not in page
    nb = nbformat.read(out / "quantia-tech.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["case_id"] == "quantia-tech"
    assert "load_cases" not in page and "For analysts" not in page  # reports for readers by default
    assert "<title>Quantia Software: CMMI case report</title>" in page
    assert "<title>Portfolio of 8 organizations and 1 published case study: CMMI case studies</title>" in (out / "portfolio.html").read_text(
        encoding="utf-8")


def test_index_lists_every_case_with_headline(rendered):
    out, _ = rendered
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('href="quantia-tech.html"') == 2 and 'href="portfolio.html"' in index
    assert "Quantia Software" in index and "ML2 → ML4" in index
    assert re.search(r"Of 5 KPIs, \d improved", index) and "10 reports from the cases folder" in index and "none failed." in index
    assert str(ROOT) not in index and str(out) not in index  # relative paths only: the folder moves as a whole
    ids = sorted(p.name for p in (ROOT / "cases").iterdir() if p.is_dir())
    positions = [index.index(f'href="{name}.html"') for name in ["portfolio"] + ids]
    assert positions == sorted(positions)  # the portfolio's result first, then the cases by id
    assert "Portfolio: 9 organizations" in index and "Organization by organization, 8 of 8 improved" in index
    assert 'href="motorola-ged.html"' in index  # the published case renders its own report
    quantia = index[index.index('href="quantia-tech.html"'):]
    quantia = quantia[:quantia.index("</tr>")]
    assert "Customer satisfaction, Defect density, Escaped defects, Net Promoter Score" in quantia  # improved


def test_headline_matches_case_findings(rendered):
    out, _ = rendered
    first = ck.compare_case(ck.load_cases(ROOT / "cases"), "meridian-financial").findings().sentences[0]
    assert first in (out / "index.html").read_text(encoding="utf-8")


def test_subset_with_code_for_analysts(tmp_path: Path):
    table = ck.render(ROOT / "cases", tmp_path, case_ids=["voltcart-ecommerce", "atlas-capital"], no_input=False,
                      progress=False)
    assert table["report"].tolist() == ["atlas-capital", "voltcart-ecommerce", "portfolio"]
    assert (table["status"] == "ok").all()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".casekit.lock", "atlas-capital.html", "atlas-capital.ipynb", "index.html", "manifest.json", "portfolio.html", "portfolio.ipynb", "voltcart-ecommerce.html",
        "voltcart-ecommerce.ipynb"]
    page = (tmp_path / "voltcart-ecommerce.html").read_text(encoding="utf-8")
    assert "load_cases" in page and "VoltCart" in page
    assert "For analysts" in page  # the how-to-run note, for analysts
    portfolio = nbformat.read(tmp_path / "portfolio.ipynb", as_version=4)
    assert portfolio.metadata.papermill.parameters["case_ids"] == ["atlas-capital", "voltcart-ecommerce"]


def _broken_notebooks(tmp_path: Path) -> Path:
    """casekit's notebooks, with one case raising and one hanging after the parameters cell."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    nb = nbformat.read(folder / "case_report.ipynb", as_version=4)
    trap = nbformat.v4.new_code_cell(
        'if case_id == "chemhaven-specialty":\n    raise RuntimeError("boom: " + case_id)\n'
        'if case_id == "atlas-capital":\n    import time\n    time.sleep(120)')
    nb.cells.insert(after_parameters(nb), trap)
    nbformat.write(nb, folder / "case_report.ipynb")
    return folder


@pytest.mark.slow
def test_failures_never_stop_the_others(tmp_path: Path):
    cases = tmp_path / "cases"
    for name in ("quantia-tech", "chemhaven-specialty", "atlas-capital", "northwood-paper"):
        shutil.copytree(ROOT / "cases" / name, cases / name)
    (cases / "northwood-paper" / "appraisals.csv").write_text("date,method,maturity_level\n2020-01-01,SCAMPI A,7\n",
                                                              encoding="utf-8")
    out = tmp_path / "out"
    table = ck.render(cases, out, timeout=8, progress=False, notebooks=_broken_notebooks(tmp_path)).set_index("report")
    assert table.loc["quantia-tech", "status"] == "ok" and table.loc["portfolio", "status"] == "ok"
    boom = table.loc["chemhaven-specialty"]
    assert boom["status"] == "failed" and boom["error"] == "RuntimeError: boom: chemhaven-specialty"
    assert boom["ipynb"] == "chemhaven-specialty.failed.ipynb" and (out / boom["ipynb"]).is_file()
    assert not (out / "chemhaven-specialty.html").exists()
    failed_nb = nbformat.read(out / boom["ipynb"], as_version=4)
    assert failed_nb.metadata.papermill.exception
    hung = table.loc["atlas-capital"]
    assert hung["status"] == "failed" and "Timeout" in hung["error"]
    invalid = table.loc["northwood-paper"]
    assert invalid["status"] == "failed" and "maturity_level: expected a whole number 1-5" in invalid["error"]
    portfolio = nbformat.read(out / "portfolio.ipynb", as_version=4)
    assert "northwood-paper" not in portfolio.metadata.papermill.parameters["case_ids"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Failures" in index and "boom: chemhaven-specialty" in index and 'href="chemhaven-specialty.failed.ipynb"' in index
    assert not list(out.glob(".*tmp*"))


def test_cli_lists_failures_and_exits_1(tmp_path: Path):
    cases = tmp_path / "cases"
    for name in ("quantia-tech", "chemhaven-specialty"):
        shutil.copytree(ROOT / "cases" / name, cases / name)
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "broken")  # id does not match the folder
    result = subprocess.run([sys.executable, "-m", "casekit", "render", str(cases), "--out", str(tmp_path / "out"),
                             "--notebooks", str(_broken_notebooks(tmp_path)), "--no-progress-bar"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert "4 reports: 2 rendered, 2 failed" in result.stdout
    assert "FAILED broken: invalid case:" in result.stdout and "must equal the folder name 'broken'" in result.stdout
    assert "FAILED chemhaven-specialty (cell 3): RuntimeError: boom: chemhaven-specialty; partial notebook" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_case_is_refused_before_any_kernel(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out", str(tmp_path),
                             "--case", "nope"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no case 'nope'" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("parameters, message", [
    ({"case_idd": "x"}, "has no parameter 'case_idd'"),
    ({"alpha": "0.05"}, "parameter 'alpha' expects float, got str '0.05'"),
    ({"case_id": 3}, "parameter 'case_id' expects str, got int 3"),
    ({"alpha": True}, "parameter 'alpha' expects float, got bool True"),
])
def test_parameters_checked_against_the_parameters_cell(parameters, message):
    with pytest.raises(RenderError, match=re.escape(message)):
        check_parameters(NOTEBOOKS / "case_report.ipynb", parameters)


def test_good_parameters_pass():
    check_parameters(NOTEBOOKS / "case_report.ipynb", {"case_id": "x", "alpha": 0.1, "transition_months": 3,
                                                        "kpis": ["defect_density"]})
    check_parameters(NOTEBOOKS / "portfolio_report.ipynb", {"case_ids": ["a"], "sectors": None})


def test_notebooks_run_with_papermills_own_cli(tmp_path: Path):
    """From the notebooks folder, as the README says: papermill case_report.ipynb out.ipynb -p case_id <id>."""
    papermill = Path(sys.executable).with_name("papermill")
    out = tmp_path / "out.ipynb"
    result = subprocess.run([str(papermill), "case_report.ipynb", str(out), "-p", "case_id", "chemhaven-specialty",
                             "--no-progress-bar"], cwd=NOTEBOOKS, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    findings = next(c for c in nbformat.read(out, as_version=4).cells if "findings" in c.metadata.get("tags", []))
    assert "Of 4 KPIs" in json.dumps(findings.outputs)


def test_a_kernel_that_fails_to_start_once_is_started_again(tmp_path: Path, monkeypatch):
    # kernels started at the same moment in other workers can race for ports and never answer; a report whose
    # kernel did not start is started once more. Here a "python3" kernel dies at its first launch only.
    from casekit.rendering.execute import execute_report
    from casekit.rendering.jobs import Job

    marker = tmp_path / "launched-once"
    launcher = tmp_path / "launch.py"
    launcher.write_text(
        "import os, pathlib, runpy, sys\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch()\n"
        "    os._exit(1)\n"
        "sys.argv = ['ipykernel_launcher', *sys.argv[1:]]\n"
        "runpy.run_module('ipykernel_launcher', run_name='__main__')\n", encoding="utf-8")
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(launcher), "-f", "{connection_file}"], "display_name": "Python 3",
        "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "in").mkdir()
    nbformat.write(nb, tmp_path / "in" / "r.ipynb")

    outcome = execute_report(Job("r", str(tmp_path / "in" / "r.ipynb"), {}, str(tmp_path), False, 60, "nbclient"))
    assert marker.exists()  # the first launch happened, and died
    assert outcome.status == "ok", outcome.failure
    out = nbformat.read(tmp_path / "r.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "42\n"


@pytest.mark.slow
def test_a_rerender_that_fails_everywhere_keeps_every_good_report(tmp_path: Path):
    out = tmp_path / "out"
    first = ck.render(ROOT / "cases", out, case_ids=["voltcart-ecommerce"], progress=False)
    assert (first["status"] == "ok").all()
    good = {p.name: p.read_bytes() for p in out.glob("*.html") if p.name != "index.html"}
    again = ck.render(ROOT / "cases", out, case_ids=["voltcart-ecommerce"], progress=False, force=True, timeout=0.001)
    assert (again["status"] == "failed").all()
    assert {name: (out / name).read_bytes() for name in good} == good
    assert all((out / name.replace(".html", ".ipynb")).is_file() for name in good)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("last good copy: its latest render failed") == 1


def test_index_shows_kpi_labels_with_colons_and_150_characters(tmp_path):
    """The index takes the findings as data, so any label a case may give (up to 200 characters) comes through."""
    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "quantia-tech")
    colon = "Defects: found by customers"
    long = "Escaped defects per thousand function points, as counted by the customer support team " + "x" * 64
    assert len(long) == 150
    yaml_text = (cases / "quantia-tech" / "case.yaml").read_text(encoding="utf-8")
    definition = "".join(f"  {kpi}:\n    label: '{label}'\n    unit: per KLOC\n    better: lower\n    category: quality\n"
                         for kpi, label in (("defects_colon", colon), ("defects_long", long)))
    (cases / "quantia-tech" / "case.yaml").write_text(yaml_text + "kpis:\n" + definition, encoding="utf-8")
    kpis = cases / "quantia-tech" / "kpis.csv"
    rows = [line for line in kpis.read_text(encoding="utf-8").splitlines() if ",defect_density," in line]
    extra = [line.replace(",defect_density,", f",{kpi},") for kpi in ("defects_colon", "defects_long") for line in rows]
    kpis.write_text(kpis.read_text(encoding="utf-8") + "\n".join(extra) + "\n", encoding="utf-8")
    assert ck.validate_cases(cases) == []
    table = ck.render(cases, tmp_path / "out", case_ids=["quantia-tech"], progress=False, no_input=True)
    assert (table["status"] == "ok").all(), table
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    row = index[index.index('href="quantia-tech.html"'):]
    improved = row[:row.index("</tr>")].split('data-label="improved" class="up">')[1].split("</td>")[0]
    assert colon in improved and long in improved and "Defect density" in improved
