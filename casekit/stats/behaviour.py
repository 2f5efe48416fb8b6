"""Process behaviour (XmR) charts: natural process limits and Western Electric signals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ArgumentError

# Control-chart constants for moving ranges of two points, as tabulated (Montgomery 2013,
# Appendix VI) and used by R's qcc: d2 = 1.128, D4 = 3.267. Wheeler rounds 3/d2 to 2.66.
D2 = 1.128
D4 = 3.267
NPL_FACTOR = 3 / D2  # 2.6596

RULES = {
    1: "one point beyond a natural process limit (3 sigma)",
    2: "two of three successive points beyond 2 sigma on the same side",
    3: "four of five successive points beyond 1 sigma on the same side",
    4: "eight successive points on the same side of the centre line",
}


@dataclass(frozen=True)
class XmrResult:
    """An XmR chart: limits from a reference period, applied to ``values``."""

    values: np.ndarray
    center: float
    mr_bar: float
    sigma: float
    lcl: float
    ucl: float
    mr_ucl: float
    signals: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per point: ``position, value, moving_range, center, lcl, ucl, signal`` (rules, e.g. "1,4").

        Returns
        -------
        pandas.DataFrame
            ``position`` (0-based), ``value``, ``moving_range`` (NaN for the first
            point), ``center``, ``lcl``, ``ucl`` and ``signal`` (the rules the point
            breaks, ``""`` for none).

        Examples
        --------
        >>> frame = xmr([10, 11, 10, 12, 11, 10, 11, 30]).to_frame()
        >>> frame.columns.tolist()
        ['position', 'value', 'moving_range', 'center', 'lcl', 'ucl', 'signal']
        >>> frame["signal"].iloc[-1]
        '1'
        """
        mr = np.r_[np.nan, np.abs(np.diff(self.values))]
        frame = pd.DataFrame({
            "position": np.arange(len(self.values)),
            "value": self.values,
            "moving_range": mr,
            "center": self.center,
            "lcl": self.lcl,
            "ucl": self.ucl,
        })
        frame["signal"] = _signal_labels(self.signals, len(self.values))
        return frame

    def __repr__(self) -> str:
        return (
            f"XmrResult(n={len(self.values)}, center={self.center:.4g}, limits=[{self.lcl:.4g}, {self.ucl:.4g}], "
            f"mR-bar={self.mr_bar:.4g}, mR UCL={self.mr_ucl:.4g}, signals={len(self.signals)})"
        )


def xmr(values, baseline=None) -> XmrResult:
    """Individuals and moving range (XmR) chart with Western Electric signals.

    Parameters
    ----------
    values : array_like
        The points to chart, in time order (NaN not allowed).
    baseline : array_like, optional
        The points the limits are computed from. By default ``values``
        themselves; pass the pre-adoption values to judge post-adoption
        points against the baseline process (a two-phase chart).

    Returns
    -------
    XmrResult
        ``center`` (mean of the reference points), ``mr_bar`` (average moving
        range), ``sigma`` (mR̄ / d2), ``lcl``/``ucl`` (natural process limits,
        centre ∓ 3σ ≈ centre ∓ 2.66 mR̄), ``mr_ucl`` (upper range limit,
        3.267 mR̄), and ``signals``: a DataFrame with one row per rule
        triggered, ``position`` (0-based index into ``values`` of the point
        completing the pattern), ``rule`` (1–4), ``side`` (``above`` or
        ``below``) and ``description``.

    Notes
    -----
    The constants are the tabulated ones for moving ranges of two points,
    d2 = 1.128 (so 3/d2 = 2.6596) and D4 = 3.267, as in R's qcc and Montgomery
    (2013); Wheeler rounds them to 2.66 and 3.27. The four
    Western Electric zone rules (Western Electric 1956, pp. 25–28) are
    checked on ``values`` against the reference limits.

    The chart describes; it does not test. The limits assume independent
    points: under positive autocorrelation the moving range understates
    the process's spread, so the limits are too narrow and signals come
    without any change (with 24 monthly points a side and AR(1) noise of
    phi = 0.4, 47% of unchanged series show a post-adoption point on one
    side, against 18% with independent noise; tests/test_behaviour.py).
    casekit never turns signals alone into a finding.

    References
    ----------
    Western Electric Company (1956). Statistical Quality Control Handbook.
    Wheeler DJ (2000). Understanding Variation: The Key to Managing Chaos, 2nd ed.
    Montgomery DC (2013). Introduction to Statistical Quality Control, 7th ed., §6.4.

    Examples
    --------
    Montgomery's viscosity data, as in the examples of R's qcc:

    >>> import casekit as ck
    >>> x = [33.75, 33.05, 34, 33.81, 33.46, 34.02, 33.68, 33.27, 33.49, 33.20,
    ...      33.62, 33.00, 33.54, 33.12, 33.84]
    >>> chart = ck.xmr(x)
    >>> round(chart.center, 5), round(chart.lcl, 5), round(chart.ucl, 5)
    (33.52333, 32.24484, 34.80183)
    >>> len(chart.signals)
    0
    """
    x = np.asarray(values, dtype=float)
    ref = x if baseline is None else np.asarray(baseline, dtype=float)
    if x.ndim != 1 or ref.ndim != 1:
        raise ArgumentError("values and baseline must be one-dimensional")
    if len(ref) < 2:
        raise ArgumentError(f"an XmR chart needs at least 2 reference points, got {len(ref)}")
    if not (np.isfinite(x).all() and np.isfinite(ref).all()):
        raise ArgumentError("values must be finite numbers (drop missing periods first)")
    center = float(ref.mean())
    mr_bar = float(np.abs(np.diff(ref)).mean())
    sigma = mr_bar / D2
    return XmrResult(
        values=x,
        center=center,
        mr_bar=mr_bar,
        sigma=sigma,
        lcl=center - NPL_FACTOR * mr_bar,
        ucl=center + NPL_FACTOR * mr_bar,
        mr_ucl=D4 * mr_bar,
        signals=western_electric(x, center, sigma),
    )


def western_electric(values, center: float, sigma: float) -> pd.DataFrame:
    """The Western Electric zone rules 1–4 (see :func:`xmr`), one row per trigger.

    Parameters
    ----------
    values : array_like of float
        The points in time order.
    center : float
        The centre line.
    sigma : float
        One standard deviation of the process (the limits are at ±3 sigma).

    Returns
    -------
    pandas.DataFrame
        ``position, rule, side, description``: one row per point that breaks a
        rule (1: beyond 3 sigma; 2: two of three beyond 2 sigma; 3: four of five
        beyond 1 sigma; 4: eight in a row on one side), on the side it breaks it.

    References
    ----------
    Western Electric Company (1956), *Statistical Quality Control Handbook*.

    Examples
    --------
    >>> western_electric([0, 0.2, -0.1, 3.5, 0.1], center=0, sigma=1)[["position", "rule", "side"]].values.tolist()
    [[3, 1, 'above']]
    """
    x = np.asarray(values, dtype=float)
    positions, rules, sides = [], [], []
    for side, sign in (("above", 1), ("below", -1)):
        with np.errstate(invalid="ignore"):  # sigma 0: a point on the centre line is on neither side
            z = sign * (x - center) / sigma if sigma > 0 else sign * np.sign(x - center) * np.inf
        for rule, hit in ((1, z > 3),
                          (2, (_count(z > 2, 3) >= 2) & (z > 2)),
                          (3, (_count(z > 1, 5) >= 4) & (z > 1)),
                          (4, _count(z > 0, 8) == 8)):
            at = np.flatnonzero(hit)
            positions.append(at)
            rules.append(np.full(len(at), rule))
            sides += [side] * len(at)
    position, rule = np.concatenate(positions), np.concatenate(rules)
    order = np.lexsort((rule, position))  # a point breaks a rule on one side only
    return pd.DataFrame({"position": position[order], "rule": rule[order], "side": np.array(sides, dtype=object)[order],
                         "description": [RULES[r] for r in rule[order]]})


def _count(beyond: np.ndarray, window: int) -> np.ndarray:
    """For each point, how many of the ``window`` points ending at it are ``beyond``; 0 before a full window."""
    counts = np.zeros(len(beyond), dtype=int)
    if len(beyond) >= window:
        counts[window - 1:] = np.lib.stride_tricks.sliding_window_view(beyond, window).sum(axis=1)
    return counts


def _signal_labels(signals: pd.DataFrame, n: int) -> list[str]:
    """The rules each of ``n`` points breaks, as text ("1,4"; "" for none)."""
    rules: list[set] = [set() for _ in range(n)]
    for position, rule in zip(signals["position"], signals["rule"]):
        rules[position].add(rule)
    return [",".join(map(str, sorted(r))) for r in rules]


def xmr_phases(data: pd.DataFrame, value: str = "value", phase: str = "phase") -> pd.DataFrame:
    """A two-phase XmR chart of one KPI: baseline limits, then post-adoption limits.

    Parameters
    ----------
    data : DataFrame
        One KPI's rows in time order, with a ``value`` and a ``phase``
        column (``before``, ``transition``, ``after``), as in
        ``Portfolio.kpis``.

    Returns
    -------
    pandas.DataFrame
        ``data`` with ``center, lcl, ucl`` (the limits of the row's own phase:
        computed from the baseline for ``before`` rows and from the
        post-adoption points for ``after`` rows; NaN in the transition),
        ``baseline_lcl, baseline_ucl``, and ``signal``: the Western Electric
        rules (e.g. ``"1,4"``) a post-adoption point breaks against the
        baseline's limits, or that a baseline point breaks against its own.

    Examples
    --------
    >>> import pandas as pd, casekit as ck
    >>> rows = pd.DataFrame({"value": [5, 6, 5, 6, 5, 6, 3, 2, 3, 2],
    ...                      "phase": ["before"] * 6 + ["after"] * 4})
    >>> chart = ck.behaviour.xmr_phases(rows)
    >>> chart[["phase", "center", "signal"]].iloc[[0, 7]].values.tolist()
    [['before', 5.5, ''], ['after', 2.5, '1']]
    """
    table = data.reset_index(drop=True)
    phases, values = table[phase].to_numpy(), table[value].to_numpy(dtype=float)
    before, after = np.flatnonzero(phases == "before"), np.flatnonzero(phases == "after")
    limits = np.full((len(table), 5), np.nan)  # center, lcl, ucl, baseline_lcl, baseline_ucl
    signal = np.full(len(table), "", dtype=object)
    if len(before) >= 2:
        baseline = xmr(values[before])
        limits[:, 3:] = baseline.lcl, baseline.ucl
        parts = [(before, baseline, baseline.signals)]
        if len(after) >= 2:
            parts.append((after, xmr(values[after]), xmr(values[after], baseline=values[before]).signals))
        for index, own, signals in parts:
            limits[index, :3] = own.center, own.lcl, own.ucl
            signal[index] = _signal_labels(signals, len(index))
    return table.assign(**dict(zip(("center", "lcl", "ucl", "baseline_lcl", "baseline_ucl"), limits.T)), signal=signal)
