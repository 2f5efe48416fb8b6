import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck


def test_same_seed_same_portfolio():
    a = ck.simulate_portfolio(5, 0.2, seed=3)
    b = ck.simulate_portfolio(5, 0.2, seed=3)
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    assert not ck.simulate_portfolio(5, 0.2, seed=4).kpis["value"].equals(a.kpis["value"])


def test_written_cases_validate_and_load_to_the_same_tables(tmp_path: Path):
    pf = ck.simulate_portfolio(6, 0.15, seed=5, out=tmp_path)
    assert ck.validate_cases(tmp_path) == []
    loaded = ck.load_cases(tmp_path)
    pd.testing.assert_frame_equal(loaded.kpis, pf.kpis)
    pd.testing.assert_frame_equal(loaded.cases, pf.cases)
    pd.testing.assert_frame_equal(loaded.appraisals.reset_index(drop=True), pf.appraisals.reset_index(drop=True),
                                  check_dtype=False)


def test_truth_and_shape():
    pf = ck.simulate_portfolio(40, 0.2, seed=6, heterogeneity=0.0, months_before=30, months_after=20,
                               transition_months=4)
    assert pf.truth["true_improvement"].to_numpy() == pytest.approx(20.0)
    counts = pf.kpis.groupby(["case_id", "kpi", "phase"]).size().unstack()
    assert (counts["before"] == 30).all() and (counts["after"] == 20).all() and (counts["transition"] == 4).all()


def test_recovers_known_effect():
    pf = ck.simulate_portfolio(60, 0.25, seed=7)
    table = ck.compare_portfolio(pf).tests().set_index("kpi")
    for kpi in ("defect_density", "on_time_delivery"):
        truth = pf.truth.loc[pf.truth["kpi"] == kpi, "true_effect"].mean()
        row = table.loc[kpi]
        improvement = pf.truth.loc[pf.truth["kpi"] == kpi, "true_improvement"]
        assert row["pooled_ci_low"] < 25 < row["pooled_ci_high"], (kpi, row["pooled_improvement"])
        assert np.isfinite(truth) and improvement.mean() == pytest.approx(25, abs=2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_orgs=0, effect=0.1, seed=1), "at least 1"),
    (dict(n_orgs=2, effect=1.5, seed=1), "between -1 and 1"),
    (dict(n_orgs=2, effect=0.1, seed=1, kpis=("nps",)), "ratio-scale and count"),
    (dict(n_orgs=2, effect=0.1, seed=1, market_turn=1.2), "market_turn is a fraction"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ck.simulate_portfolio(**kwargs)


def test_comparison_units_and_a_shared_shock_teach_why_a_comparison_matters(tmp_path):
    """A 30% change at adoption that both units take, and no effect of CMMI in any organization: fitted alone,
    the organizations' KPIs read it as an improvement about half the time; against their comparison units, about
    as often as chance allows (of 60 KPIs when written: 32 and 2)."""
    out = tmp_path / "cases"
    result = subprocess.run([sys.executable, "-m", "casekit", "simulate", "--orgs", "30", "--effect", "0", "--seed",
                             "5", "--out", str(out), "--comparison", "0.7", "--shared-shock", "0.3",
                             "--heterogeneity", "0"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ck.validate_cases(out) == []
    pf = ck.load_cases(out)
    assert pf.cases["comparison_unit"].str.startswith("Comparison unit").all() and len(pf.comparison) == len(pf.kpis)
    tables = [ck.compare_case(pf, case_id).table for case_id in pf.cases["case_id"]]
    controlled = sum((t["verdict"] != "no clear change").sum() for t in tables)
    alone = ck.simulate_portfolio(30, 0.0, seed=5, shared_shock=0.3, heterogeneity=0.0)
    single = sum((ck.compare_case(alone, c).table["verdict"] != "no clear change").sum() for c in alone.cases["case_id"])
    assert controlled <= 6 and single >= 20, (controlled, single)


def test_a_seed_gives_the_same_cases_with_comparison_units_added_or_not():
    plain = ck.simulate_portfolio(3, 0.2, seed=9)
    assert plain.comparison.empty
    with pytest.raises(ck.CasekitError, match="strictly between -1 and 1"):
        ck.simulate_portfolio(3, 0.2, seed=9, comparison=1.5)


def test_count_kpis_are_whole_numbers_with_zeros_and_validate(tmp_path):
    out = tmp_path / "cases"
    result = subprocess.run([sys.executable, "-m", "casekit", "simulate", "--orgs", "4", "--effect", "0.3", "--seed",
                             "2", "--out", str(out), "--kpi", "incidents", "--kpi", "defect_density"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ck.validate_cases(out) == []
    pf = ck.load_cases(out)
    counts = pf.kpis.loc[pf.kpis["kpi"] == "incidents", "value"]
    assert (counts == counts.round()).all() and (counts == 0).any() and counts.mean() == pytest.approx(2.6, abs=0.6)
    assert ck.compare_case(pf, "sim-0001").table.set_index("kpi").loc["incidents", "scale"] == "count"
    assert (pf.kpis["kpi"] == "defect_density").sum() == 4 * 51  # the ratio KPI beside it, month by month


def test_a_market_turn_is_read_as_an_effect_one_by_one_but_not_by_the_event_study():
    """A 25% fall in January 2021, every organization, no effect of CMMI: in their own series some
    organizations that adopted near it look improved; against the organizations not yet adopting, the change
    after adoption is about zero."""
    turned = ck.simulate_portfolio(40, 0.0, seed=4, kpis=("defect_density",), heterogeneity=0.0, market_turn=0.25)
    plain = ck.simulate_portfolio(40, 0.0, seed=4, kpis=("defect_density",), heterogeneity=0.0)
    jumps = turned.kpis["value"].to_numpy() / plain.kpis["value"].to_numpy()
    assert set(np.round(jumps, 4)) == {1.0, 0.75}  # values are written to 6 significant digits
    across = ck.compare_portfolio(turned)
    alone = int((across.as_reported()["verdict"] == "improved").sum())
    study = across.event_study("defect_density").average()
    assert alone >= 5
    assert study["ci_low"] < 0 < study["ci_high"] and abs(study["change"]) < 8
