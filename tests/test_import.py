"""casekit import: analysts' spreadsheets as they really are, turned into a case that validates and compares
exactly as the tidy original does."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import casekit as ck
from casekit.inputs.spreadsheets import SpreadsheetError

ROOT = Path(__file__).resolve().parents[1]
CASE = "meridian-financial"


@pytest.fixture(scope="module")
def original() -> pd.DataFrame:
    return pd.read_csv(ROOT / "cases" / CASE / "kpis.csv", dtype={"period": str})


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return ck.compare_case(ck.load_cases(ROOT / "cases", case_ids=[CASE]), CASE).table


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    labels = ck.kpi_catalog().set_index("kpi")["label"]
    return frame.assign(kpi=frame["kpi"].map(labels))


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot(index="period", columns="kpi", values="value").reset_index()


def _comma(value: float) -> str:
    return repr(float(value)).replace(".", ",")


def _same_comparison(case: Path, expected: pd.DataFrame) -> None:
    assert ck.validate_cases(case.parent) == []
    got = ck.compare_case(ck.load_cases(case.parent), CASE).table
    pd.testing.assert_frame_equal(got, expected)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# each way an analyst's export differs from casekit's tidy CSV, and what import makes of it
def _semicolons_bom_decimal_commas(frame, folder):
    lines = ["period;kpi;value"] + [f"{p};{k};{_comma(v)}" for p, k, v in frame.itertuples(index=False)]
    return _write(folder / "export.csv", "\ufeff" + "\n".join(lines) + "\n")


def _tabs(frame, folder):
    return _write(folder / "export.tsv", frame.to_csv(sep="\t", index=False))


def _header_case(frame, folder):
    return _write(folder / "export.csv", frame.rename(columns=str.capitalize).rename(columns={"Kpi": "KPI"})
                  .to_csv(index=False))


def _quoted_decimal_commas(frame, folder):
    lines = ["period,kpi,value"] + [f'{p},{k},"{_comma(v)}"' for p, k, v in frame.itertuples(index=False)]
    return _write(folder / "export.csv", "\n".join(lines) + "\n")


def _month_slash_year(frame, folder):
    slashed = frame.assign(period=[f"{p[5:]}/{p[:4]}" for p in frame["period"]])
    return _write(folder / "export.csv", slashed.to_csv(index=False))


def _first_of_month_day_first(frame, folder):
    dated = frame.assign(period=[f"1/{int(p[5:])}/{p[:4]}" for p in frame["period"]])
    return _write(folder / "export.csv", dated.to_csv(index=False))


def _iso_dates(frame, folder):
    return _write(folder / "export.csv", frame.assign(period=frame["period"] + "-01").to_csv(index=False))


def _wide_labels(frame, folder):
    return _write(folder / "export.csv", _wide(_labels(frame)).rename(columns={"period": "Month"}).to_csv(index=False))


def _labels_instead_of_ids(frame, folder):
    return _write(folder / "export.csv", _labels(frame).to_csv(index=False))


def _windows_1252_with_na(frame, folder):
    text = "period;kpi;value;note\n" + "".join(f"{p};{k};{_comma(v)};Sch\u00e4tzung\n"
                                               for p, k, v in frame.itertuples(index=False))
    return _write(folder / "export.csv", text + f"{frame['period'].iloc[-1][:4]}-12;{frame['kpi'].iloc[0]};#N/A;\n"
                  if frame['period'].iloc[-1][:4] + "-12" not in set(frame["period"]) else text, "cp1252")


EXPORTS = [_semicolons_bom_decimal_commas, _tabs, _header_case, _quoted_decimal_commas, _month_slash_year,
           _first_of_month_day_first, _iso_dates, _wide_labels, _labels_instead_of_ids, _windows_1252_with_na]


@pytest.mark.parametrize("export", EXPORTS, ids=[e.__name__.strip("_") for e in EXPORTS])
def test_each_common_export_imports_into_the_same_comparison(case, original, expected, export):
    source = export(original, case.parent.parent)
    result = ck.import_kpis(source, case, force=True)
    assert result.written == [case / "kpis.csv"] and result.notes[0].startswith("read ")
    _same_comparison(case, expected)


def test_an_xlsx_and_an_ods_wide_and_tidy(case, original, expected, tmp_path):
    pytest.importorskip("odf")
    workbook = tmp_path / "kpis.xlsx"
    with pd.ExcelWriter(workbook, engine="xlsxwriter") as writer:
        pd.DataFrame({"notes": ["exported from the BI tool"]}).to_excel(writer, sheet_name="About", index=False)
        _wide(_labels(original)).assign(period=lambda d: pd.to_datetime(d["period"])).to_excel(
            writer, sheet_name="KPIs", index=False)
    result = ck.import_kpis(workbook, case, sheet="KPIs", force=True)
    assert any("wide layout" in note for note in result.notes) and any("dates" in note for note in result.notes)
    _same_comparison(case, expected)
    sheet = tmp_path / "kpis.ods"
    original.to_excel(sheet, engine="odf", index=False)
    ck.import_kpis(sheet, case, force=True)
    _same_comparison(case, expected)


def test_an_appraisals_sheet_becomes_appraisals_csv(case, original, tmp_path):
    appraisals = pd.read_csv(case / "appraisals.csv", dtype=str)
    workbook = tmp_path / "case.xlsx"
    with pd.ExcelWriter(workbook, engine="xlsxwriter") as writer:
        original.to_excel(writer, sheet_name="KPIs", index=False)
        appraisals.assign(date=pd.to_datetime(appraisals["date"]), maturity_level=appraisals["maturity_level"]
                          .map(lambda v: f"ML{v}" if isinstance(v, str) and v else v)).rename(
            columns={"maturity_level": "Maturity level", "date": "Date", "method": "Method"}).to_excel(
            writer, sheet_name="Appraisals", index=False)
    ck.import_kpis(workbook, case, sheet="KPIs", appraisals_sheet="Appraisals", force=True)
    assert ck.validate_cases(case.parent) == []
    written = pd.read_csv(case / "appraisals.csv", dtype=str).fillna("")
    pd.testing.assert_frame_equal(written[["date", "method", "maturity_level"]],
                                  appraisals.fillna("")[["date", "method", "maturity_level"]])


@pytest.mark.parametrize("text, option, message", [
    ("period,kpi,value\n01/02/2020,cycle_time,10\n02/03/2020,cycle_time,11\n", "--dayfirst", "read two ways"),
    ("period,kpi,value\n2020-01,cycle_time,\"1,012\"\n2020-02,cycle_time,\"1,230\"\n", "--decimal", "read two ways"),
    ("period,kpi,value\n2020-01,cycle_time,12,0\n2020-02,cycle_time,13,5\n", "semicolons", "unquoted decimal commas"),
    ("period,kpi,value\n2020-01,On time delivry,70\n", "did you mean on_time_delivery", "unknown KPI"),
    ("period,kpi,value\n2020-01,cycle_time,12%\n", "remove the sign", "percent sign"),
    ("period,kpi,value\nlast spring,cycle_time,12\n", "YYYY-MM", "cannot read the period"),
])
def test_what_reads_two_ways_is_refused_with_the_option_that_settles_it(tmp_path, text, option, message):
    source = _write(tmp_path / "export.csv", text)
    with pytest.raises(SpreadsheetError) as refused:
        ck.import_kpis(source)
    assert message in str(refused.value) and option in str(refused.value)


def test_the_options_settle_it(tmp_path):
    dates = _write(tmp_path / "dates.csv", "period,kpi,value\n01/02/2020,cycle_time,10\n02/03/2020,cycle_time,11\n")
    assert ck.import_kpis(dates, dayfirst=True).kpis["period"].tolist() == ["2020-02", "2020-03"]
    assert ck.import_kpis(dates, dayfirst=False).kpis["period"].tolist() == ["2020-01", "2020-02"]
    thousands = _write(tmp_path / "values.csv", 'period,kpi,value\n2020-01,cycle_time,"1,012"\n')
    assert ck.import_kpis(thousands, decimal=".").kpis["value"].tolist() == [1012.0]
    assert ck.import_kpis(thousands, decimal=",").kpis["value"].tolist() == [1.012]


def test_nothing_is_overwritten_without_force_and_a_dry_run_writes_nothing(case, original, tmp_path):
    before = (case / "kpis.csv").read_bytes()
    source = _tabs(original, tmp_path)
    with pytest.raises(SpreadsheetError, match="--force"):
        ck.import_kpis(source, case)
    assert ck.import_kpis(source, case, dry_run=True).written == []
    assert (case / "kpis.csv").read_bytes() == before


def test_the_command_prints_what_it_did_and_checks_the_case(case, original, tmp_path):
    source = _semicolons_bom_decimal_commas(original, tmp_path)
    run = subprocess.run([sys.executable, "-m", "casekit", "import", str(source), str(case), "--force"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "semicolons" in run.stdout and "decimal comma" in run.stdout and f"wrote {case / 'kpis.csv'}" in run.stdout
    assert "valid; render it with" in run.stdout
    refused = subprocess.run([sys.executable, "-m", "casekit", "import", str(source), str(case)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert oct((case / "kpis.csv").stat().st_mode & 0o777) != "0o600"  # the user's umask, not a temp file's


# --- column names as spreadsheets write them, --map, signed variances, the exit status ----------------------

def _cli_import(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", "import", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("header, kpi", [
    ("Defect density (defects/KLOC)", "defect_density"), ("Cycle time [days]", "cycle_time"),
    ('"On-time delivery, %"', "on_time_delivery"), ("Lead time (d)", "lead_time"),
    ("Customer satisfaction (% satisfied)", "customer_satisfaction"), ("NPS (points)", "nps"),
    ("Cost overrun (signed)", "cost_overrun"),
])
def test_a_label_with_its_unit_in_brackets_or_after_a_comma_is_recognised(tmp_path: Path, header: str, kpi: str):
    source = tmp_path / "kpis.csv"
    source.write_text(f"Month,{header}\n2023-01,12\n2023-02,13\n", encoding="utf-8")
    assert ck.import_kpis(source).kpis["kpi"].unique().tolist() == [kpi]


@pytest.mark.parametrize("header, said, meant", [
    ("Cycle time (weeks)", "weeks", "days"), ("Defect density, %", "%", "defects per KLOC"),
    ("On-time delivery (fraction)", "fraction", "% of releases"),
])
def test_a_unit_that_is_plainly_not_the_kpis_is_refused_with_the_fix(tmp_path: Path, header, said, meant):
    source = tmp_path / "kpis.csv"
    source.write_text(f'Month,"{header}"\n2023-01,4\n', encoding="utf-8")
    with pytest.raises(SpreadsheetError) as refused:
        ck.import_kpis(source)
    message = str(refused.value)
    assert f"measures in {meant}, not {said}" in message and "--map" in message


def test_map_names_the_kpi_of_a_column_from_the_command_line(tmp_path: Path):
    case = ck.new_case("acme", tmp_path / "cases")
    source = tmp_path / "sheet.csv"
    source.write_text("Month,Defects found,Cycle time (weeks)\n2023-01,12,4\n2023-02,11,4.5\n", encoding="utf-8")
    refused = _cli_import(source, case, "--dry-run")
    assert refused.returncode == 2 and "unknown KPI 'Defects found'" in refused.stderr
    assert "--map 'Defects found=" in refused.stderr
    mapped = _cli_import(source, case, "--dry-run", "--map", "Defects found=escaped_defects", "--map",
                         "Cycle time (weeks)=cycle_time")
    assert mapped.returncode == 0, mapped.stderr
    assert "'Defects found' → escaped_defects" in mapped.stdout and "'Cycle time (weeks)' → cycle_time" in mapped.stdout
    wrong = _cli_import(source, case, "--dry-run", "--map", "Defects found=defect_denisty")
    assert wrong.returncode == 2 and "no KPI 'defect_denisty'; did you mean defect_density?" in wrong.stderr
    malformed = _cli_import(source, case, "--dry-run", "--map", "Defects found")
    assert malformed.returncode == 2 and "write COLUMN=kpi" in malformed.stderr


def test_a_signed_cost_variance_is_refused_with_the_signed_kpi_and_imports_as_it(tmp_path: Path):
    case = tmp_path / "cases" / "acme"
    ck.new_case("acme", tmp_path / "cases")
    periods = pd.period_range("2023-01", "2025-12", freq="M").astype(str)
    values = [(-1) ** i * (5 + i % 7) for i in range(len(periods))]
    source = tmp_path / "variance.csv"
    pd.DataFrame({"Month": periods, "Cost variance (%)": values}).to_csv(source, index=False)
    example = (case / "kpis.csv").read_bytes()
    refused = _cli_import(source, case, "--force")
    assert refused.returncode == 2 and (case / "kpis.csv").read_bytes() == example  # nothing written
    assert "outside cost_variance's range" in refused.stderr and "--map 'Cost variance (%)=cost_overrun'" in \
        refused.stderr
    imported = ck.import_kpis(source, case, columns={"Cost variance (%)": "cost_overrun"}, force=True)
    assert imported.kpis["value"].min() < 0 and set(imported.kpis["kpi"]) == {"cost_overrun"}
    # written as signed: validation accepts it, and says so about cost_variance
    (case / "kpis.csv").write_text((case / "kpis.csv").read_text().replace("cost_overrun", "cost_variance"))
    problems = [str(p) for p in ck.validate_cases(tmp_path / "cases")]
    assert any("cost_variance ranges over" in p and "cost_overrun" in p for p in problems), problems


def test_import_exits_non_zero_when_the_case_it_wrote_does_not_validate(tmp_path: Path):
    case = ck.new_case("acme", tmp_path / "cases")
    source = tmp_path / "sheet.csv"
    source.write_text("Month,Cycle time\n2023-01,30\n2023-02,29\n", encoding="utf-8")
    result = _cli_import(source, case, "--force")
    assert result.returncode == 1, result.stdout
    assert "wrote" in result.stdout and "problem(s) left to fix" in result.stdout
    assert "kpis.csv has no rows for" in result.stdout  # the problems themselves, with their lines
