"""Paired tests against R (t.test, wilcox.test, binom.test examples)."""

import numpy as np
import pytest

from casekit.stats.paired import paired_tests

# R: t.test(extra ~ group, data = sleep, paired = TRUE)
#    t = -4.0621, df = 9, p-value = 0.002833
SLEEP_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])
# R: wilcox.test(x, y, paired = TRUE, alternative = "greater")  (Hollander & Wolfe, depression)
#    V = 40, p-value = 0.01953
DEPRESSION_X = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
DEPRESSION_Y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])


def test_paired_t_against_r_sleep():
    result = paired_tests(SLEEP_1 - SLEEP_2)
    assert result["t_stat"] == pytest.approx(-4.0621, abs=5e-5)
    assert result["t_p"] == pytest.approx(0.002833, abs=5e-7)
    # d_z = t / sqrt(n)
    assert result["dz"] == pytest.approx(-4.0621 / np.sqrt(10), abs=5e-5)


def test_wilcoxon_against_r_depression():
    result = paired_tests(DEPRESSION_X - DEPRESSION_Y)
    # scipy reports min(W+, W-); R's V is W+ = n(n+1)/2 - W- = 45 - 5
    assert result["wilcoxon_stat"] == 5 and 45 - result["wilcoxon_stat"] == 40
    assert result["wilcoxon_p"] == pytest.approx(2 * 0.01953, abs=1e-4)  # two-sided, exact


def test_sign_test_against_r_binom_test():
    # 7 of the 9 depression differences are positive; R: binom.test(7, 9) p-value = 0.1797
    result = paired_tests(DEPRESSION_X - DEPRESSION_Y)
    assert (result["sign_positive"], result["sign_n"]) == (7, 9)
    assert result["sign_p"] == pytest.approx(0.1797, abs=5e-5)


def test_dz_interval_covers_at_nominal_rate():
    """Noncentral-t CI for d_z: coverage within binomial bounds of 95% (400 normal samples, n = 12, d = 0.5)."""
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(400):
        result = paired_tests(rng.normal(0.5, 1.0, 12))
        covered += result["dz_ci_low"] <= 0.5 <= result["dz_ci_high"]
    assert 366 <= covered <= 394  # 99.9% binomial interval around 380


def test_too_few_or_no_spread():
    assert np.isnan(paired_tests([0.3])["t_p"])
    result = paired_tests([0.2, 0.2, 0.2])
    assert np.isnan(result["t_p"]) and result["sign_positive"] == 3
