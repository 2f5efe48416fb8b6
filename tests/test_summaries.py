"""Published summaries as effects: each conversion against metafor, each refusal, and the pooling beside the series.

Reference values: metafor 5.1-12 (built from its GitHub source, on R 4.2.2) — escalc, conv.fivenum, conv.wald and
rma — and lm() of R 4.2.2 for the trend by maturity level. The R calls are beside the numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.inputs.catalog import kpi_catalog
from casekit.stats.levels import level_trends
from casekit.stats.meta import meta_analysis
from casekit.stats.summaries import fivenum_mean_sd, group_mean_sd, summary_effects

matplotlib.use("Agg")
CASES = Path(__file__).resolve().parents[1] / "cases"

# sdci <- function(n, lo, hi) sqrt(n) * (hi - lo) / (2 * qt(.975, n - 1))
# f <- conv.fivenum(min=c(22,15,NA,NA,50,40), q1=c(NA,NA,6,5,80,70), median=c(40,31,8,6.5,100,85),
#                   q3=c(NA,NA,11,8.5,125,105), max=c(70,55,NA,NA,180,150), n=c(25,22,40,35,60,55))
# e <- escalc(measure="ROM", m1i=after_mean, sd1i=after_sd, n1i=after_n, m2i=before_mean, sd2i=before_sd, n2i=before_n)
GROUPS = [  # (label, before row, after row): the five kinds of reported groups
    ("mean and sd", {"n": 12, "mean": 120, "sd": 30}, {"n": 15, "mean": 90, "sd": 25}),
    ("mean and CI", {"n": 20, "mean": 50, "ci_low": 44, "ci_high": 56}, {"n": 18, "mean": 41, "ci_low": 36, "ci_high": 46}),
    ("median and range", {"n": 25, "median": 40, "min": 22, "max": 70}, {"n": 22, "median": 31, "min": 15, "max": 55}),
    ("median and quartiles", {"n": 40, "median": 8, "q1": 6, "q3": 11}, {"n": 35, "median": 6.5, "q1": 5, "q3": 8.5}),
    ("five numbers", {"n": 60, "median": 100, "q1": 80, "q3": 125, "min": 50, "max": 180},
     {"n": 55, "median": 85, "q1": 70, "q3": 105, "min": 40, "max": 150}),
]
# print(f) and the sd from sdci(): each group's mean and sd, before then after
METAFOR_MEAN_SD = [
    (120, 30, 90, 25),
    (50, 12.82011817947, 41, 10.05452972216),
    (41.58099226881, 12.21861023052, 32.13008668858, 10.47318645291),
    (8.35487500000, 3.84464950740, 6.67778571429, 2.70542805192),
    (102.94963091681, 30.83763006851, 87.53366180652, 25.22553310032),
]
# cat(sprintf("%.12f", e$yi)); cat(sprintf("%.12f", e$vi))
METAFOR_ROM_YI = [-0.287714222658, -0.198423966752, -0.257162441401, -0.224360868012, -0.162209145011]
METAFOR_ROM_VI = [0.010352366255, 0.006628161149, 0.008283533416, 0.009983508318, 0.003005381272]
# w <- conv.wald(out=0.70, ci.lb=0.55, ci.ub=0.88, transf=log): a fall of 30% (-45% to -12%)
METAFOR_WALD = (-0.356674943939, 0.014376270957)
# fl <- conv.fivenum(min=log(0.55), median=log(0.80), max=log(1.05), n=29): a median fall of 20% (-45% to +5%)
METAFOR_CHANGE_RANGE = (-0.235601699741, 0.159559358015)
# rma(c(e$yi, w$yi, fl$mean), c(e$vi, w$vi, fl$sd^2/29), method="DL"): beta, se, tau2, QE
METAFOR_RMA = (-0.228089778615, 0.022306497393, 0.0, 3.238150610687)


def _row(case_id, kpi, group, **values):
    return {"case_id": case_id, "kpi": kpi, "group": group, "location": "p. 1", **values}


def _published(rows) -> pd.DataFrame:
    columns = ["case_id", "kpi", "group", "n", "mean", "sd", "ci_low", "ci_high", "ci_level", "median", "q1", "q3",
               "min", "max", "location"]
    return pd.DataFrame(rows).reindex(columns=columns)


def _before_after() -> pd.DataFrame:
    rows = []
    for i, (_, before, after) in enumerate(GROUPS):
        rows += [_row(f"case-{i}", "cycle_time", "before", **before), _row(f"case-{i}", "cycle_time", "after", **after)]
    return _published(rows)


@pytest.mark.parametrize("index", range(len(GROUPS)), ids=[g[0] for g in GROUPS])
def test_each_kind_of_group_gives_metafors_mean_and_sd(index):
    _, before, after = GROUPS[index]
    for row, (mean, sd) in ((before, METAFOR_MEAN_SD[index][:2]), (after, METAFOR_MEAN_SD[index][2:])):
        got_mean, got_sd, _ = group_mean_sd(pd.Series(row).reindex(_published([]).columns[3:]))
        assert got_mean == pytest.approx(mean, rel=1e-10) and got_sd == pytest.approx(sd, rel=1e-10)


def test_before_after_effects_equal_escalc_rom():
    effects = summary_effects(_before_after(), kpi_catalog()).set_index("case_id")
    # cycle time: lower is better, so the direction-aware effect is minus the log ratio
    assert (-effects["effect"]).to_numpy() == pytest.approx(METAFOR_ROM_YI, rel=1e-10)
    assert (effects["effect_se"] ** 2).to_numpy() == pytest.approx(METAFOR_ROM_VI, rel=1e-9)
    assert effects["pooled"].all() and (effects["design"] == "published before/after").all()
    assert effects.loc["case-0", "improvement"] == pytest.approx(25.0, abs=0.01)  # 120 -> 90 days: 25% better


def test_an_interval_scale_before_after_is_escalc_md():
    # escalc(measure="MD", m1i=38, sd1i=20, n1i=30, m2i=25, sd2i=22, n2i=28): yi 13, vi 30.619047619048
    rows = _published([_row("x", "nps", "before", n=28, mean=25, sd=22), _row("x", "nps", "after", n=30, mean=38, sd=20)])
    row = summary_effects(rows, kpi_catalog()).iloc[0]
    assert row["effect"] == pytest.approx(13.0) and row["effect_se"] ** 2 == pytest.approx(30.619047619048)
    assert row["improvement_unit"] == "points"


def test_a_change_with_its_interval_equals_conv_wald():
    rows = _published([_row("x", "cost_variance", "change", mean=-30, ci_low=-45, ci_high=-12)])
    row = summary_effects(rows, kpi_catalog()).iloc[0]
    assert -row["effect"] == pytest.approx(METAFOR_WALD[0], rel=1e-10)
    assert row["effect_se"] ** 2 == pytest.approx(METAFOR_WALD[1], rel=1e-9)
    assert row["design"] == "published change" and row["improvement"] == pytest.approx(30.0)


def test_a_change_with_its_range_across_organizations_equals_conv_fivenum_on_the_log_scale():
    rows = _published([_row("x", "cost_variance", "change", n=29, median=-20, min=-45, max=5)])
    row = summary_effects(rows, kpi_catalog()).iloc[0]
    assert -row["effect"] == pytest.approx(METAFOR_CHANGE_RANGE[0], rel=1e-10)
    assert row["effect_se"] == pytest.approx(METAFOR_CHANGE_RANGE[1] / np.sqrt(29), rel=1e-10)


def test_summaries_pool_as_rma_does():
    rows = pd.concat([_before_after(),
                      _published([_row("w", "cycle_time", "change", mean=-30, ci_low=-45, ci_high=-12),
                                  _row("r", "cycle_time", "change", n=29, median=-20, min=-45, max=5)])])
    effects = summary_effects(rows, kpi_catalog())
    result = meta_analysis(-effects["effect"], effects["effect_se"] ** 2, method="DL", test="z")
    assert (result.estimate, result.se, result.tau2, result.q) == pytest.approx(METAFOR_RMA, rel=1e-8, abs=1e-12)


def test_skewed_five_numbers_are_described_not_pooled():
    # conv.fivenum(min=log(0.20), median=log(0.66), max=log(0.97), n=29) gives NA: Shi et al.'s test rejects
    assert np.isnan(fivenum_mean_sd(29, np.log(0.66), low=np.log(0.20), high=np.log(0.97))[0])
    rows = _published([_row("x", "cost_variance", "change", n=29, median=-34, min=-80, max=-3)])
    row = summary_effects(rows, kpi_catalog()).iloc[0]
    assert not row["pooled"] and np.isnan(row["effect_se"]) and "skewed" in row["note"]


def test_a_summary_without_spread_gets_no_variance():
    rows = _published([_row("x", "cycle_time", "before", n=9, mean=40), _row("x", "cycle_time", "after", n=8, mean=30),
                       _row("y", "cost_variance", "change", mean=-25)])
    effects = summary_effects(rows, kpi_catalog())
    assert not effects["pooled"].any() and effects["effect_se"].isna().all()
    assert effects["improvement"].round(6).tolist() == [25.0, 25.0]


def test_motorolas_trends_by_level_equal_r_lm():
    # lm(log(y) ~ level, weights = n) on Diaz & Sligo (1997), Table 1; summary(f)$coefficients["level", ]
    reference = {"in_process_defects": (-0.657693356832, 0.004461717799),
                 "cycle_time_factor": (0.394541467586, 0.028777852502),
                 "relative_productivity": (0.390878055826, 0.101198468103)}
    portfolio = ck.load_cases(CASES, case_ids=["motorola-ged"])
    trends = level_trends(portfolio.published, portfolio.kpi_definitions).set_index("kpi")
    for kpi, (slope, p) in reference.items():
        sign = -1 if trends.at[kpi, "better"] == "lower" else 1
        assert np.log1p(sign * trends.at[kpi, "per_level"] / 100) == pytest.approx(slope, rel=1e-10)
        assert trends.at[kpi, "p_value"] == pytest.approx(p, rel=1e-8)
    # confint(f): level -0.847349916594 to -0.468036797071, as improvement per level
    assert trends.loc["in_process_defects", ["per_level_ci_low", "per_level_ci_high"]].tolist() == pytest.approx(
        [100 * (1 - np.exp(-0.468036797071)), 100 * (1 - np.exp(-0.847349916594))], rel=1e-9)


def test_the_motorola_case_is_table_1_as_printed():
    published = ck.load_cases(CASES, case_ids=["motorola-ged"]).published
    table = published.assign(level=published["group"].str[-1].astype(int)).pivot(index="level", columns="kpi",
                                                                                values="mean")
    assert table["in_process_defects"].dropna().tolist() == [890, 411, 205, 126]
    assert table["cycle_time_factor"].tolist() == [1.0, 3.2, 2.7, 5.0, 7.8]
    assert table["relative_productivity"].dropna().tolist() == [1.0, 0.8, 2.3, 2.8]
    projects = published.drop_duplicates("group").set_index("group")["n"]
    assert projects.to_dict() == {"level 1": 3, "level 2": 9, "level 3": 5, "level 4": 8, "level 5": 9}
    assert projects.sum() == 34  # the article's 34 projects


def _copy_cases(tmp_path: Path, extra: dict[str, str]) -> Path:
    folder = tmp_path / "cases"
    shutil.copytree(CASES, folder)
    published = folder / "acme-published"
    published.mkdir()
    (published / "case.yaml").write_text(
        "id: acme-published\nname: Acme (published)\nsector: Technology\nregion: Europe\nsource: published\n"
        "reference: A. Author, A report, 2020, p. 4.\nsummary: Before and after, as published.\n")
    for name, text in extra.items():
        (published / name).write_text(text)
    return folder


def test_a_published_case_pools_beside_the_series_and_is_marked_in_the_forest_plot(tmp_path):
    folder = _copy_cases(tmp_path, {"results.csv": "kpi,group,n,mean,sd,location\n"
                                                   "defect_density,before,14,2.4,0.8,Table 2\n"
                                                   "defect_density,after,16,1.7,0.6,Table 2\n"})
    comparison = ck.compare_portfolio(ck.load_cases(folder))
    rows = comparison.effects[comparison.effects["kpi"] == "defect_density"]
    assert rows["design"].value_counts().to_dict() == {"time series": 5, "published before/after": 1}
    assert comparison.tests().set_index("kpi").at["defect_density", "k"] == 6
    by_design = comparison.subgroups("design").query("kpi == 'defect_density'")
    assert sorted(by_design["design"]) == ["published before/after", "time series"]
    reported = comparison.as_reported().set_index(["case_id", "kpi"]).loc[("acme-published", "defect_density")]
    assert reported["verdict"] == "reported" and reported["improvement"] == pytest.approx(
        100 * (1 - 1.7 / 2.4), abs=0.5)
    ax = ck.plots.forest_plot(comparison.as_reported().query("kpi == 'defect_density' and usable"),
                              comparison.tests().set_index("kpi").loc["defect_density"])
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert "Acme (published) (published)" in labels
    assert "published case study (CI)" in ax.get_legend_handles_labels()[1]
    assert "Pooled beside them: 1 result(s) reported by 1 published case study" in comparison.findings().headline
    matplotlib.pyplot.close("all")


def test_a_case_with_its_own_series_of_a_kpi_is_pooled_once(tmp_path):
    folder = tmp_path / "cases"
    shutil.copytree(CASES, folder)
    case = folder / "quantia-tech"
    (case / "case.yaml").write_text((case / "case.yaml").read_text().replace("source: illustrative",
                                                                            "source: published"))
    (case / "results.csv").write_text("kpi,group,n,mean,ci_low,ci_high\ndefect_density,change,,-40,-55,-20\n")
    effects = ck.compare_portfolio(ck.load_cases(folder)).effects
    rows = effects.query("case_id == 'quantia-tech' and kpi == 'defect_density'").set_index("design")
    assert rows.at["time series", "usable"] and not rows.at["published change", "usable"]
    assert not ck.compare_case(ck.load_cases(folder), "quantia-tech").reported["pooled"].any()


REFUSALS = [
    ("kpi,group,mean,sd\ncycle_time,before,40,5\ncycle_time,after,30,4\n", "n", "needs the number of projects"),
    ("kpi,group,n,mean,ci_low,ci_high\ncost_variance,change,,-30,-60,-40\n", "ci_low", "does not contain its estimate"),
    ("kpi,group,n,min,max\ncost_variance,change,20,-50,-10\n", "mean", "a spread with no centre"),
    ("kpi,group,n,mean\ncycle_time,before,5,40\n", "group", "no 'after' row"),
    ("kpi,group,n,median,min,max\ncycle_time,before,5,40,50,60\ncycle_time,after,5,30,20,40\n", "median",
     "expected min ≤ q1 ≤ median"),
    ("kpi,group,n,mean\ncost_variance,change,,-120\n", "mean", "-100% or less"),
    ("kpi,group,n,mean\nhappiness,level 2,4,3\nhappiness,level 3,4,5\n", "kpi", "unknown KPI"),
    ("kpi,group,n,mean\ncycle_time,level 3,4,30\n", "group", "one maturity level"),
    ("kpi,group,n,mean\ncycle_time,stage 2,4,30\n", "group", "expected one of before"),
    ("kpi,group,n,mean,ci_low\ncycle_time,change,,-30,-40\n", "ci_high", "ci_low is given without ci_high"),
    ("kpi,group,n,mean\ncycle_time,before,4,34%\ncycle_time,after,4,30\n", "mean", "write 34 for 34%"),
]


@pytest.mark.parametrize("text, field, words", REFUSALS, ids=[r[2] for r in REFUSALS])
def test_a_broken_results_file_is_refused_with_its_line_field_and_fix(tmp_path, text, field, words):
    folder = _copy_cases(tmp_path, {"results.csv": text})
    problems = [p for p in ck.validate_cases(folder) if "acme-published" in p.path]
    assert problems and problems[0].path.endswith("results.csv") and problems[0].line
    assert problems[0].field == field and words in problems[0].message, [str(p) for p in problems]


def test_results_belong_to_a_published_case(tmp_path):
    folder = _copy_cases(tmp_path, {"results.csv": "kpi,group,n,mean\ncost_variance,change,,-30\n"})
    case_yaml = folder / "acme-published" / "case.yaml"
    case_yaml.write_text(case_yaml.read_text().replace("source: published", "source: client"))
    messages = [str(p) for p in ck.validate_cases(folder) if "acme-published" in p.path]
    assert any("set source: published" in m for m in messages)
    assert any("kpis.csv: required file is missing" in m for m in messages)  # and a client case needs its series


def test_a_published_case_of_summaries_only_renders_its_own_report(tmp_path):
    portfolio = ck.load_cases(CASES, case_ids=["motorola-ged"])
    comparison = ck.compare_case(portfolio, "motorola-ged")
    assert comparison.table.empty and len(comparison.levels) == 3
    text = comparison.summary().text
    assert "published case study" in text and "In-process defects by maturity level: 890" in text
    block = ck.published.published_block(comparison.reported, comparison.levels, portfolio, heading="Published")
    assert "Michael Diaz and Joseph Sligo" in block.text and "cross-sectional" in block.text
    assert "no adoption month" in ck.presentation.roi_table(comparison.roi()).text
    assert comparison.specifications().empty and comparison.placebos().empty


def test_casekit_new_published_makes_a_case_that_validates_and_warns_until_edited(tmp_path):
    folder = ck.new_case("acme-paper", tmp_path / "cases", published=True)
    assert sorted(p.name for p in folder.iterdir()) == ["case.yaml", "results.csv"]
    assert ck.validate_cases(tmp_path / "cases") == []
    from casekit.inputs.cautions import case_warnings

    warned = {(Path(w.path).name, w.field) for w in case_warnings(tmp_path / "cases")}
    assert {("case.yaml", "name"), ("case.yaml", "reference"), ("results.csv", "")} <= warned
    comparison = ck.compare_case(ck.load_cases(tmp_path / "cases"), "acme-paper")  # no own KPI, no series
    assert set(comparison.reported["design"]) == {"published before/after", "published change"}
    assert comparison.levels["kpi"].tolist() == ["defect_density"]
