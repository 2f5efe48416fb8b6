"""Each validation rule: a broken example, and the problem names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import edit, line_of

import casekit as ck

YAML, KPIS, APPR, PRAC = "case.yaml", "kpis.csv", "appraisals.csv", "practice_areas.csv"

# (file, old text, new text, expected field, fragment of the message,
#  text on the expected line, or (text, n) for its n-th occurrence)
RULES = [
    # case.yaml: required fields, types, choices
    (YAML, "region: Europe\n", "", "region", "required field is missing", None),
    (YAML, "id: acme", "id: Acme_1", "id", "lowercase letters", "id: Acme_1"),
    (YAML, "id: acme", "id: other", "id", "must equal the folder name 'acme'", "id: other"),
    (YAML, "size: 120", "size: many", "size", "expected a whole number", "size: many"),
    (YAML, "size: 120", "size: 0", "size", "expected a number >= 1", "size: 0"),
    (YAML, "source: client", "source: blog", "source", "expected one of illustrative, published, client", "source:"),
    (YAML, "name: Acme Software", "name: no", "name", "expected text, got a yes/no value", "name: no"),
    (YAML, "summary: A small", "sumary: A small", "sumary", "unknown field", "sumary:"),
    (YAML, "currency: EUR", "currency: euro", "currency", "ISO 4217", "currency:"),
    (YAML, "  start: 2020-01", "  start: 2020-13", "adoption.start", "expected a month YYYY-MM", "start:"),
    (YAML, "  start: 2020-01", "  start: 2020-01-15", "adoption.start", "expected a month YYYY-MM", "start:"),
    (YAML, "  model: CMMI V2.0", "  model: CMMI V9", "adoption.model", "expected one of CMMI-DEV", "model:"),
    (YAML, "  transition_months: 3", "  transition_months: -1", "adoption.transition_months", ">= 0", "transition_months"),
    (YAML, "  transition_months: 3", "  transition_months: 48", "adoption.transition_months", "at most 36", "transition_months"),
    # adoption start against the data
    (YAML, "  start: 2020-01", "  start: 2024-01", "adoption.start", "outside the KPI data", "start:"),
    (YAML, "  start: 2020-01", "  start: 2019-03", "adoption.start", "to form a baseline", "start:"),
    # business goals
    (YAML, "kpis: [defect_density]", "kpis: [defect_rate]", "business_goals[0].kpis[0]", "unknown KPI 'defect_rate'", "defect_rate"),
    (YAML, "change_pct: -20", "change_pct: 20", "business_goals[0].target.change_pct", "must be negative", "change_pct"),
    (YAML, "      kpi: review_coverage", "      kpi: cycle_time", "business_goals[1].target.kpi", "not one of the goal's KPIs", "kpi: cycle_time"),
    (YAML, "      value: 90", "      value: 140", "business_goals[1].target.value", "ranges over [0, 100]", "value: 140"),
    (YAML, "      kpi: review_coverage\n", "", "business_goals[1].target.kpi", "name the one the target is for", ("target:", 2)),
    (YAML, "kpis: [defect_density]", "kpis: [lead_time]", "business_goals[0].kpis[0]", "kpis.csv has no rows for lead_time", "lead_time"),
    # investments
    (YAML, "amount: 10000", "amount: -5", "investments[0].amount", "expected a number >= 0", "amount:"),
    (YAML, "category: training", "category: snacks", "investments[0].category", "expected one of appraisal", "category: snacks"),
    (YAML, "period: 2020-Q1", "period: 2020-Q5", "investments[0].period", "expected YYYY-MM or YYYY-Qn", "period:"),
    # the case's own KPI definitions
    (YAML, "better: higher", "better: up", "kpis.review_coverage.better", "expected one of higher, lower", "better: up"),
    (YAML, "category: quality", "category: morale", "kpis.review_coverage.category", "expected one of cost", "category: morale"),
    (YAML, "  review_coverage:\n    label", "  cycle_time:\n    label", "kpis.cycle_time", "already defined in casekit's KPI catalog", "cycle_time:"),
    # kpis.csv
    (KPIS, "2019-05,defect_density", "2019-13,defect_density", "period", "expected a month YYYY-MM or a quarter YYYY-Qn", "2019-13"),
    (KPIS, "2019-05,defect_density,4.05", "2019-05,defect_density,abc", "value", "expected a finite number, got 'abc'", ",abc"),
    (KPIS, "2019-05,defect_density,4.05", "2019-05,defect_density,", "value", "leave the row out", "2019-05,defect_density,"),
    (KPIS, "2019-05,defect_density,4.05", "2019-05,defect_density,inf", "value", "expected a finite number", ",inf"),
    (KPIS, "2019-05,defect_density,4.05", "2019-05,defect_density,-1", "value", "ranges over [0, inf]", ",-1"),
    (KPIS, "2019-05,review_coverage,60.5", "2019-05,review_coverage,140", "value", "ranges over [0, 100]", ",140"),
    (KPIS, "2019-05,defect_density,4.05", "2019-05,defect_rate,4.05", "kpi", "unknown KPI 'defect_rate'", "defect_rate"),
    (KPIS, "2019-05,defect_density,4.05", "2019-04,defect_density,4.05", "period", "duplicate row for defect_density in 2019-04; first given on line", "2019-04,defect_density,4.05"),
    (KPIS, "2019-05,defect_density,4.05", "2019-Q2,defect_density,4.05", "period", "mixes monthly and quarterly", "2019-Q2"),
    (KPIS, "2019-05,defect_density,4.05", "2019-05,defect_density,4.05,x", "", "expected 3 fields", ",4.05,x"),
    (KPIS, "period,kpi,value", "period,kpi,vlaue", "value", "missing column", "period,kpi"),
    (KPIS, "period,kpi,value", "period,kpi,value,comment", "comment", "unknown column", "period,kpi"),
    # appraisals.csv
    (APPR, "2020-12-07,Benchmark,3", "2020-12-07,Benchmark,6", "maturity_level", "expected a whole number 1-5", "Benchmark,6"),
    (APPR, "2020-12-07,Benchmark,3", "2020-12-07,Benchmark,", "maturity_level", "gives a maturity level 1-5; it is empty", "Benchmark,,"),
    (APPR, "2020-12-07,Benchmark,3", "2020-12-07,SCAMPI D,3", "method", "expected one of SCAMPI A", "SCAMPI D"),
    (APPR, "2020-12-07,Benchmark,3", "2020-02-30,Benchmark,3", "date", "not a real calendar date", "2020-02-30"),
    (APPR, "3,CMMI V2.0,IT", "3,CMMI 2,IT", "model", "expected one of CMMI-DEV", "CMMI 2"),
    # practice_areas.csv
    (PRAC, "2020-12-07,PR,2", "2020-12-07,PR,4", "capability_level", "expected a whole number 0-3", "PR,4"),
    (PRAC, "2020-12-07,PR,2", "2020-12-07,PLAN,2", "practice_area", "rated twice", "PLAN,2"),
    (PRAC, "2020-12-07,PR,2", "2020-12-07,,2", "practice_area", "expected the practice area", "2020-12-07,,2"),
]


def _ids(rule):
    return f"{rule[0]}:{rule[3] or 'row'}:{rule[4][:28]}"


@pytest.mark.parametrize("rule", RULES, ids=[_ids(r) for r in RULES])
def test_each_rule_names_file_line_and_field(case_dir: Path, rule):
    filename, old, new, field, message, line_text = rule
    path = case_dir / "acme" / filename
    edit(path, old, new)
    problems = ck.validate_cases(case_dir)
    matching = [p for p in problems if p.field == field and message in p.message]
    assert matching, f"no problem with field {field!r} and {message!r} in:\n" + "\n".join(map(str, problems))
    problem = matching[0]
    assert problem.path.endswith(str(Path("acme") / filename))
    if line_text is not None:
        needle, nth = line_text if isinstance(line_text, tuple) else (line_text, 1)
        assert problem.line == line_of(path, needle, nth)


def test_the_valid_case_has_no_problems(case_dir: Path):
    assert ck.validate_cases(case_dir) == []


def test_every_problem_is_reported_at_once(case_dir: Path):
    edit(case_dir / "acme" / YAML, "size: 120", "size: many")
    edit(case_dir / "acme" / KPIS, "2019-05,defect_density,4.05", "2019-05,defect_density,abc")
    edit(case_dir / "acme" / APPR, "Benchmark,3", "Benchmark,9")
    fields = {p.field for p in ck.validate_cases(case_dir)}
    assert {"size", "value", "maturity_level"} <= fields


def test_problem_reads_path_line_field_message(case_dir: Path):
    edit(case_dir / "acme" / YAML, "size: 120", "size: many")
    (problem,) = ck.validate_cases(case_dir)
    assert str(problem) == f"{problem.path}:5: size: expected a whole number, got str 'many'"


def test_missing_files(case_dir: Path):
    (case_dir / "acme" / APPR).unlink()
    (case_dir / "acme" / PRAC).unlink()  # optional: no problem
    problems = ck.validate_cases(case_dir)
    assert [(Path(p.path).name, p.message) for p in problems] == [(APPR, "required file is missing")]


def test_empty_csv(case_dir: Path):
    (case_dir / "acme" / KPIS).write_text("", encoding="utf-8")
    problems = ck.validate_cases(case_dir)
    assert any(Path(p.path).name == KPIS and "file is empty" in p.message for p in problems)


def test_header_only_csv(case_dir: Path):
    (case_dir / "acme" / APPR).write_text("date,method,maturity_level\n", encoding="utf-8")
    problems = ck.validate_cases(case_dir)
    assert any(Path(p.path).name == APPR and "no data rows" in p.message for p in problems)


def test_file_not_utf8_names_file_and_line(case_dir: Path):
    path = case_dir / "acme" / KPIS
    text = path.read_text(encoding="utf-8").replace("period,kpi,value", "period,kpi,value,note")
    lines = [line + "," for line in text.splitlines()]
    lines[0] = "period,kpi,value,note"
    lines[3] += "café"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    problems = ck.validate_cases(case_dir)
    (problem,) = [p for p in problems if "not UTF-8" in p.message]
    assert problem.path.endswith(KPIS) and problem.line == 4
    assert "0xe9" in problem.message


def test_utf8_with_bom_is_accepted(case_dir: Path):
    path = case_dir / "acme" / KPIS
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert ck.validate_cases(case_dir) == []


def test_yaml_tags_are_refused_and_never_executed(case_dir: Path, tmp_path: Path):
    marker = tmp_path / "executed"
    edit(case_dir / "acme" / YAML, "name: Acme Software", f"name: !!python/object/apply:os.system ['touch {marker}']")
    problems = ck.validate_cases(case_dir)
    assert not marker.exists()
    (problem,) = problems
    assert "YAML tag not allowed" in problem.message and problem.line == 2


def test_yaml_syntax_error_names_line(case_dir: Path):
    edit(case_dir / "acme" / YAML, "sector: Technology", "sector: [Technology")
    (problem,) = ck.validate_cases(case_dir)
    assert "YAML syntax error" in problem.message and problem.path.endswith(YAML)
    assert problem.line is not None and problem.line >= 3


def test_valid_yaml_is_read_with_libyaml_and_errors_worded_as_before(case_dir: Path, monkeypatch):
    import yaml

    pure = yaml.SafeLoader
    used = []
    monkeypatch.setattr(yaml, "SafeLoader", lambda text: used.append(text) or pure(text))
    assert ck.validate_cases(case_dir) == [] and used == []  # a valid case never needs the pure-Python loader
    edit(case_dir / "acme" / YAML, "sector: Technology", "sector: [Technology")
    (problem,) = ck.validate_cases(case_dir)
    assert len(used) == 1 and problem.message.startswith("YAML syntax error: while parsing a flow sequence")


def test_yaml_that_is_not_a_mapping(case_dir: Path):
    (case_dir / "acme" / YAML).write_text("- just\n- a list\n", encoding="utf-8")
    problems = ck.validate_cases(case_dir)
    assert any("expected a mapping of fields, got a list" in p.message for p in problems)


def test_cases_folder_missing_or_empty(tmp_path: Path):
    assert [p.message for p in ck.validate_cases(tmp_path / "nope")] == ["cases folder not found"]
    (tmp_path / "empty").mkdir()
    assert "no case folders found" in ck.validate_cases(tmp_path / "empty")[0].message


def test_hidden_and_underscore_folders_are_skipped(case_dir: Path):
    (case_dir / ".ipynb_checkpoints").mkdir()
    (case_dir / "_drafts").mkdir()
    assert ck.validate_cases(case_dir) == []


def test_quarterly_kpis_and_straddling_quarters(case_dir: Path):
    path = case_dir / "acme" / KPIS
    quarters = "".join(f"{y}-Q{q},customer_satisfaction,{70 + q}\n" for y in (2019, 2020) for q in range(1, 5))
    path.write_text(path.read_text(encoding="utf-8") + quarters, encoding="utf-8")
    assert ck.validate_cases(case_dir) == []
    pf = ck.load_cases(case_dir)
    csat = pf.kpis[pf.kpis["kpi"] == "customer_satisfaction"].set_index("period")["phase"]
    # adoption 2020-01 with a 3-month transition: 2020-Q1 is transition, 2020-Q2 after
    assert csat["2019-Q4"] == "before" and csat["2020-Q1"] == "transition" and csat["2020-Q2"] == "after"


def test_control_characters_in_yaml(case_dir: Path):
    edit(case_dir / "acme" / YAML, "sector: Technology", "sector: Tech\x00nology")
    (problem,) = ck.validate_cases(case_dir)
    assert problem.line == 3 and "is not allowed in YAML" in problem.message


@pytest.mark.parametrize("value", ["{a: 1}", "[[1, 2]]", "null", "7"])
def test_goal_kpis_of_the_wrong_shape(case_dir: Path, value: str):
    edit(case_dir / "acme" / YAML, "kpis: [defect_density]", f"kpis: [{value}]")
    problems = ck.validate_cases(case_dir)
    assert any(p.field == "business_goals[0].kpis[0]" and "unknown KPI" in p.message for p in problems)


def test_target_kpi_of_the_wrong_shape(case_dir: Path):
    edit(case_dir / "acme" / YAML, "      kpi: review_coverage", "      kpi: [review_coverage]")
    problems = ck.validate_cases(case_dir)
    assert any(p.field == "business_goals[1].target.kpi" and "expected a KPI name" in p.message for p in problems)


def test_a_full_width_duplicate_period_is_refused_not_loaded_as_another_month(tmp_path):
    import shutil

    from conftest import ROOT

    case = tmp_path / "cases" / "quantia-tech"
    shutil.copytree(ROOT / "cases" / "quantia-tech", case)
    kpis = case / "kpis.csv"
    line = next(row for row in kpis.read_text(encoding="utf-8").splitlines() if row.startswith("2017-02"))
    with open(kpis, "a", encoding="utf-8") as file:
        file.write(line.replace("2017-02", "２０１７-０２") + "\n")
    problems = [str(p) for p in ck.validate_cases(tmp_path / "cases")]
    assert len(problems) == 1 and "0-9" in problems[0] and "２０１７-０２" in problems[0]


def test_an_infinite_amount_is_a_problem_and_the_other_cases_still_render(tmp_path):
    import shutil

    from conftest import ROOT, FakeRunner

    cases = tmp_path / "cases"
    for name in ("quantia-tech", "northwood-paper", "voltcart-ecommerce"):
        shutil.copytree(ROOT / "cases" / name, cases / name)
    text = (cases / "quantia-tech" / "case.yaml").read_text(encoding="utf-8")
    first = text.index("amount:")
    end = text.index("\n", first)
    (cases / "quantia-tech" / "case.yaml").write_text(text[:first] + "amount: .inf" + text[end:], encoding="utf-8")
    assert any("finite number" in str(p) for p in ck.validate_cases(cases))
    table = ck.render(cases, tmp_path / "out", runner=FakeRunner(), progress=False).set_index("report")
    assert table.loc["quantia-tech", "status"] == "failed" and "finite number" in table.loc["quantia-tech", "error"]
    assert (table.drop("quantia-tech")["status"] == "ok").all()
