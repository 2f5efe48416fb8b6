"""XmR charts against R's qcc; Western Electric rules by their definitions."""

from pathlib import Path

import numpy as np
import pytest

import casekit as ck
from casekit.stats.behaviour import RULES

# R qcc: qcc(x, type = "xbar.one") -> center, std.dev, limits; as recorded in the tests of
# mistat (Kenett, Zacks & Gedeck 2022), mistat/qcc/tests/test_qcc.py::TestComparisonWithR
VISCOSITY = [33.75, 33.05, 34, 33.81, 33.46, 34.02, 33.68, 33.27, 33.49, 33.20, 33.62, 33.00, 33.54, 33.12, 33.84]
ANTIFREEZE = [2.23, 2.53, 2.62, 2.63, 2.58, 2.44, 2.49, 2.34, 2.95, 2.54, 2.60, 2.45, 2.17, 2.58, 2.57, 2.44, 2.38,
              2.23, 2.23, 2.54, 2.66, 2.84, 2.81, 2.39, 2.56, 2.70, 3.00, 2.81, 2.77, 2.89, 2.54, 2.98, 2.35, 2.53]


@pytest.mark.parametrize("data, center, sigma, lcl, ucl", [
    (VISCOSITY, 33.52333, 0.4261651, 32.24484, 34.80183),   # Montgomery, p. 242
    (ANTIFREEZE, 2.569706, 0.1794541, 2.031344, 3.108068),  # Wetherill & Brown 1991, p. 120
])
def test_limits_against_qcc(data, center, sigma, lcl, ucl):
    chart = ck.xmr(data)
    assert chart.center == pytest.approx(center, abs=5e-6)
    assert chart.sigma == pytest.approx(sigma, abs=5e-8)
    assert (chart.lcl, chart.ucl) == (pytest.approx(lcl, abs=5e-6), pytest.approx(ucl, abs=5e-6))


def test_moving_range_limit_uses_d4():
    chart = ck.xmr(VISCOSITY)
    assert chart.mr_bar == pytest.approx(np.abs(np.diff(VISCOSITY)).mean())
    assert chart.mr_ucl == pytest.approx(3.267 * chart.mr_bar)  # D4 for n = 2 (Montgomery, App. VI)
    assert chart.ucl - chart.center == pytest.approx(2.66 * chart.mr_bar, rel=1e-3)  # Wheeler's 2.66


# A baseline with centre 0 and sigma exactly 1: moving ranges of 1.128 (= d2).
BASELINE = [0.564, -0.564] * 10


def rules_at(values):
    signals = ck.xmr(values, baseline=BASELINE).signals
    return sorted(zip(signals["position"], signals["rule"], signals["side"]))


def test_rule_1_one_point_beyond_3_sigma():
    assert rules_at([0.5, -3.2, 0.2]) == [(1, 1, "below")]


def test_rule_2_two_of_three_beyond_2_sigma():
    assert rules_at([2.5, 0.0, 2.2, -0.5]) == [(2, 2, "above")]
    assert rules_at([2.5, 0.0, -2.2]) == []  # opposite sides


def test_rule_3_four_of_five_beyond_1_sigma():
    assert rules_at([1.5, 1.2, -0.3, 1.1, 1.4]) == [(4, 3, "above")]


def test_rule_4_eight_on_one_side():
    values = [-0.2] * 8 + [0.3]
    assert rules_at(values) == [(7, 4, "below")]


def test_in_control_baseline_gives_no_signal():
    assert rules_at([0.3, -0.4, 0.8, -0.9, 0.1, -0.2, 0.6, -0.5, 0.4, -0.1]) == []


def test_two_phase_chart_uses_baseline_limits():
    after = [5.0, 5.2, 4.9]
    chart = ck.xmr(after, baseline=BASELINE)
    assert chart.center == pytest.approx(0.0) and chart.ucl == pytest.approx(3.0, rel=1e-3)
    assert set(chart.signals["rule"]) >= {1}
    frame = chart.to_frame()
    assert list(frame.columns) == ["position", "value", "moving_range", "center", "lcl", "ucl", "signal"]
    assert frame["signal"].iloc[0].startswith("1")


@pytest.mark.parametrize("values", [[1.0], [1.0, np.nan, 2.0]])
def test_bad_input(values):
    with pytest.raises(ValueError):
        ck.xmr(values)


def test_two_phase_chart_of_a_case_kpi():
    pf = ck.load_cases(Path(__file__).resolve().parents[1] / "cases")
    rows = pf.kpis[(pf.kpis["case_id"] == "quantia-tech") & (pf.kpis["kpi"] == "defect_density")]
    chart = ck.behaviour.xmr_phases(rows)
    before, after = chart[chart["phase"] == "before"], chart[chart["phase"] == "after"]
    baseline = ck.xmr(before["value"])
    assert before["center"].unique() == pytest.approx([baseline.center])
    assert after["center"].unique() == pytest.approx([after["value"].mean()])
    assert chart[chart["phase"] == "transition"]["center"].isna().all()
    assert (chart["baseline_ucl"] == baseline.ucl).all()
    # defects halved: post-adoption points fall below the baseline's lower limit
    assert (after["signal"].str.contains("1") & (after["value"] < baseline.lcl)).sum() > 20


def test_two_phase_chart_with_too_little_baseline():
    import pandas as pd

    chart = ck.behaviour.xmr_phases(pd.DataFrame({"value": [1.0, 2.0, 3.0], "phase": ["before", "after", "after"]}))
    assert chart["center"].isna().all() and (chart["signal"] == "").all()


def _rules_by_definition(x, center, sigma):
    """The four zone rules read literally, point by point (the reference for the vectorised version)."""
    found = set()
    for side, sign in (("above", 1), ("below", -1)):
        z = [sign * (v - center) / sigma for v in x]
        for i in range(len(x)):
            last = lambda n, i=i, z=z: z[i + 1 - n:i + 1] if i + 1 >= n else []  # noqa: E731
            if z[i] > 3:
                found.add((i, 1, side))
            if z[i] > 2 and sum(v > 2 for v in last(3)) >= 2:
                found.add((i, 2, side))
            if z[i] > 1 and sum(v > 1 for v in last(5)) >= 4:
                found.add((i, 3, side))
            if len(last(8)) == 8 and all(v > 0 for v in last(8)):
                found.add((i, 4, side))
    return sorted(found)


@pytest.mark.parametrize("seed", range(40))
def test_rules_match_their_definitions_on_random_series(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.choice([0, 1, 2]), rng.choice([0.5, 1, 2]), size=rng.integers(1, 40))
    chart = ck.xmr(x, baseline=BASELINE)
    signals = chart.signals
    assert list(zip(signals["position"], signals["rule"], signals["side"])) == _rules_by_definition(
        x, chart.center, chart.sigma)
    assert list(signals["description"]) == [RULES[rule] for rule in signals["rule"]]


def test_autocorrelation_makes_signals_without_any_change():
    """The caution the case report prints: with no change and AR(1) noise of phi = 0.4, about half of the
    series show a post-adoption point on the better side (47% when written); with independent noise 18%."""
    from ar1_simulation import series

    rng = np.random.default_rng(9)
    shares = {}
    for phi in (0.0, 0.4):
        flagged = 0
        for _ in range(300):
            y, _ = series(rng, 24, 24, phi)
            signals = ck.xmr(y[27:], baseline=y[:24]).signals
            flagged += bool((signals["side"] == "below").any())  # lower is better
        shares[phi] = flagged / 300
    assert 0.35 <= shares[0.4] <= 0.6 and shares[0.0] < shares[0.4] - 0.15, shares
