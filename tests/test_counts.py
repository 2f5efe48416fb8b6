"""Count KPIs: a Poisson model with overdispersion and AR(1) correlation, zeros as data, an exposure as offset.

Reference values from R's glm (quasipoisson); error rates from series simulated without casekit
(tests/count_simulation.py).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from count_simulation import rates

import casekit as ck
from casekit.errors import ArgumentError
from casekit.stats.counts import count_test
from casekit.stats.timeseries import SegmentedSeries, its_series


def _r_data():
    """The series R read (seed 2912; written by the snippet below and read back by R as counts.csv)::

        rng = np.random.default_rng(2912)
        t = np.r_[np.arange(-27, -3), np.arange(0, 24)]; after = (t >= 0).astype(int)
        exposure = rng.integers(3, 9, len(t)); u = np.zeros(len(t))
        for i in range(1, len(t)): u[i] = 0.4 * u[i-1] + rng.normal(0, 0.2)
        y = rng.poisson(exposure * 1.5 * np.exp(-0.3 * after + 0.005 * t + u))
    """
    y = [5, 9, 5, 12, 9, 3, 5, 5, 1, 9, 16, 9, 0, 6, 2, 2, 10, 10, 11, 15, 11, 5, 7, 9, 11, 8, 6, 0, 3, 9, 9, 10, 3, 4,
         8, 6, 2, 5, 1, 3, 3, 6, 5, 6, 4, 10, 7, 10]
    exposure = [7, 8, 4, 7, 5, 3, 6, 7, 4, 3, 5, 5, 3, 8, 4, 4, 7, 5, 6, 7, 8, 3, 6, 7, 4, 7, 4, 3, 3, 7, 6, 7, 6, 3,
                5, 8, 3, 3, 3, 3, 6, 5, 6, 7, 3, 8, 6, 3]
    t = np.r_[np.arange(-27, -3), np.arange(0, 24)]
    return np.array(y, dtype=float), np.array(exposure, dtype=float), t


def test_coefficients_dispersion_and_covariance_match_r_quasipoisson():
    """R 4.2.2::

        m <- glm(y ~ t + after + tafter + offset(log(exposure)), family = quasipoisson, data = d)
        coef(m); summary(m)$dispersion; vcov(m)

    casekit's covariance is R's with the months' AR(1) correlation put in its middle:
    ``psi · A⁻¹ X'W^½ R(phi) W^½X A⁻¹``, where R's ``vcov`` is ``psi · A⁻¹``.
    """
    coefficients = [0.4717501733, 0.0122053960, -0.2628499361, -0.0168615124]
    dispersion = 1.9062488019
    vcov = np.array([5.6102721682e-02, 3.0668937875e-03, -5.6102721682e-02, -3.0668937875e-03,
                     3.0668937875e-03, 2.0776171262e-04, -3.0668937875e-03, -2.0776171262e-04,
                     -5.6102721682e-02, -3.0668937875e-03, 1.0664370464e-01, -1.6684155058e-04,
                     -3.0668937875e-03, -2.0776171262e-04, -1.6684155058e-04, 4.9170973453e-04]).reshape(4, 4)
    y, exposure, t = _r_data()
    after = (t >= 0).astype(float)
    X = np.column_stack([np.ones(len(t)), t, after, t * after])
    result = count_test(y, X, t, np.eye(4), offset=np.log(exposure), bootstrap=False)
    np.testing.assert_allclose(result.beta, coefficients, atol=1e-8)
    # R's summary() takes the dispersion from its last iteration's working residuals, a step before convergence
    assert result.dispersion == pytest.approx(dispersion, rel=1e-4)
    inverse = vcov / dispersion
    root_w = np.sqrt(exposure * np.exp(X @ np.array(coefficients)))
    correlation = result.phi ** np.abs(t[:, None] - t[None, :])
    middle = (X * root_w[:, None]).T @ correlation @ (X * root_w[:, None])
    np.testing.assert_allclose(result.cov, dispersion * inverse @ middle @ inverse, rtol=1e-4, atol=1e-7)
    assert 0 < result.phi < 0.9


def test_bad_counts_are_refused():
    X = np.column_stack([np.ones(10), np.arange(10) >= 5])
    with pytest.raises(ArgumentError, match="whole numbers"):
        count_test([1, 2, 3.5, 1, 2, 3, 1, 2, 3, 1], X, np.arange(10), [[0, 1]])
    with pytest.raises(ArgumentError, match="whole numbers"):
        count_test([1, 2, -1, 1, 2, 3, 1, 2, 3, 1], X, np.arange(10), [[0, 1]])


def _series(y, exposure=None, counts=True):
    t = np.r_[np.arange(-27, -3), np.arange(0, 24)]
    return SegmentedSeries(y, t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12, counts=counts,
                           exposure=exposure)


def test_an_exposure_makes_the_count_a_rate():
    """Twice the releases after adoption, the same defects per release: as a rate, no change; as a count, a
    doubling."""
    rng = np.random.default_rng(5)
    exposure = np.r_[np.full(24, 4.0), np.full(24, 8.0)]
    y = rng.poisson(2.0 * exposure).astype(float)
    as_rate = its_series(_series(y, exposure), n_boot=199)
    as_count = its_series(_series(y), n_boot=199)
    assert as_rate.p_value["effect"] > 0.05 and abs(as_rate.shown("effect")[0]) < 30
    assert as_count.p_value["effect"] < 0.05 and as_count.shown("effect")[0] > 50
    # the levels are the organization's counts, exposure included
    assert np.exp(as_rate.estimate["fitted"]) == pytest.approx(y[24:36].mean(), rel=0.3)


def test_zeros_are_data_not_a_reason_to_change_scale():
    rng = np.random.default_rng(8)
    y = rng.poisson(np.r_[np.full(24, 1.5), np.full(24, 0.6)]).astype(float)
    assert (y == 0).sum() > 10
    fit = its_series(_series(y), n_boot=199)
    assert fit.scale == "log" and np.isfinite(fit.estimate["effect"])
    value, low, high, _ = fit.shown("effect")
    assert -100 < low < value < high


@pytest.mark.slow
def test_count_model_holds_its_size_and_is_no_less_powerful_than_log_gaussian():
    """Counts around 10 a month, Poisson around a log-normal AR(1) mean (phi 0.4, sd 0.15), and an INAR(1)
    series: the count model's false positives at most 7%, and its power for a 25% fall at least the
    log-Gaussian model's on the same series, less two points of simulation error."""
    assert rates(300, 101, "count", mean=10.0) <= 0.07
    assert rates(300, 102, "count", mean=3.0, inar=True) <= 0.07
    count, gaussian = (rates(300, 103, model, mean=10.0, step=0.25) for model in ("count", "gaussian"))
    assert count >= gaussian - 0.02


# The case format and the comparisons


def _case_with_counts(case_dir: Path, counts, releases=None, exposure=True):
    months = [str(m) for m in pd.period_range(end="2019-12", periods=24, freq="M")]
    months += [str(m) for m in pd.period_range("2020-04", periods=24, freq="M")]
    text = "period,kpi,value\n" + "".join(f"{m},escaped_defects,{v:g}\n" for m, v in zip(months, counts))
    if releases is not None:
        text += "".join(f"{m},releases,{v:g}\n" for m, v in zip(months, releases))
    (case_dir / "acme" / "kpis.csv").write_text(text, encoding="utf-8")
    path = case_dir / "acme" / "case.yaml"
    head = path.read_text(encoding="utf-8").split("business_goals:")[0] + "investments: []\n"
    if exposure and releases is not None:
        head += "exposures:\n  escaped_defects: releases\n"
    path.write_text(head, encoding="utf-8")


def test_a_count_kpi_is_fitted_by_the_count_model_in_a_case(case_dir):
    rng = np.random.default_rng(3)
    releases = rng.integers(2, 6, 48).astype(float)
    _case_with_counts(case_dir, rng.poisson(releases * np.r_[np.full(24, 1.0), np.full(24, 0.5)]), releases)
    portfolio = ck.load_cases(case_dir)
    assert portfolio.exposures.to_dict("records") == [{"case_id": "acme", "kpi": "escaped_defects",
                                                       "exposure": "releases"}]
    comparison = ck.compare_case(portfolio, "acme")
    row = comparison.table.set_index("kpi").loc["escaped_defects"]
    assert row["scale"] == "count" and row["improvement_unit"] == "%" and row["verdict"] == "improved"
    assert 20 < row["improvement"] < 75  # truth: half the defects per release, 50% better
    assert "a count of events, as a rate of releases (count model)" in row["note"]
    pooled = ck.compare_portfolio(portfolio).effects.set_index("kpi").loc["escaped_defects"]
    assert pooled["effect"] == pytest.approx(row["effect"])
    assert comparison.plot("escaped_defects") is not None


@pytest.mark.parametrize(("counts", "yaml", "message"), [
    ([2.5] + [3] * 47, "", "a whole number of at least 0, got 2.5"),
    ([3] * 48, "exposures:\n  defect_density: releases\n", "defect_density is not a count"),
    ([3] * 48, "exposures:\n  escaped_defects: nps\n", "cannot be the exposure of escaped_defects"),
    ([3] * 48, "exposures:\n  escaped_defects: releases\n", "kpis.csv has no rows for releases"),
])
def test_bad_counts_and_exposures_name_the_fix(case_dir, counts, yaml, message):
    _case_with_counts(case_dir, counts)
    path = case_dir / "acme" / "case.yaml"
    path.write_text(path.read_text(encoding="utf-8") + yaml, encoding="utf-8")
    problems = ck.validate_cases(case_dir)
    assert any(message in str(problem) for problem in problems), problems


def test_an_exposure_of_zero_is_refused(case_dir):
    releases = [3.0] * 47 + [0.0]
    _case_with_counts(case_dir, [3] * 48, releases)
    problems = [str(p) for p in ck.validate_cases(case_dir)]
    assert any("releases is zero or less in 2022-03" in p and "a rate of escaped_defects is undefined" in p
               for p in problems), problems


def test_months_without_an_exposure_are_left_out_and_said(case_dir):
    rng = np.random.default_rng(4)
    releases = rng.integers(2, 6, 48).astype(float)
    _case_with_counts(case_dir, rng.poisson(releases * 1.5), releases)
    kpis = case_dir / "acme" / "kpis.csv"
    lines = kpis.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not (line.startswith(("2018-01", "2018-02", "2021-05")) and "releases" in line)]
    kpis.write_text("\n".join(kept) + "\n", encoding="utf-8")
    portfolio = ck.load_cases(case_dir)
    row = ck.compare_case(portfolio, "acme").table.set_index("kpi").loc["escaped_defects"]
    assert row["n_before"] == 22 and row["n_after"] == 23
    assert "3 periods without releases left out" in row["note"]
    pooled = ck.compare_portfolio(portfolio).effects.set_index("kpi").loc["escaped_defects"]
    assert pooled["effect"] == pytest.approx(row["effect"])
