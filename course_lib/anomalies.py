r"""Anomalies with known answers, their evaluation, calibrated thresholds, and simple baseline detectors.

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
    kind of anomaly, the normal days being the negatives;
    :func:`bootstrap_detection_table` adds percentile-bootstrap intervals
    (anomalies and normal rows resampled separately);
    :func:`precision_recall_at_rate` scores a fixed alarm rate and
    :func:`binomial_interval` gives the Clopper-Pearson interval of a rate
    (for example a false-positive rate).

Thresholds
    :func:`conformal_threshold` is the split-conformal quantile of scores on
    held-out normal rows: a new exchangeable normal row exceeds it with
    probability at most ``contamination`` (and at least ``contamination - 1/(n+1)``).

Inputs
    :func:`ewma_scale` divides returns by their exponentially weighted
    volatility up to the day before (no look-ahead), so a score measures how
    unusual a day is *for its regime* rather than how volatile the regime is;
    :func:`choose_n_components` picks the number of factors from the data
    (Marchenko-Pastur edge or explained variance), without the simulator's answer.

Baselines
    In scikit-learn's outlier-detector style (``fit``, ``score_samples``: lower
    is more abnormal, ``decision_function``, ``predict``: -1 for outliers;
    ``calibrate`` refits the threshold on held-out rows):
    :class:`MahalanobisDetector` (shrunk covariance) and
    :class:`PCAReconstructionDetector`; use them beside
    ``sklearn.ensemble.IsolationForest`` and
    :class:`course_lib.estimators.VAEAnomalyDetector`.

Latent-space operations (encode, decode, interpolate, sample near an encoding,
scenarios, augmentation) live in :mod:`course_lib.latent`; their old names are
still importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.stats import beta as _beta_dist
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.utils.validation import check_is_fitted

from ._validation import (
    InputTypeError,
    align_columns,
    align_index,
    as_1d_float,
    as_2d_float,
    check_frame,
    check_positive_int,
    check_probability,
    check_real,
    check_seed,
)
from .latent import (  # noqa: F401  (old import paths, kept for the checkers and solutions)
    augment_near_encodings,
    decode,
    encode,
    interpolate_latent,
    jitter_augment,
    residual_std,
    sample_near_encoding,
    vae_scenarios,
)

__all__ = [
    "ANOMALY_KINDS",
    "NORMAL",
    "InjectedAnomalies",
    "MahalanobisDetector",
    "PCAReconstructionDetector",
    "binomial_interval",
    "bootstrap_detection_table",
    "choose_n_components",
    "conformal_threshold",
    "detection_table",
    "ewma_scale",
    "inject_anomalies",
    "precision_at_k",
    "precision_recall_at_rate",
    # re-exported from course_lib.latent
    "augment_near_encodings",
    "decode",
    "encode",
    "interpolate_latent",
    "jitter_augment",
    "residual_std",
    "sample_near_encoding",
    "vae_scenarios",
]

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
    if groups is None or isinstance(groups, (str, bytes, dict, set)):
        raise InputTypeError(f"groups must be an array of sector labels, one per column of X, got {type(groups).__name__}.")
    if isinstance(groups, pd.Series) and isinstance(X, pd.DataFrame) and not groups.index.equals(X.columns):
        if not groups.index.is_unique or set(groups.index) != set(X.columns):
            raise ValueError(
                "groups (a Series) is indexed by other labels than X's columns; "
                "pass groups indexed by X's tickers, e.g. groups.reindex(X.columns) after checking it."
            )
        groups = groups.loc[X.columns]  # matched by ticker, not by position
    g = np.asarray(groups)
    if g.ndim != 1 or len(g) != A.shape[1]:
        raise ValueError(f"groups must have one sector label per column of X ({A.shape[1]}), got shape {g.shape}.")
    if pd.isna(g).any():
        raise ValueError("groups holds a missing sector label (None or NaN); give every column of X a sector.")
    sectors = pd.unique(g)
    if len(sectors) < 2:
        raise ValueError("groups must hold at least 2 distinct sectors (a sector shock and a correlation break need them).")
    unknown = [k for k in kinds if k not in ANOMALY_KINDS]
    if unknown or len(kinds) == 0:
        raise ValueError(f"kinds must be a non-empty subset of {ANOMALY_KINDS}; got {list(kinds)}.")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds lists a kind twice: {list(kinds)}.")
    n_per_kind = check_positive_int(n_per_kind, "n_per_kind")
    n_needed = len(kinds) * n_per_kind
    if n_needed > len(A):
        raise ValueError(
            f"X has {len(A)} rows but {len(kinds)} kinds x {n_per_kind} anomalies need {n_needed}: lower n_per_kind."
        )
    for name, val in (("jump_size", jump_size), ("sector_size", sector_size), ("break_size", break_size)):
        check_real(val, name, low=0.0, low_open=True)
    if check_real(vol_multiplier, "vol_multiplier") <= 1:  # type: ignore[operator]
        raise ValueError(f"vol_multiplier must exceed 1 (a burst makes the day more volatile), got {vol_multiplier}.")
    seed = check_seed(seed)

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
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        check_positive_int(k, "k")  # a float, bool or text: a type error naming k
    if not 1 <= k <= len(s):
        raise ValueError(f"k must be an integer between 1 and n={len(s)}, got {k!r}.")
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean())


def _scores_labels(scores: Any, labels: Any, name: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    if labels is None or isinstance(labels, (str, bytes, dict, set)):
        raise InputTypeError(f"labels must be an array of 0/1 labels, got {type(labels).__name__}.")
    scores, labels = align_index(scores, labels, (name, "labels"))  # pandas objects are paired by label
    s = as_1d_float(scores, name, min_len=0)
    if len(s) == 0:
        raise ValueError(f"{name} is empty: score at least one row.")
    y = np.asarray(labels)
    if y.shape != s.shape:
        raise ValueError(f"{name} and labels must be 1-D of the same length; got shapes {s.shape} and {y.shape}.")
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
    checked, kind = _check_scores_kind(scores, kind)
    if not isinstance(include_all, (bool, np.bool_)):
        raise InputTypeError(f"include_all must be True or False, got {include_all!r}.")
    normal = kind == NORMAL
    found = [k for k in pd.unique(kind) if k != NORMAL]
    order = [k for k in ANOMALY_KINDS if k in found] + [k for k in found if k not in ANOMALY_KINDS]
    if include_all and len(order) > 1:
        order.append("all")
    rows = []
    for k in order:
        mask = normal | (kind == k) if k != "all" else np.ones(len(kind), dtype=bool)
        y = (~normal[mask]).astype(int)
        for method, s in checked.items():
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


def _check_scores_kind(scores: Any, kind: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Validate a mapping of per-method scores and the kind of each row; pandas objects are paired by index label."""
    if not isinstance(scores, Mapping):
        raise InputTypeError(
            f"scores must be a mapping method -> scores, e.g. {{'VAE': vae_scores}}, got {type(scores).__name__}."
        )
    if not scores:
        raise ValueError("scores is empty: pass at least one method, e.g. {'VAE': vae_scores}.")
    if kind is None or isinstance(kind, (str, bytes, dict, set)):
        raise InputTypeError(f"kind must be an array with the kind of each row, got {type(kind).__name__}.")
    k_arr = np.asarray(kind, dtype=object)
    if k_arr.ndim != 1:
        raise ValueError(f"kind must be 1-D, got shape {k_arr.shape}.")
    if pd.isna(k_arr).any():
        raise ValueError("kind holds a missing value (None or NaN); every row needs 'normal' or its kind of anomaly.")
    checked = {}
    for method, sc in scores.items():
        name = f"scores[{method!r}]"
        _, sc = align_index(kind, sc, ("kind", name))  # reordered to kind's index when both are pandas objects
        s = as_1d_float(sc, name)
        if len(s) != len(k_arr):
            raise ValueError(f"{name} and kind must have the same length (the same rows), got {len(s)} and {len(k_arr)}.")
        checked[method] = s
    normal = k_arr == NORMAL
    if normal.all() or not normal.any():
        raise ValueError("kind needs both normal rows and anomalies to evaluate a detector.")
    return checked, k_arr


# Baseline detectors ---------------------------------------------------------
class _ThresholdDetector(OutlierMixin, BaseEstimator):
    """Shared sklearn-style plumbing: ``anomaly_score`` defines the rest."""

    contamination: float
    n_features_in_: int

    def _check(self, X: Any, *, fitting: bool = False) -> np.ndarray:
        if not fitting and isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            X = align_columns(X, pd.Index(self.feature_names_in_), "X", "the training X")  # matched by name
        arr = as_2d_float(X, "X", min_rows=2 if fitting else 1).astype(np.float64)
        if fitting:
            if isinstance(X, pd.DataFrame):
                self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            check_is_fitted(self, "offset_")
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {arr.shape[1]} features, but this detector was fitted with {self.n_features_in_}.")
        return arr

    def _set_offset(self, X: np.ndarray) -> None:
        check_real(self.contamination, "contamination", low=0.0, high=0.5, low_open=True, high_open=True)
        self.offset_ = -float(np.quantile(self._score(X), 1.0 - self.contamination))

    def _score(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def calibrate(self, X: Any) -> _ThresholdDetector:
        """Refit ``offset_`` on held-out normal rows ``X`` (split-conformal, see :func:`conformal_threshold`).

        ``fit`` sets the threshold on the rows it was fitted to, whose scores
        are optimistic; rows the detector has not seen give a threshold whose
        false-positive rate on new normal rows is close to ``contamination``.
        """
        A = self._check(X)
        self.offset_ = -conformal_threshold(self._score(A), self.contamination)
        return self

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
        check_positive_int(self.n_components, "n_components")
        if not self.n_components < A.shape[1]:
            raise ValueError(f"n_components must be an integer in [1, n_features={A.shape[1]}), got {self.n_components!r}.")
        self.n_features_in_ = A.shape[1]
        self.pca_ = PCA(self.n_components, random_state=0).fit(A)  # local seed in case sklearn picks a randomised solver
        self._set_offset(A)
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        R = X - self.pca_.inverse_transform(self.pca_.transform(X))
        return 0.5 * (R**2).sum(axis=1)


# Thresholds and rates ---------------------------------------------------------
def conformal_threshold(scores: Any, contamination: float) -> float:
    r"""Split-conformal threshold: the :math:`\lceil (n+1)(1-c) \rceil`-th smallest of ``n`` held-out scores.

    If the held-out scores and a new normal row's score are exchangeable (the
    held-out rows were not used to train the detector), the new row exceeds
    the threshold with probability at most :math:`c` and, for continuous
    scores, at least :math:`c - 1/(n+1)`. Scores of rows the detector was
    trained on are optimistic (too low), so their quantile flags more new
    rows than nominal.

    Parameters
    ----------
    scores : array-like, shape (n,)
        Anomaly scores (higher: more anomalous) of held-out normal rows.
    contamination : float
        Nominal false-positive rate :math:`c`, in (0, 0.5).

    Returns
    -------
    float
        The threshold; ``inf`` when ``n`` is too small for the rate (``(n+1)(1-c) > n``).
    """
    s = as_1d_float(scores, "scores")
    check_real(contamination, "contamination", low=0.0, high=0.5, low_open=True, high_open=True)
    k = int(np.ceil((len(s) + 1) * (1.0 - contamination)))
    return float("inf") if k > len(s) else float(np.sort(s)[k - 1])


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) interval for a rate observed as ``k`` successes in ``n`` trials.

    Parameters
    ----------
    k, n : int
        0 <= k <= n, n >= 1.
    level : float, default 0.95

    Returns
    -------
    (low, high) : tuple of float
    """
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise InputTypeError(f"need integers 0 <= k <= n and n >= 1, got {name}={v!r} of type {type(v).__name__}.")
    if not (0 <= k <= n and n >= 1):
        raise ValueError(f"need integers 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}.")
    level = check_probability(level, "level")
    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(_beta_dist.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(_beta_dist.ppf(1 - a, k + 1, n - k))
    return low, high


def precision_recall_at_rate(scores: Any, labels: Any, rate: float) -> tuple[float, float]:
    """Precision and recall when the ``ceil(rate * n)`` highest-scored rows are flagged (a fixed alarm rate).

    Parameters
    ----------
    scores : array-like, shape (n,)
        Higher means more anomalous.
    labels : array-like, shape (n,)
        1 (or True) for a positive row.
    rate : float
        Share of rows flagged, in (0, 1].

    Returns
    -------
    (precision, recall) : tuple of float
    """
    s, y = _scores_labels(scores, labels)
    check_real(rate, "rate", low=0.0, high=1.0, low_open=True)
    if y.sum() == 0:
        raise ValueError("labels hold no positive row: recall is undefined.")
    k = max(1, int(np.ceil(rate * len(s))))
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean()), float(y[top].sum() / y.sum())


def _ap_and_pk(S: np.ndarray, Y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Average precision (ties as in scikit-learn) and precision at k of each row of ``S`` (shape (B, n))."""
    order = np.argsort(-S, axis=1, kind="stable")
    s = np.take_along_axis(S, order, axis=1)
    y = np.take_along_axis(Y, order, axis=1).astype(np.float64)
    n = S.shape[1]
    tp = np.cumsum(y, axis=1)
    is_end = np.ones_like(s, dtype=bool)
    is_end[:, :-1] = s[:, :-1] != s[:, 1:]
    end_idx = np.where(is_end, np.arange(n), n)
    end_idx = np.minimum.accumulate(end_idx[:, ::-1], axis=1)[:, ::-1]  # last index of each tie group
    prec_at_end = np.take_along_axis(tp, end_idx, axis=1) / (end_idx + 1)
    ap = (prec_at_end * y).sum(axis=1) / y.sum(axis=1)
    return ap, y[:, :k].mean(axis=1)


def bootstrap_detection_table(
    scores: Mapping[str, Any],
    kind: Any,
    *,
    n_boot: int = 1000,
    level: float = 0.9,
    include_all: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """PR-AUC and precision at k per kind and method, with percentile-bootstrap intervals.

    For each kind the rows are all normal rows plus that kind's anomalies (as in
    :func:`detection_table`); a bootstrap sample redraws the normal rows and the
    anomalies separately with replacement (so each sample keeps the same number
    of anomalies, and ``k`` stays that number). All methods are resampled with
    the same rows, so their intervals are comparable draw by draw.

    Parameters
    ----------
    scores : mapping str -> array-like of shape (n,)
        Anomaly scores of each method on the same rows (higher: more anomalous).
    kind : array-like, shape (n,)
        ``"normal"`` or the kind of each row.
    n_boot : int, default 1000
        Bootstrap samples (at least 100).
    level : float, default 0.9
        Coverage of the percentile intervals.
    include_all : bool, default True
        Add a kind ``"all"`` pooling every anomaly.
    seed : int

    Returns
    -------
    pandas.DataFrame
        Index (kind, method); columns ``pr_auc``, ``pr_auc_low``, ``pr_auc_high``,
        ``precision_at_k``, ``precision_at_k_low``, ``precision_at_k_high`` and ``n_anomalies``.
        The point estimates are those of :func:`detection_table`.
    """
    check_positive_int(n_boot, "n_boot (percentile intervals need many samples)", minimum=100)
    level = check_probability(level, "level")
    seed = check_seed(seed)
    point = detection_table(scores, kind, include_all=include_all)
    S_all, kind = _check_scores_kind(scores, kind)
    normal_idx = np.flatnonzero(kind == NORMAL)
    rng = np.random.default_rng(seed)
    a = (1 - level) / 2
    rows = []
    for k in point.index.get_level_values("kind").unique():
        pos_idx = np.flatnonzero(kind != NORMAL) if k == "all" else np.flatnonzero(kind == k)
        boot_idx = np.hstack(
            [
                normal_idx[rng.integers(len(normal_idx), size=(n_boot, len(normal_idx)))],
                pos_idx[rng.integers(len(pos_idx), size=(n_boot, len(pos_idx)))],
            ]
        )
        Y = np.zeros(boot_idx.shape, dtype=np.int8)
        Y[:, len(normal_idx) :] = 1
        for m, s in S_all.items():
            ap, pk = _ap_and_pk(s[boot_idx], Y, len(pos_idx))
            p = point.loc[(k, m)]
            rows.append(
                {
                    "kind": k,
                    "method": m,
                    "pr_auc": p["pr_auc"],
                    "pr_auc_low": float(np.quantile(ap, a)),
                    "pr_auc_high": float(np.quantile(ap, 1 - a)),
                    "precision_at_k": p["precision_at_k"],
                    "precision_at_k_low": float(np.quantile(pk, a)),
                    "precision_at_k_high": float(np.quantile(pk, 1 - a)),
                    "n_anomalies": int(p["n_anomalies"]),
                }
            )
    return pd.DataFrame(rows).set_index(["kind", "method"])


# Inputs -------------------------------------------------------------------------
def ewma_scale(returns: Any, *, halflife: float = 20.0, warmup: int = 60) -> Any:
    r"""Returns divided by their exponentially weighted volatility up to the *previous* day (no look-ahead).

    .. math::
        \sigma^2_{t} = \lambda\,\sigma^2_{t-1} + (1-\lambda)\,r_{t}^2,\qquad
        \tilde r_t = r_t / \sigma_{t-1},\qquad \lambda = 2^{-1/\text{halflife}},

    per column, started from the mean square of the first ``warmup`` rows
    (RiskMetrics style: returns are taken as mean zero). Row :math:`t` uses
    rows before :math:`t` only; the ``warmup`` rows themselves come back as NaN
    (their scale would need their own values): drop them.

    Parameters
    ----------
    returns : array-like or pandas.DataFrame, shape (n_days, n_assets)
        In time order, finite.
    halflife : float, default 20.0
        Half-life in days, > 0.
    warmup : int, default 60
        Rows used to start the recursion, 1 <= warmup < n_days.

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        Shape (n_days, n_assets), same type (and index) as ``returns``; the first ``warmup`` rows NaN.
    """
    frame = returns if isinstance(returns, pd.DataFrame) else None
    if frame is not None:
        check_frame(frame, "returns", min_rows=2)  # a frame must be in date order: the recursion runs forward in time
    A = as_2d_float(returns, "returns", min_rows=2).astype(np.float64)
    check_real(halflife, "halflife", low=0.0, low_open=True)
    if not 1 <= check_positive_int(warmup, "warmup") < len(A):
        raise ValueError(f"warmup must be an integer in [1, n_days={len(A)}), got {warmup!r}.")
    lam = 0.5 ** (1.0 / halflife)
    init = (A[:warmup] ** 2).mean(axis=0)
    if (init <= 0).any():
        raise ValueError("a column of returns is constant zero over the warm-up rows: its volatility cannot start; drop it.")
    # var[t] = lam * var[t-1] + (1 - lam) * r_t^2 for t >= warmup, started at var[warmup - 1] = init
    var, _ = lfilter([1.0 - lam], [1.0, -lam], A[warmup:] ** 2, axis=0, zi=lam * init[None, :])
    prev_var = np.vstack([init[None, :], var[:-1]])  # the volatility known the evening before
    out = np.full_like(A, np.nan)
    out[warmup:] = A[warmup:] / np.sqrt(prev_var)
    if frame is not None:
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)
    return out


def choose_n_components(X: Any, *, method: str = "marchenko_pastur", variance: float = 0.8) -> int:
    r"""Number of factors chosen from the data: the Marchenko-Pastur edge or an explained-variance share.

    ``"marchenko_pastur"``: count the eigenvalues of the correlation matrix of
    ``X`` above the noise edge :math:`\sigma^2 (1 + \sqrt{N/T})^2` with
    :math:`\sigma^2 = 1 - \lambda_1 / N`, the variance the largest (market)
    eigenvalue leaves to the others (Laloux, Cizeau, Bouchaud and Potters, 2000).
    The edge assumes the stocks' idiosyncratic shares of variance are alike;
    very unequal shares spread the noise eigenvalues past it (too many factors).
    ``"variance"``: the smallest :math:`k` whose leading eigenvalues explain
    at least ``variance`` of the total. Use the rows the detector is fitted on.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        At least 3 rows and 2 columns, no constant column.
    method : {"marchenko_pastur", "variance"}
    variance : float, default 0.8
        Share for ``method="variance"``, in (0, 1).

    Returns
    -------
    int
        Between 1 and ``n_features - 1``.
    """
    A = as_2d_float(X, "X", min_rows=3).astype(np.float64)
    T, N = A.shape
    if N < 2:
        raise ValueError("X needs at least 2 columns to have factors.")
    sd = A.std(axis=0)
    if (sd == 0).any():
        raise ValueError(f"X has constant columns ({np.flatnonzero(sd == 0)[:5].tolist()} ...): drop them first.")
    eig = np.sort(np.linalg.eigvalsh(np.corrcoef(A, rowvar=False)))[::-1]
    if method == "variance":
        check_probability(variance, "variance")
        k = int(np.searchsorted(np.cumsum(eig) / eig.sum(), variance) + 1)
    elif method == "marchenko_pastur":
        sigma2 = 1.0 - eig[0] / N  # the variance the market mode leaves to the rest
        k = int((eig > sigma2 * (1 + np.sqrt(N / T)) ** 2).sum())
    else:
        raise ValueError(f"method must be 'marchenko_pastur' or 'variance', got {method!r}.")
    return int(min(max(k, 1), N - 1))
