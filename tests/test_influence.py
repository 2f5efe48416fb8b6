"""Leave-one-out and influence diagnostics against R's metafor (tests/reference/README.md has the R code)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.stats.influence import influence, leave_one_out

REFERENCE = Path(__file__).resolve().parent / "reference"

# dat.bcg's log risk ratios and their variances, as escalc(measure = "RR") gives them (printed in R 4.2)
BCG_YI = [-0.8893113339202054, -1.5853886572014306, -1.3480731482996933, -1.4415511900213054, -0.2175473222112956,
          -0.7861155858188640, -1.6208982235983918, 0.0119523335238405, -0.4694176487381494, -1.3713448034727844,
          -0.3393588283383906, 0.4459134005713787, -0.0173139482168798]
BCG_VI = [0.32558476500396133, 0.19458112139814385, 0.41536796536796539, 0.02001003190224757, 0.05121017216963086,
          0.00690561845590876, 0.22301724757231517, 0.00396157929781773, 0.05643421046324897, 0.07302479361302891,
          0.01241221397155972, 0.53250584520015276, 0.07140465968398629]


@pytest.mark.parametrize(("method", "tolerance"), [("DL", 1e-8), ("PM", 1e-3)])
def test_leave_one_out_and_influence_match_metafor(method: str, tolerance: float):
    """Paule–Mandel's tau² is found by iteration, to a tolerance of its own in each program (about 1e-5 here)."""
    reference = pd.read_csv(REFERENCE / f"metafor_bcg_influence_{method.lower()}.csv")
    left = leave_one_out(BCG_YI, BCG_VI, method=method)
    assert left["estimate"].to_numpy() == pytest.approx(reference["estimate"], rel=tolerance)
    assert left["se"].to_numpy() == pytest.approx(reference["se"], rel=tolerance)
    assert left["tau2"].to_numpy() == pytest.approx(reference["tau2"], rel=tolerance)
    assert 100 * left["i2"].to_numpy() == pytest.approx(reference["I2"], rel=tolerance)
    assert left["q"].to_numpy() == pytest.approx(reference["Q"], rel=1e-8)
    found = influence(BCG_YI, BCG_VI, method=method)
    for ours, theirs in (("rstudent", "rstudent"), ("dffits", "dffits"), ("cook_d", "cook.d"), ("cov_r", "cov.r"),
                         ("hat", "hat"), ("dfbetas", "dfbs")):
        assert found[ours].to_numpy() == pytest.approx(reference[theirs], rel=tolerance, abs=1e-9), ours
    assert found["influential"].tolist() == reference["inf"].tolist()


def test_an_outlying_case_is_flagged_as_metafor_flags_it():
    """R: influence(rma(c(0.20, 0.25, 0.22, 0.90, 0.18), c(0.01, 0.012, 0.011, 0.01, 0.02), method = "DL"))."""
    found = influence([0.20, 0.25, 0.22, 0.90, 0.18], [0.01, 0.012, 0.011, 0.01, 0.02])
    assert found["rstudent"].to_numpy() == pytest.approx(
        [-0.473397995377, -0.310847361675, -0.406328483205, 5.985237192655, -0.533311677467], rel=1e-8)
    assert found["dffits"].to_numpy() == pytest.approx(
        [-0.234825927756, -0.151105115105, -0.199910328299, 3.056191719451, -0.255301195103], rel=1e-8)
    assert found["cook_d"].to_numpy() == pytest.approx(
        [0.0685686232573, 0.0291209368786, 0.0503562735531, 0.8857248222880, 0.0733890107179], rel=1e-8)
    assert found["dfbetas"].to_numpy() == pytest.approx(
        [-0.235334214263, -0.151162502730, -0.200174422950, 2.847990368159, -0.254296304273], rel=1e-8)
    assert found["influential"].tolist() == [False, False, False, True, False]


def test_fewer_than_three_cases_are_refused():
    with pytest.raises(ck.CasekitError, match="at least 3"):
        leave_one_out([0.1, 0.2], [0.01, 0.01])
    assert np.isfinite(leave_one_out([0.1, 0.2, 0.3], [0.01, 0.01, 0.01])["estimate"]).all()
