"""The staggered-adoption event study: effects by time since adoption, the not-yet-adopted as comparisons.

Reference values from the R package ``did``'s Python port ``csdid``; error rates from panels simulated without
casekit (tests/event_study_simulation.py).
"""

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from event_study_simulation import average_rejects, rates

import casekit as ck
from casekit.errors import ArgumentError
from casekit.stats.event_study import event_study

REFERENCE = Path(__file__).parent / "reference" / "staggered_panel.csv"


def test_effects_and_standard_errors_match_csdid():
    """Callaway & Sant'Anna with the not-yet-treated as comparisons, a universal base period and analytical
    standard errors, as csdid 0.4.3 (the Python port of R's ``did``) computes them on the same panel
    (30 organizations, 24 periods, cohorts adopting at 8, 11, 14 and 17, six never adopting)::

        from csdid.att_gt import ATTgt
        d = pd.read_csv("staggered_panel.csv")
        a = ATTgt(yname="y", tname="period", idname="id", gname="first", data=d, control_group="notyettreated")
        a.fit(est_method="reg", base_period="universal", bstrap=False)
        r = a.aggte(typec="dynamic", min_e=-6, max_e=6, bstrap=False)
        r["atte"]["att_egt"], r["atte"]["se_egt"], r["atte"]["overall_att"], r["atte"]["overall_se"]
    """
    att = [-0.003869, 0.070204, 0.089568, 0.048762, 0.057574, -0.052105, -0.037879, -0.036094, -0.102636,
           -0.120907, -0.107911, -0.110937]
    se = [0.062474, 0.059509, 0.062115, 0.04474, 0.040424, 0.049678, 0.047831, 0.05569, 0.06878, 0.048897,
          0.056086, 0.081969]
    d = pd.read_csv(REFERENCE)
    result = event_study(d["id"], d["period"], d["first"].replace(0, np.nan), d["y"], leads=6, lags=6)
    assert result.effects["event_time"].tolist() == [-6, -5, -4, -3, -2, 0, 1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(result.effects["estimate"], att, atol=1e-6)
    np.testing.assert_allclose(result.effects["se"], se, atol=1e-6)
    overall = result.average(0, 6)
    assert overall["estimate"] == pytest.approx(-0.0812098923039923, abs=1e-9)
    assert overall["se"] == pytest.approx(0.04654491749121182, abs=1e-9)


def test_a_panel_in_any_order_with_ids_of_any_kind_gives_the_same_result():
    d = pd.read_csv(REFERENCE).sample(frac=1, random_state=3)
    names = "org-" + d["id"].astype(str)
    shuffled = event_study(names, d["period"] + 2000, (d["first"] + 2000).where(d["first"] > 0), d["y"], 6, 6)
    d = d.sort_values(["id", "period"])
    ordered = event_study(d["id"], d["period"], d["first"].replace(0, np.nan), d["y"], 6, 6)
    pd.testing.assert_frame_equal(shuffled.effects, ordered.effects)


def _panel(adoption: dict, months: int = 12, effect: float = -0.5, seed: int = 0, missing=()):
    rng = np.random.default_rng(seed)
    rows = []
    for unit, start in adoption.items():
        for t in range(months):
            y = rng.normal(0, 0.1) + 0.05 * t + (effect if start is not None and t >= start else 0.0)
            if (unit, t) not in missing:
                rows.append((unit, t, np.nan if start is None else start, y))
    return pd.DataFrame(rows, columns=["unit", "time", "adoption", "y"])


def _fit(frame, leads=3, lags=3):
    return event_study(frame["unit"], frame["time"], frame["adoption"], frame["y"], leads=leads, lags=lags)


def test_without_noise_the_effect_is_recovered_exactly_after_a_common_trend():
    adoption = {"a": 4, "b": 4, "c": 6, "d": 6, "e": 9, "f": 9, "g": None, "h": None}
    frame = _panel(adoption, seed=1).assign(y=lambda d: 0.05 * d["time"] - 0.5 * (d["time"] >= d["adoption"]))
    effects = _fit(frame).effects.set_index("event_time")["estimate"]
    np.testing.assert_allclose(effects.loc[[-3, -2]], 0, atol=1e-12)
    np.testing.assert_allclose(effects.loc[[0, 1, 2, 3]], -0.5, atol=1e-12)


def test_organizations_already_adopted_are_never_a_comparison():
    """An early cohort's big gain must not leak into a later cohort's estimate, as it does in a two-way
    fixed-effects regression: with no noise, each cohort's own effect comes back."""
    adoption = {"a": 3, "b": 3, "c": 7, "d": 7, "e": None, "f": None}
    frame = _panel(adoption).assign(y=lambda d: np.where(d["time"] >= d["adoption"],
                                                         np.where(d["adoption"] == 3, -1.0 * (d["time"] - 2), -0.2),
                                                         0.0))
    result = _fit(frame, leads=2, lags=2).effects.set_index("event_time")
    # month 0: cohort 3 gains 1.0, cohort 7 gains 0.2, equal weights
    assert result.at[0, "estimate"] == pytest.approx(-0.6)
    assert result.at[1, "estimate"] == pytest.approx((-2.0 - 0.2) / 2)


def test_a_cohort_with_no_month_before_adoption_is_left_out_and_a_late_one_compares():
    adoption = {"a": 0, "b": 0, "c": 5, "d": 5, "e": 20, "f": 20, "g": 20}
    result = _fit(_panel(adoption))
    assert set(result.effects["organizations"]) == {2}  # only cohort 5 adopts within the data
    assert result.organizations == 5  # a and b take no part; e, f, g are the comparisons


def test_a_comparison_of_one_organization_is_not_used():
    adoption = {"a": 4, "b": 4, "c": 8, "d": None}
    table = _fit(_panel(adoption)).effects.set_index("event_time")
    # from month 4 after cohort 4's adoption only d has not adopted: one comparison, no estimate
    assert 3 in table.index and 4 not in table.index
    two = _fit(_panel({**adoption, "e": None}), lags=5).effects
    assert two["event_time"].max() == 5


def test_missing_months_compare_the_organizations_observed_at_both():
    adoption = {"a": 4, "b": 4, "c": 4, "d": None, "e": None, "f": None}
    full = _fit(_panel(adoption, seed=2)).effects.set_index("event_time")
    gap = _fit(_panel(adoption, seed=2, missing={("a", 6)})).effects.set_index("event_time")
    assert gap.at[2, "organizations"] == 2 and full.at[2, "organizations"] == 3
    pd.testing.assert_series_equal(gap.loc[[0, 1, 3], "estimate"], full.loc[[0, 1, 3], "estimate"])


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.iloc[:-1], None),
    (lambda d: d.assign(adoption=np.where(d.index == 0, 5, d["adoption"])), "more than one adoption period"),
    (lambda d: pd.concat([d, d.iloc[[0]]]), "two observations of one period"),
    (lambda d: d.assign(time=d["time"] + 0.5), "whole numbers"),
    (lambda d: d.assign(adoption=np.nan), "no cohort has a comparison"),
])
def test_bad_panels_are_refused_with_the_reason(change, message):
    frame = change(_panel({"a": 4, "b": 4, "c": 8, "d": 8, "e": None}))
    if message is None:  # a missing last row is fine
        _fit(frame)
        return
    with pytest.raises(ArgumentError, match=message):
        _fit(frame)


def test_arrays_of_different_lengths_are_refused():
    with pytest.raises(ArgumentError, match="one value per observation"):
        event_study([1, 2], [0, 1], [np.nan], [0.0, 1.0])


@pytest.mark.slow
@pytest.mark.parametrize("never", [0.0, 0.2])
def test_pre_trend_check_holds_its_level_and_intervals_cover_the_truth(never):
    """Staggered adoption with effects that grow and differ by cohort, and calendar shocks every organization
    takes (tests/event_study_simulation.py): the check of the leads rejects at most 7% of panels whose trends
    are parallel, and the intervals after adoption cover the true effect at least 93% of the time."""
    rejects, cover, lowest = rates(500, 17, organizations=40, never=never)
    assert rejects <= 0.07
    assert cover >= 0.93 and lowest >= 0.90


@pytest.mark.slow
def test_the_average_change_after_adoption_holds_its_level_and_finds_real_gains():
    assert average_rejects(400, 23, organizations=40, effect=0.0) <= 0.07
    assert average_rejects(100, 29, organizations=40, effect=0.2) >= 0.9


@pytest.mark.slow
def test_pre_trend_check_sees_a_run_up_before_adoption():
    rejects, _, _ = rates(150, 19, organizations=40, drift=0.01)
    assert rejects >= 0.3


# The report side: a portfolio's KPI as an event study


@pytest.fixture(scope="module")
def simulated():
    return ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=3)


def test_a_ratio_kpi_is_compared_in_percent_and_recovers_the_simulated_gain(simulated):
    study = ck.event_time.event_study(simulated, "defect_density")
    assert study.scale == "log" and study.period_name == "month"
    table = study.table()
    after = table[table["event_time"].between(3, 12)]
    np.testing.assert_allclose(after["change"], 100 * np.expm1(after["estimate"]))
    assert -35 < after["change"].mean() < -12  # truth: 20% lower, after a 3-month transition
    assert "lower than the organizations not yet adopting" in study.finding()


def test_a_kpi_with_zeros_is_compared_in_its_own_unit(simulated):
    kpis = simulated.kpis.copy()
    kpis.loc[kpis.index[:5], "value"] = 0.0
    study = ck.event_time.event_study(dataclasses.replace(simulated, kpis=kpis), "defect_density")
    assert study.scale == "raw"
    np.testing.assert_allclose(study.table()["change"], study.table()["estimate"])


def test_a_quarterly_kpi_counts_quarters_and_other_frequencies_are_left_out(simulated):
    kpis = simulated.kpis[simulated.kpis["kpi"] == "defect_density"].copy()
    quarterly = kpis["case_id"].isin(simulated.cases["case_id"].iloc[:25])
    dates = pd.DatetimeIndex(kpis["date"])
    kpis["date"] = np.where(quarterly, pd.PeriodIndex(dates, freq="Q").to_timestamp(), dates)
    kpis["freq"] = np.where(quarterly, "Q", "M")
    kpis = kpis.groupby(["case_id", "kpi", "date", "freq"], as_index=False).agg(
        {"value": "mean", **{c: "first" for c in kpis.columns if c not in ("case_id", "kpi", "date", "freq", "value")}})
    study = ck.event_time.event_study(dataclasses.replace(simulated, kpis=kpis), "defect_density")
    assert study.frequency == "Q" and study.period_name == "quarter"
    assert study.left_out == sorted(simulated.cases["case_id"].iloc[25:])
    assert study.table()["event_time"].min() == -4  # 12 months of leads are 4 quarters
    assert study.plot().get_xlabel() == "quarters since adoption"
    plt.close("all")


def test_an_unmeasured_kpi_is_refused_with_the_kpis_there_are(simulated):
    with pytest.raises(ArgumentError, match="defect_density, on_time_delivery"):
        ck.event_time.event_study(simulated, "cycle_time")


def test_portfolio_comparison_runs_the_event_study_only_where_enough_organizations_measure(simulated):
    assert [s.kpi for s in ck.compare_portfolio(simulated).event_studies()] == ["defect_density", "on_time_delivery"]
    shipped = ck.load_cases(Path(__file__).resolve().parents[1] / "cases")
    assert ck.compare_portfolio(shipped).event_studies() == []
    block = ck.presentation.event_time_block([], shipped)
    assert "at least 10 organizations" in block.text and "5 organizations" in block.text


def test_the_report_block_states_each_finding_and_folds_the_figures(simulated):
    studies = ck.compare_portfolio(simulated).event_studies()
    block = ck.presentation.event_time_block(studies, simulated)
    assert block.text.count("\n- ") + block.text.startswith("- ") == 2
    assert "<details>" in block.html and "Months since adoption" in block.html
    assert "Before adoption" in block.text


def test_the_finding_warns_when_adopters_moved_apart_before_adopting(simulated):
    kpis = simulated.kpis.copy()
    start = kpis["case_id"].map(simulated.cases.set_index("case_id")["adoption_start"].map(lambda p: p.start_time))
    months_before = ((start - pd.DatetimeIndex(kpis["date"])).dt.days / 30.4).clip(0, 12)
    kpis["value"] = kpis["value"] * np.exp(-0.04 * (12 - months_before))  # a run-up in the year before adoption
    study = ck.event_time.event_study(dataclasses.replace(simulated, kpis=kpis), "defect_density")
    assert study.fit.pretrend.p_value < 0.05
    assert "may not be CMMI's" in study.finding()


def test_the_chart_spans_the_well_supported_months_and_every_estimate():
    table = pd.DataFrame({"event_time": [-2, 0, 1, 20], "change": [1.0, -8.0, -12.0, 30.0],
                          "ci_low": [-4.0, -14.0, -19.0, -90.0], "ci_high": [6.0, -2.0, -5.0, 400.0],
                          "organizations": [40, 40, 38, 2]})
    from casekit.report.plots import event_time_chart

    low, high = event_time_chart(table, "Defect density", "%", "lower").get_ylim()
    plt.close("all")
    assert -30 < low < -19 and 30 < high < 60  # the month behind 2 organizations runs off the edge
