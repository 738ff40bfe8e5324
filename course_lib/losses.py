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

import math
from collections.abc import Callable

import torch

Schedule = Callable[[int], float]


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
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError(
            f"mu and logvar must both have shape (batch, latent_dim); got {tuple(mu.shape)} and {tuple(logvar.shape)}."
        )
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1)


def gaussian_nll(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample half sum of squared errors, shape (batch,): the unit-variance Gaussian NLL up to a constant."""
    if recon.shape != x.shape:
        raise ValueError(f"recon has shape {tuple(recon.shape)} but x has {tuple(x.shape)}.")
    return 0.5 * (recon - x).pow(2).sum(dim=1)


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The beta-weighted VAE loss, averaged over the batch.

    Returns
    -------
    (total, recon, kl) : tuple of scalar tensors
        ``total = recon + beta * kl``; each term is a batch mean of per-sample values.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}.")
    rec = gaussian_nll(recon, x).mean()
    kl = kl_normal(mu, logvar).mean()
    return rec + beta * kl, rec, kl


def constant_beta(beta: float) -> Schedule:
    """A schedule that always returns ``beta``."""
    return lambda epoch: float(beta)


def linear_anneal(beta_max: float, warmup_epochs: int, start: float = 0.0) -> Schedule:
    """Beta rises linearly from ``start`` to ``beta_max`` over ``warmup_epochs``, then stays.

    Epochs count from 0; at epoch ``warmup_epochs`` and after, beta equals ``beta_max``.
    Annealing lets the decoder learn to use the latents before the KL term
    pushes the posterior towards the prior (a guard against posterior collapse).
    """
    if warmup_epochs < 0 or beta_max < 0:
        raise ValueError("warmup_epochs and beta_max must be >= 0.")

    def schedule(epoch: int) -> float:
        if warmup_epochs == 0:
            return float(beta_max)
        frac = min(1.0, epoch / warmup_epochs)
        return float(start + (beta_max - start) * frac)

    return schedule


def cyclical_anneal(beta_max: float, cycle_epochs: int, ramp_fraction: float = 0.5) -> Schedule:
    """Cyclical annealing (Fu et al., 2019): in each cycle beta ramps from 0 to ``beta_max`` then holds."""
    if cycle_epochs < 1 or not 0 < ramp_fraction <= 1:
        raise ValueError("cycle_epochs must be >= 1 and ramp_fraction in (0, 1].")

    def schedule(epoch: int) -> float:
        pos = (epoch % cycle_epochs) / cycle_epochs
        return float(beta_max * min(1.0, pos / ramp_fraction))

    return schedule


def as_schedule(beta: float | Schedule) -> Schedule:
    """Turn a number into a constant schedule; pass a callable through."""
    if callable(beta):
        return beta
    if not isinstance(beta, (int, float)) or math.isnan(beta) or beta < 0:
        raise ValueError(f"beta must be a number >= 0 or a callable epoch -> beta, got {beta!r}.")
    return constant_beta(float(beta))
