"""Charts take casekit's tables and take their titles, units and directions from the data."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import casekit as ck  # noqa: E402
from casekit import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pf():
    return ck.load_cases(ROOT / "cases")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_kpi_chart_title_unit_and_signals(pf):
    rows = pf.kpis[(pf.kpis["case_id"] == "quantia-tech") & (pf.kpis["kpi"] == "defect_density")]
    chart = ck.behaviour.xmr_phases(rows)
    ax = plots.kpi_chart(chart)
    assert ax.get_title() == "Defect density (lower is better)" and ax.get_ylabel() == "defects per KLOC"
    better = [c for c in ax.collections if c.get_label() == "XmR signal, better"][0]
    worse = [c for c in ax.collections if c.get_label() == "XmR signal, worse"][0]
    assert len(better.get_offsets()) + len(worse.get_offsets()) == (chart["signal"] != "").sum()


def test_signals_in_the_good_and_the_bad_direction_look_different(pf):
    rows = pf.kpis[(pf.kpis["case_id"] == "chemhaven-specialty") & (pf.kpis["kpi"] == "cycle_time")]
    chart = ck.behaviour.xmr_phases(rows)
    ax = plots.kpi_chart(chart)
    better, worse = ([c for c in ax.collections if c.get_label() == f"XmR signal, {side}"][0]
                     for side in ("better", "worse"))
    assert len(better.get_offsets()) and len(worse.get_offsets())  # this case has both
    assert better.get_paths()[0].vertices.tolist() != worse.get_paths()[0].vertices.tolist()  # shape, not colour only
    flagged = chart[chart["signal"] != ""]
    good = plots.signals_in_better_direction(flagged, "lower")
    midline = (flagged["baseline_lcl"] + flagged["baseline_ucl"]) / 2
    assert (flagged.loc[good, "value"] < midline[good]).all()  # cycle time: lower is better


def test_kpi_chart_draws_each_phases_limits_and_no_empty_bands(pf):
    """One value per period has no interval: seaborn is not asked for (empty) confidence bands, which cost a
    tenth of the chart. Each phase's centre line and limits are one collection: solid centre, dashed limits."""
    from matplotlib.collections import LineCollection, PolyCollection

    rows = pf.kpis[(pf.kpis["case_id"] == "quantia-tech") & (pf.kpis["kpi"] == "defect_density")]
    chart = ck.behaviour.xmr_phases(rows)
    ax = plots.kpi_chart(chart)
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    limits = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(limits) == 2
    for phase, lines in zip(("before", "after"), limits):
        first = chart[chart["phase"] == phase].iloc[0]
        assert [segment[0][1] for segment in lines.get_segments()] == [first["center"], first["lcl"], first["ucl"]]
        assert [style[1] is None for style in lines.get_linestyles()] == [True, False, False]


def test_given_axes_are_used(pf):
    fig, ax = plt.subplots()
    assert plots.maturity_chart(pf.appraisals[pf.appraisals["case_id"] == "atlas-capital"], ax=ax) is ax
    assert ax.get_ylim() == (-0.6, 5.5)


def test_unrated_appraisals_sit_on_their_own_row_and_methods_keep_their_colour(pf):
    import matplotlib.colors as mcolors

    colours = {}
    for case in ("northwood-paper", "quantia-tech", "atlas-capital"):
        appraisals = pf.appraisals[pf.appraisals["case_id"] == case]
        ax = plots.maturity_chart(appraisals)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["not rated", "ML1", "ML2", "ML3", "ML4", "ML5"]
        drawn = [(tuple(point), c) for c in ax.collections for point in c.get_offsets()]
        unrated = appraisals[~appraisals["rated"]]
        assert sum(1 for (x, y), _ in drawn if y == plots.NOT_RATED) == len(unrated)
        assert sum(1 for (x, y), _ in drawn if y >= 1) == appraisals["rated"].sum()
        legend = {t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)}
        assert set(appraisals["method"]) <= set(legend) and {"rated", "not rated"} <= set(legend)
        for method in set(appraisals["method"]):
            colours.setdefault(method, set()).add(mcolors.to_hex(legend[method].get_color()))
        plt.close("all")
    assert all(len(found) == 1 for found in colours.values()), colours  # one colour per method, every report


def test_heatmaps(pf):
    one = plots.capability_heatmap(pf.practice_areas[pf.practice_areas["case_id"] == "quantia-tech"])
    assert [t.get_text() for t in one.get_xticklabels()] == ["2019-06", "2021-05", "2022-11"]
    across = plots.capability_heatmap(pf.practice_areas, columns="case_id")
    assert len(across.get_xticklabels()) == 8
    # whole levels: a colour bar with one tick per level, not a continuous 0.0-3.0 scale
    colorbar = one.collections[0].colorbar
    assert list(colorbar.get_ticks()) == [0, 1, 2, 3] and len(colorbar.cmap.colors) == 4
    # organizations by name; two of the same name (business units of one company) told apart by their ids
    named = pf.practice_areas.merge(pf.cases[["case_id", "name"]], on="case_id")
    named.loc[named["case_id"].isin(["quantia-tech", "voltcart-ecommerce"]), "name"] = "Acme"
    labels = [label.get_text() for label in plots.capability_heatmap(named, columns="case_id").get_xticklabels()]
    assert "Acme (quantia-tech)" in labels and "Acme (voltcart-ecommerce)" in labels and "Atlas Capital Markets" in labels
    key = ck.presentation.practice_area_key(pf.practice_areas).text
    assert "MPM: Managing Performance and Measurement" in key and "DAR: Decision Analysis and Resolution" in key


def test_forest_and_slope(pf):
    effects = ck.compare_portfolio(pf).effects
    dd = effects[effects["kpi"] == "defect_density"]
    pooled = ck.compare_portfolio(pf).tests().set_index("kpi").loc["defect_density"]
    ax = plots.forest_plot(dd, pooled)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1].startswith("pooled, I²") and set(labels[:-1]) == set(dd["name"])  # organizations by name
    assert "lower is better" in ax.get_xlabel() and ax.get_title().startswith("Defect density")
    slope = plots.slope_chart(dd)
    assert len(slope.collections[0].get_segments()) == len(dd)
    assert {text.get_text() for text in slope.texts} >= {"Quantia Software", "Atlas Capital Markets"}


def test_a_long_prediction_interval_is_cut_at_the_estimates_and_printed(pf):
    effects = ck.compare_portfolio(pf).effects
    kpi = "escaped_defects"
    rows = effects[effects["kpi"] == kpi]
    pooled = ck.compare_portfolio(pf).tests().set_index("kpi").loc[kpi]
    ax = plots.forest_plot(rows, pooled)
    low, high = ax.get_xlim()
    span = max(rows["ci_high"].max(), pooled["pooled_ci_high"]) - min(rows["ci_low"].min(), pooled["pooled_ci_low"])
    assert high - low < 1.5 * span  # the axis is the estimates', not the prediction interval's
    if pooled["k"] >= 3 and pooled["pi_low"] < low:
        assert any("prediction interval" in t.get_text() for t in ax.texts)


def _slope_colours(ax) -> list[str]:
    return [matplotlib.colors.to_hex(c) for c in ax.collections[0].get_colors()]


def test_slope_colours_come_from_the_interval_or_the_verdict(pf):
    effects = ck.compare_portfolio(pf).effects
    rows = effects[effects["kpi"] == "defect_density"].reset_index(drop=True)
    expected = ["#2a7f3f" if r["ci_low"] > 0 else "#c03030" if r["ci_high"] < 0 else "#999999" for _, r in rows.iterrows()]
    assert _slope_colours(plots.slope_chart(rows)) == expected
    plt.close("all")
    told = rows.assign(verdict=["no clear change"] * len(rows))
    assert set(_slope_colours(plots.slope_chart(told))) == {"#999999"}


def _many(effects: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` organizations made from one KPI's rows, their estimates spread at random."""
    rng = np.random.default_rng(seed)
    rows = effects.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    shift = rng.normal(0, 20, n)
    return rows.assign(case_id=[f"org-{i:04d}" for i in range(n)], name=[f"Org {i:04d}" for i in range(n)],
                       improvement=rows["improvement"] + shift,
                       ci_low=rows["ci_low"] + shift, ci_high=rows["ci_high"] + shift)


@pytest.mark.parametrize("n", [100, 1000])
def test_a_forest_plot_of_many_shows_the_extremes_and_summarises_the_rest(pf, n):
    effects = ck.compare_portfolio(pf).effects
    many = _many(effects[effects["kpi"] == "defect_density"], n)
    pooled = ck.compare_portfolio(pf).tests().set_index("kpi").loc["defect_density"]
    ax = plots.forest_plot(many, pooled)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    shown = 2 * plots.FOREST_EXTREMES
    assert len(labels) == shown + 2 and f"… {n - shown:,} others" in labels
    ordered = many.sort_values("improvement")["name"]
    assert labels[:plots.FOREST_EXTREMES] == list(ordered.head(plots.FOREST_EXTREMES))
    assert labels[plots.FOREST_EXTREMES + 1:-1] == list(ordered.tail(plots.FOREST_EXTREMES))
    assert ax.figure.get_size_inches()[1] < 12  # a screen or so, whatever n is


def test_a_slope_chart_of_many_has_no_labels_and_a_median_line(pf):
    effects = ck.compare_portfolio(pf).effects
    many = _many(effects[effects["kpi"] == "defect_density"], 300).assign(post=lambda d: d["baseline"] * 0.8)
    ax = plots.slope_chart(many)
    assert len(ax.texts) == 0 and len(ax.collections[0].get_segments()) == 300
    median = [line for line in ax.lines if line.get_color() == "black"]
    assert len(median) == 1 and list(median[0].get_ydata()) == [many["baseline"].median(), many["post"].median()]


def test_a_heatmap_of_many_organizations_shows_shares(pf):
    areas = pd.concat([pf.practice_areas.assign(case_id=pf.practice_areas["case_id"] + f"-{i}") for i in range(5)])
    ax = plots.capability_heatmap(areas, columns="case_id")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["level 0", "level 1", "level 2", "level 3"]
    assert "% of organizations" in ax.get_title()


def test_category_chart_with_reference(pf):
    summary = ck.compare_portfolio(pf).categories(reference=pd.read_csv(ROOT / "casekit" / "data" / "sei_performance_results_2006.csv"))
    ax = plots.category_chart(summary)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(summary["category"])
    assert "SEI 2006 median" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_seaborn_is_not_asked_for_tick_labels(pf, monkeypatch):
    """seaborn computes an unlabelled axis's tick labels (a tenth of a dated chart's cost); our charts label
    first, and the labels are still the real ones."""
    asked = []
    original = matplotlib.axis.Axis.get_ticklabels
    monkeypatch.setattr(matplotlib.axis.Axis, "get_ticklabels",
                        lambda self, *a, **k: asked.append(self) or original(self, *a, **k))
    rows = pf.kpis[(pf.kpis["case_id"] == "atlas-capital") & (pf.kpis["kpi"] == "win_rate")]
    kpi = plots.kpi_chart(ck.behaviour.xmr_phases(rows))
    maturity = plots.maturity_chart(pf.appraisals[pf.appraisals["case_id"] == "atlas-capital"])
    assert asked == []
    assert (kpi.get_xlabel(), kpi.get_ylabel()) == ("", rows["unit"].iloc[0])
    assert (maturity.get_xlabel(), maturity.get_ylabel()) == ("", "")
    assert [t.get_text() for t in maturity.get_yticklabels()][1] == "ML1"


def test_the_kpi_chart_shows_what_the_verdict_tests(pf):
    comparison = ck.compare_case(pf, "quantia-tech")
    row = comparison.table.set_index("kpi").loc["customer_satisfaction"]
    fig = comparison.plot("customer_satisfaction")
    top, effect = fig.axes[:2]
    assert len(fig.axes) == 2  # % satisfied is a level, not a count per period: no cumulative panel
    assert top.get_title(loc="left") == "Customer satisfaction (higher is better)" and top.get_ylabel() == "% satisfied"
    lines = {line.get_label(): line for line in top.get_lines()}
    trend, counterfactual, fitted = (lines[k] for k in ("baseline trend", "counterfactual (trend carried on)",
                                                        "fitted with the change"))
    # the counterfactual carries the baseline trend on: one straight line in log space, month by month
    both = np.log(np.r_[trend.get_ydata(), counterfactual.get_ydata()])
    steps = np.diff(both)
    assert steps == pytest.approx(np.full(len(steps), np.log1p(row["its_pre_slope"] / 100)), rel=1e-6)
    # at the first month after the transition the fitted level is the counterfactual changed by the level change
    ratio = fitted.get_ydata()[0] / counterfactual.get_ydata()[0]
    assert 100 * (ratio - 1) == pytest.approx(row["its_level_change"], rel=1e-6)
    # the effect panel: fitted less counterfactual, whose first-year average is the verdict's effect in points
    gain = effect.get_lines()[1].get_ydata()
    assert gain[0] == pytest.approx(fitted.get_ydata()[0] - counterfactual.get_ydata()[0])
    assert "above 0 is better" in effect.get_ylabel()
    assert not any("XmR" in text.get_text() for text in fig.legends[0].get_texts())


def test_a_kpi_counted_per_month_adds_its_effect_up(pf):
    comparison = ck.compare_case(pf, "quantia-tech")
    fig = comparison.plot("escaped_defects")
    assert len(fig.axes) == 3 and "cumulative" in fig.axes[2].get_ylabel()
    gain = fig.axes[1].get_lines()[1].get_ydata()
    assert fig.axes[2].get_lines()[1].get_ydata() == pytest.approx(np.cumsum(gain))
    assert "below 0 is better" in fig.axes[1].get_ylabel()
    xmr = comparison.plot("escaped_defects", view="xmr")  # the control chart is its own view
    assert any("XmR" in text.get_text() for text in xmr.axes[0].get_legend().get_texts())
    with pytest.raises(ValueError, match="view must be"):
        comparison.plot("escaped_defects", view="pie")
    with pytest.raises(ValueError, match="no KPI 'nope'"):
        comparison.plot("nope")
