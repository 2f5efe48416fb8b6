"""Charts take casekit's tables and take their titles, units and directions from the data."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
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
    chart = ck.xmr_phases(rows)
    ax = plots.kpi_chart(chart)
    assert ax.get_title() == "Defect density (lower is better)" and ax.get_ylabel() == "defects per KLOC"
    flagged = [c for c in ax.collections if c.get_label() == "XmR signal"][0]
    assert len(flagged.get_offsets()) == (chart["signal"] != "").sum()


def test_kpi_chart_draws_each_phases_limits_and_no_empty_bands(pf):
    """One value per period has no interval: seaborn is not asked for (empty) confidence bands, which cost a
    tenth of the chart. Each phase's centre line and limits are one collection: solid centre, dashed limits."""
    from matplotlib.collections import LineCollection, PolyCollection

    rows = pf.kpis[(pf.kpis["case_id"] == "quantia-tech") & (pf.kpis["kpi"] == "defect_density")]
    chart = ck.xmr_phases(rows)
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
    assert ax.get_ylim() == (0.5, 5.5)


def test_heatmaps(pf):
    one = plots.capability_heatmap(pf.practice_areas[pf.practice_areas["case_id"] == "quantia-tech"])
    assert [t.get_text() for t in one.get_xticklabels()] == ["2019-06", "2021-05", "2022-11"]
    across = plots.capability_heatmap(pf.practice_areas, columns="case_id")
    assert len(across.get_xticklabels()) == 8


def test_forest_and_slope(pf):
    effects = ck.kpi_effects(pf)
    dd = effects[effects["kpi"] == "defect_density"]
    pooled = ck.compare_portfolio(pf).set_index("kpi").loc["defect_density"]
    ax = plots.forest_plot(dd, pooled)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1].startswith("pooled, I²") and set(labels[:-1]) == set(dd["case_id"])
    assert "lower is better" in ax.get_xlabel()
    assert len(plots.slope_chart(dd).lines) == len(dd)


def test_category_chart_with_reference(pf):
    summary = ck.category_summary(pf, reference=pd.read_csv(ROOT / "casekit" / "data" / "sei_performance_results_2006.csv"))
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
    kpi = plots.kpi_chart(ck.xmr_phases(rows))
    maturity = plots.maturity_chart(pf.appraisals[pf.appraisals["case_id"] == "atlas-capital"])
    assert asked == []
    assert (kpi.get_xlabel(), kpi.get_ylabel()) == ("", rows["unit"].iloc[0])
    assert (maturity.get_xlabel(), maturity.get_ylabel()) == ("", "maturity level")
