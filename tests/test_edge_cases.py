"""Statistical edge cases give a clear "not enough data" (or a note), never NaN soup, an exception or warnings."""

import warnings
from pathlib import Path

import numpy as np
import pytest

import casekit as ck
from casekit.within import _before_after

INFO = dict(label="Escaped defects", unit="defects", better="lower", category="quality", scale="ratio")


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("before, after, note", [
    ([1.0, 2.0], [1.0, 2.0, 3.0], "needs 3 periods before and after; has 2 and 3"),
    ([], [1.0, 2.0, 3.0], "needs 3 periods before and after; has 0 and 3"),
    ([4.0] * 6, [4.0] * 6, "the values never vary"),
    ([0.0] * 6, [0.0, 1.0, 0.0, 2.0, 0.0, 1.0], "the baseline is zero, so a relative change is undefined"),
])
def test_not_enough_data(before, after, note):
    row = _before_after(np.array(before), np.array(after), INFO, 0.05)
    assert row["verdict"] == "not enough data" and row["note"] == note


def test_steps_without_noise_are_called_but_flagged():
    row = _before_after(np.array([2.0] * 5), np.array([1.0] * 5), INFO, 0.05)
    assert row["verdict"] == "improved" and row["improvement"] == pytest.approx(50.0)
    assert row["note"] == "no variation within each phase: the interval has no width"


def test_zeros_in_a_ratio_kpi_use_the_raw_scale():
    row = _before_after(np.array([2.0, 0.0, 3.0, 1.0, 2.0, 4.0]), np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]), INFO, 0.05)
    assert row["verdict"] in {"improved", "no clear change"} and np.isfinite(row["improvement"])


def test_one_case_portfolio(case_dir: Path):
    table = ck.compare_portfolio(ck.load_cases(case_dir))
    assert (table["verdict"] == "not enough data").all() and (table["k"] == 1).all()
    assert table["p_adjusted"].isna().all()
    summary = ck.category_summary(ck.load_cases(case_dir))
    assert summary["data_points"].tolist() == [2]


def test_two_data_points_case(case_dir: Path):
    rows = "period,kpi,value\n2019-06,defect_density,4\n2020-06,defect_density,3\n"
    (case_dir / "acme" / "kpis.csv").write_text(rows + "".join(f"2019-{m:02d},lead_time,{10 + m}\n" for m in range(1, 7)),
                                                 encoding="utf-8")
    (case_dir / "acme" / "case.yaml").write_text(
        (case_dir / "acme" / "case.yaml").read_text(encoding="utf-8").replace("review_coverage, defect_density", "defect_density")
        .replace("      kpi: review_coverage\n      value: 90", "      kpi: defect_density\n      value: 3"), encoding="utf-8")
    pf = ck.load_cases(case_dir)
    table = ck.compare_case(pf, "acme").set_index("kpi")
    assert (table["verdict"] == "not enough data").all()
    goals = ck.goal_attainment(pf, "acme")
    assert set(goals["status"]) == {"not enough data"}
    assert np.isnan(ck.roi(pf, "acme").loc[0, "benefit"])
    findings = ck.case_findings(pf, "acme")
    assert findings[0].endswith("2 had too little data.")
