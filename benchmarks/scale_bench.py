"""The data layer at scale: validate, load and compare simulated portfolios of 1,000 and 10,000 organizations,
and the portfolio report over them, with each stage's time and peak memory, in one run.

Each stage runs in a fresh Python process (so that its peak memory is its own, and nothing is warm that a
user's first call would not have warm); the time is the stage's own, imports excluded. The portfolios
have two monthly KPIs a case over four years, as `casekit simulate` writes them (seeded). In those, every
series has the same months around adoption, so the cross-case inputs are fitted a design at a time; the
"ragged" copy of each portfolio cuts every series to its own span (up to 11 months off either end) and
leaves 5% of its months out, so that almost every series is a design of its own, as other people's data are.

    python benchmarks/scale_bench.py [N_ORGS ...]        # default: 1000 10000
    python benchmarks/scale_bench.py --no-report 10000   # without the portfolio report
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import casekit as ck

STAGE = """
import json, sys, time
import casekit as ck
from casekit import across, validation, within  # imports are not the stage's cost
folder = sys.argv[1]
started = time.perf_counter()
{body}
seconds = time.perf_counter() - started
# VmHWM, this process's own peak: ru_maxrss would carry the parent's over exec
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"seconds": seconds, "peak_mb": peak / 1024}}))
"""
STAGES = {
    "validate_cases": "problems = ck.validate_cases(folder); assert problems == [], problems[:3]",
    "load_cases": "ck.load_cases(folder)",
    "compare_portfolio (after loading)": "p = ck.load_cases(folder)\nstarted = time.perf_counter()\n"
                                         "ck.compare_portfolio(p).tests()",
}


def ragged(folder: Path, target: Path, seed: int = 0) -> Path:
    """A copy of the simulated cases whose every KPI series has its own span and a few missing months."""
    rng = random.Random(seed)
    shutil.copytree(folder, target)
    for kpis in sorted(target.glob("*/kpis.csv")):
        header, *rows = kpis.read_text(encoding="utf-8").splitlines()
        kept = []
        for kpi in dict.fromkeys(row.split(",")[1] for row in rows):
            series = [row for row in rows if row.split(",")[1] == kpi]
            series = series[rng.randrange(12):len(series) - rng.randrange(12)]
            kept += [row for row in series if rng.random() >= 0.05]
        kpis.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    return target


def run_stage(body: str, folder: Path) -> dict:
    code = STAGE.format(body=body)
    result = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(sizes: list[int], report: bool) -> None:
    print(f"casekit {ck.__version__}; each stage in a fresh process, imports excluded")
    with tempfile.TemporaryDirectory() as tmp:
        shipped = None
        if report:
            from portfolio_bench import ROOT, render_portfolio

            (Path(tmp) / "out-shipped").mkdir()
            figures = render_portfolio(ROOT / "cases", Path(tmp) / "out-shipped")
            shipped = figures["execute"] + figures["export"]
            print(f"the 8 shipped cases' portfolio report (papermill + HTML): {shipped:.2f} s")
        for n in sizes:
            folder = Path(tmp) / f"sim-{n}"
            started = time.perf_counter()
            ck.simulate_portfolio(n, 0.1, seed=n, out=folder)  # written to disk; the stages read it
            print(f"{n:,} organizations (simulated in {time.perf_counter() - started:.1f} s):")
            for name, body in STAGES.items():
                figures = run_stage(body, folder)
                print(f"  {name:<36} {figures['seconds']:7.2f} s   peak {figures['peak_mb']:7.0f} MB")
            figures = run_stage(STAGES["compare_portfolio (after loading)"], ragged(folder, Path(tmp) / f"ragged-{n}"))
            print(f"  {'compare_portfolio, ragged series':<36} {figures['seconds']:7.2f} s   peak "
                  f"{figures['peak_mb']:7.0f} MB")
            if report:
                out = Path(tmp) / f"out-{n}"
                out.mkdir()
                figures = render_portfolio(folder, out)
                took = figures["execute"] + figures["export"]
                print(f"  {'portfolio report (papermill + HTML)':<36} {took:7.2f} s   {took / shipped:.1f}x the "
                      f"shipped cases', HTML {figures['html_mb']:.2f} MB")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--no-report"]
    main([int(a) for a in arguments] or [1000, 10000], report="--no-report" not in sys.argv[1:])
