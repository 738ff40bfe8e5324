r"""Evaluation metrics: variance explained, factor recovery, posterior collapse, ranking.

Factor models are identified only up to rotation, so recovery is measured by
regression :math:`R^2` and principal angles, never column by column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import subspace_angles

from ._validation import (
    align_columns,
    align_index,
    as_1d_float,
    as_2d_float,
    check_positive_int,
    check_real,
)

__all__ = ["variance_explained", "factor_recovery_r2", "subspace_similarity", "active_units", "ndcg_at_k", "recall_at_k"]


def _paired(a: Any, b: Any, names: tuple[str, str]) -> tuple[Any, Any]:
    """Pair two arguments by label when both are pandas objects (index, and columns for two DataFrames)."""
    a, b = align_index(a, b, names)
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and not a.columns.equals(b.columns):
        b = align_columns(b, a.columns, names[1], names[0])
    return a, b


def variance_explained(X: Any, X_hat: Any, center: Any = None) -> float:
    r"""Share of variance explained by a reconstruction, :math:`1 - \sum (X-\hat X)^2 / \sum (X - c)^2`.

    Parameters
    ----------
    X, X_hat : array-like, shape (n_samples, n_features)
        Data and reconstruction.
    center : array-like, shape (n_features,) or scalar, optional
        The benchmark prediction :math:`c`. Use the *training* mean for an
        honest out-of-sample :math:`R^2` (0 for data standardised on the
        training part); defaults to the column means of ``X``.

    Two DataFrames (or Series-indexed objects) are paired by label: rows by
    index, columns by name; labels that do not match raise a ``ValueError``.

    Returns
    -------
    float
        1 for a perfect reconstruction, 0 for no better than ``center``,
        negative for worse.
    """
    X, X_hat = _paired(X, X_hat, ("X", "X_hat"))
    X = as_2d_float(X, "X", dtype=np.float64)
    X_hat = as_2d_float(X_hat, "X_hat", dtype=np.float64)
    if X.shape != X_hat.shape:
        raise ValueError(f"X has shape {X.shape} but X_hat has {X_hat.shape}: pass the reconstruction of the same rows.")
    if center is None:
        c = X.mean(axis=0)
    elif np.ndim(center) == 0:
        c = np.full(X.shape[1], check_real(center, "center"))
    else:
        c = as_1d_float(center, "center")
        if c.shape[0] != X.shape[1]:
            raise ValueError(f"center has {c.shape[0]} values but X has {X.shape[1]} columns: give one per column.")
    sst = ((X - c) ** 2).sum()
    if sst == 0:
        raise ValueError("X has zero variance around center: variance explained is undefined; use more varied rows.")
    return float(1.0 - ((X - X_hat) ** 2).sum() / sst)


def _ols_r2(Y_fit: np.ndarray, Z_fit: np.ndarray, Y_eval: np.ndarray, Z_eval: np.ndarray) -> np.ndarray:
    A = np.column_stack([np.ones(len(Z_fit)), Z_fit])
    coef, *_ = np.linalg.lstsq(A, Y_fit, rcond=None)
    pred = np.column_stack([np.ones(len(Z_eval)), Z_eval]) @ coef
    sst = ((Y_eval - Y_fit.mean(axis=0)) ** 2).sum(axis=0)
    if np.any(sst == 0):
        raise ValueError(
            f"factor(s) {np.flatnonzero(sst == 0).tolist()} are constant on the evaluation rows: R^2 is undefined; drop them."
        )
    return 1.0 - ((Y_eval - pred) ** 2).sum(axis=0) / sst


def factor_recovery_r2(factors: Any, latents: Any, factors_test: Any = None, latents_test: Any = None) -> np.ndarray:
    r"""Rotation-invariant recovery: :math:`R^2` of each true factor regressed on the learned latents.

    Each true factor is regressed (OLS with intercept) on all latents. Any
    invertible linear mix of the true factors scores 1, so the score does not
    depend on the arbitrary rotation, order or sign of the latents.

    Parameters
    ----------
    factors : array-like, shape (n_days, n_factors)
    latents : array-like, shape (n_days, n_latents)
    factors_test, latents_test : array-like, optional
        If given, the regression is fitted on the first pair and the
        :math:`R^2` is measured on these (out of sample, against the training
        mean of each factor).

    When both arrays of a pair are pandas objects, their rows are paired by
    index label (a reversed or shuffled index is realigned; different labels
    raise a ``ValueError``); plain arrays are paired by position.

    Returns
    -------
    numpy.ndarray
        Shape (n_factors,): one :math:`R^2` per true factor.
    """
    factors, latents = align_index(factors, latents, ("factors", "latents"))
    factors_test, latents_test = align_index(factors_test, latents_test, ("factors_test", "latents_test"))
    F = as_2d_float(factors, "factors", min_rows=2, dtype=np.float64)
    Z = as_2d_float(latents, "latents", min_rows=2, dtype=np.float64)
    if len(F) != len(Z):
        raise ValueError(f"factors has {len(F)} rows but latents has {len(Z)}: they must be the same days.")
    if (factors_test is None) != (latents_test is None):
        raise ValueError("give both factors_test and latents_test, or neither.")
    if factors_test is None:
        return _ols_r2(F, Z, F, Z)
    Ft = as_2d_float(factors_test, "factors_test", dtype=np.float64)
    Zt = as_2d_float(latents_test, "latents_test", dtype=np.float64)
    if len(Ft) != len(Zt) or Ft.shape[1] != F.shape[1] or Zt.shape[1] != Z.shape[1]:
        raise ValueError("factors_test/latents_test must match each other in rows and the training arrays in columns.")
    return _ols_r2(F, Z, Ft, Zt)


def subspace_similarity(A: Any, B: Any) -> float:
    r"""Mean squared cosine of the principal angles between the column spaces of ``A`` and ``B``.

    Parameters
    ----------
    A : array-like, shape (n, k)
    B : array-like, shape (n, m)

    Returns
    -------
    float
        In [0, 1]: 1 when the smaller space lies inside the other, 0 when orthogonal.
    """
    A, B = align_index(A, B, ("A", "B"))
    A = as_2d_float(A, "A", dtype=np.float64)
    B = as_2d_float(B, "B", dtype=np.float64)
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must have the same number of rows; got {A.shape[0]} and {B.shape[0]}.")
    for name, M in (("A", A), ("B", B)):
        if not np.any(M):
            raise ValueError(f"{name} is all zeros: it spans no subspace; pass loadings or codes with some variation.")
    return float(np.mean(np.cos(subspace_angles(A, B)) ** 2))


def active_units(mu: Any, threshold: float = 0.01) -> int:
    r"""Number of active latent units (Burda et al., 2016).

    A unit is active when the variance over the data of its posterior mean,
    :math:`\operatorname{Var}_x\,\mathbb E_{q(z\mid x)}[z_j]`, exceeds ``threshold``.
    A unit the encoder ignores has collapsed onto the prior.

    Parameters
    ----------
    mu : array-like, shape (n_samples, latent_dim)
        Posterior means.
    """
    threshold = check_real(threshold, "threshold", low=0.0)
    M = as_2d_float(mu, "mu", min_rows=2, dtype=np.float64)
    return int((M.var(axis=0) > threshold).sum())


# Ranking ------------------------------------------------------------------
def _ranking_inputs(scores: Any, heldout: Any, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = check_positive_int(k, "k")
    scores, heldout = align_index(scores, heldout, ("scores", "heldout"))
    if isinstance(scores, pd.DataFrame) and isinstance(heldout, pd.DataFrame):
        heldout = align_columns(heldout, scores.columns, "heldout", "scores")
    if sp.issparse(scores):
        raise TypeError("scores must be a dense array (n_users, n_items); pass scores.toarray().")
    S = np.asarray(scores.to_numpy() if isinstance(scores, pd.DataFrame) else scores)
    if np.iscomplexobj(S) or S.dtype.kind not in "biuf":
        raise TypeError(f"scores must be real numbers, got dtype {S.dtype}.")
    S = S.astype(np.float64)
    if S.ndim != 2 or S.size == 0:
        raise ValueError(f"scores must be a non-empty 2-D array (n_users, n_items), got shape {S.shape}.")
    H = heldout.toarray() if sp.issparse(heldout) else np.asarray(heldout)
    if H.shape != S.shape:
        raise ValueError(f"heldout has shape {H.shape} but scores has {S.shape}: pass the same users and items.")
    if np.isnan(S).any() or np.isposinf(S).any():
        raise ValueError("scores hold NaN or +inf; only -inf is allowed (for masked fold-in items).")
    if H.dtype.kind not in "biuf" or not np.isin(H, (0, 1)).all():
        raise ValueError("heldout must be binary (0/1): 1 marks a held-out item.")
    H = H.astype(bool)
    n_held = H.sum(axis=1)
    if (n_held == 0).any():
        raise ValueError(
            f"{int((n_held == 0).sum())} user(s) have no held-out items (first: row {int(np.argmax(n_held == 0))}); "
            "ranking metrics are undefined for them: drop those users before evaluating."
        )
    if (H & np.isneginf(S)).any():
        raise ValueError("some held-out items have score -inf: the fold-in mask overlaps the held-out items.")
    k = min(int(k), S.shape[1])
    top = np.argpartition(-S, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(S, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    hits = np.take_along_axis(H, top, axis=1)
    return hits, n_held, np.asarray(k)


def ndcg_at_k(scores: Any, heldout: Any, k: int) -> np.ndarray:
    r"""Normalised discounted cumulative gain at ``k``, one value per user.

    .. math:: \mathrm{DCG@k} = \sum_{r=1}^{k} \frac{\mathbb 1[\text{item at rank } r \text{ held out}]}{\log_2(r+1)},
       \qquad \mathrm{NDCG@k} = \mathrm{DCG@k} / \mathrm{IDCG@k},

    where IDCG@k is the DCG of a perfect ranking, with :math:`\min(k, n_u)`
    hits for a user with :math:`n_u` held-out items.

    Parameters
    ----------
    scores : array-like, shape (n_users, n_items)
        Higher is better; fold-in items already set to ``-inf``.
    heldout : array-like or scipy.sparse matrix, shape (n_users, n_items)
        Binary relevance of the held-out items.
    k : int

    Returns
    -------
    numpy.ndarray
        Shape (n_users,), values in [0, 1].
    """
    hits, n_held, kk = _ranking_inputs(scores, heldout, k)
    discounts = 1.0 / np.log2(np.arange(2, int(kk) + 2))
    dcg = hits @ discounts
    idcg = np.cumsum(discounts)[np.minimum(n_held, int(kk)) - 1]
    return dcg / idcg


def recall_at_k(scores: Any, heldout: Any, k: int) -> np.ndarray:
    r"""Recall at ``k`` as in Liang et al. (2018), one value per user.

    .. math:: \mathrm{Recall@k} = \frac{\#\{\text{held-out items in the top } k\}}{\min(k, n_u)}

    Parameters are as in :func:`ndcg_at_k`. Returns shape (n_users,), values in [0, 1].
    """
    hits, n_held, kk = _ranking_inputs(scores, heldout, k)
    return hits.sum(axis=1) / np.minimum(n_held, int(kk))
