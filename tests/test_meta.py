"""meta_analysis against R's metafor."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import casekit as ck

# Kacker (2004), nine laboratories; R metafor via statsmodels' test results
# (statsmodels/stats/tests/results/results_meta.py):
#   rma(y, v, method="DL"|"PM", control=list(tol=1e-9)), rma(y, v, method="DL", test="knha")
KACKER_Y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
KACKER_V = [0.2025, 1.21, 0.09, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
METAFOR = {
    "DL": dict(estimate=62.3901386044504, se=0.245749668040304, ci_low=61.9084781058787, ci_high=62.8717991030221,
               tau2=0.288049246973751, i2=67.744403741711 / 100, q=24.801897741835, q_pvalue=0.00167935146372742),
    "PM": dict(estimate=62.4076199113286, se=0.338030602684471, ci_low=61.7450921043947, ci_high=63.0701477182625,
               tau2=0.705395309224248, i2=83.7218626490482 / 100, q=24.801897741835, q_pvalue=0.00167935146372742),
}
# rma(y, v, method="DL", test="knha")
METAFOR_KNHA = dict(estimate=62.3901386044504, se=0.29477605699879, ci_low=61.710383798052, ci_high=63.0698934108488,
                    p_value=2.77938607433693e-16)


@pytest.mark.parametrize("method", ["DL", "PM"])
def test_kacker_against_metafor(method):
    res = ck.meta_analysis(KACKER_Y, KACKER_V, method=method)
    for name, expected in METAFOR[method].items():
        # metafor's PM iterates to 1e-9; statsmodels' to 1e-5 in tau²
        assert getattr(res, name) == pytest.approx(expected, rel=1e-5 if method == "PM" else 1e-9), name
    assert res.k == 9 and res.method == method and res.p_value < 1e-100


# Five close effects (Q < k - 1), where the Hartung-Knapp SE falls below the usual one; R 4.2, metafor 3.8-1:
#   y <- c(0.10, 0.12, 0.11, 0.13, 0.105); v <- c(0.010, 0.012, 0.015, 0.020, 0.011)
#   rma(y, v, method = "DL", test = "adhoc")   # test = "knha" gives se 0.00507289421867448, p 2.58e-05
CLOSE_Y = [0.10, 0.12, 0.11, 0.13, 0.105]
CLOSE_V = [0.010, 0.012, 0.015, 0.020, 0.011]
METAFOR_ADHOC = dict(estimate=0.110968992248062, se=0.0505780538858873, ci_low=-0.0294581978938401,
                     ci_high=0.251396182389964, p_value=0.0932732348285559, tau2=0.0)


def test_hartung_knapp_is_metafor_adhoc_not_knha():
    res = ck.meta_analysis(CLOSE_Y, CLOSE_V, method="DL", test="hk")
    for name, expected in METAFOR_ADHOC.items():
        assert getattr(res, name) == pytest.approx(expected, rel=1e-9, abs=1e-12), name


def test_hartung_knapp_against_metafor_knha():
    res = ck.meta_analysis(KACKER_Y, KACKER_V, method="DL", test="hk")
    for name, expected in METAFOR_KNHA.items():
        assert getattr(res, name) == pytest.approx(expected, rel=1e-7), name


# The cluster-robust test, each case its own cluster; R 4.2, metafor 3.8-1, clubSandwich 0.5.8 (computed once):
#   res <- rma(y, v, method = "DL"); rob <- robust(res, cluster = seq_along(y), clubSandwich = TRUE)
#   c(rob$beta, rob$se, rob$ci.lb, rob$ci.ub, rob$pval, rob$ddf); predict(rob)
ROBUST = {
    "kacker": (KACKER_Y, KACKER_V, dict(
        estimate=62.3901386044503, se=0.24427544062738, ci_low=61.7984115863929, ci_high=62.9818656225078,
        p_value=8.09077003812732e-14, df=6.26123667943946, pi_low=60.9617174744188, pi_high=63.8185597344819)),
    # five close effects: the robust SE is the effects' own spread, far below the usual one
    "close": (CLOSE_Y, CLOSE_V, dict(
        estimate=0.110968992248062, se=0.00496277745699712, ci_low=0.0968422212984601,
        ci_high=0.125095763197664, p_value=3.84310833331302e-05, df=3.7637513408517)),
    "four": ([0.31, -0.05, 0.42, 0.18], [0.02, 0.05, 0.01, 0.09], dict(
        estimate=0.296240872901714, se=0.0964670959136295, ci_low=-0.0994383571858334, ci_high=0.691920102989261,
        p_value=0.0859783846529106, df=2.10596608739826, pi_low=-0.255419627403811, pi_high=0.847901373207239)),
    "two": ([0.2, 0.5], [0.01, 0.04], dict(
        estimate=0.3, se=0.141421356237309, ci_low=-1.49692870641874, ci_high=2.09692870641874,
        p_value=0.280437798007543, df=1.0)),
}


@pytest.mark.parametrize("name", ROBUST)
def test_robust_test_against_metafor_and_clubsandwich(name):
    y, v, expected = ROBUST[name]
    res = ck.meta_analysis(y, v, method="DL", test="robust")
    for field, value in expected.items():
        assert getattr(res, field) == pytest.approx(value, rel=1e-9, abs=1e-12), field
    assert res.test == "robust"


def test_second_dataset_against_metafor():
    # metafor rma(y, v, method="DL") as printed in PyMARE issue #75:
    # tau^2 7.6337, I^2 88.02%, Q(df = 7) = 58.4539, estimate 1.7679, se 1.0491,
    # ci -0.2883 3.8241, pval 0.0920
    res = ck.meta_analysis([-1, 0.5, 0.5, 0.5, 1, 1, 2, 10], [1, 1, 2.4, 0.5, 1, 1, 1.2, 1.5])
    assert res.tau2 == pytest.approx(7.6337, abs=5e-5)
    assert 100 * res.i2 == pytest.approx(88.02, abs=5e-3)
    assert res.q == pytest.approx(58.4539, abs=5e-5)
    assert (res.estimate, res.se) == (pytest.approx(1.7679, abs=5e-5), pytest.approx(1.0491, abs=5e-5))
    assert (res.ci_low, res.ci_high) == (pytest.approx(-0.2883, abs=5e-5), pytest.approx(3.8241, abs=5e-5))
    assert res.p_value == pytest.approx(0.0920, abs=5e-5)


def test_prediction_interval_is_metafors():
    """metafor's predict(): the test's own SE and quantile, tau² added.

    R 4.2, metafor 3.8 (computed once; the effects are the shipped portfolio's defect density):
        yi <- c(0.3944754349019526, 0.057161677951342194, 0.08004360579003697, 0.09110342165649568,
                0.8032139923368644)
        vi <- c(0.013894490372412254, 0.014268456514272734, 0.019333648614000973, 0.12677536750809404,
                0.0222855084888556)
        predict(rma(yi, vi, method = "DL", test = "adhoc"), transf = exp)
        # pred 1.35350790161189, ci 0.89784984173611 to 2.04041205354354, pi 0.557011666607689 to 3.28895021334657
    """
    yi = [0.3944754349019526, 0.057161677951342194, 0.08004360579003697, 0.09110342165649568, 0.8032139923368644]
    vi = [0.013894490372412254, 0.014268456514272734, 0.019333648614000973, 0.12677536750809404, 0.0222855084888556]
    res = ck.meta_analysis(yi, vi, method="DL", test="hk")
    got = np.exp([res.estimate, res.ci_low, res.ci_high, res.pi_low, res.pi_high])
    assert got == pytest.approx([1.35350790161189, 0.89784984173611, 2.040412053961543, 0.557011666607689,
                                 3.288950213346458], rel=1e-9)
    # without Hartung-Knapp, metafor's default z test: estimate ± z sqrt(tau² + se²) (Kacker's data)
    plain = ck.meta_analysis(KACKER_Y, KACKER_V)
    m = METAFOR["DL"]
    half = stats.norm.ppf(0.975) * np.sqrt(m["tau2"] + m["se"] ** 2)
    assert (plain.pi_low, plain.pi_high) == (pytest.approx(m["estimate"] - half), pytest.approx(m["estimate"] + half))
    assert np.isnan(ck.meta_analysis([1.0, 2.0], [0.1, 0.1]).pi_low)  # k = 2: none


@pytest.mark.parametrize("method", ["DL", "PM"])
def test_homogeneous_effects_truncate_tau2_at_zero(method):
    # Q < k - 1: DerSimonian & Laird and metafor set tau² to 0, giving the inverse-variance mean
    y, v = np.array([0.1, 0.11, 0.105]), np.array([0.01, 0.01, 0.02])
    res = ck.meta_analysis(y, v, method=method)
    assert res.q < 2 and res.tau2 == 0 and res.i2 == 0
    assert res.estimate == pytest.approx(np.average(y, weights=1 / v))
    assert res.se == pytest.approx(np.sqrt(1 / (1 / v).sum()))


def test_modified_hartung_knapp_is_never_narrower_than_the_usual_interval():
    y, v = np.array([0.1, 0.11, 0.105]), np.array([0.01, 0.01, 0.02])
    plain, hk = ck.meta_analysis(y, v), ck.meta_analysis(y, v, test="hk")
    assert hk.se == pytest.approx(plain.se)
    assert hk.ci_high - hk.ci_low > plain.ci_high - plain.ci_low  # t(k-1) instead of z


def test_to_frame_and_repr():
    res = ck.meta_analysis(KACKER_Y, KACKER_V)
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1
    assert {"estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q", "q_pvalue", "k",
            "method"} <= set(frame.columns)
    assert "I2=67.7%" in repr(res)


@pytest.mark.parametrize("effect, variance, message", [
    ([1.0], [0.1], "at least 2 effects"),
    ([1.0, 2.0], [0.1], "same length"),
    ([1.0, 2.0], [0.1, 0.0], "positive"),
    ([1.0, np.nan], [0.1, 0.1], "finite"),
])
def test_bad_input(effect, variance, message):
    with pytest.raises(ValueError, match=message):
        ck.meta_analysis(effect, variance)


def test_unknown_method():
    with pytest.raises(ValueError, match="DL, PM"):
        ck.meta_analysis(KACKER_Y, KACKER_V, method="REML")
