r"""Comparing factor models (PCA, autoencoders, VAEs) out of sample.

Every model here has PCA's interface: ``fit(X)``, ``transform(X)`` (the
factors, shape (n_days, k)) and ``inverse_transform(Z)`` (returns rebuilt
from factors). The helpers score such models the same way:

- :func:`compare_factor_models`: fit each model on the training days and
  report the variance explained on the test days and, when the true factors
  are known, the rotation-invariant recovery :math:`R^2` of each factor;
- :func:`average_loadings`: the loadings a (possibly non-linear) decoder
  implies, :math:`\bar B = \tfrac1n\sum_t \partial \hat x / \partial z\,(z_t)`,
  to compare with true loadings as subspaces;
- :func:`beta_sweep`: one :class:`~course_lib.estimators.VAEFactorModel`
  per KL weight :math:`\beta`, with reconstruction, KL, active units and
  recovery side by side (the posterior-collapse diagnosis).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone

from ._validation import as_2d_float
from .losses import gaussian_nll, kl_normal
from .metrics import active_units, factor_recovery_r2, variance_explained

__all__ = ["compare_factor_models", "average_loadings", "beta_sweep"]


def _check_pair(X_train: Any, X_test: Any) -> tuple[np.ndarray, np.ndarray]:
    Xtr = as_2d_float(X_train, "X_train", min_rows=2)
    Xte = as_2d_float(X_test, "X_test", min_rows=1)
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"X_train has {Xtr.shape[1]} columns but X_test has {Xte.shape[1]}: use the same assets in both.")
    return Xtr, Xte


def _check_factors(F_train: Any, F_test: Any, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray] | None:
    if F_train is None and F_test is None:
        return None
    if F_train is None or F_test is None:
        raise ValueError("give both factors_train and factors_test, or neither.")
    Ftr = as_2d_float(F_train, "factors_train", min_rows=2)
    Fte = as_2d_float(F_test, "factors_test")
    if len(Ftr) != n_train or len(Fte) != n_test:
        raise ValueError(
            f"factors_train/factors_test have {len(Ftr)}/{len(Fte)} rows but X_train/X_test have {n_train}/{n_test}: "
            "select the factors on the same days (e.g. market.factors.loc[splits.train.index])."
        )
    if Ftr.shape[1] != Fte.shape[1]:
        raise ValueError(f"factors_train has {Ftr.shape[1]} columns but factors_test has {Fte.shape[1]}.")
    return Ftr, Fte


def compare_factor_models(
    models: Mapping[str, Any],
    X_train: Any,
    X_test: Any,
    factors_train: Any = None,
    factors_test: Any = None,
    *,
    factor_names: Sequence[str] | None = None,
    refit: bool = True,
) -> pd.DataFrame:
    """Fit factor models on the training days and score them on the test days.

    Parameters
    ----------
    models : mapping of str to estimator
        Each has ``fit``, ``transform`` and ``inverse_transform`` (PCA,
        :class:`~course_lib.estimators.AutoencoderEmbedder`,
        :class:`~course_lib.estimators.VAEFactorModel`).
    X_train, X_test : array-like, shape (n_train, n_assets) and (n_test, n_assets)
        Returns standardised on the training days (so the benchmark
        prediction is 0).
    factors_train, factors_test : array-like, shape (n_train, n_factors) and (n_test, n_factors), optional
        The true factors, when known: adds the out-of-sample recovery
        :math:`R^2` of each factor (regression fitted on the training days).
    factor_names : sequence of str, optional
        Column labels for the recovery columns; taken from ``factors_train``
        when it is a DataFrame, else ``F0, F1, ...``.
    refit : bool, default True
        Fit a clone of each model on ``X_train``; ``False`` scores the models
        as they are (already fitted, on the same training days).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``var_explained_train``, ``var_explained_test``,
        ``fit_seconds`` and, with factors, ``recovery_mean`` and one
        ``R2 <factor>`` column per factor. The fitted models are stored in
        ``result.attrs["models"]``.
    """
    if not models:
        raise ValueError("models is empty: pass e.g. {'PCA': PCA(5), 'VAE': VAEFactorModel(5)}.")
    Xtr, Xte = _check_pair(X_train, X_test)
    fac = _check_factors(factors_train, factors_test, len(Xtr), len(Xte))
    if fac is not None:
        if factor_names is None:
            factor_names = (
                list(factors_train.columns)
                if isinstance(factors_train, pd.DataFrame)
                else [f"F{k}" for k in range(fac[0].shape[1])]
            )
        if len(factor_names) != fac[0].shape[1]:
            raise ValueError(f"factor_names has {len(factor_names)} names for {fac[0].shape[1]} factors.")
    rows, fitted = {}, {}
    for name, model in models.items():
        for attr in ("fit", "transform", "inverse_transform"):
            if not hasattr(model, attr):
                raise ValueError(f"model {name!r} has no {attr}(): factor models need fit, transform and inverse_transform.")
        t0 = time.perf_counter()
        mdl = clone(model).fit(Xtr) if refit else model
        seconds = time.perf_counter() - t0 if refit else float("nan")
        Ztr, Zte = mdl.transform(Xtr), mdl.transform(Xte)
        row = {
            "var_explained_train": variance_explained(Xtr, mdl.inverse_transform(Ztr), center=0),
            "var_explained_test": variance_explained(Xte, mdl.inverse_transform(Zte), center=0),
            "fit_seconds": seconds,
        }
        if fac is not None:
            r2 = factor_recovery_r2(fac[0], Ztr, fac[1], Zte)
            row["recovery_mean"] = float(r2.mean())
            row.update({f"R2 {f}": float(v) for f, v in zip(factor_names, r2)})
        rows[name], fitted[name] = row, mdl
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    out.attrs["models"] = fitted
    return out


def average_loadings(model: Any, Z: Any, eps: float = 1e-2) -> np.ndarray:
    r"""Average Jacobian of the decoder, :math:`\tfrac1n \sum_t \partial\,\text{inverse\_transform}(z)/\partial z\,|_{z_t}`.

    For PCA this is exactly the loading matrix ``components_.T``; for a
    non-linear decoder it is the best linear summary of how each factor moves
    each asset, computed by central finite differences (works for any model
    with ``inverse_transform``).

    Parameters
    ----------
    model : estimator
        Fitted, with ``inverse_transform`` mapping (n, k) to (n, n_assets).
    Z : array-like, shape (n_days, k)
        Factor values at which to average (e.g. ``model.transform(X_train)``).
    eps : float, default 1e-2
        Finite-difference step, in the units of ``Z``.

    Returns
    -------
    numpy.ndarray
        Shape (n_assets, k): column j holds the loadings on factor j.
    """
    Z = as_2d_float(Z, "Z").astype(np.float64)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}.")
    n, k = Z.shape
    steps = np.eye(k) * eps
    plus = (Z[None, :, :] + steps[:, None, :]).reshape(k * n, k)
    minus = (Z[None, :, :] - steps[:, None, :]).reshape(k * n, k)
    diff = np.asarray(model.inverse_transform(plus), dtype=np.float64) - np.asarray(
        model.inverse_transform(minus), dtype=np.float64
    )
    if diff.ndim != 2 or diff.shape[0] != k * n:
        raise ValueError(f"model.inverse_transform returned shape {diff.shape}; expected ({k * n}, n_assets).")
    return (diff.reshape(k, n, -1).mean(axis=1) / (2 * eps)).T


def beta_sweep(
    X_train: Any,
    X_test: Any,
    betas: Sequence[float],
    factors_train: Any = None,
    factors_test: Any = None,
    *,
    kl_threshold: float = 0.1,
    **vae_params: Any,
) -> pd.DataFrame:
    r"""Fit one :class:`~course_lib.estimators.VAEFactorModel` per KL weight and score it on the test days.

    Parameters
    ----------
    X_train, X_test : array-like, shape (n_train, n_assets) and (n_test, n_assets)
        Standardised returns.
    betas : sequence of float
        Final KL weights, each >= 0 (annealed from 0 as in the model).
    factors_train, factors_test : array-like, optional
        True factors on the same days; adds ``recovery_mean``.
    kl_threshold : float, default 0.1
        A unit counts as *informative* when its mean KL per test day exceeds
        this many nats (a stricter diagnosis than ``active_units``).
    **vae_params
        Passed to ``VAEFactorModel`` (``n_components``, ``epochs``, ...).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``beta``: ``test_recon`` (mean :math:`\tfrac12\lVert x-\hat x\rVert^2`
        per day, decoding the posterior mean), ``test_kl`` (mean KL per day, nats),
        ``active_units`` (posterior-mean variance > 0.01 on the test days),
        ``informative_units`` (units with mean KL > ``kl_threshold``), ``var_explained_test``
        and, with factors, ``recovery_mean``. The fitted
        models are in ``result.attrs["models"]``.
    """
    from .estimators import VAEFactorModel

    Xtr, Xte = _check_pair(X_train, X_test)
    fac = _check_factors(factors_train, factors_test, len(Xtr), len(Xte))
    betas = [float(b) for b in betas]
    if not betas:
        raise ValueError("betas is empty: pass e.g. [0.1, 0.5, 2, 8, 32].")
    if any(not np.isfinite(b) or b < 0 for b in betas):
        raise ValueError(f"every beta must be a finite number >= 0, got {betas}.")
    if not kl_threshold >= 0:
        raise ValueError(f"kl_threshold must be >= 0 nats, got {kl_threshold}.")
    rows, fitted = [], {}
    for b in betas:
        vae = VAEFactorModel(beta=b, **vae_params).fit(Xtr)
        mu, std = vae.posterior(Xte)
        mu_t, logvar_t = torch.from_numpy(mu), torch.from_numpy(2 * np.log(std))
        recon = vae.inverse_transform(mu)
        kl_units = 0.5 * (mu.astype(np.float64) ** 2 + std.astype(np.float64) ** 2 - 2 * np.log(std.astype(np.float64)) - 1).mean(
            axis=0
        )
        row = {
            "beta": b,
            "test_recon": float(gaussian_nll(torch.from_numpy(recon), torch.from_numpy(Xte)).mean()),
            "test_kl": float(kl_normal(mu_t, logvar_t).mean()),
            "active_units": active_units(mu),
            "informative_units": int((kl_units > kl_threshold).sum()),
            "var_explained_test": variance_explained(Xte, recon, center=0),
        }
        if fac is not None:
            row["recovery_mean"] = float(factor_recovery_r2(fac[0], vae.transform(Xtr), fac[1], mu).mean())
        rows.append(row)
        fitted[b] = vae
    out = pd.DataFrame(rows).set_index("beta")
    out.attrs["models"] = fitted
    return out
