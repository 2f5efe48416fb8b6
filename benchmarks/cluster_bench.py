"""Throughput of `casekit render --scheduler` as a Dask cluster on loopback grows from 1 to W workers.

Each worker is one process with one thread (one report at a time). For each
size, a fresh LocalCluster renders the same reports twice: the first run pays
the workers' one-off preparation (imports, warm-up), the second shows the
steady state. A local `casekit render --jobs 2` gives the reference.

    python benchmarks/cluster_bench.py [--copies K] [--workers W]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from distributed import LocalCluster

import casekit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_bench import ROOT, copy_cases  # noqa: E402


def timed_render(cases: Path, out: Path, **options) -> float:
    started = time.perf_counter()
    table = ck.render(cases, out, progress=False, force=True, **options)
    assert (table["status"] == "ok").all(), table["error"].tolist()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = copy_cases(ROOT / "cases", args.copies, Path(tmp) / "cases")
        n = sum(1 for _ in cases.iterdir()) + 1
        print(f"{n} reports, ipynb + HTML\n")
        print(f"{'how':32} {'first run s':>12} {'again s':>8} {'reports/min':>12}")
        local = timed_render(cases, Path(tmp) / "local", jobs=2)
        print(f"{'local, --jobs 2':32} {local:12.1f} {'':>8} {60 * n / local:12.1f}")
        for workers in range(1, args.workers + 1):  # Dask's default worker settings, as `dask worker` has
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=None) as cluster:
                first = timed_render(cases, Path(tmp) / f"c{workers}", scheduler=cluster.scheduler_address)
                again = timed_render(cases, Path(tmp) / f"c{workers}", scheduler=cluster.scheduler_address)
            print(f"{f'Dask, {workers} worker(s) x 1 thread':32} {first:12.1f} {again:8.1f} "
                  f"{60 * n / again:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
