"""scikit-learn-style wrappers, used exactly where PCA, K-means or Isolation Forest are.

- :class:`AutoencoderEmbedder`: ``fit`` / ``transform`` (codes) / ``inverse_transform``.
- :class:`VAEFactorModel`: the same interface as ``sklearn.decomposition.PCA``
  (``n_components``), with posterior means as factors and ``sample``.
- :class:`VAEAnomalyDetector`: an outlier detector in the style of
  ``IsolationForest`` (``score_samples``: lower is more abnormal; ``predict``:
  -1 for outliers, 1 for inliers).

All three clone, take ``random_state`` and work inside a ``Pipeline``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._runtime import get_device
from ._validation import as_2d_float
from .losses import gaussian_nll, kl_normal, linear_anneal
from .models import VAE, Autoencoder
from .train import History, fit


class _TorchEstimator(BaseEstimator):
    """Shared plumbing: input checks, seeding, device, batched inference."""

    model_: torch.nn.Module
    history_: History
    n_features_in_: int

    def _check_X(self, X: Any, *, fitting: bool = False) -> np.ndarray:
        arr = as_2d_float(X, "X", min_rows=2 if fitting else 1)
        if not fitting:
            check_is_fitted(self, "model_")
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {arr.shape[1]} features, but this estimator was fitted with {self.n_features_in_}.")
        return arr

    def _device(self) -> torch.device:
        return torch.device(self.device) if self.device is not None else get_device()

    def _fit_model(self, model: torch.nn.Module, X: np.ndarray, beta: Any) -> None:
        self.n_features_in_ = X.shape[1]
        self.model_ = model
        self.history_ = fit(
            model,
            X,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            beta=beta,
            cosine_lr=self.cosine_lr,
            grad_clip=self.grad_clip,
            patience=self.patience,
            val_fraction=self.val_fraction,
            device=self._device(),
            seed=self.random_state,
            progress=self.progress,
            desc=type(self).__name__,
        )

    @torch.no_grad()
    def _apply(self, fn: Any, X: np.ndarray, batch_size: int = 8192) -> Any:
        self.model_.eval()
        dev = next(self.model_.parameters()).device
        outs = [fn(torch.from_numpy(X[i : i + batch_size]).to(dev)) for i in range(0, len(X), batch_size)]
        if isinstance(outs[0], tuple):
            return tuple(torch.cat(parts).cpu().numpy() for parts in zip(*outs))
        return torch.cat(outs).cpu().numpy()


class AutoencoderEmbedder(TransformerMixin, _TorchEstimator):
    """Learn a low-dimensional embedding with an MLP :class:`~course_lib.models.Autoencoder`.

    Parameters
    ----------
    latent_dim : int, default 10
    hidden_dims : sequence of int, default (64, 32)
    activation : str or None, default "relu"
        ``None`` gives a linear autoencoder (which can only match PCA).
    epochs, batch_size, lr, weight_decay, cosine_lr, grad_clip, patience, val_fraction
        Passed to :func:`course_lib.train.fit`.
    device : str, optional
    random_state : int, default 0
        Seeds the weights, the shuffling and so the whole fit.
    progress : bool, default False

    Attributes
    ----------
    model_ : Autoencoder
    history_ : History
    n_features_in_ : int
    """

    def __init__(
        self,
        latent_dim: int = 10,
        hidden_dims: Sequence[int] = (64, 32),
        activation: str | None = "relu",
        *,
        epochs: int = 100,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        cosine_lr: bool = False,
        grad_clip: float | None = None,
        patience: int | None = None,
        val_fraction: float = 0.0,
        device: str | None = None,
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.cosine_lr = cosine_lr
        self.grad_clip = grad_clip
        self.patience = patience
        self.val_fraction = val_fraction
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def fit(self, X: Any, y: Any = None) -> AutoencoderEmbedder:
        """Train on ``X`` of shape (n_samples, n_features); ``y`` is ignored."""
        X = self._check_X(X, fitting=True)
        torch.manual_seed(self.random_state)
        model = Autoencoder(X.shape[1], self.latent_dim, self.hidden_dims, self.activation)
        self._fit_model(model, X, beta=0.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Codes of ``X``, shape (n_samples, latent_dim)."""
        X = self._check_X(X)
        return self._apply(self.model_.encode, X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode codes of shape (n_samples, latent_dim) back to (n_samples, n_features)."""
        check_is_fitted(self, "model_")
        Z = as_2d_float(Z, "Z")
        if Z.shape[1] != self.latent_dim:
            raise ValueError(f"Z has {Z.shape[1]} columns but latent_dim={self.latent_dim}.")
        return self._apply(self.model_.decode, Z)


class VAEFactorModel(TransformerMixin, _TorchEstimator):
    """A VAE used as a (non-linear) factor model, with PCA's interface.

    ``transform`` returns the posterior means (the factors), ``inverse_transform``
    decodes factors to returns. The KL weight rises linearly from 0 to ``beta``
    over ``warmup_epochs`` (KL annealing).

    Parameters
    ----------
    n_components : int, default 5
        Latent dimension, named as in PCA.
    hidden_dims : sequence of int, default (64, 32)
    activation : str or None, default "leaky_relu"
    batch_norm : bool, default True
    beta : float, default 0.1
        Final KL weight.
    warmup_epochs : int, default 50
    epochs, batch_size, lr, weight_decay, cosine_lr, grad_clip, patience, val_fraction, device, random_state, progress
        As in :class:`AutoencoderEmbedder`.

    Attributes
    ----------
    model_ : VAE
    history_ : History
    """

    def __init__(
        self,
        n_components: int = 5,
        hidden_dims: Sequence[int] = (64, 32),
        activation: str | None = "leaky_relu",
        *,
        batch_norm: bool = True,
        beta: float = 0.1,
        warmup_epochs: int = 50,
        epochs: int = 100,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        cosine_lr: bool = True,
        grad_clip: float | None = 1.0,
        patience: int | None = None,
        val_fraction: float = 0.0,
        device: str | None = None,
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.n_components = n_components
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.batch_norm = batch_norm
        self.beta = beta
        self.warmup_epochs = warmup_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.cosine_lr = cosine_lr
        self.grad_clip = grad_clip
        self.patience = patience
        self.val_fraction = val_fraction
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def fit(self, X: Any, y: Any = None) -> VAEFactorModel:
        """Train on ``X`` of shape (n_samples, n_features); ``y`` is ignored."""
        X = self._check_X(X, fitting=True)
        torch.manual_seed(self.random_state)
        model = VAE(X.shape[1], self.n_components, self.hidden_dims, self.activation, batch_norm=self.batch_norm)
        self._fit_model(model, X, beta=linear_anneal(self.beta, self.warmup_epochs))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Posterior means, shape (n_samples, n_components)."""
        X = self._check_X(X)
        return self._apply(lambda x: self.model_.encode(x)[0], X)

    def posterior(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mu, std)``, each of shape (n_samples, n_components)."""
        X = self._check_X(X)
        mu, logvar = self._apply(self.model_.encode, X)
        return mu, np.exp(0.5 * logvar)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode factors of shape (n_samples, n_components) to (n_samples, n_features)."""
        check_is_fitted(self, "model_")
        Z = as_2d_float(Z, "Z")
        if Z.shape[1] != self.n_components:
            raise ValueError(f"Z has {Z.shape[1]} columns but n_components={self.n_components}.")
        return self._apply(self.model_.decode, Z)

    def sample(self, n: int, random_state: int | None = None) -> np.ndarray:
        """Decode ``n`` draws from the prior: new scenarios, shape (n, n_features)."""
        check_is_fitted(self, "model_")
        gen = torch.Generator().manual_seed(random_state) if random_state is not None else None
        return self.model_.sample(n, generator=gen).cpu().numpy()


class VAEAnomalyDetector(OutlierMixin, _TorchEstimator):
    r"""Anomaly detection with a VAE, in scikit-learn's outlier-detector style.

    The anomaly score of a row is :math:`\text{recon}(x) + w\,\mathrm{KL}(q(z\mid x)\,\|\,p(z))`
    with :math:`z = \mu(x)` for the reconstruction and ``w = kl_weight``.
    As in scikit-learn, ``score_samples`` is the *negative* anomaly score
    (lower is more abnormal); ``decision_function`` subtracts ``offset_`` so
    that negative values are outliers; ``predict`` returns -1 for outliers and
    1 for inliers.

    **Which rows set the threshold.** With ``val_fraction > 0`` the last
    ``val_fraction`` of the rows passed to ``fit`` are held out of training (they
    only monitor the validation loss, and steer early stopping if ``patience``
    is set), and ``offset_`` is minus the split-conformal quantile of *their*
    scores (:func:`course_lib.anomalies.conformal_threshold`): a new normal row
    exchangeable with them is flagged with probability close to ``contamination``
    (at most ``contamination``, at least ``contamination - 1/(n_val + 1)``).
    With ``val_fraction = 0`` (the default) the threshold is the
    ``1 - contamination`` quantile of the scores of the training rows
    themselves; those scores are optimistic (the network was fitted to those
    rows), so new normal rows are flagged more often than ``contamination``.
    ``threshold_rows_`` records which rule was used. No test row ever takes part.

    Parameters
    ----------
    latent_dim : int, default 5
    hidden_dims : sequence of int, default (64, 32)
    activation : str or None, default "leaky_relu"
    beta : float, default 1.0
        KL weight in training (annealed from 0 over ``warmup_epochs``).
    kl_weight : float, default 0.1
        KL weight in the anomaly score.
    contamination : float, default 0.05
        Expected share of outliers; sets the threshold.
    val_fraction : float, default 0.0
        Share of the rows passed to ``fit`` (the last ones) held out of training;
        when positive, the threshold is calibrated on them (see above).
    Other parameters as in :class:`VAEFactorModel`.

    Attributes
    ----------
    offset_ : float
        Minus the anomaly-score threshold.
    threshold_rows_ : {"validation", "training"}
        The rows whose scores set ``offset_``.
    """

    def __init__(
        self,
        latent_dim: int = 5,
        hidden_dims: Sequence[int] = (64, 32),
        activation: str | None = "leaky_relu",
        *,
        beta: float = 1.0,
        kl_weight: float = 0.1,
        contamination: float = 0.05,
        warmup_epochs: int = 20,
        epochs: int = 60,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        cosine_lr: bool = False,
        grad_clip: float | None = 1.0,
        patience: int | None = None,
        val_fraction: float = 0.0,
        device: str | None = None,
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.beta = beta
        self.kl_weight = kl_weight
        self.contamination = contamination
        self.warmup_epochs = warmup_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.cosine_lr = cosine_lr
        self.grad_clip = grad_clip
        self.patience = patience
        self.val_fraction = val_fraction
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def fit(self, X: Any, y: Any = None) -> VAEAnomalyDetector:
        """Train on (mostly normal) ``X`` of shape (n_samples, n_features) and set ``offset_``."""
        if not 0 < self.contamination < 0.5:
            raise ValueError(f"contamination must lie in (0, 0.5), got {self.contamination}.")
        X = self._check_X(X, fitting=True)
        torch.manual_seed(self.random_state)
        model = VAE(X.shape[1], self.latent_dim, self.hidden_dims, self.activation)
        self._fit_model(model, X, beta=linear_anneal(self.beta, self.warmup_epochs))
        n_val = max(1, int(round(len(X) * self.val_fraction))) if self.val_fraction > 0 else 0  # the rows train.fit held out
        if n_val:  # split-conformal: the ceil((n + 1)(1 - c))-th smallest held-out score
            s = np.sort(self.anomaly_score(X[-n_val:]))
            k = int(np.ceil((n_val + 1) * (1.0 - self.contamination)))
            self.offset_ = -float(s[k - 1]) if k <= n_val else -float("inf")
            self.threshold_rows_ = "validation"
        else:
            self.offset_ = -float(np.quantile(self.anomaly_score(X), 1.0 - self.contamination))
            self.threshold_rows_ = "training"
        return self

    def score_parts(self, X: Any) -> dict[str, np.ndarray]:
        """The two parts of the anomaly score: ``{"recon": (n,), "kl": (n,)}``."""
        X = self._check_X(X)

        def parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            mu, logvar = self.model_.encode(x)
            return gaussian_nll(self.model_.decode(mu), x), kl_normal(mu, logvar)

        rec, kl = self._apply(parts, X)
        return {"recon": rec, "kl": kl}

    def anomaly_score(self, X: Any) -> np.ndarray:
        """``recon + kl_weight * kl`` per row, shape (n_samples,); higher is more anomalous."""
        p = self.score_parts(X)
        return p["recon"] + self.kl_weight * p["kl"]

    def score_samples(self, X: Any) -> np.ndarray:
        """Negative anomaly score, shape (n_samples,); lower is more abnormal (scikit-learn convention)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, shape (n_samples,)."""
        check_is_fitted(self, "offset_")
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """-1 for outliers, 1 for inliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) < 0, -1, 1)
