"""Random-effects meta-analysis: pooling one effect across cases."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from ..errors import ArgumentError

METHODS = {"DL": "chi2", "PM": "iterated"}
TESTS = {"z": "normal", "hk": "Hartung–Knapp", "robust": "robust (CR2)"}


@dataclass(frozen=True)
class MetaResult:
    """A pooled random-effects estimate (see :func:`meta_analysis`)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    p_value: float
    tau2: float
    i2: float
    q: float
    q_pvalue: float
    k: int
    method: str
    test: str
    df: float

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame with one column per attribute.

        Returns
        -------
        pandas.DataFrame
            One row; the columns are the result's attributes (``k``, ``estimate``,
            ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``tau2``, ``i2``, ...).

        Examples
        --------
        >>> meta_analysis([0.2, 0.1, 0.3], [0.05, 0.08, 0.1]).to_frame()[["k", "estimate"]].round(3).values.tolist()
        [[3.0, 0.194]]
        """
        return pd.DataFrame([asdict(self)])

    def __repr__(self) -> str:
        return (
            f"MetaResult({self.method}, {TESTS[self.test]} test, k={self.k}: estimate {self.estimate:.4g} "
            f"[{self.ci_low:.4g}, {self.ci_high:.4g}], p={self.p_value:.3g}; "
            f"prediction [{self.pi_low:.4g}, {self.pi_high:.4g}]; tau2={self.tau2:.4g}, "
            f"I2={100 * self.i2:.1f}%, Q={self.q:.4g} (p={self.q_pvalue:.3g}))"
        )


def meta_analysis(effect, variance, method: str = "DL", test: str = "z", alpha: float = 0.05) -> MetaResult:
    """Pool effects from several cases with a random-effects model.

    Parameters
    ----------
    effect : array_like
        One effect per case (in casekit, the direction-aware log ratio of the
        fitted level to the counterfactual one, the baseline trend carried on,
        over the first year after the transition: positive is better).
    variance : array_like
        The sampling variance of each effect (its squared standard error).
    method : {"DL", "PM"}
        Estimator of the between-case variance tau²: DerSimonian–Laird
        (method of moments) or Paule–Mandel (iterated; recommended by Veroniki
        et al. 2016).
    test : {"z", "hk", "robust"}
        How the pooled effect's CI and p-value are made. ``"z"``: the usual
        standard error, normal quantiles. ``"hk"``: the Hartung–Knapp(–Sidik–
        Jonkman) standard error with t(k − 1), never below the usual one (the
        ad hoc rule of Knapp & Hartung 2003; metafor's ``test="adhoc"``).
        ``"robust"``: the cluster-robust (sandwich) variance of the weighted
        mean with the CR2 small-sample correction and Satterthwaite degrees of
        freedom (Tipton 2015; Pustejovsky & Tipton 2018), each case its own
        cluster; metafor's ``robust(..., clubSandwich=TRUE)``. It does not take
        the cases' standard errors at their word, only as weights, so it holds
        its error rate when they are themselves estimated with noise, as
        casekit's are (the calibration table in docs/methods.md); casekit's cross-case
        test uses it.
    alpha : float
        1 − confidence level of the CI and the prediction interval.

    Returns
    -------
    MetaResult
        ``estimate, se`` (of the pooled effect), ``ci_low, ci_high``,
        ``pi_low, pi_high`` (prediction interval for a new case's true
        effect; NaN when k < 3), ``p_value`` (of the pooled effect against 0),
        ``tau2``, ``i2`` (share of total variance due to heterogeneity, 0–1),
        ``q`` and ``q_pvalue`` (Cochran's test of homogeneity), ``k``,
        ``method``, ``test`` and ``df`` (the degrees of freedom of the t
        distribution the CI, p-value and prediction interval use; infinite for
        ``"z"``).

    Raises
    ------
    ValueError
        With fewer than two effects, non-finite values or variances that are
        not positive.

    Notes
    -----
    The pooled estimate, tau² and Q come from
    ``statsmodels.stats.meta_analysis.combine_effects``; a negative
    DerSimonian–Laird tau² (Q < k − 1), which statsmodels 0.14–0.15 passes on
    into the weights, is truncated at 0 as in the original method and in
    metafor. I² is computed as in
    R's metafor, tau² / (tau² + s²) with s² the "typical" within-case variance
    (Higgins & Thompson 2002, eq. 9); for DerSimonian–Laird this equals the
    familiar (Q − df) / Q. The prediction interval is metafor's
    (``predict.rma``): estimate ± q · sqrt(tau² + se²) with the test's own
    standard error and quantile (t(k − 1) with Hartung–Knapp, t(df) with the
    robust test, the normal otherwise), for k ≥ 3; Higgins, Thompson & Spiegelhalter (2009, eq. 12)
    use t(k − 2) with the usual standard error, which with 3 cases is a
    t(1) quantile of 12.7 and no description of anything.

    With few cases tau², I² and the prediction interval are very imprecise:
    a tau² of 0 or an I² of 0% with k < 10 does not show that the cases
    agree (von Hippel 2015), and a prediction interval from 3–5 cases is
    mostly the width of the t quantile. Read them as descriptions,
    not tests.

    References
    ----------
    DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control
    Clin Trials 7:177–188.
    Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res Natl
    Bur Stand 87:377–385.
    Hartung J, Knapp G (2001). On tests of the overall treatment effect in
    meta-analysis with normally distributed responses. Stat Med 20:1771–1782.
    Knapp G, Hartung J (2003). Improved tests for a random effects
    meta-regression with a single covariate. Stat Med 22:2693–2710.
    von Hippel PT (2015). The heterogeneity statistic I² can be biased in
    small meta-analyses. BMC Med Res Methodol 15:35.
    Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a
    meta-analysis. Stat Med 21:1539–1558.
    Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of
    random-effects meta-analysis. J R Stat Soc A 172:137–159.
    IntHout J, Ioannidis JPA, Borm GF (2014). The Hartung-Knapp-Sidik-Jonkman
    method for random effects meta-analysis is straightforward and considerably
    outperforms the standard DerSimonian-Laird method. BMC Med Res Methodol 14:25.
    Tipton E (2015). Small sample adjustments for robust variance estimation
    with meta-regression. Psychol Methods 20:375–393.
    Pustejovsky JE, Tipton E (2018). Small-sample methods for cluster-robust
    variance estimation and hypothesis testing in fixed effects models. J Bus
    Econ Stat 36:672–683.
    Röver C, Knapp G, Friede T (2015). Hartung-Knapp-Sidik-Jonkman approach and
    its modification for random-effects meta-analysis with few studies. BMC Med
    Res Methodol 15:99.
    Veroniki AA et al. (2016). Methods to estimate the between-study variance
    and its uncertainty in meta-analysis. Res Synth Methods 7:55–79.

    Examples
    --------
    Kacker (2004)'s nine laboratories, the example metafor and statsmodels use:

    >>> import casekit as ck
    >>> y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
    >>> v = [0.2025, 1.21, 0.09, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
    >>> res = ck.meta_analysis(y, v, method="DL")
    >>> round(res.estimate, 4), round(res.tau2, 4), round(100 * res.i2, 2)
    (62.3901, 0.288, 67.74)
    >>> res.to_frame()[["estimate", "ci_low", "ci_high", "k"]].round(4)
       estimate   ci_low  ci_high  k
    0   62.3901  61.9085  62.8718  9
    """
    if method not in METHODS:
        raise ArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if test not in TESTS:
        raise ArgumentError(f"test must be one of {', '.join(TESTS)}, got {test!r}")
    y = np.asarray(effect, dtype=float)
    v = np.asarray(variance, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ArgumentError(f"effect and variance must be 1-D and of the same length, got {y.shape} and {v.shape}")
    if len(y) < 2:
        raise ArgumentError(f"a meta-analysis needs at least 2 effects, got {len(y)}")
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ArgumentError("effects must be finite and variances finite and positive")
    k = len(y)
    with np.errstate(invalid="ignore"):
        res = combine_effects(y, v, method_re=METHODS[method])
    if res.tau2 > 0:
        estimate, tau2 = float(res.mean_effect_re), float(res.tau2)
        se, se_hk = float(res.sd_eff_w_re), float(res.sd_eff_w_re_hksj)
    else:
        # statsmodels leaves the DerSimonian-Laird tau² negative when Q < k - 1; truncated at 0,
        # as DerSimonian & Laird and metafor do, the random-effects model is the fixed-effect one
        estimate, tau2 = float(res.mean_effect_fe), 0.0
        se, se_hk = float(res.sd_eff_w_fe), float(np.sqrt(res.var_hksj_fe))
    df = float("inf")
    if test == "hk":
        se, df = max(se, se_hk), k - 1
    elif test == "robust":
        se, df = _robust(y, v, tau2, estimate)
    dist = stats.norm() if np.isinf(df) else stats.t(df)
    crit = dist.ppf(1 - alpha / 2)
    p_value = float(2 * dist.sf(abs(estimate / se))) if se > 0 else float(estimate == 0)
    w = 1 / v
    typical = (k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    if k >= 3:  # metafor's predict(): the test's own distribution and standard error, with tau² added
        half = crit * np.sqrt(tau2 + se**2)
        pi_low, pi_high = estimate - half, estimate + half
    else:
        pi_low = pi_high = float("nan")
    return MetaResult(
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        pi_low=float(pi_low),
        pi_high=float(pi_high),
        p_value=p_value,
        tau2=tau2,
        i2=float(tau2 / (tau2 + typical)),
        q=float(res.q),
        q_pvalue=float(stats.chi2.sf(res.q, k - 1)),
        k=k,
        method=method,
        test=test,
        df=float(df),
    )


def _robust(y: np.ndarray, v: np.ndarray, tau2: float, estimate: float) -> tuple[float, float]:
    """The CR2 cluster-robust standard error of the random-effects mean and its Satterthwaite degrees of
    freedom, each case a cluster (Tipton 2015): with p = w/Σw, V = Σ p²e²/(1 − p), e the residuals; the
    degrees of freedom 2E[V]²/Var[V] under the working model, tr(A)²/tr(A²) with A = D M Φ M'."""
    w = 1 / (v + tau2)
    p = w / w.sum()
    residual = y - estimate
    se = float(np.sqrt((p**2 * residual**2 / (1 - p)).sum()))
    maker = np.eye(len(y)) - p[None, :]
    A = (p**2 / (1 - p))[:, None] * (maker * (1 / w)[None, :]) @ maker.T
    return se, float(np.trace(A) ** 2 / np.trace(A @ A))


def robust_p_values(effects, variances) -> np.ndarray:
    """:func:`meta_analysis`'s p-value (DerSimonian–Laird, ``test="robust"``) for many portfolios of k at once.

    Parameters
    ----------
    effects, variances : array_like, shape (B, k)
        One portfolio of k effects and their sampling variances per row.

    Returns
    -------
    numpy.ndarray, shape (B,)
        Each portfolio's p-value, as ``meta_analysis(effects[b], variances[b], "DL", "robust").p_value``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.1, 0.3, 0.2, 0.25], [0.0, -0.1, 0.2, 0.05]])
    >>> v = np.full((2, 4), 0.01)
    >>> np.round(robust_p_values(y, v), 4).tolist() == [round(meta_analysis(a, b, "DL", "robust").p_value, 4)
    ...                                                for a, b in zip(y, v)]
    True
    """
    y, v = np.asarray(effects, dtype=float), np.asarray(variances, dtype=float)
    k = y.shape[1]
    w0 = 1 / v
    fixed = (w0 * y).sum(axis=1, keepdims=True) / w0.sum(axis=1, keepdims=True)
    q = (w0 * (y - fixed) ** 2).sum(axis=1)
    spread = w0.sum(axis=1) - (w0**2).sum(axis=1) / w0.sum(axis=1)
    tau2 = np.maximum(0.0, (q - (k - 1)) / spread)
    w = 1 / (v + tau2[:, None])
    p = w / w.sum(axis=1, keepdims=True)
    estimate = (p * y).sum(axis=1)
    residual = y - estimate[:, None]
    se = np.sqrt((p**2 * residual**2 / (1 - p)).sum(axis=1))
    maker = np.eye(k)[None] - p[:, None, :]
    A = (p**2 / (1 - p))[:, :, None] * np.einsum("bij,bj,bkj->bik", maker, 1 / w, maker)
    df = np.einsum("bii->b", A) ** 2 / np.einsum("bij,bji->b", A, A)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * stats.t.sf(np.abs(estimate / se), df)
