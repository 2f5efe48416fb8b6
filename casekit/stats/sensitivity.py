"""Would the test have found an effect where there was none? Placebo adoption dates within the baseline.

CausalPy runs this check by default and CausalImpact's documentation asks for it: the same model is
fitted with the adoption moved to dates inside the period before the real one, where nothing was
adopted. If the real effect is no larger than many of those placebo effects, the series moves that
much on its own, and the finding says less than its p-value suggests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .timeseries import SegmentedSeries, its_estimates

MIN_SIDE = 6  # periods a placebo needs on each side of its fake adoption
PLACEBO_COLUMNS = ["placebo_t", "n_before", "n_after", "effect"]


def placebo_effects(series: SegmentedSeries, min_side: int = MIN_SIDE) -> pd.DataFrame:
    """The effect the same model finds at each placebo adoption date inside the baseline.

    Parameters
    ----------
    series : SegmentedSeries
        The series as its real fit used it (a controlled one included: its placebos are fitted against
        the same comparison).
    min_side : int, default 6
        Periods a placebo needs before its fake adoption and after its fake transition.

    Returns
    -------
    pandas.DataFrame
        One row per placebo date: ``placebo_t`` (its time, in periods from the real first post-transition
        period: negative), ``n_before, n_after`` (the baseline periods on each side of it) and ``effect``
        (on the fit's scale, as the real ``effect`` contrast: a log ratio or the KPI's unit). Empty when
        the baseline is too short for any.

    Notes
    -----
    Each placebo uses only the real baseline's periods, the same transition length (in periods), the
    same seasonality, horizon and comparison, and is fitted without the bootstrap (the estimate is the
    same; only the real effect needs a calibrated p-value), all placebos of a series in one stack.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(-30, 18)
    >>> values = 10 * np.exp(np.random.default_rng(1).normal(0, 0.05, 48) - 0.2 * (t >= 0))
    >>> series = SegmentedSeries(values, t, np.where(t < 0, "before", "after"), (t % 12) + 1, 12)
    >>> placebos = placebo_effects(series)
    >>> len(placebos), bool((placebos["n_before"] >= 6).all())
    (19, True)
    """
    before = ~series.after
    t = series.t[before]
    gap = -int(t.max()) - 1  # the real transition, in periods
    values, comparison = _on_the_original_scale(series)
    values, comparison, seasons = values[before], comparison[before], series.seasons[before]
    candidates = [s for s in np.unique(t) if (t < s).sum() >= min_side and (t >= s + gap).sum() >= min_side]
    placebos, rows = [], []
    for start in candidates:
        shifted = t - (start + gap)  # 0 at the placebo's first period after its transition
        phases = np.where(t < start, "before", np.where(t < start + gap, "transition", "after"))
        placebos.append(SegmentedSeries(values, shifted, phases, seasons, series.cycle, series.seasonal,
                                        series.scale == "log", series.horizon * (3 if series.cycle == 4 else 1),
                                        comparison if series.controlled else None))
        rows.append({"placebo_t": int(start + gap), "n_before": int((t < start).sum()),
                     "n_after": int((t >= start + gap).sum())})
    if not placebos:
        return pd.DataFrame(columns=PLACEBO_COLUMNS)
    for row, fit in zip(rows, its_estimates(placebos)):
        row["effect"] = fit.estimate["effect"]
    return pd.DataFrame(rows, columns=PLACEBO_COLUMNS)


def _on_the_original_scale(series: SegmentedSeries) -> tuple[np.ndarray, np.ndarray]:
    """The series' values and its comparison's (ones where it has none), as they were before the fit's scale."""
    own = series.target + series.offset
    if series.scale == "log":
        return np.exp(own), np.exp(series.offset)
    return own, series.offset


def placebo_rank(effect: float, placebos: pd.DataFrame) -> dict:
    """Where the real effect falls among the placebo effects.

    Parameters
    ----------
    effect : float
        The real effect, on the fit's scale (as :func:`placebo_effects` gives the placebos').
    placebos : pandas.DataFrame
        :func:`placebo_effects`.

    Returns
    -------
    dict
        ``placebos`` (how many), ``as_large`` (how many placebo effects are at least as large in absolute
        value) and ``placebo_p``, (1 + as_large) / (1 + placebos): the share of dates, the real one
        included, whose effect is at least as large (NaN without placebos). Its smallest value is
        1 / (1 + placebos): with a two-year baseline about 0.08, so it can only ever be a caution,
        never a test at 5%.

    Examples
    --------
    >>> import pandas as pd
    >>> placebo_rank(-0.25, pd.DataFrame({"effect": [0.05, -0.02, 0.30, -0.04]}))
    {'placebos': 4, 'as_large': 1, 'placebo_p': 0.4}
    """
    found = np.abs(np.asarray(placebos["effect"], dtype=float))
    if not len(found) or not np.isfinite(effect):
        return {"placebos": int(len(found)), "as_large": 0, "placebo_p": float("nan")}
    as_large = int((found >= abs(effect) - 1e-12).sum())
    return {"placebos": int(len(found)), "as_large": as_large, "placebo_p": (1 + as_large) / (1 + len(found))}


CASE_PLACEBO_COLUMNS = ["kpi", "placebos", "as_large", "placebo_p", "summary"]


def case_placebos(table: pd.DataFrame, fits: dict, min_side: int = MIN_SIDE) -> pd.DataFrame:
    """The placebo check of every KPI a case tested: where its effect falls among the baseline's placebo dates.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`casekit.CaseComparison.table`.
    fits : dict of str to KpiFit
        The comparison's fits (:attr:`casekit.CaseComparison.fits`).
    min_side : int, default 6
        As :func:`placebo_effects`.

    Returns
    -------
    pandas.DataFrame
        One row per KPI with a fit: ``kpi``, ``placebos``, ``as_large``, ``placebo_p`` (as
        :func:`placebo_rank`) and ``summary``, the line a report prints.

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> checks = case_placebos(comparison.table, comparison.fits).set_index("kpi")
    >>> checks.loc["escaped_defects", ["placebos", "as_large"]].tolist()
    [12, 1]
    """
    labels, verdicts = dict(zip(table["kpi"], table["label"])), dict(zip(table["kpi"], table["verdict"]))
    rows = []
    for kpi, one in fits.items():
        if one.fit is None or one.series is None:
            continue
        ranked = placebo_rank(one.fit.estimate["effect"], placebo_effects(one.series, min_side))
        found = verdicts.get(kpi) in ("improved", "worsened")
        rows.append({"kpi": kpi, **ranked, "summary": _placebo_line(labels.get(kpi, kpi), ranked, found)})
    return pd.DataFrame(rows, columns=CASE_PLACEBO_COLUMNS)


def _placebo_line(label: str, ranked: dict, found: bool) -> str:
    n, as_large = ranked["placebos"], ranked["as_large"]
    if not n:
        return f"{label}: no placebo check (the baseline is too short for a placebo date with {MIN_SIDE} periods a side)"
    share = "none" if as_large == 0 else f"{as_large} of {n}"
    caution = ": a finding to hold lightly, the series moved as much before adoption with nothing adopted" \
        if found and ranked["placebo_p"] > 0.25 else ""
    return (f"{label}: at {n} placebo adoption dates in the baseline, {share} gave an effect as large as the real "
            f"one (placebo p {ranked['placebo_p']:.2f}){caution}")
