r"""Latent-space operations of a trained VAE: encode, decode, interpolate, sample near an encoding, scenarios.

Every function that needs a network takes ``model``: a fitted course_lib
estimator with a VAE inside (:class:`~course_lib.estimators.VAEAnomalyDetector`,
:class:`~course_lib.estimators.VAEFactorModel`) or a
:class:`~course_lib.models.VAE` itself. Inputs are scaled as the model's
training data; outputs come back as float64 NumPy arrays.

- :func:`encode` gives the posterior ``(mu, logvar)`` of rows, :func:`decode`
  maps codes to rows (the decoder *mean*, optionally plus residual noise of
  the scale :func:`residual_std` measures);
- :func:`interpolate_latent` draws a straight path between two codes;
- :func:`sample_near_encoding` draws codes near posteriors with a reduced
  noise scale, :func:`augment_near_encodings` decodes such draws (rare-event
  augmentation) and :func:`jitter_augment` is its plain-noise baseline;
- :func:`vae_scenarios` decodes prior draws :math:`z \sim \mathcal N(0, I)`:
  with ``residual_std`` it is a draw from the generative model, which
  ``VAEFactorModel.sample`` (the decoder mean only) is not.

No function here changes the model's training mode (see
:func:`course_lib.models.eval_mode`) or the global random state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ._validation import (
    align_columns,
    align_index,
    as_1d_float,
    as_2d_float,
    check_positive_int,
    check_real,
    check_seed,
)
from .models import eval_mode

__all__ = [
    "augment_near_encodings",
    "decode",
    "encode",
    "interpolate_latent",
    "jitter_augment",
    "residual_std",
    "sample_near_encoding",
    "vae_scenarios",
]


def _as_vae(model: Any, n_features: int | None = None) -> torch.nn.Module:
    """The VAE inside ``model`` (a fitted estimator or a VAE), its input width checked."""
    if hasattr(model, "get_params") and not isinstance(model, torch.nn.Module):  # a scikit-learn style estimator
        if not hasattr(model, "model_"):
            raise ValueError(f"{type(model).__name__} is not fitted: call .fit(X) before using its latent space.")
        model = model.model_
    if not (
        hasattr(model, "encode")
        and hasattr(model, "decode")
        and hasattr(model, "latent_dim")
        and hasattr(model, "reparameterize")  # a VAE: encode gives (mu, logvar), not one code
    ):
        raise ValueError(
            "model must be a fitted VAE estimator (e.g. VAEAnomalyDetector().fit(X)) or a course_lib VAE with encode and decode."
        )
    if n_features is not None and n_features != getattr(model, "input_dim", n_features):
        raise ValueError(f"X has {n_features} features but the model expects {model.input_dim}.")
    return model


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _noise_std(residual_std: Any, n_features: int) -> np.ndarray | None:
    if residual_std is None:
        return None
    if isinstance(residual_std, np.ndarray) and residual_std.ndim == 0:
        residual_std = residual_std.item()
    if np.ndim(residual_std) == 0:
        v = check_real(residual_std, "residual_std", low=0.0)
        return np.full(n_features, v, dtype=np.float64)
    r = as_1d_float(residual_std, "residual_std")
    if len(r) != n_features or (r < 0).any():
        raise ValueError(
            f"residual_std must be a number or one non-negative value per feature ({n_features}), "
            f"got {len(r)} value(s) with minimum {r.min():g}; use residual_std(model, X_train)."
        )
    return r


def _match_columns(model: Any, X: Any) -> Any:
    """A DataFrame's columns matched by name to the estimator's training columns (when it recorded them)."""
    names = getattr(model, "feature_names_in_", None)
    if isinstance(X, pd.DataFrame) and names is not None:
        return align_columns(X, pd.Index(names), "X", "the model's training X")
    return X


@torch.no_grad()
def encode(model: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Posterior ``(mu, logvar)`` of the rows of ``X``.

    Parameters
    ----------
    model : fitted VAE estimator or course_lib.models.VAE
    X : array-like, shape (n_samples, n_features)
        Scaled as the model's training data.

    Returns
    -------
    (mu, logvar) : tuple of numpy.ndarray
        Each of shape (n_samples, latent_dim).
    """
    A = as_2d_float(_match_columns(model, X), "X")
    vae = _as_vae(model, A.shape[1])
    with eval_mode(vae):
        mu, logvar = vae.encode(torch.from_numpy(A).to(_device(vae)))
    return mu.cpu().numpy().astype(np.float64), logvar.cpu().numpy().astype(np.float64)


@torch.no_grad()
def residual_std(model: Any, X: Any) -> np.ndarray:
    r"""Per-feature standard deviation of the reconstruction residual :math:`x - d(\mu(x))`.

    The decoder returns a *mean*; real days scatter around it. This is the
    scale of that scatter (estimate it on the training days), for
    :func:`decode` to add back when it generates.

    Parameters
    ----------
    model : fitted VAE estimator or course_lib.models.VAE
    X : array-like, shape (n_samples, n_features)
        At least 2 rows.

    Returns
    -------
    numpy.ndarray
        Shape (n_features,).
    """
    A = as_2d_float(_match_columns(model, X), "X", min_rows=2)
    vae = _as_vae(model, A.shape[1])
    xt = torch.from_numpy(A).to(_device(vae))
    with eval_mode(vae):
        rec = vae.decode(vae.encode(xt)[0])
    return (xt - rec).double().std(dim=0).cpu().numpy()


@torch.no_grad()
def decode(model: Any, Z: Any, *, residual_std: Any = None, seed: int = 0) -> np.ndarray:
    r"""Decode codes to rows, optionally adding Gaussian noise of per-feature scale ``residual_std``.

    Without noise this is the decoder mean :math:`d(z)` (smoother than any
    real day); with it, :math:`x = d(z) + r \odot \epsilon`, a draw from the
    generative model with the residual scale measured by :func:`residual_std`.

    Parameters
    ----------
    model : fitted VAE estimator or course_lib.models.VAE
    Z : array-like, shape (n, latent_dim)
    residual_std : float or array-like of shape (n_features,), optional
    seed : int
        Seeds the noise (a local generator).

    Returns
    -------
    numpy.ndarray
        Shape (n, n_features).
    """
    vae = _as_vae(model)
    seed = check_seed(seed)
    Zc = as_2d_float(Z, "Z")
    if Zc.shape[1] != vae.latent_dim:
        raise ValueError(f"Z has {Zc.shape[1]} columns but the model's latent_dim is {vae.latent_dim}.")
    with eval_mode(vae):
        out = vae.decode(torch.from_numpy(Zc).to(_device(vae))).cpu().numpy().astype(np.float64)
    r = _noise_std(residual_std, out.shape[1])
    if r is not None:
        out = out + np.random.default_rng(seed).standard_normal(out.shape) * r
    return out


def vae_scenarios(model: Any, n: int, *, residual_std: Any = None, seed: int = 0) -> np.ndarray:
    r"""``n`` scenarios from a VAE: prior draws :math:`z \sim \mathcal N(0, I)` decoded by :func:`decode`.

    Parameters
    ----------
    model : fitted VAE estimator or course_lib.models.VAE
    n : int
        Number of scenarios, at least 1.
    residual_std : float or array-like of shape (n_features,), optional
        Residual noise added to the decoder mean (see :func:`residual_std`).
    seed : int

    Returns
    -------
    numpy.ndarray
        Shape (n, n_features), in the scale of the model's training data.
    """
    n = check_positive_int(n, "n")
    seed = check_seed(seed)
    vae = _as_vae(model)
    Z = np.random.default_rng(seed).standard_normal((n, vae.latent_dim))
    return decode(vae, Z, residual_std=residual_std, seed=seed + 1)


def interpolate_latent(z_start: Any, z_end: Any, n_steps: int = 11) -> np.ndarray:
    r"""Straight path :math:`z(t) = (1-t)\,z_0 + t\,z_1` at ``n_steps`` equally spaced :math:`t \in [0, 1]`.

    Parameters
    ----------
    z_start, z_end : array-like, shape (latent_dim,)
    n_steps : int, default 11
        At least 2; the first row is ``z_start``, the last ``z_end``.

    Returns
    -------
    numpy.ndarray
        Shape (n_steps, latent_dim).
    """
    a = as_1d_float(z_start, "z_start")
    b = as_1d_float(z_end, "z_end")
    if a.shape != b.shape:
        raise ValueError(f"z_start and z_end must be 1-D codes of the same length; got shapes {a.shape} and {b.shape}.")
    n_steps = check_positive_int(n_steps, "n_steps", minimum=2)
    t = np.linspace(0.0, 1.0, n_steps)[:, None]
    return (1 - t) * a + t * b


def sample_near_encoding(mu: Any, logvar: Any, n_per_row: int = 10, *, noise_scale: float = 0.5, seed: int = 0) -> np.ndarray:
    r"""Codes drawn near posteriors: :math:`z = \mu + s\,\sigma\,\epsilon`,

    with :math:`\sigma = e^{\log\sigma^2/2}`, :math:`\epsilon \sim \mathcal N(0, I)`.

    With ``noise_scale`` :math:`s < 1` the draws stay closer to each
    encoding than the posterior itself (the source's "half the posterior
    noise" is ``s = 0.5``).

    Parameters
    ----------
    mu, logvar : array-like, shape (n_rows, latent_dim)
        Posterior means and log-variances of the rows to augment.
    n_per_row : int, default 10
    noise_scale : float, default 0.5
    seed : int

    Returns
    -------
    numpy.ndarray
        Shape (n_rows * n_per_row, latent_dim): the draws of row 0 first, then row 1, ...
    """
    mu, logvar = align_index(mu, logvar, ("mu", "logvar"))  # DataFrames are paired by row label
    M = as_2d_float(mu, "mu").astype(np.float64)
    LV = as_2d_float(logvar, "logvar").astype(np.float64)
    if M.shape != LV.shape:
        raise ValueError(f"mu and logvar must have the same shape; got {M.shape} and {LV.shape}.")
    n_per_row = check_positive_int(n_per_row, "n_per_row")
    check_real(noise_scale, "noise_scale", low=0.0)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    std = np.exp(0.5 * LV)
    if not np.isfinite(std).all():
        raise ValueError("logvar is too large (exp(logvar / 2) overflows): pass log-variances from encode, not variances.")
    eps = rng.standard_normal((len(M), n_per_row, M.shape[1]))
    return (M[:, None, :] + noise_scale * std[:, None, :] * eps).reshape(-1, M.shape[1])


def augment_near_encodings(
    model: Any,
    X: Any,
    n_per_row: int = 10,
    *,
    noise_scale: float = 0.5,
    residual_std: Any = None,
    seed: int = 0,
) -> np.ndarray:
    """Synthetic rows decoded from codes drawn near the encodings of the rows of ``X``.

    Parameters
    ----------
    model : fitted VAE estimator or course_lib.models.VAE
    X : array-like, shape (n_rows, n_features)
        The (rare) rows to augment, scaled as the model's training data.
    n_per_row, noise_scale
        As in :func:`sample_near_encoding`.
    residual_std : float or array-like of shape (n_features,), optional
        Add the decoder's residual noise (see :func:`decode`); without it the
        synthetic rows are decoder means, smoother than real days.
    seed : int

    Returns
    -------
    numpy.ndarray
        Shape (n_rows * n_per_row, n_features): the samples of row 0 first.
    """
    n_per_row = check_positive_int(n_per_row, "n_per_row")
    check_real(noise_scale, "noise_scale", low=0.0)
    seed = check_seed(seed)
    vae = _as_vae(model)
    mu, logvar = encode(model, X)
    Z = sample_near_encoding(mu, logvar, n_per_row, noise_scale=noise_scale, seed=seed)
    return decode(vae, Z, residual_std=residual_std, seed=seed + 1)


def jitter_augment(X: Any, n_per_row: int = 10, *, noise_scale: float = 0.5, seed: int = 0) -> np.ndarray:
    r"""The plain augmentation baseline: copies of each row plus Gaussian noise, :math:`x + s\,\epsilon`.

    It lives here beside :func:`augment_near_encodings`, which it is the baseline of.

    Parameters
    ----------
    X : array-like, shape (n_rows, n_features)
        Rows to augment, standardised (so the noise is ``noise_scale`` standard deviations).
    n_per_row : int, default 10
    noise_scale : float, default 0.5
    seed : int

    Returns
    -------
    numpy.ndarray
        Shape (n_rows * n_per_row, n_features): the copies of row 0 first.
    """
    as_2d_float(X, "X")
    A = np.array(X, dtype=np.float64)
    n_per_row = check_positive_int(n_per_row, "n_per_row")
    check_real(noise_scale, "noise_scale", low=0.0)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    return (A[:, None, :] + noise_scale * rng.standard_normal((len(A), n_per_row, A.shape[1]))).reshape(-1, A.shape[1])
