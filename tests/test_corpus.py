"""A corpus of broken cases a real user produces: each rejected with the file named, never a traceback."""

from pathlib import Path

import pytest

from casekit.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"

# kind -> (file named, field, fragment of the message)
EXPECTED = {
    "adoption_outside_data": ("case.yaml", "adoption.start", "lies outside the KPI data"),
    "capability_out_of_range": ("practice_areas.csv", "capability_level", "expected a whole number 0-3"),
    "duplicate_rows": ("kpis.csv", "period", "duplicate row for defect_density in 2019-04"),
    "empty_file": ("appraisals.csv", "", "file is empty"),
    "id_mismatch": ("case.yaml", "id", "must equal the folder name 'acme'"),
    "impossible_appraisal_date": ("appraisals.csv", "date", "'2020-02-30' is not a real calendar date"),
    "impossible_month": ("kpis.csv", "period", "got '2019-13'"),
    "maturity_out_of_range": ("appraisals.csv", "maturity_level", "expected a whole number 1-5, got '6'"),
    "missing_column": ("appraisals.csv", "maturity_level", "missing column"),
    "missing_file": ("kpis.csv", "", "required file is missing"),
    "negative_investment": ("case.yaml", "investments[0].amount", "expected a number >= 0"),
    "percentage_out_of_range": ("kpis.csv", "value", "ranges over [0, 100]"),
    "ragged_csv_row": ("kpis.csv", "", "expected 3 fields as in the header, found 2"),
    "target_wrong_direction": ("case.yaml", "business_goals[0].target.change_pct", "must be negative"),
    "typo_in_field_name": ("case.yaml", "sumary", "unknown field"),
    "undefined_kpi": ("kpis.csv", "kpi", "unknown KPI 'defect_rate'"),
    "unknown_method": ("appraisals.csv", "method", "got 'SCAMPI Z'"),
    "wrong_encoding": ("case.yaml", "", "file is not UTF-8"),
    "wrong_type_size": ("case.yaml", "size", "expected a whole number"),
    "wrong_type_value": ("kpis.csv", "", "expected 3 fields as in the header, found 4"),
    "yaml_python_tag": ("case.yaml", "", "YAML tag not allowed"),
    "yaml_syntax_error": ("case.yaml", "", "YAML syntax error"),
}


def test_corpus_is_complete():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED) and len(EXPECTED) >= 15


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_validate_rejects_and_names_the_file(kind, capsys, monkeypatch):
    monkeypatch.chdir(CORPUS.parent.parent)
    status = main(["validate", str(Path("tests") / "corpus" / kind)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err
    filename, field, fragment = EXPECTED[kind]
    where = f"tests/corpus/{kind}/acme/{filename}"
    lines = [line for line in out.splitlines() if line.startswith(where)]
    prefix = f": {field}: " if field else ": "
    assert any(prefix in line and fragment in line for line in lines), out


def test_python_tag_is_never_executed(capfd):
    main(["validate", str(CORPUS / "yaml_python_tag")])
    assert "hacked" not in capfd.readouterr().out
