"""HAC regression against Stata's newey; the interrupted time series on known truths."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from reference_methods import hac_ols
from scipy import stats

import casekit as ck
from casekit.stats.timeseries import mean_shift, newey_west_lags


def test_hac_ols_against_stata_newey():
    # Stata: newey g_realinv g_realgdp L.realint, lag(4), on statsmodels' macrodata;
    # statsmodels/regression/tests/results/results_macro_ols_robust.py (results_newey4)
    data = sm.datasets.macrodata.load_pandas().data
    g_inv = 400 * np.diff(np.log(data["realinv"].to_numpy()))
    g_gdp = 400 * np.diff(np.log(data["realgdp"].to_numpy()))
    X = np.column_stack([g_gdp, data["realint"].to_numpy()[:-1], np.ones(len(g_gdp))])
    fit = hac_ols(g_inv, X, maxlags=4)
    assert fit.params == pytest.approx([4.3742216647032, -0.61399696947899, -9.4816727746549], rel=1e-9)
    assert fit.bse == pytest.approx([0.33125644884286, 0.29582347593197, 1.1859338087713], rel=1e-9)
    assert fit.pvalues[1] == pytest.approx(0.03922090940364, rel=1e-7)  # t on 199 df, as Stata


def test_newey_west_bandwidth_rule():
    assert [newey_west_lags(n) for n in (20, 48, 60, 100, 250)] == [2, 3, 3, 4, 4]


@pytest.mark.parametrize("seed", range(5))
def test_mean_shift_is_statsmodels_hac(seed):
    rng = np.random.default_rng(seed)
    n_before, n_after = rng.integers(4, 40, 2)
    y = np.exp(rng.normal(0, 0.2, n_before + n_after) - 0.3 * (np.arange(n_before + n_after) >= n_before))
    shift = mean_shift(y[:n_before], y[n_before:], alpha=0.1)
    X = np.column_stack([np.ones(len(y)), np.arange(len(y)) >= n_before]).astype(float)
    fit = hac_ols(np.log(y), X)
    assert shift.log_ratio == pytest.approx(fit.params[1], abs=1e-12)
    assert shift.log_ratio_se == pytest.approx(fit.bse[1], rel=1e-10)
    assert shift.p_value == pytest.approx(fit.pvalues[1], rel=1e-8, abs=1e-300)
    low, high = fit.conf_int(0.1)[1]
    assert (shift.change_ci_low, shift.change_ci_high) == (pytest.approx(100 * np.expm1(low)),
                                                          pytest.approx(100 * np.expm1(high)))
    post = fit.t_test([1, 1]).conf_int(0.1)[0]
    assert (shift.post_ci_low, shift.post_ci_high) == (pytest.approx(np.exp(post[0])), pytest.approx(np.exp(post[1])))


def test_mean_shift_levels_are_geometric_means():
    from scipy.stats import gmean

    before, after = np.array([4.0, 5.0, 4.5, 4.2]), np.array([3.0, 3.3, 2.9, 3.1, 3.2])
    shift = mean_shift(before, after)
    assert shift.baseline == pytest.approx(gmean(before)) and shift.post == pytest.approx(gmean(after))
    assert shift.change_pct == pytest.approx(100 * (gmean(after) / gmean(before) - 1))


def test_mean_shift_raw_scale_with_zeros():
    before, after = np.array([0.0, 2.0, 1.0, 1.0, 3.0, 2.0]), np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    shift = mean_shift(before, after)
    assert shift.scale == "raw"
    assert (shift.baseline, shift.post) == (pytest.approx(1.5), pytest.approx(0.5))
    assert shift.log_ratio == pytest.approx(np.log(0.5 / 1.5))
    # the delta method with both means and their covariance, from statsmodels' HAC covariance of (a, b)
    y = np.r_[before, after]
    X = np.column_stack([np.ones(12), np.r_[np.zeros(6), np.ones(6)]])
    cov = hac_ols(y, X).cov_params()
    a, post = 1.5, 0.5
    gradient = np.array([1 / post - 1 / a, 1 / post])  # d log(a + b) - log(a) / d(a, b)
    assert shift.log_ratio_se == pytest.approx(np.sqrt(gradient @ cov @ gradient), rel=1e-10)
    # the percent change and its interval follow from the log ratio, so they carry the baseline's uncertainty
    assert shift.change_pct == pytest.approx(100 * (post / a - 1))
    crit = stats.t.ppf(0.975, 10)
    assert shift.change_ci_low == pytest.approx(100 * np.expm1(shift.log_ratio - crit * shift.log_ratio_se))


def test_mean_shift_lags_count_in_periods():
    # points either side of a gap are not neighbours: the same as zero scores at the missing periods
    rng = np.random.default_rng(4)
    positions = np.r_[np.arange(10), np.arange(13, 20), np.arange(22, 30)]
    y = np.exp(rng.normal(0, 0.2, len(positions)))
    n_before = 10
    shift = mean_shift(y[:n_before], y[n_before:], positions=positions, maxlags=3)
    target = np.log(y)
    X = np.column_stack([np.ones(len(y)), np.r_[np.zeros(n_before), np.ones(len(y) - n_before)]])
    scores = X * (target - X @ np.linalg.lstsq(X, target, rcond=None)[0])[:, None]
    padded = np.zeros((positions[-1] + 1, 2))
    padded[positions] = scores
    meat = padded.T @ padded
    for lag in range(1, 4):
        gamma = padded[lag:].T @ padded[:-lag]
        meat += (1 - lag / 4) * (gamma + gamma.T)
    bread = np.linalg.inv(X.T @ X)
    cov = bread @ meat @ bread * len(y) / (len(y) - 2)
    assert shift.log_ratio_se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-12)
    assert mean_shift(y[:n_before], y[n_before:], maxlags=3).log_ratio_se != pytest.approx(shift.log_ratio_se)


def test_a_mid_quarter_adoption_is_measured_from_the_first_whole_quarter():
    start = pd.Period("2021-02", freq="M")
    t, phases, _, _ = ck.timeseries._positions(["2020-Q4", "2021-Q1", "2021-Q2", "2021-Q3"], start, 0)
    assert phases.tolist() == ["before", "transition", "after", "after"]
    assert t.tolist() == [-2, -1, 0, 1]  # the level change is at 2021-Q2, the first quarter wholly after


def _series(level_change, slope_change, pre_slope=0.002, n=(30, 30), transition=0, noise=0.01, seed=0, freq="M"):
    rng = np.random.default_rng(seed)
    start = pd.Period("2021-01", freq="M")
    if freq == "M":
        periods = pd.period_range(start - n[0], start + transition + n[1] - 1, freq="M")
        t = np.array([(p - (start + transition)).n for p in periods], dtype=float)
    else:
        periods = pd.period_range(start.asfreq("Q") - n[0], start.asfreq("Q") + n[1] - 1, freq="Q")
        t = np.array([(p - start.asfreq("Q")).n for p in periods], dtype=float)
    post = (t >= 0).astype(float)
    log_y = 2 + pre_slope * t + np.log1p(level_change) * post + np.log1p(slope_change) * t * post
    return np.exp(log_y + rng.normal(0, noise, len(t))), [ck.periods.format_period(p) for p in periods], start


def test_its_recovers_level_and_slope_change():
    y, periods, start = _series(level_change=-0.25, slope_change=-0.01)
    res = ck.its(y, periods, start)
    assert res.level_change == pytest.approx(-25, abs=1.5) and res.level_ci_low < -25 < res.level_ci_high
    assert res.slope_change == pytest.approx(-1, abs=0.15) and res.slope_p <= 0.001  # 1 / (999 + 1)
    assert res.pre_slope == pytest.approx(0.2, abs=0.1)
    assert (res.n_before, res.n_after, res.scale) == (30, 30, "log")


def test_its_without_change_finds_none():
    y, periods, start = _series(level_change=0.0, slope_change=0.0, seed=3)
    res = ck.its(y, periods, start)
    assert res.level_p > 0.05 and res.slope_p > 0.05


def test_its_leaves_the_transition_out():
    y, periods, start = _series(level_change=-0.25, slope_change=0.0, transition=6)
    y[30:36] = 999.0  # chaos during the transition must not matter
    res = ck.its(y, periods, start, transition_months=6)
    assert res.level_change == pytest.approx(-25, abs=1.5) and res.n_after == 30


def test_its_quarterly_and_seasonal():
    y, periods, start = _series(level_change=0.3, slope_change=0.0, n=(10, 10), freq="Q", noise=0.005)
    res = ck.its(y, periods, start, seasonal=True)
    assert res.level_change == pytest.approx(30, abs=2) and res.seasonal


def test_its_needs_data_on_both_sides():
    y, periods, start = _series(level_change=0.0, slope_change=0.0, n=(2, 10))
    with pytest.raises(ValueError, match="at least 3 periods before and after"):
        ck.its(y, periods, start)


def test_many_series_fitted_together_are_each_fitted_alone():
    # its_estimates stacks the series that share a design; the mix below has shared and lone designs,
    # gaps, seasonal and quarterly fits, and raw-scale series (whose effect is the log ratio of levels)
    from casekit.stats.timeseries import SegmentedSeries, its_arrays, its_estimates

    rng = np.random.default_rng(11)
    series, alone = [], []
    for i in range(60):
        n_before, n_after = (24, 24) if i % 3 else (rng.integers(8, 30), rng.integers(8, 30))
        t = np.r_[np.arange(-n_before - 3, -3), np.arange(n_after)]
        phases = np.where(t < -3, "before", "after")
        if i % 7 == 0:
            t, phases = np.delete(t, 5), np.delete(phases, 5)  # a missing month
        cycle, seasonal, log = (4, True, None) if i % 5 == 0 else (12, i % 4 == 0, None if i % 2 else False)
        seasons = t % cycle + 1
        values = 10 + 0.05 * t - 1.5 * (phases == "after") + rng.normal(0, 0.4, len(t))
        series.append(SegmentedSeries(values, t, phases, seasons, cycle, seasonal, log))
        alone.append(its_arrays(values, t, phases, seasons, cycle, seasonal=seasonal, log=log, bootstrap=False))
    together = its_estimates(series)
    assert len({s.design_key() for s in series}) < len(series)  # some designs are shared
    assert any(f.scale == "raw" and np.isfinite(f.log_ratio_se) for f in together)
    for one, other in zip(together, alone):
        assert one.estimate == pytest.approx(other.estimate, rel=1e-10)
        assert one.se == pytest.approx(other.se, rel=1e-10)
        assert one.p_value == pytest.approx(other.p_value, rel=1e-9)
        assert (one.phi, one.inflation) == pytest.approx((other.phi, other.inflation), rel=1e-10)
        assert one.log_ratio_se == pytest.approx(other.log_ratio_se, rel=1e-10, nan_ok=True)


def test_the_inflation_factor_is_read_on_the_design_without_its_missing_months():
    from casekit.stats.timeseries import SegmentedSeries

    t = np.r_[np.arange(-27, -3), np.arange(24)]
    phases = np.where(t < 0, "before", "after")
    seasons = (t + 5) % 12 + 1
    values = np.exp(np.random.default_rng(2).normal(0, 0.1, len(t)))
    whole = SegmentedSeries(values, t, phases, seasons, 12, seasonal=1)
    X, positions = whole.inflation_design()
    assert np.array_equal(X, whole.X) and np.array_equal(positions, whole.t)  # no gaps: its own design
    keep = np.ones(len(t), bool)
    keep[[3, 10, 30, 40]] = False
    gapped = SegmentedSeries(values[keep], t[keep], phases[keep], seasons[keep], 12, seasonal=1)
    X, positions = gapped.inflation_design()
    # the same counts a side, without the gaps: the first 22 months before and 22 after, seasons continued
    assert (gapped.n_before, gapped.n_after) == (22, 22) and len(positions) == 44
    assert positions[21] == -4 and positions[22] == 0 and np.all(np.diff(positions[:22]) == 1)
    assert np.array_equal(X[22:], whole.X[24:46])  # the months after adoption, as the whole series has them
