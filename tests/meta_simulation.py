"""The cross-case test's calibration table in docs/methods.md, on portfolios simulated with a known effect.

    python tests/meta_simulation.py [PORTFOLIOS] [MONTHS_A_SIDE]      # default 1,000 portfolios a cell, 24 months

Each cell simulates PORTFOLIOS × k organizations (one KPI, AR(1) noise with phi = 0.4), works every case's
effect out once, and runs casekit's cross-case tests on each portfolio of k: the primary test's false
positives (no true effect), its 95% CI's coverage of a true 20% improvement, Cochran's Q rejections, the
mean I², and the false positives of Hartung–Knapp with the ad hoc floor, the test casekit used before.
"""

from __future__ import annotations

import sys

import numpy as np


def cell(k: int, tau: float, count: int, months: int):
    import casekit as ck
    from casekit.stats.across import portfolio_tests

    rows = {}
    for effect in (0.0, 0.2):
        big = ck.simulate_portfolio(count * k, effect=effect, seed=int(1000 * tau) + 10 * k + int(10 * effect) + months,
                                    kpis=("defect_density",), heterogeneity=tau, months_before=months,
                                    months_after=months)
        effects = ck.compare_portfolio(big).effects
        ids = list(big.cases["case_id"])
        chosen = [effects[effects["case_id"].isin(ids[i * k:(i + 1) * k])] for i in range(count)]
        rows[effect] = [portfolio_tests(one, big.kpi_definitions).iloc[0] for one in chosen]
        if effect == 0.0:
            before = np.mean([portfolio_tests(one, big.kpi_definitions, meta_test="hk").loc[0, "p_value"] < 0.05
                              for one in chosen])
    null, true = rows[0.0], rows[0.2]
    size = np.mean([row["p_value"] < 0.05 for row in null])
    coverage = np.mean([row["pooled_ci_low"] <= 20 <= row["pooled_ci_high"] for row in true])
    q = np.mean([row["q_pvalue"] < 0.05 for row in null])
    i2 = np.mean([row["i2"] for row in null])
    return size, coverage, q, i2, before


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    months = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    print(f"| cases (k) | between-case sd τ | primary test's false positives | 95% CI coverage | Q test rejects | "
          f"mean I² | Hartung–Knapp (ad hoc) false positives |  ({months} months a side)")
    print("|---|---|---|---|---|---|---|")
    for k in (4, 8, 16):
        for tau in (0.0, 0.05, 0.15):
            size, coverage, q, i2, before = cell(k, tau, count, months)
            print(f"| {k} | {tau:g} | {100 * size:.1f}% | {100 * coverage:.1f}% | {100 * q:.1f}% | {100 * i2:.1f}% | "
                  f"{100 * before:.1f}% |", flush=True)
