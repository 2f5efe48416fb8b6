"""Seasonality as a setting: checked on a published seasonal series against R.

The series is the worked example of Lopez Bernal, Cummins & Gasparrini (2017, Int J Epidemiol 46:348):
acute coronary events in Sicily, monthly 2002-01 to 2006-11, before and after the smoking ban of January
2005 (tests/reference/README.md). Their seasonally adjusted model (quasi-Poisson, a step change, two
harmonic pairs) gives a rate ratio of 0.885. Reproduced with R 4.2 and nlme 3.1, computed once
(tests/reference/README.md has the data's source):

    data <- read.csv("tests/reference/sicily.csv"); data$rate <- with(data, aces / stdpop * 10^5)
    h <- function(k) cbind(sin(2 * pi * k * data$month / 12), cos(2 * pi * k * data$month / 12))
    H <- cbind(h(1), h(2)); colnames(H) <- c("s1", "c1", "s2", "c2"); data <- cbind(data, H)
    model3 <- glm(aces ~ offset(log(stdpop)) + smokban + time + s1 + c1 + s2 + c2, family = quasipoisson, data)
    exp(cbind(coef(model3), confint.default(model3)))["smokban", ]     # 0.8851 (0.8394 to 0.9332)
    data$t <- data$time - 37; data$post <- data$smokban; data$tpost <- data$t * data$post
    gls(log(rate) ~ t + post + tpost + s1 + c1 + s2 + c2, data = data,
        correlation = corAR1(-0.11388024950071053, form = ~ t, fixed = TRUE))    # NLME_HARMONICS
    gls(log(rate) ~ t + post + tpost + factor(month), data = data,
        correlation = corAR1(0.3655268931156665, form = ~ t, fixed = TRUE))      # NLME_MONTHS
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.stats.ar1 import gls_ar1
from casekit.stats.timeseries import SegmentedSeries, positions

SICILY = pd.read_csv(Path(__file__).parent / "reference" / "sicily.csv")
RATE = (SICILY["aces"] / SICILY["stdpop"] * 1e5).to_numpy()
PERIODS = [f"{y}-{m:02d}" for y, m in zip(SICILY["year"], SICILY["month"])]
BAN = pd.Period("2005-01", freq="M")
PUBLISHED_RR = 0.8851

# coef() and sqrt(diag(vcov())) of the two gls calls above, first four (intercept, t, post, tpost)
NLME_HARMONICS = ([5.45532026016133020, 0.00516008699949737, -0.13312644393126410, 0.00148414314622777],
                  [0.016061028718843146, 0.000763377316668554, 0.025897630885186408, 0.001653520842573357])
NLME_HARMONIC_TERMS = [0.03638812057595169, 0.03830059416678250, -0.01866986027984231, 0.01549842074343294]
NLME_MONTHS = ([5.53979861874080104, 0.00540455279320362, -0.13246611540009409, 0.00101850891321722],
               [0.028959526757102193, 0.000966179402373008, 0.030988593319385582, 0.002078985876227061])


def _series(seasonal):
    months = pd.PeriodIndex(PERIODS, freq="M").asi8
    t, seasons, cycle = positions(months, "M", BAN, 0)
    phases = np.where(t < 0, "before", "after")
    return SegmentedSeries(RATE, t, phases, seasons, cycle, seasonal)


@pytest.mark.parametrize("seasonal, phi, reference", [(2, -0.11388024950071053, NLME_HARMONICS),
                                                      ("months", 0.3655268931156665, NLME_MONTHS)])
def test_the_seasonal_design_equals_nlme(seasonal, phi, reference):
    series = _series(seasonal)
    beta, cov = gls_ar1(series.target, series.X, series.t, phi)
    assert beta[:4] == pytest.approx(reference[0], rel=1e-8)
    assert np.sqrt(np.diag(cov))[:4] == pytest.approx(reference[1], rel=1e-8)
    if seasonal == 2:  # the harmonic columns in R's order: sin and cos of k = 1, then of k = 2
        assert beta[4:] == pytest.approx(NLME_HARMONIC_TERMS, rel=1e-8)


def test_the_published_effect_is_found_and_the_seasonal_fit_is_the_sharper():
    adjusted = ck.its(RATE, PERIODS, BAN, 0, seasonal=2)
    plain = ck.its(RATE, PERIODS, BAN, 0)
    # casekit's phi for this design is the one the nlme reference was computed at: the same fit
    assert adjusted.autocorrelation == pytest.approx(-0.11388024950071053, abs=1e-12)
    assert adjusted.level_change == pytest.approx(100 * np.expm1(NLME_HARMONICS[0][2]), rel=1e-8)
    # the published rate ratio (a step model on counts) lies inside casekit's interval for the level change,
    # and the two estimates are within a point of each other
    assert adjusted.level_ci_low < 100 * (PUBLISHED_RR - 1) < adjusted.level_ci_high
    assert adjusted.level_change == pytest.approx(100 * (PUBLISHED_RR - 1), abs=1.0)
    # left unadjusted, the yearly cycle is noise: the effect's interval is 1.85 times as wide
    ratio = (plain.effect_ci_high - plain.effect_ci_low) / (adjusted.effect_ci_high - adjusted.effect_ci_low)
    assert ratio > 1.6, ratio


def test_the_baseline_screen_sees_the_yearly_pattern():
    assert _series(0).seasonal_pattern_p() < 0.05  # p = 0.013: the note a report shows
    flat = SegmentedSeries(np.exp(np.random.default_rng(3).normal(0, 0.05, 59)), np.arange(59) - 36,
                           np.where(np.arange(59) < 36, "before", "after"), np.arange(59) % 12 + 1, 12)
    assert flat.seasonal_pattern_p() > 0.05


def test_seasonality_settings_are_checked():
    from casekit.stats.timeseries import seasonality

    assert [seasonality(s, 12) for s in (None, False, "none", True, 3, "months")] == [0, 0, 0, 1, 3, "months"]
    assert seasonality(6, 4) == 2  # a quarterly series has two harmonic pairs at most
    with pytest.raises(ValueError, match="seasonality must be"):
        seasonality(7, 12)
    with pytest.raises(ValueError, match="seasonality must be"):
        seasonality("weekly", 12)


def _sicily_case(case_dir: Path, seasonality: str | None) -> Path:
    from conftest import edit

    folder = case_dir / "acme"
    (folder / "kpis.csv").write_text("period,kpi,value\n" + "".join(
        f"{p},lead_time,{float(v)!r}\n" for p, v in zip(PERIODS, RATE)), encoding="utf-8")
    edit(folder / "case.yaml", "start: 2020-01", "start: 2005-01")
    edit(folder / "case.yaml", "transition_months: 3", "transition_months: 0" + (
        f"\n  seasonality: {seasonality}" if seasonality is not None else ""))
    edit(folder / "case.yaml", "    kpis: [review_coverage, defect_density]", "    kpis: [lead_time]")
    edit(folder / "case.yaml", "    kpis: [defect_density]", "    kpis: [lead_time]")
    edit(folder / "case.yaml", "      kpi: review_coverage\n      value: 90", "      kpi: lead_time\n      value: 200")
    return case_dir


def test_a_case_declares_its_seasonality_and_reports_carry_it(case_dir: Path):
    plain = ck.compare_case(ck.load_cases(_sicily_case(case_dir, None)), "acme")
    row = plain.table.iloc[0]
    assert plain.seasonal == 0 and "a yearly pattern before adoption" in row["note"]
    assert "adoption.seasonality" in row["note"]
    edit_to = case_dir / "acme" / "case.yaml"
    edit_to.write_text(edit_to.read_text(encoding="utf-8").replace("transition_months: 0",
                                                                   "transition_months: 0\n  seasonality: 2"),
                       encoding="utf-8")
    pf = ck.load_cases(case_dir)
    assert pf.cases.loc[0, "seasonality"] == 2
    adjusted = ck.compare_case(pf, "acme")
    row = adjusted.table.iloc[0]
    expected = ck.its(RATE, PERIODS, BAN, 0, seasonal=2)
    assert adjusted.seasonal == 2 and "yearly pattern" not in row["note"]
    assert row["its_level_change"] == pytest.approx(expected.level_change, rel=1e-9)
    # the same fit feeds pooling, and the chart draws the seasonal counterfactual
    effects = ck.compare_portfolio(pf).effects.iloc[0]
    assert effects["effect"] == pytest.approx(row["effect"], rel=1e-9)
    assert ck.compare_case(pf, "acme", seasonal="none").table.iloc[0]["its_level_change"] == pytest.approx(
        ck.its(RATE, PERIODS, BAN, 0).level_change, rel=1e-9)
    import matplotlib

    matplotlib.use("Agg")
    line = {drawn.get_label(): drawn for drawn in adjusted.plot("lead_time").axes[0].get_lines()}["baseline trend"]
    assert np.ptp(np.diff(np.log(line.get_ydata()))) > 0.01  # it follows the months, not a straight line


@pytest.mark.parametrize("value, message", [
    ("3.5", "expected none, a number of harmonic pairs from 1 to 6"),
    ("weekly", "expected none, a number of harmonic pairs from 1 to 6"),
    ("7", "expected none, a number of harmonic pairs from 1 to 6"),
])
def test_a_wrong_seasonality_is_named(case_dir: Path, value, message):
    from conftest import edit

    edit(case_dir / "acme" / "case.yaml", "transition_months: 3", f"transition_months: 3\n  seasonality: {value}")
    problems = [(p.field, p.message) for p in ck.validate_cases(case_dir)]
    assert [field for field, text in problems if message in text] == ["adoption.seasonality"], problems


def test_a_primary_kpi_is_declared_in_the_case(case_dir: Path):
    from conftest import edit

    edit(case_dir / "acme" / "case.yaml", "currency: EUR", "currency: EUR\nprimary_kpi: defect_density")
    pf = ck.load_cases(case_dir)
    comparison = ck.compare_case(pf, "acme")
    assert comparison.primary == "defect_density" and pf.cases.loc[0, "primary_kpi"] == "defect_density"
    edit(case_dir / "acme" / "case.yaml", "primary_kpi: defect_density", "primary_kpi: bogus")
    problems = [(p.field, p.message) for p in ck.validate_cases(case_dir)]
    assert problems and problems[0][0] == "primary_kpi" and "unknown KPI 'bogus'" in problems[0][1]


def test_report_parameters_for_seasonality_and_the_rest():
    ck.check_report_parameters(seasonal=2, discount_rate=0.08, correction="bh")
    ck.check_report_parameters(seasonal="months")
    with pytest.raises(ck.ParameterError, match="seasonal must be None"):
        ck.check_report_parameters(seasonal="yes")
    with pytest.raises(ck.ParameterError, match="discount_rate must be a yearly rate"):
        ck.check_report_parameters(discount_rate=8)
