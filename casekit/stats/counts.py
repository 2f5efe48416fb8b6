"""A count KPI's segmented regression: a Poisson model with overdispersion and AR(1) correlation.

Counts (escaped defects, incidents) are fitted as they are, zeros included: ``log E[y_t] = log(exposure_t)
+ x_t'b``, by Poisson maximum likelihood (iteratively reweighted least squares), with an exposure such as
releases or KLOC as the offset when the case names one. The months of a count series are neither Poisson
(they vary more: overdispersion) nor independent (one bad month follows another), so the coefficients'
covariance is the quasi-likelihood sandwich with both: the Pearson residuals' dispersion ``psi`` and their
AR(1) correlation ``phi`` (bias-corrected for the design, as a Gaussian series' is), ``cov = psi·A⁻¹ X'W^½
R(phi) W^½X A⁻¹`` with ``A = X'WX`` and ``W = diag(mu)``. A parametric bootstrap calibrates the t ratios, as
for a Gaussian series: counts simulated from the fitted model, their extra variation and correlation those
estimated (a log-normal AR(1) factor on the mean), each replicate put through the same estimator.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import ArgumentError
from .ar1 import ar1_estimates_stacked, ar1_series, phi_above

ITERATIONS = 30
LINEAR_LIMIT = 30.0  # log-means beyond ±30 (e^30 counts) are a fit running away on an all-zero side


@dataclass(frozen=True)
class CountTest:
    """Contrasts of a count regression with bootstrap-calibrated inference (returned by :func:`count_test`).

    Attributes
    ----------
    estimate, se, p_value, critical : numpy.ndarray
        Per contrast: the estimate on the log scale, its standard error, the p-value and the interval's
        multiplier (the bootstrap's quantile, or t's on n − p degrees of freedom without the bootstrap).
    phi : float
        The Pearson residuals' bias-corrected AR(1) coefficient.
    dispersion : float
        The Pearson residuals' dispersion (1 for Poisson counts).
    beta, cov : numpy.ndarray
        The coefficients and their covariance.
    bootstrap : bool
        Whether the p-values and multipliers come from the bootstrap.
    """

    estimate: np.ndarray
    se: np.ndarray
    p_value: np.ndarray
    critical: np.ndarray
    phi: float
    dispersion: float
    beta: np.ndarray
    cov: np.ndarray
    bootstrap: bool


def count_test(counts, X, positions, contrasts, offset=None, alpha: float = 0.05, n_boot: int = 999,
               bootstrap: bool = True, seed: int | None = None, phi_margin: float = 0.0) -> CountTest:
    """Test linear contrasts of a log-linear count regression with overdispersion and AR(1) correlation.

    Parameters
    ----------
    counts : array_like of int, shape (n,)
        Whole numbers of at least 0.
    X : array_like, shape (n, p)
        The design (full column rank).
    positions : array_like of int, shape (n,)
        Each count's period, strictly increasing; a gap is a jump.
    contrasts : array_like, shape (k, p)
        Each row c asks for c'b.
    offset : array_like, shape (n,), optional
        The log of each period's exposure (0: none).
    alpha : float
        1 − the intervals' confidence.
    n_boot : int
        Bootstrap replicates.
    bootstrap : bool
        Calibrate by the bootstrap; without it, t on n − p degrees of freedom.
    seed : int, optional
        Of the bootstrap; by default from the data, so that a series always gives the same answer.
    phi_margin : float
        Simulate at phî + phi_margin·√((1 − phî²)/n), that many standard errors of phî above the estimate,
        as :func:`casekit.stats.ar1.ar1_test` does: with few points phî is often too low.

    Returns
    -------
    CountTest

    Raises
    ------
    ArgumentError
        For a negative or fractional count, or fewer points than coefficients plus two.

    Notes
    -----
    The statistic is t = c'b̂ / se(c'b̂). Replicates are drawn from the fitted model (not a null), so
    the bootstrap studentizes around the estimate: t* = (c'b̂* − c'b̂) / se*, and p = (1 + #{|t*| ≥
    |t|}) / (n_boot + 1), the interval c'b̂ ± q·se with q the 1 − alpha quantile of |t*|. The replicates'
    counts are Poisson with mean ``mu_t · exp(u_t − s²/2)``, ``u`` a Gaussian AR(1) whose variance ``s²``
    reproduces the dispersion at the mean count and whose correlation reproduces ``phi``.

    Examples
    --------
    Counts around 8 a month that fall by a third at month 24:

    >>> import numpy as np
    >>> from casekit.stats.counts import count_test
    >>> rng = np.random.default_rng(1)
    >>> t = np.arange(-24, 24)
    >>> after = (t >= 0).astype(float)
    >>> y = rng.poisson(8 * np.exp(np.log(2 / 3) * after))
    >>> X = np.column_stack([np.ones(48), after])
    >>> result = count_test(y, X, t, [[0, 1]], n_boot=199)
    >>> bool(result.p_value[0] < 0.05), round(float(np.exp(result.estimate[0])), 2)
    (True, 0.49)
    """
    y = np.asarray(counts, dtype=float)
    X = np.asarray(X, dtype=float)
    positions = np.asarray(positions, dtype=np.int64)
    C = np.atleast_2d(np.asarray(contrasts, dtype=float))
    n, p = X.shape
    offset = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    if len(y) != n or len(positions) != n or len(offset) != n:
        raise ArgumentError("counts, X, positions and offset must have one row per observation")
    if np.any(y < 0) or np.any(y != np.round(y)) or not np.all(np.isfinite(y)):
        raise ArgumentError("counts are whole numbers of at least 0")
    if n - p < 2:
        raise ArgumentError(f"a count regression with {p} coefficients needs at least {p + 2} points, got {n}")
    beta, mu, dispersion, phi, cov = _fit(y[None], X, positions, offset)
    estimate, se = beta @ C.T, _se(cov, C)
    if not bootstrap:
        critical = np.full(len(C), stats.t.ppf(1 - alpha / 2, n - p))
        with np.errstate(invalid="ignore", divide="ignore"):
            p_value = 2 * stats.t.sf(np.abs(estimate[0] / se[0]), n - p)
        return CountTest(estimate[0], se[0], p_value, critical, float(phi[0]), float(dispersion[0]), beta[0],
                         cov[0], False)
    if seed is None:
        seed = zlib.crc32(y.tobytes() + positions.tobytes() + offset.tobytes())
    simulated_phi = phi_above(float(phi[0]), n, phi_margin) if phi_margin else float(phi[0])
    simulated = _replicates(np.random.default_rng(seed), n_boot, mu[0], float(dispersion[0]), simulated_phi,
                            positions)
    beta_star, mu_star = _poisson(simulated, X, offset)
    cov_star = _moments(simulated, X, positions, mu_star)[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        t_star = np.abs((beta_star @ C.T - estimate) / _se(cov_star, C))
        t_star = np.where(np.isfinite(t_star), t_star, np.inf)
        observed = np.abs(estimate[0] / se[0])
    observed = np.where(np.isfinite(observed), observed, np.inf)
    p_value = (1 + (t_star >= observed).sum(0)) / (n_boot + 1)
    critical = np.quantile(t_star, 1 - alpha, axis=0)
    return CountTest(estimate[0], se[0], p_value, critical, float(phi[0]), float(dispersion[0]), beta[0], cov[0],
                     True)


def count_fits(counts, X, positions, contrasts, offset=None) -> dict:
    """:func:`count_test`'s fit, without its bootstrap, of many count series on one design at once.

    Parameters
    ----------
    counts : array_like, shape (S, n)
        One series a row, whole numbers of at least 0.
    X, positions, contrasts, offset
        As :func:`count_test`, shared by every series.

    Returns
    -------
    dict
        ``estimate, se`` (S, k): each contrast and its standard error, ``phi`` and ``dispersion`` (S,): the
        Pearson residuals' bias-corrected AR(1) coefficient and their dispersion, each as :func:`count_test`
        gives them for that series alone.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(-24, 24)
    >>> X = np.column_stack([np.ones(48), t >= 0])
    >>> counts = np.random.default_rng(2).poisson(5.0, (3, 48))
    >>> fits = count_fits(counts, X, t, [[0, 1]])
    >>> bool(np.allclose(fits["se"][1], count_test(counts[1], X, t, [[0, 1]], bootstrap=False).se))
    True
    """
    Y = np.atleast_2d(np.asarray(counts, dtype=float))
    X = np.asarray(X, dtype=float)
    positions = np.asarray(positions, dtype=np.int64)
    C = np.atleast_2d(np.asarray(contrasts, dtype=float))
    offset = np.zeros(X.shape[0]) if offset is None else np.asarray(offset, dtype=float)
    beta, _, dispersion, phi, cov = _fit(Y, X, positions, offset)
    return {"estimate": beta @ C.T, "se": _se(cov, C), "phi": phi, "dispersion": dispersion}


def count_replicates(rng, count: int, mu, dispersion: float, phi: float, positions) -> np.ndarray:
    """``count`` series of counts around the means ``mu`` with this dispersion and Pearson residuals' AR(1)
    coefficient: the model :func:`count_test`'s bootstrap draws from (Poisson around a log-normal AR(1) factor).

    Parameters
    ----------
    rng : numpy.random.Generator
    count : int
        Series drawn.
    mu : array_like, shape (n,)
        Each period's mean count.
    dispersion : float
        The variance over the mean (1: Poisson).
    phi : float
        The Pearson residuals' month-to-month correlation.
    positions : array_like of int, shape (n,)
        The periods (a gap is a jump).

    Returns
    -------
    numpy.ndarray, shape (count, n)

    Examples
    --------
    >>> import numpy as np
    >>> y = count_replicates(np.random.default_rng(0), 2000, np.full(48, 4.0), 2.0, 0.3, np.arange(48))
    >>> round(float(y.var() / y.mean()), 1)
    2.0
    """
    return _replicates(rng, count, np.asarray(mu, dtype=float), dispersion, phi,
                       np.asarray(positions, dtype=np.int64))


def _fit(Y, X, positions, offset):
    beta, mu = _poisson(Y, X, offset)
    dispersion, phi, cov = _moments(Y, X, positions, mu)
    return beta, mu, dispersion, phi, cov


def _se(cov, C):
    return np.sqrt(np.maximum(np.einsum("ki,bij,kj->bk", C, cov, C), 0))


def _poisson(Y, X, offset):
    """Poisson maximum likelihood of each row of Y (B, n) on X with the offset: (beta (B, p), mu (B, n))."""
    start = np.log(Y + 0.5) - offset
    beta = start @ np.linalg.pinv(X).T  # least squares of every row at once (X has full column rank)
    for _ in range(ITERATIONS):
        eta = np.clip(beta @ X.T + offset, -LINEAR_LIMIT, LINEAR_LIMIT)
        mu = np.exp(eta)
        working = eta - offset + (Y - mu) / mu
        weighted = X[None] * mu[:, :, None]
        information = np.einsum("bnp,nq->bpq", weighted, X)
        updated = np.linalg.solve(information, np.einsum("bnp,bn->bp", weighted, working)[..., None])[..., 0]
        settled = np.max(np.abs(updated - beta)) < 1e-10
        beta = updated
        if settled:
            break
    return beta, np.exp(np.clip(beta @ X.T + offset, -LINEAR_LIMIT, LINEAR_LIMIT))


def _moments(Y, X, positions, mu):
    """Dispersion, bias-corrected AR(1) coefficient of the Pearson residuals, and the sandwich covariance."""
    n, p = X.shape
    root = np.sqrt(mu)
    pearson = (Y - mu) / root
    dispersion = (pearson**2).sum(axis=1) / (n - p)
    weighted = X[None] * root[:, :, None]  # W^½ X: the space the Pearson residuals are orthogonal to
    count = len(Y)
    phi = ar1_estimates_stacked(pearson, weighted, np.broadcast_to(positions, (count, n)),
                                np.broadcast_to(np.eye(p)[:1], (count, 1, p)))[2]
    bread = np.linalg.inv(np.einsum("bnp,bnq->bpq", weighted, weighted))
    meat = np.einsum("bnp,bnq->bpq", weighted, _ar1_correlated(weighted, positions, phi))
    cov = dispersion[:, None, None] * bread @ meat @ bread
    return dispersion, phi, cov


def _ar1_correlated(W, positions, phi):
    """R W for each series' AR(1) correlation matrix R (phi^|lag| over the gapped positions), W (B, n, p), by a
    forward and a backward pass: the n × n matrices are never formed."""
    steps = np.diff(positions)
    factor = phi[:, None] ** steps[None, :]  # (B, n - 1): the correlation across each step
    forward, backward = np.empty_like(W), np.zeros_like(W)
    forward[:, 0] = W[:, 0]
    for i in range(1, W.shape[1]):
        forward[:, i] = W[:, i] + factor[:, i - 1, None] * forward[:, i - 1]
    for i in range(W.shape[1] - 2, -1, -1):
        backward[:, i] = factor[:, i, None] * (W[:, i + 1] + backward[:, i + 1])
    return forward + backward


def _replicates(rng, count, mu, dispersion, phi, positions):
    """``count`` count series like the observed one: Poisson around ``mu`` times a log-normal AR(1) factor whose
    variance gives the dispersion at the mean count and whose correlation gives the Pearson residuals' phi."""
    level = float(np.mean(mu))
    variance = np.log1p(max(dispersion - 1, 0.0) / level)
    factor = np.ones((count, len(mu)))
    if variance > 0:
        rho = np.clip(np.log1p(max(phi, -0.9) * dispersion / level) / variance, -0.9, 0.95)
        u = ar1_series(rng.standard_normal((count, len(mu))), positions, rho)
        factor = np.exp(np.sqrt(variance) * u - variance / 2)
    return rng.poisson(mu[None] * factor).astype(float)
