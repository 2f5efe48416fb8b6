"""Importing casekit, or papermill (which loads casekit's engine as it starts), has no side effects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "casekit" / "notebooks"


def _modules_after(statement: str) -> dict:
    code = (f"import sys\nhook = sys.excepthook\n{statement}\nimport json\n"
            "print(json.dumps({'modules': sorted(sys.modules), 'hook_kept': sys.excepthook is hook}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_papermill_loads_only_casekits_engine():
    seen = _modules_after("import papermill")
    ours = [m for m in seen["modules"] if m.startswith("casekit")]
    assert set(ours) <= {"casekit", "casekit.errors", "casekit.version", "casekit.rendering",
                         "casekit.rendering.engine"}, ours
    assert "pandas" not in seen["modules"] and seen["hook_kept"]


def test_importing_casekit_loads_the_rest_on_first_use():
    seen = _modules_after("import casekit as ck")
    assert "pandas" not in seen["modules"] and "casekit.inputs.loading" not in seen["modules"] and seen["hook_kept"]
    seen = _modules_after("import casekit as ck\nck.load_cases")
    assert "casekit.inputs.loading" in seen["modules"]


def test_the_papermill_hook_acts_only_on_casekits_parameter_errors(capsys):
    from casekit.rendering.engine import papermill_excepthook

    passed = []

    def previous(*args):
        passed.append(args)

    ours = SimpleNamespace(ename="ParameterError", evalue="alpha must be a number between 0 and 1, got 5",
                           traceback=["casekit.ParameterError: alpha must be a number between 0 and 1, got 5"])
    theirs = SimpleNamespace(ename="ParameterError", evalue="bad", traceback=["ParameterError: bad"])
    papermill_excepthook(RuntimeError, ours, None, previous=previous)
    assert capsys.readouterr().err == "papermill: alpha must be a number between 0 and 1, got 5\n" and not passed
    papermill_excepthook(RuntimeError, theirs, None, previous=previous)
    assert len(passed) == 1 and passed[0][1] is theirs


def test_papermills_own_cli_refuses_a_bad_parameter_in_one_line(tmp_path: Path):
    papermill = Path(sys.executable).with_name("papermill")
    result = subprocess.run([str(papermill), "case_report.ipynb", str(tmp_path / "out.ipynb"), "-p", "alpha", "5",
                             "--no-progress-bar"], cwd=NOTEBOOKS, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "papermill: alpha must be a number between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr
