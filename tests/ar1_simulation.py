"""Series for calibrating the within-case test, simulated without casekit, and a GLS-AR(1) to compare with.

``python tests/ar1_simulation.py`` prints the README's size and power table; ``--recheck`` its
24+24 false-positive rates on 3,000 fresh series a cell; ``--estimands`` the size and power of the two
estimands; ``--corrections`` the power each multiplicity correction leaves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

START = pd.Period("2022-01", freq="M")
TRANSITION = 3


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series of unit innovation variance."""
    out = np.empty(n)
    out[0] = rng.normal() / np.sqrt(1 - phi**2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + rng.normal()
    return out


def series(rng, n_before: int, n_after: int, phi: float, step: float = 0.0, trend: float = 0.0,
           noise: float = 0.1):
    """A monthly lower-is-better KPI around 10: log-scale AR(1) noise, an optional step at adoption
    (``step`` = 0.2: 20% lower after the transition) and an optional steady trend (log change a month)."""
    months = pd.period_range(START - n_before, START + TRANSITION + n_after - 1, freq="M")
    k = np.arange(len(months))
    after = k >= n_before + TRANSITION
    log_y = np.log(10) + trend * k + np.log1p(-step) * after + noise * ar1(rng, len(months), phi)
    return np.exp(log_y), [str(m) for m in months]


def design(n_before: int, n_after: int):
    """The segmented regression's design as the reference GLS sees it (times, X, the first-year contrast)."""
    t = np.r_[np.arange(-n_before - TRANSITION, -TRANSITION), np.arange(n_after)].astype(float)
    post = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, post, t * post])
    return t, X, np.array([0, 0, 1, 5.5])


def reml_gls(y, t, X):
    """GLS with AR(1) errors at times t, phi by restricted maximum likelihood (as nlme::gls's default).

    Returns (beta, cov, phi); cov on n − p degrees of freedom, as nlme reports it.
    """
    n, p = X.shape
    lags = np.abs(t[:, None] - t[None, :])

    def fit(phi):
        L = np.linalg.cholesky(phi**lags)
        Xw, yw = np.linalg.solve(L, X), np.linalg.solve(L, y)
        xtx = Xw.T @ Xw
        beta = np.linalg.solve(xtx, Xw.T @ yw)
        rss = float(((yw - Xw @ beta) ** 2).sum())
        return beta, xtx, rss, 2 * np.log(np.diag(L)).sum()

    def minus_restricted_loglik(phi):
        _, xtx, rss, logdet = fit(phi)
        return 0.5 * ((n - p) * np.log(rss) + logdet + np.linalg.slogdet(xtx)[1])

    phi = optimize.minimize_scalar(minus_restricted_loglik, bounds=(-0.99, 0.99), method="bounded",
                                   options={"xatol": 1e-8}).x
    beta, xtx, rss, _ = fit(phi)
    return beta, rss / (n - p) * np.linalg.inv(xtx), float(phi)


def reml_gls_t(y, n_before, n_after) -> float:
    """|t| of the plain GLS-AR(1) test of no first-year effect (to be read against t on n − p df)."""
    t, X, c = design(n_before, n_after)
    beta, cov, _ = reml_gls(np.log(y), t, X)
    return float(abs(c @ beta) / np.sqrt(c @ cov @ c))


def simulate_tests(n_before, n_after, phi, count, seed, step=0.0, trend=0.0, gls=False):
    """casekit's p-values of the first-year effect on ``count`` series, and the reference GLS's |t| if asked."""
    import casekit as ck

    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for _ in range(count):
        y, periods = series(rng, n_before, n_after, phi, step=step, trend=trend)
        ours.append(ck.its(y, periods, START, TRANSITION).effect_p)
        if gls:
            keep = np.r_[np.arange(n_before), np.arange(n_before + TRANSITION, len(y))]
            theirs.append(reml_gls_t(y[keep], n_before, n_after))
    return np.array(ours), np.array(theirs)


def gls_critical(n_before, n_after, alpha=0.05) -> float:
    return float(stats.t.ppf(1 - alpha / 2, n_before + n_after - 4))


def table(count: int):
    """Size, power at a 20% step (raw and size-adjusted) and the continuing-trend rate, with the GLS beside."""
    for n in (12, 24, 36):
        for phi in (0.0, 0.4, 0.7):
            null_p, null_t = simulate_tests(n, n, phi, count, seed=100 + n, gls=True)
            alt_p, alt_t = simulate_tests(n, n, phi, count, seed=200 + n, step=0.2, gls=True)
            trend_p, _ = simulate_tests(n, n, phi, count, seed=300 + n, trend=np.log(0.99))
            crit = gls_critical(n, n)
            # size-adjusted: each test's critical value set where it rejects 5% of the null series
            ours_adjusted = (alt_p <= np.quantile(null_p, 0.05)).mean()
            gls_adjusted = (alt_t > np.quantile(null_t, 0.95)).mean()
            print(f"| {n}+{n} | {phi} | {(null_p < 0.05).mean():.3f} | {(null_t > crit).mean():.3f} | "
                  f"{(alt_p < 0.05).mean():.3f} | {(alt_t > crit).mean():.3f} | {ours_adjusted:.3f} | "
                  f"{gls_adjusted:.3f} | {(trend_p < 0.05).mean():.3f} |", flush=True)


def recheck(count: int = 3000):
    """The 24+24 false-positive rates on fresh seeds, with more series than the table's cells."""
    for seed, phi in ((991, 0.0), (992, 0.4), (993, 0.7)):
        p, _ = simulate_tests(24, 24, phi, count, seed=seed)
        print(f"24+24 phi={phi}: {(p < 0.05).mean():.3f} of {count} series", flush=True)


def estimands(count: int = 1000):
    """Size and power of the two estimands casekit reports: the first-year average and the level change."""
    import casekit as ck

    print("| months a side | phi | first-year average: size | level change: size | first-year average: power "
          "| level change: power |")
    print("|---|---|---|---|---|---|")
    for n in (12, 24, 36):
        for phi in (0.0, 0.4, 0.7):
            rng = np.random.default_rng(7000 + n + int(10 * phi))
            rows = []
            for _ in range(count):
                null = ck.its(*series(rng, n, n, phi), START, TRANSITION)
                step = ck.its(*series(rng, n, n, phi, step=0.2), START, TRANSITION)
                rows.append((null.effect_p, null.level_p, step.effect_p, step.level_p))
            rates = (np.array(rows) < 0.05).mean(0)
            print(f"| {n}+{n} | {phi} | " + " | ".join(f"{100 * r:.1f}%" for r in rates) + " |", flush=True)


def corrections(count: int = 1000, seed: int = 8100):
    """Cases of five KPIs (one with a true 20% step) under each correction: power on the changed KPI and the
    rate of cases given a false verdict on one of the other four."""
    import casekit as ck
    from casekit.stats.multiplicity import adjust_pvalues

    rng = np.random.default_rng(seed)
    p = np.array([[ck.its(*series(rng, 24, 24, 0.4, step=0.2 if k == 0 else 0.0), START, TRANSITION).effect_p
                   for k in range(5)] for _ in range(count)])
    print("| correction | power on the changed KPI | cases with a false verdict among the other four |")
    print("|---|---|---|")
    for name in ("none", "holm", "bh", "primary"):
        if name == "primary":  # the changed KPI declared primary: its own p; Holm across the other four
            adjusted = np.column_stack([p[:, 0], np.array([adjust_pvalues(row[1:], "holm") for row in p])])
        else:
            adjusted = np.array([adjust_pvalues(row, name) for row in p])
        power, false = (adjusted[:, 0] < 0.05).mean(), (adjusted[:, 1:] < 0.05).any(axis=1).mean()
        label = {"none": "none", "holm": "Holm (default)", "bh": "Benjamini–Hochberg",
                 "primary": "the changed KPI primary, Holm on the rest"}[name]
        print(f"| {label} | {100 * power:.1f}% | {100 * false:.1f}% |", flush=True)
    for phi in (0.0, 0.4, 0.7):  # five KPIs, none changed: cases given a false verdict under Holm
        null = np.array([[ck.its(*series(rng, 24, 24, phi), START, TRANSITION).effect_p for _ in range(5)]
                         for _ in range(count // 2)])
        false = np.mean([(adjust_pvalues(row, "holm") < 0.05).any() for row in null])
        print(f"five unchanged KPIs, phi {phi}: {100 * false:.1f}% of {count // 2} cases given a false verdict")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--recheck"]:
        recheck()
    elif sys.argv[1:2] == ["--estimands"]:
        estimands()
    elif sys.argv[1:2] == ["--corrections"]:
        corrections()
    else:
        print("| months a side | phi | size | GLS size | power | GLS power | power, size-adjusted | GLS, size-adjusted "
              "| trend called a change |")
        table(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
