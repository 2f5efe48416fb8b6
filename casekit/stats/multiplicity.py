"""Corrections for testing several hypotheses at once: across a case's KPIs, or a portfolio's."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

from ..errors import ArgumentError

CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "none": None}


def adjust_pvalues(p_values, correction: str = "holm") -> np.ndarray:
    """p-values adjusted for testing several hypotheses (statsmodels' multipletests).

    ``correction``: ``"holm"`` (family-wise error, Holm 1979), ``"bh"``
    (false discovery rate, Benjamini & Hochberg 1995) or ``"none"``.

    Parameters
    ----------
    p_values : array_like of float
        The p-values; NaN stays NaN and is not counted.
    correction : {"holm", "bh", "none"}, default "holm"
        The correction.

    Returns
    -------
    numpy.ndarray
        The adjusted p-values, in the input's order.

    Examples
    --------
    Holm multiplies the i-th smallest of m p-values by m − i + 1 and keeps
    the sequence increasing; Benjamini–Hochberg multiplies by m / i and keeps
    it decreasing from the top:

    >>> from casekit.stats.multiplicity import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "holm").round(4).tolist()
    [0.05, 0.08, 0.09, 0.09, 0.09]
    >>> adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "bh").round(4).tolist()
    [0.05, 0.05, 0.05, 0.05, 0.05]
    """
    method = CORRECTIONS.get(correction, "invalid")
    if method == "invalid":
        raise ArgumentError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    p = np.asarray(p_values, dtype=float)
    if method is None or len(p) <= 1:  # one test needs no correction (and multipletests' Holm runs gc.collect)
        return p.copy()
    return multipletests(p, method=method)[1]
