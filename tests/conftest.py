"""A small valid case that tests copy and break one rule at a time."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASE_YAML = """\
id: acme
name: Acme Software
sector: Technology
region: Europe
size: 120
source: client
currency: EUR
summary: A small case for tests.
adoption:
  start: 2020-01
  model: CMMI V2.0
  transition_months: 3
business_goals:
  - id: G1
    statement: Fewer defects
    kpis: [defect_density]
    target:
      change_pct: -20
  - id: G2
    statement: Review everything
    kpis: [review_coverage, defect_density]
    target:
      kpi: review_coverage
      value: 90
investments:
  - period: 2020-Q1
    category: training
    amount: 10000
kpis:
  review_coverage:
    label: Review coverage
    unit: "%"
    better: higher
    category: quality
    min: 0
    max: 100
"""

APPRAISALS = """\
date,method,maturity_level,model,scope
2019-06-03,SCAMPI C,,CMMI V2.0,IT
2020-12-07,Benchmark,3,CMMI V2.0,IT
"""

PRACTICE_AREAS = """\
date,practice_area,capability_level
2019-06-03,PLAN,1
2019-06-03,PR,0
2020-12-07,PLAN,3
2020-12-07,PR,2
"""


def _kpis_csv() -> str:
    rows = ["period,kpi,value"]
    for year in (2019, 2020):
        for month in range(1, 13):
            after = year == 2020 and month >= 4
            rows.append(f"{year}-{month:02d},defect_density,{(3.0 if after else 4.0) + month / 100:.2f}")
            rows.append(f"{year}-{month:02d},review_coverage,{(85 if after else 60) + month / 10:.1f}")
    return "\n".join(rows) + "\n"


def write_case(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    (folder / "kpis.csv").write_text(_kpis_csv(), encoding="utf-8")
    (folder / "appraisals.csv").write_text(APPRAISALS, encoding="utf-8")
    (folder / "practice_areas.csv").write_text(PRACTICE_AREAS, encoding="utf-8")
    return folder


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    """A cases folder holding one valid case, ``acme``."""
    write_case(tmp_path / "cases" / "acme")
    return tmp_path / "cases"


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur) by ``new`` in a case file."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def copy_cases(folder: Path, *names: str) -> Path:
    """Copies of the shipped cases ``names`` in ``folder``, for a test to render or break; returns ``folder``."""
    for name in names:
        shutil.copytree(ROOT / "cases" / name, folder / name)
    return folder


@pytest.fixture
def case(tmp_path: Path) -> Path:
    """A copy of the shipped case meridian-financial, whose files the import tests replace."""
    return copy_cases(tmp_path / "cases", "meridian-financial") / "meridian-financial"


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of ``path`` containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if needle in line:
            nth -= 1
            if nth == 0:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """Every shipped case rendered once, through the command line (tests/test_render.py, tests/test_browser.py)."""
    out = tmp_path_factory.mktemp("reports")
    result = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out", str(out),
                             "--jobs", "2", "--no-progress-bar"], capture_output=True, text=True, timeout=900)
    return out, result


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc): children, their children, and so on."""
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def after_parameters(nb) -> int:
    """The index of the cell after a notebook's ``parameters`` cell: where a test inserts a cell that runs with
    the parameters set (and before the notebook's own work)."""
    return next(i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])) + 1


class FakeRunner:
    """Renders nothing: writes two small files per job and says the report finished (or failed, for ``fail``)."""

    def __init__(self, fail=()):
        self.fail, self.jobs, self.closed = set(fail), [], False

    def run(self, jobs):
        import nbformat

        from casekit.rendering.jobs import Failure, Outcome

        for job in jobs:
            self.jobs.append(job)
            out = Path(job.out)
            if job.name in self.fail:
                nbformat.write(nbformat.v4.new_notebook(), out / f"{job.name}.failed.ipynb")
                yield Outcome.failed(job.name, Failure("RuntimeError", f"boom <{job.name}>", 7), out.name, 0.1,
                                     f"{job.name}.failed.ipynb")
                continue
            nbformat.write(nbformat.v4.new_notebook(metadata={"parameters": job.parameters}), out / f"{job.name}.ipynb")
            (out / f"{job.name}.html").write_text(f"<html>{job.name}</html>", encoding="utf-8")
            yield Outcome(job.name, "ok", out.name, 0.1, f"headline of {job.name}", f"{job.name}.ipynb",
                          f"{job.name}.html")

    def close(self):
        self.closed = True


_OPENED: list[list[Path]] = []  # the lists of the opened_files blocks now running


def _record_open(event: str, args: tuple) -> None:
    if _OPENED and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = Path(os.fsdecode(args[0])).absolute()
        for opened in _OPENED:
            opened.append(path)


@contextlib.contextmanager
def opened_files():
    """The files this process opens inside the block (Python's ``open`` audit event), as absolute paths."""
    if not getattr(opened_files, "hooked", False):
        sys.addaudithook(_record_open)  # a hook stays for the process's life: it records only inside a block
        opened_files.hooked = True
    opened: list[Path] = []
    _OPENED.append(opened)
    try:
        yield opened
    finally:
        _OPENED.remove(opened)


def wait_for(condition, timeout: float = 300, what: str = "the condition") -> None:
    """Wait until ``condition()`` is true, checking often: a test waits for an event, never for a fixed time."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
