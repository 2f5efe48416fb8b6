"""The planner: predicted power against casekit's own tests on series simulated without casekit
(tests/plan_simulation.py), the plan object, the command and the detectable change in case reports."""

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from plan_simulation import (
    COUNTS,
    POOLED,
    SINGLE,
    STAGGERED,
    count_rate,
    pooled_rate,
    predicted_count,
    predicted_pooled,
    predicted_single,
    predicted_staggered,
    single_rate,
    staggered_panel,
    staggered_rate,
)

import casekit as ck
from casekit.errors import ArgumentError
from casekit.stats.meta import meta_analysis, robust_p_values
from casekit.stats.planning import power_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("point", SINGLE, ids=[f"{p[0]}m-phi{p[1]}-fall{p[3]}-cmp{p[4]}" for p in SINGLE])
def test_predicted_power_is_casekits_simulated_power_for_one_case(point):
    """Within 5 points on 300 series (the table in docs/methods.md, 1,000 a point, is within 4)."""
    assert predicted_single(*point) == pytest.approx(single_rate(300, 71, *point), abs=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("point", POOLED, ids=[f"k{p[0]}" for p in POOLED])
def test_predicted_power_is_casekits_simulated_power_across_cases(point):
    assert predicted_pooled(*point) == pytest.approx(pooled_rate(400, 73, *point), abs=0.06)


@pytest.mark.slow
@pytest.mark.parametrize("point", STAGGERED, ids=[f"k{p[0]}-never{p[6]}" for p in STAGGERED])
def test_predicted_power_is_casekits_simulated_power_of_the_event_study(point):
    """Within 7 points on 300 panels (the table in docs/methods.md, 1,000 a point, is within 4)."""
    assert predicted_staggered(*point) == pytest.approx(staggered_rate(300, 89, *point), abs=0.07)


def test_a_change_after_adoption_shifts_the_event_studys_average_by_itself_and_keeps_its_error():
    """What lets one stack of panels without a change give the event study's power for every change."""
    from casekit.stats.event_study import event_study

    unit, month, adoption, y = staggered_panel(np.random.default_rng(5), 30, 24, 0.4, 0.1, 0.0, 0.05, 0.2)
    without = event_study(unit, month, adoption, y).average(0, 24)
    changed = event_study(unit, month, adoption, y + np.log(0.8) * (month >= adoption)).average(0, 24)
    assert changed["estimate"] - without["estimate"] == pytest.approx(np.log(0.8), abs=1e-12)
    assert changed["se"] == pytest.approx(without["se"], rel=1e-10)


def test_a_plan_of_staggered_adoption_adds_the_event_studys_curve():
    programme = ck.plan(months_before=24, phi=0.4, noise=0.1, staggered=24, staggered_organizations=(10, 40))
    curve = programme.table().query("axis == 'event study'")
    assert curve["organizations"].tolist() == [10, 40] and curve["power"].is_monotonic_increasing
    assert "adopting over 24 months, compared by the event study" in programme.summary()
    assert programme.plot().axes[1].get_legend_handles_labels()[1][-1] == "event study, adopting over 24 months"
    plt.close("all")
    with pytest.raises(ArgumentError, match="at least 3 organizations"):
        ck.plan(months_before=24, phi=0.4, noise=0.1, staggered=1)


def test_at_no_effect_the_power_is_the_tests_size_and_it_grows_with_the_effect():
    table = power_table(24, 24, phi=0.4, noise=0.1, effects=np.log([1.0, 0.9, 0.8, 0.7]))
    power = table["power"].to_numpy()
    assert 0.04 <= power[0] <= 0.07 and np.all(np.diff(power) > 0)
    fewer = power_table(24, 24, phi=0.4, noise=0.1, effects=[np.log(0.8)], kpis=5)["power"].iloc[0]
    assert fewer < power[2]  # tested at alpha / 5


def test_vectorised_robust_test_equals_meta_analysis():
    rng = np.random.default_rng(3)
    effects = rng.normal(0.1, 0.2, (20, 6))
    variances = rng.uniform(0.005, 0.05, (20, 6))
    expected = [meta_analysis(y, v, "DL", "robust").p_value for y, v in zip(effects, variances)]
    np.testing.assert_allclose(robust_p_values(effects, variances), expected, rtol=1e-8)


def test_a_plan_from_a_case_takes_its_baseline_and_design():
    programme = ck.plan(ck.load_cases(ROOT / "cases"), "quantia-tech", "cycle_time")
    assert programme.inputs["months_before"] == 31 and programme.inputs["transition"] == 6
    assert programme.inputs["kpis"] == 5 and programme.inputs["source"] == "quantia-tech, cycle_time"
    table = programme.table()
    assert set(table["axis"]) == {"months after adoption", "organizations"}
    longer = table[(table["axis"] == "months after adoption") & (table["contrast"] == "effect")]
    assert longer["power"].is_monotonic_increasing or np.all(np.diff(longer["power"]) > -0.03)
    assert programme.detectable["effect"][36] < programme.detectable["effect"][6]
    assert "80% power" in programme.summary()
    fig = programme.plot()
    assert len(fig.axes) == 2
    plt.close("all")


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(months_before=24, phi=0.4), "the months before adoption, phi and noise"),
    (dict(months_before=24, phi=1.2, noise=0.1), "strictly between -1 and 1"),
])
def test_bad_plans_are_refused(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        ck.plan(**kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("point", COUNTS[::3], ids=[f"mean{p[0]}-phi{p[1]}" for p in COUNTS[::3]])
def test_predicted_power_is_casekits_simulated_power_for_a_count_kpi(point):
    """Within 6 points on 250 series, at the table's two ends (the table in docs/methods.md, 1,000 a point and
    four points, is within 4): each series is bootstrapped, so a point costs a minute."""
    assert predicted_count(*point) == pytest.approx(count_rate(250, 97, *point), abs=0.06)


def test_a_count_kpi_is_planned_for_the_count_test():
    programme = ck.plan(ck.load_cases(ROOT / "cases"), "quantia-tech", "escaped_defects")
    assert programme.inputs["noise"] is None and programme.inputs["mean"] > 10
    assert programme.inputs["dispersion"] >= 1 and programme.inputs["months_before"] == 30
    table = programme.table()
    assert set(table["contrast"]) == {"effect"} and programme.detectable["slope"] == {}
    assert "events a month on average" in programme.summary()
    by_hand = ck.plan(months_before=24, phi=0.2, mean=40, dispersion=1.2, months_after=(24,), cases=(4,))
    assert by_hand.detectable["effect"][24] < programme.detectable["effect"][24] + 30
    plt.close(programme.plot())
    with pytest.raises(ArgumentError, match="interval scale"):
        ck.plan(ck.load_cases(ROOT / "cases"), "quantia-tech", "nps")
    with pytest.raises(ArgumentError, match="its own count test"):
        ck.plan(months_before=24, phi=0.2, mean=5, staggered=24)


def test_a_count_fits_stack_is_count_tests_fit_series_by_series():
    from casekit.stats.counts import count_fits, count_replicates, count_test

    t = np.r_[np.arange(-20, -3), np.arange(1, 20)]  # a gap of three months
    X = np.column_stack([np.ones(len(t)), t, t >= 0])
    Y = count_replicates(np.random.default_rng(4), 5, np.full(len(t), 4.0), 1.6, 0.3, t)
    fits = count_fits(Y, X, t, [[0, 0, 1]])
    for row, y in enumerate(Y):
        alone = count_test(y, X, t, [[0, 0, 1]], bootstrap=False)
        assert fits["estimate"][row, 0] == pytest.approx(alone.estimate[0], rel=1e-10)
        assert fits["se"][row, 0] == pytest.approx(alone.se[0], rel=1e-10)
        assert fits["phi"][row] == pytest.approx(alone.phi, rel=1e-10)


def test_the_command_prints_the_plan_and_writes_its_table(tmp_path):
    result = subprocess.run([sys.executable, "-m", "casekit", "plan", "--months-before", "24", "--phi", "0.4",
                             "--noise", "0.1", "--csv", str(tmp_path / "plan.csv"), "--png", str(tmp_path / "plan.png")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "with 80% power" in result.stdout and (tmp_path / "plan.csv").stat().st_size > 100
    assert (tmp_path / "plan.png").read_bytes()[:4] == b"\x89PNG"
    refused = subprocess.run([sys.executable, "-m", "casekit", "plan", "--case", "acme"], capture_output=True,
                             text=True, timeout=300, cwd=tmp_path)
    assert refused.returncode == 2 and "--case and --kpi" in refused.stderr


def test_a_kpi_with_no_clear_change_says_what_it_could_have_detected():
    comparison = ck.compare_case(ck.load_cases(ROOT / "cases"), "quantia-tech")
    row = comparison.table.set_index("kpi").loc["cycle_time"]
    assert row["verdict"] == "no clear change" and 10 < row["detectable"] < 40
    assert f"could have detected a change of ±{row['detectable']:.0f}% (80% power)" in comparison.summary().text
    improved = comparison.table.set_index("kpi").loc["defect_density"]
    assert "could have detected" not in [t for t in comparison.findings().items["text"] if "Defect density" in t][0]
    assert np.isfinite(improved["detectable"])


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`casekit plan | head -1`: the command ends quietly when its reader closes the pipe (here before the
    command writes at all: `true` reads nothing)."""
    shell = f"{sys.executable} -m casekit plan --months-before 24 --phi 0.4 --noise 0.1 | true; echo status ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.stdout.strip().endswith("status 0")
