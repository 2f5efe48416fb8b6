"""casekit import and export under the output contract and the input limits: bombs, huge and odd files, dates
in value cells, links and folders where files go, all-or-nothing writes, and messages instead of tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import casekit as ck
from casekit.inputs.spreadsheets import SpreadsheetError

ROOT = Path(__file__).resolve().parents[1]


def _casekit(*arguments: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", *arguments], capture_output=True, text=True, timeout=300,
                          env=env)


def _workbook(path: Path, rows: int = 3) -> Path:
    periods = [f"2020-{m:02d}" for m in range(1, rows + 1)]
    pd.DataFrame({"Month": periods, "Defect density": [4.5 - m / 10 for m in range(rows)]}).to_excel(path, index=False)
    return path


def _rewrite_part(path: Path, name: str, change) -> None:
    """Rewrite one XML part of an .xlsx (a zip) with ``change(bytes) -> bytes``."""
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, change(data) if item.filename == name else data)
    os.replace(copy, path)


@pytest.mark.slow
def test_an_xlsx_that_inflates_is_refused_before_calamine_reads_it(tmp_path: Path):
    book = _workbook(tmp_path / "bomb.xlsx")
    # 600 MB of one repeated byte compresses to well under a megabyte
    _rewrite_part(book, "xl/sharedStrings.xml", lambda data: data + b" " * 600_000_000)
    assert book.stat().st_size < 5_000_000
    result = _casekit("import", str(book), str(tmp_path), "--dry-run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unpacks to more than 500 MB" in result.stderr


def test_an_xlsx_with_an_absurd_dimension_is_refused(tmp_path: Path):
    book = _workbook(tmp_path / "wide.xlsx")
    _rewrite_part(book, "xl/worksheets/sheet1.xml",
                  lambda data: data.replace(b'<dimension ref="A1:B4"/>', b'<dimension ref="A1:XFD1048576"/>'))
    assert b"XFD1048576" in zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml")
    result = _casekit("import", str(book), str(tmp_path), "--dry-run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "17,179,869,184 cells" in result.stderr


def test_a_huge_csv_is_refused_by_its_size(tmp_path: Path):
    source = tmp_path / "huge.csv"
    with open(source, "wb") as file:
        file.truncate(60 * 10**6)  # sparse: no disk used
    result = _casekit("import", str(source), str(tmp_path), "--dry-run")
    assert result.returncode == 2 and "casekit imports at most 50 MB" in result.stderr


def test_a_wide_csv_with_long_lines_is_read(tmp_path: Path):
    periods = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(6)]
    header = "kpi," + ",".join(periods)  # 20,000 columns would be wide; a row per KPI keeps it readable here
    catalog = ck.kpi_catalog()
    names = list(catalog["kpi"])[:3]
    wide = tmp_path / "wide.csv"
    columns = ["period"] + [f"{name}" for name in names] + [f"note{i}" for i in range(20_000)]
    rows = [",".join(columns)] + [",".join([p] + ["1.5"] * len(names) + [""] * 20_000) for p in periods]
    wide.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert len(rows[0]) > 128 * 1024
    with pytest.raises(SpreadsheetError, match="unknown KPI 'note0'"):  # read, then refused by name, not _csv.Error
        ck.import_kpis(wide)
    del header


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_csv_and_excels_sep_line_are_read(tmp_path: Path, encoding: str):
    source = tmp_path / "kpis.csv"
    source.write_bytes("sep=;\nMonth;Defect density\n2020-01;4,5\n2020-02;4,1\n".encode(encoding))
    result = ck.import_kpis(source)
    assert result.kpis["value"].tolist() == [4.5, 4.1]
    assert encoding.upper().replace("UTF-", "UTF-") in result.notes[0]


def test_value_cells_formatted_as_dates_are_read_as_their_numbers(tmp_path: Path):
    book = tmp_path / "dated.xlsx"
    with pd.ExcelWriter(book, engine="xlsxwriter") as writer:
        pd.DataFrame({"Month": ["2020-01", "2020-02"], "Defect density": [45.25, 4.1]}).to_excel(writer, index=False)
        dated = writer.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        writer.sheets["Sheet1"].write_number(1, 1, 45.25, dated)
    result = ck.import_kpis(book)
    assert result.kpis["value"].tolist() == [45.25, 4.1]
    assert any("formatted as dates or times" in note for note in result.notes)


def test_an_import_is_whole_or_not_at_all(case: Path, tmp_path: Path):
    book = tmp_path / "both.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"Month": ["2020-01", "2020-02"], "Defect density": [4.5, 4.1]}).to_excel(
            writer, sheet_name="KPIs", index=False)
        pd.DataFrame({"date": ["2020-06-01"], "method": ["SCAMPI A"], "maturity_level": [3]}).to_excel(
            writer, sheet_name="Appraisals", index=False)
    before = (case / "kpis.csv").read_bytes()
    (case / "appraisals.csv").unlink()
    (case / "appraisals.csv").mkdir()
    result = _casekit("import", str(book), str(case), "--sheet", "KPIs", "--appraisals-sheet", "Appraisals",
                      "--force")
    assert result.returncode == 2 and "is a folder" in result.stderr and "Traceback" not in result.stderr
    assert (case / "kpis.csv").read_bytes() == before


def test_the_cases_folder_is_not_a_case(case: Path, tmp_path: Path):
    book = _workbook(tmp_path / "k.xlsx")
    result = _casekit("import", str(book), str(case.parent), "--force")
    assert result.returncode == 2 and "is a folder of cases" in result.stderr
    assert not (case.parent / "kpis.csv").exists()


def test_a_link_where_a_file_goes_is_never_written_through(case: Path, tmp_path: Path):
    book = _workbook(tmp_path / "k.xlsx")
    (case / "kpis.csv").unlink()
    (case / "kpis.csv").symlink_to(tmp_path / "nowhere.csv")  # dangling
    for extra in ((), ("--force",)):
        result = _casekit("import", str(book), str(case), *extra)
        assert result.returncode == 2 and "symbolic link" in result.stderr
    assert not (tmp_path / "nowhere.csv").exists() and (case / "kpis.csv").is_symlink()
    export = _casekit("export", str(ROOT / "cases"), "--xlsx", str(case / "kpis.csv").replace("kpis.csv", "x.xlsx"))
    assert export.returncode == 0, export.stderr
    (tmp_path / "out.xlsx").symlink_to(tmp_path / "elsewhere.xlsx")
    export = _casekit("export", str(ROOT / "cases"), "--xlsx", str(tmp_path / "out.xlsx"), "--force")
    assert export.returncode == 2 and "symbolic link" in export.stderr and not (tmp_path / "elsewhere.xlsx").exists()


def test_leftover_temporaries_of_a_killed_import_are_removed_by_the_next(case: Path, tmp_path: Path):
    leftover = case / ".kpis.csv.999999999-0123456789ab.casekit-tmp"
    leftover.write_text("half", encoding="utf-8")
    ck.import_kpis(_workbook(tmp_path / "k.xlsx"), case, force=True)
    assert not leftover.exists()


@pytest.mark.parametrize("arguments, message", [
    (["--xlsx", "{tmp}/folder.xlsx"], "is a folder"),
    (["--xlsx", "{tmp}/missing/out.xlsx"], "does not exist"),
    (["--xlsx", "{tmp}/out.xlsx", "--alpha", "5"], "alpha must be a number between 0 and 1"),
    (["--xlsx", "{tmp}/out.xlsx", "--alpha", "nan"], "alpha must be a number between 0 and 1"),
    (["--xlsx", "{tmp}/out.xlsx", "--alpha", "0"], "alpha must be a number between 0 and 1"),
])
def test_export_refuses_before_computing(tmp_path: Path, arguments, message):
    (tmp_path / "folder.xlsx").mkdir()
    result = _casekit("export", str(ROOT / "cases"), *[a.format(tmp=tmp_path) for a in arguments])
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_messages_survive_an_ascii_terminal_and_odd_sheet_names(case: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = _casekit("import", str(_workbook(tmp_path / "k.xlsx")), str(case), "--force", env=env)
    # the sheet holds some of the case's KPIs: written, and the case's problems listed (exit 1)
    assert result.returncode == 1 and "problem(s) left to fix" in result.stdout, result.stderr
    assert "Traceback" not in result.stderr
    odd = _casekit("import", str(_workbook(tmp_path / "k.xlsx")), str(tmp_path), "--sheet", "²", "--dry-run")
    assert odd.returncode == 2 and "Traceback" not in odd.stderr


@pytest.mark.parametrize("make", ["fifo", "folder"])
def test_a_source_that_is_not_a_file_is_named_so(tmp_path: Path, make: str):
    source = tmp_path / "source.csv"
    os.mkfifo(source) if make == "fifo" else source.mkdir()
    result = _casekit("import", str(source), str(tmp_path), "--dry-run")
    assert result.returncode == 2 and "file not found" not in result.stderr
    assert ("a folder" if make == "folder" else "not a regular file") in result.stderr
