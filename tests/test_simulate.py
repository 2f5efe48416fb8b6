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
    (dict(n_orgs=2, effect=0.1, seed=1, kpis=("nps",)), "ratio-scale"),
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
