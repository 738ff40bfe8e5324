"""Checkers for Chapter 3 (Mult-VAE recommendation): the multinomial log-likelihood, EASE, the fold-in mask.

NDCG@k is checked by :func:`course_lib.checks.check_ndcg_at_k` (foundations).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from ._common import call, close, to_numpy

__all__ = ["check_multinomial_nll", "check_ease_weights", "check_mask_foldin"]


def check_multinomial_nll(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(logits, x)`` returns the per-user multinomial NLL ``-sum_j x_j log softmax(logits)_j``, shape (n_users,)."""
    g = torch.Generator().manual_seed(0)
    n, m = 5, 12
    logits = 2 * torch.randn(n, m, generator=g)
    x = (torch.rand(n, m, generator=g) < 0.3).float()
    x[:, 0] = 1.0
    logp = F.log_softmax(logits, dim=1)
    ref = (-(logp * x).sum(1)).numpy()
    out = to_numpy(call(fn, logits.clone(), x.clone(), what="multinomial_nll"), "multinomial_nll")
    if out.size == 1 and (close(out.reshape(()), ref.mean()) or close(out.reshape(()), ref.sum())):
        raise AssertionError("you returned one number for the batch: return one NLL per user, shape (n_users,) (sum over items only).")
    if out.shape == (n, m):
        raise AssertionError("you returned shape (n_users, n_items): sum over the items (dim=1) to get one value per user.")
    assert out.shape == (n,), f"expected shape (n_users,)=({n},), got {out.shape}."
    if close(out, -ref):
        raise AssertionError("the sign is wrong: the negative log-likelihood is -sum(x * log_softmax(logits)), which is >= 0.")
    if close(out, -(F.log_softmax(logits, dim=0) * x).sum(1).numpy()):
        raise AssertionError("the softmax runs over users (dim=0): normalise over the items of each user, dim=1.")
    if close(out, -(torch.softmax(logits, dim=1) * x).sum(1).numpy()) or close(out, (torch.softmax(logits, dim=1) * x).sum(1).numpy()):
        raise AssertionError("you used the probabilities, not their logarithm: use torch.log_softmax(logits, dim=1).")
    if close(out, -(logits * x).sum(1).numpy()):
        raise AssertionError("you used the raw logits: the log-probabilities are log_softmax(logits), which subtracts logsumexp.")
    if close(out, -(F.logsigmoid(logits) * x).sum(1).numpy()):
        raise AssertionError("you used a per-item sigmoid (a Bernoulli likelihood): the multinomial normalises over all items with a softmax.")
    if close(out, ref / x.sum(1).numpy()):
        raise AssertionError("you divided by the number of items the user has: the paper's likelihood sums over them.")
    if close(out, -logp.sum(1).numpy()):
        raise AssertionError("you summed the log-probabilities of every item: weight them by x, so only the user's items count.")
    assert close(out, ref), f"the NLL does not match -sum(x * log_softmax(logits, 1), 1): expected {ref.round(3)}, got {out.round(3)}."
    big = to_numpy(call(fn, torch.tensor([[1000.0, 0.0, -1000.0]]), torch.tensor([[0.0, 1.0, 0.0]]), what="multinomial_nll"), "multinomial_nll")
    assert np.isfinite(big).all() and close(big, [1000.0], rtol=1e-3), (
        "large logits overflow: compute log_softmax directly (torch.log_softmax), not log(softmax(...))."
    )


def check_ease_weights(fn: Callable[[Any, float], Any]) -> None:
    """Check ``fn(X, lam)`` returns EASE's B = I - P / diag(P) (column j divided by P_jj), P = (X'X + lam I)^-1."""
    rng = np.random.default_rng(0)
    X = (rng.random((40, 7)) < 0.35).astype(np.float64)
    X[0] = 1.0
    lam = 3.0
    G = X.T @ X
    P = np.linalg.inv(G + lam * np.eye(7))
    ref = np.eye(7) - P / np.diag(P)[None, :]
    out = to_numpy(call(fn, X.copy(), lam, what="ease_weights"), "ease_weights")
    if out.shape == (40, 40):
        raise AssertionError("B has shape (n_users, n_users): the Gram matrix is X.T @ X (items x items), not X @ X.T.")
    assert out.shape == (7, 7), f"B must have shape (n_items, n_items)=(7, 7), got {out.shape}."
    if close(out, ref.T):
        raise AssertionError("you divided each row by P_jj: divide each column j by P_jj, i.e. P / np.diag(P)[None, :] (or P / np.diag(P)).")
    if close(out, -ref) or close(out, np.eye(7) + P / np.diag(P)[None, :]):
        raise AssertionError("sign error: B = I - P / diag(P), so off-diagonal weights are -P_ij / P_jj.")
    if close(out, P / np.diag(P)[None, :]) or close(out, -P / np.diag(P)[None, :]):
        raise AssertionError("the diagonal of B must be 0 (an item may not predict itself): B = I - P / diag(P).")
    P0 = np.linalg.pinv(G)
    if close(out, np.eye(7) - P0 / np.diag(P0)[None, :]):
        raise AssertionError("lambda is missing: P = inv(X.T @ X + lam * I).")
    P1 = np.linalg.inv(G + lam)
    if close(out, np.eye(7) - P1 / np.diag(P1)[None, :]):
        raise AssertionError("lambda was added to every entry: add it to the diagonal only, X.T @ X + lam * np.eye(n_items).")
    assert np.allclose(np.diag(out), 0, atol=1e-8), "the diagonal of B must be 0 (an item may not predict itself)."
    assert close(out, ref), "B does not match I - P / diag(P) with P = inv(X.T @ X + lam * I)."
    sparse = to_numpy(call(fn, sp.csr_matrix(X), lam, what="ease_weights"), "ease_weights")
    assert close(sparse, ref), "X may be a scipy sparse matrix: compute (X.T @ X) and convert it with .toarray() before inverting."


def check_mask_foldin(fn: Callable[[np.ndarray, Any], np.ndarray]) -> None:
    """Check ``fn(scores, foldin)`` returns a copy of the scores with the fold-in items set to -inf (sparse foldin allowed)."""
    scores = np.array([[0.5, -2.0, 3.0, 1.0], [-1.0, -3.0, -0.5, 2.0]])
    foldin = np.array([[0, 1, 1, 0], [1, 0, 0, 0]])
    ref = scores.copy()
    ref[foldin == 1] = -np.inf
    keep = scores.copy()
    out = to_numpy(call(fn, scores, foldin, what="mask_foldin"), "mask_foldin")
    if not np.array_equal(scores, keep):
        raise AssertionError("your function changed the caller's scores in place: work on a copy (scores.copy() or np.array(scores)).")
    assert out.shape == scores.shape, f"return the scores' shape {scores.shape}, got {out.shape}."
    if np.array_equal(out, np.where(foldin == 1, 0.0, scores)):
        raise AssertionError("setting fold-in items to 0 is not enough: scores can be negative, so a 0 may still rank high. Use -np.inf.")
    if np.array_equal(out, np.where(foldin == 0, -np.inf, scores)):
        raise AssertionError("you masked the items the user does NOT have: set scores to -inf where foldin is nonzero.")
    if np.isfinite(out[foldin == 1]).all() and (out[foldin == 1] < scores.min()).all():
        raise AssertionError("use -np.inf, not a large negative number: the metrics rely on -inf to recognise masked items.")
    assert np.array_equal(out, ref), f"expected {ref.tolist()}, got {out.tolist()}."
    try:
        out_sp = to_numpy(call(fn, scores, sp.csr_matrix(foldin), what="mask_foldin"), "mask_foldin")
    except (TypeError, ValueError, IndexError, NotImplementedError) as exc:
        raise AssertionError(f"foldin may be a scipy sparse matrix: convert it with .toarray() first ({type(exc).__name__}: {exc}).") from None
    assert np.array_equal(out_sp, ref), "with a scipy sparse foldin the result differs: convert it with .toarray() before comparing."
