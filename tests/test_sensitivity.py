"""The placebo-in-time check: the same model at fake adoption dates inside the baseline."""

import numpy as np
import pytest

import casekit as ck
from casekit.stats.sensitivity import placebo_effects, placebo_rank
from casekit.stats.timeseries import SegmentedSeries


def _series(values, t, comparison=None):
    return SegmentedSeries(values, t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12, comparison=comparison)


def test_a_real_step_is_larger_than_every_placebo():
    t = np.arange(-30, 18)
    values = 10 * np.exp(np.random.default_rng(4).normal(0, 0.03, 48) - 0.3 * (t >= 0))
    series = _series(values, t)
    placebos = placebo_effects(series)
    assert len(placebos) == 30 - 2 * 6 + 1  # every date with six baseline periods on either side
    real = ck.its(values, [str(p) for p in __import__("pandas").period_range("2020-01", periods=48, freq="M")],
                  "2022-07").effect
    ranked = placebo_rank(np.log1p(real / 100), placebos)
    assert ranked["as_large"] == 0 and ranked["placebo_p"] == pytest.approx(1 / 20)


def test_a_shock_the_comparison_shares_leaves_no_placebo_effect_against_it():
    """A 25% fall in both units a year before adoption: alone, the placebo dates near it show a large effect;
    against the comparison, they show none."""
    rng = np.random.default_rng(8)
    t = np.arange(-36, 12)
    shock = -0.25 * (t >= -12)
    ours = 10 * np.exp(shock + rng.normal(0, 0.02, 48))
    theirs = 7 * np.exp(shock + rng.normal(0, 0.02, 48))
    alone = placebo_effects(_series(ours, t))["effect"].abs().max()
    controlled = placebo_effects(_series(ours, t, theirs))["effect"].abs().max()
    assert alone > 0.15 and controlled < 0.05


def test_every_shipped_case_gets_a_placebo_line_per_compared_kpi():
    pf = ck.load_cases("cases")
    for case_id in pf.cases["case_id"]:
        comparison = ck.compare_case(pf, case_id)
        checks = comparison.placebos()
        fitted = [kpi for kpi, one in comparison.fits.items() if one.fit is not None]
        assert checks["kpi"].tolist() == fitted
        checked = checks["placebos"] > 0  # a short baseline leaves no placebo date, and the line says so
        assert checks.loc[checked, "placebo_p"].between(0, 1).all() and checks.loc[~checked, "placebo_p"].isna().all()
        assert checks["summary"].str.contains("placebo").all()


def test_each_other_choice_gives_what_compare_case_gives_with_that_choice():
    """The variants are the same model: the transition 9 months and the first 24 months equal compare_case with
    those settings (whose bootstrap changes no estimate)."""
    from casekit.stats.sensitivity import other_specifications

    pf = ck.load_cases("cases")
    variants = other_specifications(pf, "quantia-tech", 6, 12, 0).set_index(["variant", "kpi"])["improvement"]
    for name, settings in (("transition 9 months", {"transition_months": 9}), ("first 24 months", {"horizon_months": 24})):
        table = ck.compare_case(pf, "quantia-tech", **settings).table.set_index("kpi")["improvement"]
        assert variants[name].to_numpy() == pytest.approx(table[variants[name].index].to_numpy(), rel=1e-9)


def test_a_finding_on_both_sides_of_zero_is_said_to_depend_on_the_choices():
    import pandas as pd

    from casekit.stats.sensitivity import specification_lines

    table = pd.DataFrame({"kpi": ["cycle_time"], "label": ["Cycle time"], "improvement": [3.0],
                          "improvement_unit": ["%"]})
    variants = pd.DataFrame({"kpi": ["cycle_time"] * 2, "variant": ["first 6 months", "first 24 months"],
                             "improvement": [-1.5, 6.0], "improvement_unit": ["%"] * 2})
    line = specification_lines(table, variants).iloc[0]
    assert not line["same_direction"] and "depends on these choices" in line["summary"]
    assert (line["low"], line["high"]) == (-1.5, 6.0)
