"""The event study across organizations: casekit's against csdid (the Python port of R's ``did``), in one run.

    .venv/bin/python benchmarks/event_study_bench.py [N_ORGS ...] [--csdid-python PATH]

For each size, a staggered panel (72 months, adoption over months 24–47, a fifth never adopting) is fitted by
``casekit.stats.event_study.event_study`` (leads 12, lags 24) and, given a Python that has csdid installed
(``python -m venv /tmp/ref && /tmp/ref/bin/pip install csdid``), by csdid's ``ATTgt(...).fit(est_method="reg",
base_period="universal", bstrap=False)`` and ``aggte(typec="dynamic", ...)``, the call an analyst would
otherwise write; both timed in their own process after importing. The whole portfolio path (a simulated
portfolio's KPI rows to the table) is timed too. The estimates of the two are compared where both estimate.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from event_study_simulation import panel  # noqa: E402

CSDID = """
import json, sys, time, warnings
import pandas as pd
warnings.simplefilter("ignore")
from csdid.att_gt import ATTgt
d = pd.read_csv(sys.argv[1])
start = time.perf_counter()
a = ATTgt(yname="y", tname="period", idname="id", gname="first", data=d, control_group="notyettreated")
a.fit(est_method="reg", base_period="universal", bstrap=False)
r = vars(a.aggte(typec="dynamic", min_e=-12, max_e=24, bstrap=False))["atte"]
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "e": [float(x) for x in r["egt"]], "att": [float(x) for x in r["att_egt"]]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--csdid-python", help="a Python with csdid installed")
    args = parser.parse_args()
    import casekit as ck
    from casekit.stats.event_study import event_study

    for organizations in args.sizes:
        adoption, y, _ = panel(np.random.default_rng(1), organizations)
        n, months = y.shape
        unit, period = np.repeat(np.arange(n), months), np.tile(np.arange(months), n)
        start = time.perf_counter()
        result = event_study(unit, period, np.repeat(adoption, months), y.ravel(), leads=12, lags=24)
        ours = time.perf_counter() - start
        line = f"{organizations:>6,} organizations: casekit {ours:.3f} s"
        if args.csdid_python:
            with tempfile.TemporaryDirectory() as folder:
                csv = Path(folder) / "panel.csv"
                pd.DataFrame({"id": unit + 1, "period": period + 1, "y": y.ravel(),
                              "first": np.nan_to_num(np.repeat(adoption, months) + 1).astype(int)}).to_csv(csv, index=False)
                done = subprocess.run([args.csdid_python, "-c", CSDID, str(csv)], capture_output=True, text=True)
            if done.returncode:
                line += f"; csdid failed: {done.stderr.strip().splitlines()[-1]}"
            else:
                theirs = json.loads(done.stdout.strip().splitlines()[-1])
                ref = pd.Series(theirs["att"], index=theirs["e"]).drop(-1.0, errors="ignore")
                mine = result.effects.set_index("event_time")["estimate"]
                both = mine.index.intersection(ref.index.astype(int))
                gap = float(np.nanmax(np.abs(mine.loc[both].to_numpy() - ref.loc[both.astype(float)].to_numpy())))
                line += (f"; csdid {theirs['seconds']:.2f} s ({theirs['seconds'] / ours:,.0f}× casekit's); "
                         f"largest difference in {len(both)} shared estimates {gap:.1e}")
        portfolio = ck.simulate_portfolio(n_orgs=organizations, effect=0.2, seed=1)
        comparison = ck.compare_portfolio(portfolio)
        start = time.perf_counter()
        comparison.event_study("defect_density")
        line += f"; from a portfolio's KPI rows {time.perf_counter() - start:.3f} s"
        print(line, flush=True)


if __name__ == "__main__":
    main()
