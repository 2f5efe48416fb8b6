"""Goal attainment and ROI on a case whose numbers are easy to check by hand."""

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import gmean

import casekit as ck
from conftest import edit


def test_goal_statuses(case_dir: Path):
    pf = ck.load_cases(case_dir)
    goals = ck.goal_attainment(pf, "acme").set_index("goal_id")
    # G1: defect density fell about 27% beyond its baseline trend, against a 20% target; the CI is narrow
    g1 = goals.loc["G1"]
    assert (g1["kpi"], g1["target"], g1["target_kind"], g1["status"]) == ("defect_density", 20, "change_pct", "met")
    assert g1["ci_low"] > 20
    # 9 months after adoption: the comparison is descriptive only, and the goal says so
    assert g1["note"] == "Defect density is described, not tested"
    line = next(line for line in ck.case_findings(pf, "acme") if line.startswith("Goal G1"))
    assert line.startswith("Goal G1 (Fewer defects): met, +")
    assert line.endswith("against a target of 20% better (Defect density is described, not tested).")
    # G2: review coverage reached about 85.6%, short of 90
    g2 = goals.loc["G2"]
    post = pf.kpis[(pf.kpis["kpi"] == "review_coverage") & (pf.kpis["phase"] == "after")]["value"]
    assert g2["achieved"] == pytest.approx(gmean(post)) and g2["ci_high"] < 90
    assert (g2["target_kind"], g2["status"]) == ("value", "not met")


@pytest.mark.parametrize("target, status", [("-20", "met"), ("-26.62", "inconclusive"), ("-30", "not met")])
def test_change_targets(case_dir: Path, target: str, status: str):
    edit(case_dir / "acme" / "case.yaml", "change_pct: -20", f"change_pct: {target}")
    goals = ck.goal_attainment(ck.load_cases(case_dir), "acme").set_index("goal_id")
    assert goals.loc["G1", "status"] == status


def test_lower_is_better_value_target(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "    target:\n      change_pct: -20", "    target:\n      value: 3.5")
    goals = ck.goal_attainment(ck.load_cases(case_dir), "acme").set_index("goal_id")
    assert goals.loc["G1", "status"] == "met"  # about 3.08 defects per KLOC, below 3.5


def test_goal_without_target(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "    target:\n      change_pct: -20\n", "")
    goals = ck.goal_attainment(ck.load_cases(case_dir), "acme").set_index("goal_id")
    assert goals.loc["G1", "status"] == "no target" and goals.loc["G1", "kpi"] == "defect_density"


def test_roi_by_hand(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "kpis:\n  review_coverage:", "kpi_values:\n  defect_density: 2000\nkpis:\n  review_coverage:")
    pf = ck.load_cases(case_dir)
    row = ck.roi(pf, "acme").iloc[0]
    dd = ck.compare_case(pf, "acme").set_index("kpi").loc["defect_density"]
    # the effect in defects per KLOC: the baseline level times the relative fall beyond the trend
    drop = dd["baseline"] * dd["improvement"] / 100
    assert row["monthly_benefit"] == pytest.approx(2000 * drop)
    assert row["horizon_months"] == 9  # 2020-04 .. 2020-12
    assert row["benefit"] == pytest.approx(9 * 2000 * drop)
    assert row["investment"] == 10000 and row["currency"] == "EUR"
    assert row["benefit_cost_ratio"] == pytest.approx(row["benefit"] / 10000)
    assert row["roi_pct"] == pytest.approx(100 * (row["benefit"] - 10000) / 10000)
    assert row["benefit_low"] < row["benefit"] < row["benefit_high"]
    # the interval from the KPI's standard error by the delta method: d/d(effect) of baseline (1 - exp(-effect))
    half = 1.959963984540054 * 9 * 2000 * dd["baseline"] * np.exp(-dd["effect"]) * dd["effect_se"]
    assert row["benefit_high"] - row["benefit"] == pytest.approx(half)
    assert (row["kpis_valued"], row["discounted"]) == ("defect_density", False)
    assert row["note"] == "rests on comparisons that are descriptive only: defect_density"  # 9 months after
    # 10,000 at about 2,160 a month: paid back 5 months into the benefits, 3 + 5 after the start
    assert row["payback_months"] == 3 + int(np.ceil(10000 / row["monthly_benefit"]))


def test_roi_never_counts_a_kpi_without_an_estimate_as_zero(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "kpis:\n  review_coverage:",
         "kpi_values:\n  defect_density: 2000\n  review_coverage: 10\nkpis:\n  review_coverage:")
    path = case_dir / "acme" / "kpis.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # review coverage keeps 4 months after adoption: too few to compare
    keep = [line for line in lines if "review_coverage" not in line or line < "2020-08"]
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    row = ck.roi(ck.load_cases(case_dir), "acme").iloc[0]
    assert row["kpis_valued"] == "defect_density"
    assert row["note"].startswith("not counted (could not be compared): review_coverage (not enough data); ")


def test_roi_without_valued_kpis(case_dir: Path):
    row = ck.roi(ck.load_cases(case_dir), "acme").iloc[0]
    assert row["investment"] == 10000 and np.isnan(row["benefit"])


def test_kpi_values_are_validated(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "kpis:\n  review_coverage:", "kpi_values:\n  lead_time: -5\n  bogus: 1\nkpis:\n  review_coverage:")
    messages = {(p.field, p.message) for p in ck.validate_cases(case_dir)}
    assert ("kpi_values.lead_time", "expected a number >= 0, got -5") in messages
    assert ("kpi_values.bogus", "unknown KPI 'bogus'") in messages
