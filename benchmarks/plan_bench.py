"""How long a plan takes: ck.plan from a shipped case's baseline and by hand, each run several times in one process.

    .venv/bin/python benchmarks/plan_bench.py [ROUNDS]

The goal is 2 s a plan for one case (six lengths after adoption, a level and a slope change, five numbers of
organizations); a count KPI's plan (a level change) and the event study's curve are timed beside it. Beside it, what an analyst would otherwise write for one point of one curve: simulate 1,000
series on one design and fit each with statsmodels' GLSAR (AR(1) errors, iterated), counting p < 0.05 (one
power, with the normal test, not casekit's calibrated one).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    portfolio = ck.load_cases(ROOT / "cases")
    ck.plan(months_before=24, phi=0.4, noise=0.1)  # imports and first-call costs out of the way
    for name, call in (("from quantia-tech's cycle time", lambda: ck.plan(portfolio, "quantia-tech", "cycle_time")),
                       ("by hand, 24 months before", lambda: ck.plan(months_before=24, phi=0.4, noise=0.1)),
                       ("by hand, with the event study (adopting over 24 months)",
                        lambda: ck.plan(months_before=24, phi=0.4, noise=0.1, staggered=24)),
                       ("a count KPI, from quantia-tech's escaped defects",
                        lambda: ck.plan(portfolio, "quantia-tech", "escaped_defects")),
                       ("a count KPI by hand (5 a month, dispersion 1.3)",
                        lambda: ck.plan(months_before=24, phi=0.2, mean=5, dispersion=1.3))):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        print(f"{name}: median {np.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}) over {rounds}")
    import statsmodels.api as sm

    t = np.r_[np.arange(-27, -3), np.arange(24)].astype(float)
    X = np.column_stack([np.ones(len(t)), t, t >= 0, t * (t >= 0)])
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    hits = 0
    for _ in range(1000):
        noise = np.empty(len(t))
        noise[0] = rng.normal(0, 0.1 / np.sqrt(1 - 0.16))
        for i in range(1, len(t)):
            noise[i] = 0.4 ** (t[i] - t[i - 1]) * noise[i - 1] + rng.normal(0, 0.1)
        fit = sm.GLSAR(np.log(0.8) * X[:, 2] + noise, X, rho=1).iterative_fit(maxiter=10)
        hits += fit.pvalues[2] < 0.05
    print(f"an analyst's statsmodels loop, one point of one curve (1,000 series): {time.perf_counter() - start:.2f} s "
          f"(power {hits / 1000:.0%})")


if __name__ == "__main__":
    main()
