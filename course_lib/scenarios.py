r"""Generating return scenarios and judging them against real data.

Baselines every generative model must beat:

- :func:`gaussian_scenarios`: a multivariate Gaussian with the sample mean and covariance;
- :func:`bootstrap_scenarios`: days resampled with replacement from the data.

Judging (each function takes arrays of shape (n_days, n_assets)):

- :func:`stylised_facts`: heavy tails, (no) autocorrelation of returns,
  volatility clustering (autocorrelation of absolute returns), mean
  cross-correlation (Cont, 2001);
- :func:`correlation_distance`: how far two correlation matrices are apart;
- :func:`discriminator_auc`: cross-validated ROC-AUC of a classifier telling
  real days from synthetic ones; 0.5 means it cannot tell them apart.

Scenarios sampled day by day (i.i.d.) have no time structure, so their
autocorrelations are ~0 by construction: a stylised fact they cannot have.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kurtosis
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ._validation import align_columns, as_2d_float, check_no_constant_columns, check_nonnegative_int, check_positive_int

__all__ = [
    "gaussian_scenarios",
    "bootstrap_scenarios",
    "mean_pairwise_correlation",
    "stylised_facts",
    "correlation_distance",
    "discriminator_auc",
]


def _check_n(n: int) -> None:
    check_positive_int(n, "n (the number of scenario days)")


def _returns(X: Any, name: str, min_rows: int) -> np.ndarray:
    """Daily returns as float64 (n_days, n_assets): finite, enough rows, no constant column (its correlation is undefined)."""
    R = as_2d_float(X, name, min_rows=min_rows, dtype=np.float64)
    check_no_constant_columns(R, name, getattr(X, "columns", None))
    return R


def gaussian_scenarios(X: Any, n: int, seed: int = 0) -> np.ndarray:
    """Draw ``n`` days from N(mean(X), cov(X)); returns shape (n, n_assets)."""
    _check_n(n)
    check_nonnegative_int(seed, "seed")
    X = as_2d_float(X, "X", min_rows=2, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(X.mean(axis=0), np.cov(X, rowvar=False), size=n, method="eigh")


def bootstrap_scenarios(X: Any, n: int, seed: int = 0) -> np.ndarray:
    """Resample ``n`` whole days of ``X`` with replacement; returns shape (n, n_assets)."""
    _check_n(n)
    check_nonnegative_int(seed, "seed")
    X = as_2d_float(X, "X", dtype=np.float64)
    rng = np.random.default_rng(seed)
    return X[rng.integers(0, len(X), size=n)]


def _acf1(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    den = (x**2).sum(axis=0)
    return (x[1:] * x[:-1]).sum(axis=0) / np.where(den == 0, np.nan, den)


def mean_pairwise_correlation(X: Any) -> float:
    """Average off-diagonal correlation between the columns of ``X`` (n_days >= 2, n_assets >= 2); no constant column."""
    R = _returns(X, "X", 2)
    if R.shape[1] < 2:
        raise ValueError(f"X has {R.shape[1]} column: a pairwise correlation needs at least 2 assets.")
    C = np.corrcoef(R, rowvar=False)
    return float(C[~np.eye(len(C), dtype=bool)].mean())


def stylised_facts(X: Any) -> pd.Series:
    """Median (over assets) stylised facts of daily returns ``X`` of shape (n_days, n_assets).

    Returns
    -------
    pandas.Series
        ``excess_kurtosis`` (heavy tails: > 0), ``acf1_returns`` (about 0 for
        real returns), ``acf1_abs_returns`` (volatility clustering: > 0 for
        real returns), ``mean_correlation``, ``daily_vol``.
    """
    R = _returns(X, "X", 3)
    return pd.Series(
        {
            "excess_kurtosis": float(np.median(kurtosis(R, axis=0, fisher=True))),
            "acf1_returns": float(np.nanmedian(_acf1(R))),
            "acf1_abs_returns": float(np.nanmedian(_acf1(np.abs(R)))),
            "mean_correlation": mean_pairwise_correlation(R),
            "daily_vol": float(np.median(R.std(axis=0))),
        }
    )


def correlation_distance(X: Any, Y: Any) -> float:
    """Frobenius distance between the correlation matrices of ``X`` and ``Y``.

    Divided by the square root of the number of off-diagonal pairs.

    Both inputs have shape (n_days, n_assets) with the same assets; the result
    is the root-mean-square difference of the pairwise correlations.
    """
    if isinstance(X, pd.DataFrame) and isinstance(Y, pd.DataFrame):
        Y = align_columns(Y, X.columns, "Y", "X")  # the same assets, matched by name
    A = _returns(X, "X", 2)
    B = _returns(Y, "Y", 2)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"X has {A.shape[1]} assets but Y has {B.shape[1]}: pass the same assets.")
    D = np.corrcoef(A, rowvar=False) - np.corrcoef(B, rowvar=False)
    off = ~np.eye(len(D), dtype=bool)
    return float(np.sqrt((D[off] ** 2).mean()))


def discriminator_auc(real: Any, synthetic: Any, seed: int = 0, n_splits: int = 5) -> float:
    """Cross-validated ROC-AUC of a gradient-boosting classifier telling real from synthetic days.

    Each day is described by its returns plus sorted returns and cross-sectional
    moments, so the classifier can see tails and dispersion. The two samples
    are subsampled to the same size. 0.5: indistinguishable; 1: trivially fake.
    """
    n_splits = check_positive_int(n_splits, "n_splits", minimum=2)
    check_nonnegative_int(seed, "seed")
    if isinstance(real, pd.DataFrame) and isinstance(synthetic, pd.DataFrame):
        synthetic = align_columns(synthetic, real.columns, "synthetic", "real")
    A = as_2d_float(real, "real", min_rows=n_splits, dtype=np.float64)
    B = as_2d_float(synthetic, "synthetic", min_rows=n_splits, dtype=np.float64)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"real has {A.shape[1]} assets but synthetic has {B.shape[1]}.")
    rng = np.random.default_rng(seed)
    n = min(len(A), len(B))
    A, B = A[rng.permutation(len(A))[:n]], B[rng.permutation(len(B))[:n]]

    def feats(M: np.ndarray) -> np.ndarray:
        return np.column_stack([M, np.sort(M, axis=1), M.mean(1), M.std(1), np.abs(M).max(1)])

    Xd = np.vstack([feats(A), feats(B)])
    y = np.r_[np.ones(n), np.zeros(n)]
    clf = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, random_state=seed)
    # Runs on the course's thread count (course_lib.configure_threads limits OpenMP too): on a busy
    # 2-core machine gradient boosting on 2 threads was measured 35x slower than on 1 (101 s against 2.9 s).
    proba = cross_val_predict(clf, Xd, y, cv=StratifiedKFold(n_splits, shuffle=True, random_state=seed), method="predict_proba")[
        :, 1
    ]
    return float(roc_auc_score(y, proba))
