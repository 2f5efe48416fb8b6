"""Render the same reports (ipynb + HTML) three ways, in one run, and compare the times and the numbers.

1. ``cli loop``: what a report runner would script: for each report the
   papermill CLI, then ``jupyter nbconvert --to html``, one after the other.
2. ``papermill pool``: a 2-process pool calling papermill's Python API and
   nbconvert's HTMLExporter in the same worker (a kernel process per report).
3. ``casekit render --jobs 2`` (the casekit engine: a worker imports once, each
   report runs in a fresh child forked from it).

And the floor every way is compared with, ``plain Python``: the same notebooks'
code executed in two warm Python processes (one a core, imports done once),
without a kernel, papermill or nbconvert: each cell's figures encoded as PNG
(casekit's formatter, as the reports' inline backend does) and each cell's
last value formatted as HTML, as a notebook displays it. No files are written.

Each way renders every case report of CASES_DIR and the portfolio report, into
its own folder. The numbers the reports check (the ``NBVAL_CHECK_OUTPUT``
cells) must be identical across the three ways; the script says if they are not.

    python benchmarks/render_bench.py [CASES_DIR] [--copies K] [--skip-cli-loop] [--tables-only]

``--copies K`` renders K copies of every case (renamed ``<id>-2``, ...), for
the dozens of reports a report runner renders at once. ``--tables-only`` renders
the same notebooks without their chart cells: reports whose own work is a few
tables, so that set-up is almost all of each report's time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BIN = Path(sys.executable).parent


def reports(cases_dir: Path) -> list[tuple[str, str, dict]]:
    """(name, notebook, parameters) for every case report and the portfolio report."""
    cases = sorted(p.name for p in cases_dir.iterdir() if (p / "case.yaml").is_file())
    return ([(case, "case_report.ipynb", {"case_id": case, "cases_dir": str(cases_dir)}) for case in cases]
            + [("portfolio", "portfolio_report.ipynb", {"cases_dir": str(cases_dir), "case_ids": cases})])


def copy_cases(cases_dir: Path, copies: int, target: Path) -> Path:
    """``copies`` copies of every case under ``target``, each with its own id and a seeded 15% of its KPI
    rows left out, so that no two cases are identical (identical effects would make a degenerate portfolio)."""
    for case in sorted(p for p in cases_dir.iterdir() if (p / "case.yaml").is_file()):
        for k in range(1, copies + 1):
            name = case.name if k == 1 else f"{case.name}-{k}"
            shutil.copytree(case, target / name)
            yaml = target / name / "case.yaml"
            yaml.write_text(re.sub(r"(?m)^id: .*$", f"id: {name}", yaml.read_text(encoding="utf-8")),
                            encoding="utf-8")
            if k > 1:
                kpis = target / name / "kpis.csv"
                header, *rows = kpis.read_text(encoding="utf-8").splitlines(keepends=True)
                keep = set(random.Random(f"{name}").sample(rows, k=round(len(rows) * 0.85)))
                kpis.write_text(header + "".join(row for row in rows if row in keep), encoding="utf-8")
    return target


def tables_only(notebooks: Path, target: Path) -> Path:
    """The notebooks without the code cells that draw charts, in ``target/notebooks``."""
    import nbformat

    (target / "notebooks").mkdir(parents=True)
    for name in ("case_report.ipynb", "portfolio_report.ipynb"):
        nb = nbformat.read(notebooks / name, as_version=4)
        nb.cells = [cell for cell in nb.cells if not (cell.cell_type == "code" and "plots." in cell.source)]
        nbformat.write(nb, target / "notebooks" / name)
    return target / "notebooks"


def cli_loop(jobs: list, out: Path, notebooks: Path) -> None:
    for name, notebook, parameters in jobs:
        params = ["-y", json.dumps(parameters)]
        subprocess.run([str(BIN / "papermill"), str(notebooks / notebook), str(out / f"{name}.ipynb"), *params,
                        "--cwd", str(notebooks), "--no-progress-bar"], check=True, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(out / f"{name}.ipynb")], check=True,
                       capture_output=True)


def _papermill_one(job: tuple, out: str, notebooks: Path) -> None:
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    name, notebook, parameters = job
    target = Path(out) / f"{name}.ipynb"
    papermill.execute_notebook(str(notebooks / notebook), str(target), parameters=parameters, cwd=str(notebooks),
                               progress_bar=False)
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(target, as_version=4))
    target.with_suffix(".html").write_text(body, encoding="utf-8")


def papermill_pool(jobs: list, out: Path, notebooks: Path) -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(_papermill_one, job, str(out), notebooks) for job in jobs]:
            future.result()


def _warm() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import pandas  # noqa: F401
    import seaborn  # noqa: F401

    import casekit  # noqa: F401
    from casekit import across, inline, plots, within  # noqa: F401


def _plain_one(job: tuple, notebooks: Path) -> None:
    """One report's code, cell by cell, in this warm process: figures to PNG, last values to HTML."""
    import nbformat

    def display(*objects):
        for obj in objects:
            html = getattr(obj, "_repr_html_", None)
            (html or obj.__repr__)()

    _, notebook, parameters = job
    nb = nbformat.read(notebooks / notebook, as_version=4)
    namespace = {"display": display, "__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):  # what the cells print, captured as a kernel captures it
        _run_cells(nb, namespace, parameters, display)


def _run_cells(nb, namespace: dict, parameters: dict, display) -> None:
    import ast

    import matplotlib.pyplot as plt

    from casekit import inline

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            display(eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace))
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(parameters)
        for number in plt.get_fignums():
            inline.figure_png(plt.figure(number))
        plt.close("all")


def plain_python(jobs: list, notebooks: Path) -> None:
    with ProcessPoolExecutor(max_workers=2, initializer=_warm) as pool:
        list(pool.map(_warm_noop, range(2)))  # both processes warm before the clock starts
        started = time.perf_counter()
        for future in [pool.submit(_plain_one, job, notebooks) for job in jobs]:
            future.result()
        return time.perf_counter() - started


def _warm_noop(_) -> None:
    return None


def casekit_render(cases_dir: Path, out: Path, notebooks: Path) -> None:
    subprocess.run([str(BIN / "casekit"), "render", str(cases_dir), "--out", str(out), "--jobs", "2",
                    "--notebooks", str(notebooks), "--no-progress-bar", "--force"], check=True, capture_output=True)


def first_start(out: Path, since: float) -> float:
    """Seconds from ``since`` (a time.time()) to the first report's first cell, by papermill's own record."""
    from datetime import datetime, timezone

    starts = []
    for notebook in out.glob("*.ipynb"):
        recorded = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["papermill"]["start_time"]
        starts.append(datetime.fromisoformat(recorded).replace(tzinfo=timezone.utc).timestamp())
    return min(starts) - since


def checked_numbers(notebook: Path) -> list[str]:
    """What each cell marked NBVAL_CHECK_OUTPUT printed (the reports' headline numbers and findings), joined
    per cell: a kernel process may split one print across stream outputs."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join("".join(output.get("text", "")) for output in cell.get("outputs", []))
            for cell in cells if "NBVAL_CHECK_OUTPUT" in "".join(cell["source"])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases_dir", nargs="?", default=str(ROOT / "cases"))
    parser.add_argument("--copies", type=int, default=1, help="render K copies of every case (default 1)")
    parser.add_argument("--skip-cli-loop", action="store_true", help="the slowest way; skip it for a quick look")
    parser.add_argument("--tables-only", action="store_true", help="the notebooks without their chart cells")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases_dir = copy_cases(Path(args.cases_dir).resolve(), args.copies, Path(tmp) / "cases")
        notebooks = tables_only(NOTEBOOKS, Path(tmp) / "tables-only") if args.tables_only else NOTEBOOKS
        return run(cases_dir, args.skip_cli_loop, notebooks)


def run(cases_dir: Path, skip_cli_loop: bool, notebooks: Path = NOTEBOOKS) -> int:
    jobs = reports(cases_dir)
    ways = {"casekit render --jobs 2": lambda out: casekit_render(cases_dir, out, notebooks),
            "papermill pool (2 processes)": lambda out: papermill_pool(jobs, out, notebooks)}
    if not skip_cli_loop:
        ways["papermill CLI + nbconvert loop"] = lambda out: cli_loop(jobs, out, notebooks)
    seconds, numbers, first = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for way, render_with in ways.items():
            out = Path(tmp) / str(len(seconds))
            out.mkdir()
            started, wall = time.perf_counter(), time.time()
            render_with(out)
            seconds[way] = time.perf_counter() - started
            first[way] = first_start(out, wall)
            numbers[way] = {name: checked_numbers(out / f"{name}.ipynb") for name, _, _ in jobs}
            assert all((out / f"{name}.html").is_file() for name, _, _ in jobs), f"{way}: an HTML report is missing"
        floor = plain_python(jobs, notebooks)  # the processes' start and imports are not counted
    kind = "tables only" if notebooks != NOTEBOOKS else "with charts"
    print(f"{len(jobs)} reports ({len(jobs) - 1} cases + portfolio, {kind}), ipynb + HTML, on {_cores()} cores\n")
    ours = seconds["casekit render --jobs 2"]
    print(f"{'way':34} {'seconds':>8} {'s/report':>9} {'casekit is':>11} {'first report began':>19}")
    for way, took in seconds.items():
        print(f"{way:34} {took:8.1f} {took / len(jobs):9.2f} {took / ours:10.1f}x {first[way]:17.1f} s")
    print(f"{'plain Python (2 warm processes)':34} {floor:8.1f} {floor / len(jobs):9.2f} {'':>11}  the floor")
    print(f"\ncasekit render is {ours / floor:.2f}x the floor: {ours - floor:.1f} s more, of which start-up and "
          "the HTML export are casekit's own")
    same = all(found == numbers["casekit render --jobs 2"] for found in numbers.values())
    print("\nchecked numbers identical in every way:", "yes" if same else "NO")
    return 0 if same else 1


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
