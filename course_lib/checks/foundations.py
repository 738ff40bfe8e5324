"""Checkers for the core ideas: the reparameterisation trick, the Gaussian KL and NDCG@k."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from .._runtime import isolated_rng
from ..metrics import ndcg_at_k as _ndcg_ref
from ._common import call, close, to_numpy

__all__ = ["check_reparameterize", "check_kl_normal", "check_ndcg_at_k"]


@isolated_rng()  # seeds inside, leaves the learner's random state as it was
def check_reparameterize(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(mu, logvar) -> z`` draws z ~ N(mu, exp(logvar)) with gradients flowing to both inputs."""
    torch.manual_seed(0)
    n = 20000
    mu0 = torch.tensor([1.0, -2.0, 0.5])
    std0 = torch.tensor([1.0, 2.0, 0.5])
    mu = mu0.repeat(n, 1).requires_grad_(True)
    logvar = (2 * std0.log()).repeat(n, 1).requires_grad_(True)
    z = call(fn, mu, logvar, what="reparameterize")
    assert isinstance(z, torch.Tensor), f"return a torch.Tensor so gradients can flow, not {type(z).__name__}."
    assert z.shape == mu.shape, f"z must have the shape of mu, {tuple(mu.shape)}; got {tuple(z.shape)}."
    zn = to_numpy(z, "reparameterize")
    assert not np.allclose(zn, mu0.numpy()), "z equals mu: you forgot the noise term sigma * eps."
    m, s = zn.mean(axis=0), zn.std(axis=0)
    if np.allclose(s, 0, atol=1e-6):
        raise AssertionError("every row got the same noise: draw one eps per element with torch.randn_like(mu).")
    if np.allclose(m, 0, atol=0.05):
        raise AssertionError("the samples have mean 0 instead of mu: did you forget to add mu?")
    assert np.allclose(m, mu0.numpy(), atol=0.06), f"the sample mean should be mu={mu0.tolist()}, got {m.round(3).tolist()}."
    if np.allclose(s, np.exp(2 * np.log(std0.numpy())), rtol=0.05):
        raise AssertionError("the spread equals exp(logvar), the variance: the standard deviation is exp(0.5 * logvar).")
    if np.allclose(s, 1.0, rtol=0.05):
        raise AssertionError("every dimension has standard deviation 1: scale the noise eps by sigma = exp(0.5 * logvar).")
    if np.allclose(s, np.abs(2 * np.log(std0.numpy())), rtol=0.05, atol=0.03):
        raise AssertionError("the spread equals |logvar|: logvar is the log of the variance; use sigma = exp(0.5 * logvar).")
    if np.allclose(s, np.sqrt(std0.numpy()), rtol=0.05):
        raise AssertionError("the spread is sqrt(sigma): use exp(0.5 * logvar), not exp(0.25 * logvar).")
    assert np.allclose(s, std0.numpy(), rtol=0.05), (
        f"the sample std should be exp(0.5*logvar)={std0.tolist()}, got {s.round(3).tolist()}."
    )
    if not z.requires_grad:
        raise AssertionError(
            "no gradient reaches mu or logvar: draw eps = torch.randn_like(std) and return mu + std * eps "
            "(torch.normal(mu, std) and .detach() cut the gradient)."
        )
    z.sum().backward()
    if mu.grad is None or not mu.grad.abs().sum() > 0:
        raise AssertionError(
            "no gradient reaches mu: draw eps = torch.randn_like(std) and return mu + std * eps "
            "(torch.normal(mu, std) samples without a path for the gradient)."
        )
    assert torch.allclose(mu.grad, torch.ones_like(mu)), "dz/dmu should be 1: return mu + std * eps."
    assert logvar.grad is not None and logvar.grad.abs().sum() > 0, (
        "no gradient reaches logvar: compute std from logvar inside the function."
    )
    z2 = call(fn, mu0.repeat(4, 1), (2 * std0.log()).repeat(4, 1), what="reparameterize")
    assert not torch.allclose(z2[0], z2[1]), "every row got the same noise: draw one eps per element with torch.randn_like."
    z3 = call(fn, mu0.repeat(4, 1), (2 * std0.log()).repeat(4, 1), what="reparameterize")
    assert not torch.allclose(z2, z3), (
        "two calls returned the same draws: do not seed a generator inside the function; "
        "torch.randn_like uses PyTorch's global generator, which set_seed(SEED) seeds once."
    )


def check_kl_normal(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(mu, logvar)`` returns the per-sample KL(N(mu, exp(logvar)) || N(0, I)), shape (batch,)."""
    g = torch.Generator().manual_seed(0)
    B, L = 6, 4
    mu = torch.randn(B, L, generator=g)
    logvar = 0.8 * torch.randn(B, L, generator=g)
    std = torch.exp(0.5 * logvar)
    ref = (
        torch.distributions.kl_divergence(torch.distributions.Normal(mu, std), torch.distributions.Normal(0.0, 1.0))
        .sum(1)
        .numpy()
    )
    out = to_numpy(call(fn, mu.clone(), logvar.clone(), what="kl_normal"), "kl_normal")
    if out.shape == () or out.size == 1:
        if close(out.reshape(()), ref.sum()) or close(out.reshape(()), ref.mean()):
            raise AssertionError("you returned one number for the whole batch: return one KL per sample, shape (batch,).")
    if out.shape == (B, L):
        raise AssertionError("you returned shape (batch, latent_dim): sum over the latent dimensions (dim=1).")
    assert out.shape == (B,), f"the KL should have shape (batch,)=({B},), got {out.shape}."
    if close(out, 2 * ref):
        raise AssertionError("the KL is twice too large: did you drop the 1/2?")
    if close(out, ref / L):
        raise AssertionError("the KL is latent_dim times too small: sum over latent dimensions instead of averaging.")
    if close(out, -ref):
        raise AssertionError("the KL has the wrong sign: KL is >= 0, it is 0.5 * sum(mu^2 + sigma^2 - log sigma^2 - 1).")
    if close(out, ref + 0.5 * L):
        raise AssertionError("the KL is 0.5 per dimension too large: you forgot the -1 inside the sum.")
    var_as_std = (0.5 * (mu**2 + std - std.log() - 1)).sum(1).numpy()
    if close(out, var_as_std):
        raise AssertionError("you used sigma where sigma^2 belongs: exp(logvar) is the variance, not the standard deviation.")
    assert close(out, ref), (
        f"the KL does not match torch.distributions.kl_divergence: expected {ref.round(4)}, got {out.round(4)}."
    )
    zero = to_numpy(call(fn, torch.zeros(2, 3), torch.zeros(2, 3), what="kl_normal"), "kl_normal")
    assert np.allclose(zero, 0.0, atol=1e-6), "the KL of N(0, I) to itself must be 0."


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
