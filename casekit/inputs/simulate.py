"""Simulated portfolios in the case format, with a known true effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import ArgumentError
from .catalog import kpi_catalog
from .kpi_records import KpiRecords
from .loading import Portfolio, portfolio_from
from .periods import format_period
from .validation import ParsedCase


def kpi_series(rng: np.random.Generator, months: pd.PeriodIndex, start: pd.Period, transition: int, *,
               base: float, effect: float, better: str, noise: float, phi: float = 0.4, season: float = 0.0,
               interval: bool = False, low: float = 0.0, high: float | None = None, trend: float = 0.0,
               shift: float = 0.0, innovations=None, market: tuple[pd.Period, float] | None = None) -> np.ndarray:
    """One KPI's monthly values: a level that changes by ``effect`` at adoption.

    ``effect`` is the true direction-aware improvement as a fraction (0.2 =
    20% better: a lower-is-better KPI falls to 0.8 of its baseline, a
    higher-is-better one rises to 1.2) or, for interval-scale KPIs, in
    points. The change ramps in linearly over the ``transition`` months.
    Noise is AR(1) with coefficient ``phi`` and innovation sd ``noise`` on
    the log scale (in points for interval KPIs, times 1), plus a yearly
    sinusoid of amplitude ``season`` with a random phase, plus a steady
    ``trend`` (log change a month, or points a month for interval KPIs) that
    runs through the whole series and is no effect of adoption. Values are
    clipped to [low, high − 0.5].

    Parameters
    ----------
    rng : numpy.random.Generator
        The random numbers.
    months : pandas.PeriodIndex
        The months to simulate.
    start : pandas.Period
        The adoption month.
    transition : int
        Months over which the change ramps in.
    base : float
        The baseline level.
    effect : float
        The true improvement (a fraction, or points).
    better : {"lower", "higher"}
        The KPI's better direction.
    noise : float
        The innovations' standard deviation.
    phi : float, default 0.4
        The AR(1) coefficient.
    season : float, default 0.0
        The yearly sinusoid's amplitude.
    interval : bool, default False
        An interval-scale KPI (additive, in points).
    low, high : float
        Bounds the values are clipped to.
    trend : float, default 0.0
        A steady trend that is not the adoption's.
    shift : float, default 0.0
        A change at the adoption month that is not the adoption's (a market turn both an organization
        and its comparison unit take), direction-aware as ``effect``, with no ramp.
    innovations : array_like, optional
        The AR(1) innovations in standard deviations, one per month (to correlate two series); by
        default drawn from ``rng``.
    market : (pandas.Period, float), optional
        A change from a calendar month on (a market turn every organization takes, whenever it
        adopted), direction-aware as ``effect``: no effect of adoption.

    Returns
    -------
    numpy.ndarray
        One value per month.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.period_range("2020-01", periods=48, freq="M")
    >>> y = kpi_series(np.random.default_rng(0), months, pd.Period("2022-01", "M"), 0, base=10.0, effect=0.2,
    ...                better="lower", noise=0.01, phi=0.0)
    >>> round(float(y[24:].mean() / y[:24].mean()), 2)
    0.8
    """
    n = len(months)
    shocks = rng.normal(0.0, noise, n) if innovations is None else noise * np.asarray(innovations, dtype=float)
    ar = np.empty(n)
    ar[0] = shocks[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        ar[t] = phi * ar[t - 1] + shocks[t]
    cycle = season * np.sin(2 * np.pi * (months.month.to_numpy() - 1) / 12 + rng.uniform(0, 2 * np.pi))
    since = months.asi8 - start.ordinal
    ramp = np.clip((since + 1) / max(transition, 1), 0, 1)
    steps = np.arange(n)
    turned = (since >= 0).astype(float)
    month, size = market if market is not None else (start, 0.0)
    market_turned = (months.asi8 >= month.ordinal).astype(float)
    if interval:
        values = base + effect * ramp + shift * turned + size * market_turned + 10 * cycle + ar + trend * steps
    else:
        sign = -1 if better == "lower" else 1
        values = base * (1 + sign * effect * ramp) * (1 + sign * shift * turned) * (
            1 + sign * size * market_turned) * np.exp(cycle + ar + trend * steps)
    return np.clip(values, low, np.inf if high is None else high - 0.5)


def simulate_portfolio(n_orgs: int, effect: float, seed: int, kpis=("defect_density", "on_time_delivery"),
                       heterogeneity: float = 0.05, noise: float = 0.10, phi: float = 0.4,
                       months_before: int = 24, months_after: int = 24, transition_months: int = 3,
                       trend: float = 0.0, out: str | Path | None = None, comparison: float | None = None,
                       shared_shock: float = 0.0, market_turn: float = 0.0) -> Portfolio:
    """A portfolio of simulated organizations whose true improvement is known.

    Parameters
    ----------
    n_orgs : int
        Number of organizations (cases ``sim-0001``, ``sim-0002``, ...).
    effect : float
        The mean true improvement, direction-aware, as a fraction: 0.2 means
        20% better on every KPI (defects fall to 0.8, on-time delivery rises
        to 1.2 of baseline); 0 means no effect.
    seed : int
        Seed of the random generator; the same seed gives the same portfolio.
    kpis : sequence of str
        Catalog KPIs each organization measures monthly: ratio-scale ones, and counts
        (``escaped_defects``, ``incidents``, ``releases``: Poisson around a mean of 3 a month that moves
        as a ratio-scale KPI does, so that some months are zero).
    heterogeneity : float
        Between-organization sd of the true effect on the log scale (tau).
    noise, phi : float
        Month-to-month noise (sd of AR(1) innovations on the log scale) and
        its autocorrelation.
    months_before, months_after, transition_months : int
        Length of each phase.
    trend : float
        A steady change a month on the log scale (−0.01: about 1% lower
        every month) that runs before and after adoption alike: no effect
        of adoption, but a naive before/after comparison sees one.
    out : path, optional
        Also write the cases there, in the case format (validated like any
        other case).
    comparison : float, optional
        Give each organization a comparison unit (``comparison.csv``: a
        business unit that did not adopt) measuring the same KPIs, whose
        month-to-month noise correlates with the organization's by this much
        (0.7: it tracks the KPI closely); no effect of adoption. None: none.
    shared_shock : float, default 0.0
        A change at the adoption month that is no effect of adoption (a
        market turn), direction-aware as ``effect`` (0.2: 20% better), which
        the organization and its comparison unit both take: a single series
        reads it as an effect, the controlled design does not. ``truth``
        does not count it.
    market_turn : float, default 0.0
        A change in January 2021 that every organization takes (a market turn in calendar time),
        direction-aware as ``effect``: no effect of adoption. Organizations adopt in the 24 months
        from January 2020, so those adopting near it read it as an effect in their own series; the
        event study, against the organizations not yet adopting, does not. ``truth`` does not count it.

    Returns
    -------
    Portfolio
        As :func:`load_cases` returns it, plus ``truth``: one row per case
        and KPI with ``true_effect`` (the direction-aware log ratio) and
        ``true_improvement`` (percent).

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.simulate_portfolio(n_orgs=20, effect=0.2, seed=1)
    >>> len(pf.cases), sorted(pf.kpis["kpi"].unique())
    (20, ['defect_density', 'on_time_delivery'])
    >>> float(pf.truth["true_improvement"].mean()) > 15
    True
    """
    if n_orgs < 1:
        raise ArgumentError(f"n_orgs must be at least 1, got {n_orgs}")
    catalog = kpi_catalog().set_index("kpi")
    unknown = [k for k in kpis if k not in catalog.index or catalog.loc[k, "scale"] == "interval"]
    if unknown:
        raise ArgumentError(f"simulate ratio-scale and count catalog KPIs only; not {', '.join(unknown)}")
    if not -1 < effect < 1:
        raise ArgumentError(f"effect is a fraction between -1 and 1, got {effect}")
    for name, value, high in (("noise", noise, 2.0), ("heterogeneity", heterogeneity, 2.0)):
        if not 0 <= value <= high:
            raise ArgumentError(f"{name} is a standard deviation on the log scale, from 0 to {high:g} (such as "
                                f"0.1), got {value}")
    if not -1 < phi < 1:
        raise ArgumentError(f"phi, the month-to-month autocorrelation, lies strictly between -1 and 1, got {phi}")
    if not -0.5 <= trend <= 0.5:
        raise ArgumentError(f"trend is a change a month on the log scale, from -0.5 to 0.5, got {trend}")
    if comparison is not None and not -1 < comparison < 1:
        raise ArgumentError(f"comparison is the correlation of the comparison unit's noise with the organization's, "
                            f"strictly between -1 and 1 (such as 0.7), got {comparison}")
    for name, value in (("shared_shock", shared_shock), ("market_turn", market_turn)):
        if not -1 < value < 1:
            raise ArgumentError(f"{name} is a fraction between -1 and 1, got {value}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"seed is a whole number of at least 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    parsed, truth = [], []
    for i in range(n_orgs):
        case, true = _organization(rng, i + 1, effect, kpis, catalog, heterogeneity, noise, phi,
                                   months_before, months_after, transition_months, trend, comparison, shared_shock,
                                   market_turn)
        parsed.append(case)
        truth += true
    portfolio = portfolio_from(parsed, kpi_catalog())
    portfolio.truth = pd.DataFrame(truth)
    if out is not None:
        for case in parsed:
            _write(case, Path(out))
    return portfolio


MARKET_TURN = pd.Period("2021-01", freq="M")  # the middle of the months organizations adopt in
COUNT_MEAN = 3.0  # a count KPI's mean a month before adoption: some months have none


def _organization(rng, number, effect, kpis, catalog, tau, noise, phi, n_before, n_after, transition, trend,
                  comparison=None, shared_shock=0.0, market_turn=0.0):
    start = pd.Period("2020-01", freq="M") + int(rng.integers(0, 24))
    months = pd.period_range(start - n_before, start + transition + n_after - 1, freq="M")
    case_id = f"sim-{number:04d}"
    rows, truth, compared = [], [], []
    for kpi in kpis:
        info = catalog.loc[kpi]
        sign = 1 if info["better"] == "higher" else -1
        mean_theta = sign * np.log1p(sign * effect)
        theta = mean_theta + tau * rng.standard_normal()
        true_fraction = sign * np.expm1(sign * theta)  # back to a direction-aware fraction
        high = info["max"] if np.isfinite(info["max"]) else None
        count = info["scale"] == "count"
        base = COUNT_MEAN if count else 40.0 if high is not None else 5.0
        market = (MARKET_TURN, market_turn) if market_turn else None
        ours = theirs = None  # drawn inside kpi_series, as before comparison units existed: seeds keep their cases
        if comparison is not None:
            ours = rng.standard_normal(len(months))
            theirs = comparison * ours + np.sqrt(1 - comparison**2) * rng.standard_normal(len(months))
        values = kpi_series(rng, months, start, transition, base=base, effect=true_fraction,
                            better=info["better"], noise=noise, phi=phi, high=high, trend=trend, shift=shared_shock,
                            innovations=ours, market=market)
        if count:  # events around the simulated mean: zeros are data
            values = rng.poisson(values).astype(float)
        rows += [{"period": m, "kpi": kpi, "value": float(f"{v:.6g}"), "line": 0} for m, v in zip(months, values)]
        if comparison is not None:
            other = kpi_series(rng, months, start, transition, base=base * 1.15 if high is None else base * 0.9,
                               effect=0.0, better=info["better"], noise=noise, phi=phi, high=high, trend=trend,
                               shift=shared_shock, innovations=theirs, market=market)
            other = rng.poisson(other).astype(float) if count else other
            compared += [{"period": m, "kpi": kpi, "value": float(f"{v:.6g}"), "line": 0}
                         for m, v in zip(months, other)]
        truth.append({"case_id": case_id, "kpi": kpi, "true_effect": theta, "true_improvement": 100 * true_fraction})
    before = int(rng.integers(1, 4))
    after = min(5, before + int(rng.integers(0, 3)))
    appraisals = [
        {"date": (start - 3).start_time, "method": "SCAMPI A" if before > 1 else "SCAMPI C",
         "maturity_level": before if before > 1 else None, "rated": before > 1, "model": "CMMI V2.0", "scope": None},
        {"date": (start + transition + n_after - 2).start_time, "method": "Benchmark", "maturity_level": after,
         "rated": True, "model": "CMMI V2.0", "scope": None},
    ]
    appraisals[0] = {k: v for k, v in appraisals[0].items() if v is not None or k == "scope"}
    meta = {
        "id": case_id, "name": f"Simulated organization {number}", "sector": ["Technology", "Financial services",
                                                                             "Manufacturing"][number % 3],
        "region": "Simulated", "size": int(rng.integers(50, 5000)), "source": "illustrative",
        "summary": "Simulated with casekit.simulate_portfolio; the true effect is known.",
        "model": "CMMI V2.0", "adoption_start": start, "transition_months": transition,
        "goals": [], "investments": [],
        "comparison": None if comparison is None else {"unit": f"Comparison unit {number} (did not adopt)",
                                                       "kind": "business unit", "description": ""},
    }
    case = ParsedCase(Path(case_id), meta, kpi_catalog().iloc[0:0], KpiRecords.from_rows(rows), appraisals, [])
    case.comparison = KpiRecords.from_rows(compared)
    return case, truth


def _write(case: ParsedCase, out: Path) -> None:
    meta = case.meta
    folder = out / meta["id"]
    folder.mkdir(parents=True, exist_ok=True)
    doc = {k: meta[k] for k in ("id", "name", "sector", "region", "size", "source", "summary")}
    doc["adoption"] = {"start": format_period(meta["adoption_start"]), "model": meta["model"],
                       "transition_months": meta["transition_months"]}
    if meta.get("comparison"):
        doc["comparison"] = {key: value for key, value in meta["comparison"].items() if value}
    (folder / "case.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    lines = ["period,kpi,value"] + [f"{format_period(r['period'])},{r['kpi']},{r['value']!r}" for r in case.kpis]
    (folder / "kpis.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if meta.get("comparison"):
        lines = ["period,kpi,value"] + [f"{format_period(r['period'])},{r['kpi']},{r['value']!r}"
                                        for r in case.comparison]
        (folder / "comparison.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    appraisals = ["date,method,maturity_level,model"] + [
        f"{a['date']:%Y-%m-%d},{a['method']},{a.get('maturity_level') or ''},{a['model']}" for a in case.appraisals
    ]
    (folder / "appraisals.csv").write_text("\n".join(appraisals) + "\n", encoding="utf-8")
