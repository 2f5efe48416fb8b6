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
