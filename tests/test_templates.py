"""casekit new's example data never passes as the organization's: validation warns, import removes or names it."""

from __future__ import annotations

from pathlib import Path

import casekit as ck
from casekit.inputs.cautions import case_warnings


def _new(tmp_path: Path) -> Path:
    return ck.new_case("our-org", tmp_path / "cases")


def test_every_example_file_left_as_the_template_wrote_it_is_a_warning(tmp_path):
    folder = _new(tmp_path)
    warnings = [str(w) for w in case_warnings(folder.parent)]
    for name in ("kpis.csv", "appraisals.csv", "practice_areas.csv"):
        assert any(f"{name}: warning: still the template's example data" in w for w in warnings), (name, warnings)
    assert ck.validate_cases(folder.parent) == []  # warnings, not problems


def test_capability_levels_dated_after_the_data_are_a_warning(tmp_path):
    folder = _new(tmp_path)
    (folder / "practice_areas.csv").write_text("date,practice_area,capability_level\n2031-01-15,PLAN,2\n",
                                               encoding="utf-8")
    warnings = [str(w) for w in case_warnings(folder.parent)]
    assert any("practice_areas.csv" in w and "2031-01-15, after the KPI data ends" in w for w in warnings), warnings


def test_import_with_force_removes_the_example_capability_levels_and_names_the_example_appraisals(tmp_path):
    folder = _new(tmp_path)
    source = tmp_path / "kpis.csv"
    rows = [f"2021-{m:02d},defect_density,{4 + m / 10}" for m in range(1, 13)]
    source.write_text("period,kpi,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = ck.import_kpis(source, folder, force=True)
    assert not (folder / "practice_areas.csv").exists()
    assert any("removed practice_areas.csv: it was casekit new's example" in note for note in result.notes)
    assert any(note.startswith("appraisals.csv is still casekit new's example data") for note in result.notes)
    kept = [str(w) for w in case_warnings(folder.parent)]
    assert any("appraisals.csv: warning: still the template's example data" in w for w in kept)
    assert not any("kpis.csv: warning" in w for w in kept)


def test_a_file_the_user_changed_is_never_removed(tmp_path):
    folder = _new(tmp_path)
    mine = (folder / "practice_areas.csv").read_text(encoding="utf-8") + "2025-03-10,CAR,2\n"
    (folder / "practice_areas.csv").write_text(mine, encoding="utf-8")
    source = tmp_path / "kpis.csv"
    source.write_text("period,kpi,value\n2024-01,defect_density,4\n2024-02,defect_density,5\n", encoding="utf-8")
    ck.import_kpis(source, folder, force=True)
    assert (folder / "practice_areas.csv").read_text(encoding="utf-8") == mine
