"""compare_case: direction, scales, phases, and the truths built into the shipped cases."""

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import gmean

import casekit as ck


@pytest.fixture
def acme(case_dir: Path):
    return ck.load_cases(case_dir)


def test_direction_aware_improvement(acme):
    table = ck.compare_case(acme, "acme").set_index("kpi")
    kpis = acme.kpis[acme.kpis["kpi"] == "defect_density"]
    before = kpis.loc[kpis["phase"] == "before", "value"]
    after = kpis.loc[kpis["phase"] == "after", "value"]
    dd = table.loc["defect_density"]
    # defects fell: a positive improvement equal to the drop in geometric mean
    assert dd["improvement"] == pytest.approx(-(gmean(after) / gmean(before) - 1) * 100)
    assert dd["ci_low"] < dd["improvement"] < dd["ci_high"] and dd["ci_low"] > 0
    assert (dd["n_before"], dd["n_after"], dd["improvement_unit"], dd["verdict"]) == (12, 9, "%", "improved")
    assert dd["effect"] == pytest.approx(-np.log(gmean(after) / gmean(before)))
    rc = table.loc["review_coverage"]
    assert rc["improvement"] > 0 and rc["verdict"] == "improved" and rc["better"] == "higher"


def test_columns_and_its(acme):
    table = ck.compare_case(acme, "acme")
    assert list(table.columns) == ck.within.COLUMNS
    assert table["its_level_change"].notna().all()  # 12 and 9 periods: enough for the time series
    assert (table["xmr_signals_better"] > 0).all() and (table["xmr_signals_worse"] == 0).all()


def test_transition_override_changes_phases(acme):
    default = ck.compare_case(acme, "acme").set_index("kpi")
    longer = ck.compare_case(acme, "acme", transition_months=6).set_index("kpi")
    assert default.loc["defect_density", "n_after"] == 9 and longer.loc["defect_density", "n_after"] == 6


def test_kpis_filter_and_unknown_case(acme):
    assert ck.compare_case(acme, "acme", kpis=["review_coverage"])["kpi"].tolist() == ["review_coverage"]
    with pytest.raises(KeyError, match="no case 'nope'"):
        ck.compare_case(acme, "nope")


def test_not_enough_data_is_a_row_not_an_exception(case_dir: Path):
    path = case_dir / "acme" / "kpis.csv"
    path.write_text(path.read_text(encoding="utf-8") + "2019-06,lead_time,10\n2020-06,lead_time,8\n"
                    + "".join(f"2019-{m:02d},cycle_time,5\n" for m in range(1, 13))
                    + "".join(f"2020-{m:02d},cycle_time,5\n" for m in range(4, 13)), encoding="utf-8")
    table = ck.compare_case(ck.load_cases(case_dir), "acme").set_index("kpi")
    assert table.loc["lead_time", "verdict"] == "not enough data"
    assert "needs 3 periods before and after; has 1 and 1" in table.loc["lead_time", "note"]
    assert table.loc["cycle_time", "verdict"] == "not enough data"
    assert table.loc["cycle_time", "note"] == "the values never vary"


def test_interval_scale_in_points(case_dir: Path):
    path = case_dir / "acme" / "kpis.csv"
    rows = "".join(f"2019-{m:02d},nps,{-5 + (m % 3)}\n" for m in range(1, 13))
    rows += "".join(f"2020-{m:02d},nps,{10 + (m % 3)}\n" for m in range(4, 13))
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    nps = ck.compare_case(ck.load_cases(case_dir), "acme").set_index("kpi").loc["nps"]
    assert nps["improvement_unit"] == "points"
    assert nps["improvement"] == pytest.approx(15.0, abs=0.5) and nps["verdict"] == "improved"


@pytest.fixture(scope="module")
def shipped():
    return ck.load_cases(Path(__file__).resolve().parents[1] / "cases")


@pytest.mark.parametrize("case_id, kpi, verdict", [
    ("quantia-tech", "defect_density", "improved"),       # true effect 50%
    ("atlas-capital", "time_to_market", "improved"),      # 45%
    ("meridian-financial", "productivity", "no clear change"),  # no effect
    ("chemhaven-specialty", "it_cost_share", "no clear change"),  # no effect
    ("ironforge-industrial", "escaped_defects", "worsened"),  # 30% worse
    ("voltcart-ecommerce", "it_cost_share", "worsened"),  # 12% worse
])
def test_shipped_truths_are_found(shipped, case_id, kpi, verdict):
    assert ck.compare_case(shipped, case_id).set_index("kpi").loc[kpi, "verdict"] == verdict


def test_shipped_large_effect_is_estimated_well(shipped):
    row = ck.compare_case(shipped, "quantia-tech").set_index("kpi").loc["escaped_defects"]
    assert row["ci_low"] < 55 < row["ci_high"]  # the generator's true improvement


def test_kpi_effects_match_compare_case(shipped):
    effects = ck.kpi_effects(shipped).set_index(["case_id", "kpi"])
    table = ck.compare_case(shipped, "borealis-fibre").set_index("kpi")
    for kpi, row in table.iterrows():
        assert effects.loc[("borealis-fibre", kpi), "effect"] == pytest.approx(row["effect"])
        assert effects.loc[("borealis-fibre", kpi), "effect_se"] == pytest.approx(row["effect_se"])
    assert (effects.xs("borealis-fibre")["levels_gained"] == 1).all()  # ML3 -> ML4
    assert (effects.xs("voltcart-ecommerce")["levels_gained"] == 2).all()  # unrated (ML1) -> ML3


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
