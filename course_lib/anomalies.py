r"""Anomalies with known answers, their evaluation, simple baselines, and latent-space augmentation.

Injecting anomalies
    :func:`inject_anomalies` plants labelled anomalies of four kinds into
    held-out days of (standardised) returns, so every detector can be scored
    against a known truth:

    ``"jump"``
        one stock moves by :math:`\pm a_{\text{jump}}` standard deviations
        (an earnings surprise, a fat-finger trade);
    ``"sector"``
        every stock of one sector moves by :math:`\pm a_{\text{sector}}` (a
        sector-wide shock: a regulation, an oil-price jump);
    ``"correlation_break"``
        the stocks of a random half of the sectors rise by
        :math:`a_{\text{break}}` while the others fall by as much: the usual
        co-movement inverts;
    ``"vol_burst"``
        the whole day is multiplied by :math:`m` (a volatility burst).

Evaluating
    :func:`detection_table` gives ROC-AUC, PR-AUC (average precision) and
    precision at :math:`k` (:func:`precision_at_k`) for each method and each
    kind of anomaly, the normal days being the negatives.

Baselines
    In scikit-learn's outlier-detector style (``fit``, ``score_samples``: lower
    is more abnormal, ``decision_function``, ``predict``: -1 for outliers):
    :class:`MahalanobisDetector` (shrunk covariance) and
    :class:`PCAReconstructionDetector`; use them beside
    ``sklearn.ensemble.IsolationForest`` and
    :class:`course_lib.estimators.VAEAnomalyDetector`.

Latent space
    :func:`interpolate_latent` (a straight path between two codes),
    :func:`sample_near_encoding` (codes drawn near a posterior with a reduced
    noise scale), :func:`augment_near_encodings` (decoded samples near the
    encodings of given rows), :func:`jitter_augment` (the plain noise
    baseline), :func:`vae_scenarios` (prior draws, decoded) and the two
    pieces they share, :func:`encode`, :func:`decode` and :func:`residual_std` (the decoder
    returns a mean; generating needs the residual noise added back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.utils.validation import check_is_fitted

from ._validation import as_2d_float

#: The kinds of anomaly :func:`inject_anomalies` can plant, in table order.
ANOMALY_KINDS: tuple[str, ...] = ("jump", "sector", "correlation_break", "vol_burst")
NORMAL = "normal"


@dataclass
class InjectedAnomalies:
    """The output of :func:`inject_anomalies`.

    Attributes
    ----------
    X : numpy.ndarray
        Shape (n_days, n_assets): the days, with anomalies planted in some rows.
    kind : numpy.ndarray
        Shape (n_days,), dtype object: ``"normal"`` or the kind of anomaly of each row.
    detail : list of str
        One line per anomalous row: what was done to it (row index first).
    """

    X: np.ndarray
    kind: np.ndarray
    detail: list[str]

    @property
    def is_anomaly(self) -> np.ndarray:
        """Boolean label of each row, shape (n_days,)."""
        return self.kind != NORMAL


def inject_anomalies(
    X: Any,
    groups: Any,
    *,
    kinds: Sequence[str] = ANOMALY_KINDS,
    n_per_kind: int = 20,
    jump_size: float = 6.0,
    sector_size: float = 2.5,
    break_size: float = 1.5,
    vol_multiplier: float = 3.0,
    seed: int = 0,
) -> InjectedAnomalies:
    r"""Plant ``n_per_kind`` labelled anomalies of each kind into distinct rows of ``X``.

    Sizes are in units of each column's standard deviation, so pass returns
    standardised with a scaler fitted on the *training* days (then one unit is
    one training-period standard deviation of that stock). Each anomalous row
    gets exactly one kind; the other rows are returned unchanged.

    Parameters
    ----------
    X : array-like, shape (n_days, n_assets)
        Held-out days (never the training days: a detector must not have seen them).
    groups : array-like, shape (n_assets,)
        Sector label of each asset (at least 2 distinct sectors).
    kinds : sequence of str
        A subset of :data:`ANOMALY_KINDS`.
    n_per_kind : int, default 20
        Rows per kind; ``len(kinds) * n_per_kind`` must not exceed ``n_days``.
    jump_size, sector_size, break_size, vol_multiplier : float
        :math:`a_{\text{jump}}`, :math:`a_{\text{sector}}`, :math:`a_{\text{break}}`, :math:`m`.
    seed : int
        Seeds the rows, the assets, the sectors and the signs.

    Returns
    -------
    InjectedAnomalies
    """
    as_2d_float(X, "X")  # checks shape and finiteness
    A = np.array(X, dtype=np.float64)  # a float64 copy: the clean rows come back unchanged
    g = np.asarray(groups)
    if g.ndim != 1 or len(g) != A.shape[1]:
        raise ValueError(f"groups must have one sector label per column of X ({A.shape[1]}), got shape {g.shape}.")
    sectors = pd.unique(g)
    if len(sectors) < 2:
        raise ValueError("groups must hold at least 2 distinct sectors (a sector shock and a correlation break need them).")
    unknown = [k for k in kinds if k not in ANOMALY_KINDS]
    if unknown or len(kinds) == 0:
        raise ValueError(f"kinds must be a non-empty subset of {ANOMALY_KINDS}; got {list(kinds)}.")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds lists a kind twice: {list(kinds)}.")
    if not isinstance(n_per_kind, (int, np.integer)) or n_per_kind < 1:
        raise ValueError(f"n_per_kind must be a positive integer, got {n_per_kind!r}.")
    n_needed = len(kinds) * n_per_kind
    if n_needed > len(A):
        raise ValueError(
            f"X has {len(A)} rows but {len(kinds)} kinds x {n_per_kind} anomalies need {n_needed}: lower n_per_kind."
        )
    for name, val in (("jump_size", jump_size), ("sector_size", sector_size), ("break_size", break_size)):
        if not np.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a positive number, got {val}.")
    if not np.isfinite(vol_multiplier) or vol_multiplier <= 1:
        raise ValueError(f"vol_multiplier must exceed 1 (a burst makes the day more volatile), got {vol_multiplier}.")

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(A), size=n_needed, replace=False)
    kind = np.full(len(A), NORMAL, dtype=object)
    detail: list[str] = []
    for j, k in enumerate(kinds):
        for r in rows[j * n_per_kind : (j + 1) * n_per_kind]:
            sign = rng.choice((-1.0, 1.0))
            if k == "jump":
                i = int(rng.integers(A.shape[1]))
                A[r, i] += sign * jump_size
                what = f"column {i} {sign * jump_size:+.1f} sd"
            elif k == "sector":
                s = sectors[rng.integers(len(sectors))]
                A[r, g == s] += sign * sector_size
                what = f"sector {s!r} {sign * sector_size:+.1f} sd"
            elif k == "correlation_break":
                up = rng.permutation(sectors)[: len(sectors) // 2]
                A[r] += np.where(np.isin(g, up), break_size, -break_size)
                what = f"sectors {sorted(map(str, up))} up {break_size:.1f} sd, the others down"
            else:
                A[r] *= vol_multiplier
                what = f"volatility x{vol_multiplier:g}"
            kind[r] = k
            detail.append(f"row {int(r)}: {k}: {what}")
    return InjectedAnomalies(A, kind, detail)


def precision_at_k(scores: Any, labels: Any, k: int) -> float:
    """Share of true anomalies among the ``k`` rows with the highest anomaly scores.

    Parameters
    ----------
    scores : array-like, shape (n,)
        Higher means more anomalous.
    labels : array-like, shape (n,)
        1 (or True) for an anomaly, 0 for a normal row.
    k : int
        1 <= k <= n.

    Returns
    -------
    float
        In [0, 1]. Ties at the cut-off are broken by row order (stable sort).
    """
    s, y = _scores_labels(scores, labels)
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= len(s):
        raise ValueError(f"k must be an integer between 1 and n={len(s)}, got {k!r}.")
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean())


def _scores_labels(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 1 or y.shape != s.shape:
        raise ValueError(f"scores and labels must be 1-D of the same length; got shapes {s.shape} and {y.shape}.")
    if len(s) == 0:
        raise ValueError("scores is empty: score at least one row.")
    if not np.isfinite(s).all():
        raise ValueError("scores hold NaN or inf: check the detector's input for NaN before scoring.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be binary: 1 (True) for an anomaly, 0 (False) for a normal row.")
    return s, y.astype(int)


def detection_table(scores: Mapping[str, Any], kind: Any, *, include_all: bool = True) -> pd.DataFrame:
    """ROC-AUC, PR-AUC and precision at k of each method on each kind of anomaly.

    For a kind, the rows are all normal rows plus the anomalies of that kind,
    and ``k`` is the number of those anomalies (so precision at k equals
    recall at k, and a perfect ranking scores 1).

    Parameters
    ----------
    scores : mapping str -> array-like of shape (n,)
        Anomaly scores of each method on the same rows (higher: more anomalous).
    kind : array-like, shape (n,)
        ``"normal"`` or the kind of each row, as ``InjectedAnomalies.kind``.
    include_all : bool, default True
        Add a kind ``"all"`` pooling every anomaly.

    Returns
    -------
    pandas.DataFrame
        Index (kind, method); columns ``roc_auc``, ``pr_auc``, ``precision_at_k``
        and ``n_anomalies``. The share of anomalies (the PR-AUC of a random
        ranking) is in ``base_rate``.
    """
    kind = np.asarray(kind, dtype=object)
    if kind.ndim != 1:
        raise ValueError(f"kind must be 1-D, got shape {kind.shape}.")
    if not scores:
        raise ValueError("scores is empty: pass at least one method, e.g. {'VAE': vae_scores}.")
    normal = kind == NORMAL
    if normal.all() or not normal.any():
        raise ValueError("kind needs both normal rows and anomalies to evaluate a detector.")
    found = [k for k in pd.unique(kind) if k != NORMAL]
    order = [k for k in ANOMALY_KINDS if k in found] + [k for k in found if k not in ANOMALY_KINDS]
    if include_all and len(order) > 1:
        order.append("all")
    rows = []
    for k in order:
        mask = normal | (kind == k) if k != "all" else np.ones(len(kind), dtype=bool)
        y = (~normal[mask]).astype(int)
        for method, sc in scores.items():
            s, _ = _scores_labels(sc, (~normal).astype(int))
            sm = s[mask]
            rows.append(
                {
                    "kind": k,
                    "method": method,
                    "roc_auc": roc_auc_score(y, sm),
                    "pr_auc": average_precision_score(y, sm),
                    "precision_at_k": precision_at_k(sm, y, int(y.sum())),
                    "n_anomalies": int(y.sum()),
                    "base_rate": float(y.mean()),
                }
            )
    return pd.DataFrame(rows).set_index(["kind", "method"])


# Baseline detectors ---------------------------------------------------------
class _ThresholdDetector(OutlierMixin, BaseEstimator):
    """Shared sklearn-style plumbing: ``anomaly_score`` defines the rest."""

    contamination: float
    n_features_in_: int

    def _check(self, X: Any, *, fitting: bool = False) -> np.ndarray:
        arr = as_2d_float(X, "X", min_rows=2 if fitting else 1).astype(np.float64)
        if not fitting:
            check_is_fitted(self, "offset_")
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {arr.shape[1]} features, but this detector was fitted with {self.n_features_in_}.")
        return arr

    def _set_offset(self, X: np.ndarray) -> None:
        if not 0 < self.contamination < 0.5:
            raise ValueError(f"contamination must lie in (0, 0.5), got {self.contamination}.")
        self.offset_ = -float(np.quantile(self._score(X), 1.0 - self.contamination))

    def _score(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def anomaly_score(self, X: Any) -> np.ndarray:
        """Anomaly score per row, shape (n_samples,); higher is more anomalous."""
        return self._score(self._check(X))

    def score_samples(self, X: Any) -> np.ndarray:
        """Negative anomaly score, shape (n_samples,); lower is more abnormal (scikit-learn convention)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, shape (n_samples,)."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """-1 for outliers, 1 for inliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) < 0, -1, 1)


class MahalanobisDetector(_ThresholdDetector):
    r"""Squared Mahalanobis distance to the training mean, with a Ledoit-Wolf shrunk covariance.

    .. math:: d^2(x) = (x - \bar x)^\top \hat\Sigma_{\text{LW}}^{-1} (x - \bar x)

    Shrinkage keeps :math:`\hat\Sigma` well conditioned when there are few
    days per asset. ``offset_`` is the ``1 - contamination`` quantile of the
    training distances (negated), as in :class:`~course_lib.estimators.VAEAnomalyDetector`.

    Parameters
    ----------
    contamination : float, default 0.05

    Attributes
    ----------
    location_ : ndarray, shape (n_features,)
    precision_ : ndarray, shape (n_features, n_features)
    shrinkage_ : float
    offset_ : float
    """

    def __init__(self, contamination: float = 0.05) -> None:
        self.contamination = contamination

    def fit(self, X: Any, y: Any = None) -> MahalanobisDetector:
        """Fit on (mostly normal) ``X`` of shape (n_samples, n_features); ``y`` is ignored."""
        A = self._check(X, fitting=True)
        lw = LedoitWolf().fit(A)
        self.n_features_in_ = A.shape[1]
        self.location_, self.precision_, self.shrinkage_ = lw.location_, lw.precision_, float(lw.shrinkage_)
        self._set_offset(A)
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        D = X - self.location_
        return np.einsum("ij,jk,ik->i", D, self.precision_, D)


class PCAReconstructionDetector(_ThresholdDetector):
    r"""Squared PCA reconstruction error, :math:`\tfrac12\lVert x - \hat x_{\text{PCA}}\rVert^2`, as an anomaly score.

    The linear counterpart of a VAE's reconstruction score (a linear VAE is
    probabilistic PCA), on the same half-squared-error scale.

    Parameters
    ----------
    n_components : int, default 5
    contamination : float, default 0.05

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
    offset_ : float
    """

    def __init__(self, n_components: int = 5, contamination: float = 0.05) -> None:
        self.n_components = n_components
        self.contamination = contamination

    def fit(self, X: Any, y: Any = None) -> PCAReconstructionDetector:
        """Fit on (mostly normal) ``X`` of shape (n_samples, n_features); ``y`` is ignored."""
        A = self._check(X, fitting=True)
        if not isinstance(self.n_components, (int, np.integer)) or not 1 <= self.n_components < A.shape[1]:
            raise ValueError(f"n_components must be an integer in [1, n_features={A.shape[1]}), got {self.n_components!r}.")
        self.n_features_in_ = A.shape[1]
        self.pca_ = PCA(self.n_components).fit(A)
        self._set_offset(A)
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        R = X - self.pca_.inverse_transform(self.pca_.transform(X))
        return 0.5 * (R**2).sum(axis=1)


# Latent space -----------------------------------------------------------------
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
    a = np.asarray(z_start, dtype=np.float64)
    b = np.asarray(z_end, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"z_start and z_end must be 1-D codes of the same length; got shapes {a.shape} and {b.shape}.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("z_start or z_end holds NaN or inf: encode finite rows.")
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}.")
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
    M = as_2d_float(mu, "mu").astype(np.float64)
    LV = as_2d_float(logvar, "logvar").astype(np.float64)
    if M.shape != LV.shape:
        raise ValueError(f"mu and logvar must have the same shape; got {M.shape} and {LV.shape}.")
    if not isinstance(n_per_row, (int, np.integer)) or n_per_row < 1:
        raise ValueError(f"n_per_row must be a positive integer, got {n_per_row!r}.")
    if not np.isfinite(noise_scale) or noise_scale < 0:
        raise ValueError(f"noise_scale must be >= 0, got {noise_scale}.")
    rng = np.random.default_rng(seed)
    std = np.exp(0.5 * LV)
    eps = rng.standard_normal((len(M), n_per_row, M.shape[1]))
    return (M[:, None, :] + noise_scale * std[:, None, :] * eps).reshape(-1, M.shape[1])


def _check_vae(model: Any, n_features: int | None = None) -> torch.device:
    if not (hasattr(model, "encode") and hasattr(model, "decode") and hasattr(model, "latent_dim")):
        raise ValueError("model must be a course_lib VAE with encode and decode (e.g. VAEAnomalyDetector().fit(X).model_).")
    if n_features is not None and n_features != getattr(model, "input_dim", n_features):
        raise ValueError(f"X has {n_features} features but the model expects {model.input_dim}.")
    return next(model.parameters()).device


def _noise_std(residual_std: Any, n_features: int) -> np.ndarray | None:
    if residual_std is None:
        return None
    r = np.broadcast_to(np.asarray(residual_std, dtype=np.float64), (n_features,)) if np.ndim(residual_std) <= 1 else None
    if r is None or not np.isfinite(r).all() or (r < 0).any():
        raise ValueError(
            f"residual_std must be a number or one non-negative value per feature ({n_features}), got {residual_std!r}."
        )
    return r


@torch.no_grad()
def encode(model: torch.nn.Module, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Posterior ``(mu, logvar)`` of the rows of ``X`` under a VAE, as NumPy arrays.

    Parameters
    ----------
    model : course_lib.models.VAE
        For example an estimator's ``model_``.
    X : array-like, shape (n_samples, n_features)
        Scaled as the model's training data.

    Returns
    -------
    (mu, logvar) : tuple of numpy.ndarray
        Each of shape (n_samples, latent_dim).
    """
    A = as_2d_float(X, "X")
    dev = _check_vae(model, A.shape[1])
    was_training = model.training
    model.eval()
    mu, logvar = model.encode(torch.from_numpy(A).to(dev))
    model.train(was_training)
    return mu.cpu().numpy().astype(np.float64), logvar.cpu().numpy().astype(np.float64)


@torch.no_grad()
def residual_std(model: torch.nn.Module, X: Any) -> np.ndarray:
    r"""Per-feature standard deviation of the reconstruction residual :math:`x - d(\mu(x))`.

    The decoder returns a *mean*; real days scatter around it. This is the
    scale of that scatter (estimate it on the training days), for
    :func:`decode` to add back when it generates.

    Parameters
    ----------
    model : course_lib.models.VAE
    X : array-like, shape (n_samples, n_features)

    Returns
    -------
    numpy.ndarray
        Shape (n_features,).
    """
    A = as_2d_float(X, "X", min_rows=2)
    dev = _check_vae(model, A.shape[1])
    was_training = model.training
    model.eval()
    xt = torch.from_numpy(A).to(dev)
    rec = model.decode(model.encode(xt)[0])
    model.train(was_training)
    return (xt - rec).double().std(dim=0).cpu().numpy()


@torch.no_grad()
def decode(model: torch.nn.Module, Z: Any, *, residual_std: Any = None, seed: int = 0) -> np.ndarray:
    r"""Decode codes to rows, optionally adding Gaussian noise of per-feature scale ``residual_std``.

    Without noise this is the decoder mean :math:`d(z)` (smoother than any
    real day); with it, :math:`x = d(z) + r \odot \epsilon`, a draw from the
    generative model with the residual scale measured by :func:`residual_std`.

    Parameters
    ----------
    model : course_lib.models.VAE
    Z : array-like, shape (n, latent_dim)
    residual_std : float or array-like of shape (n_features,), optional
    seed : int
        Seeds the noise.

    Returns
    -------
    numpy.ndarray
        Shape (n, n_features).
    """
    dev = _check_vae(model)
    Zc = as_2d_float(Z, "Z")
    if Zc.shape[1] != model.latent_dim:
        raise ValueError(f"Z has {Zc.shape[1]} columns but the model's latent_dim is {model.latent_dim}.")
    was_training = model.training
    model.eval()
    out = model.decode(torch.from_numpy(Zc).to(dev)).cpu().numpy().astype(np.float64)
    model.train(was_training)
    r = _noise_std(residual_std, out.shape[1])
    if r is not None:
        out = out + np.random.default_rng(seed).standard_normal(out.shape) * r
    return out


def vae_scenarios(model: torch.nn.Module, n: int, *, residual_std: Any = None, seed: int = 0) -> np.ndarray:
    r"""``n`` scenarios from a VAE: prior draws :math:`z \sim \mathcal N(0, I)` decoded by :func:`decode`.

    Returns
    -------
    numpy.ndarray
        Shape (n, n_features), in the scale of the model's training data.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    _check_vae(model)
    Z = np.random.default_rng(seed).standard_normal((n, model.latent_dim))
    return decode(model, Z, residual_std=residual_std, seed=seed + 1)


@torch.no_grad()
def augment_near_encodings(
    model: torch.nn.Module,
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
    model : course_lib.models.VAE
        A trained VAE (``encode`` returns ``(mu, logvar)``, ``decode`` maps codes to rows);
        an estimator's ``model_`` works.
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
    mu, logvar = encode(model, X)
    Z = sample_near_encoding(mu, logvar, n_per_row, noise_scale=noise_scale, seed=seed)
    return decode(model, Z, residual_std=residual_std, seed=seed + 1)


def jitter_augment(X: Any, n_per_row: int = 10, *, noise_scale: float = 0.5, seed: int = 0) -> np.ndarray:
    r"""The plain augmentation baseline: copies of each row plus Gaussian noise, :math:`x + s\,\epsilon`.

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
    if not isinstance(n_per_row, (int, np.integer)) or n_per_row < 1:
        raise ValueError(f"n_per_row must be a positive integer, got {n_per_row!r}.")
    if not np.isfinite(noise_scale) or noise_scale < 0:
        raise ValueError(f"noise_scale must be >= 0, got {noise_scale}.")
    rng = np.random.default_rng(seed)
    return (A[:, None, :] + noise_scale * rng.standard_normal((len(A), n_per_row, A.shape[1]))).reshape(-1, A.shape[1])
