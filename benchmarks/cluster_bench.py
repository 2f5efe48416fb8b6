"""Throughput of `casekit render --scheduler` as a Dask cluster on loopback grows from 1 to W workers.

Each worker is one process with one thread (one report at a time), started with
the `dask worker` command, and the scheduler is a `dask scheduler` process of its
own, as on a real cluster (a LocalCluster would run the scheduler inside the
client, and the client's CPU time would include it). For each size, a fresh
cluster renders the same reports twice: the first run pays
the workers' one-off preparation (imports, warm-up), the second shows the
steady state. A local `casekit render --jobs 2` gives the reference.

The client's own work per report (validating, planning, packing and sending
the files, writing the results back, the manifest and the index) is its
process's CPU time over the run, all its threads, divided by the reports. A
cluster's throughput is bound by its workers (N threads / a report's seconds)
or by the client (1 / its seconds per report), whichever is lower: the run
ends with that model at 10, 100 and 1,000 worker threads.

    python benchmarks/cluster_bench.py [--copies K] [--workers W]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import Client

import casekit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_bench import ROOT, copy_cases  # noqa: E402


def timed_render(cases: Path, out: Path, **options) -> tuple[float, float]:
    """Wall seconds, and this process's CPU seconds (every thread), of one render."""
    started, cpu = time.perf_counter(), time.process_time()
    table = ck.render(cases, out, progress=False, force=True, **options)
    assert (table["status"] == "ok").all(), table["error"].tolist()
    return time.perf_counter() - started, time.process_time() - cpu


@contextlib.contextmanager
def dask_cluster(workers: int):
    """A `dask scheduler` and `dask worker` processes on loopback (Dask's default settings): the address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], **quiet)]
    try:
        processes.append(subprocess.Popen([dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                                           "--no-dashboard"], **quiet))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = copy_cases(ROOT / "cases", args.copies, Path(tmp) / "cases")
        n = sum(1 for _ in cases.iterdir()) + 1
        print(f"{n} reports, ipynb + HTML\n")
        print(f"{'how':32} {'first run s':>12} {'again s':>8} {'reports/min':>12} {'client ms/report':>17}")
        local, _ = timed_render(cases, Path(tmp) / "local", jobs=2)
        print(f"{'local, --jobs 2':32} {local:12.1f} {'':>8} {60 * n / local:12.1f}")
        per_report = client = None
        for workers in range(1, args.workers + 1):
            with dask_cluster(workers) as address:
                first, _ = timed_render(cases, Path(tmp) / f"c{workers}", scheduler=address)
                again, cpu = timed_render(cases, Path(tmp) / f"c{workers}", scheduler=address)
            per_report = per_report or again / n  # one worker thread: a report's seconds, client included
            client = cpu / n
            print(f"{f'Dask, {workers} worker(s) x 1 thread':32} {first:12.1f} {again:8.1f} "
                  f"{60 * n / again:12.1f} {1000 * client:17.1f}")
        print(f"\nthe client's work is {100 * client / per_report:.1f}% of a report's {per_report:.2f} s "
              f"(one worker thread)")
        print("model, reports a minute (bound: workers = threads × 60 / report s; client = 60 / client s):")
        for threads in (10, 100, 1000):
            workers_bound, client_bound = threads * 60 / per_report, 60 / client
            print(f"  {threads:>5} worker threads: {min(workers_bound, client_bound):9,.0f} "
                  f"({'client' if client_bound < workers_bound else 'workers'}-bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
