"""Workshop kit: learner and instructor renderings, `casekit simulate`, `casekit new`."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import casekit as ck

pytestmark = pytest.mark.slow  # `make test-fast` leaves these out; `make test` and CI run them

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = ROOT / "casekit" / "notebooks" / "workshop"
NAMES = sorted(p.stem for p in WORKSHOP.glob("*.ipynb"))


@pytest.fixture(scope="module")
def handouts(tmp_path_factory):
    out = tmp_path_factory.mktemp("workshop")
    result = subprocess.run([sys.executable, "-m", "casekit", "workshop", "--out", str(out), "--no-progress-bar"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return out


def test_at_least_three_notebooks_with_goals_exercises_and_solutions():
    assert len(NAMES) >= 3
    for name in NAMES:
        nb = nbformat.read(WORKSHOP / f"{name}.ipynb", as_version=4)
        text = "\n".join(cell.source for cell in nb.cells)
        assert "You will learn to" in text and "**Exercise 1.**" in text
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        exercises = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("exercise_")]
        assert len(solutions) >= 2 and len(exercises) == len(solutions)
        assert all("if solutions:" in c.source for c in solutions)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored without outputs


def test_both_renderings_exist_with_the_cases_they_read(handouts):
    shipped = sorted(p.name for p in (ROOT / "casekit" / "data" / "cases").iterdir())
    for audience in ("learner", "instructor"):
        guide = ["facilitator_guide.html", "facilitator_guide.md"] if audience == "instructor" else []
        assert sorted(p.name for p in (handouts / audience).iterdir()) == sorted(
            [f"{n}.{ext}" for n in NAMES for ext in ("html", "ipynb")] + ["cases"] + guide)
        assert sorted(p.name for p in (handouts / audience / "cases").iterdir()) == shipped
        for name in NAMES:
            nb = nbformat.read(handouts / audience / f"{name}.ipynb", as_version=4)
            code = "\n".join(cell.source for cell in nb.cells)  # no path of the machine that rendered it
            assert str(handouts) not in code and str(ROOT) not in code, name


def test_the_facilitator_guide_and_page_titles_are_in_the_output(handouts):
    import re

    guide = (handouts / "instructor" / "facilitator_guide.html").read_text(encoding="utf-8")
    assert "<title>Workshop: measuring whether CMMI improved anything — facilitator guide</title>" in guide
    assert "<table>" in guide and "01_read_a_case.ipynb" in guide  # the timing table, as a table
    assert (handouts / "instructor" / "facilitator_guide.md").read_text(encoding="utf-8") == \
        (WORKSHOP / "README.md").read_text(encoding="utf-8")
    manifest = json.loads((handouts / "manifest.json").read_text(encoding="utf-8"))
    assert "instructor/facilitator_guide.html" in manifest["files"]
    titles = set()
    for audience in ("learner", "instructor"):
        for name in NAMES:
            page = (handouts / audience / f"{name}.html").read_text(encoding="utf-8")
            title = re.search(r"<title>(.*?)</title>", page).group(1)
            assert title.startswith("Workshop ") and title.endswith(f"({audience})") and "minutes" not in title
            titles.add(title)
    assert len(titles) == 2 * len(NAMES)  # every page says which notebook and which audience


def test_exercises_use_only_columns_the_notebook_has_shown(handouts):
    """Each exercise names its columns in backticks; each must have been shown (in an output) or introduced
    (in the text) before the exercise."""
    import re

    for name in NAMES:
        nb = nbformat.read(handouts / "instructor" / f"{name}.ipynb", as_version=4)
        seen = ""
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.source.startswith("**Exercise"):
                named = set(re.findall(r"`([a-z_]+)` column|column `([a-z_]+)`|`([a-z_]+)`", cell.source))
                for column in {n for group in named for n in group if n}:
                    assert column in seen, (name, column)
            seen += cell.source + "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                                          + str(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", []))


def test_p_values_print_as_readers_write_them(handouts):
    import re

    for name in NAMES:
        nb = nbformat.read(handouts / "instructor" / f"{name}.ipynb", as_version=4)
        shown = "".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
                        for c in nb.cells for o in c.get("outputs", []))
        assert not re.search(r"\d\.\d+e-\d\d", shown), (name, re.findall(r"\S*\d\.\d+e-\d\d\S*", shown)[:3])
        assert "MetaResult(" not in shown  # a result is shown as a table, not as its repr


def test_the_xmr_lesson_agrees_with_the_verdict(handouts):
    nb = nbformat.read(handouts / "instructor" / "01_read_a_case.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "a reason to look, not a finding" in text and "signals a real shift" not in text
    solution = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []) and "exercise_3" in c.source)
    printed = "".join(o.get("text", "") for o in solution.outputs)
    verdict = ck.compare_case(ck.load_cases(ROOT / "casekit" / "data" / "cases"), "ironforge-industrial").table
    assert f"the verdict: {verdict.set_index('kpi').at['cycle_time', 'verdict']}" in printed


def test_learner_comments_describe_the_learner_copy(handouts):
    for name in NAMES:
        raw = (handouts / "learner" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "set solutions = True" not in raw and "run the solution cells" not in raw


def test_learner_renderings_hold_no_solution(handouts):
    for name in NAMES:
        source = nbformat.read(WORKSHOP / f"{name}.ipynb", as_version=4)
        solution_lines = {line.strip() for c in source.cells if "solution" in c.metadata.get("tags", [])
                          for line in c.source.splitlines()[2:] if len(line.strip()) > 20}
        learner = nbformat.read(handouts / "learner" / f"{name}.ipynb", as_version=4)
        assert not [c for c in learner.cells if "solution" in c.metadata.get("tags", [])]
        raw = (handouts / "learner" / f"{name}.ipynb").read_text(encoding="utf-8")
        page = (handouts / "learner" / f"{name}.html").read_text(encoding="utf-8")
        assert "if solutions:" not in raw and "# Solution" not in raw
        assert not [line for line in solution_lines if line in raw], name
        # exercise cells were left runnable, and ran
        exercises = [c for c in learner.cells if c.cell_type == "code" and c.source.startswith("exercise_")]
        assert exercises and all(c.execution_count for c in exercises)
        assert "Exercise 1." in page


def test_instructor_renderings_run_every_solution(handouts):
    for name in NAMES:
        nb = nbformat.read(handouts / "instructor" / f"{name}.ipynb", as_version=4)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert solutions and all(any(o.output_type == "stream" for o in c.outputs) for c in solutions), name
        assert nb.metadata.papermill.parameters["solutions"] is True


def test_both_renderings_run_under_nbval_after_being_moved(handouts, tmp_path: Path):
    # a learner unpacks the handout folder somewhere else, and runs it from there
    moved = tmp_path / "unpacked elsewhere"
    for audience in ("learner", "instructor"):
        shutil.copytree(handouts / audience, tmp_path / audience)
        (tmp_path / "unpacked elsewhere").mkdir(exist_ok=True)
        shutil.move(tmp_path / audience, moved / audience)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                             "--nbval-lax", str(moved / "learner"), str(moved / "instructor")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_workshop_takes_its_cases_from_cases(tmp_path: Path):
    from conftest import FakeRunner

    cases = tmp_path / "mine"
    for name in ("northwood-paper", "ironforge-industrial", "meridian-financial", "atlas-capital"):
        shutil.copytree(ROOT / "cases" / name, cases / name)
    runner = FakeRunner()
    table = ck.render_workshop(tmp_path / "out", cases_dir=cases, runner=runner, progress=False)
    assert (table["status"] == "ok").all() and len(table) == 2 * len(NAMES)
    for audience in ("learner", "instructor"):
        assert sorted(p.name for p in (tmp_path / "out" / audience / "cases").iterdir()) == sorted(
            p.name for p in cases.iterdir())
    for job in runner.jobs:
        assert job.parameters.get("cases_dir", "cases") == "cases" and job.cwd == job.out
        assert job.parameters["solutions"] is (Path(job.out).name == "instructor")


def test_an_invalid_case_is_listed_problem_by_problem(tmp_path: Path):
    cases = tmp_path / "mine"
    shutil.copytree(ROOT / "cases" / "northwood-paper", cases / "northwood-paper")
    (cases / "northwood-paper" / "appraisals.csv").write_text("date,method,maturity_level\n2020-01-01,SCAMPI A,7\n"
                                                              "2021-01-01,SCAMPI A,9\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "casekit", "workshop", "--cases", str(cases), "--out",
                             str(tmp_path / "out"), "--no-progress-bar"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all("appraisals.csv:" in line and "maturity_level" in line for line in lines), lines
    assert "2 problem(s) in" in result.stderr
    assert not (tmp_path / "out").exists()


def test_simulate_validate_compare_recovers_the_known_effect(tmp_path: Path):
    out = tmp_path / "sim"
    result = subprocess.run([sys.executable, "-m", "casekit", "simulate", "--orgs", "30", "--effect", "0.2",
                             "--seed", "5", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "wrote 30 cases" in result.stdout
    check = subprocess.run([sys.executable, "-m", "casekit", "validate", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    table = ck.compare_portfolio(ck.load_cases(out)).tests().set_index("kpi")
    # the mean true improvement of these 30 organizations (20% on average over many, 18.8% and 21.9% here)
    truth = ck.simulate_portfolio(30, 0.2, seed=5).truth.groupby("kpi")["true_improvement"].mean()
    for kpi in ("defect_density", "on_time_delivery"):
        assert f"{kpi} {truth[kpi]:.1f}%" in result.stdout
        assert table.loc[kpi, "pooled_ci_low"] < truth[kpi] < table.loc[kpi, "pooled_ci_high"], kpi
        assert table.loc[kpi, "verdict"] == "improved"


def test_simulate_refuses_a_folder_in_use(tmp_path: Path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "casekit", "simulate", "--orgs", "2", "--effect", "0.1",
                             "--seed", "1", "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "not empty" in result.stderr


def test_new_case_validates_as_shipped(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "casekit", "new", "acme-bank", "--cases", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ck.validate_cases(tmp_path) == []
    case_yaml = (tmp_path / "acme-bank" / "case.yaml").read_text(encoding="utf-8")
    assert "id: acme-bank" in case_yaml and case_yaml.count("#") > 20  # commented for the analyst
    pf = ck.load_cases(tmp_path)
    assert set(ck.compare_case(pf, "acme-bank").table["verdict"]) <= {"improved", "worsened", "no clear change"}
    assert json.dumps(sorted(p.name for p in (tmp_path / "acme-bank").iterdir())) == json.dumps(
        ["appraisals.csv", "case.yaml", "kpis.csv", "practice_areas.csv"])


@pytest.mark.parametrize("case_id", ["../escape", "Acme", "acme bank", "a/b", ""])
def test_new_case_refuses_unsafe_ids(tmp_path: Path, case_id: str):
    with pytest.raises(ValueError, match="lowercase letters"):
        ck.new_case(case_id, tmp_path / "cases")
    assert not (tmp_path / "escape").exists()


def test_new_case_folder_has_the_usual_permissions(tmp_path: Path):
    folder = ck.new_case("acme", tmp_path)
    (tmp_path / "made-by-hand").mkdir()
    assert folder.stat().st_mode & 0o777 == (tmp_path / "made-by-hand").stat().st_mode & 0o777
    assert folder.stat().st_mode & 0o077  # not mkdtemp's private 0700 (under the usual umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme", "made-by-hand"]  # no staging folder left


def test_new_case_never_overwrites(tmp_path: Path):
    ck.new_case("acme", tmp_path)
    with pytest.raises(ValueError, match="exists already"):
        ck.new_case("acme", tmp_path)


def _workshop(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", "workshop", "--out", str(out), "--no-progress-bar",
                           *extra], capture_output=True, text=True, timeout=900)


def test_the_workshop_never_overwrites_a_users_file_or_writes_through_a_link(tmp_path: Path):
    out = tmp_path / "workshop"
    (out / "learner").mkdir(parents=True)
    mine = out / "learner" / f"{NAMES[0]}.html"
    mine.write_text("my own notes", encoding="utf-8")
    for extra in ((), ("--force",)):
        refused = _workshop(out, *extra)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert f"learner/{NAMES[0]}.html" in refused.stderr and "never overwrites" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "my own notes"
    mine.unlink()
    victim = tmp_path / "victim.yaml"
    victim.write_text("precious", encoding="utf-8")
    (out / "learner" / "cases" / "quantia-tech").mkdir(parents=True)
    (out / "learner" / "cases" / "quantia-tech" / "case.yaml").symlink_to(victim)
    refused = _workshop(out, "--force")
    assert refused.returncode == 2 and "learner/cases/quantia-tech/case.yaml" in refused.stderr
    assert victim.read_text(encoding="utf-8") == "precious"


def test_the_workshop_copies_only_the_case_files_casekit_reads(tmp_path: Path):
    import os

    cases = tmp_path / "cases"
    shutil.copytree(ROOT / "casekit" / "data" / "cases", cases)
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY", encoding="utf-8")
    (cases / "quantia-tech" / "notes.txt").symlink_to(secret)
    (cases / "quantia-tech" / "draft.md").write_text("not for learners", encoding="utf-8")
    os.mkfifo(cases / "quantia-tech" / "pipe")
    notebooks = tmp_path / "notebooks"  # one small notebook that lists what it reads: the copying is under test
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('solutions = False\ncases_dir = "cases"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nprint(sorted(os.listdir(cases_dir)))")])
    nbformat.write(nb, notebooks / "01_tiny.ipynb")
    out = tmp_path / "workshop"
    result = _workshop(out, "--cases", str(cases), "--notebooks", str(notebooks))
    assert result.returncode == 0, result.stderr[-2000:]
    for audience in ("learner", "instructor"):
        copied = sorted(p.name for p in (out / audience / "cases" / "quantia-tech").iterdir())
        assert set(copied) <= {"case.yaml", "kpis.csv", "appraisals.csv", "practice_areas.csv"}
    assert not any("PRIVATE KEY" in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    again = _workshop(out, "--cases", str(cases), "--notebooks", str(notebooks))  # its own files: no --force
    assert again.returncode == 0, again.stderr[-2000:]
