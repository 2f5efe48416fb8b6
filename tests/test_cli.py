import subprocess
import sys
from pathlib import Path

import pytest
from conftest import edit

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casekit", *args], cwd=cwd, capture_output=True, text=True)


def test_validate_ok_exits_0():
    result = run("validate", "cases")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "all cases valid" in result.stderr


def test_validate_default_folder_is_cases():
    assert run("validate").returncode == 0


def test_validate_prints_every_problem_and_exits_1(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "size: 120", "size: many")
    edit(case_dir / "acme" / "kpis.csv", "2019-05,defect_density,4.05", "2019-05,defect_density,abc")
    result = run("validate", "cases", cwd=case_dir.parent)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "cases/acme/case.yaml:5: size: expected a whole number, got str 'many'",
        "cases/acme/kpis.csv:10: value: expected a finite number, got 'abc'",
    ]
    assert "2 problem(s) found" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_hostile_input_gives_no_traceback(case_dir: Path):
    (case_dir / "acme" / "case.yaml").write_bytes(b"\xff\xfe: [\n!!python/name:os.system")
    (case_dir / "acme" / "kpis.csv").write_text("", encoding="utf-8")
    result = run("validate", str(case_dir))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "not UTF-8" in result.stdout and "file is empty" in result.stdout


def test_validate_missing_folder():
    result = run("validate", "no-such-folder")
    assert result.returncode == 1 and result.stdout.strip() == "no-such-folder: cases folder not found"


def test_summary_lists_every_case():
    result = run("summary", "cases")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["case", "sector", "CMMI", "model"]
    assert len(lines) == 10
    assert "motorola-ged" in result.stdout and " nan " not in result.stdout  # a published case: no series, no nan
    # unrated maturity in words, levels as ML n, columns aligned
    assert "<NA>" not in result.stdout and "not rated" in result.stdout and " ML3" in result.stdout
    assert len({line.index("CMMI-DEV v1.3") for line in lines if "CMMI-DEV v1.3" in line}) == 1


def test_summary_of_invalid_cases_exits_1(case_dir: Path):
    edit(case_dir / "acme" / "case.yaml", "size: 120", "size: many")
    result = run("summary", str(case_dir))
    assert result.returncode == 1 and "size: expected a whole number" in result.stdout
    assert "Traceback" not in result.stderr


def test_no_command_shows_usage():
    result = run()
    assert result.returncode == 2 and "usage: casekit" in result.stderr


def test_casekit_imports_the_statistics_only_when_they_are_used():
    # a render's main process and the command line start without scipy and statsmodels
    code = ("import sys, casekit as ck\n"
            "print('statsmodels' in sys.modules, 'scipy.stats' in sys.modules)\n"
            "assert all(getattr(ck, name) is not None for name in ck.__all__)\n"
            "assert ck.compare_case.__module__ == 'casekit.report.comparison' and ck.within.MIN_POINTS == 6\n"
            "print('statsmodels' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True"]


@pytest.mark.parametrize("args, message", [
    (["--timeout", "-5"], "timeout must be a positive, finite number of seconds, got -5.0"),
    (["--timeout", "0"], "timeout must be a positive, finite number of seconds, got 0.0"),
    (["--timeout", "nan"], "timeout must be a positive, finite number of seconds, got nan"),
    (["--timeout", "inf"], "timeout must be a positive, finite number of seconds, got inf"),
    (["--jobs", "0"], "jobs must be a whole number of at least 1, got 0"),
    (["--scheduler", "not a url"], "scheduler must be an address such as tcp://HOST:8786, got 'not a url'"),
    (["--scheduler", "tcp://host"], "scheduler must be an address such as tcp://HOST:8786, got 'tcp://host'"),
])
def test_render_refuses_settings_that_cannot_make_a_run(case_dir: Path, args, message):
    out = case_dir.parent / "reports"
    result = run("render", "cases", "--out", str(out), "--no-progress-bar", *args, cwd=case_dir.parent)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"casekit render: {message}"
    assert not out.exists()  # refused before anything was written


def test_render_refuses_an_out_that_is_a_file(case_dir: Path):
    (case_dir.parent / "notes.txt").write_text("mine", encoding="utf-8")
    result = run("render", "cases", "--out", "notes.txt", cwd=case_dir.parent)
    assert result.returncode == 2 and "--out must be a folder; notes.txt is a file" in result.stderr
    assert (case_dir.parent / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_workshop_refuses_a_nonsense_timeout(tmp_path: Path):
    result = run("workshop", "--out", str(tmp_path / "w"), "--timeout", "-1")
    assert result.returncode == 2 and "timeout must be a positive" in result.stderr and "Traceback" not in result.stderr


def test_init_makes_a_project_that_validates_and_never_overwrites(tmp_path: Path):
    result = run("init", "study", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cd study && casekit render" in result.stdout
    study = tmp_path / "study"
    assert sorted(p.name for p in (study / "notebooks").iterdir()) == ["case_report.ipynb", "portfolio_report.ipynb"]
    assert run("validate", cwd=study).returncode == 0
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    for target in ("study", "busy", "busy/notes.txt"):
        refused = run("init", target, cwd=tmp_path)
        assert refused.returncode == 2 and "is not an empty folder; choose a new one" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert (tmp_path / "busy" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "study"]  # no staging folder left


def test_notebooks_find_the_nearest_cases_folder(tmp_path: Path, monkeypatch):
    import casekit as ck

    (tmp_path / "cases").mkdir()
    (tmp_path / "notebooks" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "deeper")
    assert ck.find_cases() == tmp_path / "cases"
    monkeypatch.chdir(tmp_path.parent)
    with pytest.raises(ck.ParameterError, match="no cases/ folder in"):
        ck.find_cases()
