from pathlib import Path

import pandas as pd
import pytest
from conftest import edit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    assert len(pf.cases) == 9 and pf.cases["case_id"].is_unique
    assert set(pf.kpis["phase"]) == {"before", "transition", "after"}
    assert "Portfolio(9 cases" in repr(pf)
    assert pf.published["case_id"].unique().tolist() == ["motorola-ged"] and len(pf.published) == 13


PERIODS = ["2023-01", "2023-02", "2023-03", "2023-Q2", "2024-12", "2023-1", "2023-13", "Jan 2023", " 2023-04 "]
KPIS = ["cycle_time", "nps", "on_time_delivery", "cost_variance", "own_kpi", "Cycle time"]
VALUES = ["12", "12.5", "-3", "0", "1e3", "99.9", "101", "1e20", "nan", "inf", "12,5", "4_82", "1_0", "87%", "", " 7 "]


def _kpi_rows_text(rows, header="period,kpi,value", notes=False) -> str:
    lines = [header + (",note" if notes else "")]
    for period, kpi, value, note in rows:
        lines.append(",".join([period, kpi, value] + ([note] if notes else [])))
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.sampled_from(PERIODS), st.sampled_from(KPIS), st.sampled_from(VALUES),
                               st.sampled_from(["", "audit", '"a, quoted note"'])), min_size=1, max_size=12),
       notes=st.booleans())
def test_the_bulk_check_of_kpis_csv_agrees_with_the_row_by_row_one(rows, notes):
    """One rule, two speeds: wherever the column-by-column check accepts a file, checking it row by row accepts
    every row and gives the same records; where it declines, the row-by-row check finds a problem (or a form
    only it reads, such as a quoted field)."""
    from casekit.inputs.validation import known_kpis, kpi_rows_in_bulk, kpi_rows_one_by_one

    catalog = ck.kpi_catalog()
    own = pd.DataFrame([{**catalog.iloc[0].to_dict(), "kpi": "own_kpi", "label": "Own KPI"}])
    known = known_kpis(catalog, own)
    text = _kpi_rows_text(rows, notes=notes)
    problems: list = []
    slow = kpi_rows_one_by_one(text, "kpis.csv", known, problems)
    fast = kpi_rows_in_bulk(text, known)
    if fast is not None:
        assert problems == [] and slow is not None and slow.complete
        for column in ("kpi", "value", "line"):
            assert list(getattr(fast.rows, column)) == list(getattr(slow.rows, column))
        assert [str(p) for p in fast.rows.period] == [str(p) for p in slow.rows.period]
    elif not any('"' in note for *_, note in rows) or not notes:
        assert problems or slow is None or not slow.complete, text


def test_the_shipped_cases_take_the_bulk_check():
    """The fast path is the one taken: most shipped cases are read column by column."""
    from casekit.inputs.validation import known_kpis, kpi_rows_in_bulk

    cases = Path(__file__).resolve().parents[1] / "cases"
    catalog = ck.kpi_catalog()
    taken = [kpi_rows_in_bulk((folder / "kpis.csv").read_text(encoding="utf-8"),
                              known_kpis(catalog, catalog.iloc[0:0])) for folder in sorted(cases.iterdir())
             if (folder / "kpis.csv").exists()]
    assert sum(t is not None for t in taken) >= 4  # (some define KPIs of their own, which this catalog lacks)


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
