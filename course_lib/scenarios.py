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

from ._validation import as_2d_float


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (the number of scenario days) must be a positive integer, got {n!r}.")


def gaussian_scenarios(X: Any, n: int, seed: int = 0) -> np.ndarray:
    """Draw ``n`` days from N(mean(X), cov(X)); returns shape (n, n_assets)."""
    _check_n(n)
    X = as_2d_float(X, "X", min_rows=2).astype(np.float64)
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(X.mean(axis=0), np.cov(X, rowvar=False), size=n, method="eigh")


def bootstrap_scenarios(X: Any, n: int, seed: int = 0) -> np.ndarray:
    """Resample ``n`` whole days of ``X`` with replacement; returns shape (n, n_assets)."""
    _check_n(n)
    X = as_2d_float(X, "X").astype(np.float64)
    rng = np.random.default_rng(seed)
    return X[rng.integers(0, len(X), size=n)]


def _acf1(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    den = (x**2).sum(axis=0)
    return (x[1:] * x[:-1]).sum(axis=0) / np.where(den == 0, np.nan, den)


def mean_pairwise_correlation(X: Any) -> float:
    """Average off-diagonal correlation between the columns of ``X`` (n_days, n_assets)."""
    C = np.corrcoef(as_2d_float(X, "X", min_rows=2).astype(np.float64), rowvar=False)
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
    R = as_2d_float(X, "X", min_rows=3).astype(np.float64)
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
    A = as_2d_float(X, "X", min_rows=2).astype(np.float64)
    B = as_2d_float(Y, "Y", min_rows=2).astype(np.float64)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"X has {A.shape[1]} assets but Y has {B.shape[1]}.")
    D = np.corrcoef(A, rowvar=False) - np.corrcoef(B, rowvar=False)
    off = ~np.eye(len(D), dtype=bool)
    return float(np.sqrt((D[off] ** 2).mean()))


def discriminator_auc(real: Any, synthetic: Any, seed: int = 0, n_splits: int = 5) -> float:
    """Cross-validated ROC-AUC of a gradient-boosting classifier telling real from synthetic days.

    Each day is described by its returns plus sorted returns and cross-sectional
    moments, so the classifier can see tails and dispersion. The two samples
    are subsampled to the same size. 0.5: indistinguishable; 1: trivially fake.
    """
    A = as_2d_float(real, "real", min_rows=n_splits).astype(np.float64)
    B = as_2d_float(synthetic, "synthetic", min_rows=n_splits).astype(np.float64)
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
