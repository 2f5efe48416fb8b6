"""Validation that teaches: each common spreadsheet-export mistake in kpis.csv gets one problem with its count,
its first lines and the fix; follow-on problems are left out; warnings for what is valid but probably wrong.

The table is the review's (issue 19): what the analyst had, and what validate must now say."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeRunner

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


def _tidy_rows(kpis: Path) -> list[list[str]]:
    return [line.split(",") for line in kpis.read_text(encoding="utf-8").splitlines()[1:]]


def _rewrite(kpis: Path, header: str, row, separator: str = ",", prefix: str = "") -> None:
    rows = _tidy_rows(kpis)
    kpis.write_text(prefix + header + "\n" + "".join(separator.join(row(*r)) + "\n" for r in rows), encoding="utf-8")


MISTAKES = {
    "semicolons": (lambda k: _rewrite(k, "period;kpi;value", lambda p, n, v: [p, n, v], ";"),
                   ["kpis.csv:1:", "separated by semicolons", "casekit import"]),
    "tabs": (lambda k: _rewrite(k, "period\tkpi\tvalue", lambda p, n, v: [p, n, v], "\t"),
             ["kpis.csv:1:", "separated by tabs"]),
    "bom, semicolons, decimal commas": (
        lambda k: _rewrite(k, "period;kpi;value", lambda p, n, v: [p, n, v.replace(".", ",")], ";", "\ufeff"),
        ["separated by semicolons"]),
    "header letter case": (lambda k: _rewrite(k, "Period,KPI,Value", lambda p, n, v: [p, n, v]),
                           ["column names are lower case: write the header as period,kpi,value"]),
    "quoted decimal comma": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p, n, f'"{v.replace(".", ",")}"']),
                             ["got '4,01' on 48 rows (lines 2–49)", "write decimals with a point",
                              "casekit import FILE CASE_DIR --decimal ,"]),
    "unquoted decimal comma": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p, n, v.replace(".", ",")]),
                               ["expected 3 fields as in the header, found 4 on 48 rows (lines 2–49)",
                                "a decimal comma splits an unquoted value in two"]),
    "month/year dates": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [f"{p[5:]}/{p[:4]}", n, v]),
                         ["got '01/2019' on 48 rows (lines 2–49)", "write the month as YYYY-MM", "casekit import"]),
    "d/m/yyyy dates": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [f"1/{int(p[5:])}/{p[:4]}", n, v]),
                       ["got '1/1/2019' on 48 rows", "write the month as YYYY-MM"]),
    "iso dates": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p + "-01", n, v]),
                  ["got '2019-01-01' on 48 rows", "write the month as YYYY-MM"]),
    "wide layout": (lambda k: k.write_text("period,defect_density,review_coverage\n2019-01,4.01,60.1\n", encoding="utf-8"),
                    ["one column per KPI (a wide layout)", "casekit import FILE CASE_DIR` converts it"]),
    "percent signs": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p, n, v + "%"]),
                      ["got '4.01%' on 48 rows (lines 2–49)", "remove the % sign"]),
    "thousands separators": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p, n, f'"1,0{v[0]}2"']),
                             ["got '1,042' on 48 rows", "remove the thousands separator"]),
    "#N/A": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p, n, "#N/A" if p.endswith("-06") else v]),
             ["got '#N/A' on 4 rows (lines 12–13, 36–37)", "marks a missing value: leave the row out"]),
    "n/a": (lambda k: _rewrite(k, "period,kpi,value", lambda p, n, v: [p, n, "n/a" if p == "2019-06" else v]),
            ["got 'n/a' on 2 rows (lines 12–13)", "marks a missing value"]),
    "a KPI's label": (lambda k: _rewrite(k, "period,kpi,value",
                                         lambda p, n, v: [p, "Review coverage" if n == "review_coverage" else n, v]),
                      ["unknown KPI 'Review coverage' on 24 rows (lines 3, 5, 7 and 21 more)",
                       "kpis.csv takes the id: write review_coverage"]),
    "a near-miss id": (lambda k: _rewrite(k, "period,kpi,value",
                                          lambda p, n, v: [p, "defect_densty" if n == "defect_density" else n, v]),
                       ["unknown KPI 'defect_densty' on 24 rows", "did you mean defect_density?"]),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_export_mistake_gets_one_problem_with_its_hint(case_dir: Path, mistake: str):
    make, expected = MISTAKES[mistake]
    make(case_dir / "acme" / "kpis.csv")
    problems = [str(p) for p in ck.validate_cases(case_dir)]
    about_kpis = [p for p in problems if "kpis.csv" in p]
    assert len(about_kpis) == 1, problems  # one problem for the mistake, whatever the number of rows
    for text in expected:
        assert text in about_kpis[0], about_kpis[0]
    assert not [p for p in problems if "has no rows for" in p or "no data rows" in p], problems  # no follow-ons


def test_problems_are_sorted_by_file_and_line(case_dir: Path):
    kpis = case_dir / "acme" / "kpis.csv"
    lines = kpis.read_text(encoding="utf-8").splitlines()
    lines[41] = "2020-08,defect_density,x"
    lines[23] = "2019-12,defect_density,"
    kpis.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (case_dir / "acme" / "appraisals.csv").write_text("date,method,maturity_level\n2020-01-01,SCAMPI A,9\n",
                                                      encoding="utf-8")
    problems = ck.validate_cases(case_dir)
    keys = [(p.path, p.line or 0) for p in problems]
    assert keys == sorted(keys) and [p.line for p in problems if p.path.endswith("kpis.csv")] == [24, 42]


def test_a_percentage_saved_as_a_fraction_is_a_warning_not_an_error(case_dir: Path):
    kpis = case_dir / "acme" / "kpis.csv"
    _rewrite(kpis, "period,kpi,value", lambda p, n, v: [p, n, f"{float(v) / 100:.4f}" if n == "review_coverage" else v])
    assert ck.validate_cases(case_dir) == []
    warnings = [str(w) for w in ck.cautions.case_warnings(case_dir)]
    assert len(warnings) == 1 and "every value of review_coverage lies between 0 and 1" in warnings[0]
    assert "Multiply the values by 100" in warnings[0]


def test_template_text_left_from_casekit_new_is_a_warning(tmp_path: Path):
    folder = ck.new_case("our-org", tmp_path / "cases")
    run = subprocess.run([sys.executable, "-m", "casekit", "validate", str(tmp_path / "cases")], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr  # valid: warnings do not fail
    assert "case.yaml:6: name: warning: still the template's text" in run.stdout
    assert "summary: warning" in run.stdout and "kpis.csv: warning: still the template's example data" in run.stdout
    assert "appraisals.csv: warning" in run.stdout and "practice_areas.csv: warning" in run.stdout
    assert "5 warning(s) to check" in run.stderr
    assert oct(folder.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def test_an_appraisal_after_the_data_is_a_warning(case_dir: Path):
    with open(case_dir / "acme" / "appraisals.csv", "a", encoding="utf-8") as out:
        out.write("2023-05-02,SCAMPI A,3,CMMI V2.0,IT\n")
    assert ck.validate_cases(case_dir) == []
    warnings = ck.cautions.case_warnings(case_dir)
    assert [(Path(w.path).name, w.line, w.field) for w in warnings] == [("appraisals.csv", 4, "date")]
    assert "the appraisal of 2023-05-02 is after the KPI data ends (2020-12)" in warnings[0].message


def test_the_shipped_cases_raise_no_warning():
    assert ck.cautions.case_warnings(ROOT / "cases") == []


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_render_names_the_warnings_too(tmp_path: Path, monkeypatch, capsys):
    from casekit import cli, rendering

    ck.new_case("our-org", tmp_path / "cases")
    ck.new_case("their-org", tmp_path / "cases")
    real = rendering.render
    monkeypatch.setattr(rendering, "render", lambda *a, **k: real(*a, runner=FakeRunner(), **k))
    assert cli.main(["render", str(tmp_path / "cases"), "--out", str(tmp_path / "out"), "--case", "our-org"]) == 0
    printed = capsys.readouterr().out
    assert "1 report: 1 rendered, 0 failed" in printed and "name: warning: still the template's text" in printed
    assert "our-org" in printed and "their-org" not in printed  # only the rendered cases' warnings


@pytest.mark.parametrize("written", ["01/2019", "2019/01", "Jan 2019", "2019-01-15", "15/01/2019", "2019 Q1",
                                     "Q1 2019", "2019-1", "March 2019", "01.03.2019"])
def test_the_period_hint_says_what_import_converts_to(tmp_path: Path, written: str):
    """One reader of spreadsheet periods: the period validation's hint proposes is the one import writes."""
    import re

    from casekit.inputs.spreadsheets import SpreadsheetError, parse_periods

    folder = ck.new_case("acme", tmp_path / "cases")
    (folder / "kpis.csv").write_text(f"period,kpi,value\n{written},cycle_time,30\n", encoding="utf-8")
    hinted = [str(p) for p in ck.validate_cases(tmp_path / "cases") if "period" in str(p) and written in str(p)]
    assert hinted, written
    if "reads two ways" in hinted[0]:  # 01.03.2019: import refuses it too, until told which
        assert "--dayfirst" in hinted[0]
        with pytest.raises(SpreadsheetError, match="read two ways"):
            parse_periods([written], None, [])
        return
    proposed = re.search(r"write the (?:month as YYYY-MM|quarter as YYYY-Qn) \(([^)]+)\)", hinted[0])
    assert proposed and proposed.group(1) == parse_periods([written], None, [])[0], hinted[0]


@pytest.mark.parametrize(("written", "number"), [("68,9%", 68.9), ("1.012,5", 1012.5), ("1 012", 1012),
                                               ("12,5", 12.5), ("-12,5", -12.5), ("1'012.5", 1012.5),
                                               ("1,012.5", 1012.5), ("7.5%", 7.5)])
def test_the_value_hint_names_what_import_converts(tmp_path: Path, written: str, number: float):
    """One reader of spreadsheet numbers: the forms validation's hint names are those import converts."""
    kpi = "on_time_delivery" if written.endswith("%") else "schedule_overrun" if number < 0 else "cycle_time"
    folder = ck.new_case("acme", tmp_path / "cases")
    (folder / "kpis.csv").write_text(f'period,kpi,value\n2020-01,{kpi},"{written}"\n', encoding="utf-8")
    hinted = " ".join(str(p) for p in ck.validate_cases(tmp_path / "cases") if "value" in str(p))
    source = tmp_path / "sheet.csv"
    source.write_text(f'period,kpi,value\n2020-01,{kpi},"{written}"\n', encoding="utf-8")
    result = ck.import_kpis(source, dry_run=True)
    assert result.kpis["value"].tolist() == [number]
    notes = " ".join(result.notes)
    named = {form for form, hint in (("percent", "remove the % sign"), ("thousands", "thousands separator"),
                                     ("decimal comma", "decimals with a point")) if hint in hinted}
    converted = {form for form, note in (("percent", "percent sign"), ("thousands", "thousands separators"),
                                         ("decimal comma", "decimal comma")) if note in notes}
    assert named and named <= converted, (written, hinted, notes)  # the hint names the first form it finds
