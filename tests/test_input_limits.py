"""Inputs are bounded and never disclosed: links refused unread, YAML bombs and deep nesting refused before they
are walked, big files refused, strings, numbers and years bounded, and what validates renders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeRunner, edit, opened_files, write_case

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


def _problems(case_dir: Path) -> list[str]:
    return [str(p) for p in ck.validate_cases(case_dir)]


def _validate_cli(case_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", "validate", str(case_dir)], capture_output=True,
                          text=True, timeout=120)


SECRET = "BEGIN PRIVATE KEY 3f9a1c-do-not-publish"


@pytest.mark.parametrize("name", ["case.yaml", "kpis.csv", "appraisals.csv", "practice_areas.csv"])
def test_a_linked_case_file_is_refused_and_its_target_never_read(case_dir: Path, tmp_path: Path, name: str):
    secret = tmp_path / "id_rsa"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    (case_dir / "acme" / name).unlink()
    (case_dir / "acme" / name).symlink_to(secret)
    result = _validate_cli(case_dir)
    assert result.returncode == 1 and "is a symbolic link" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    out = tmp_path / "out"
    ck.render(case_dir, out, progress=False)
    for page in out.iterdir():
        if page.is_file():
            assert SECRET not in page.read_text(encoding="utf-8", errors="replace"), page.name


def test_a_linked_case_folder_is_refused(case_dir: Path, tmp_path: Path):
    write_case(tmp_path / "elsewhere" / "beta")
    edit(tmp_path / "elsewhere" / "beta" / "case.yaml", "id: acme", "id: beta")
    (case_dir / "beta").symlink_to(tmp_path / "elsewhere" / "beta")
    assert any("the case folder is a symbolic link" in p for p in _problems(case_dir))


def test_a_file_over_the_size_limit_is_refused_without_reading_it(case_dir: Path):
    kpis = case_dir / "acme" / "kpis.csv"
    with open(kpis, "r+b") as file:
        file.truncate(60 * 10**6)  # sparse: no disk used, and a reader would have to read it all
    with opened_files() as opened:
        problems = _problems(case_dir)
    assert kpis not in opened
    assert any("kpis.csv: file is 60 MB; a case file may be at most 50 MB" in p for p in problems)


def test_a_stray_big_file_in_a_case_folder_is_never_read(case_dir: Path, tmp_path: Path):
    with open(case_dir / "acme" / "notes.bin", "wb") as file:
        file.truncate(8 * 10**9)
    with opened_files() as opened:
        table = ck.render(case_dir, tmp_path / "out", runner=FakeRunner(), progress=False)
    assert table["status"].tolist() == ["ok"] and _problems(case_dir) == []
    assert not [path for path in opened if path.name == "notes.bin"]


BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


@pytest.mark.parametrize("text, message", [
    (BOMB, "YAML anchors and aliases (&name, *name) are not allowed in case files"),
    ("a: " + "[" * 1000 + "]" * 1000 + "\n", "nested more than 20 levels deep"),
    ("id: acme\nid: acme\n", "given twice (first on line 1); give it once"),
    ("id: acme\nsize: 4_82\n", "write numbers without '_': got '4_82'"),
    ('id: acme\nname: "lone \\ud800 surrogate"\n', "text holds a lone surrogate (U+D800)"),
    ('id: acme\nname: "\\e[31mred\\e[0m"\n', "text holds a control character (U+001B)"),
])
def test_yaml_is_bounded_before_it_is_walked(case_dir: Path, text: str, message: str):
    (case_dir / "acme" / "case.yaml").write_text(text, encoding="utf-8")
    result = _validate_cli(case_dir)  # an expanded bomb would exhaust its timeout, or fill the output
    assert len(result.stdout) < 5_000
    assert result.returncode == 1 and message in result.stdout and "Traceback" not in result.stderr
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("old, new, message", [
    ("name: Acme Software", "name: " + "A" * 300_000, "name: expected at most 200 characters, got 300,000"),
    ("size: 120", "size: " + "9" * 400, "size: expected a number below 1e+15, got one with 400 digits"),
    ("start: 2020-01", "start: 0000-01", "the year must be between 1900 and 2100"),
])
def test_strings_numbers_and_years_are_bounded(case_dir: Path, old: str, new: str, message: str):
    edit(case_dir / "acme" / "case.yaml", old, new)
    result = _validate_cli(case_dir)
    assert result.returncode == 1 and message in result.stdout, result.stdout[:2000]
    assert len(result.stdout) < 5_000


@pytest.mark.parametrize("old, new, message", [
    ("2019-05,defect_density,4.05", "2019-05,defect_density,4_05", "expected a finite number, got '4_05'"),
    ("2019-05,defect_density,4.05", "1017-05,defect_density,4.05", "the year must be between 1900 and 2100"),
    ("2019-05,defect_density,4.05", "9999-12,defect_density,4.05", "the year must be between 1900 and 2100"),
    ("2019-05,defect_density,4.05", "2019-05,defect_density,4.05\x1b[2J", "a field holds a control character"),
])
def test_csv_values_are_bounded(case_dir: Path, old: str, new: str, message: str):
    edit(case_dir / "acme" / "kpis.csv", old, new)
    result = _validate_cli(case_dir)
    assert result.returncode == 1 and message in result.stdout, result.stdout[:2000]


def test_a_ratio_kpi_of_the_cases_own_cannot_be_negative(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "    min: 0\n", "")
    edit(case_dir / "acme" / "kpis.csv", "2019-05,review_coverage,60.5", "2019-05,review_coverage,-60.5")
    assert any("review_coverage is compared as a ratio, so it cannot be negative" in p for p in _problems(case_dir))


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_case_file_that_is_not_a_file_is_a_problem_not_a_traceback(case_dir: Path, kind: str):
    target = case_dir / "acme" / "kpis.csv"
    target.unlink()
    target.mkdir() if kind == "folder" else os.mkfifo(target)  # a FIFO would block a reader forever
    result = _validate_cli(case_dir)
    assert result.returncode == 1 and "kpis.csv: is not a regular file" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_dollar_sign_in_a_label_is_drawn_as_written(case_dir: Path):
    import matplotlib

    matplotlib.use("Agg")
    from casekit import plots

    edit(case_dir / "acme" / "case.yaml", "label: Review coverage", "label: Review $^$ coverage ($)")
    pf = ck.load_cases(case_dir)
    rows = pf.kpis[pf.kpis["kpi"] == "review_coverage"]
    ax = plots.kpi_chart(ck.behaviour.xmr_phases(rows))
    ax.figure.canvas.draw()  # mathtext would raise here
    assert ax.get_title().startswith(r"Review \$^\$ coverage (\$)")


def test_the_headline_is_never_a_warning():
    import nbformat

    from casekit.rendering.export import headline

    cell = nbformat.v4.new_code_cell("", metadata={"tags": ["findings"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: invalid value\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="- Of 2 KPIs, 1 improved\n")]
    assert headline(nbformat.v4.new_notebook(cells=[cell])) == "Of 2 KPIs, 1 improved"


@pytest.mark.parametrize("text", [
    "a:\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1, 25)) + " " * 50 + "x: 1\n",  # deep by indentation
    "- " * 25 + "x\n",  # deep by items on one line
    "a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: {o: {p: {q: {r: {s: {t: {u: 1}}}}}}}}}}}}}}}}}}}}\n",
])
def test_the_depth_limit_holds_however_the_nesting_is_written(tmp_path, text):
    # the shape scan is skipped only for text that plainly cannot be too deep; this text can
    from casekit.inputs.casefiles import read_yaml

    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    problems = []
    assert read_yaml(path, problems) is None
    assert any("nested more than 20 levels deep" in p.message for p in problems), problems


@pytest.mark.parametrize("option, value, message", [
    ("-y", "a: &a [x, x, x, x]\nb: [*a, *a, *a, *a]", "anchors and aliases"),
    ("-y", "[" * 60_000, "report parameters are at most 10,000"),
    ("-y", "kpis: " + "[" * 3_000 + "]" * 3_000, "nested more than 20 levels deep"),
    ("-p", "9" * 120_000, "report parameters are at most 10,000"),
])
def test_parameter_values_are_bounded_and_parsed_with_the_guarded_reader(tmp_path, option, value, message):
    import subprocess
    import sys

    arguments = [option, value] if option == "-y" else [option, "alpha", value]
    result = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out",
                             str(tmp_path / "out"), "--no-progress-bar", *arguments], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr) < 2_000


def test_a_huge_transition_is_refused_before_any_kernel(tmp_path):
    with pytest.raises(ck.ParameterError, match="whole number of months from 0 to 120"):
        ck.check_report_parameters(transition_months=10**100)


def test_kpi_parameters_read_case_yaml_with_the_guards(tmp_path):
    import shutil

    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "quantia-tech")
    (cases / "quantia-tech" / "case.yaml").write_text("kpis:\n" + "  " * 0 + "a: " + "[" * 30_000 + "]" * 30_000,
                                                       encoding="utf-8")
    with pytest.raises(ck.ParameterError, match="unknown KPI"):
        ck.check_report_parameters(cases_dir=str(cases), case_ids=["quantia-tech"], kpis=["nope"])


def test_the_warnings_never_read_a_linked_kpis_files_target(tmp_path):
    import shutil

    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "quantia-tech")
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as file:
        file.truncate(3 * 2**30)  # sparse: 3 GB that take no disk
    (cases / "quantia-tech" / "kpis.csv").unlink()
    (cases / "quantia-tech" / "kpis.csv").symlink_to(huge)
    code = ("import resource, casekit as ck\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))\n"
            f"print(len(ck.cautions.case_warnings({str(cases)!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "MemoryError" not in result.stderr, result.stderr[-500:]
