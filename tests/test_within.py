"""compare_case: the effect beyond the trend, direction, Holm across a case's KPIs, descriptive verdicts."""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.multiplicity import adjust_pvalues


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
    table = ck.compare_case(acme, "acme").set_index("kpi")
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
    table = ck.compare_case(acme, "acme").set_index("kpi")
    assert table["descriptive"].all() and (table["verdict"] == "descriptive only").all()
    assert table["p_adjusted"].notna().all()  # still in the case's family
    assert table.loc["defect_density", "note"].startswith(
        "descriptive only (fewer than 12 periods on a side): the estimate points to improvement")
    headline = ck.case_findings(acme, "acme")[0]
    assert "2 descriptive only" in headline and "0 improved" in headline


def test_strong_autocorrelation_is_descriptive_only(case_dir: Path):
    rng = np.random.default_rng(1)
    e = np.zeros(60)
    for i in range(1, 60):
        e[i] = 0.92 * e[i - 1] + rng.normal(0, 0.05)
    write_kpis(case_dir, monthly("defect_density", 4 * np.exp(e), first="2017-10"))
    edit_start(case_dir, "2020-01")
    row = ck.compare_case(ck.load_cases(case_dir), "acme").set_index("kpi").loc["defect_density"]
    assert row["autocorrelation"] >= 0.6 and row["descriptive"] and row["verdict"] == "descriptive only"
    assert f"autocorrelation {row['autocorrelation']:.2f} ≥ 0.6" in row["note"]


def test_a_continuing_trend_is_not_an_effect(case_dir: Path):
    # 24 months before and 24 after a 3-month transition, falling 1% a month throughout
    values = 5 * 0.99 ** np.arange(51) * noise(7, 51)
    write_kpis(case_dir, monthly("defect_density", values))
    edit_start(case_dir, "2020-01")
    row = ck.compare_case(ck.load_cases(case_dir), "acme").set_index("kpi").loc["defect_density"]
    assert row["simple_change"] > 20  # the naive before/after comparison sees a large "improvement"
    assert row["verdict"] == "no clear change" and row["ci_low"] < 0 < row["ci_high"]
    assert "the baseline trend" in row["note"] and "is extrapolated" in row["note"]


def test_a_step_at_adoption_is_found(case_dir: Path):
    values = np.where(np.arange(51) < 27, 5.0, 4.0) * noise(8, 51)
    write_kpis(case_dir, monthly("defect_density", values))
    edit_start(case_dir, "2020-01")
    row = ck.compare_case(ck.load_cases(case_dir), "acme").set_index("kpi").loc["defect_density"]
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
        table = ck.compare_case(shipped, case_id)
        compared = table["p_adjusted"].notna()
        assert (compared == (table["verdict"] != "not enough data")).all()
        # the family is every KPI compared, whether or not it turned out descriptive
        assert table.loc[compared, "p_adjusted"].to_numpy() == pytest.approx(
            adjust_pvalues(table.loc[compared, "p_value"], "holm"))
        tested = compared & ~table["descriptive"]
        called = table["verdict"].isin(["improved", "worsened"])
        assert (table.loc[called, "p_adjusted"] < 0.05).all()
        assert (table.loc[tested & ~called, "verdict"] == "no clear change").all()
        only_raw = tested & ~called & (table["p_value"] < 0.05)
        assert table.loc[only_raw, "note"].str.contains("Holm").all()
    # ironforge's rework share: significant alone, not once the case's five KPIs are corrected for
    rework = ck.compare_case(shipped, "ironforge-industrial").set_index("kpi").loc["rework_share"]
    assert rework["p_value"] < 0.05 <= rework["p_adjusted"] and rework["verdict"] == "no clear change"


@pytest.mark.parametrize("case_id, kpi, verdict", [
    ("quantia-tech", "defect_density", "improved"),       # true effect 50%
    ("quantia-tech", "escaped_defects", "improved"),      # 55%
    ("atlas-capital", "time_to_market", "improved"),      # 45%
    ("meridian-financial", "productivity", "no clear change"),  # no effect
    ("chemhaven-specialty", "it_cost_share", "no clear change"),  # no effect
    ("atlas-capital", "market_share", "descriptive only"),  # generated with phi = 0.7
])
def test_shipped_truths_are_found(shipped, case_id, kpi, verdict):
    assert ck.compare_case(shipped, case_id).set_index("kpi").loc[kpi, "verdict"] == verdict


@pytest.mark.parametrize("case_id, kpi, truth", [
    ("quantia-tech", "escaped_defects", 55),
    ("ironforge-industrial", "escaped_defects", -30),  # 30% worse, very noisy counts: not found, but covered
    ("voltcart-ecommerce", "it_cost_share", -12),
])
def test_shipped_truths_are_covered(shipped, case_id, kpi, truth):
    row = ck.compare_case(shipped, case_id).set_index("kpi").loc[kpi]
    assert row["ci_low"] < truth < row["ci_high"]


def test_kpi_effects_match_compare_case(shipped):
    effects = ck.kpi_effects(shipped).set_index(["case_id", "kpi"])
    for case_id in ("borealis-fibre", "quantia-tech"):
        table = ck.compare_case(shipped, case_id).set_index("kpi")
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
    effects = ck.kpi_effects(pf).set_index("case_id")
    alone = ck.compare_case(pf, "acme").set_index("kpi").loc["defect_density"]
    # beta's zero month puts defect density on the raw scale in both cases: the log ratio of the levels
    assert effects["usable"].all()
    assert effects.loc["acme", "effect"] != pytest.approx(alone["effect"], rel=1e-6)
    assert effects.loc["acme", "effect"] == pytest.approx(alone["effect"], abs=0.05)


def test_repeated_comparisons_are_remembered_but_never_stale(acme):
    first = ck.compare_case(acme, "acme")
    first.loc[:, "verdict"] = "tampered"  # a caller's changes do not reach the next caller
    again = ck.compare_case(acme, "acme")
    assert (again["verdict"] != "tampered").all()
    before = again.set_index("kpi").loc["defect_density", "improvement"]

    # the same portfolio, its data changed in place: the comparison is computed afresh
    rows = (acme.kpis["case_id"] == "acme") & (acme.kpis["kpi"] == "defect_density") & (acme.kpis["phase"] == "after")
    acme.kpis.loc[rows, "value"] *= 2
    changed = ck.compare_case(acme, "acme").set_index("kpi").loc["defect_density", "improvement"]
    assert changed < before - 50  # twice the defects after adoption: far worse than before
    # and a changed adoption window too
    assert ck.compare_case(acme, "acme", transition_months=0)["n_after"].sum() != again["n_after"].sum()


def test_columns(acme):
    table = ck.compare_case(acme, "acme")
    assert list(table.columns) == ck.within.COLUMNS
    assert table["its_level_change"].notna().all()


def test_transition_override_changes_phases(acme):
    default = ck.compare_case(acme, "acme").set_index("kpi")
    longer = ck.compare_case(acme, "acme", transition_months=6).set_index("kpi")
    assert default.loc["defect_density", "n_after"] == 9 and longer.loc["defect_density", "n_after"] == 6


def test_kpis_filter_and_unknown_case(acme):
    assert ck.compare_case(acme, "acme", kpis=["review_coverage"])["kpi"].tolist() == ["review_coverage"]
    with pytest.raises(KeyError, match="no case 'nope'"):
        ck.compare_case(acme, "nope")


def test_interval_scale_in_points(case_dir: Path):
    path = case_dir / "acme" / "kpis.csv"
    rows = "".join(f"2019-{m:02d},nps,{-5 + (m % 3)}\n" for m in range(1, 13))
    rows += "".join(f"2020-{m:02d},nps,{10 + (m % 3)}\n" for m in range(4, 13))
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    nps = ck.compare_case(ck.load_cases(case_dir), "acme").set_index("kpi").loc["nps"]
    assert nps["improvement_unit"] == "points"
    assert nps["improvement"] == pytest.approx(15.0, abs=1.5) and nps["ci_low"] > 0


def test_kpi_effects_are_worked_out_once_and_follow_a_portfolio_edited_in_place(monkeypatch):
    from casekit import within

    pf = ck.load_cases(Path(__file__).resolve().parents[1] / "cases", case_ids=["quantia-tech", "atlas-capital"])
    calls = []
    original = within._kpi_effects
    monkeypatch.setattr(within, "_kpi_effects", lambda *a: calls.append(a) or original(*a))
    first = ck.kpi_effects(pf)
    first.loc[:, "improvement"] = 0.0  # the caller's copy: the next caller is not affected
    again = ck.kpi_effects(pf)
    assert len(calls) == 1 and (again["improvement"] != 0).all()
    ck.compare_portfolio(pf)
    assert len(calls) == 1  # the cross-case tests reuse it
    after = pf.kpis["phase"] == "after"
    pf.kpis.loc[after, "value"] = pf.kpis.loc[after, "value"] * 1.5  # an analyst's edit in place
    edited = ck.kpi_effects(pf)
    assert len(calls) == 2 and not np.allclose(edited["improvement"], again["improvement"])


def test_kpi_effects_fit_the_cases_that_share_a_design_in_one_stack(monkeypatch):
    from casekit import timeseries

    pf = ck.simulate_portfolio(n_orgs=30, effect=0.2, seed=4)  # 24 months a side each: one design
    stacks = []
    original = timeseries.ar1_estimates_many
    monkeypatch.setattr(timeseries, "ar1_estimates_many", lambda Y, *a: stacks.append(len(Y)) or original(Y, *a))
    effects = ck.kpi_effects(pf)
    assert stacks == [60] and effects["usable"].all()
    for case_id in ("sim-0001", "sim-0030"):  # the same numbers as the case's own comparison
        own = ck.compare_case(pf, case_id).set_index("kpi")
        mine = effects[effects["case_id"] == case_id].set_index("kpi")
        assert mine["effect"].to_numpy() == pytest.approx(own.loc[mine.index, "effect"].to_numpy(), rel=1e-10)
        assert mine["effect_se"].to_numpy() == pytest.approx(own.loc[mine.index, "effect_se"].to_numpy(), rel=1e-10)


def _edits():
    after = lambda k: k["phase"] == "after"  # noqa: E731
    return {
        "loc": lambda k: k.loc.__setitem__((after(k), "value"), k.loc[after(k), "value"] * 1.5),
        "iloc": lambda k: k.iloc.__setitem__((5, k.columns.get_loc("value")), 1e3),
        "at on a label": lambda k: k.at.__setitem__((0, "label"), "Renamed"),
        "a column replaced": lambda k: k.__setitem__("value", k["value"] * 2),
        "update": lambda k: k.update(pd.DataFrame({"value": [7.0]}, index=[2])),
        "replace in place": lambda k: k.replace({"phase": {"before": "after"}}, inplace=True),
        "fillna after a gap": lambda k: (k.loc.__setitem__((3, "value"), np.nan), k.fillna({"value": 0}, inplace=True)),
    }


@pytest.mark.parametrize("edit", list(_edits()))
def test_the_digest_of_a_portfolio_follows_every_kind_of_edit_in_place(edit):
    from casekit import within

    pf = ck.load_cases(Path(__file__).resolve().parents[1] / "cases", case_ids=["quantia-tech", "atlas-capital"])
    before = within.portfolio_fingerprint(pf)
    assert within.portfolio_fingerprint(pf) == before  # remembered, not hashed again
    _edits()[edit](pf.kpis)
    fresh = within.portfolio_fingerprint(dataclasses.replace(pf, kpis=pf.kpis.copy(), cases=pf.cases.copy()))
    assert within.portfolio_fingerprint(pf) == fresh != before


def test_the_digest_is_remembered_for_an_unchanged_portfolio(monkeypatch):
    from casekit import within

    pf = ck.load_cases(Path(__file__).resolve().parents[1] / "cases", case_ids=["quantia-tech", "atlas-capital"])
    hashed = []
    original = within._hashed
    monkeypatch.setattr(within, "_hashed", lambda frame: hashed.append(len(frame)) or original(frame))
    first = within.portfolio_fingerprint(pf)
    assert within.portfolio_fingerprint(pf) == first and within.portfolio_fingerprint(pf.subset()) == first
    measured = [n for n in hashed if n == len(pf.kpis)]
    assert len(measured) <= 2  # the measurements once (and once more for the subset's new table, if it has one)
