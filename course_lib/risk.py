r"""Risk models judged the way a risk team judges them: out-of-sample minimum-variance portfolios.

A covariance estimate is only as good as the portfolio it builds. The test here
is the classic one: at each rebalancing date estimate the covariance from the
trailing window of past returns only, hold the fully invested minimum-variance
portfolio :math:`w = \Sigma^{-1}\mathbf 1 / \mathbf 1^\top\Sigma^{-1}\mathbf 1`
until the next date, and compare the **realised** volatility of the resulting
daily returns. A better risk model gives a calmer portfolio.

- :func:`min_variance_weights`: the weights for one covariance matrix;
- :func:`sample_covariance`, :func:`ledoit_wolf_covariance`: the baselines;
- :func:`factor_model_covariance` and :func:`decoder_factor_covariance`:
  :math:`\Sigma = \bar B\,\Sigma_z\,\bar B^\top + D` for any factor model with
  ``transform``/``inverse_transform`` (PCA, an autoencoder, a VAE), with
  :math:`\bar B` the average decoder Jacobian, :math:`\Sigma_z` the covariance
  of the factors and :math:`D` the residual variances;
- :func:`rolling_min_variance`: the walk-forward backtest;
- :func:`volatility_table`: realised volatility with paired differences and
  block standard errors against a baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.covariance import LedoitWolf

from ._validation import as_2d_float, check_finite, check_positive_int, check_real

__all__ = [
    "min_variance_weights",
    "sample_covariance",
    "ledoit_wolf_covariance",
    "factor_model_covariance",
    "decoder_factor_covariance",
    "rolling_min_variance",
    "volatility_table",
]


def _check_cov(cov: Any, name: str = "cov") -> np.ndarray:
    C = as_2d_float(cov, name, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
        raise ValueError(f"{name} must be a square (n_assets, n_assets) matrix, got shape {C.shape}.")
    check_finite(C, name)
    if not np.allclose(C, C.T, rtol=1e-6, atol=1e-12 * max(1.0, float(np.abs(C).max()))):
        raise ValueError(f"{name} is not symmetric: pass a covariance matrix, e.g. (C + C.T) / 2.")
    return C


def min_variance_weights(cov: Any) -> np.ndarray:
    r"""Fully invested minimum-variance weights, :math:`w = \Sigma^{-1}\mathbf 1 / \mathbf 1^\top\Sigma^{-1}\mathbf 1`.

    Short positions are allowed (the textbook global minimum-variance portfolio).

    Parameters
    ----------
    cov : array-like, shape (n_assets, n_assets)
        A symmetric positive-definite covariance matrix.

    Returns
    -------
    numpy.ndarray
        Shape (n_assets,), summing to 1.

    Raises
    ------
    ValueError
        If ``cov`` is not square, symmetric, finite and positive definite.
    """
    C = _check_cov(cov)
    try:
        L = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        raise ValueError(
            "cov is not positive definite: with fewer days than assets the sample covariance is singular; "
            "use a shrinkage (ledoit_wolf_covariance) or factor-model estimate, or a longer window."
        ) from None
    x = np.linalg.solve(L.T, np.linalg.solve(L, np.ones(len(C))))
    return x / x.sum()


def sample_covariance(X: Any) -> np.ndarray:
    """Sample covariance (ddof=1) of ``X``, shape (n_days, n_assets) -> (n_assets, n_assets)."""
    X = as_2d_float(X, "X", min_rows=2).astype(np.float64)
    return np.atleast_2d(np.cov(X, rowvar=False))


def ledoit_wolf_covariance(X: Any) -> np.ndarray:
    """Ledoit-Wolf shrinkage covariance (scikit-learn), shape (n_assets, n_assets), of ``X`` of shape (n_days, n_assets)."""
    X = as_2d_float(X, "X", min_rows=2).astype(np.float64)
    return LedoitWolf().fit(X).covariance_


def factor_model_covariance(loadings: Any, factor_cov: Any, resid_var: Any) -> np.ndarray:
    r"""Factor-model covariance :math:`\Sigma = B\,\Sigma_z\,B^\top + \operatorname{diag}(d)`.

    Parameters
    ----------
    loadings : array-like, shape (n_assets, k)
    factor_cov : array-like, shape (k, k)
    resid_var : array-like, shape (n_assets,)
        Residual (idiosyncratic) variances, each > 0.

    Returns
    -------
    numpy.ndarray
        Shape (n_assets, n_assets).
    """
    B = as_2d_float(loadings, "loadings").astype(np.float64)
    S = _check_cov(factor_cov, "factor_cov")
    if np.linalg.eigvalsh(S).min() < -1e-10 * max(1.0, float(np.abs(S).max())):
        raise ValueError("factor_cov is not positive semi-definite (it has a negative eigenvalue): pass a covariance matrix.")
    d = np.asarray(resid_var, dtype=np.float64)
    if S.shape[0] != B.shape[1]:
        raise ValueError(f"loadings has {B.shape[1]} factors but factor_cov is {S.shape}: they must match.")
    if d.shape != (B.shape[0],):
        raise ValueError(f"resid_var must have shape ({B.shape[0]},) (one variance per asset), got {d.shape}.")
    check_finite(d, "resid_var")
    if np.any(d <= 0):
        raise ValueError("resid_var must be > 0 for every asset: a zero residual variance makes the covariance singular.")
    return B @ S @ B.T + np.diag(d)


def decoder_factor_covariance(model: Any, X: Any, *, eps: float = 1e-2) -> np.ndarray:
    r"""Covariance a fitted factor model implies on the days ``X``: :math:`\bar B\,\widehat{\mathrm{Cov}}(z)\,\bar B^\top + D`.

    ``z = model.transform(X)`` are the factors on these days, :math:`\bar B` the
    average decoder Jacobian there (:func:`course_lib.factors.average_loadings`;
    exactly the loadings for PCA) and :math:`D` the variances of the
    reconstruction residuals ``X - model.inverse_transform(z)``. For a
    non-linear decoder this is the covariance of its linearisation.

    Parameters
    ----------
    model : estimator
        Fitted, with ``transform`` and ``inverse_transform`` (PCA, AE, VAE).
    X : array-like, shape (n_days, n_assets)
        Returns in the units the model was trained on.
    eps : float, default 1e-2
        Finite-difference step for the Jacobian.

    Returns
    -------
    numpy.ndarray
        Shape (n_assets, n_assets).
    """
    from .factors import average_loadings

    X = as_2d_float(X, "X", min_rows=3).astype(np.float64)
    check_real(eps, "eps", low=0.0, low_open=True)
    Z = np.asarray(model.transform(X), dtype=np.float64)
    B = average_loadings(model, Z, eps=eps)
    resid = X - np.asarray(model.inverse_transform(Z), dtype=np.float64)
    Sz = np.atleast_2d(np.cov(Z, rowvar=False))
    d = np.maximum(resid.var(axis=0, ddof=1), 1e-8 * X.var(axis=0, ddof=1).mean())
    return factor_model_covariance(B, (Sz + Sz.T) / 2, d)


def rolling_min_variance(
    returns: pd.DataFrame,
    estimators: Mapping[str, Callable[[pd.DataFrame], Any]],
    test_index: pd.Index,
    *,
    window: int = 500,
    rebalance_every: int = 21,
) -> pd.DataFrame:
    r"""Walk-forward minimum-variance backtest, one portfolio per covariance estimator.

    At each rebalancing day ``t`` (every ``rebalance_every``-th day of
    ``test_index``) each estimator gets the ``window`` days of log returns
    strictly before ``t`` and returns a covariance; the minimum-variance
    weights are then held (rebalanced daily to the same weights) until the next
    rebalancing day. Portfolio returns are the weighted **simple** returns
    :math:`\sum_i w_i (e^{r_{i,t}}-1)`.

    Parameters
    ----------
    returns : pandas.DataFrame, shape (n_days, n_assets)
        Daily log returns with a sorted DatetimeIndex.
    estimators : mapping of str to callable
        ``f(window_returns) -> cov`` with ``window_returns`` a DataFrame of shape
        (window, n_assets) and ``cov`` of shape (n_assets, n_assets).
    test_index : pandas.Index
        The evaluation days, a subset of ``returns.index`` with at least
        ``window`` earlier days.
    window : int, default 500
        Trailing estimation window in days (>= 2).
    rebalance_every : int, default 21
        Days between rebalancing (>= 1).

    Returns
    -------
    pandas.DataFrame
        Shape (len(test_index), n_estimators): daily portfolio returns. The
        weights at each rebalancing day are in ``result.attrs["weights"]``
        (a dict name -> DataFrame of shape (n_rebalances, n_assets)).
    """
    if not isinstance(returns, pd.DataFrame) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ValueError("returns must be a pandas DataFrame of log returns with a DatetimeIndex (dates x assets).")
    if not returns.index.is_monotonic_increasing:
        raise ValueError("returns must be sorted by date; call .sort_index() first.")
    check_finite(returns.to_numpy(dtype=float), "returns")
    if not estimators:
        raise ValueError("estimators is empty: pass e.g. {'sample': sample_covariance}.")
    if not returns.index.is_unique:
        raise ValueError("returns has duplicate dates; keep one row per date, e.g. returns[~returns.index.duplicated()].")
    window = check_positive_int(window, "window", minimum=2)
    rebalance_every = check_positive_int(rebalance_every, "rebalance_every")
    test_index = pd.Index(test_index)
    if len(test_index) == 0:
        raise ValueError("test_index is empty: pass the evaluation days, e.g. splits.test.index.")
    missing = test_index.difference(returns.index)
    if len(missing):
        raise ValueError(
            f"test_index has {len(missing)} day(s) not in returns.index (first {missing[0]}): select test days from returns."
        )
    pos = returns.index.get_indexer(test_index)
    if np.any(np.diff(pos) <= 0):
        raise ValueError("test_index must be sorted and without duplicates.")
    if pos[0] < window:
        raise ValueError(
            f"test_index: only {pos[0]} days precede the first test day but window={window}: "
            "shorten the window or start the test later."
        )
    R = returns.to_numpy(dtype=np.float64)
    simple = np.expm1(R[pos])
    n = returns.shape[1]
    out = np.empty((len(pos), len(estimators)))
    weights: dict[str, list[np.ndarray]] = {name: [] for name in estimators}
    starts = list(range(0, len(pos), int(rebalance_every)))
    for s in starts:
        e = min(s + int(rebalance_every), len(pos))
        past = returns.iloc[pos[s] - window : pos[s]]
        for j, (name, est) in enumerate(estimators.items()):
            cov = np.asarray(est(past), dtype=np.float64)
            if cov.shape != (n, n):
                raise ValueError(f"estimator {name!r} returned shape {cov.shape}; expected ({n}, {n}).")
            w = min_variance_weights(cov)
            weights[name].append(w)
            out[s:e, j] = simple[s:e] @ w
    result = pd.DataFrame(out, index=test_index, columns=list(estimators))
    reb_days = test_index[starts]
    result.attrs["weights"] = {k: pd.DataFrame(np.array(v), index=reb_days, columns=returns.columns) for k, v in weights.items()}
    return result


def volatility_table(
    portfolio_returns: pd.DataFrame,
    baseline: str,
    *,
    block: int = 21,
    periods_per_year: int = 252,
) -> pd.DataFrame:
    r"""Realised annualised volatility, and the paired difference to a baseline with a block standard error.

    The paired difference uses the daily :math:`d_t = r_{a,t}^2 - r_{b,t}^2`
    (same days, so common market moves cancel); its mean is the difference in
    variance and its standard error comes from the means of consecutive blocks
    of ``block`` days (robust to volatility clustering within a block). The
    difference and its 95 % interval are converted to volatility points with
    :math:`\Delta\sigma \approx \Delta\sigma^2 / (2\sigma_b)`.

    Parameters
    ----------
    portfolio_returns : pandas.DataFrame, shape (n_days, n_portfolios)
    baseline : str
        Column to compare against.
    block : int, default 21
    periods_per_year : int, default 252

    Returns
    -------
    pandas.DataFrame
        One row per portfolio: ``vol`` (annualised, as a fraction), ``diff_vs_<baseline>``,
        ``ci_low``, ``ci_high`` (annualised volatility points, as fractions).
    """
    if not isinstance(portfolio_returns, pd.DataFrame):
        raise ValueError("portfolio_returns must be a DataFrame (days x portfolios), e.g. from rolling_min_variance.")
    if baseline not in portfolio_returns.columns:
        raise ValueError(f"baseline {baseline!r} is not a column; choose one of {list(portfolio_returns.columns)}.")
    P = as_2d_float(portfolio_returns.to_numpy(), "portfolio_returns", min_rows=2).astype(np.float64)
    block = check_positive_int(block, "block")
    periods_per_year = check_positive_int(periods_per_year, "periods_per_year")
    n_blocks = len(P) // int(block)
    if n_blocks < 2:
        raise ValueError(f"need at least 2 blocks of {block} days, got {len(P)} days: lower block or pass more days.")
    ann = float(periods_per_year)
    b = list(portfolio_returns.columns).index(baseline)
    vol = P.std(axis=0, ddof=1) * np.sqrt(ann)
    sq = P[: n_blocks * int(block)] ** 2
    d = (sq - sq[:, [b]]).reshape(n_blocks, int(block), -1).mean(axis=1)
    mean_d, se_d = d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(n_blocks)
    scale = ann / (2 * vol[b])
    return pd.DataFrame(
        {
            "vol": vol,
            f"diff_vs_{baseline}": mean_d * scale,
            "ci_low": (mean_d - 1.96 * se_d) * scale,
            "ci_high": (mean_d + 1.96 * se_d) * scale,
        },
        index=portfolio_returns.columns,
    )
