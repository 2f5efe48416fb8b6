from pathlib import Path

import pandas as pd
import pytest
from conftest import edit

import casekit as ck


def test_portfolio_tables(case_dir: Path):
    pf = ck.load_cases(case_dir)
    (case,) = pf.cases.to_dict("records")
    assert case["case_id"] == "acme" and case["size"] == 120 and case["transition_months"] == 3
    assert case["adoption_start"] == pd.Period("2020-01", freq="M")
    # the SCAMPI C before adoption gives no rating; the Benchmark after gives ML3
    assert pd.isna(case["maturity_before"]) and case["maturity_latest"] == 3
    assert (case["first_period"], case["last_period"]) == ("2019-01", "2020-12")

    kpis = pf.kpis
    assert list(kpis.columns) == ["case_id", "kpi", "period", "date", "freq", "value", "phase",
                                  "label", "unit", "better", "category", "scale"]
    assert len(kpis) == 48
    dd = kpis[kpis["kpi"] == "defect_density"].set_index("period")
    assert dd.loc["2019-12", "phase"] == "before"
    assert dd.loc["2020-03", "phase"] == "transition"
    assert dd.loc["2020-04", "phase"] == "after"
    assert dd.loc["2020-04", "value"] == pytest.approx(3.04)
    assert (dd["better"] == "lower").all() and (dd["category"] == "quality").all()
    rc = kpis[kpis["kpi"] == "review_coverage"].iloc[0]
    assert (rc["better"], rc["category"], rc["unit"]) == ("higher", "quality", "%")

    assert pf.appraisals["maturity_level"].tolist()[1] == 3
    assert len(pf.practice_areas) == 4
    goals = pf.goals.set_index(["goal_id", "kpi"])
    assert goals.loc[("G1", "defect_density"), "target_change_pct"] == -20
    assert goals.loc[("G2", "review_coverage"), "target_value"] == 90
    assert pd.isna(goals.loc[("G2", "defect_density"), "target_value"])
    assert pf.investments[["period", "category", "amount", "currency"]].values.tolist() == [
        ["2020-Q1", "training", 10000.0, "EUR"]
    ]
    defs = pf.kpi_definitions
    assert defs.loc[defs["kpi"] == "review_coverage", "case_id"].tolist() == ["acme"]


def test_invalid_cases_raise_one_error_listing_all_problems(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "size: 120", "size: many")
    edit(case_dir / "acme" / "appraisals.csv", "Benchmark,3", "Benchmark,9")
    with pytest.raises(ck.CaseError) as info:
        ck.load_cases(case_dir)
    assert len(info.value.problems) == 2
    assert "case.yaml:5: size" in str(info.value) and "appraisals.csv:3: maturity_level" in str(info.value)
    assert info.value.problems == ck.validate_cases(case_dir)


def test_shipped_portfolio_loads():
    pf = ck.load_cases("cases")
    assert len(pf.cases) == 8 and pf.cases["case_id"].is_unique
    assert set(pf.kpis["phase"]) == {"before", "transition", "after"}
    assert "Portfolio(8 cases" in repr(pf)


def test_the_bulk_check_of_kpis_csv_agrees_with_the_row_by_row_one(monkeypatch, tmp_path):
    """Plain kpis.csv files are checked column by column; the result must be what the row-by-row check gives."""
    from casekit import validation

    cases = Path(__file__).resolve().parents[1] / "cases"
    fast = ck.load_cases(cases)
    catalog = ck.kpi_catalog()
    taken = [validation._plain_kpi_rows(folder / "kpis.csv", validation.known_kpis(catalog, catalog.iloc[0:0]))
             for folder in sorted(cases.iterdir())]
    assert sum(t is not None for t in taken) >= 4  # most shipped cases take the bulk path (some define own KPIs)
    monkeypatch.setattr(validation, "_plain_kpi_rows", lambda path, known: None)
    slow = ck.load_cases(cases)
    pd.testing.assert_frame_equal(fast.kpis, slow.kpis)
    pd.testing.assert_frame_equal(fast.cases, slow.cases)


def test_the_bulk_check_finds_the_same_problems_in_every_broken_case(monkeypatch):
    from casekit import validation

    corpus = Path(__file__).resolve().parents[1] / "tests" / "corpus"
    fast = [str(p) for p in ck.validate_cases(corpus)]
    monkeypatch.setattr(validation, "_plain_kpi_rows", lambda path, known: None)
    assert fast == [str(p) for p in ck.validate_cases(corpus)] and len(fast) >= 22


def test_kpi_records_read_as_rows_and_as_columns():
    from casekit.inputs.kpi_records import KpiRecords
    from casekit.inputs.periods import month_span, parse_period

    rows = [{"period": parse_period(p), "kpi": k, "value": v, "line": n}
            for n, (p, k, v) in enumerate([("2020-01", "a", 1.5), ("2020-Q2", "b", 2.0), ("2020-01", "b", 3.0)], 2)]
    records = KpiRecords.from_rows(rows)
    assert list(records) == rows and records[1:].kpi == ["b", "b"] and len(records) == 3
    assert records.month_spans().tolist() == [list(month_span(r["period"])) for r in rows]
    given = KpiRecords(records.period, records.kpi, records.value, records.line, spans=[[0, 0], [1, 1], [2, 2]])
    assert given.month_spans().tolist() == [[0, 0], [1, 1], [2, 2]]  # the reader's spans are trusted
    with pytest.raises(ValueError, match="one value per row"):
        KpiRecords(records.period, records.kpi[:2], records.value, records.line)
