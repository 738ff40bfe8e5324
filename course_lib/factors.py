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
  recovery side by side (the posterior-collapse diagnosis);
- :func:`nonlinear_recovery_r2`: the recovery score with a kernel-ridge probe
  instead of a linear one (non-linear encoders recover factors only up to a
  smooth invertible map);
- :func:`style_component` and :func:`market_style_r2`: how much of a factor
  ETF the latent factors explain beyond the market;
- :func:`aggregate_posterior_sample`: scenarios decoded from a Gaussian fitted
  to the encoded training days instead of the prior.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone

from ._validation import align_columns, align_index, as_2d_float, check_finite, check_positive_int, check_real, check_seed
from .losses import gaussian_nll, kl_normal
from .metrics import active_units, factor_recovery_r2, variance_explained

__all__ = [
    "compare_factor_models",
    "average_loadings",
    "beta_sweep",
    "nonlinear_recovery_r2",
    "style_component",
    "market_style_r2",
    "aggregate_posterior_sample",
]


def _check_pair(X_train: Any, X_test: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(X_train, pd.DataFrame) and isinstance(X_test, pd.DataFrame):
        X_test = align_columns(X_test, X_train.columns, "X_test", "X_train")  # columns matched by name, not position
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
    eps = check_real(eps, "eps", low=0.0, low_open=True)
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
    if any(isinstance(b, (str, bytes, bool, np.bool_)) or b is None for b in betas):
        raise ValueError(f"every beta must be a finite number >= 0, got {list(betas)}.")
    betas = [float(b) for b in betas]
    if not betas:
        raise ValueError("betas is empty: pass e.g. [0.1, 0.5, 2, 8, 32].")
    if any(not np.isfinite(b) or b < 0 for b in betas):
        raise ValueError(f"every beta must be a finite number >= 0, got {betas}.")
    check_real(kl_threshold, "kl_threshold")
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


def nonlinear_recovery_r2(
    factors: Any,
    latents: Any,
    factors_test: Any,
    latents_test: Any,
    *,
    alphas: Sequence[float] = (1e-2, 1e-1, 1.0),
    gammas: Sequence[float] = (0.02, 0.05, 0.2),
    val_fraction: float = 0.2,
) -> np.ndarray:
    r"""Out-of-sample recovery :math:`R^2` of each true factor with a non-linear (kernel ridge) probe.

    A non-linear encoder identifies the factors only up to a smooth invertible
    map, :math:`z = h(f)`; a linear probe (:func:`~course_lib.metrics.factor_recovery_r2`)
    then understates what the latents hold. This probe regresses each factor on
    the latents with an RBF kernel ridge regression: latents standardised on the
    training days, ``alpha`` and ``gamma`` chosen on the last ``val_fraction``
    of the training days (chronological, no test day is used), refitted on all
    training days and scored on the test days against the training mean.

    Parameters
    ----------
    factors, latents : array-like, shape (n_train, n_factors) and (n_train, n_latents)
        Training days.
    factors_test, latents_test : array-like, shape (n_test, n_factors) and (n_test, n_latents)
        Test days.
    alphas, gammas : sequence of float
        Ridge penalties and RBF widths tried (each > 0).
    val_fraction : float, default 0.2
        Share of the training days (the last ones) used to choose the two.

    Returns
    -------
    numpy.ndarray
        Shape (n_factors,): one :math:`R^2` per true factor. The chosen
        ``(alpha, gamma)`` are not returned; the grid is small on purpose.
    """
    from sklearn.kernel_ridge import KernelRidge

    factors, latents = align_index(factors, latents, ("factors", "latents"))
    factors_test, latents_test = align_index(factors_test, latents_test, ("factors_test", "latents_test"))
    F = as_2d_float(factors, "factors", min_rows=10).astype(np.float64)
    Z = as_2d_float(latents, "latents", min_rows=10).astype(np.float64)
    Ft = as_2d_float(factors_test, "factors_test").astype(np.float64)
    Zt = as_2d_float(latents_test, "latents_test").astype(np.float64)
    if len(F) != len(Z):
        raise ValueError(f"factors has {len(F)} rows but latents has {len(Z)}: they must be the same (training) days.")
    if len(Ft) != len(Zt):
        raise ValueError(f"factors_test has {len(Ft)} rows but latents_test has {len(Zt)}: they must be the same (test) days.")
    if Ft.shape[1] != F.shape[1] or Zt.shape[1] != Z.shape[1]:
        raise ValueError("factors_test/latents_test must have the same columns as factors/latents.")
    val_fraction = check_real(val_fraction, "val_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    alphas = [check_real(a, "alphas[i]") for a in alphas]
    gammas = [check_real(g, "gammas[i]") for g in gammas]
    if not alphas or not gammas or min(alphas + gammas) <= 0:
        raise ValueError(f"alphas and gammas must be non-empty and > 0, got {alphas} and {gammas}.")
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    sd[sd == 0] = 1.0
    Zs, Zts = (Z - mu) / sd, (Zt - mu) / sd
    n_fit = int(round(len(Z) * (1 - val_fraction)))
    if n_fit < 5 or len(Z) - n_fit < 5:
        raise ValueError(f"{len(Z)} training days leave too few for choosing alpha/gamma: pass more days or change val_fraction.")

    def r2(Y: np.ndarray, pred: np.ndarray, centre: np.ndarray) -> np.ndarray:
        return 1.0 - ((Y - pred) ** 2).sum(axis=0) / ((Y - centre) ** 2).sum(axis=0)

    best, best_score = (alphas[0], gammas[0]), -np.inf
    for a in alphas:
        for g in gammas:
            kr = KernelRidge(alpha=a, kernel="rbf", gamma=g).fit(Zs[:n_fit], F[:n_fit] - F[:n_fit].mean(axis=0))
            score = r2(F[n_fit:], kr.predict(Zs[n_fit:]) + F[:n_fit].mean(axis=0), F[:n_fit].mean(axis=0)).mean()
            if score > best_score:
                best, best_score = (a, g), score
    centre = F.mean(axis=0)
    kr = KernelRidge(alpha=best[0], kernel="rbf", gamma=best[1]).fit(Zs, F - centre)
    return r2(Ft, kr.predict(Zts) + centre, centre)


def _check_series_index(s: Any, name: str) -> None:
    if not isinstance(s.index, pd.DatetimeIndex):
        raise ValueError(f"{name} must have a DatetimeIndex (dates); use pd.to_datetime on the index first.")


def style_component(returns: pd.DataFrame, market: pd.Series, fit_days: pd.Index) -> tuple[pd.DataFrame, pd.Series]:
    r"""Strip the market out of each return series: :math:`s_t = r_t - \hat\beta\, m_t`, with :math:`\hat\beta` from ``fit_days``.

    :math:`\hat\beta` is the OLS slope (with intercept) of each column on the
    market over ``fit_days`` only, so the style component on later days uses no
    later information.

    Parameters
    ----------
    returns : pandas.DataFrame, shape (n_days, n_series)
        E.g. factor-ETF log returns, DatetimeIndex.
    market : pandas.Series, shape (n_days,)
        Market (index) log returns on the same days.
    fit_days : pandas.Index
        Days on which the betas are estimated (at least 10, all in both indexes).

    Returns
    -------
    (pandas.DataFrame, pandas.Series)
        The style components, shape (n_days, n_series), and the betas, shape (n_series,).
    """
    if not isinstance(returns, pd.DataFrame) or not isinstance(market, pd.Series):
        raise ValueError("returns must be a DataFrame (dates x series) and market a Series (dates).")
    _check_series_index(returns, "returns")
    _check_series_index(market, "market")
    if not returns.index.equals(market.index):
        raise ValueError(
            "returns and market must have the same index (same days in the same order): align them first, "
            "e.g. market = market.loc[returns.index]."
        )
    check_finite(returns.to_numpy(dtype=float), "returns")
    check_finite(market.to_numpy(dtype=float), "market")
    fit_days = pd.Index(fit_days)
    missing = fit_days.difference(returns.index)
    if len(missing):
        raise ValueError(f"fit_days has {len(missing)} day(s) not in returns.index (first {missing[0]}).")
    if len(fit_days) < 10:
        raise ValueError(f"fit_days has {len(fit_days)} days: need at least 10 to estimate a beta.")
    m = market.loc[fit_days].to_numpy(dtype=np.float64)
    if m.std() == 0:
        raise ValueError("market is constant on fit_days: the beta is undefined.")
    Y = returns.loc[fit_days].to_numpy(dtype=np.float64)
    mc = m - m.mean()
    beta = (mc @ (Y - Y.mean(axis=0))) / (mc @ mc)
    betas = pd.Series(beta, index=returns.columns, name="beta")
    return returns - np.outer(market.to_numpy(dtype=np.float64), beta), betas


def market_style_r2(
    targets: pd.DataFrame,
    market: pd.Series,
    factors: Mapping[str, pd.DataFrame],
    fit_days: pd.Index,
    test_days: pd.Index,
) -> pd.DataFrame:
    r"""How much of each target the market explains, and what latent factors add beyond it (out of sample).

    All regressions are OLS with an intercept, fitted on ``fit_days`` and
    scored by :math:`R^2` on ``test_days`` (against the fit-days mean). Rows:

    - ``market only``: target on the market return alone;
    - ``<name> factors``: target on the factors alone;
    - ``market + <name>``: target on the market and the factors;
    - ``<name> on style``: the style component (target minus its fit-days
      beta times the market, :func:`style_component`) on the factors: the share
      of what the market leaves that the factors explain.

    Parameters
    ----------
    targets : pandas.DataFrame, shape (n_days, n_targets)
    market : pandas.Series, shape (n_days,)
        Same index as ``targets``.
    factors : mapping of str to pandas.DataFrame
        Each of shape (n_days, k), indexed by the same days.
    fit_days, test_days : pandas.Index
        Disjoint, with ``fit_days`` all before ``test_days``.

    Returns
    -------
    pandas.DataFrame
        Shape (1 + 3 * len(factors), n_targets); ``result.attrs["betas"]``
        holds the fit-days market betas.
    """
    style, betas = style_component(targets, market, fit_days)
    test_days = pd.Index(test_days)
    if len(test_days) < 2 or len(test_days.difference(targets.index)):
        raise ValueError("test_days must hold at least 2 days, all in targets.index.")
    if pd.Index(fit_days).max() >= test_days.min():
        raise ValueError("fit_days and test_days overlap in time: every fit day must come before every test day (no look-ahead).")
    if not factors:
        raise ValueError("factors is empty: pass e.g. {'PCA': pd.DataFrame(pca.transform(X), index=X.index)}.")
    Y, S, m = targets.to_numpy(dtype=np.float64), style.to_numpy(dtype=np.float64), market.to_numpy(dtype=np.float64)[:, None]
    fi, ti = targets.index.get_indexer(fit_days), targets.index.get_indexer(test_days)
    rows = {"market only": factor_recovery_r2(Y[fi], m[fi], Y[ti], m[ti])}
    for name, Fz in factors.items():
        if not isinstance(Fz, pd.DataFrame) or not targets.index.isin(Fz.index).all():
            raise ValueError(f"factors[{name!r}] must be a DataFrame whose index covers every day of targets.")
        Z = Fz.loc[targets.index].to_numpy(dtype=np.float64)
        check_finite(Z, f"factors[{name!r}]")
        MZ = np.column_stack([m[:, 0], Z])
        rows[f"{name} factors"] = factor_recovery_r2(Y[fi], Z[fi], Y[ti], Z[ti])
        rows[f"market + {name}"] = factor_recovery_r2(Y[fi], MZ[fi], Y[ti], MZ[ti])
        rows[f"{name} on style"] = factor_recovery_r2(S[fi], Z[fi], S[ti], Z[ti])
    out = pd.DataFrame(rows, index=targets.columns).T
    out.attrs["betas"] = betas
    return out


def aggregate_posterior_sample(model: Any, X: Any, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Decode draws from the *aggregate posterior* instead of the prior.

    The prior :math:`p(z)=\mathcal N(0,I)` is where a VAE's KL term pulls each
    posterior, but the distribution of the encoded days,
    :math:`q(z)=\tfrac1T\sum_t q(z\mid x_t)`, need not match it. Here a Gaussian
    :math:`\mathcal N(\hat m, \hat S)` is fitted to the posterior means
    ``model.transform(X)`` (mean and full covariance) and ``n`` draws from it
    are decoded.

    Parameters
    ----------
    model : estimator
        Fitted, with ``transform`` and ``inverse_transform``.
    X : array-like, shape (n_days, n_assets)
        The days whose encodings define the aggregate posterior (training days).
    n : int
        Number of scenarios (>= 1).
    seed : int, default 0
        Seed of a local generator.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Decoded scenarios, shape (n, n_assets), and the latent draws, shape (n, k).
    """
    X = as_2d_float(X, "X", min_rows=3)
    n = check_positive_int(n, "n")
    Z = np.asarray(model.transform(X), dtype=np.float64)
    rng = np.random.default_rng(check_seed(seed))
    draws = rng.multivariate_normal(Z.mean(axis=0), np.atleast_2d(np.cov(Z, rowvar=False)), size=int(n), method="eigh")
    return np.asarray(model.inverse_transform(draws.astype(np.float32))), draws
