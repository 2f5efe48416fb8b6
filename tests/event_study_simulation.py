"""Staggered adoption across organizations, simulated without casekit, for the event study's error rates.

``python tests/event_study_simulation.py [COUNT]`` prints the table of docs/methods.md: how often the pre-trend
check rejects when trends are parallel (and when adopting organizations have a run-up of their own in the year before), and how often the intervals after adoption cover the true effect, when
organizations adopt at different months and gain differently.

Each organization has its own level and AR(1) noise (phi 0.4, sd 0.15 on the log scale) and lives through the
same calendar as the others: a random walk of shocks every organization takes, which a before/after comparison
of one organization would read as an effect. Organizations adopt in months 24–47 of 72 (a share never do); an
adopting organization's gain grows over its first year and is larger the later its cohort (0.5 to 1.5 times
``effect``): effects that differ by cohort and by time since adoption, where a two-way fixed-effects
regression is biased.
"""

from __future__ import annotations

import sys

import numpy as np

MONTHS = 72


def panel(rng, organizations=40, never=0.2, phi=0.4, noise=0.15, effect=0.2, drift=0.0):
    """(adoption month or NaN per organization, log KPI organizations × months, each organization's gain);
    ``drift``: a trend a month over the year before an organization adopts (a run-up the others do not have:
    parallel trends fail)."""
    adoption = rng.integers(24, 48, organizations).astype(float)
    adoption[rng.random(organizations) < never] = np.nan
    calendar = np.cumsum(rng.normal(0, 0.03, MONTHS))
    errors = np.zeros((organizations, MONTHS))
    errors[:, 0] = rng.normal(0, noise / np.sqrt(1 - phi**2), organizations)
    for month in range(1, MONTHS):
        errors[:, month] = phi * errors[:, month - 1] + rng.normal(0, noise, organizations)
    gain = effect * (0.5 + (adoption - 24) / 24)
    since = np.arange(MONTHS)[None, :] - adoption[:, None]
    ramp = np.clip((since + 1) / 12, 0, 1)
    effect_now = np.where(since >= 0, -gain[:, None] * ramp, 0.0)
    own_trend = drift * np.nan_to_num(np.clip(since + 12, 0, 12))
    y = (rng.normal(1.0, 0.5, organizations)[:, None] + calendar[None, :] + own_trend + errors
         + np.nan_to_num(effect_now))
    return adoption, y, gain


def truth(adoption, gain, event_time, min_comparisons=2):
    """The effect the estimator targets at ``event_time``: the mean gain of the adopting organizations whose
    cohort has at least ``min_comparisons`` organizations not yet adopting then (and at the month before)."""
    later = np.where(np.isfinite(adoption), adoption, np.inf)
    cohorts = [g for g in adoption if np.isfinite(g)]
    compared = {g: ((later > max(g + event_time, g - 1)) & (later != g)).sum() >= min_comparisons for g in cohorts}
    rows = [i for i, g in enumerate(adoption) if np.isfinite(g) and compared[g]]
    return -np.mean(gain[rows] * min(max((event_time + 1) / 12, 0), 1)) if event_time >= 0 else 0.0


def rates(count: int, seed: int, organizations: int = 40, never: float = 0.2, leads: int = 12, lags: int = 24,
          drift: float = 0.0):
    """(share of panels whose pre-trend check rejects at 5%, share of post-adoption intervals covering the
    truth, the lowest coverage of any one month since adoption)."""
    from casekit.stats.event_study import event_study

    rng = np.random.default_rng(seed)
    rejected, covered = 0, {}
    for _ in range(count):
        adoption, y, gain = panel(rng, organizations, never, drift=drift)
        n, months = y.shape
        result = event_study(np.repeat(np.arange(n), months), np.tile(np.arange(months), n),
                             np.repeat(adoption, months), y.ravel(), leads=leads, lags=lags)
        rejected += result.pretrend.p_value < 0.05
        for _, row in result.effects[result.effects["event_time"] >= 0].iterrows():
            true = truth(adoption, gain, int(row["event_time"]))
            covered.setdefault(int(row["event_time"]), []).append(row["ci_low"] <= true <= row["ci_high"])
    by_month = [np.mean(hits) for hits in covered.values() if len(hits) >= count // 2]
    everything = np.concatenate([hits for hits in covered.values()])
    return rejected / count, float(np.mean(everything)), float(min(by_month))


def average_rejects(count: int, seed: int, organizations: int = 40, effect: float = 0.2) -> float:
    """Share of ``count`` panels whose average change over months 0 to 24 after adoption is significant at 5%
    (``effect`` 0: the test's size; otherwise its power)."""
    from casekit.stats.event_study import event_study

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        adoption, y, _ = panel(rng, organizations, 0.2, effect=effect)
        n, months = y.shape
        result = event_study(np.repeat(np.arange(n), months), np.tile(np.arange(months), n),
                             np.repeat(adoption, months), y.ravel())
        hits += result.average(0)["p_value"] < 0.05
    return hits / count


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print("| organizations | never adopt | pre-trend check rejects | intervals cover (all months) | lowest month |")
    print("|---|---|---|---|---|")
    for organizations, never in ((15, 0.2), (40, 0.0), (40, 0.2), (200, 0.2)):
        rejects, cover, lowest = rates(count, 29, organizations, never)
        print(f"| {organizations} | {never:.0%} | {rejects:.1%} | {cover:.1%} | {lowest:.1%} |")
    print()
    print("| organizations | run-up a month, the year before adoption | pre-trend check rejects |")
    print("|---|---|---|")
    for organizations, drift in ((40, 0.005), (40, 0.01), (200, 0.005)):
        print(f"| {organizations} | {drift:.1%} | {rates(count, 31, organizations, 0.2, drift=drift)[0]:.1%} |")
    print()
    print("| organizations | average change after adoption: size | power, gains of 5-15% | power, gains of 10-30% |")
    print("|---|---|---|---|")
    for organizations in (15, 40):
        cells = [average_rejects(count, 5, organizations, effect) for effect in (0.0, 0.1, 0.2)]
        print(f"| {organizations} | " + " | ".join(f"{100 * c:.1f}%" for c in cells) + " |")
