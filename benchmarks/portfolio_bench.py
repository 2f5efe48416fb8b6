"""The portfolio report at 8 shipped cases and at 100 and 1,000 simulated organizations: time and size.

Each portfolio is rendered the way `casekit render` renders it (papermill in a fresh kernel, then
nbconvert's HTML without code), one after another in this process, and the run prints the seconds
each took, as a ratio to the 8 shipped cases' report, the HTML's size and the slowest cells. The
same simulated portfolios each time (seeded).

    python benchmarks/portfolio_bench.py [N_ORGS ...]   # default: 100 1000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

import casekit as ck
from casekit.inputs.project import NOTEBOOKS
from casekit.rendering.export import html_exporter

ROOT = Path(__file__).resolve().parents[1]
KPIS = ("defect_density", "on_time_delivery", "cycle_time", "customer_satisfaction")


def render_portfolio(cases_dir: Path, out: Path) -> dict:
    started = time.perf_counter()
    nb = papermill.execute_notebook(str(NOTEBOOKS / "portfolio_report.ipynb"), str(out / "portfolio.ipynb"),
                                    parameters={"cases_dir": str(cases_dir)}, progress_bar=False,
                                    cwd=str(out))
    executed = time.perf_counter()
    body, _ = html_exporter(True).from_notebook_node(nbformat.from_dict(nb))
    (out / "portfolio.html").write_text(body, encoding="utf-8")
    exported = time.perf_counter()
    durations = sorted(((cell.metadata.get("papermill", {}).get("duration") or 0, cell.source.splitlines()[0][:50])
                        for cell in nb.cells if cell.cell_type == "code"), reverse=True)
    return {"execute": executed - started, "export": exported - executed, "html_mb": len(body.encode()) / 1e6,
            "slowest": durations[:3]}


def main(sizes: list[int]) -> None:
    print(f"casekit {ck.__version__}; portfolio report rendered without code")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("8 shipped cases", ROOT / "cases")]
        for n in sizes:
            folder = Path(tmp) / f"sim-{n}"
            ck.simulate_portfolio(n, 0.1, seed=n, kpis=KPIS, out=folder)
            runs.append((f"{n:,} simulated organizations", folder))
        shipped = None
        for name, folder in runs:
            out = Path(tmp) / f"out-{folder.name}"
            out.mkdir()
            result = render_portfolio(folder, out)
            total = result["execute"] + result["export"]
            shipped = shipped or total
            print(f"{name:>32}: {total:6.1f} s ({total / shipped:.2f}× the shipped cases'; execute "
                  f"{result['execute']:.1f} s, HTML {result['export']:.1f} s), HTML {result['html_mb']:.2f} MB")
            for seconds, first_line in result["slowest"]:
                print(f"{'':>34}{seconds:5.1f} s  {first_line}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100, 1000])
