"""The reader's views of casekit's tables (casekit.report.presentation): what an executive sees in a report."""

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import edit

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]
NOT_FOR_READERS = re.compile(r"\bNaN\b|<NA>|\bnan\b|\bNone\b|e[+-]\d\d\b")


@pytest.fixture(scope="module")
def pf():
    return ck.load_cases(ROOT / "cases")


def test_the_heading_names_the_organization_and_escapes_its_text(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "name: Acme Software", "name: \"<script>alert(1)</script> & Co\"")
    heading = ck.presentation.case_heading(ck.load_cases(case_dir), "acme")
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</h1>" in heading._repr_html_()
    assert heading.text.splitlines()[0] == "<script>alert(1)</script> & Co"


@pytest.mark.parametrize("alpha, level", [(0.05, "95% CI"), (0.1, "90% CI")])
def test_every_interval_carries_its_own_confidence_level(pf, alpha, level):
    summary = ck.compare_case(pf, "northwood-paper", alpha=alpha).summary()
    compared = ck.compare_case(pf, "northwood-paper", alpha=alpha).table
    table = ck.presentation.comparison_table(compared, alpha=alpha)
    goals = ck.presentation.goals_table(ck.compare_case(pf, "northwood-paper", alpha=alpha).goals(), compared, alpha=alpha)
    money = ck.presentation.roi_table(ck.compare_case(pf, "northwood-paper", alpha=alpha).roi(), compared, alpha=alpha)
    across = [ck.presentation.tests_table(ck.compare_portfolio(pf, alpha=alpha).tests(), pf, alpha=alpha),
              ck.presentation.ranking_table(ck.compare_portfolio(pf, alpha=alpha).effects, pf, alpha=alpha),
              ck.presentation.subgroup_table(ck.compare_portfolio(pf, alpha=alpha).subgroups(), pf, "sector", alpha=alpha)]
    assert f"({level} " in summary.text and f"<th>{level}</th>" in table.html
    assert f"Achieved ({level})" in goals.html and f"Benefit, {level}" in money.html
    assert all(level in block.html for block in across)
    other = "95% CI" if level == "90% CI" else "90% CI"
    assert other not in "".join(b.text + b.html for b in [summary, table, goals, money, *across])


def test_the_summary_groups_improved_and_worsened_first_and_keeps_the_findings_lines(pf):
    summary = ck.compare_case(pf, "northwood-paper").summary()
    lines = [line.removeprefix("- ") for line in summary.text.splitlines()]
    assert sorted(lines) == sorted(ck.compare_case(pf, "northwood-paper").findings().sentences)
    assert lines[1].startswith("Schedule variance: improved")  # the one improved KPI, right after the headline
    html = summary.html
    assert html.index("<h3>Improved</h3>") < html.index("<h3>No clear change</h3>") < html.index("<h3>Business goals")


def test_tables_have_no_index_no_nan_and_readable_numbers(pf):
    table = ck.compare_case(pf, "northwood-paper").table
    goals = ck.compare_case(pf, "northwood-paper").goals()
    blocks = [ck.presentation.comparison_table(table), ck.presentation.goals_table(goals, table), ck.presentation.investment_table(pf, "northwood-paper"),
              ck.presentation.roi_table(ck.compare_case(pf, "northwood-paper").roi(), table)]
    for block in blocks:
        assert not NOT_FOR_READERS.findall(block.html), NOT_FOR_READERS.findall(block.html)
        assert "<th></th>" not in block.html and '<th class="text"></th>' not in block.html  # no index column
    money = blocks[3].text
    # the investment as recorded; estimates to three significant figures, the precision they have
    assert "480,000 USD" in money and "1,460,000 USD" in money and "18 months after the adoption start" in money
    assert "Schedule variance, Cost variance" in money  # labels, not ids
    assert "120,000" in blocks[2].text and "Amounts in USD" in blocks[2].text


def test_goal_targets_and_results_read_in_the_same_direction(pf):
    table = ck.compare_case(pf, "northwood-paper").table
    goals = ck.presentation.goals_table(ck.compare_case(pf, "northwood-paper").goals(), table)
    # case.yaml asks for schedule variance -35%: lower is better, so the reader sees an improvement of 35%
    assert "35% better" in goals.text and "-35" not in goals.text
    assert "Deliver mill-system changes when promised to operations" in goals.text  # never cut with "…"


def test_p_values_read_as_a_reader_expects():
    from casekit.report.presentation import p_value

    assert [p_value(p) for p in (0.0000788, 0.04213, 1.0, float("nan"))] == ["< 0.001", "0.042", "> 0.999", "—"]


def test_the_portfolio_heading_names_its_cases_or_sums_them_up(pf):
    heading = ck.presentation.portfolio_heading(pf)
    assert heading.text.startswith("Portfolio of 8 organizations")
    assert all(name in heading.text for name in pf.cases["name"])
    many = ck.simulate_portfolio(40, 0.1, seed=3, months_before=12, months_after=12)
    assert ck.presentation.portfolio_heading(many).text.startswith("Portfolio of 40 organizations")


def test_a_ranking_of_many_shows_the_top_and_bottom_and_counts_the_rest():
    many = ck.simulate_portfolio(40, 0.1, seed=4, kpis=("defect_density",), months_before=12, months_after=12)
    effects = ck.compare_portfolio(many).effects
    text = ck.presentation.ranking_table(effects, many).text
    assert "… 30 more" in text and len(text.splitlines()) == 1 + 11


def test_portfolio_tables_read_cleanly(pf):
    tests = ck.compare_portfolio(pf).tests()
    blocks = [ck.presentation.tests_table(tests, pf), ck.presentation.overview_table(pf), ck.presentation.ranking_table(ck.compare_portfolio(pf).effects, pf),
              ck.presentation.subgroup_table(ck.compare_portfolio(pf).subgroups(), pf, "sector"), ck.presentation.dose_table(ck.compare_portfolio(pf).dose()),
              ck.compare_portfolio(pf).summary()]
    for block in blocks:
        assert not NOT_FOR_READERS.findall(block.html), (block.text[:200], NOT_FOR_READERS.findall(block.html))
    assert "p (Holm-adjusted)" in blocks[0].html and "ML2 → ML3" in blocks[1].text
    assert "Measured by one organization only" in blocks[0].html


def test_long_tables_fold_what_is_past_the_first_rows():
    from casekit.report.presentation import DETAIL_ROWS

    block = ck.presentation.reader_table(pd.DataFrame({"n": range(DETAIL_ROWS + 7)}))
    assert block.html.count("<tr>") == DETAIL_ROWS + 7 + 2  # two header rows: the table and the folded one
    assert "<summary>7 more rows</summary>" in block.html


def test_a_level_target_reads_as_the_case_wrote_it(pf):
    # chemhaven-specialty: hold IT spending at most 3% of revenue (lower is better)
    table = ck.compare_case(pf, "chemhaven-specialty").table
    goals = ck.presentation.goals_table(ck.compare_case(pf, "chemhaven-specialty").goals(), table)
    assert "at most 3% of revenue" in goals.text
    line = next(x for x in ck.compare_case(pf, "chemhaven-specialty").findings().sentences if x.startswith("Goal G3"))
    assert "2.8% of revenue in the first year" in line and "against a target of at most 3% of revenue." in line


def test_a_table_of_thousands_keeps_a_page_readable():
    from casekit.report.presentation import MAX_ROWS

    block = ck.presentation.reader_table(pd.DataFrame({"n": range(10_000)}))
    assert block.html.count("<tr>") == MAX_ROWS + 2 and "9,500 more rows are left out" in block.html
    assert len(block.text.splitlines()) == MAX_ROWS + 2


def test_the_portfolio_headline_reconciles_in_plain_words():
    import re

    comparison = ck.compare_portfolio(ck.load_cases(ROOT / "cases"))
    headline = comparison.findings().headline
    # no statistics' names in the headline: they are in the details
    assert not re.search(r"Holm|I²|random-effects|meta-analys|p [=<]|tau", headline), headline
    assert headline.startswith("Organization by organization, 8 of 8 improved at least one KPI")
    # the counts are the case reports' own
    portfolio = comparison.portfolio
    counts = [ck.compare_case(portfolio, case_id).findings().counts for case_id in portfolio.cases["case_id"]]
    improved, worsened = (sum(c.get(v, 0) for c in counts) for v in ("improved", "worsened"))
    assert f"{improved} of their 37 KPI results improved and {worsened} worsened in their case reports" in headline
    assert "none of the 10 KPIs measured by two or more shows a clear change" in headline
    # a KPI that improved in several organizations but not across them is explained
    assert re.search(r"improved in \d of \d organizations but not clearly across them: only \d organizations", headline)
    block = comparison.summary()
    first = block.html.split("<details>")[0]
    assert headline.replace("'", "&#x27;") in first and "Holm" not in first
    assert "Holm-adjusted p" in block.html.split("<details>")[1]  # the tests' details, folded


def test_the_headline_says_why_a_kpi_improved_in_cases_is_not_clear_across_them():
    from casekit.stats.findings import plain_headline

    tests = pd.DataFrame({"kpi": ["cycle_time", "nps"], "k": [6, 5], "verdict": "no clear change",
                          "improvement_unit": ["%", "points"], "pooled_improvement": [18.0, 4.0],
                          "pooled_ci_low": [2.0, -9.0], "pooled_ci_high": [31.0, 17.0], "i2": [0.1, 0.8],
                          "p_value": [0.02, 0.3]})
    effects = pd.DataFrame({"case_id": [f"org-{i}" for i in range(6)] * 2, "kpi": ["cycle_time"] * 6 + ["nps"] * 6,
                            "usable": True, "p_value": [0.001] * 4 + [0.5] * 2 + [0.001] * 2 + [0.6] * 4,
                            "improvement": [10.0] * 12})
    headline = plain_headline(tests, effects, {"cycle_time": "Cycle time", "nps": "NPS"}, 6)
    assert "Cycle time improved in 4 of 6 organizations but not clearly across them: its average, +18.0%, " \
           "would count on its own, but not once 2 KPIs are judged together" in headline
    assert "NPS improved in 2 of 5 organizations but not clearly across them: the organizations' results " \
           "disagree with each other" in headline


def test_every_reader_table_follows_one_number_policy(pf):
    """Over every table a report shows: no scientific notation, no more than three decimals (p-values), effects
    of interval-scale KPIs in points, levels with the unit's own precision."""
    import re

    pres = ck.presentation
    blocks = []
    for case_id in pf.cases["case_id"]:
        comparison = ck.compare_case(pf, case_id)
        blocks += [pres.comparison_table(comparison.table), pres.goals_table(comparison.goals(), comparison.table),
                   pres.roi_table(comparison.roi(), comparison.table), pres.investment_table(pf, case_id),
                   comparison.summary()]
    across = ck.compare_portfolio(pf)
    blocks += [pres.tests_table(across.tests(), pf), pres.ranking_table(across.effects, pf),
               pres.category_table(across.categories()), pres.dose_table(across.dose(by="category")),
               across.summary()]
    blocks += [pres.subgroup_table(across.subgroups(by), pf, by) for by in ("sector", "maturity_latest")]
    for block in blocks:
        text = re.sub(r"\d{4}-\d{2}(-\d{2})?", "", block.text)  # dates are not numbers
        assert not re.search(r"\d\.?\d*e[-+]\d", text), re.findall(r"\S*\d\.?\d*e[-+]\d\S*", text)[:3]
        assert not re.search(r"\d\.\d{4,}", text), re.findall(r"\S*\d\.\d{4,}\S*", text)[:3]
        assert not re.search(r"\d \%", text), re.findall(r"\S* \%\S*", text)[:3]  # 71.4%, never 71.4 %
        for line in text.splitlines():
            if "Net Promoter Score" in line:
                assert not re.search(r"[+-]\d+\.\d%", line), line  # NPS moves in points


def test_an_organizations_kpi_reads_the_same_in_its_case_report_and_in_the_portfolio(pf):
    """One interval per organization and KPI: the portfolio's ranking and charts show each case report's own."""
    reported = ck.compare_portfolio(pf).as_reported()
    for case_id in ("quantia-tech", "ironforge-industrial"):
        case = ck.compare_case(pf, case_id).table.set_index("kpi")
        rows = reported[reported["case_id"] == case_id].set_index("kpi")
        for kpi in case.index.intersection(rows.index):
            assert rows.loc[kpi, ["improvement", "ci_low", "ci_high"]].tolist() == pytest.approx(
                case.loc[kpi, ["improvement", "ci_low", "ci_high"]].tolist(), nan_ok=True), (case_id, kpi)
            assert rows.loc[kpi, "verdict"] == case.loc[kpi, "verdict"]
    ranking = ck.presentation.ranking_table(reported, pf).text
    quantia = ck.compare_case(pf, "quantia-tech").table.set_index("kpi").loc["defect_density"]
    shown = ck.presentation.interval(quantia["ci_low"], quantia["ci_high"])
    assert any("Quantia Software" in line and shown in line for line in ranking.splitlines()), shown
