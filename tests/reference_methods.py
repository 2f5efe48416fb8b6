"""Textbook implementations the tests check casekit's fast code against (not part of the package).

Each is the plain, slow form of what casekit computes another way: the AR(1) correlation matrix and the
Prais–Winsten whitening extended to gaps (casekit never builds either), and OLS with Newey–West standard
errors as Stata's ``newey`` (statsmodels' own HAC), which casekit's mean shift writes out for two groups.
"""

from __future__ import annotations

import numpy as np
from statsmodels.regression.linear_model import OLS

from casekit.stats.timeseries import newey_west_lags


def ar1_correlation(positions, phi: float) -> np.ndarray:
    """The correlation matrix of AR(1) errors at integer ``positions``: phi^|t_i − t_j|."""
    positions = np.asarray(positions)
    return float(phi) ** np.abs(positions[:, None] - positions[None, :])


def whiten(values: np.ndarray, positions, phi) -> np.ndarray:
    """Rows of ``values`` (..., n, k) transformed so that AR(1) errors become independent: the first row
    stays; row i becomes (v_i − ρ_i v_{i−1}) / √(1 − ρ_i²) with ρ_i = phi^(t_i − t_{i−1})."""
    rho = np.asarray(phi, dtype=float)[..., None] ** np.diff(np.asarray(positions))
    scale = np.sqrt(1 - rho**2)[..., None]
    rest = (values[..., 1:, :] - rho[..., None] * values[..., :-1, :]) / scale
    return np.concatenate([values[..., :1, :], rest], axis=-2)


def hac_ols(y, X, maxlags: int | None = None):
    """OLS with Newey–West standard errors, as Stata's ``newey``: Bartlett kernel, the n / (n − k) factor, t
    tests on the residual degrees of freedom. The statsmodels results object."""
    y = np.asarray(y, dtype=float)
    lags = newey_west_lags(len(y)) if maxlags is None else maxlags
    return OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
