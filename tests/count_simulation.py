"""Count series simulated without casekit, for the count model's size and power against the log-Gaussian one.

``python tests/count_simulation.py [COUNT]`` prints the table of docs/methods.md. A month's count is Poisson
around a mean that moves with a Gaussian AR(1) on the log scale (phi 0.4, innovations sd 0.15 unless asked:
overdispersed, correlated months), 24 months a side around a 3-month transition; the mean may fall by
``step`` at adoption. ``inar`` draws instead an INAR(1) series (binomial thinning, Poisson arrivals: each
month keeps each of last month's events with probability 0.4), a count process of another kind.
"""

from __future__ import annotations

import sys

import numpy as np

BEFORE, AFTER, TRANSITION = 24, 24, 3


def series(rng, mean=5.0, phi=0.4, noise=0.15, step=0.0, inar=False):
    """(counts, times as casekit counts them: 0 at the first month after the transition)."""
    t = np.r_[np.arange(-BEFORE - TRANSITION, -TRANSITION), np.arange(AFTER)]
    after = t >= 0
    mean_t = mean * np.where(after, 1 - step, 1.0)
    if inar:
        keep = 0.4
        counts = np.empty(len(t))
        previous = rng.poisson(mean)
        for i, m in enumerate(mean_t):
            previous = rng.binomial(previous, keep) + rng.poisson((1 - keep) * m)
            counts[i] = previous
        return counts, t
    u = np.empty(len(t))
    u[0] = rng.normal(0, noise / np.sqrt(1 - phi**2))
    for i in range(1, len(t)):
        step_phi = phi ** (t[i] - t[i - 1])
        u[i] = step_phi * u[i - 1] + rng.normal(0, noise * np.sqrt((1 - step_phi**2) / (1 - phi**2)))
    return rng.poisson(mean_t * np.exp(u - noise**2 / (2 * (1 - phi**2)))).astype(float), t


def rates(count: int, seed: int, model: str = "count", **settings) -> float:
    """Share of ``count`` series whose first-year effect casekit calls significant at 5%: ``model`` "count" (the
    count model) or "gaussian" (the log-Gaussian segmented regression, log(count + 0) where every month has a
    count, else on the raw scale, as casekit fitted count KPIs before)."""
    from casekit.stats.timeseries import SegmentedSeries, its_series

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        y, t = series(rng, **settings)
        phases = np.where(t < 0, "before", "after")
        one = SegmentedSeries(y, t, phases, (t % 12) + 1, 12, counts=model == "count")
        hits += its_series(one, n_boot=499).p_value["effect"] < 0.05
    return hits / count


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print("| series | mean count a month | count model: size | power (a 25% fall) | log-Gaussian: size | power |")
    print("|---|---|---|---|---|---|")
    designs = [("Poisson, log-normal AR(1) (phi 0.4, sd 0.15)", {}, (3.0, 10.0, 30.0)),
               ("Poisson, log-normal AR(1) (phi 0.7, sd 0.15)", {"phi": 0.7}, (10.0,)),
               ("INAR(1), thinning 0.4", {"inar": True}, (3.0, 10.0, 30.0))]
    for name, settings, means in designs:
        for mean in means:
            cells = [rates(count, 41, model, mean=mean, step=step, **settings)
                     for model in ("count", "gaussian") for step in (0.0, 0.25)]
            print(f"| {name} | {mean:g} | " + " | ".join(f"{100 * c:.1f}%" for c in cells) + " |", flush=True)
