"""How much a pooled result rests on any one case: leave-one-out and influence diagnostics (metafor's).

A pooled improvement that disappears when one organization is left out is a finding about that
organization, not about CMMI across the portfolio. :func:`leave_one_out` re-pools without each case in
turn (metafor's ``leave1out``); :func:`influence` gives, per case, the diagnostics of Viechtbauer &
Cheung (2010) that metafor's ``influence`` computes, with its rule for flagging a case as influential.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError
from .across import percent_improvement
from .meta import meta_analysis

LEAVE_ONE_OUT_COLUMNS = ["left_out", "k", "estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q"]
INFLUENCE_COLUMNS = ["case", "rstudent", "dffits", "cook_d", "cov_r", "tau2_deleted", "q_deleted", "hat", "weight",
                     "dfbetas", "influential"]


def _inputs(effect, variance, labels):
    y, v = np.asarray(effect, dtype=float), np.asarray(variance, dtype=float)
    if len(y) < 3:
        raise ArgumentError(f"leaving one case out needs at least 3 cases, got {len(y)}")
    names = [str(k + 1) for k in range(len(y))] if labels is None else [str(label) for label in labels]
    if len(names) != len(y) or len(v) != len(y):
        raise ArgumentError("effect, variance and labels need one value per case")
    return y, v, names


def leave_one_out(effect, variance, method: str = "DL", test: str = "z", alpha: float = 0.05,
                  labels=None) -> pd.DataFrame:
    """The random-effects result with each case left out in turn (metafor's ``leave1out``).

    Parameters
    ----------
    effect, variance : array_like
        One effect and its sampling variance per case, as :func:`casekit.stats.meta.meta_analysis` takes them.
    method : {"DL", "PM"}, default "DL"
        The estimator of tau², re-estimated without each case.
    test : {"z", "hk", "robust"}, default "z"
        The test of the pooled effect, as :func:`casekit.stats.meta.meta_analysis`'s.
    alpha : float, default 0.05
        1 − the intervals' confidence.
    labels : sequence of str, optional
        The cases' names (default 1, 2, ...).

    Returns
    -------
    pandas.DataFrame
        One row per case left out: ``left_out, k`` (the cases pooled), ``estimate, se, ci_low, ci_high,
        p_value, tau2``, ``i2`` (0–1) and ``q``.

    Raises
    ------
    ArgumentError
        With fewer than 3 cases.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).

    Examples
    --------
    Four cases, one far from the others:

    >>> table = leave_one_out([0.20, 0.25, 0.22, 0.90], [0.01, 0.01, 0.01, 0.01], labels=list("ABCD"))
    >>> table[["left_out", "estimate"]].round(3).values.tolist()
    [['A', 0.457], ['B', 0.44], ['C', 0.45], ['D', 0.223]]
    """
    y, v, names = _inputs(effect, variance, labels)
    rows = []
    for i, name in enumerate(names):
        keep = np.arange(len(y)) != i
        res = meta_analysis(y[keep], v[keep], method=method, test=test, alpha=alpha)
        rows.append({"left_out": name, "k": res.k, "estimate": res.estimate, "se": res.se, "ci_low": res.ci_low,
                     "ci_high": res.ci_high, "p_value": res.p_value, "tau2": res.tau2, "i2": res.i2, "q": res.q})
    return pd.DataFrame(rows, columns=LEAVE_ONE_OUT_COLUMNS)


def influence(effect, variance, method: str = "DL", labels=None) -> pd.DataFrame:
    """Each case's influence on the pooled effect (metafor's ``influence`` for a random-effects model).

    Parameters
    ----------
    effect, variance : array_like
        One effect and its sampling variance per case.
    method : {"DL", "PM"}, default "DL"
        The estimator of tau².
    labels : sequence of str, optional
        The cases' names (default 1, 2, ...).

    Returns
    -------
    pandas.DataFrame
        One row per case: ``case``; ``rstudent`` (its effect against the others' pooled effect, in
        standard deviations of that difference); ``dffits`` and ``dfbetas`` (how far leaving it out moves
        the pooled effect, scaled); ``cook_d`` (Cook's distance); ``cov_r`` (the pooled effect's variance
        without it, over with it); ``tau2_deleted`` and ``q_deleted`` (tau² and Q without it); ``hat`` and
        ``weight`` (its share of the weight, the second in percent); ``influential``: metafor's rule, any
        of |dffits| > 3·sqrt(1/(k − 1)), the chi²(1) distribution function at Cook's distance > 0.5,
        hat > 3/k, |dfbetas| > 1.

    Raises
    ------
    ArgumentError
        With fewer than 3 cases.

    Notes
    -----
    As metafor computes them for an intercept-only model fitted with the usual (z) test: every
    deleted quantity is from the model refitted without the case, tau² re-estimated.

    References
    ----------
    Viechtbauer W, Cheung MW-L (2010). Outlier and influence diagnostics for meta-analysis. Res Synth
    Methods 1:112–125.

    Examples
    --------
    >>> table = influence([0.20, 0.25, 0.22, 0.90], [0.01, 0.01, 0.01, 0.01], labels=list("ABCD"))
    >>> table.loc[table["influential"], "case"].tolist()
    ['D']
    """
    y, v, names = _inputs(effect, variance, labels)
    k = len(y)
    full = meta_analysis(y, v, method=method, test="z")
    weights = 1 / (v + full.tau2)
    hat = weights / weights.sum()
    rows = []
    for i, name in enumerate(names):
        keep = np.arange(k) != i
        without = meta_analysis(y[keep], v[keep], method=method, test="z")
        moved = full.estimate - without.estimate
        dffits = moved / np.sqrt(hat[i] * (without.tau2 + v[i]))
        dfbetas = moved / np.sqrt(1 / np.sum(1 / (v + without.tau2)))
        cook = moved**2 / full.se**2
        rows.append({"case": name, "rstudent": (y[i] - without.estimate) / np.sqrt(v[i] + without.se**2 + without.tau2),
                     "dffits": dffits, "cook_d": cook, "cov_r": without.se**2 / full.se**2,
                     "tau2_deleted": without.tau2, "q_deleted": without.q, "hat": hat[i], "weight": 100 * hat[i],
                     "dfbetas": dfbetas,
                     "influential": bool(abs(dffits) > 3 * np.sqrt(1 / (k - 1)) or stats.chi2.cdf(cook, 1) > 0.5
                                         or hat[i] > 3 / k or abs(dfbetas) > 1)})
    return pd.DataFrame(rows, columns=INFLUENCE_COLUMNS)


ROBUSTNESS_COLUMNS = ["kpi", "k", "improvement_unit", "pooled_improvement", "loo_low", "loo_high", "loo_clear",
                      "decided_by", "influential", "summary"]


def kpi_robustness(effects: pd.DataFrame, method: str = "DL", test: str = "robust", alpha: float = 0.05,
                   adjustment: dict | None = None) -> pd.DataFrame:
    """For each pooled KPI, how its result moves when any one organization is left out, and who is influential.

    Parameters
    ----------
    effects : pandas.DataFrame
        :attr:`casekit.PortfolioComparison.effects`: the usable rows of each KPI are pooled.
    method : {"DL", "PM"}, default "DL"
        The estimator of tau².
    test : {"z", "hk", "robust"}, default "robust"
        The test of the pooled effect (casekit's cross-case test is the robust one).
    alpha : float, default 0.05
        The level at which a pooled effect counts as clear.
    adjustment : dict of str to float, optional
        Per KPI, the factor the correction across KPIs multiplied its p-value by (``p_adjusted / p_value``
        of :meth:`casekit.PortfolioComparison.tests`), so that "clear" means what the report's verdict
        means; without it, p-values are taken unadjusted.

    Returns
    -------
    pandas.DataFrame
        One row per KPI pooled from three or more organizations: ``kpi, k, improvement_unit``,
        ``pooled_improvement`` (the full model's, in % or points), ``loo_low, loo_high`` (the lowest and
        highest pooled improvement with one organization left out), ``loo_clear`` (in how many of the k
        leave-one-out fits the pooled effect is clear: p, times the ``adjustment``, below ``alpha``), ``decided_by`` (the organizations
        without whom the pooled effect would change between clear and not clear), ``influential`` (the
        organizations :func:`influence` flags) and ``summary``, the line a report prints.

    Examples
    --------
    >>> import casekit as ck
    >>> table = kpi_robustness(ck.compare_portfolio(ck.load_cases("cases")).effects)
    >>> table.set_index("kpi").loc["defect_density", ["k", "loo_clear"]].tolist()
    [5, 0]
    """
    rows = []
    for kpi, group in effects[effects["usable"]].groupby("kpi", sort=True):
        if len(group) < 3:
            continue
        y, v = group["effect"].to_numpy(float), group["effect_se"].to_numpy(float) ** 2
        labels = [str(name) for name in (group["name"] if "name" in group else group["case_id"])]
        factor = max(1.0, float((adjustment or {}).get(kpi, 1.0)))
        scale = group["scale"].iloc[0]
        full = meta_analysis(y, v, method=method, test=test, alpha=alpha)
        left = leave_one_out(y, v, method=method, test=test, alpha=alpha, labels=labels)
        clear = left["p_value"] * factor < alpha
        decided = [name for name, one in zip(labels, clear) if one != (full.p_value * factor < alpha)]
        flagged = influence(y, v, method=method, labels=labels)
        influential = flagged.loc[flagged["influential"], "case"].tolist()
        unit = "points" if scale == "interval" else "%"
        sign = 1 if group["better"].iloc[0] == "higher" else -1  # a fall of a lower-is-better KPI, in percent
        moved = np.asarray(percent_improvement(left["estimate"], sign, scale), dtype=float)
        low, high = float(moved.min()), float(moved.max())
        pooled = float(np.asarray(percent_improvement([full.estimate], sign, scale))[0])
        rows.append({"kpi": kpi, "k": len(group), "improvement_unit": unit,
                     "pooled_improvement": pooled, "loo_low": low, "loo_high": high,
                     "loo_clear": int(clear.sum()), "decided_by": decided, "influential": influential,
                     "summary": _robustness_line(len(group), low, high, unit, full.p_value * factor < alpha,
                                                 decided, influential)})
    return pd.DataFrame(rows, columns=ROBUSTNESS_COLUMNS)


def _robustness_line(k: int, low: float, high: float, unit: str, clear: bool, decided: list,
                     influential: list) -> str:
    suffix = "%" if unit == "%" else " points"
    line = f"without any one of the {k} organizations the pooled improvement stays between {low:+.1f}{suffix} and " \
           f"{high:+.1f}{suffix}"
    if decided:
        state = "not clear" if clear else "clear"
        line += f"; without {_names(decided)} it would be {state}"
    else:
        line += f"; it is {'clear' if clear else 'not clear'} whichever one is left out"
    line += f"; influential (metafor's criteria): {_names(influential)}" if influential else \
        "; no organization is influential by metafor's criteria"
    return line


def _names(names: list) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
