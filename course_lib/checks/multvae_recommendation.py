"""Checkers for Chapter 3 (Mult-VAE recommendation): the multinomial log-likelihood, EASE, the fold-in mask,
NDCG@k (:func:`check_ndcg_at_k`) and the fund-holdings comparison of popularity and EASE (:func:`check_fund_ndcg`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from ..metrics import ndcg_at_k as _ndcg_ref
from ._common import Hint, call, close, register_hints, to_numpy

__all__ = ["check_multinomial_nll", "check_ndcg_at_k", "check_ease_weights", "check_mask_foldin", "check_fund_ndcg"]


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
        raise AssertionError(
            "you returned one number for the batch: return one NLL per user, shape (n_users,) (sum over items only)."
        )
    if out.shape == (n, m):
        raise AssertionError("you returned shape (n_users, n_items): sum over the items (dim=1) to get one value per user.")
    assert out.shape == (n,), f"expected shape (n_users,)=({n},), got {out.shape}."
    if close(out, -ref):
        raise AssertionError("the sign is wrong: the negative log-likelihood is -sum(x * log_softmax(logits)), which is >= 0.")
    if close(out, -(F.log_softmax(logits, dim=0) * x).sum(1).numpy()):
        raise AssertionError("the softmax runs over users (dim=0): normalise over the items of each user, dim=1.")
    if close(out, -(torch.softmax(logits, dim=1) * x).sum(1).numpy()) or close(
        out, (torch.softmax(logits, dim=1) * x).sum(1).numpy()
    ):
        raise AssertionError(
            "you used the probabilities, not their logarithm: the likelihood needs log-probabilities "
            "(computed stably in log space)."
        )
    if close(out, -(logits * x).sum(1).numpy()):
        raise AssertionError("you used the raw logits: the log-probabilities are log_softmax(logits), which subtracts logsumexp.")
    if close(out * m, ref):
        raise AssertionError(
            "you averaged over items: sum over items instead (your result is n_items times too small); use .sum(dim=1)."
        )
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    if close(out, bce.sum(1).numpy()) or close(out, bce.mean(1).numpy()):
        raise AssertionError(
            "you computed the full binary cross-entropy: binary cross-entropy is a Bernoulli likelihood per item; "
            "the multinomial uses log_softmax over items, -(torch.log_softmax(logits, dim=1) * x).sum(dim=1)."
        )
    if close(out, -(F.logsigmoid(logits) * x).sum(1).numpy()):
        raise AssertionError(
            "you used a per-item sigmoid (a Bernoulli likelihood): the multinomial normalises over all items with a softmax."
        )
    if close(out, ref / x.sum(1).numpy()):
        raise AssertionError("you divided by the number of items the user has: the paper's likelihood sums over them.")
    if close(out, -logp.sum(1).numpy()):
        raise AssertionError("you summed the log-probabilities of every item: weight them by x, so only the user's items count.")
    assert close(out, ref), (
        f"the NLL does not match -sum(x * log_softmax(logits, 1), 1): expected {ref.round(3)}, got {out.round(3)}."
    )
    big = to_numpy(
        call(fn, torch.tensor([[1000.0, 0.0, -1000.0]]), torch.tensor([[0.0, 1.0, 0.0]]), what="multinomial_nll"),
        "multinomial_nll",
    )
    assert np.isfinite(big).all() and close(big, [1000.0], rtol=1e-3), (
        "large logits overflow: compute log_softmax directly (torch.log_softmax), not log(softmax(...))."
    )
    nll_t = call(fn, logits.clone().requires_grad_(True), x.clone(), what="multinomial_nll")
    if not isinstance(nll_t, torch.Tensor) or not nll_t.requires_grad:
        raise AssertionError(
            "the numbers are right but no gradient flows: this NLL is the training loss, so return a torch tensor "
            "computed with torch operations (no .numpy(), .item() or .detach())."
        )


def _call_ease(fn: Callable[[Any, float], Any], X: Any, lam: float) -> Any:
    """Call the learner's ``ease_weights``; turn an exception into an AssertionError naming the input kind."""
    kind = "scipy-sparse" if sp.issparse(X) else "dense NumPy"
    try:
        return call(fn, X, lam, what="ease_weights")
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash on this input gets a hint
        msg = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, np.linalg.LinAlgError) or "0-dimensional" in str(exc):
            hint = "X may be scipy-sparse: np.linalg.inv cannot take a sparse matrix; convert G = X.T @ X with .toarray() first"
        elif isinstance(exc, AttributeError) and "setdiag" in str(exc):
            hint = "X may also be a dense array: build G densely, e.g. G = np.asarray(G); G[np.diag_indices(n)] += lam"
        else:
            hint = (
                f"ease_weights failed on a {kind} X: X may be a NumPy array or a scipy-sparse matrix; "
                "compute G = X.T @ X, make it a dense array (.toarray() if sparse), then invert"
            )
        raise AssertionError(f"{hint} ({kind} X gave {msg}).") from None


def check_ease_weights(fn: Callable[[Any, float], Any]) -> None:
    """Check ``fn(X, lam)`` returns EASE's B = I - P / diag(P) (column j divided by P_jj), P = (X'X + lam I)^-1."""
    rng = np.random.default_rng(0)
    X = (rng.random((40, 7)) < 0.35).astype(np.float64)
    X[0] = 1.0
    lam = 3.0
    G = X.T @ X
    P = np.linalg.inv(G + lam * np.eye(7))
    ref = np.eye(7) - P / np.diag(P)[None, :]
    out = to_numpy(_call_ease(fn, X.copy(), lam), "ease_weights")
    if out.shape == (40, 40):
        raise AssertionError("B has shape (n_users, n_users): the Gram matrix is X.T @ X (items x items), not X @ X.T.")
    assert out.shape == (7, 7), f"B must have shape (n_items, n_items)=(7, 7), got {out.shape}."
    if close(out, ref.T):
        raise AssertionError("you divided each row by P_jj: the closed form divides each COLUMN j by P_jj.")
    if close(out, -ref) or close(out, np.eye(7) + P / np.diag(P)[None, :]):
        raise AssertionError("sign error: B = I - P / diag(P), so off-diagonal weights are -P_ij / P_jj.")
    if close(out, P / np.diag(P)[None, :]) or close(out, -P / np.diag(P)[None, :]):
        raise AssertionError("the diagonal of B must be 0 (an item may not predict itself): B = I - P / diag(P).")
    P0 = np.linalg.pinv(G)
    if close(out, np.eye(7) - P0 / np.diag(P0)[None, :]):
        raise AssertionError("lambda is missing: P = inv(X.T @ X + lam * I).")
    P1 = np.linalg.inv(G + lam)
    if close(out, np.eye(7) - P1 / np.diag(P1)[None, :]):
        raise AssertionError("lambda was added to every entry of the Gram matrix: the ridge penalty goes on its diagonal only.")
    assert np.allclose(np.diag(out), 0, atol=1e-8), "the diagonal of B must be 0 (an item may not predict itself)."
    assert close(out, ref), "B does not match I - P / diag(P) with P = inv(X.T @ X + lam * I)."
    sparse = to_numpy(_call_ease(fn, sp.csr_matrix(X), lam), "ease_weights")
    assert close(sparse, ref), (
        "X may be a scipy sparse matrix: compute (X.T @ X) and convert it with .toarray() before inverting."
    )


def check_mask_foldin(fn: Callable[[np.ndarray, Any], np.ndarray]) -> None:
    """Check ``fn(scores, foldin)`` returns a copy of the scores with the fold-in items set to -inf (sparse foldin allowed)."""
    scores = np.array([[0.5, -2.0, 3.0, 1.0], [-1.0, -3.0, -0.5, 2.0]])
    foldin = np.array([[0, 1, 1, 0], [1, 0, 0, 0]])
    ref = scores.copy()
    ref[foldin == 1] = -np.inf
    keep = scores.copy()
    out = to_numpy(call(fn, scores, foldin, what="mask_foldin"), "mask_foldin")
    if not np.array_equal(scores, keep):
        raise AssertionError(
            "your function changed the caller's scores in place: work on a copy (scores.copy() or np.array(scores))."
        )
    assert out.shape == scores.shape, f"return the scores' shape {scores.shape}, got {out.shape}."
    if np.isnan(out).any():
        raise AssertionError(
            "your result holds NaN: inf * 0 gives NaN, so multiplying by a mask fails; assign the masked entries instead."
        )
    if np.isposinf(out[foldin == 1]).any():
        raise AssertionError("+inf ranks masked items FIRST: set the fold-in items to -np.inf.")
    if np.array_equal(out, np.where(foldin == 1, 0.0, scores)):
        raise AssertionError(
            "setting fold-in items to 0 is not enough: scores can be negative, so a 0 may still rank high. Use -np.inf."
        )
    if np.array_equal(out, np.where(foldin == 0, -np.inf, scores)):
        raise AssertionError("you masked the items the user does NOT have: set scores to -inf where foldin is nonzero.")
    if np.isfinite(out[foldin == 1]).all() and (out[foldin == 1] < scores.min()).all():
        raise AssertionError(
            "you used a large negative number (such as -1e9): use -np.inf: that is this course's convention for "
            "masked items (the metrics check that no held-out item is -inf)."
        )
    assert np.array_equal(out, ref), f"expected {ref.tolist()}, got {out.tolist()}."
    try:
        out_sp = to_numpy(call(fn, scores, sp.csr_matrix(foldin), what="mask_foldin"), "mask_foldin")
    except (TypeError, ValueError, IndexError, NotImplementedError) as exc:
        raise AssertionError(
            f"foldin may be a scipy sparse matrix: convert it with .toarray() first ({type(exc).__name__}: {exc})."
        ) from None
    assert np.array_equal(out_sp, ref), (
        "with a scipy sparse foldin the result differs: convert it with .toarray() before comparing."
    )


def _mean_ndcg(scores: np.ndarray, foldin: Any, heldout: Any, k: int, *, mask: bool = True) -> float:
    from ..metrics import ndcg_at_k
    from ..recsplit import mask_foldin

    return float(ndcg_at_k(mask_foldin(scores, foldin) if mask else scores, heldout, k).mean())


def check_fund_ndcg(
    ndcg_pop: float,
    ndcg_ease: float,
    split: Any,
    *,
    lambdas: tuple[float, ...] = (10, 100, 1000),
    k: int = 10,
    tol_pop: float = 0.01,
    tol_ease: float = 0.02,
) -> None:
    """Check the test NDCG@k of popularity and EASE on a strong-generalisation split against a clean reference.

    The reference fits popularity and EASE on ``split.train`` only, chooses EASE's lambda from ``lambdas`` by
    mean validation NDCG@k, masks the fold-in items with -inf and averages NDCG@k over the test investors.

    Tolerances: popularity has ties (their order moves the mean by < 0.005); ``tol_ease`` also admits a
    neighbouring lambda. Forgetting the mask lowers popularity by > 0.015; an unmasked EASE score is recognised
    by matching the unmasked reference for one of ``lambdas``; fitting EASE on the held-out investors raises it
    by > 0.1.
    """
    from ..recommend import ease_weights, popularity_scores

    for name, v in (("ndcg_pop", ndcg_pop), ("ndcg_ease", ndcg_ease)):
        if not isinstance(v, (float, np.floating)):
            raise AssertionError(
                f"{name} must be a float (a mean over test investors), got {type(v).__name__}: use float(...mean())."
            )
        if not 0 <= v <= 1:
            raise AssertionError(f"{name}={v:.3f} is outside [0, 1]: NDCG is normalised by the ideal DCG.")
    n_test = split.test_foldin.shape[0]
    pop_ref = _mean_ndcg(popularity_scores(split.train, n_test), split.test_foldin, split.test_heldout, k)
    weights = {lam: ease_weights(split.train, lam) for lam in lambdas}
    val = {
        lam: _mean_ndcg(np.asarray(split.val_foldin @ B), split.val_foldin, split.val_heldout, k) for lam, B in weights.items()
    }
    best = max(val, key=val.get)
    ease_ref = _mean_ndcg(np.asarray(split.test_foldin @ weights[best]), split.test_foldin, split.test_heldout, k)
    leak = (
        "did you fit {what} on validation/test investors? fit on split.train only (the held-out items then leak into the scores)."
    )
    unmasked = (
        "did you mask the fold-in items with mask_foldin before ranking (both popularity and EASE)? "
        "Otherwise the items an investor already holds take the top ranks."
    )
    ease_unmasked = [
        _mean_ndcg(np.asarray(split.test_foldin @ B), split.test_foldin, split.test_heldout, k, mask=False)
        for B in weights.values()
    ]
    if abs(ndcg_ease - ease_ref) > 2e-3 and any(abs(ndcg_ease - u) <= 2e-3 for u in ease_unmasked):
        raise AssertionError(f"ndcg_ease={ndcg_ease:.3f} matches EASE without the mask (reference {ease_ref:.3f}): {unmasked}")
    if ndcg_ease > ease_ref + tol_ease:
        raise AssertionError(
            f"ndcg_ease={ndcg_ease:.3f} is far above the reference {ease_ref:.3f}: " + leak.format(what="EASE (or popularity)")
        )
    if ndcg_pop > pop_ref + tol_pop:
        raise AssertionError(
            f"ndcg_pop={ndcg_pop:.3f} is above the reference {pop_ref:.3f}: " + leak.format(what="popularity (or EASE)")
        )
    if ndcg_ease < ease_ref - tol_ease or ndcg_pop < pop_ref - tol_pop:
        raise AssertionError(
            f"ndcg_pop={ndcg_pop:.3f}, ndcg_ease={ndcg_ease:.3f} are below the reference "
            f"({pop_ref:.3f}, {ease_ref:.3f}): {unmasked} Also choose lambda by validation NDCG@{k} from {list(lambdas)}."
        )


def check_ndcg_at_k(fn: Callable[[np.ndarray, object, int], np.ndarray]) -> None:
    """Check ``fn(scores, heldout, k)`` returns NDCG@k per user, as :func:`course_lib.metrics.ndcg_at_k`."""

    def run(scores: np.ndarray, held: object, k: int) -> np.ndarray:
        return to_numpy(call(fn, scores.copy(), held, k, what="ndcg_at_k"), "ndcg_at_k")

    scores = np.array([[0.9, 0.8, 0.1, 0.2, -np.inf]])
    first = run(scores, np.array([[1, 0, 0, 0, 0]]), 3)
    if first.shape == ():
        raise AssertionError("return one value per user, shape (n_users,), not a single number: do not average.")
    assert first.shape == (1,), f"expected shape (n_users,)=(1,), got {first.shape}."
    if not np.isfinite(first).all():
        raise AssertionError(
            "a hit at rank 1 gave a non-finite value: the discount is 1/log2(rank + 1) "
            "with ranks from 1, so log2(2) = 1 at the top."
        )
    if close(first, [0.0]):
        raise AssertionError("the top-scored item is a hit but NDCG is 0: rank items by descending score (np.argsort(-scores)).")
    if close(first, [1 / math.log2(3)]):
        raise AssertionError("off by one in the discount: the item at rank 1 is discounted by 1/log2(1 + 1) = 1.")
    assert close(first, [1.0]), f"a single held-out item ranked first must give NDCG 1, got {first[0]:.4f}."
    second = run(scores, np.array([[0, 1, 0, 0, 0]]), 3)
    expected = 1 / math.log2(3)
    if close(second, [1 / math.log2(4)]) or close(second, [math.log2(3) / math.log2(4)]):
        raise AssertionError("off by one in the discount: rank 2 must be discounted by 1/log2(3), not 1/log2(4).")
    if close(second, [1.0]):
        raise AssertionError("a hit at rank 2 scored 1: apply the discount 1/log2(rank + 1) to each hit.")
    assert close(second, [expected]), f"a single hit at rank 2 should give 1/log2(3)={expected:.4f}, got {second[0]:.4f}."
    both = run(scores, np.array([[1, 1, 0, 0, 0]]), 3)
    if both[0] > 1 + 1e-9:
        raise AssertionError("NDCG above 1: divide the DCG by the ideal DCG (all held-out items ranked first).")
    assert close(both, [1.0]), f"two held-out items ranked 1 and 2 should give NDCG 1, got {both[0]:.4f}."
    beyond = run(np.array([[5.0, 4, 3, 2]]), np.array([[0, 0, 1, 0]]), 2)
    if beyond[0] > 1e-9:
        raise AssertionError("a hit at rank 3 counted in NDCG@2: only the top k items count (rank <= k).")
    many = run(np.array([[5.0, 4, 3, 2, 1, 0]]), np.array([[1, 1, 0, 1, 1, 1]]), 2)
    if many[0] < 1 - 1e-9:
        raise AssertionError("the ideal DCG must count at most k hits: use min(k, number held out), so a perfect top-k scores 1.")
    rng = np.random.default_rng(1)
    S = rng.normal(size=(8, 30))
    H = (rng.random((8, 30)) < 0.2).astype(int)
    H[:, 0] = 1
    S[:, 1] = -np.inf
    H[:, 1] = 0
    try:
        got = run(S, sp.csr_matrix(H), 10)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise AssertionError(
            f"heldout may be a scipy sparse matrix; convert it first with .toarray() ({type(exc).__name__}: {exc})."
        ) from None
    ref = _ndcg_ref(S, H, 10)
    assert close(got, ref), f"NDCG@10 on random data differs from the reference: expected {ref.round(3)}, got {np.round(got, 3)}."


register_hints(
    Hint(
        "check_multinomial_nll",
        "multinomial_nll",
        (
            "the multinomial likelihood turns each user's logits into probabilities over the items (a softmax) and scores "
            "the items the user has; the loss is minus its log, one value per user (Chapter 3, the Mult-VAE likelihood)."
        ),
        "-(torch.log_softmax(logits, dim=1) * x).sum(dim=1).",
    ),
    Hint(
        "check_ndcg_at_k",
        "ndcg_at_k",
        (
            "rank each user's items by descending score, discount the hits in the top k by their rank on a log scale, and "
            "divide by the best DCG that user could reach (Chapter 3, NDCG)."
        ),
        (
            "H = heldout.toarray() if sparse; top = np.argsort(-scores, axis=1)[:, :k]; hits = np.take_along_axis(H, top, "
            "axis=1); disc = 1 / np.log2(np.arange(2, k + 2)); dcg = hits @ disc; idcg = "
            "np.cumsum(disc)[np.minimum(H.sum(1), k) - 1]; return dcg / idcg."
        ),
    ),
    Hint(
        "check_ease_weights",
        "ease_weights",
        (
            "EASE is a ridge regression of each item on all the other items, solved in closed form under the constraint "
            "that no item predicts itself (Chapter 3, EASE)."
        ),
        (
            "G = X.T @ X as a dense array; add lam to its diagonal only; P = np.linalg.inv(G); B = -P / np.diag(P) (each "
            "column j divided by P[j, j]); set the diagonal of B to 0."
        ),
    ),
    Hint(
        "check_mask_foldin",
        "mask_foldin",
        (
            "items a held-out user already holds must not be recommended again: give them a score that ranks last, and "
            "leave the caller's array untouched (Chapter 3, the fold-in)."
        ),
        "out = np.array(scores, dtype=float) (a copy); F = foldin.toarray() if sparse; out[F != 0] = -np.inf; return out.",
    ),
    Hint(
        "check_fund_ndcg",
        "fund_ndcg",
        (
            "fit on the training investors only, choose lambda on the validation investors, then score the test investors "
            "from their fold-in part with that part masked (Chapter 3, the strong-generalisation protocol)."
        ),
        (
            "popularity scores: np.tile(popularity, (n_test, 1)); EASE scores: split.test_foldin @ "
            "ease_weights(split.train, lam), lam chosen by the mean validation NDCG@10 of mask_foldin(split.val_foldin @ B,"
            " split.val_foldin); report the mean test NDCG@10 of each as a float."
        ),
    ),
)
