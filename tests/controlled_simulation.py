"""Series for the controlled design (a KPI and its comparison unit), simulated without casekit.

``python tests/controlled_simulation.py [COUNT]`` prints the size, power and shared-shock table of docs/methods.md.
Each pair shares part of its noise: AR(1) errors (phi 0.4 unless asked) whose innovations correlate by ``rho``,
sd 0.15 on the log scale, 24 months a side around a 3-month transition; the adopting unit may take a true step
at adoption, both may take a shared shock there, and the adopting unit may drift away on a trend of its own.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

START = pd.Period("2022-01", freq="M")
TRANSITION = 3


def pair(rng, n_before=24, n_after=24, phi=0.4, rho=0.7, noise=0.15, step=0.0, shock=0.0, drift=0.0):
    """(adopting, comparison, periods): ``step`` the adopting unit's true improvement (0.2: 20% lower),
    ``shock`` a fall both take at adoption, ``drift`` the adopting unit's own log trend a month."""
    months = pd.period_range(START - n_before, START + TRANSITION + n_after - 1, freq="M")
    k = np.arange(len(months))
    after = k >= n_before + TRANSITION
    z = rng.standard_normal((2, len(months)))
    innovations = np.stack([z[0], rho * z[0] + np.sqrt(1 - rho**2) * z[1]])
    errors = np.empty_like(innovations)
    errors[:, 0] = innovations[:, 0] / np.sqrt(1 - phi**2)
    for i in range(1, len(months)):
        errors[:, i] = phi * errors[:, i - 1] + innovations[:, i]
    shared = np.log1p(-shock) * after
    adopting = np.log(10) + drift * k + np.log1p(-step) * after + shared + noise * errors[0]
    comparison = np.log(12) + shared + noise * errors[1]
    return np.exp(adopting), np.exp(comparison), [str(m) for m in months]


def rates(count: int, seed: int, controlled: bool = True, checked: bool = False, **settings) -> float:
    """The share of ``count`` pairs whose first-year effect casekit calls significant at 5% (``checked``: and
    whose check of parallel trends passes, as compare_case requires for a verdict)."""
    import casekit as ck

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        adopting, comparison, periods = pair(rng, **settings)
        result = ck.its(adopting, periods, START, TRANSITION, comparison=comparison if controlled else None)
        hits += result.effect_p < 0.05 and not (checked and result.pre_slope_p < 0.05)
    return hits / count


def table(count: int) -> None:
    print("| setting | controlled | controlled, a verdict (the check passed) | single series |\n|---|---|---|---|")
    for name, settings in (("no effect (size)", {}), ("a true 20% step (power)", {"step": 0.2}),
                           ("a 20% shock both take at adoption", {"shock": 0.2}),
                           ("a 40% shock both take at adoption", {"shock": 0.4}),
                           ("the unit drifts 0.5% a month from its comparison", {"drift": -0.005})):
        print(f"| {name} | {rates(count, 11, True, **settings):.1%} | {rates(count, 11, True, True, **settings):.1%} | "
              f"{rates(count, 11, False, **settings):.1%} |", flush=True)


if __name__ == "__main__":
    table(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
