"""Would the test have found an effect where there was none? Placebo adoption dates within the baseline.

CausalPy runs this check by default and CausalImpact's documentation asks for it: the same model is
fitted with the adoption moved to dates inside the period before the real one, where nothing was
adopted. If the real effect is no larger than many of those placebo effects, the series moves that
much on its own, and the finding says less than its p-value suggests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .summaries import TIME_SERIES
from .timeseries import SegmentedSeries, its_estimates, seasonality
from .within import portfolio_effects

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


SPECIFICATION_COLUMNS = ["kpi", "variant", "improvement", "improvement_unit"]


def other_specifications(portfolio, case_id: str, transition_months: int, horizon_months: int, seasonal,
                         kpis=None) -> pd.DataFrame:
    """A case's effects under the analysis choices one could have made instead: the transition window three
    months shorter and longer, the first 6 and 24 months as the horizon, and yearly seasonal terms on or off.

    Parameters
    ----------
    portfolio : Portfolio
        The cases.
    case_id : str
        The case.
    transition_months, horizon_months : int
        The choices the case's comparison made.
    seasonal : bool, int or str
        Its seasonality setting.
    kpis : list of str, optional
        These KPIs only.

    Returns
    -------
    pandas.DataFrame
        One row per KPI and variant: ``kpi, variant`` (in words), ``improvement`` (direction-aware, as the
        comparison's table gives it, from the same model without the bootstrap, which changes no estimate)
        and ``improvement_unit``.

    Examples
    --------
    >>> import casekit as ck
    >>> pf = ck.load_cases("cases")
    >>> variants = other_specifications(pf, "quantia-tech", 6, 12, 0, kpis=["defect_density"])
    >>> variants["variant"].tolist()
    ['transition 3 months', 'transition 9 months', 'first 6 months', 'first 24 months', 'yearly seasonal terms']
    """
    one = portfolio.subset(case_ids=[case_id])
    if kpis is not None and not len(kpis):  # nothing compared: a published case of summaries only
        return pd.DataFrame(columns=SPECIFICATION_COLUMNS)
    variants = [(f"transition {months} months", {"transition_months": months})
                for months in sorted({max(0, transition_months - 3), transition_months + 3} - {transition_months})]
    variants += [(f"first {months} months", {"horizon_months": months}) for months in (6, 24) if months != horizon_months]
    plain = seasonality(seasonal, 12) == 0
    variants.append(("yearly seasonal terms" if plain else "no seasonal terms", {"seasonal": 1 if plain else 0}))
    rows = []
    for name, change in variants:
        settings = {"transition_months": transition_months, "horizon_months": horizon_months, "seasonal": seasonal,
                    **change}
        effects = portfolio_effects(one, kpis, **settings)
        fitted = effects[np.isfinite(effects["improvement"]) & (effects["design"] == TIME_SERIES)]
        for _, row in fitted.iterrows():
            rows.append({"kpi": row["kpi"], "variant": name, "improvement": row["improvement"],
                         "improvement_unit": row["improvement_unit"]})
    return pd.DataFrame(rows, columns=SPECIFICATION_COLUMNS)


def specification_lines(table: pd.DataFrame, variants: pd.DataFrame) -> pd.DataFrame:
    """For each KPI of a case's table, the range of its effect under :func:`other_specifications`, as a line.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`casekit.CaseComparison.table`.
    variants : pandas.DataFrame
        :func:`other_specifications`.

    Returns
    -------
    pandas.DataFrame
        ``kpi, low, high`` (the effect's range, the case's own estimate included), ``same_direction`` (every
        estimate on the side of zero the case's own is on), ``choices`` (the variants, in words) and ``summary``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"kpi": ["nps"], "label": ["Net Promoter Score"], "improvement": [12.0],
    ...                       "improvement_unit": ["points"]})
    >>> variants = pd.DataFrame({"kpi": ["nps", "nps"], "variant": ["first 6 months", "first 24 months"],
    ...                          "improvement": [9.5, 14.0], "improvement_unit": ["points", "points"]})
    >>> lines = specification_lines(table, variants)
    >>> print(lines["choices"].iloc[0]); print(lines["summary"].iloc[0])
    first 6 months, first 24 months
    Net Promoter Score: +9.5 to +14.0 points (the estimate +12.0), all on the side of zero the estimate is on
    """
    rows = []
    for _, row in table[np.isfinite(table["improvement"].astype(float))].iterrows():
        mine = variants[variants["kpi"] == row["kpi"]]
        if mine.empty:
            continue
        values = np.r_[mine["improvement"].to_numpy(float), row["improvement"]]
        low, high = float(values.min()), float(values.max())
        same = bool((np.sign(values) == np.sign(row["improvement"])).all())
        unit = "%" if row["improvement_unit"] == "%" else " points"
        summary = (f"{row['label']}: {low:+.1f} to {high:+.1f}{unit} (the estimate {row['improvement']:+.1f}), "
                   + ("all on the side of zero the estimate is on" if same
                      else "on both sides of zero: the finding depends on these choices"))
        rows.append({"kpi": row["kpi"], "low": low, "high": high, "same_direction": same,
                     "choices": ", ".join(mine["variant"]), "summary": summary})
    return pd.DataFrame(rows, columns=["kpi", "low", "high", "same_direction", "choices", "summary"])
