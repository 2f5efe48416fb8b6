"""environment.yml (conda) and pyproject.toml (pip) list the same dependencies."""

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + spec.replace(" ", "")


def test_environment_and_pyproject_in_step():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    pip_side = {_normalise(r) for r in project["dependencies"] + extras["test"] + extras["docs"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda_side = {_normalise(d) for d in env["dependencies"] if isinstance(d, str)}
    conda_side -= {d for d in conda_side if re.match(r"^(python|pip)([<>=!~]|$)", d)}
    assert conda_side == pip_side


def test_environment_installs_casekit_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_list = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "--editable ." in pip_list


def test_python_requirement_in_step():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert f"python{project['requires-python']}" in env["dependencies"]


def test_make_report_installs_only_what_reporting_needs():
    import shutil
    import subprocess

    import pytest

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    commands = {target: subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout for target in ("report", "test")}
    assert "pip install -e ." in commands["report"] and "[test]" not in commands["report"]
    assert "pip install -e '.[test]'" in commands["test"]
