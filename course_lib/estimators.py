"""scikit-learn-style wrappers, used exactly where PCA, K-means or Isolation Forest are.

- :class:`AutoencoderEmbedder`: ``fit`` / ``transform`` (codes) / ``inverse_transform``.
- :class:`VAEFactorModel`: the same interface as ``sklearn.decomposition.PCA``
  (``n_components``), with posterior means as factors and ``sample``.
- :class:`VAEAnomalyDetector`: an outlier detector in the style of
  ``IsolationForest`` (``score_samples``: lower is more abnormal; ``predict``:
  -1 for outliers, 1 for inliers).

All three clone, take ``random_state`` and work inside a ``Pipeline``. They
pass scikit-learn's own estimator checks (see ``EXPECTED_FAILED_CHECKS`` for
any exception and its reason): inputs go through ``validate_data``, so a wrong
number of features, complex, object, sparse, empty or one-row input gets
scikit-learn's messages, and a DataFrame's columns are checked by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._runtime import get_device, isolated_rng, seed_from_random_state
from ._validation import InputTypeError, as_2d_float, check_nonnegative_int, check_positive_int, check_real
from .losses import Schedule, gaussian_nll, kl_normal, linear_anneal
from .models import VAE, Autoencoder
from .train import History, fit

__all__ = ["AutoencoderEmbedder", "VAEFactorModel", "VAEAnomalyDetector"]

#: scikit-learn checks (``sklearn.utils.estimator_checks``) these estimators do not pass, with the reason.
#: Passed to ``parametrize_with_checks(expected_failed_checks=...)`` in the tests; empty when all pass.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


class _TorchEstimator(BaseEstimator):
    """Shared plumbing: input checks, seeding, device, batched inference."""

    model_: torch.nn.Module
    history_: History
    n_features_in_: int

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # dense only: a sparse X gets scikit-learn's "Sparse data was passed" TypeError
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False  # repeatable for an integer random_state (on the CPU)
        return tags

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` through scikit-learn's ``validate_data`` (features counted and named), as float32 or float64.

        The torch model computes in float32; outputs come back in the input's dtype (float64 unless float32).
        """
        if not reset:
            check_is_fitted(self)
        if getattr(X, "dtype", None) is not None and np.dtype(X.dtype).kind in "USV":
            raise InputTypeError(f"X holds text (dtype {X.dtype}); pass numbers, e.g. after pd.to_numeric.")
        try:
            arr = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64], ensure_min_samples=2 if reset else 1)
        except (TypeError, ValueError) as exc:  # scikit-learn's message, with the argument named
            msg = str(exc)
            if re.search(r"\bX\b", msg):
                raise
            raise type(exc)(f"X: {msg}") from None
        if not np.isfinite(np.asarray(arr, dtype=np.float32)).all():
            raise ValueError("X holds values too large for float32 (|x| > 3.4e38); rescale X, e.g. with StandardScaler.")
        return arr

    def _check_hidden(self) -> list[int]:
        try:
            return [check_positive_int(h, "hidden_dims[i]") for h in self.hidden_dims]
        except TypeError:
            raise InputTypeError(f"hidden_dims must be a sequence of positive integers, got {self.hidden_dims!r}.") from None

    def _device(self) -> torch.device:
        return torch.device(self.device) if self.device is not None else get_device()

    def _fit_model(self, X: np.ndarray, build: Callable[[int], torch.nn.Module], beta: float | Schedule) -> None:
        """Build (``build(n_features)``) and train the model with the seed from ``random_state``.

        The caller's global random state is left untouched (see :func:`course_lib.isolated_rng`).
        """
        seed = seed_from_random_state(self.random_state)
        with isolated_rng(seed):
            model = build(X.shape[1])
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
                seed=seed,
                progress=self.progress,
                desc=type(self).__name__,
            )
        self.model_ = model

    def _check_codes(self, Z: Any, width: int, what: str) -> np.ndarray:
        check_is_fitted(self)
        Z = as_2d_float(Z, "Z", dtype=np.float32 if getattr(Z, "dtype", None) == np.float32 else np.float64)
        if Z.shape[1] != width:
            raise ValueError(f"Z has {Z.shape[1]} columns but {what}={width}: pass codes from transform.")
        return Z

    @torch.no_grad()
    def _apply(self, fn: Any, X: np.ndarray, batch_size: int = 8192) -> Any:
        self.model_.eval()
        dev = next(self.model_.parameters()).device
        dtype = X.dtype if X.dtype == np.float32 else np.float64
        outs = [fn(torch.tensor(X[i : i + batch_size], dtype=torch.float32, device=dev)) for i in range(0, len(X), batch_size)]
        if isinstance(outs[0], tuple):
            return tuple(torch.cat(parts).cpu().numpy().astype(dtype, copy=False) for parts in zip(*outs))
        return torch.cat(outs).cpu().numpy().astype(dtype, copy=False)


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
    random_state : int, RandomState, Generator or None, default 0
        Seeds the weights, the shuffling and so the whole fit, scikit-learn
        style: an int repeats the fit exactly on the CPU; ``None`` takes a seed
        from NumPy's global generator. The caller's global random state is not
        reseeded (only ``None`` advances NumPy's, as in scikit-learn).
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
        """Train on ``X`` of shape (n_samples >= 2, n_features); ``y`` is ignored."""
        latent, hidden = check_positive_int(self.latent_dim, "latent_dim"), self._check_hidden()
        X = self._validate(X, reset=True)
        self._fit_model(X, lambda d: Autoencoder(d, latent, hidden, self.activation), beta=0.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Codes of ``X``, shape (n_samples, latent_dim), float32; columns matched by name when fitted on a DataFrame."""
        X = self._validate(X, reset=False)
        return self._apply(self.model_.encode, X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode codes of shape (n_samples, latent_dim) back to (n_samples, n_features)."""
        return self._apply(self.model_.decode, self._check_codes(Z, self.latent_dim, "latent_dim"))


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
        """Train on ``X`` of shape (n_samples >= 2, n_features); ``y`` is ignored."""
        latent, hidden = check_positive_int(self.n_components, "n_components"), self._check_hidden()
        beta = check_real(self.beta, "beta", low=0.0)
        warmup = check_nonnegative_int(self.warmup_epochs, "warmup_epochs")
        X = self._validate(X, reset=True)
        self._fit_model(
            X, lambda d: VAE(d, latent, hidden, self.activation, batch_norm=self.batch_norm), beta=linear_anneal(beta, warmup)
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Posterior means, shape (n_samples, n_components), float32."""
        X = self._validate(X, reset=False)
        return self._apply(lambda x: self.model_.encode(x)[0], X)

    def posterior(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mu, std)``, each of shape (n_samples, n_components)."""
        X = self._validate(X, reset=False)
        mu, logvar = self._apply(self.model_.encode, X)
        return mu, np.exp(0.5 * logvar)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode factors of shape (n_samples, n_components) to (n_samples, n_features)."""
        return self._apply(self.model_.decode, self._check_codes(Z, self.n_components, "n_components"))

    def sample(self, n: int, random_state: Any = None) -> np.ndarray:
        """Decode ``n`` draws from the prior: new scenarios, shape (n, n_features).

        ``random_state`` as in scikit-learn: an int repeats the draws (the
        caller's random state is untouched); ``None`` takes a seed from NumPy's
        global generator (so ``set_seed`` makes it repeatable).
        """
        check_is_fitted(self)
        n = check_positive_int(n, "n")
        gen = torch.Generator().manual_seed(seed_from_random_state(random_state))
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
        """Train on (mostly normal) ``X`` of shape (n_samples >= 2, n_features) and set ``offset_``."""
        check_real(self.contamination, "contamination", low=0.0, high=0.5, low_open=True, high_open=True)
        check_real(self.kl_weight, "kl_weight", low=0.0)
        latent, hidden = check_positive_int(self.latent_dim, "latent_dim"), self._check_hidden()
        beta = check_real(self.beta, "beta", low=0.0)
        warmup = check_nonnegative_int(self.warmup_epochs, "warmup_epochs")
        X = self._validate(X, reset=True)
        self._fit_model(X, lambda d: VAE(d, latent, hidden, self.activation), beta=linear_anneal(beta, warmup))
        n_val = max(1, int(round(len(X) * self.val_fraction))) if self.val_fraction > 0 else 0  # the rows train.fit held out
        p = self._parts(X[-n_val:] if n_val else X)
        scores = p["recon"] + self.kl_weight * p["kl"]
        if n_val:  # split-conformal: the ceil((n + 1)(1 - c))-th smallest held-out score
            k = int(np.ceil((n_val + 1) * (1.0 - self.contamination)))
            self.offset_ = -float(np.sort(scores)[k - 1]) if k <= n_val else -float("inf")
            self.threshold_rows_ = "validation"
        else:
            self.offset_ = -float(np.quantile(scores, 1.0 - self.contamination))
            self.threshold_rows_ = "training"
        return self

    def score_parts(self, X: Any) -> dict[str, np.ndarray]:
        """The two parts of the anomaly score: ``{"recon": (n,), "kl": (n,)}``."""
        return self._parts(self._validate(X, reset=False))

    def _parts(self, X: np.ndarray) -> dict[str, np.ndarray]:
        def parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            mu, logvar = self.model_.encode(x)
            return gaussian_nll(self.model_.decode(mu), x), kl_normal(mu, logvar)

        rec, kl = self._apply(parts, X)
        return {"recon": rec.astype(np.float64), "kl": kl.astype(np.float64)}

    def anomaly_score(self, X: Any) -> np.ndarray:
        """``recon + kl_weight * kl`` per row, shape (n_samples,); higher is more anomalous."""
        p = self.score_parts(X)
        return p["recon"] + self.kl_weight * p["kl"]

    def score_samples(self, X: Any) -> np.ndarray:
        """Negative anomaly score, shape (n_samples,); lower is more abnormal (scikit-learn convention)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, shape (n_samples,)."""
        check_is_fitted(self)
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """-1 for outliers, 1 for inliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) < 0, -1, 1)
