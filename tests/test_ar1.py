"""casekit.stats.ar1: GLS with AR(1) errors at gapped times, the bias-corrected phi, the bootstrap test."""

import numpy as np
import pytest
from ar1_simulation import reml_gls
from reference_methods import ar1_correlation, whiten

from casekit import ar1

# A first-year-effect design with the transition gap (-3..-1) and two missing months (-20, 16) left out.
# The log KPI values were made once with tests/ar1_simulation.series (seed 2026, phi 0.5, a 20% step), rounded.
T = [-27, -26, -25, -24, -23, -22, -21, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4,
     0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23]
Y = [2.211, 2.2809, 2.1021, 2.3419, 2.3861, 2.3151, 2.2777, 2.2848, 2.2711, 2.3588, 2.3822, 2.336, 2.3107, 2.3227,
     2.2513, 2.2366, 2.3244, 2.3004, 2.1641, 2.1856, 2.3098, 2.2829, 2.2779, 2.2307, 2.0321, 2.0733, 1.9594, 2.1546,
     2.2004, 2.2537, 2.078, 2.1472, 2.0614, 2.0247, 2.1027, 2.1788, 2.1495, 2.0517, 1.983, 2.1869, 2.2052, 2.3607,
     2.1385, 2.3649, 2.5373, 2.4702]


def design():
    t = np.array(T, dtype=float)
    post = (t >= 0).astype(float)
    return np.array(Y), np.column_stack([np.ones_like(t), t, post, t * post]), np.array(T)


# R 4.2, nlme 3.1-162:
#   d <- data.frame(t = T, y = Y); d$post <- as.numeric(d$t >= 0)
#   f <- gls(y ~ t + post + t:post, data = d, correlation = corAR1(0.5, form = ~ t, fixed = TRUE))
#   coef(f); sqrt(diag(vcov(f)))
# corAR1(form = ~ t) correlates observations phi^|t_i - t_j| apart: a gap is not a step of one.
R_FIXED_COEF = [2.28062718420397115, 0.00011451186992783, -0.22780130748952807, 0.01122210797162250]
R_FIXED_SE = [0.08573002697966380, 0.00498681496061478, 0.10834772848500235, 0.00711196980430250]
#   g <- gls(y ~ t + post + t:post, data = d, correlation = corAR1(form = ~ t), method = "REML")
#   coef(g); sqrt(diag(vcov(g))); coef(g$modelStruct$corStruct, unconstrained = FALSE)
R_REML_COEF = [2.280080603551740914, 0.000109096947540757, -0.226014714189916505, 0.011198410134174901]
R_REML_SE = [0.08845695915127655, 0.00513941064333948, 0.11155751936060482, 0.00734134010164427]
R_REML_PHI = 0.518207041384602


def test_gls_with_known_phi_against_nlme():
    y, X, t = design()
    beta, cov = ar1.gls_ar1(y, X, t, 0.5)
    assert beta == pytest.approx(R_FIXED_COEF, rel=1e-9)
    assert np.sqrt(np.diag(cov)) == pytest.approx(R_FIXED_SE, rel=1e-9)


def test_reference_reml_gls_against_nlme():
    # the plain GLS-AR(1) that the calibration tests compare casekit's test with
    y, X, t = design()
    beta, cov, phi = reml_gls(y, t.astype(float), X)
    assert phi == pytest.approx(R_REML_PHI, abs=1e-6)
    assert beta == pytest.approx(R_REML_COEF, rel=1e-5)
    assert np.sqrt(np.diag(cov)) == pytest.approx(R_REML_SE, rel=1e-5)


def test_whitening_makes_gapped_ar1_errors_independent():
    t = np.array([0, 1, 2, 5, 6, 9, 10, 11])
    S = ar1_correlation(t, 0.7)
    # rows of the whitening transform, applied to the identity
    P = whiten(np.eye(len(t))[None], t, 0.7)[0]
    assert P @ S @ P.T == pytest.approx(np.eye(len(t)), abs=1e-12)


def test_expected_residual_autocorrelation_by_its_definition():
    # the polynomial shortcut equals tr(MBM S) / tr(M S) computed with the matrices themselves
    y, X, t = design()
    d = ar1._Design(X, t)
    n, pairs = len(t), np.nonzero(np.diff(t) == 1)[0]
    B = np.zeros((n, n))
    B[pairs + 1, pairs] = B[pairs, pairs + 1] = 0.5
    for phi in (-0.5, 0.0, 0.3, 0.8):
        S = ar1_correlation(t, phi)
        M = d.residual_maker
        direct = (np.trace(M @ B @ M @ S) / len(pairs)) / (np.trace(M @ S) / n)
        assert np.interp(phi, ar1._GRID, d.expected) == pytest.approx(direct, abs=2e-3)


@pytest.mark.parametrize("phi", [0.0, 0.4, 0.7])
def test_phi_is_nearly_unbiased_where_the_raw_estimate_is_not(phi):
    y, X, t = design()
    rng = np.random.default_rng(5)
    noise = ar1._ar1_noise(rng, 3000, t, phi)
    d = ar1._Design(X, t)
    corrected = ar1._phi(noise, d)
    r = noise @ d.residual_maker
    raw = (r[:, 1:] * r[:, :-1])[:, d.adjacent].mean(-1) / (r**2).mean(-1)
    assert raw.mean() < phi - 0.08  # the residuals' autocorrelation is far too low with four coefficients
    # what remains is the ratio-of-expectations approximation and the cap at 0.95: -0.03 at phi = 0.7
    assert corrected.mean() == pytest.approx(phi, abs=0.04)


def test_bootstrap_is_reproducible_and_seeded_by_the_data():
    y, X, t = design()
    first = ar1.ar1_test(y, X, t, [[0, 0, 1, 5.5]])
    again = ar1.ar1_test(y, X, t, [[0, 0, 1, 5.5]])
    assert first.p_value[0] == again.p_value[0] and first.ci_low[0] == again.ci_low[0]
    beta, cov = ar1.gls_ar1(y, X, t, first.phi)
    c = np.array([0, 0, 1, 5.5])
    assert first.estimate[0] == pytest.approx(c @ beta) and first.se[0] == pytest.approx(np.sqrt(c @ cov @ c))
    # the interval is symmetric around the estimate, and excludes 0 exactly when p < alpha (within 1/n_boot)
    assert first.ci_high[0] - first.estimate[0] == pytest.approx(first.estimate[0] - first.ci_low[0])
    assert (first.ci_high[0] < 0) == (first.p_value[0] < 0.05)


def test_too_few_points_is_refused():
    with pytest.raises(ValueError, match="at least 6 points"):
        ar1.ar1_test(np.arange(5.0), np.column_stack([np.ones(5), np.arange(5), np.ones(5), np.arange(5)]),
                     np.arange(5), [[0, 0, 1, 0]])


def test_stacked_fits_are_each_series_fitted_alone_and_the_textbook_whitened_regression():
    # ar1_estimates_many fits many series on one design in one stack, without building the whitened
    # design; each row must be what the explicit Prais–Winsten regression (whiten, then least squares) gives
    y, X, t = design()
    rng = np.random.default_rng(5)
    Y = y + rng.normal(0, 0.05, (40, len(y)))
    C = np.array([[0, 0, 1, 5.5], [0, 1, 0, 0]])
    estimate, se, phi, _, cov = ar1.ar1_estimates_many(Y, X, t, C)
    for row in range(len(Y)):
        alone = ar1.ar1_estimates(Y[row], X, t, C)
        assert estimate[row] == pytest.approx(alone[0], rel=1e-12) and se[row] == pytest.approx(alone[1], rel=1e-12)
        white = whiten(np.column_stack([X, Y[row]])[None], t, phi[row])[0]
        beta, rss = np.linalg.lstsq(white[:, :-1], white[:, -1], rcond=None)[:2]
        textbook = rss[0] / (len(y) - X.shape[1]) * np.linalg.inv(white[:, :-1].T @ white[:, :-1])
        assert estimate[row] == pytest.approx(C @ beta, rel=1e-10)
        assert cov[row] == pytest.approx(textbook, rel=1e-9)


def test_series_each_on_its_own_design_fitted_together_are_each_fitted_alone():
    # ar1_estimates_stacked serves series with designs of their own (own spans and gaps), as real portfolios have
    rng = np.random.default_rng(8)
    positions = [np.sort(rng.choice(40, 30, replace=False)) for _ in range(25)]
    positions.append(np.arange(0, 60, 2))  # no two points adjacent: nothing to estimate phi from
    designs = [np.column_stack([np.ones(30), p - 20.0, p >= 20, (p - 20.0) * (p >= 20)]) for p in positions]
    Y = np.array([0.3 * (p >= 20) + rng.normal(0, 0.2, 30) for p in positions])
    Y[3] = designs[3] @ [1.0, 0.1, 0.5, -0.05]  # an exact fit
    C = np.stack([np.array([[0, 0, 1, 5.5], [0, 1, 0, 0]])] * len(Y))
    estimate, se, phi, beta, cov = ar1.ar1_estimates_stacked(Y, np.stack(designs), np.stack(positions), C)
    for row in range(len(Y)):
        alone_estimate, alone_se, alone_phi = ar1.ar1_estimates(Y[row], designs[row], positions[row], C[row])
        assert estimate[row] == pytest.approx(alone_estimate, rel=1e-9, abs=1e-12)
        assert se[row] == pytest.approx(alone_se, rel=1e-9, abs=1e-12)
        assert phi[row] == pytest.approx(alone_phi, abs=1e-12)
    assert phi[-1] == 0 and phi[3] == 0


def test_the_inflation_factor_simulates_only_the_grid_points_it_needs():
    y, X, t = design()
    contrast = np.array([0, 0, 1, 5.5])
    # a design seen for the first time serves one series: two grid points are simulated, not ten
    lone = ar1._Design(X, t)
    one = lone.inflation_at(contrast, 0.3)
    assert np.isfinite(lone.inflation[contrast.tobytes()]).sum() == 2
    everywhere = ar1._Design(X, t)
    curve = everywhere.inflation_at(contrast, ar1._INFLATION_GRID)  # every point
    assert one == pytest.approx(np.interp(0.3, ar1._INFLATION_GRID, curve), rel=1e-12)
    phis = np.array([-0.95, -0.5, 0.0, 0.12, 0.6, 0.87, 0.9, 0.95])
    assert lone.inflation_at(contrast, phis) == pytest.approx(np.interp(phis, ar1._INFLATION_GRID, curve), rel=1e-12)
    assert 1 < curve[2] < 1.2 and curve[-1] > curve[4]  # about 7% at phi 0, larger as phi nears 1
