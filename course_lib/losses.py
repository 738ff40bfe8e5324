r"""Losses and KL-annealing schedules.

For a Gaussian posterior :math:`q = \mathcal N(\mu, \operatorname{diag}\sigma^2)`
and the prior :math:`p = \mathcal N(0, I)`, the KL divergence has the closed form

.. math:: \mathrm{KL}(q\,\|\,p) = \tfrac12 \sum_{j=1}^{L} \left(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\right).

The beta-VAE loss per sample is :math:`\text{recon} + \beta\,\mathrm{KL}`, where
``recon`` is the negative log-likelihood of a unit-variance Gaussian decoder
up to a constant: :math:`\tfrac12\lVert x - \hat x\rVert^2`. ``beta = 1`` is
the ELBO; smaller beta favours reconstruction, larger beta the prior.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ._validation import InputTypeError, check_nonnegative_int, check_positive_int, check_probability, check_real

__all__ = [
    "Schedule",
    "kl_normal",
    "gaussian_nll",
    "vae_loss",
    "constant_beta",
    "linear_anneal",
    "cyclical_anneal",
    "as_schedule",
]

Schedule = Callable[[int], float]


def _check_tensor(t: Any, name: str) -> None:
    if not isinstance(t, torch.Tensor):
        raise InputTypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}; convert with torch.as_tensor({name}).")
    if not t.is_floating_point():
        raise InputTypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}; use {name}.float().")


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-sample KL divergence from N(mu, exp(logvar)) to N(0, I).

    Parameters
    ----------
    mu, logvar : torch.Tensor
        Shape (batch, latent_dim).

    Returns
    -------
    torch.Tensor
        Shape (batch,): the KL of each sample, summed over latent dimensions.
    """
    _check_tensor(mu, "mu")
    _check_tensor(logvar, "logvar")
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError(
            f"mu and logvar must both have shape (batch, latent_dim); got {tuple(mu.shape)} and {tuple(logvar.shape)}."
        )
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1)


def gaussian_nll(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample half sum of squared errors, shape (batch,): the unit-variance Gaussian NLL up to a constant.

    ``recon`` and ``x`` have the same shape (batch, n_features).
    """
    _check_tensor(recon, "recon")
    _check_tensor(x, "x")
    if recon.dim() != 2:
        raise ValueError(f"recon and x must have shape (batch, n_features), got {tuple(recon.shape)}.")
    if recon.shape != x.shape:
        raise ValueError(f"recon has shape {tuple(recon.shape)} but x has {tuple(x.shape)}.")
    return 0.5 * (recon - x).pow(2).sum(dim=1)


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The beta-weighted VAE loss, averaged over the batch.

    Inputs are not scanned for NaN (this runs on every batch; :func:`course_lib.train.fit`
    stops with a clear message when the loss is not finite). ``beta`` must be a finite number >= 0.

    Returns
    -------
    (total, recon, kl) : tuple of scalar tensors
        ``total = recon + beta * kl``; each term is a batch mean of per-sample values.
    """
    beta = check_real(beta, "beta", low=0.0)
    rec = gaussian_nll(recon, x).mean()
    kl = kl_normal(mu, logvar).mean()
    return rec + beta * kl, rec, kl


def constant_beta(beta: float) -> Schedule:
    """A schedule that always returns ``beta`` (a finite number >= 0)."""
    value = check_real(beta, "beta", low=0.0)
    return lambda epoch: value


def linear_anneal(beta_max: float, warmup_epochs: int, start: float = 0.0) -> Schedule:
    """Beta rises linearly from ``start`` to ``beta_max`` over ``warmup_epochs``, then stays.

    Epochs count from 0; at epoch ``warmup_epochs`` and after, beta equals ``beta_max``.
    Annealing lets the decoder learn to use the latents before the KL term
    pushes the posterior towards the prior (a guard against posterior collapse).
    """
    beta_max = check_real(beta_max, "beta_max", low=0.0)
    warmup_epochs = check_nonnegative_int(warmup_epochs, "warmup_epochs")
    start = check_real(start, "start", low=0.0)

    def schedule(epoch: int) -> float:
        if warmup_epochs == 0:
            return float(beta_max)
        frac = min(1.0, epoch / warmup_epochs)
        return float(start + (beta_max - start) * frac)

    return schedule


def cyclical_anneal(beta_max: float, cycle_epochs: int, ramp_fraction: float = 0.5) -> Schedule:
    """Cyclical annealing (Fu et al., 2019): in each cycle beta ramps from 0 to ``beta_max`` then holds."""
    beta_max = check_real(beta_max, "beta_max", low=0.0)
    cycle_epochs = check_positive_int(cycle_epochs, "cycle_epochs")
    ramp_fraction = check_probability(ramp_fraction, "ramp_fraction", open_high=False)

    def schedule(epoch: int) -> float:
        pos = (epoch % cycle_epochs) / cycle_epochs
        return float(beta_max * min(1.0, pos / ramp_fraction))

    return schedule


def as_schedule(beta: float | Schedule) -> Schedule:
    """Turn a number into a constant schedule; pass a callable through (its values are checked where used)."""
    if callable(beta):
        return beta
    try:
        return constant_beta(beta)
    except TypeError:
        raise InputTypeError(f"beta must be a number >= 0 or a callable epoch -> beta, got {type(beta).__name__}.") from None
