"""Checkers for Chapter 2 (VAE latent factors versus PCA).

The reparameterisation trick and the closed-form KL are checked by
:func:`~course_lib.checks.check_reparameterize` and
:func:`~course_lib.checks.check_kl_normal` (foundations); this module adds:

- :func:`check_beta_schedule`: a linear KL-annealing schedule;
- :func:`check_recovery_r2`: the rotation-invariant factor-recovery score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..losses import linear_anneal
from ..metrics import factor_recovery_r2
from ._common import call, close, to_numpy

__all__ = ["check_beta_schedule", "check_recovery_r2"]


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
