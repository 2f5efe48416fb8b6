"""compare_portfolio on N simulated organizations, against a hand-written statsmodels loop.

The loop is what an analyst would otherwise write for the same model: for every
case and KPI, statsmodels' GLSAR (feasible GLS with AR(1) errors, iterated) of
log(value) on the segmented-regression design, the first-year effect and its
standard error from the fit, then statsmodels' combine_effects and scipy's
Wilcoxon per KPI. Both run in this process on the same portfolio. The two
estimate phi differently (casekit corrects its bias, GLSAR does not), so the
pooled estimates agree closely but not exactly.

    python benchmarks/compare_portfolio_bench.py [N_ORGS]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

import casekit as ck


def hand_loop(portfolio):
    data = portfolio.kpis[portfolio.kpis["phase"] != "transition"]
    pooled = {}
    contrast = np.array([0, 0, 1, 5.5])  # level change + slope change over the first year
    for kpi, rows in data.groupby("kpi"):
        effects, variances = [], []
        sign = 1 if rows["better"].iloc[0] == "higher" else -1
        for _, series in rows.groupby("case_id"):
            series = series.sort_values("date")
            y = np.log(series["value"].to_numpy())
            after = (series["phase"] == "after").to_numpy(float)
            months = series["date"].dt.year.to_numpy() * 12 + series["date"].dt.month.to_numpy()
            t = months - months[np.argmax(after)]  # months from the first post-transition month
            X = np.column_stack([np.ones(len(y)), t, after, t * after])
            fit = sm.GLSAR(y, X, rho=1).iterative_fit(maxiter=10)
            effects.append(sign * contrast @ fit.params)
            variances.append(contrast @ fit.cov_params() @ contrast)
        stats.wilcoxon(effects)
        pooled[kpi] = combine_effects(np.array(effects), np.array(variances), method_re="chi2").mean_effect_re
    return pooled


def main(n_orgs: int = 1000) -> None:
    start = time.perf_counter()
    portfolio = ck.simulate_portfolio(n_orgs, effect=0.2, seed=2026)
    simulated = time.perf_counter() - start
    n_series = portfolio.kpis.groupby(["case_id", "kpi"]).ngroups

    start = time.perf_counter()
    table = ck.compare_portfolio(portfolio).tests().set_index("kpi")
    casekit_time = time.perf_counter() - start

    start = time.perf_counter()
    pooled = hand_loop(portfolio)
    loop_time = time.perf_counter() - start

    better = ck.kpi_catalog().set_index("kpi")["better"]
    for kpi, estimate in pooled.items():
        sign = 1 if better[kpi] == "higher" else -1
        ours = table.loc[kpi, "pooled_improvement"]
        theirs = sign * np.expm1(sign * estimate) * 100
        assert abs(ours - theirs) < 1.0, (kpi, ours, theirs)  # percentage points

    print(f"portfolio: {n_orgs} organizations, {n_series} KPI series, {len(portfolio.kpis)} measurements "
          f"(simulated in {simulated:.2f} s)")
    print(f"casekit.compare_portfolio            {casekit_time:7.2f} s   (goal: under 5 s)")
    print(f"statsmodels loop (GLSAR + pooling)   {loop_time:7.2f} s")
    print(f"ratio loop / casekit                 {loop_time / casekit_time:7.1f}x")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
