"""The shipped cases: the eight illustrative ones valid, reproducible, and realistic enough to analyse; the
published one as its source printed it (tests/test_summaries.py checks its numbers)."""

import filecmp
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def portfolio():
    """The illustrative cases: the generator's."""
    everyone = ck.load_cases(ROOT / "cases")
    return everyone.subset(case_ids=everyone.cases.query("source == 'illustrative'")["case_id"])


def test_the_published_case_is_the_only_other_one():
    cases = ck.load_cases(ROOT / "cases").cases
    assert cases.query("source != 'illustrative'")[["case_id", "source"]].values.tolist() == [
        ["motorola-ged", "published"]]


def test_cases_are_valid():
    assert ck.validate_cases(ROOT / "cases") == []


@pytest.mark.parametrize("shipped", ["cases", "casekit/data/cases"])
def test_generator_reproduces_cases_byte_for_byte(tmp_path: Path, shipped: str):
    """The repository's cases and the four the package ships have one source: the generator."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_cases.py"), str(tmp_path / "cases"),
                    str(tmp_path / "packaged")], check=True)
    made = tmp_path / ("cases" if shipped == "cases" else "packaged")
    compare = filecmp.dircmp(ROOT / shipped, made)
    written_by_hand = ["motorola-ged"] if shipped == "cases" else []  # a published case: its source's numbers
    assert compare.left_only == written_by_hand and compare.right_only == []
    for case in compare.common_dirs:
        files = sorted(p.name for p in (ROOT / shipped / case).iterdir())
        match, mismatch, errors = filecmp.cmpfiles(ROOT / shipped / case, made / case, files, shallow=False)
        assert mismatch == [] and errors == [], (case, mismatch, errors)


def test_eight_illustrative_scenarios(portfolio):
    cases = portfolio.cases
    assert len(cases) == 8
    assert (cases["source"] == "illustrative").all()
    assert cases["summary"].str.contains("Illustrative").all()
    assert cases["sector"].value_counts()[["Forestry and paper", "Financial services"]].tolist() == [2, 2]
    assert {"Industrial manufacturing", "Specialty chemicals", "E-commerce", "Technology"} <= set(cases["sector"])


def test_at_least_24_months_each_side_with_a_transition(portfolio):
    monthly = portfolio.kpis[portfolio.kpis["freq"] == "M"]
    span = monthly.groupby(["case_id", "phase"])["period"].nunique().unstack()
    assert (span["before"] >= 24).all() and (span["after"] >= 24).all() and (span["transition"] > 0).all()
    assert (portfolio.cases["transition_months"] > 0).all()


def test_a_few_missing_months(portfolio):
    monthly = portfolio.kpis[portfolio.kpis["freq"] == "M"]
    for (case_id, kpi), rows in monthly.groupby(["case_id", "kpi"]):
        expected = pd.period_range(rows["date"].min(), rows["date"].max(), freq="M")
        missing = len(expected) - len(rows)
        assert 1 <= missing <= 6, (case_id, kpi, missing)


def test_appraisal_histories_and_capability_levels(portfolio):
    assert set(portfolio.appraisals["method"]) >= {"SCAMPI A", "SCAMPI B", "SCAMPI C", "Benchmark"}
    latest = portfolio.cases.set_index("case_id")["maturity_latest"]
    assert (latest >= 3).all() and (latest >= 4).sum() >= 2 and (latest == 5).any()
    assert set(portfolio.practice_areas["case_id"]) == set(portfolio.cases["case_id"])
    assert portfolio.practice_areas["capability_level"].between(0, 3).all()


def test_goals_and_investments_everywhere(portfolio):
    ids = set(portfolio.cases["case_id"])
    assert set(portfolio.goals["case_id"]) == ids and set(portfolio.investments["case_id"]) == ids
    with_target = portfolio.goals.dropna(subset=["target_change_pct", "target_value"], how="all")
    assert set(with_target["case_id"]) == ids


def test_the_truth_varies(portfolio):
    """Large and small improvements, no change, and worse: raw means, before vs after."""
    k = portfolio.kpis[portfolio.kpis["phase"] != "transition"]
    means = k.groupby(["case_id", "kpi", "phase", "better"])["value"].mean().unstack("phase").reset_index()
    sign = means["better"].map({"lower": -1, "higher": 1})
    improvement = sign * (means["after"] / means["before"] - 1) * 100
    assert (improvement > 40).any()                     # large
    assert improvement.between(3, 15).any()              # small
    assert improvement.abs().lt(3).sum() >= 2            # no real change
    assert (improvement < -5).sum() >= 2                 # got worse
