"""The controlled design: a KPI against a comparison unit's series of the same KPI (comparison.csv).

Reference values from R's nlme, error rates from pairs simulated without casekit (tests/controlled_simulation.py).
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from controlled_simulation import rates

import casekit as ck
from casekit.stats.ar1 import gls_ar1
from casekit.stats.timeseries import SegmentedSeries

ROOT = Path(__file__).resolve().parents[1]


def _r_data():
    """The series R read (tests/controlled_simulation.py's seed 2903, rounded as the CSV R read was written)."""
    rng = np.random.default_rng(2903)
    t = np.r_[np.arange(-27, -3), np.arange(0, 24)]
    post = (t >= 0).astype(int)
    shared = 0.1 * rng.standard_normal(len(t))
    adopting = np.round(20 * np.exp(0.005 * t + shared - 0.15 * post + 0.05 * rng.standard_normal(len(t))), 3)
    comparison = np.round(15 * np.exp(0.005 * t + shared + 0.05 * rng.standard_normal(len(t))), 3)
    return t, post, adopting, comparison


def test_the_controlled_design_matches_nlme():
    """The gap's segmented regression, as nlme fits it at a fixed AR(1) coefficient (R 4.2.2, nlme 3.1):

        d$gap <- log(d$ya) - log(d$yc); d$tpost <- d$t * d$post
        m <- gls(gap ~ post + tpost, data = d, correlation = corAR1(0.3, form = ~ t, fixed = TRUE))
        coef(m); vcov(m)
        pre <- subset(d, post == 0)
        m0 <- gls(gap ~ t, data = pre, correlation = corAR1(0.3, form = ~ t, fixed = TRUE))
    """
    t, post, adopting, comparison = _r_data()
    series = SegmentedSeries(adopting, t, np.where(post == 1, "after", "before"), (t % 12) + 1, 12,
                             comparison=comparison)
    beta, cov = gls_ar1(series.target, series.X, series.t, 0.3)
    assert beta == pytest.approx([0.29533038274106, -0.11072724568062, -0.00498130138735], rel=1e-8)
    assert cov[0, 0] == pytest.approx(3.42005431840e-04, rel=1e-8)
    assert cov[1, 1] == pytest.approx(1.56263194764e-03, rel=1e-8)
    assert cov[2, 2] == pytest.approx(6.65488582011e-06, rel=1e-8)
    assert cov[1, 2] == pytest.approx(-7.64845226272e-05, rel=1e-8)
    effect = series.rows[0]  # R: sum(cc * coef(m)) and its SE, cc = c(0, 1, 5.5)
    assert effect @ beta == pytest.approx(-0.1381244, rel=1e-6)
    assert np.sqrt(effect @ cov @ effect) == pytest.approx(0.03037454, rel=1e-6)
    before = series.t < 0
    X0 = np.column_stack([np.ones(before.sum()), series.t[before]])
    beta0, cov0 = gls_ar1(series.target[before], X0, series.t[before], 0.3)
    assert beta0 == pytest.approx([0.2663111659046, -0.0018708846486], rel=1e-8)
    assert np.sqrt(np.diag(cov0)) == pytest.approx([0.0411399514852, 0.0024090140099], rel=1e-8)


@pytest.mark.slow
def test_a_shock_both_units_take_at_adoption_is_no_effect():
    """A 40% fall at adoption that the comparison unit shows too: the single series calls most of them an effect,
    the controlled design about 5% (600 pairs when written: 5.5% controlled, 78.7% single)."""
    assert rates(600, 301, shock=0.4) <= 0.07
    assert rates(600, 301, controlled=False, shock=0.4) >= 0.5


@pytest.mark.slow
def test_size_and_power_against_a_comparison_that_tracks_the_kpi():
    """phi 0.4, noise sd 0.15, 24 + 24 months, innovations correlated 0.7: size at most 7%, power at a true 20%
    step at least 55% (600 pairs when written: 4.8% and 83.7%; the single series finds 20.5% of the steps)."""
    assert rates(600, 302) <= 0.07
    assert rates(600, 303, step=0.2) >= 0.55


def _case_with_comparison(tmp_path: Path, make_comparison) -> Path:
    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "quantia-tech")
    kpis = pd.read_csv(cases / "quantia-tech" / "kpis.csv")
    defects = kpis[kpis["kpi"] == "defect_density"].reset_index(drop=True)
    defects["value"] = make_comparison(defects)
    defects.to_csv(cases / "quantia-tech" / "comparison.csv", index=False)
    with open(cases / "quantia-tech" / "case.yaml", "a", encoding="utf-8") as yaml:
        yaml.write("comparison:\n  unit: Quantia Services\n  kind: business unit\n")
    return cases


def test_a_comparison_that_moved_as_the_kpi_did_leaves_no_effect(tmp_path: Path):
    noise = np.exp(np.random.default_rng(5).normal(0, 0.05, 200))  # a sister unit: the same course, its own noise
    cases = _case_with_comparison(tmp_path, lambda rows: (rows["value"] * 1.3 * noise[:len(rows)]).round(3))
    assert ck.validate_cases(cases) == []
    comparison = ck.compare_case(ck.load_cases(cases), "quantia-tech")
    row = comparison.table.set_index("kpi").loc["defect_density"]
    single = ck.compare_case(ck.load_cases(ROOT / "cases"), "quantia-tech").table.set_index("kpi")
    assert single.loc["defect_density", "verdict"] == "improved"  # alone, the fall reads as an effect
    assert row["comparison"] == "Quantia Services" and row["verdict"] == "no clear change"
    assert row["ci_low"] < 0 < row["ci_high"] and "measured against Quantia Services" in row["note"]
    assert "the check of parallel trends" in row["note"] and "did not move in parallel" not in row["note"]
    assert single.loc["cycle_time", "comparison"] == ""  # a KPI without a comparison series is fitted alone
    pooled = ck.compare_portfolio(ck.load_cases(cases)).effects.set_index("kpi").loc["defect_density"]
    mine = comparison.effects().set_index("kpi").loc["defect_density"]
    assert pooled["effect"] == pytest.approx(mine["effect"]) and pooled["effect_se"] == pytest.approx(mine["effect_se"])
    assert np.isfinite(comparison.roi()["benefit"].iloc[0])
    import matplotlib.pyplot as plt

    figure = comparison.plot("defect_density")
    labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
    plt.close(figure)
    assert "comparison: Quantia Services" in labels and "counterfactual (the comparison's course)" in labels


def test_a_comparison_that_drifted_away_before_adoption_gives_no_verdict(tmp_path: Path):
    drift = lambda rows: (rows["value"].iloc[0] * np.exp(0.03 * np.arange(len(rows)))).round(3)  # noqa: E731
    cases = _case_with_comparison(tmp_path, drift)
    row = ck.compare_case(ck.load_cases(cases), "quantia-tech").table.set_index("kpi").loc["defect_density"]
    assert row["its_pre_slope_p"] < 0.05
    assert row["verdict"] == "no clear change"
    assert "did not move in parallel" in row["note"] and "no verdict" in row["note"]


@pytest.mark.parametrize(("yaml", "comparison", "expected"), [
    ("", "period,kpi,value\n2019-01,defect_density,5\n", "case.yaml names no comparison unit"),
    ("comparison:\n  unit: Services\n", None, "no comparison.csv"),
    ("comparison:\n  kind: business unit\n", "period,kpi,value\n2019-01,defect_density,5\n", "name the comparison unit"),
    ("comparison:\n  unit: Services\n  kind: branch\n", "period,kpi,value\n2019-01,defect_density,5\n", "kind"),
    ("comparison:\n  unit: Services\n", "period,kpi,value\n2019-01,productivity,5\n", "no rows in kpis.csv"),
    ("comparison:\n  unit: Services\n", "period,kpi,value\n2019-01,defect_density,-5\n", "comparison.csv:2"),
    ("comparison:\n  unit: Services\n", "period,kpi,value\n2019-Q1,defect_density,5\n", "quarterly here but monthly"),
])
def test_a_broken_comparison_is_named_with_its_fix(tmp_path: Path, yaml: str, comparison, expected: str):
    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "quantia-tech")
    with open(cases / "quantia-tech" / "case.yaml", "a", encoding="utf-8") as file:
        file.write(yaml)
    if comparison is not None:
        (cases / "quantia-tech" / "comparison.csv").write_text(comparison, encoding="utf-8")
    problems = [str(p) for p in ck.validate_cases(cases)]
    assert any(expected in p for p in problems), problems


def test_import_writes_a_comparison_units_sheet_to_comparison_csv(tmp_path: Path):
    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "cases" / "quantia-tech", cases / "quantia-tech")
    kpis = pd.read_csv(cases / "quantia-tech" / "kpis.csv")
    own = (cases / "quantia-tech" / "kpis.csv").read_bytes()
    sheet = tmp_path / "services.csv"
    defects = kpis[kpis["kpi"] == "defect_density"]
    sheet.write_text("Month;Defect density (defects/KLOC)\n" + "".join(
        f"{p};{str(round(v * 1.2, 2)).replace('.', ',')}\n" for p, v in zip(defects["period"], defects["value"])),
        encoding="utf-8")
    result = ck.import_kpis(sheet, cases / "quantia-tech", comparison=True)
    assert [p.name for p in result.written] == ["comparison.csv"]
    assert (cases / "quantia-tech" / "kpis.csv").read_bytes() == own  # the organization's own data untouched
    assert any("case.yaml under `comparison:`" in note for note in result.notes)
    assert any("names no comparison unit" in str(p) for p in ck.validate_cases(cases))
    with open(cases / "quantia-tech" / "case.yaml", "a", encoding="utf-8") as yaml:
        yaml.write("comparison:\n  unit: Quantia Services\n")
    assert ck.validate_cases(cases) == []
    table = ck.compare_case(ck.load_cases(cases), "quantia-tech").table.set_index("kpi")
    assert table.loc["defect_density", "comparison"] == "Quantia Services"
