"""compare_case: the effect beyond the trend, direction, Holm across a case's KPIs, descriptive verdicts."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.stats.multiplicity import adjust_pvalues


@pytest.fixture
def acme(case_dir: Path):
    return ck.load_cases(case_dir)


def write_kpis(case_dir: Path, rows: list[tuple[str, str, float]]) -> None:
    text = "period,kpi,value\n" + "".join(f"{p},{k},{v!r}\n" for p, k, v in rows)
    (case_dir / "acme" / "kpis.csv").write_text(text, encoding="utf-8")


def monthly(kpi: str, values, first="2018-01"):
    months = pd.period_range(first, periods=len(values), freq="M")
    return [(str(m), kpi, float(v)) for m, v in zip(months, values)]


def noise(seed, n, sd=0.03):
    return np.exp(np.random.default_rng(seed).normal(0, sd, n))


def test_effect_is_the_interrupted_time_series_contrast(acme):
    table = ck.compare_case(acme, "acme").table.set_index("kpi")
    rows = acme.kpis[acme.kpis["kpi"] == "defect_density"].sort_values("date")
    fit = ck.its(rows["value"], rows["period"], "2020-01", transition_months=3)
    dd = table.loc["defect_density"]
    # lower is better: the fall beyond the baseline trend is a positive improvement
    assert dd["improvement"] == pytest.approx(-fit.effect)
    assert (dd["ci_low"], dd["ci_high"]) == (pytest.approx(-fit.effect_ci_high), pytest.approx(-fit.effect_ci_low))
    assert dd["p_value"] == pytest.approx(fit.effect_p) and dd["autocorrelation"] == pytest.approx(fit.autocorrelation)
    assert dd["effect"] == pytest.approx(-np.log1p(fit.effect / 100))
    assert (dd["n_before"], dd["n_after"], dd["improvement_unit"]) == (12, 9, "%")
    rc = table.loc["review_coverage"]
    assert rc["improvement"] > 0 and rc["better"] == "higher"


def test_fewer_than_twelve_periods_a_side_is_descriptive_only(acme):
    table = ck.compare_case(acme, "acme").table.set_index("kpi")
    assert table["descriptive"].all() and (table["verdict"] == "descriptive only").all()
    assert table["p_adjusted"].isna().all() and table["p_value"].notna().all()  # not tested, so not in the family
    assert table.loc["defect_density", "note"].startswith(
        "descriptive only (fewer than 12 periods on a side): the estimate points to improvement")
    headline = ck.compare_case(acme, "acme").findings().sentences[0]
    assert "2 descriptive only" in headline and "0 improved" in headline


def test_strong_autocorrelation_is_tested_not_set_aside(case_dir: Path):
    # the test's size holds at phi 0.7 (tests/test_its_calibration.py), so a high estimate is no reason to describe
    rng = np.random.default_rng(1)
    e = np.zeros(60)
    for i in range(1, 60):
        e[i] = 0.92 * e[i - 1] + rng.normal(0, 0.05)
    write_kpis(case_dir, monthly("defect_density", 4 * np.exp(e), first="2017-10"))
    edit_start(case_dir, "2020-01")
    row = ck.compare_case(ck.load_cases(case_dir), "acme").table.set_index("kpi").loc["defect_density"]
    assert row["autocorrelation"] >= 0.6 and not row["descriptive"]
    assert row["verdict"] in ("improved", "worsened", "no clear change") and np.isfinite(row["p_adjusted"])


def test_a_continuing_trend_is_not_an_effect(case_dir: Path):
    # 24 months before and 24 after a 3-month transition, falling 1% a month throughout
    values = 5 * 0.99 ** np.arange(51) * noise(7, 51)
    write_kpis(case_dir, monthly("defect_density", values))
    edit_start(case_dir, "2020-01")
    row = ck.compare_case(ck.load_cases(case_dir), "acme").table.set_index("kpi").loc["defect_density"]
    assert row["simple_change"] > 20  # the naive before/after comparison sees a large "improvement"
    assert row["verdict"] == "no clear change" and row["ci_low"] < 0 < row["ci_high"]
    assert "the baseline trend" in row["note"] and "is extrapolated" in row["note"]


def test_a_step_at_adoption_is_found(case_dir: Path):
    values = np.where(np.arange(51) < 27, 5.0, 4.0) * noise(8, 51)
    write_kpis(case_dir, monthly("defect_density", values))
    edit_start(case_dir, "2020-01")
    row = ck.compare_case(ck.load_cases(case_dir), "acme").table.set_index("kpi").loc["defect_density"]
    assert row["verdict"] == "improved" and row["ci_low"] < 20 < row["ci_high"]


def edit_start(case_dir: Path, start: str) -> None:
    path = case_dir / "acme" / "case.yaml"
    text = path.read_text(encoding="utf-8").replace("start: 2020-01", f"start: {start}")
    text = text.replace("    kpis: [review_coverage, defect_density]", "    kpis: [defect_density]")
    text = text.replace("      kpi: review_coverage\n      value: 90", "      kpi: defect_density\n      value: 3")
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def shipped():
    return ck.load_cases(Path(__file__).resolve().parents[1] / "cases")


def test_holm_across_the_case_decides_the_verdicts(shipped):
    for case_id in shipped.cases["case_id"]:
        table = ck.compare_case(shipped, case_id).table
        compared = table["p_adjusted"].notna()
        # the family is every KPI with enough periods to be tested: a fact of the design, not of the results
        assert (compared == ~table["verdict"].isin(["not enough data", "descriptive only"])).all()
        assert table.loc[compared, "p_adjusted"].to_numpy() == pytest.approx(
            adjust_pvalues(table.loc[compared, "p_value"], "holm"))
        tested = compared
        called = table["verdict"].isin(["improved", "worsened"])
        assert (table.loc[called, "p_adjusted"] < 0.05).all()
        assert (table.loc[tested & ~called, "verdict"] == "no clear change").all()
        only_raw = tested & ~called & (table["p_value"] < 0.05)
        assert table.loc[only_raw, "note"].str.contains("Holm").all()
    # ironforge's rework share: significant alone, not once the case's five KPIs are corrected for
    rework = ck.compare_case(shipped, "ironforge-industrial").table.set_index("kpi").loc["rework_share"]
    assert rework["p_value"] < 0.05 <= rework["p_adjusted"] and rework["verdict"] == "no clear change"


@pytest.mark.parametrize("case_id, kpi, verdict", [
    ("quantia-tech", "defect_density", "improved"),       # true effect 50%
    ("quantia-tech", "escaped_defects", "improved"),      # 55%
    ("atlas-capital", "time_to_market", "improved"),      # 45%
    ("meridian-financial", "productivity", "no clear change"),  # no effect
    ("chemhaven-specialty", "it_cost_share", "no clear change"),  # no effect
    ("atlas-capital", "market_share", "no clear change"),  # 3%, generated with phi = 0.7: tested, not set aside
])
def test_shipped_truths_are_found(shipped, case_id, kpi, verdict):
    assert ck.compare_case(shipped, case_id).table.set_index("kpi").loc[kpi, "verdict"] == verdict


@pytest.mark.parametrize("case_id, kpi, truth", [
    ("quantia-tech", "escaped_defects", 55),
    ("ironforge-industrial", "escaped_defects", -30),  # 30% worse, very noisy counts: not found, but covered
    ("voltcart-ecommerce", "it_cost_share", -12),
])
def test_shipped_truths_are_covered(shipped, case_id, kpi, truth):
    row = ck.compare_case(shipped, case_id).table.set_index("kpi").loc[kpi]
    assert row["ci_low"] < truth < row["ci_high"]


def test_kpi_effects_match_compare_case(shipped):
    effects = ck.compare_portfolio(shipped).effects.set_index(["case_id", "kpi"])
    for case_id in ("borealis-fibre", "quantia-tech"):
        table = ck.compare_case(shipped, case_id).table.set_index("kpi")
        for kpi, row in table.iterrows():
            assert effects.loc[(case_id, kpi), "effect"] == pytest.approx(row["effect"])
            assert effects.loc[(case_id, kpi), "effect_se"] == pytest.approx(row["effect_se"])
            assert effects.loc[(case_id, kpi), "autocorrelation"] == pytest.approx(row["autocorrelation"])
    assert (effects.xs("borealis-fibre")["levels_gained"] == 1).all()  # ML3 -> ML4
    assert (effects.xs("voltcart-ecommerce")["levels_gained"] == 2).all()  # unrated (ML1) -> ML3


def test_one_scale_per_kpi_across_cases(case_dir: Path):
    values = np.where(np.arange(51) < 27, 5.0, 4.0) * noise(9, 51, 0.2)
    write_kpis(case_dir, monthly("defect_density", values))
    edit_start(case_dir, "2020-01")
    shutil.copytree(case_dir / "acme", case_dir / "beta")
    (case_dir / "beta" / "case.yaml").write_text(
        (case_dir / "beta" / "case.yaml").read_text(encoding="utf-8").replace("id: acme", "id: beta"), encoding="utf-8")
    write_kpis_to = case_dir / "beta" / "kpis.csv"
    write_kpis_to.write_text(write_kpis_to.read_text(encoding="utf-8").replace(
        f"2018-03,defect_density,{float(values[2])!r}", "2018-03,defect_density,0.0"), encoding="utf-8")
    pf = ck.load_cases(case_dir)
    effects = ck.compare_portfolio(pf).effects.set_index("case_id")
    alone = ck.compare_case(pf, "acme").table.set_index("kpi").loc["defect_density"]
    # beta's zero month puts defect density on the raw scale in both cases: the log ratio of the levels
    assert effects["usable"].all()
    assert effects.loc["acme", "effect"] != pytest.approx(alone["effect"], rel=1e-6)
    assert effects.loc["acme", "effect"] == pytest.approx(alone["effect"], abs=0.05)


def test_a_comparison_is_a_result_never_a_memory(acme):
    first = ck.compare_case(acme, "acme")
    first.table.loc[:, "verdict"] = "tampered"  # one result's table is its own
    again = ck.compare_case(acme, "acme").table
    assert (again["verdict"] != "tampered").all()
    before = again.set_index("kpi").loc["defect_density", "improvement"]

    # the same portfolio, its data changed in place: the comparison is computed afresh
    rows = (acme.kpis["case_id"] == "acme") & (acme.kpis["kpi"] == "defect_density") & (acme.kpis["phase"] == "after")
    acme.kpis.loc[rows, "value"] *= 2
    changed = ck.compare_case(acme, "acme").table.set_index("kpi").loc["defect_density", "improvement"]
    assert changed < before - 50  # twice the defects after adoption: far worse than before
    # and a changed adoption window too
    assert ck.compare_case(acme, "acme", transition_months=0).table["n_after"].sum() != again["n_after"].sum()


def test_periods_edited_in_place_give_the_new_answer():
    # The review's reproduction: a memo digest that left out ``period`` answered from before the edit.
    pf = ck.load_cases(Path(__file__).resolve().parents[1] / "cases", case_ids=["quantia-tech", "atlas-capital"])
    before = ck.compare_portfolio(pf, transition_months=0).effects.set_index(["case_id", "kpi"])
    case_before = ck.compare_case(pf, "quantia-tech", transition_months=0).table.set_index("kpi")
    shifted = pf.kpis["period"].map(lambda p: str(pd.Period(p) + 12 if "Q" not in p else pd.Period(p) + 4))
    pf.kpis["period"] = shifted  # a year later: more of each series falls before adoption
    after = ck.compare_portfolio(pf, transition_months=0).effects.set_index(["case_id", "kpi"])
    case_after = ck.compare_case(pf, "quantia-tech", transition_months=0).table.set_index("kpi")
    assert (after["n_before"] != before["n_before"]).all()
    assert (case_after["n_before"] != case_before["n_before"]).all()


def test_a_case_report_fits_each_kpi_once(monkeypatch):
    # Count fits, not cache hits: run the case report's code in this process with the bootstrap fit counted.
    import json

    import matplotlib

    from casekit import timeseries, within

    matplotlib.use("Agg")
    fitted = []
    original = timeseries.its_series
    monkeypatch.setattr(within, "its_series", lambda series, *a, **k: fitted.append(series) or original(series, *a, **k))
    notebook = json.loads((Path(ck.__file__).parent / "notebooks" / "case_report.ipynb").read_text(encoding="utf-8"))
    namespace = {"display": lambda *a, **k: None}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        source = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
        if "parameters" in cell["metadata"].get("tags", []):
            source += f"\ncases_dir = {str(Path(__file__).resolve().parents[1] / 'cases')!r}"
        exec(compile(source, "case_report", "exec"), namespace)
    measured = namespace["table"]["verdict"].ne("not enough data").sum()
    assert len(fitted) == measured == 5


def test_columns(acme):
    table = ck.compare_case(acme, "acme").table
    assert list(table.columns) == ck.within.COLUMNS
    assert table["its_level_change"].notna().all()


def test_transition_override_changes_phases(acme):
    default = ck.compare_case(acme, "acme").table.set_index("kpi")
    longer = ck.compare_case(acme, "acme", transition_months=6).table.set_index("kpi")
    assert default.loc["defect_density", "n_after"] == 9 and longer.loc["defect_density", "n_after"] == 6


def test_kpis_filter_and_unknown_case(acme):
    assert ck.compare_case(acme, "acme", kpis=["review_coverage"]).table["kpi"].tolist() == ["review_coverage"]
    with pytest.raises(KeyError, match="no case 'nope'"):
        ck.compare_case(acme, "nope")


def test_interval_scale_in_points(case_dir: Path):
    path = case_dir / "acme" / "kpis.csv"
    rows = "".join(f"2019-{m:02d},nps,{-5 + (m % 3)}\n" for m in range(1, 13))
    rows += "".join(f"2020-{m:02d},nps,{10 + (m % 3)}\n" for m in range(4, 13))
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    nps = ck.compare_case(ck.load_cases(case_dir), "acme").table.set_index("kpi").loc["nps"]
    assert nps["improvement_unit"] == "points"
    assert nps["improvement"] == pytest.approx(15.0, abs=1.5) and nps["ci_low"] > 0


def test_kpi_effects_fit_the_cases_that_share_a_design_in_one_stack(monkeypatch):
    from casekit import timeseries

    pf = ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=4)  # 24 months a side each: one design
    stacks = []
    original = timeseries.ar1_estimates_many
    monkeypatch.setattr(timeseries, "ar1_estimates_many", lambda Y, *a: stacks.append(len(Y)) or original(Y, *a))
    effects = ck.compare_portfolio(pf).effects
    assert stacks == [60] and effects["usable"].all()
    for case_id in ("sim-0001", "sim-0030"):  # the same numbers as the case's own comparison
        own = ck.compare_case(pf, case_id).table.set_index("kpi")
        mine = effects[effects["case_id"] == case_id].set_index("kpi")
        assert mine["effect"].to_numpy() == pytest.approx(own.loc[mine.index, "effect"].to_numpy(), rel=1e-10)
        assert mine["effect_se"].to_numpy() == pytest.approx(own.loc[mine.index, "effect_se"].to_numpy(), rel=1e-10)


def test_the_correction_is_chosen_and_a_primary_kpi_keeps_its_own_p(shipped):
    holm = ck.compare_case(shipped, "ironforge-industrial").table.set_index("kpi")
    none = ck.compare_case(shipped, "ironforge-industrial", correction="none").table.set_index("kpi")
    bh = ck.compare_case(shipped, "ironforge-industrial", correction="bh").table.set_index("kpi")
    tested = holm["p_adjusted"].notna()
    assert none.loc[tested, "p_adjusted"].to_numpy() == pytest.approx(holm.loc[tested, "p_value"].to_numpy())
    assert bh.loc[tested, "p_adjusted"].to_numpy() == pytest.approx(adjust_pvalues(holm.loc[tested, "p_value"], "bh"))
    assert none.loc["rework_share", "verdict"] == "improved"  # significant alone (p < 0.05), not after Holm
    primary = ck.compare_case(shipped, "ironforge-industrial", primary="rework_share").table.set_index("kpi")
    assert primary.loc["rework_share", "p_adjusted"] == primary.loc["rework_share", "p_value"]
    others = tested & (primary.index != "rework_share")
    assert primary.loc[others, "p_adjusted"].to_numpy() == pytest.approx(
        adjust_pvalues(primary.loc[others, "p_value"], "holm"))
    assert primary.loc["rework_share", "verdict"] == "improved"
    found = ck.compare_case(shipped, "ironforge-industrial", primary="rework_share").findings()
    assert "Rework share of effort is the primary KPI" in found.headline
    with pytest.raises(ValueError, match="primary KPI 'nps' is not among"):
        ck.compare_case(shipped, "ironforge-industrial", primary="nps")
    with pytest.raises(ValueError, match="correction must be one of"):
        ck.compare_case(shipped, "ironforge-industrial", correction="bonferroni")


def test_findings_are_data_a_label_with_a_colon_included(case_dir: Path):
    path = case_dir / "acme" / "case.yaml"
    long_label = "Review coverage: share of changes reviewed before merge, " + "x" * 130
    path.write_text(path.read_text(encoding="utf-8").replace("label: Review coverage", f"label: '{long_label}'"),
                    encoding="utf-8")
    found = ck.compare_case(ck.load_cases(case_dir), "acme").findings()
    items = found.items[found.items["group"] != "goal"].set_index("kpi")
    assert items.loc["review_coverage", "label"] == long_label
    assert items.loc["review_coverage", "group"] == "descriptive only"
    assert found.sentences[0] == found.headline and len(found.sentences) == 1 + len(found.items)
    assert found.counts == {"descriptive only": 2}


def test_one_standard_error_per_estimate_and_the_interval_is_read_from_it():
    # effect_se is what pooling weighs by; the case's own (bootstrap-calibrated) interval is effect ± critical × it
    pf = ck.load_cases(Path(__file__).resolve().parents[1] / "cases")
    table = ck.compare_case(pf, "quantia-tech").table
    tested = table[np.isfinite(table["effect_se"]) & (table["effect_se"] > 0)]
    assert len(tested) >= 4
    for _, row in tested.iterrows():
        sign, half = (1 if row["better"] == "higher" else -1), row["critical"] * row["effect_se"]
        fitted = sign * row["effect"]  # the effect is direction-aware; the fit is on the KPI's own scale
        bounds = np.array([fitted - half, fitted + half])
        bounds = sorted(sign * (100 * np.expm1(bounds) if row["improvement_unit"] == "%" else bounds))
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(bounds, rel=1e-9)
    effects = ck.compare_portfolio(pf).effects.set_index(["case_id", "kpi"]).loc["quantia-tech"]
    assert effects.loc[tested["kpi"], "effect_se"].to_numpy() == pytest.approx(tested["effect_se"].to_numpy(),
                                                                               rel=1e-9)
