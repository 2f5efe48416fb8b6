import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped():
    return ck.load_cases(ROOT / "cases")


def test_category_summary_is_the_sei_view(shipped):
    sei = pd.read_csv(ROOT / "casekit" / "data" / "sei_performance_results_2006.csv")
    summary = ck.compare_portfolio(shipped).categories(reference=sei).set_index("category")
    effects = ck.compare_portfolio(shipped).effects
    quality = effects[(effects["category"] == "quality") & effects["scale"].isin(["ratio", "count"]) & effects["usable"]]
    row = summary.loc["quality"]
    assert row["data_points"] == len(quality) and row["cases"] == quality["case_id"].nunique()
    assert (row["median"], row["lowest"], row["highest"]) == (
        pytest.approx(quality["improvement"].median()), pytest.approx(quality["improvement"].min()),
        pytest.approx(quality["improvement"].max()))
    assert row["reference_median"] == 48  # Gibson, Goldenson & Kost (2006)
    assert "return on investment" not in summary.index  # no case measures ROI as a KPI


def _effects(sectors: list[str], scale: str = "ratio") -> pd.DataFrame:
    rng = np.random.default_rng(5)
    effect = rng.normal(-0.2, 0.1, len(sectors))
    se = rng.uniform(0.05, 0.1, len(sectors))
    return pd.DataFrame({"case_id": [f"org-{i}" for i in range(len(sectors))], "kpi": "defect_density",
                         "better": "lower", "scale": scale, "usable": True, "sector": sectors, "effect": effect,
                         "effect_se": se, "improvement": -100 * np.expm1(effect),
                         "ci_low": -100 * np.expm1(effect + 2 * se), "ci_high": -100 * np.expm1(effect - 2 * se)})


def test_subgroups_are_compared_only_among_those_of_two_or_more_organizations():
    from casekit.stats.breakdowns import subgroup_analysis

    effects = _effects(["Banking", "Banking", "Banking", "Retail", "Retail", "Energy"])
    table = subgroup_analysis(effects, "sector")
    # Q between = sum of w (theta - weighted mean)^2, w = 1/se^2, over the subgroups' pooled estimates only
    pooled = [ck.meta_analysis(g["effect"], g["effect_se"] ** 2, test="hk") for _, g in
              effects[effects["sector"] != "Energy"].groupby("sector")]
    theta, w = np.array([r.estimate for r in pooled]), 1 / np.array([r.se for r in pooled]) ** 2
    q = float((w * (theta - np.average(theta, weights=w)) ** 2).sum())
    assert table["q_between"].iloc[0] == pytest.approx(q)
    assert table["p_between"].iloc[0] == pytest.approx(stats.chi2.sf(q, 1))
    assert "left out, with one: Energy" in table["between_note"].iloc[0]


def test_no_subgroup_test_when_each_subgroup_is_one_organization(shipped):
    from casekit.stats.breakdowns import subgroup_analysis

    table = subgroup_analysis(_effects(["Banking", "Retail", "Energy", "Energy"]), "sector")
    assert table["p_between"].isna().all() and table["p_between_adjusted"].isna().all()
    assert table["between_note"].iloc[0] == "not tested: fewer than two subgroups have two or more organizations"
    shown = ck.presentation.subgroup_table(table, shipped, "sector").text
    assert "p < 0.001" not in shown and "not tested: fewer than two subgroups" in shown
    # the shipped portfolio: customer satisfaction is measured by one organization in each of two sectors
    cs = ck.compare_portfolio(shipped).subgroups("sector").query("kpi == 'customer_satisfaction'")
    assert cs["p_between"].isna().all() and cs["k"].max() == 1


def test_subgroup_effects_of_an_interval_kpi_are_in_points(shipped):
    from casekit.stats.breakdowns import subgroup_analysis

    table = subgroup_analysis(_effects(["Banking", "Banking", "Retail", "Retail"], scale="interval").assign(
        kpi="nps", better="higher"), "sector")
    assert set(table["improvement_unit"]) == {"points"}
    assert " points" in ck.presentation.subgroup_table(table, shipped, "sector").text


def test_subgroup_by_maturity_reached(shipped):
    table = ck.compare_portfolio(shipped).subgroups("maturity_latest")
    assert set(table["maturity_latest"]) == {3, 4, 5}
    with pytest.raises(ValueError, match="by must be"):
        ck.compare_portfolio(shipped).subgroups("colour")


def test_dose_response_exact_permutation_p():
    pf = ck.simulate_portfolio(6, 0.2, seed=21, kpis=("defect_density",))
    effects = ck.compare_portfolio(pf).effects
    table = ck.compare_portfolio(pf).dose(by="kpi").set_index("kpi")
    row = table.loc["defect_density"]
    rho = stats.spearmanr(effects["levels_gained"], effects["effect"]).statistic
    assert row["rho"] == pytest.approx(rho) and row["n"] == 6
    # exact: the share of all 720 pairings whose |rho| is at least as large, by brute force
    x, y = effects["levels_gained"].to_numpy(float), effects["effect"].to_numpy()
    rhos = np.array([stats.spearmanr(x[list(order)], y).statistic for order in itertools.permutations(range(6))])
    assert row["p_value"] == pytest.approx(np.mean(np.abs(rhos) >= abs(rho) - 1e-12))


def test_dose_response_needs_three_cases(shipped):
    table = ck.compare_portfolio(shipped).dose(by="kpi").set_index("kpi")
    assert np.isnan(table.loc["lead_time", "rho"])  # one case


def test_resampled_p_values_are_reproducible(shipped):
    # schedule has 8 cases: its p-value comes from 9,999 seeded resamples, not full enumeration
    first = ck.compare_portfolio(shipped).dose().set_index("category")
    second = ck.compare_portfolio(shipped).dose().set_index("category")
    assert first.loc["schedule", "n"] == 8
    assert first["p_value"].equals(second["p_value"])


def test_beyond_a_thousand_cases_the_dose_response_p_value_is_the_t_approximation():
    # the permutation test would hold a 9,999 × n array; there the t approximation agrees with it
    from casekit.stats.breakdowns import PERMUTATION_CASES, _spearman

    rng = np.random.default_rng(3)
    for n in (PERMUTATION_CASES, PERMUTATION_CASES + 1):
        x = rng.integers(0, 3, n).astype(float)  # levels gained: heavily tied
        y = 0.08 * x + rng.normal(0, 1, n)
        found, reference = _spearman(x, y), stats.spearmanr(x, y)
        assert found["rho"] == pytest.approx(reference.statistic)
        if n > PERMUTATION_CASES:
            assert found["p_value"] == pytest.approx(reference.pvalue, rel=1e-12)
        else:  # resampled, within a few of the resampling's standard errors of the approximation
            error = np.sqrt(reference.pvalue * (1 - reference.pvalue) / 9999)
            assert found["p_value"] != reference.pvalue and abs(found["p_value"] - reference.pvalue) < 5 * error
