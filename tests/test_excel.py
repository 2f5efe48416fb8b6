"""casekit export --xlsx: the workbook read back equals the tables, numbers stay numbers, formulas never run."""

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import edit

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]
IDS = ["quantia-tech", "meridian-financial", "northwood-paper"]


def _read(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, engine="calamine")


def _same(read: pd.DataFrame, table: pd.DataFrame) -> None:
    assert list(read.columns) == [str(c) for c in table.columns]
    assert len(read) == len(table)
    for column in table.columns:
        want, got = table[column], read[str(column)]
        if pd.api.types.is_numeric_dtype(want) and not pd.api.types.is_bool_dtype(want):
            assert pd.api.types.is_numeric_dtype(got), column  # numbers stay numbers
            np.testing.assert_allclose(got.astype(float), want.astype(float), rtol=1e-12, equal_nan=True,
                                       err_msg=column)
        else:
            shown = [None if pd.isna(v) or v == "" else str(v) for v in want.astype(object)]
            assert [None if pd.isna(v) or v == "" else str(v) for v in got.astype(object)] == shown, column


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    portfolio = ck.load_cases(ROOT / "cases", case_ids=IDS)
    path = ck.export_excel(portfolio, tmp_path_factory.mktemp("xlsx") / "results.xlsx", alpha=0.1, correction="bh")
    return portfolio, path


def test_the_workbook_read_back_equals_the_tables(exported):
    portfolio, path = exported
    sheets = _read(path)
    assert list(sheets) == ["Settings", "KPIs", "Cases", "KPI comparison", "Goals", "ROI", "KPI effects",
                            "Portfolio tests", "Categories"]
    comparison = pd.concat([ck.compare_case(portfolio, c, alpha=0.1).table for c in portfolio.cases["case_id"]],
                           ignore_index=True)
    _same(sheets["KPI comparison"], comparison)
    _same(sheets["Portfolio tests"], ck.compare_portfolio(portfolio, correction="bh", alpha=0.1).tests())
    _same(sheets["ROI"], pd.concat([ck.compare_case(portfolio, c, alpha=0.1).roi() for c in portfolio.cases["case_id"]],
                                   ignore_index=True))
    settings = dict(zip(sheets["Settings"]["setting"], sheets["Settings"]["value"]))
    assert settings["alpha"] == 0.1 and settings["correction"] == "bh" and settings["casekit version"] == ck.__version__
    assert set(sheets["KPIs"]["unit"]) >= {"defects per KLOC", "% satisfied"}


def test_pandas_reads_the_export_with_its_default_reader(exported):
    """pd.read_excel with no engine named: pandas' default for .xlsx, which casekit's environment installs."""
    _, path = exported
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets)[:3] == ["Settings", "KPIs", "Cases"] and len(sheets["Cases"]) == len(IDS)


def test_columns_carry_number_formats(exported):
    _, path = exported
    with zipfile.ZipFile(path) as book:
        styles = book.read("xl/styles.xml").decode()
    assert 'formatCode="0.0000"' in styles and 'formatCode="#,##0"' in styles and 'formatCode="0.0"' in styles


def test_text_that_looks_like_a_formula_is_written_as_text(case_dir: Path, tmp_path: Path):
    dangerous = ['=HYPERLINK("http://example.invalid","open me")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]
    edit(case_dir / "acme" / "case.yaml", "name: Acme Software", f"name: '{dangerous[0]}'")
    edit(case_dir / "acme" / "case.yaml", "statement: Fewer defects", f'statement: "{dangerous[1]}"')
    edit(case_dir / "acme" / "case.yaml", "statement: Review everything", f'statement: "{dangerous[2]}"')
    edit(case_dir / "acme" / "case.yaml", "sector: Technology", f'sector: "{dangerous[3]}"')
    path = ck.export_excel(ck.load_cases(case_dir), tmp_path / "out.xlsx")
    with zipfile.ZipFile(path) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        styles = book.read("xl/styles.xml").decode()
    assert not any("<f>" in sheet for sheet in sheets)  # no cell holds a formula
    assert 'quotePrefix="1"' in styles  # Excel's mark for text that must stay text, even when edited
    read = _read(path)
    assert read["Cases"]["name"].tolist() == [dangerous[0]] and read["Cases"]["sector"].tolist() == [dangerous[3]]
    assert set(read["Goals"]["statement"]) == {dangerous[1], dangerous[2]}


def test_an_existing_workbook_is_kept_unless_forced(tmp_path: Path):
    target = tmp_path / "results.xlsx"
    target.write_bytes(b"the analyst's own workbook")
    command = [sys.executable, "-m", "casekit", "export", str(ROOT / "cases"), "--xlsx", str(target)]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert target.read_bytes() == b"the analyst's own workbook"
    forced = subprocess.run(command + ["--force"], capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0, forced.stderr
    assert "Portfolio tests" in _read(target) and not list(tmp_path.glob(".*"))
