"""Checkers for Chapter 2 (VAE latent factors versus PCA).

- :func:`check_reparameterize`: the reparameterisation trick, with gradients to mu and logvar;
- :func:`check_kl_normal`: the closed-form KL of a diagonal Gaussian to N(0, I), one value per sample;
- :func:`check_beta_schedule`: a linear KL-annealing schedule;
- :func:`check_recovery_r2`: the rotation-invariant factor-recovery score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._runtime import isolated_rng
from ..losses import linear_anneal
from ..metrics import factor_recovery_r2
from ._common import Hint, call, close, register_hints, to_numpy

__all__ = ["check_reparameterize", "check_kl_normal", "check_beta_schedule", "check_recovery_r2"]


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
    centred = (zn - mu0.numpy()) / std0.numpy()
    if centred.min() > -1e-6 and centred.max() < 1 + 1e-6:
        raise AssertionError(
            "the noise is uniform on [0, 1) (torch.rand_like): the reparameterisation needs standard-normal noise (randn)."
        )
    if np.allclose(s, 1 / std0.numpy(), rtol=0.05) and not np.allclose(s, std0.numpy(), rtol=0.05):
        raise AssertionError("the spread is 1/sigma: the sign in the exponent is flipped; sigma = exp(+0.5 * logvar).")
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
            "no gradient reaches mu or logvar: sampling with torch.normal(mu, std) or detaching cuts the path; "
            "draw the noise separately and build z from mu and the standard deviation with ordinary arithmetic."
        )
    z.sum().backward()
    if mu.grad is None or not mu.grad.abs().sum() > 0:
        raise AssertionError(
            "no gradient reaches mu: torch.normal(mu, std) samples without a path for the gradient; "
            "draw standard-normal noise separately and shift and scale it by mu and the standard deviation."
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
    if out.shape == (L,):
        raise AssertionError("you summed over the batch (dim=0): sum over the latent dimensions (dim=1), one KL per sample.")
    if out.shape == (B, 1):
        raise AssertionError("the KL has shape (batch, 1): drop the kept dimension (no keepdim=True), shape (batch,).")
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
    var = std**2
    if close(out, (0.5 * (mu**2 + var**2 - 2 * logvar - 1)).sum(1).numpy()) or close(
        out, (0.5 * (mu**2 + var**2 - logvar - 1)).sum(1).numpy()
    ):
        raise AssertionError("you squared the variance: exp(logvar) already is sigma^2, the variance.")
    unsquared = [(0.5 * (m + var - logvar - 1)).sum(1).numpy() for m in (mu, mu.abs())]
    if any(close(out, u) for u in unsquared):
        raise AssertionError("the mean enters the KL squared: the term is mu^2 (the squared distance of the mean from 0).")
    assert close(out, ref), (
        f"the KL does not match torch.distributions.kl_divergence: expected {ref.round(4)}, got {out.round(4)}."
    )
    mu_g, lv_g = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
    kl_t = call(fn, mu_g, lv_g, what="kl_normal")
    if not isinstance(kl_t, torch.Tensor) or not kl_t.requires_grad:
        raise AssertionError(
            "the numbers are right but no gradient flows: return a torch tensor computed with torch operations "
            "(no .numpy(), .item() or .detach()), because the training cell back-propagates through this KL."
        )
    zero = to_numpy(call(fn, torch.zeros(2, 3), torch.zeros(2, 3), what="kl_normal"), "kl_normal")
    assert np.allclose(zero, 0.0, atol=1e-6), "the KL of N(0, I) to itself must be 0."


def check_beta_schedule(fn: Callable[[int, float, int], float]) -> None:
    """Check ``fn(epoch, beta_max, warmup_epochs) -> beta``: 0 at epoch 0, linear, ``beta_max`` from ``warmup_epochs`` on."""

    def beta(epoch: int, beta_max: float, warmup: int) -> float:
        raw = call(fn, epoch, beta_max, warmup, what="beta_schedule")
        if isinstance(raw, (torch.Tensor, np.ndarray)):
            kind = "tensor" if isinstance(raw, torch.Tensor) else "NumPy array"
            raise AssertionError(f"return a Python float (float(...)), not a {kind}: beta is one plain number per epoch.")
        out = to_numpy(raw, "beta_schedule")
        assert out.size == 1, f"return one number (the beta of that epoch), got shape {out.shape}."
        return float(out.reshape(()))

    beta_max, warmup = 0.5, 10
    got = [beta(e, beta_max, warmup) for e in range(0, 16)]
    ref = [linear_anneal(beta_max, warmup)(e) for e in range(0, 16)]
    if np.allclose(got, ref, atol=1e-9):
        pass
    elif np.allclose(got, [r / beta_max for r in ref], atol=1e-9):
        raise AssertionError("the schedule ends at 1 instead of beta_max: multiply the warm-up fraction by beta_max.")
    elif np.allclose(got, [beta_max - r for r in ref], atol=1e-9) or got[0] > got[-1]:
        raise AssertionError(
            "beta falls over training: it must start at 0 and rise to beta_max (the KL is switched on gradually)."
        )
    elif np.allclose(got, [beta_max * (e // warmup) for e in range(16)], atol=1e-9) or (
        got[0] == 0 and np.allclose(got[1:warmup], 0.0) and got[warmup] > 0
    ):
        raise AssertionError(
            "beta jumps from 0 to beta_max at once: epoch // warmup_epochs is integer division; use epoch / warmup_epochs."
        )
    elif got[-1] > beta_max + 1e-9:
        raise AssertionError(
            f"beta keeps growing after the warm-up (epoch 15 gave {got[-1]:.3g} > beta_max={beta_max}): "
            "cap the fraction with min(1, epoch / warmup_epochs)."
        )
    elif np.allclose(got, [beta_max * min(1.0, (e + 1) / warmup) for e in range(16)], atol=1e-9):
        raise AssertionError(
            "off by one: beta must be exactly 0 at epoch 0 (epochs count from 0), so use epoch / warmup_epochs, not (epoch + 1)."
        )
    elif np.allclose(got, [beta_max * min(1.0, e / (warmup - 1)) for e in range(16)], atol=1e-9):
        raise AssertionError(
            "off by one: beta should reach beta_max at epoch warmup_epochs, not warmup_epochs - 1; divide by warmup_epochs."
        )
    elif np.isclose(got[0], 0) and np.isclose(got[warmup], beta_max) and not np.isclose(got[warmup // 2], ref[warmup // 2]):
        raise AssertionError(
            f"beta starts at 0 and reaches beta_max on time but the ramp is not linear (epoch {warmup // 2} gave "
            f"{got[warmup // 2]:.3g}, expected {ref[warmup // 2]:.3g}): beta grows in proportion to the epoch."
        )
    else:
        raise AssertionError(
            f"with beta_max={beta_max}, warmup_epochs={warmup} expected {np.round(ref[:12], 3).tolist()} for epochs 0..11, "
            f"got {np.round(got[:12], 3).tolist()}."
        )
    try:
        zero = beta(3, 0.2, 0)
    except ZeroDivisionError:
        raise AssertionError(
            "warmup_epochs=0 must mean no warm-up (beta_max from the first epoch), not a division by zero."
        ) from None
    assert abs(zero - 0.2) < 1e-9, f"warmup_epochs=0 means no warm-up: beta should be beta_max=0.2 at once, got {zero}."
    other = [beta(e, 4.0, 3) for e in range(5)]
    assert np.allclose(other, [0.0, 4 / 3, 8 / 3, 4.0, 4.0]), (
        f"with beta_max=4, warmup_epochs=3 expected [0, 1.333, 2.667, 4, 4], got {np.round(other, 3).tolist()}: "
        "do not hard-code the numbers of the first test."
    )


def check_recovery_r2(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check ``fn(factors, latents)``.

    It must return the in-sample R^2 of each true factor regressed (OLS with intercept) on all latents.
    """
    rng = np.random.default_rng(0)
    n = 400
    F = rng.standard_normal((n, 2)) + np.array([3.0, -2.0])
    Q, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    noise = rng.standard_normal((n, 3))
    # three latents: a rotated, shifted and scaled copy of the factors, plus one noisy mix and pure noise
    Z = np.column_stack([(F @ Q) * np.array([2.0, 0.5]) + 5.0, noise[:, 0]])
    Z[:, 0] += 0.3 * noise[:, 1]

    def run(Fa: np.ndarray, Za: np.ndarray) -> np.ndarray:
        return to_numpy(call(fn, Fa.copy(), Za.copy(), what="recovery_r2"), "recovery_r2")

    ref = factor_recovery_r2(F, Z)
    out = run(F, Z)
    if out.size == 1 and out.shape != (2,):
        if close(out.reshape(()), ref.mean()):
            raise AssertionError("you returned one number: return one R^2 per true factor, shape (n_factors,), not their mean.")
        raise AssertionError(f"return one R^2 per true factor, shape (n_factors,)=(2,), got a single number {out.reshape(())}.")
    if out.shape == (Z.shape[1],):
        raise AssertionError(
            f"you returned {Z.shape[1]} values, one per latent: regress each true factor on the latents "
            "(the factors are the targets, the latents the regressors), one R^2 per factor."
        )
    assert out.shape == (2,), f"expected shape (n_factors,)=(2,), got {out.shape}."
    percol = np.array([np.corrcoef(F[:, k], Z[:, k])[0, 1] ** 2 for k in range(2)])
    if close(out, percol, rtol=1e-3, atol=1e-4) or close(out, np.sqrt(percol), rtol=1e-3, atol=1e-4):
        raise AssertionError(
            "you compared factor k with latent k only: latents are identified only up to rotation, "
            "so regress each factor on ALL latents at once (np.linalg.lstsq with an intercept column)."
        )
    single = [np.array([np.corrcoef(F[:, k], Z[:, j])[0, 1] ** 2 for k in range(2)]) for j in range(Z.shape[1])]
    if any(close(out, v, rtol=1e-3, atol=1e-4) for v in single):
        raise AssertionError(
            "you regressed every factor on ONE latent: a factor may be spread over several latents (they are identified "
            "only up to rotation), so use all latents together as regressors."
        )
    if close(out, np.sqrt(np.clip(ref, 0, None)), rtol=1e-3, atol=1e-4):
        raise AssertionError("you returned the correlation R, not R^2: square it (or use 1 - SSE/SST).")
    A = Z
    coef, *_ = np.linalg.lstsq(A, F, rcond=None)
    sse = ((F - A @ coef) ** 2).sum(0)
    no_icpt = 1 - sse / ((F - F.mean(0)) ** 2).sum(0)
    no_icpt_raw = 1 - sse / (F**2).sum(0)
    if close(out, no_icpt, rtol=1e-3, atol=1e-4) or close(out, no_icpt_raw, rtol=1e-3, atol=1e-4):
        raise AssertionError("the regression has no intercept: add a column of ones to the latents before np.linalg.lstsq.")
    A1 = np.column_stack([np.ones(n), Z])
    coef1, *_ = np.linalg.lstsq(A1, F, rcond=None)
    raw = 1 - ((F - A1 @ coef1) ** 2).sum(0) / (F**2).sum(0)
    if close(out, raw, rtol=1e-3, atol=1e-4):
        raise AssertionError("the total sum of squares must use deviations from each factor's mean: SST = sum((f - f.mean())^2).")
    if np.all(out >= 1 - 1e-9):
        raise AssertionError(
            "every R^2 is 1: compute the residuals of the regression (F - A @ coef), not of the fitted values against themselves."
        )
    assert close(out, ref, rtol=1e-3, atol=1e-4), (
        f"expected R^2 per factor {ref.round(4).tolist()}, got {np.round(out, 4).tolist()}."
    )
    # rotation invariance on a second, differently shaped problem
    F2 = rng.standard_normal((300, 3))
    R, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    out2 = run(F2, F2 @ R)
    assert out2.shape == (3,) and np.allclose(out2, 1.0, atol=1e-6), (
        f"latents that are a rotation of the factors must score R^2 = 1 for every factor, got {np.round(out2, 4).tolist()}."
    )


register_hints(
    Hint(
        "check_reparameterize",
        "reparameterize",
        (
            "write z as mu plus a scaled standard-normal noise, so that the gradient reaches mu and logvar; logvar is the "
            "log of the variance (Chapter 2, the reparameterisation trick)."
        ),
        "std = torch.exp(0.5 * logvar); eps = torch.randn_like(std); return mu + std * eps.",
    ),
    Hint(
        "check_kl_normal",
        "kl_normal",
        (
            "the KL of a diagonal Gaussian to N(0, I) is a sum of one closed-form term per latent dimension, one value per "
            "sample; exp(logvar) is a variance (the formula in the exercise)."
        ),
        "0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(dim=1).",
    ),
    Hint(
        "check_beta_schedule",
        "beta_schedule",
        (
            "beta rises linearly from 0 at epoch 0 to beta_max over the warm-up epochs and then stays there; a warm-up of 0"
            " epochs means beta_max at once (Chapter 2, KL annealing)."
        ),
        "if warmup_epochs == 0: return float(beta_max); return float(beta_max * min(1.0, epoch / warmup_epochs)).",
    ),
    Hint(
        "check_recovery_r2",
        "recovery_r2",
        (
            "regress each true factor on all learned factors plus an intercept and report that regression's R^2, one per "
            "true factor; it does not care how the latents are rotated (Chapter 2, the recovery score)."
        ),
        (
            "A = np.column_stack([np.ones(n_days), latents]); coef, *_ = np.linalg.lstsq(A, factors, rcond=None); resid = "
            "factors - A @ coef; return 1 - (resid**2).sum(0) / ((factors - factors.mean(0))**2).sum(0)."
        ),
    ),
)
