"""The planner's predicted power against casekit's own tests on series simulated without casekit.

``python tests/plan_simulation.py [COUNT]`` prints the table of docs/methods.md ("Planning"): at each design
point, the power the planner predicts and the share of COUNT simulated series (or portfolios) whose effect
casekit's test calls significant at 5%. Single series come from tests/ar1_simulation.py, pairs with a
comparison unit from tests/controlled_simulation.py; a portfolio is k such series, each organization's true
effect drawn around the mean with sd tau, pooled by ck.meta_analysis as compare_portfolio pools them. Count series come
from tests/count_simulation.py (Poisson around a log-normal AR(1) mean), tested by casekit's count model with its
bootstrap; the planner is given their mean, dispersion and Pearson autocorrelation as the generator implies
them. A staggered panel (:func:`staggered_panel`) is organizations adopting in random months, with a calendar every
organization lives through, each organization's AR(1) noise and its own constant change, tested by casekit's
event study (the average change after adoption).
"""

from __future__ import annotations

import sys

import ar1_simulation
import controlled_simulation
import count_simulation
import numpy as np

# (months a side, phi, noise, true fall, comparison correlation or None)
SINGLE = [(12, 0.0, 0.10, 0.20, None), (12, 0.7, 0.10, 0.30, None), (24, 0.0, 0.10, 0.15, None),
          (24, 0.4, 0.10, 0.20, None), (24, 0.7, 0.10, 0.30, None), (36, 0.4, 0.10, 0.10, None),
          (36, 0.7, 0.10, 0.20, None), (24, 0.4, 0.15, 0.20, 0.7), (12, 0.4, 0.15, 0.20, 0.7),
          (36, 0.0, 0.15, 0.10, 0.7)]
# (organizations, months a side, phi, noise, true mean fall, tau)
POOLED = [(4, 24, 0.4, 0.10, 0.15, 0.05), (8, 24, 0.4, 0.10, 0.10, 0.05), (16, 12, 0.4, 0.10, 0.10, 0.10),
          (32, 24, 0.4, 0.10, 0.05, 0.05)]
# (organizations, months of adoption, phi, noise, true mean fall, tau, share never adopting)
STAGGERED = [(12, 24, 0.4, 0.10, 0.10, 0.0, 0.0), (20, 12, 0.2, 0.15, 0.10, 0.05, 0.2),
             (40, 24, 0.6, 0.10, 0.05, 0.0, 0.0), (80, 24, 0.4, 0.15, 0.05, 0.05, 0.3)]
STAGGERED_BEFORE, STAGGERED_AFTER = 24, 12
# (mean count a month, phi of the log mean, its innovations' sd, true fall): 24 months a side, 3 of transition
COUNTS = [(3.0, 0.0, 0.15, 0.40), (5.0, 0.4, 0.15, 0.25), (10.0, 0.4, 0.15, 0.25), (30.0, 0.7, 0.15, 0.30)]


def count_inputs(mean, phi, noise):
    """The dispersion and Pearson residuals' autocorrelation that count_simulation's generator implies."""
    variance = noise**2 / (1 - phi**2)
    dispersion = 1 + mean * np.expm1(variance)
    return dispersion, mean * np.expm1(variance * phi) / dispersion


def count_rate(count: int, seed: int, mean, phi, noise, fall) -> float:
    return count_simulation.rates(count, seed, mean=mean, phi=phi, noise=noise, step=fall)


def predicted_count(mean, phi, noise, fall) -> float:
    from casekit.stats.planning import count_power_table

    dispersion, pearson = count_inputs(mean, phi, noise)
    return float(count_power_table(count_simulation.BEFORE, count_simulation.AFTER, mean, dispersion, pearson,
                                   [np.log1p(-fall)], transition=count_simulation.TRANSITION,
                                   simulations=2000)["power"].iloc[0])


def staggered_panel(rng, k, spread, phi, noise, fall, tau, never):
    """(organization, month, adoption month, log KPI) of ``k`` organizations adopting over ``spread`` months."""
    months = STAGGERED_BEFORE + spread + STAGGERED_AFTER
    adoption = STAGGERED_BEFORE + rng.integers(0, spread, k)
    adoption[rng.random(k) < never] = months + 1
    calendar = np.cumsum(rng.normal(0, 0.03, months))
    errors = np.zeros((k, months))
    errors[:, 0] = rng.normal(0, noise / np.sqrt(1 - phi**2), k)
    for month in range(1, months):
        errors[:, month] = phi * errors[:, month - 1] + rng.normal(0, noise, k)
    change = np.log1p(-fall) + tau * rng.standard_normal(k)
    after = np.arange(months)[None, :] >= adoption[:, None]
    y = rng.normal(1.0, 0.5, k)[:, None] + calendar[None, :] + errors + change[:, None] * after
    return (np.repeat(np.arange(k), months), np.tile(np.arange(months), k), np.repeat(adoption, months), y.ravel())


def staggered_rate(count: int, seed: int, k, spread, phi, noise, fall, tau, never) -> float:
    """Share of ``count`` staggered panels whose average change after adoption casekit's event study calls
    significant at 5%."""
    from casekit.stats.event_study import event_study

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        fit = event_study(*staggered_panel(rng, k, spread, phi, noise, fall, tau, never))
        hits += fit.average(0, 24)["p_value"] < 0.05
    return hits / count


def predicted_staggered(k, spread, phi, noise, fall, tau, never) -> float:
    from casekit.stats.planning import event_study_power

    return float(event_study_power(k, np.log1p(-fall), spread, STAGGERED_BEFORE, STAGGERED_AFTER, phi, noise,
                                   tau=tau, never=never, panels=1000)[0, 0])


def single_rate(count: int, seed: int, months: int, phi: float, noise: float, fall: float, comparison) -> float:
    """Share of ``count`` series (or pairs, with a comparison) whose first-year effect casekit calls significant."""
    from casekit.stats.timeseries import its_fit

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        if comparison is None:
            values, periods = ar1_simulation.series(rng, months, months, phi, step=fall, noise=noise)
            fit = its_fit(values, periods, ar1_simulation.START, ar1_simulation.TRANSITION, n_boot=499)
        else:
            adopting, other, periods = controlled_simulation.pair(rng, months, months, phi=phi, rho=comparison,
                                                                  noise=noise, step=fall)
            fit = its_fit(adopting, periods, controlled_simulation.START, controlled_simulation.TRANSITION,
                          n_boot=499, comparison=other)
        hits += fit.p_value["effect"] < 0.05
    return hits / count


def pooled_rate(count: int, seed: int, k: int, months: int, phi: float, noise: float, fall: float,
                tau: float) -> float:
    """Share of ``count`` portfolios of ``k`` organizations whose pooled effect casekit calls significant."""
    import casekit as ck
    from casekit.stats.timeseries import its_fit

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(count):
        effects, variances = [], []
        for true in np.log1p(-fall) + tau * rng.standard_normal(k):
            values, periods = ar1_simulation.series(rng, months, months, phi, step=-np.expm1(true), noise=noise)
            fit = its_fit(values, periods, ar1_simulation.START, ar1_simulation.TRANSITION, bootstrap=False)
            effects.append(fit.estimate["effect"])
            variances.append((fit.se["effect"] * fit.inflation) ** 2)
        hits += ck.meta_analysis(effects, variances, method="DL", test="robust").p_value < 0.05
    return hits / count


def predicted_single(months, phi, noise, fall, comparison) -> float:
    from casekit.stats.planning import power_table

    return float(power_table(months, months, phi, noise, [np.log1p(-fall)], comparison=comparison)["power"].iloc[0])


def predicted_pooled(k, months, phi, noise, fall, tau) -> float:
    from casekit.stats.planning import pooled_power

    return float(pooled_power(k, np.log1p(-fall), months, months, phi, noise, tau)[0])


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print("| design | predicted | casekit's test, simulated | difference |")
    print("|---|---|---|---|")
    for point in SINGLE:
        months, phi, noise, fall, comparison = point
        name = (f"{months}+{months}, φ {phi}, sd {noise}, a {fall:.0%} fall"
                + (f", comparison correlated {comparison}" if comparison is not None else ""))
        predicted, simulated = predicted_single(*point), single_rate(count, 61, *point)
        print(f"| {name} | {predicted:.1%} | {simulated:.1%} | {100 * (predicted - simulated):+.1f} |", flush=True)
    for point in POOLED:
        k, months, phi, noise, fall, tau = point
        name = f"{k} organizations, {months}+{months}, φ {phi}, sd {noise}, a {fall:.0%} fall on average, τ {tau}"
        predicted, simulated = predicted_pooled(*point), pooled_rate(max(count // 4, 50), 67, *point)
        print(f"| {name} | {predicted:.1%} | {simulated:.1%} | {100 * (predicted - simulated):+.1f} |", flush=True)
    for point in COUNTS:
        mean, phi, noise, fall = point
        name = f"count KPI: {mean:g} a month, log mean φ {phi}, sd {noise}, a {fall:.0%} fall"
        predicted, simulated = predicted_count(*point), count_rate(count, 83, *point)
        print(f"| {name} | {predicted:.1%} | {simulated:.1%} | {100 * (predicted - simulated):+.1f} |", flush=True)
    for point in STAGGERED:
        k, spread, phi, noise, fall, tau, never = point
        name = (f"event study: {k} organizations adopting over {spread} months ({never:.0%} never), φ {phi}, "
                f"sd {noise}, a {fall:.0%} fall, τ {tau}")
        predicted, simulated = predicted_staggered(*point), staggered_rate(count, 79, *point)
        print(f"| {name} | {predicted:.1%} | {simulated:.1%} | {100 * (predicted - simulated):+.1f} |", flush=True)
