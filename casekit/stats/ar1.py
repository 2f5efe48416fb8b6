"""Linear regression with AR(1) errors observed at integer times that may have gaps.

The within-case test of casekit: generalized least squares with a first-order
autoregressive error, the autocorrelation estimated without its small-sample
bias, and the t statistic referred to a parametric bootstrap of itself.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError

PHI_LIMIT = 0.95  # |phi| is kept below this: nearer 1 the series is a random walk and no test holds
_GRID = np.linspace(-PHI_LIMIT, 0.99, 390)


def _steps(positions: np.ndarray) -> np.ndarray:
    steps = np.diff(positions)
    if len(positions) < 2 or (steps <= 0).any():
        raise ArgumentError("positions must be at least two strictly increasing integers")
    return steps


def gls_ar1(y, X, positions, phi: float):
    """GLS estimate and covariance of ``y = X b + e`` with AR(1) errors of known ``phi``.

    Returns ``(beta, cov)``, the covariance scaled by the residual variance
    on n − p degrees of freedom, as R's ``nlme::gls`` with a fixed
    ``corAR1(phi, form = ~ t)`` reports it.

    Parameters
    ----------
    y : array_like, shape (n,)
        The series.
    X : array_like, shape (n, p)
        The design.
    positions : array_like of int, shape (n,)
        Each value's period; a gap in them is a gap in the series (the AR(1)
        correlation is phi to the power of the distance).
    phi : float
        The AR(1) coefficient, taken as known.

    Returns
    -------
    beta : numpy.ndarray, shape (p,)
        The GLS coefficients.
    cov : numpy.ndarray, shape (p, p)
        Their covariance.

    Notes
    -----
    tests/test_ar1.py checks both against ``nlme::gls`` (R 4.2).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(24.0)
    >>> X = np.column_stack([np.ones(24), t, t >= 12])
    >>> y = 10 + 0.1 * t + 2 * (t >= 12) + np.random.default_rng(0).normal(0, 0.5, 24)
    >>> beta, cov = gls_ar1(y, X, t.astype(int), phi=0.3)
    >>> np.round(beta, 2), cov.shape
    (array([9.81, 0.14, 1.3 ]), (3, 3))
    """
    y, X = np.asarray(y, dtype=float), np.asarray(X, dtype=float)
    beta, cov = _fit(y[None], X, np.asarray(positions), np.array([phi]))
    return beta[0], cov[0]


def _fit(Y: np.ndarray, X: np.ndarray, positions: np.ndarray, phi: np.ndarray):
    """GLS of each row of Y (B, n) on X with its own phi (B,): betas (B, p) and covariances (B, p, p).

    The whitened design is never built: with w = 1/(1 − ρ²), its cross-products are sums over the
    pairs of neighbouring rows of w·(x_i x_i' − ρ(x_i x_j' + x_j x_i') + ρ² x_j x_j'), which for one
    design are a few (B, n) × (n, p²) matrix products.
    """
    n, p = X.shape
    rho = _powers(np.asarray(phi, dtype=float), _steps(positions))
    w0 = 1 / (1 - rho**2)
    X = np.ascontiguousarray(X)  # a column-stacked design is Fortran-ordered, and matmul then skips BLAS
    w1, now, earlier = rho * w0, X[1:], X[:-1]
    w2 = rho * w1

    def outer(a, b):
        return (a[:, :, None] * b[:, None, :]).reshape(len(a), p * p)

    xtx = (np.outer(X[0], X[0]).ravel() + w0 @ outer(now, now) - w1 @ (outer(now, earlier) + outer(earlier, now))
           + w2 @ outer(earlier, earlier)).reshape(-1, p, p)
    y_now, y_earlier = Y[:, 1:], Y[:, :-1]
    xty = Y[:, :1] * X[0] + (w0 * y_now - w1 * y_earlier) @ now + (w2 * y_earlier - w1 * y_now) @ earlier
    xtx_inv = np.linalg.inv(xtx)
    beta = (xtx_inv @ xty[..., None])[..., 0]
    residual = Y - beta @ X.T
    white = (residual[:, 1:] - rho * residual[:, :-1]) * np.sqrt(w0)
    sigma2 = (np.einsum("bn,bn->b", white, white) + residual[:, 0] ** 2) / (n - p)
    return beta, sigma2[:, None, None] * xtx_inv


def _powers(phi: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """phi[:, None] ** steps, raising each phi once per distinct step (a series has few)."""
    distinct, which = np.unique(steps, return_inverse=True)
    return (phi[:, None] ** distinct)[:, which]


class _Design:
    """What the estimator needs of one design, computed once: the residual maker and the bias map."""

    def __init__(self, X: np.ndarray, positions: np.ndarray):
        n = len(positions)
        self.X, self.positions = X, positions
        basis = np.linalg.qr(X)[0]  # X is of full column rank: its projection is Q Q', cheaper than X pinv(X)
        self.residual_maker = np.eye(n) - basis @ basis.T
        self.adjacent = np.diff(positions) == 1
        self.expected = _expected_lag1(self.residual_maker, positions, self.adjacent)
        self.inflation: dict = {}

    def inflation_at(self, contrast: np.ndarray, phi) -> np.ndarray:
        """sqrt(E[t²]) of the plug-in t ratio of c'b at ``phi``, interpolated on _INFLATION_GRID.

        Each grid point is simulated once per contrast (the same noise at every point), and only the points
        that bracket a phi asked for: a design that serves one series needs two of them.
        """
        key = contrast.tobytes()
        curve = self.inflation.setdefault(key, np.full(len(_INFLATION_GRID), np.nan))
        phi = np.asarray(phi, dtype=float)
        right = np.clip(np.searchsorted(_INFLATION_GRID, phi), 1, len(_INFLATION_GRID) - 1)
        wanted = np.unique(np.r_[right - 1, right])
        missing = wanted[np.isnan(curve[wanted])]
        if len(missing):
            shocks = np.random.default_rng(0).standard_normal((_INFLATION_DRAWS, len(self.positions)))
            noise = np.concatenate([ar1_series(shocks, self.positions, _INFLATION_GRID[i]) for i in missing])
            estimate, se = _contrasts(noise, self, _phi(noise, self), contrast[None])
            squares = (_abs_t(estimate, se) ** 2).reshape(len(missing), _INFLATION_DRAWS)
            curve[missing] = np.sqrt(squares.mean(-1))
        return np.interp(phi, _INFLATION_GRID, np.nan_to_num(curve))


def _expected_lag1(M: np.ndarray, positions: np.ndarray, adjacent: np.ndarray) -> np.ndarray:
    """E[lag-1 autocorrelation of OLS residuals] on _GRID, by the ratio of expectations.

    With residuals r = M e and Cov(e) = S(phi), E[r'Br] = tr(MBM S): a
    polynomial in phi whose coefficients are the sums of MBM's entries at
    each lag, so the whole curve costs one n × n product.
    """
    n = len(positions)
    pairs = np.nonzero(adjacent)[0]
    if len(pairs) == 0:
        return np.full(len(_GRID), np.nan)
    B = np.zeros((n, n))
    B[pairs + 1, pairs] = B[pairs, pairs + 1] = 0.5
    MBM = M @ B @ M
    lags = np.abs(positions[:, None] - positions[None, :]).ravel()
    powers = _grid_powers(int(lags.max()) + 1)
    numerator = powers @ np.bincount(lags, MBM.ravel()) / len(pairs)
    denominator = powers @ np.bincount(lags, M.ravel()) / n
    return np.maximum.accumulate(numerator / denominator)


_POWERS = np.ones((len(_GRID), 1))


def _grid_powers(count: int) -> np.ndarray:
    """_GRID[:, None] ** arange(count): the powers every bias map takes, raised once for all designs."""
    global _POWERS
    if _POWERS.shape[1] < count:
        _POWERS = _GRID[:, None] ** np.arange(max(count, 2 * _POWERS.shape[1]))
    return _POWERS[:, :count]


# the factor is flat at low phi and bends upwards near 1, so the grid is denser there
_INFLATION_GRID = np.array([-0.5, -0.2, 0.0, 0.2, 0.4, 0.55, 0.7, 0.8, 0.87, PHI_LIMIT])
_INFLATION_DRAWS = 300

# Designs are pure functions of their regressors and times, so they are kept by their content: the fits'
# designs, and apart from them the designs inflation factors are read on, which many fits share and which
# the fits' churn must not evict.
_DESIGNS: OrderedDict = OrderedDict()
_INFLATION_DESIGNS: OrderedDict = OrderedDict()
_KEEP = 256
_KEEP_INFLATION = 1024


def _design(X: np.ndarray, positions: np.ndarray, kept: OrderedDict = _DESIGNS, keep: int = _KEEP) -> _Design:
    key = (X.shape, X.tobytes(), (positions - positions[0]).tobytes())
    if key not in kept:
        kept[key] = _Design(X, positions)
        while len(kept) > keep:
            kept.popitem(last=False)
    kept.move_to_end(key)
    return kept[key]


def _phi(Y: np.ndarray, design: _Design) -> np.ndarray:
    """The bias-corrected AR(1) coefficient of each row of Y (B, n)."""
    if np.isnan(design.expected).all():
        return np.zeros(len(Y))
    r = Y @ design.residual_maker
    lagged = (r[:, 1:] * r[:, :-1])[:, design.adjacent].mean(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = lagged / (r**2).mean(-1)
    return _settled(np.interp(np.nan_to_num(raw), design.expected, _GRID), Y, r)


def _settled(phi: np.ndarray, Y: np.ndarray, r: np.ndarray, unestimable=False) -> np.ndarray:
    """phi kept within ±PHI_LIMIT, and 0 where there is nothing to estimate it from: residuals ``r`` at rounding
    level (an exact fit carries no autocorrelation), or ``unestimable`` rows."""
    exact = (r**2).sum(-1) <= 1e-20 * ((Y - Y.mean(-1, keepdims=True)) ** 2).sum(-1)
    return np.where(exact | unestimable, 0.0, np.clip(phi, -PHI_LIMIT, PHI_LIMIT))


def _estimate_phi(y, X, positions) -> float:
    """The AR(1) coefficient of the errors of ``y = X b + e``, corrected for its small-sample bias.

    The lag-1 autocorrelation of the OLS residuals (over pairs one period
    apart) is biased towards −1/n and further by every regressor; the
    estimate is the phi whose expected residual autocorrelation, for this
    design, equals the one observed (the ratio-of-expectations
    approximation, in the spirit of Andrews 1993's median-unbiased
    estimator). Kept within ±0.95.
    """
    X = np.asarray(X, dtype=float)
    positions = np.asarray(positions)
    return float(_phi(np.asarray(y, dtype=float)[None], _design(X, positions))[0])


@dataclass(frozen=True)
class Ar1Test:
    """Contrasts of an AR(1) regression with bootstrap-calibrated inference (see :func:`ar1_test`)."""

    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    critical: np.ndarray
    phi: float
    n: int
    n_boot: int
    beta: np.ndarray
    cov: np.ndarray


def ar1_test(y, X, positions, contrasts, alpha: float = 0.05, n_boot: int = 999, seed: int | None = None,
             phi_margin: float = 0.0) -> Ar1Test:
    """Test linear contrasts of ``y = X b + e`` with AR(1) errors, calibrated by a parametric bootstrap.

    Parameters
    ----------
    y : array_like, shape (n,)
    X : array_like, shape (n, p)
        The design (full column rank).
    positions : array_like of int, shape (n,)
        Each observation's time, strictly increasing; a gap (a missing
        month, a transition window left out) is a jump, so points either
        side of it are not treated as neighbours.
    contrasts : array_like, shape (k, p)
        Each row c asks for c'b.
    alpha : float
        1 − confidence level.
    n_boot : int
        Bootstrap replicates.
    seed : int, optional
        Of the bootstrap; by default taken from the data, so that the same
        series always gives the same answer.
    phi_margin : float
        Simulate the null at phî + phi_margin·√((1 − phî²)/n), that many
        standard errors of phî above the estimate (0: at the estimate).
        With few points phî is often too low, and a bootstrap at it gives
        too narrow a null; casekit uses 1 below 24 points a side (docs/methods.md).

    Returns
    -------
    Ar1Test
        Per contrast ``estimate, se`` (GLS with the estimated phi),
        ``ci_low, ci_high``, ``p_value`` and ``critical`` (the bootstrap
        quantile q the interval uses); ``phi``, the bias-corrected
        autocorrelation of the OLS residuals (the phi whose expected residual
        autocorrelation for this design equals the one observed); and ``beta, cov``, the
        coefficients and their plug-in covariance at that phi.

    Notes
    -----
    The statistic is the feasible-GLS t ratio t = c'b̂ / se(c'b̂). Its null
    distribution depends only on the design, the positions and the true
    phi (GLS is equivariant to shifts along X and to scale), so it is
    simulated: ``n_boot`` AR(1) series with phi at its estimate, each put
    through the same estimator, phi estimation included. The p-value is
    (1 + #{|t*| ≥ |t|}) / (n_boot + 1); the interval is c'b̂ ± q·se, q the
    1 − alpha quantile of |t*| (a symmetric bootstrap-t interval, which
    excludes 0 exactly when p < alpha up to the resolution of n_boot).
    This is the AR(1) parametric bootstrap of Rayner (1990), with the bias
    correction inside each replicate.

    Examples
    --------
    A shift of 1 in a series with AR(1) noise of sd 0.5 and phi 0.5:

    >>> import numpy as np
    >>> from casekit.stats.ar1 import ar1_test
    >>> rng = np.random.default_rng(3)
    >>> e = np.zeros(60)
    >>> for i in range(1, 60): e[i] = 0.5 * e[i - 1] + rng.normal(0, 0.5)
    >>> after = (np.arange(60) >= 30).astype(float)
    >>> res = ar1_test(after + e, np.column_stack([np.ones(60), after]), np.arange(60), [[0, 1]])
    >>> bool(res.ci_low[0] < 1 < res.ci_high[0]), bool(res.p_value[0] < 0.01), 0.2 < res.phi < 0.8
    (True, True, True)
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    positions = np.asarray(positions, dtype=np.int64)
    C = np.atleast_2d(np.asarray(contrasts, dtype=float))
    n, p = X.shape
    if len(y) != n or len(positions) != n:
        raise ArgumentError("y, X and positions must have one row per observation")
    if n - p < 2:
        raise ArgumentError(f"an AR(1) regression with {p} coefficients needs at least {p + 2} points, got {n}")
    design = _design(X, positions)
    phi = _phi(y[None], design)
    beta, cov = _fit(y[None], design.X, design.positions, phi)
    estimate, se = _contrast_estimates(beta, cov, C)
    if seed is None:  # the data's own bytes: the same series always gives the same interval
        seed = zlib.crc32(y.tobytes() + positions.tobytes())
    simulated_phi = phi_above(float(phi[0]), n, phi_margin) if phi_margin else float(phi[0])
    noise = _ar1_noise(np.random.default_rng(seed), n_boot, positions, simulated_phi)
    t_boot = _abs_t(*_contrasts(noise, design, _phi(noise, design), C))
    p_value = (1 + (t_boot >= _abs_t(estimate[0], se[0])).sum(0)) / (n_boot + 1)
    crit = np.quantile(t_boot, 1 - alpha, axis=0)
    p_value = np.where(se[0] > 0, p_value, np.where(estimate[0] == 0, 1.0, 1 / (n_boot + 1)))
    return Ar1Test(estimate=estimate[0], se=se[0], ci_low=estimate[0] - crit * se[0],
                   ci_high=estimate[0] + crit * se[0], p_value=p_value, critical=crit, phi=float(phi[0]), n=n,
                   n_boot=n_boot, beta=beta[0], cov=cov[0])


def _abs_t(estimate, se):
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.abs(estimate / se)
    return np.where(np.isfinite(t), t, np.inf)


def ar1_estimates(y, X, positions, contrasts):
    """Contrasts' GLS estimates and standard errors, and phi, without the bootstrap.

    Parameters
    ----------
    y : array_like, shape (n,)
        The series.
    X : array_like, shape (n, p)
        The design.
    positions : array_like of int, shape (n,)
        Each value's period.
    contrasts : array_like, shape (k, p)
        One row per contrast c (the estimate is c'b).

    Returns
    -------
    estimate, se : numpy.ndarray, shape (k,)
        Each contrast's GLS estimate and plug-in standard error.
    phi : float
        The bias-corrected AR(1) coefficient the GLS used.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(24.0)
    >>> X = np.column_stack([np.ones(24), t, t >= 12])
    >>> y = 10 + 0.1 * t + 2 * (t >= 12) + np.random.default_rng(0).normal(0, 0.5, 24)
    >>> estimate, se, phi = ar1_estimates(y, X, t.astype(int), np.eye(3)[2:])
    >>> np.round(estimate, 2), np.round(se, 2)
    (array([1.18]), array([0.44]))
    """
    estimate, se, phi, _, _ = ar1_estimates_many(np.asarray(y, dtype=float)[None], X, positions, contrasts)
    return estimate[0], se[0], float(phi[0])


def ar1_estimates_many(Y, X, positions, contrasts):
    """:func:`ar1_estimates` of each row of Y (B, n), all on one design, in one stack.

    Returns estimates and standard errors (B, k), phi (B,), the coefficients (B, p) and their covariances
    (B, p, p).

    Parameters
    ----------
    Y : array_like, shape (B, n)
        B series on one design.
    X : array_like, shape (n, p)
        The design they share.
    positions : array_like of int, shape (n,)
        Each value's period.
    contrasts : array_like, shape (k, p)
        One row per contrast.

    Returns
    -------
    estimate, se : numpy.ndarray, shape (B, k)
    phi : numpy.ndarray, shape (B,)
    beta : numpy.ndarray, shape (B, p)
    cov : numpy.ndarray, shape (B, p, p)
        As :func:`ar1_estimates` returns them, one row per series.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(24.0)
    >>> X = np.column_stack([np.ones(24), t, t >= 12])
    >>> y = 10 + 0.1 * t + 2 * (t >= 12) + np.random.default_rng(0).normal(0, 0.5, 24)
    >>> Y = np.stack([y, y[::-1]])
    >>> many = ar1_estimates_many(Y, X, t.astype(int), np.eye(3)[2:])[0][:, 0]
    >>> alone = [ar1_estimates(row, X, t.astype(int), np.eye(3)[2:])[0][0] for row in Y]
    >>> bool(np.allclose(many, alone))
    True
    """
    Y = np.asarray(Y, dtype=float)
    design = _design(np.asarray(X, dtype=float), np.asarray(positions, dtype=np.int64))
    C = np.atleast_2d(np.asarray(contrasts, dtype=float))
    phi = _phi(Y, design)
    beta, cov = _fit(Y, design.X, design.positions, phi)
    return *_contrast_estimates(beta, cov, C), phi, beta, cov


def ar1_estimates_stacked(Y, X, positions, contrasts):
    """:func:`ar1_estimates` of each row of Y (B, n) on its own design: X (B, n, p) at positions (B, n), with
    its own contrasts (B, k, p).

    For series that share no design with others (each with its own span and gaps, as real portfolios
    are): the designs are stacked and worked on together, a block at a time, rather than one by one.

    Parameters
    ----------
    Y : array_like, shape (B, n)
        B series of the same length.
    X : array_like, shape (B, n, p)
        Each series' design.
    positions : array_like of int, shape (B, n)
        Each series' periods.
    contrasts : array_like, shape (B, k, p)
        Each series' contrasts.

    Returns
    -------
    estimate, se : numpy.ndarray, shape (B, k)
    phi : numpy.ndarray, shape (B,)
    beta : numpy.ndarray, shape (B, p)
    cov : numpy.ndarray, shape (B, p, p)

    Examples
    --------
    The same numbers as fitting each series on its own:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> t = np.array([np.r_[0:10, 11:20], np.r_[0:5, 6:20]])
    >>> X = np.stack([np.column_stack([np.ones(19), tt, tt >= 10]) for tt in t])
    >>> Y = rng.standard_normal((2, 19))
    >>> C = np.tile(np.eye(3)[2:], (2, 1, 1))
    >>> stacked = ar1_estimates_stacked(Y, X, t, C)[0][:, 0]
    >>> alone = [ar1_estimates(Y[b], X[b], t[b], C[b])[0][0] for b in range(2)]
    >>> bool(np.allclose(stacked, alone))
    True
    """
    Y, X = np.asarray(Y, dtype=float), np.asarray(X, dtype=float)
    positions, C = np.asarray(positions, dtype=np.int64), np.asarray(contrasts, dtype=float)
    steps = np.diff(positions, axis=1)
    if (steps <= 0).any():
        raise ArgumentError("positions must be strictly increasing integers")
    parts = [_stacked_block(Y[at:at + _BLOCK], X[at:at + _BLOCK], positions[at:at + _BLOCK], steps[at:at + _BLOCK])
             for at in range(0, len(Y), _BLOCK)]
    phi, beta, cov = (np.concatenate(part) for part in zip(*parts))
    variance = np.einsum("bki,bij,bkj->bk", C, cov, C)
    return np.einsum("bki,bi->bk", C, beta), np.sqrt(np.maximum(variance, 0)), phi, beta, cov


_BLOCK = 512  # designs worked on at once: their n × n arrays (lags, cross-products) stay within a few MB


def _stacked_block(Y, X, positions, steps):
    """phi, betas and covariances of a block of series, each on its own design (see ar1_estimates_stacked)."""
    basis = np.linalg.qr(X)[0]  # residuals are y − Q Q'y: the n × n residual maker is never formed
    adjacent = steps == 1
    expected = _expected_lag1_stacked(basis, positions, adjacent)
    r = Y - np.einsum("bp,bnp->bn", np.einsum("bn,bnp->bp", Y, basis), basis)
    pairs = adjacent.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = ((r[:, 1:] * r[:, :-1]) * adjacent).sum(1) / pairs / (r**2).mean(-1)
    raw = np.where(np.isnan(raw), 0.0, raw)
    phi = np.array([np.interp(value, curve, _GRID) if has else 0.0
                    for value, curve, has in zip(raw, expected, pairs > 0)])  # each row its own bias curve
    phi = _settled(phi, Y, r, unestimable=pairs == 0)
    return (phi, *_fit_stacked(Y, X, steps, phi))


def _expected_lag1_stacked(Q: np.ndarray, positions: np.ndarray, adjacent: np.ndarray) -> np.ndarray:
    """:func:`_expected_lag1` of a stack of designs, from their orthonormal bases Q (B, n, p): curves
    (B, len(_GRID)).

    With M = I − QQ' and B the neighbour matrix, MBM = B + (QW − U)Q' − QU' with U = BQ and W = Q'U,
    so nothing costs more than n²p; B sits at lag 1 and I at lag 0.
    """
    count, n, _ = Q.shape
    weights = 0.5 * adjacent[:, :, None]
    U = np.zeros_like(Q)
    U[:, :-1] += weights * Q[:, 1:]
    U[:, 1:] += weights * Q[:, :-1]
    Qt = Q.transpose(0, 2, 1)
    W = Qt @ U
    MBM_less_B = (Q @ W - U) @ Qt - Q @ U.transpose(0, 2, 1)
    lags = np.abs(positions[:, :, None] - positions[:, None, :]).reshape(count, -1)
    width = int(lags.max()) + 1
    bins = (lags + width * np.arange(count)[:, None]).ravel()
    by_lag = [np.bincount(bins, matrix.ravel(), minlength=count * width).reshape(count, width)
              for matrix in (MBM_less_B, -(Q @ Qt))]
    by_lag[0][:, 1] += adjacent.sum(1)  # B's entries: 1/2 twice for each pair of neighbours
    by_lag[1][:, 0] += n                # the identity's
    powers = _grid_powers(width)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (by_lag[0] @ powers.T / adjacent.sum(1)[:, None]) / (by_lag[1] @ powers.T / n)
    return np.maximum.accumulate(ratio, axis=1)


def _fit_stacked(Y: np.ndarray, X: np.ndarray, steps: np.ndarray, phi: np.ndarray):
    """:func:`_fit` with each row of Y on its own design X[b] and steps[b]."""
    n, p = X.shape[1:]
    rho = phi[:, None] ** steps
    w0 = 1 / (1 - rho**2)
    w1, now, earlier = rho * w0, X[:, 1:], X[:, :-1]
    w2 = rho * w1

    def cross(weights, a, b):
        return (weights[:, :, None] * a).transpose(0, 2, 1) @ b

    xtx = (X[:, 0, :, None] * X[:, 0, None, :] + cross(w0, now, now) - cross(w1, now, earlier)
           - cross(w1, earlier, now) + cross(w2, earlier, earlier))
    y_now, y_earlier = Y[:, 1:], Y[:, :-1]
    xty = (Y[:, :1] * X[:, 0] + np.einsum("bn,bnp->bp", w0 * y_now - w1 * y_earlier, now)
           + np.einsum("bn,bnp->bp", w2 * y_earlier - w1 * y_now, earlier))
    xtx_inv = np.linalg.inv(xtx)
    beta = (xtx_inv @ xty[..., None])[..., 0]
    residual = Y - np.einsum("bnp,bp->bn", X, beta)
    white = (residual[:, 1:] - rho * residual[:, :-1]) * np.sqrt(w0)
    sigma2 = (np.einsum("bn,bn->b", white, white) + residual[:, 0] ** 2) / (n - p)
    return beta, sigma2[:, None, None] * xtx_inv


def se_inflation(X, positions, contrast, phi):
    """How much larger than 1 the plug-in t ratio of c'b spreads, at ``phi``: sqrt(E[t²]).

    With phi estimated, the plug-in GLS standard error is about unbiased in
    square, but it varies from series to series with the estimated phi, so
    (c'b̂ − c'b)/se spreads more than a standard normal (by 7% at phi = 0
    and 35% at phi = 0.8 for 24 months a side). A meta-analysis sums these
    squared ratios: Cochran's Q then rejects homogeneity too often and I²
    is inflated (docs/methods.md, "Across cases"). Multiplying the standard error by
    this factor makes the ratio's mean square 1. The factor is simulated
    for the design on a grid of phi (300 AR(1) series at each of 10
    points, the same noise at every point, so the curve is smooth and
    reproducible) and interpolated; ``phi`` may be an array of values
    for the one design (an array of factors comes back).

    Parameters
    ----------
    X : array_like, shape (n, p)
        The design.
    positions : array_like of int, shape (n,)
        Each value's period.
    contrast : array_like, shape (p,)
        The contrast c.
    phi : float or array_like
        The AR(1) coefficient(s) at which to read the factor.

    Returns
    -------
    float or numpy.ndarray
        The factor (at least 1 in expectation), one per ``phi``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(24.0)
    >>> X = np.column_stack([np.ones(24), t, t >= 12])
    >>> y = 10 + 0.1 * t + 2 * (t >= 12) + np.random.default_rng(0).normal(0, 0.5, 24)
    >>> factors = se_inflation(X, t.astype(int), np.eye(3)[2], np.array([0.0, 0.8]))
    >>> bool(1 < factors[0] < factors[1])
    True
    """
    design = _design(np.asarray(X, dtype=float), np.asarray(positions, dtype=np.int64), _INFLATION_DESIGNS,
                     _KEEP_INFLATION)
    factor = design.inflation_at(np.asarray(contrast, dtype=float), phi)
    return float(factor) if np.ndim(phi) == 0 else factor


def _contrasts(Y: np.ndarray, design: _Design, phi: np.ndarray, C: np.ndarray):
    return _contrast_estimates(*_fit(Y, design.X, design.positions, phi), C)


def _contrast_estimates(beta: np.ndarray, cov: np.ndarray, C: np.ndarray):
    variance = np.einsum("ki,bij,kj->bk", C, cov, C)
    return beta @ C.T, np.sqrt(np.maximum(variance, 0))


def _ar1_noise(rng: np.random.Generator, count: int, positions: np.ndarray, phi: float) -> np.ndarray:
    """``count`` stationary AR(1) series of unit variance seen at ``positions`` (gaps skip ahead exactly)."""
    return ar1_series(rng.standard_normal((count, len(positions))), positions, phi)


def ar1_series(shocks, positions, phi: float) -> np.ndarray:
    """Stationary AR(1) series of unit variance made from standard normal ``shocks`` (one row a series), seen at
    ``positions``: a gap of k periods carries the correlation phi^k.

    Parameters
    ----------
    shocks : array_like, shape (B, n)
        Independent standard normal draws.
    positions : array_like of int, shape (n,)
        Each value's period, strictly increasing.
    phi : float
        The AR(1) coefficient.

    Returns
    -------
    numpy.ndarray, shape (B, n)

    Examples
    --------
    >>> import numpy as np
    >>> y = ar1_series(np.random.default_rng(0).standard_normal((20000, 3)), np.array([0, 1, 3]), 0.5)
    >>> np.round(np.corrcoef(y.T)[0, 1:], 2).tolist()  # 0.5 a period apart, 0.125 three apart
    [0.5, 0.13]
    """
    shocks = np.asarray(shocks, dtype=float)
    rho = phi ** np.diff(positions)
    out = np.empty_like(shocks)
    out[:, 0] = shocks[:, 0]
    for i, r in enumerate(rho, start=1):
        out[:, i] = r * out[:, i - 1] + np.sqrt(1 - r * r) * shocks[:, i]
    return out


def phi_above(phi, n: int, margin: float):
    """phi ``margin`` standard errors (√((1 − phi²)/n)) above its estimate, kept at or below :data:`PHI_LIMIT`:
    where a short series' underestimated phi is read or simulated.

    Parameters
    ----------
    phi : float or array_like
        The estimate(s).
    n : int or array_like
        The points each estimate is from.
    margin : float
        Standard errors to add.

    Returns
    -------
    float or numpy.ndarray
        As ``phi``.

    Examples
    --------
    >>> round(phi_above(0.4, 48, 1.0), 3), phi_above(0.9, 12, 2.0)
    (0.532, 0.95)
    """
    above = np.minimum(np.asarray(phi, dtype=float) + margin * np.sqrt(np.maximum(1 - np.square(phi), 0) / n),
                       PHI_LIMIT)
    return float(above) if np.ndim(above) == 0 else above
