r"""From embeddings of stocks to portfolio decisions: clusters, pairs and diversification.

A stock embedding is one vector per *stock* (never per day). Two routes give one:

- :func:`stock_profiles` treats each stock as a sample: its standardised return
  trajectory over the training window, shape (n_stocks, n_days). PCA of this
  matrix is the classic "principal components of returns" route.
- :func:`decoder_loadings` trains on days (many samples) and reads each stock's
  embedding off the decoder: the average sensitivity of stock :math:`i`'s
  reconstructed return to each latent, :math:`\bar J_{i\cdot} = \frac1T \sum_t
  \partial \hat x_{t,i} / \partial z_t`, scaled by the spread of each latent. For a
  linear decoder this is the factor-loading matrix :math:`B` up to an invertible
  linear map of the latents. The Jacobian itself is
  :func:`course_lib.factors.average_loadings`; this module only encodes the days,
  adapts a bare network and scales.

The rest scores what embeddings are used for, always against a baseline:
:func:`cluster_scores` (adjusted Rand index against known sectors),
:func:`choose_k` (silhouette), :func:`nearest_neighbour_pairs` with
:func:`pair_statistics` and :func:`random_pair_baseline` (out-of-sample pair
checks, gathered by :func:`pair_report`), and :func:`one_per_cluster_picks`,
:func:`random_picks` with :func:`portfolio_volatility` and
:func:`mean_pick_correlation` (diversification, gathered by
:func:`diversification_report`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from ._validation import (
    InputTypeError,
    as_1d_float,
    as_2d_float,
    check_frame,
    check_index_array,
    check_positive_int,
    check_real,
    check_seed,
    check_unique_names,
)
from .factors import average_loadings
from .models import eval_mode

__all__ = [
    "stock_profiles",
    "decoder_loadings",
    "kmeans_labels",
    "cluster_scores",
    "choose_k",
    "nearest_neighbour_pairs",
    "pair_statistics",
    "random_pair_baseline",
    "one_per_cluster_picks",
    "random_picks",
    "portfolio_volatility",
    "mean_pick_correlation",
    "pair_report",
    "diversification_report",
    "scale_loadings",
    "transform_latents",
    "embedding_distances",
    "hrp_weights",
    "inverse_volatility_weights",
    "max_drawdown",
    "portfolio_report",
    "volatility_difference",
]

TRADING_DAYS = 252


def stock_profiles(returns: pd.DataFrame, *, center_days: bool = True) -> pd.DataFrame:
    """Each stock as one sample: its standardised return trajectory.

    Parameters
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks) of returns over the *training* window only.
    center_days : bool, default True
        Subtract, on each day, the mean over stocks (what PCA does to its
        input columns), so the common market move does not dominate.

    Returns
    -------
    pandas.DataFrame
        Shape (n_stocks, n_days): one row per stock (index = tickers), each
        stock's returns standardised by its own mean and standard deviation.
    """
    check_frame(returns, "returns")
    if returns.shape[0] < 3 or returns.shape[1] < 2:
        raise ValueError(f"returns has shape {returns.shape}: need at least 3 days and 2 stocks.")
    sd = returns.std()
    if (sd == 0).any():
        raise ValueError(f"stocks {list(sd.index[sd == 0])[:5]} have constant returns and cannot be standardised; drop them.")
    prof = ((returns - returns.mean()) / sd).T
    if center_days:
        prof = prof - prof.mean(axis=0)
    prof = prof.rename_axis(index=returns.columns.name or "ticker")  # a new index: never rename the caller's columns
    return prof


class _BareDecoder:
    """PCA's interface (``transform`` / ``inverse_transform``) for a bare network with ``.encode`` and ``.decoder``.

    The decoder is evaluated on a float64 copy so the finite differences of
    :func:`~course_lib.factors.average_loadings` carry no float32 rounding (error about 1e-7 at eps=1e-3).
    """

    def __init__(self, net: torch.nn.Module) -> None:
        self.net = net
        self.decoder64 = copy.deepcopy(net.decoder).double().cpu().eval()

    @torch.no_grad()
    def transform(self, X: np.ndarray) -> np.ndarray:
        dev = next(self.net.parameters()).device
        with eval_mode(self.net):
            z = self.net.encode(torch.from_numpy(X).to(dev))
        return z.cpu().double().numpy()

    @torch.no_grad()
    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        return self.decoder64(torch.from_numpy(np.asarray(Z, dtype=np.float64))).numpy()


def _as_decoder(model: Any) -> tuple[_BareDecoder, int]:
    net = getattr(model, "model_", model)
    if not isinstance(net, torch.nn.Module) or not hasattr(net, "decoder") or not hasattr(net, "encode"):
        raise ValueError(
            "decoder_loadings needs a fitted AutoencoderEmbedder or an Autoencoder (a torch module with .encode and "
            f".decoder); got {type(model).__name__}. For PCA or other estimators use course_lib.factors.average_loadings."
        )
    return _BareDecoder(net), int(getattr(net, "input_dim", getattr(model, "n_features_in_", -1)))


def decoder_loadings(model: Any, X: Any, *, scale: bool | str = True, eps: float = 1e-3) -> np.ndarray:
    r"""Stock embeddings read off a day-level autoencoder: the average decoder Jacobian.

    .. math:: L_{ij} = \operatorname{sd}(z_j)\; \frac{1}{T}\sum_{t=1}^{T} \frac{\partial \hat x_{t,i}}{\partial z_{t,j}}

    The Jacobian average is :func:`course_lib.factors.average_loadings`
    (central finite differences, here on a float64 copy of the decoder); this
    function encodes the days and scales by the spread of each latent
    (``scale=True`` or ``"sd"``) or by the square root of the latent covariance
    (``scale="cov"``, the basis-invariant embedding of :func:`scale_loadings`).

    Parameters
    ----------
    model : AutoencoderEmbedder or Autoencoder
        Fitted on days (rows) x stocks (columns); any torch module with
        ``.encode`` and ``.decoder`` works.
    X : array-like, shape (n_days, n_stocks)
        The days at which to average the sensitivity (the training days).
    scale : bool or {"sd", "cov"}, default True
        ``True``/``"sd"``: multiply by the standard deviation of each latent
        over ``X`` (removes the arbitrary scale of each latent, not their
        correlation or mixing); ``"cov"``: multiply by the symmetric square
        root of the latent covariance (invariant to any invertible linear map
        of the latents); ``False``: the raw average Jacobian.
    eps : float, default 1e-3
        Finite-difference step in latent units, passed to ``average_loadings``.

    Returns
    -------
    numpy.ndarray
        Shape (n_stocks, latent_dim): one embedding per stock. For a linear
        decoder it is its weight matrix (times the latent spreads).
    """
    dec, in_dim = _as_decoder(model)
    X = as_2d_float(X, "X", min_rows=2)
    if in_dim > 0 and X.shape[1] != in_dim:
        raise ValueError(f"X has {X.shape[1]} columns but the model was built for {in_dim} stocks.")
    check_real(eps, "eps", low=0.0, low_open=True)
    if scale not in (True, False, "sd", "cov"):
        raise ValueError(f"scale must be True, False, 'sd' or 'cov', got {scale!r}.")
    z = dec.transform(X)
    L = average_loadings(dec, z, eps=eps)
    if scale is False:
        return L
    return scale_loadings(L, z, how="cov" if scale == "cov" else "sd")


def _sqrtm_psd(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((C + C.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def scale_loadings(J: Any, Z: Any, *, how: str = "cov") -> np.ndarray:
    r"""Scale an average decoder Jacobian by the spread of the latents.

    ``how="cov"`` returns :math:`L = \bar J\, \Sigma_z^{1/2}` (symmetric square
    root of the latent covariance over the days ``Z``). Then
    :math:`L L^\top = \bar J \Sigma_z \bar J^\top`, so the squared distance
    between two stocks' rows, :math:`(\bar J_a - \bar J_b)\Sigma_z(\bar J_a - \bar J_b)^\top`,
    is the variance of the systematic part of :math:`r_a - r_b` to first
    order. Latents are defined only up to an invertible map :math:`z' = Az`
    (the Jacobian becomes :math:`\bar J A^{-1}`, the covariance
    :math:`A\Sigma_z A^\top`): the Gram matrix and every distance are unchanged,
    the rows only turn by an orthogonal matrix. Whitening the latents
    (:math:`z_w = \Sigma_z^{-1/2} z`) gives the same :math:`L`.
    ``how="sd"`` multiplies column :math:`j` by :math:`\operatorname{sd}(z_j)`:
    invariant to rescaling each latent, not to mixing them.

    Parameters
    ----------
    J : array-like, shape (n_stocks, k)
        Average decoder Jacobian (``decoder_loadings(..., scale=False)``).
    Z : array-like, shape (n_days, k), n_days >= 2
        Latent codes of the days the Jacobian was averaged over.
    how : {"cov", "sd"}, default "cov"

    Returns
    -------
    numpy.ndarray
        Shape (n_stocks, k).
    """
    as_2d_float(J, "J")
    as_2d_float(Z, "Z", min_rows=2)
    J, Z = np.asarray(J, dtype=np.float64), np.asarray(Z, dtype=np.float64)
    if Z.shape[1] != J.shape[1]:
        raise ValueError(f"J has {J.shape[1]} latent columns but Z has {Z.shape[1]}: pass the codes of the same model.")
    if how == "sd":
        return J * Z.std(axis=0)
    if how == "cov":
        return J @ _sqrtm_psd(np.cov(Z, rowvar=False, bias=True).reshape(Z.shape[1], Z.shape[1]))
    raise ValueError(f"how must be 'cov' or 'sd', got {how!r}.")


class _LatentMapped(torch.nn.Module):
    """The same network with latents z' = A z: encode then A, decode after A^{-1}."""

    def __init__(self, net: torch.nn.Module, A: np.ndarray) -> None:
        super().__init__()
        self.net = net
        k = A.shape[0]
        self.register_buffer("A", torch.as_tensor(A, dtype=torch.float32))
        unmap = torch.nn.Linear(k, k, bias=False)
        with torch.no_grad():
            unmap.weight.copy_(torch.as_tensor(np.linalg.inv(A), dtype=torch.float32))
        unmap.weight.requires_grad_(False)
        unmap.to(next(net.parameters()).device)
        self.decoder = torch.nn.Sequential(unmap, net.decoder)
        self.latent_dim = k
        if hasattr(net, "input_dim"):
            self.input_dim = net.input_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.encode(x) @ self.A.to(x.device).T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))


def transform_latents(model: Any, A: Any) -> torch.nn.Module:
    """The same autoencoder in another latent basis: codes ``z' = A z``, decoder ``d(A^{-1} z')``.

    Reconstructions are unchanged; only the (arbitrary) coordinates of the
    latents move. Use it to check that an embedding does not depend on them.

    Parameters
    ----------
    model : AutoencoderEmbedder or Autoencoder
        Fitted; any torch module with ``.encode`` and ``.decoder``.
    A : array-like, shape (k, k)
        Invertible (condition number below 1e6), k = latent dimension.

    Returns
    -------
    torch.nn.Module
        With ``.encode`` and ``.decoder``, accepted by :func:`decoder_loadings`.
    """
    dec, _ = _as_decoder(model)
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.isfinite(A).all():
        raise ValueError(f"A must be a finite square (k, k) matrix, got shape {A.shape}.")
    k = getattr(dec.net, "latent_dim", A.shape[0])
    if A.shape[0] != k:
        raise ValueError(f"A has shape {A.shape} but the model has {k} latents: pass a ({k}, {k}) matrix.")
    if np.linalg.cond(A) > 1e6:
        raise ValueError("A is singular or nearly so (condition number > 1e6): the map must be invertible.")
    return _LatentMapped(dec.net, A)


def kmeans_labels(Z: Any, k: int, *, seed: int = 0, n_init: int = 50) -> np.ndarray:
    """K-means cluster labels of the rows of ``Z``, shape (n,).

    Many restarts (``n_init``) because on a few dozen points a single run's
    local optimum changes the answer.
    """
    Z = as_2d_float(Z, "Z")
    k = check_positive_int(k, "k")
    if k > len(Z):
        raise ValueError(f"k must be an integer between 1 and the number of rows ({len(Z)}), got {k!r}.")
    n_init = check_positive_int(n_init, "n_init")
    seed = check_seed(seed)
    return KMeans(int(k), n_init=n_init, random_state=seed).fit_predict(Z.astype(np.float64))


def cluster_scores(embeddings: Mapping[str, Any], truth: Any, k: int, *, seed: int = 0) -> pd.Series:
    """Adjusted Rand index of K-means (``k`` clusters) on each embedding against known groups.

    Parameters
    ----------
    embeddings : mapping name -> array-like, shape (n_stocks, d)
        Every embedding must have one row per stock, in the order of ``truth``.
    truth : array-like, shape (n_stocks,)
        The known groups (for example GICS sectors).
    k : int

    Returns
    -------
    pandas.Series
        One ARI per embedding (1 = the sectors exactly, about 0 = chance).
    """
    truth = np.asarray(truth)
    if truth.ndim != 1 or (truth.dtype.kind == "f" and not np.isfinite(truth).all()):
        raise ValueError("truth must be a 1-D array of group labels without NaN (one per stock).")
    if not embeddings:
        raise ValueError("embeddings is empty: pass a dict such as {'PCA': Z_pca, 'AE': Z_ae}.")
    out = {}
    for name, Z in embeddings.items():
        Z = as_2d_float(Z, f"embeddings[{name!r}]")
        if len(Z) != len(truth):
            raise ValueError(
                f"embeddings[{name!r}] has {len(Z)} rows but truth has {len(truth)}: "
                "one row per stock is needed (did you pass days x features?)."
            )
        out[name] = adjusted_rand_score(truth, kmeans_labels(Z, k, seed=seed))
    return pd.Series(out, name="ARI")


def choose_k(Z: Any, ks: Sequence[int] = range(2, 11), *, seed: int = 0, sample_size: int | None = 2000) -> tuple[int, pd.Series]:
    """Pick the number of K-means clusters with the highest silhouette score.

    Parameters
    ----------
    Z : array-like, shape (n, d)
        The points to cluster (stocks or days).
    ks : sequence of int
        Candidate numbers of clusters, each in [2, n - 1].
    seed : int
        Seeds K-means and the silhouette subsample.
    sample_size : int or None, default 2000
        The silhouette costs O(n^2); above this many points it is computed on a
        random subsample of this size (K-means still uses every point).

    Returns
    -------
    (int, pandas.Series)
        The best ``k`` and the silhouette of every candidate (index ``k``).
    """
    Z = as_2d_float(Z, "Z")
    ks = [check_positive_int(k, "ks[i]") for k in ks]
    if sample_size is not None:
        sample_size = check_positive_int(sample_size, "sample_size", minimum=2)
    if not ks or min(ks) < 2 or max(ks) >= len(Z):
        raise ValueError(f"every k must lie in [2, n_rows - 1] = [2, {len(Z) - 1}]; got {ks}.")
    sub = None if sample_size is None or len(Z) <= sample_size else sample_size
    sil = pd.Series(
        {k: silhouette_score(Z, kmeans_labels(Z, k, seed=seed, n_init=20), sample_size=sub, random_state=seed) for k in ks},
        name="silhouette",
    )
    sil.index.name = "k"
    return int(sil.idxmax()), sil


def nearest_neighbour_pairs(Z: Any, names: Sequence[str], *, metric: str = "euclidean") -> list[tuple[str, str]]:
    """Each stock with its nearest neighbour, as unique unordered pairs.

    Parameters
    ----------
    Z : array-like
        Shape (n_stocks, d) embeddings, or with ``metric="precomputed"`` a
        distance matrix of shape (n_stocks, n_stocks) (for example
        ``1 - train_correlation``).
    names : sequence of str, length n_stocks
    metric : {"euclidean", "precomputed"}

    Returns
    -------
    list of (str, str)
        Sorted pairs (each written with the two names in sorted order), no duplicates.
    """
    Z = as_2d_float(Z, "Z", min_rows=2).astype(np.float64)
    names = check_unique_names(names)
    if len(names) != len(Z):
        raise ValueError(f"names has {len(names)} entries but Z has {len(Z)} rows.")
    if metric == "euclidean":
        D = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
    elif metric == "precomputed":
        if Z.shape[0] != Z.shape[1]:
            raise ValueError(f"Z: a precomputed distance matrix must be square, got shape {Z.shape}.")
        if not np.allclose(Z, Z.T) or (Z < 0).any():
            raise ValueError("Z: a precomputed distance matrix must be symmetric and non-negative.")
        D = Z.copy()
    else:
        raise ValueError(f"metric must be 'euclidean' or 'precomputed', got {metric!r}.")
    np.fill_diagonal(D, np.inf)
    nn = D.argmin(axis=1)
    return sorted({tuple(sorted((names[i], names[j]))) for i, j in enumerate(nn)})


def pair_statistics(returns: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Correlation and spread volatility of each pair over ``returns`` (use the *test* period).

    Parameters
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks).
    pairs : sequence of (str, str)

    Returns
    -------
    pandas.DataFrame
        One row per pair with ``corr`` (return correlation) and ``spread_vol``
        (annualised volatility of the difference of the two returns; a pair
        that moves together has a small, stable spread).
    """
    check_frame(returns, "returns")
    pairs = _check_pair_list(pairs)
    missing = sorted({t for p in pairs for t in p} - set(returns.columns))
    if missing:
        raise ValueError(f"tickers {missing[:5]} are not columns of returns.")
    a = returns[[p[0] for p in pairs]].to_numpy()
    b = returns[[p[1] for p in pairs]].to_numpy()
    ac, bc = a - a.mean(0), b - b.mean(0)
    corr = (ac * bc).sum(0) / np.sqrt((ac**2).sum(0) * (bc**2).sum(0))
    spread_vol = (a - b).std(0, ddof=1) * np.sqrt(TRADING_DAYS)
    idx = pd.Index([f"{x}-{y}" for x, y in pairs], name="pair")
    return pd.DataFrame({"corr": corr, "spread_vol": spread_vol}, index=idx)


def _check_pair_list(pairs: Any, name: str = "pairs") -> list[tuple[Any, Any]]:
    try:
        if isinstance(pairs, (str, bytes)) or any(isinstance(p, (str, bytes)) or len(p) != 2 for p in pairs):
            raise TypeError
        out = [(a, b) for a, b in pairs]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of (ticker, ticker) tuples, e.g. [('KO', 'PEP')].") from None
    if not out:
        raise ValueError(f"{name} is empty: pass at least one (ticker, ticker) pair.")
    same = [p for p in out if p[0] == p[1]]
    if same:
        raise ValueError(f"{name} holds a stock paired with itself: {same[:3]} (its correlation is 1 by definition); drop it.")
    return out


def random_pair_baseline(returns: pd.DataFrame, n_pairs: int, *, n_draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Mean correlation of ``n_pairs`` random distinct pairs, for each of ``n_draws`` draws.

    Parameters
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks): use the *test* period.
    n_pairs : int
        Pairs per draw, in [1, n_stocks * (n_stocks - 1) / 2].
    n_draws : int, default 1000
        Number of draws, >= 1.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray
        Shape (n_draws,): the distribution that a chosen set of pairs must beat.
    """
    check_frame(returns, "returns")
    n = returns.shape[1]
    n_all = n * (n - 1) // 2
    n_pairs = check_positive_int(n_pairs, "n_pairs")
    if not 1 <= n_pairs <= n_all:
        raise ValueError(f"n_pairs must lie in [1, {n_all}] for {n} stocks, got {n_pairs}.")
    C = np.corrcoef(returns.to_numpy(), rowvar=False)
    iu = np.triu_indices(n, 1)
    all_corr = C[iu]
    n_draws = _check_n_draws(n_draws)
    rng = np.random.default_rng(check_seed(seed))
    draws = np.argsort(rng.random((n_draws, n_all)), axis=1)[:, :n_pairs]
    return all_corr[draws].mean(axis=1)


def one_per_cluster_picks(labels: Any, *, n_draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Random portfolios holding exactly one stock from each cluster.

    Parameters
    ----------
    labels : array-like, shape (n_stocks,)
        Cluster label of each stock.
    n_draws : int, default 1000
        Number of portfolios, >= 1.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray
        Shape (n_draws, n_clusters): column indices of the chosen stocks.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}.")
    if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
        raise ValueError("labels holds NaN or infinite values; give every stock a cluster label.")
    n_draws = _check_n_draws(n_draws)
    rng = np.random.default_rng(check_seed(seed))
    groups = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    return np.column_stack([g[rng.integers(0, len(g), n_draws)] for g in groups])


def random_picks(n_stocks: int, size: int, *, n_draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Random portfolios of ``size`` distinct stocks out of ``n_stocks``.

    Parameters
    ----------
    n_stocks : int
    size : int
        Stocks per portfolio, in [1, n_stocks].
    n_draws : int, default 1000
        Number of portfolios, >= 1.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray
        Shape (n_draws, size): column indices, distinct within each row.
    """
    n_stocks = check_positive_int(n_stocks, "n_stocks")
    size = check_positive_int(size, "size")
    if not 1 <= size <= n_stocks:
        raise ValueError(f"size must lie in [1, n_stocks={n_stocks}], got {size}.")
    n_draws = _check_n_draws(n_draws)
    rng = np.random.default_rng(check_seed(seed))
    return np.argsort(rng.random((n_draws, n_stocks)), axis=1)[:, :size]


def _check_n_draws(n_draws: Any, name: str = "n_draws") -> int:
    msg = f"{name} must be an integer >= 1 (for example {name}=1000), got {n_draws!r}."
    if isinstance(n_draws, (bool, np.bool_)) or not isinstance(n_draws, (int, np.integer)):
        raise InputTypeError(msg)
    if n_draws < 1:
        raise ValueError(msg)
    return int(n_draws)


def _check_picks(returns: pd.DataFrame, picks: Any) -> np.ndarray:
    check_frame(returns, "returns")
    return check_index_array(picks, "picks", returns.shape[1], ndim=2, unique=True, what="column indices")


def portfolio_volatility(returns: pd.DataFrame, picks: Any) -> np.ndarray:
    """Annualised volatility of the equal-weight portfolio of each row of ``picks``.

    Parameters
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks): use the *test* period for an honest comparison.
    picks : array-like of int, shape (n_draws, size)
        Column indices, as from :func:`one_per_cluster_picks` or :func:`random_picks`.

    Returns
    -------
    numpy.ndarray
        Shape (n_draws,).
    """
    picks = _check_picks(returns, picks)
    C = np.cov(returns.to_numpy(), rowvar=False)
    W = np.zeros((len(picks), returns.shape[1]))
    np.put_along_axis(W, picks, 1.0 / picks.shape[1], axis=1)
    return np.sqrt(np.einsum("di,ij,dj->d", W, C, W) * TRADING_DAYS)


def mean_pick_correlation(returns: pd.DataFrame, picks: Any) -> np.ndarray:
    """Average correlation between the stocks of each portfolio in ``picks`` (off-diagonal pairs only).

    Parameters
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks): use the *test* period.
    picks : array-like of int, shape (n_draws, size), size >= 2

    Returns
    -------
    numpy.ndarray
        Shape (n_draws,). Lower means the holdings move less together.
    """
    picks = _check_picks(returns, picks)
    if picks.shape[1] < 2:
        raise ValueError("picks: each portfolio needs at least 2 stocks to have a pairwise correlation.")
    C = np.corrcoef(returns.to_numpy(), rowvar=False)
    sub = C[picks[:, :, None], picks[:, None, :]]
    m = picks.shape[1]
    return (sub.sum(axis=(1, 2)) - m) / (m * (m - 1))


def pair_report(
    Z: Any,
    corr: Any,
    returns_test: pd.DataFrame,
    names: Sequence[str],
    *,
    n_draws: int = 2000,
    seed: int = 0,
) -> tuple[list[tuple[str, str]], pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Nearest-neighbour pairs of an embedding, scored on later days against two baselines.

    The baselines are each stock's most correlated partner in ``corr`` (the
    training correlation matrix) and ``n_draws`` draws of as many random pairs.

    Parameters
    ----------
    Z : array-like, shape (n_stocks, d)
        Stock embeddings (one row per stock, in the order of ``names``).
    corr : array-like, shape (n_stocks, n_stocks)
        Correlation matrix of the *training* returns.
    returns_test : pandas.DataFrame
        Shape (n_days, n_stocks), columns ``names``: the *test* period.
    names : sequence of str, length n_stocks
    n_draws : int, default 2000
        Random draws of the baseline (>= 1).
    seed : int, default 0

    Returns
    -------
    (list of (str, str), pandas.DataFrame, pandas.DataFrame, numpy.ndarray)
        The embedding's pairs; their :func:`pair_statistics`; a table with
        rows ``embedding neighbours``, ``most correlated (train)``,
        ``random pairs (mean of draws)`` and columns ``pairs``,
        ``test correlation``, ``test spread vol``; and the random draws'
        mean correlations, shape (n_draws,).
    """
    check_frame(returns_test, "returns_test")
    names = list(names)
    corr = as_2d_float(corr, "corr", min_rows=2)
    n = len(names)
    if corr.shape != (n, n):
        raise ValueError(f"corr has shape {corr.shape} but there are {n} names: pass the ({n}, {n}) training correlation matrix.")
    if list(returns_test.columns) != names:
        raise ValueError(
            "returns_test columns must be the stocks of names, in the same order (reindex with returns_test[names])."
        )
    pairs = nearest_neighbour_pairs(Z, names)
    pairs_corr = nearest_neighbour_pairs(1 - corr, names, metric="precomputed")
    stats, stats_corr = pair_statistics(returns_test, pairs), pair_statistics(returns_test, pairs_corr)
    random_means = random_pair_baseline(returns_test, len(pairs), n_draws=n_draws, seed=seed)
    table = pd.DataFrame(
        {
            "embedding neighbours": [len(pairs), stats["corr"].mean(), stats["spread_vol"].mean()],
            "most correlated (train)": [len(pairs_corr), stats_corr["corr"].mean(), stats_corr["spread_vol"].mean()],
            "random pairs (mean of draws)": [len(pairs), random_means.mean(), np.nan],
        },
        index=["pairs", "test correlation", "test spread vol"],
    ).T
    table["pairs"] = table["pairs"].astype(int)
    return pairs, stats, table, random_means


def diversification_report(labels: Any, returns_test: pd.DataFrame, *, n_draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Equal-weight portfolios of one stock per cluster against random portfolios of the same size.

    Parameters
    ----------
    labels : array-like, shape (n_stocks,)
        Cluster label of each column of ``returns_test``.
    returns_test : pandas.DataFrame
        Shape (n_days, n_stocks): the *test* period.
    n_draws : int, default 2000
        Portfolios drawn of each kind (>= 1).
    seed : int, default 0
        Seeds the cluster draws; the random portfolios use ``seed + 1``.

    Returns
    -------
    pandas.DataFrame
        Rows ``one per cluster`` and ``random``; columns ``mean pairwise corr``
        (:func:`mean_pick_correlation`), ``mean stock vol`` (annualised
        volatility of the holdings) and ``portfolio vol``
        (:func:`portfolio_volatility`), each averaged over the draws.
    """
    check_frame(returns_test, "returns_test")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != returns_test.shape[1]:
        raise ValueError(
            f"labels has shape {labels.shape} but returns_test has {returns_test.shape[1]} stocks: "
            "pass one cluster label per stock (column)."
        )
    k = len(np.unique(labels))
    if k < 2:
        raise ValueError("labels hold a single cluster: a portfolio of one stock has no pairwise correlation; use k >= 2.")
    picks = {
        "one per cluster": one_per_cluster_picks(labels, n_draws=n_draws, seed=seed),
        "random": random_picks(returns_test.shape[1], k, n_draws=n_draws, seed=seed + 1),
    }
    stock_vol = returns_test.std().to_numpy() * np.sqrt(TRADING_DAYS)
    return pd.DataFrame(
        {
            name: {
                "mean pairwise corr": mean_pick_correlation(returns_test, p).mean(),
                "mean stock vol": stock_vol[p].mean(),
                "portfolio vol": portfolio_volatility(returns_test, p).mean(),
            }
            for name, p in picks.items()
        }
    ).T


# Basis-invariant distances and hierarchical risk parity ------------------------------------------
def embedding_distances(Z: Any) -> np.ndarray:
    """Euclidean distances between the rows of ``Z``, shape (n, n)."""
    Z = as_2d_float(Z, "Z", min_rows=2).astype(np.float64)
    sq = (Z**2).sum(1)
    return np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2 * Z @ Z.T, 0, None)) * (1 - np.eye(len(Z)))


def _check_cov(cov: Any) -> pd.DataFrame:
    if not isinstance(cov, pd.DataFrame):
        raise ValueError("cov must be a pandas DataFrame (tickers x tickers), e.g. returns_train.cov().")
    C = cov.to_numpy(dtype=np.float64)
    if C.shape[0] != C.shape[1] or C.shape[0] < 2 or list(cov.index) != list(cov.columns):
        raise ValueError(f"cov must be square with the same tickers as index and columns, got shape {C.shape}.")
    if not np.isfinite(C).all():
        raise ValueError("cov holds NaN or infinite values: estimate it on a window without gaps (returns.dropna()).")
    if (np.diag(C) <= 0).any():
        raise ValueError("cov has a zero or negative variance on its diagonal: drop constant stocks.")
    if not np.allclose(C, C.T, rtol=1e-6, atol=1e-12 * max(1.0, float(np.abs(C).max()))):
        raise ValueError("cov is not symmetric: pass a covariance matrix, e.g. returns_train.cov().")
    return cov


def hrp_weights(cov: pd.DataFrame, *, distance: Any = None, method: str = "single") -> pd.Series:
    r"""Hierarchical risk parity weights (López de Prado 2016).

    1. **Tree**: hierarchical clustering (``method`` linkage) of the stocks on
       ``distance``; by default the correlation distance
       :math:`\sqrt{(1-\rho_{ij})/2}` of ``cov``. Pass an embedding's
       :func:`embedding_distances` to build the tree from the embedding instead.
    2. **Quasi-diagonalisation**: order the stocks by the tree's leaves, so
       similar stocks sit next to each other.
    3. **Recursive bisection**: split the ordered list in halves; each half's
       variance is that of its inverse-variance portfolio,
       :math:`V = w^\top \Sigma w` with :math:`w \propto 1/\operatorname{diag}\Sigma`;
       the halves share the weight in proportion :math:`1 - V_1/(V_1+V_2)` and
       :math:`1 - V_2/(V_1+V_2)`; repeat inside each half.

    No matrix is inverted, so HRP stays stable where minimum variance breaks.

    Parameters
    ----------
    cov : pandas.DataFrame
        Shape (n_stocks, n_stocks): covariance of the *training* returns.
    distance : array-like, shape (n_stocks, n_stocks), optional
        Symmetric distances with a zero diagonal, in the order of ``cov``.
    method : str, default "single"
        Linkage of ``scipy.cluster.hierarchy.linkage`` ("single" as in the paper).

    Returns
    -------
    pandas.Series
        Weights (index = tickers), positive, summing to 1.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    cov = _check_cov(cov)
    C = cov.to_numpy(dtype=np.float64)
    n = len(C)
    if distance is None:
        sd = np.sqrt(np.diag(C))
        D = np.sqrt(np.clip((1 - C / np.outer(sd, sd)) / 2, 0, None))
    else:
        D = as_2d_float(distance, "distance", min_rows=2).astype(np.float64)
        if D.shape != (n, n):
            raise ValueError(f"distance has shape {D.shape} but cov has {n} stocks: pass an ({n}, {n}) matrix.")
        if not np.allclose(D, D.T, atol=1e-6) or (D < 0).any():
            raise ValueError("distance must be symmetric and non-negative (e.g. embedding_distances(Z)).")
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0.0)
    order = leaves_list(linkage(squareform(D, checks=False), method=method))
    w = np.ones(n)
    ivar = 1.0 / np.diag(C)
    stack = [order]
    while stack:
        items = stack.pop()
        if len(items) < 2:
            continue
        half = len(items) // 2
        left, right = items[:half], items[half:]
        v = []
        for part in (left, right):
            wp = ivar[part] / ivar[part].sum()
            v.append(wp @ C[np.ix_(part, part)] @ wp)
        a = 1 - v[0] / (v[0] + v[1])
        w[left] *= a
        w[right] *= 1 - a
        stack += [left, right]
    return pd.Series(w / w.sum(), index=cov.index, name="HRP")


def inverse_volatility_weights(returns: pd.DataFrame) -> pd.Series:
    """Weights proportional to 1 / volatility over ``returns`` (the training window), summing to 1."""
    check_frame(returns, "returns")
    if len(returns) < 2:
        raise ValueError("returns needs at least 2 days to estimate a volatility.")
    sd = returns.std()
    if (sd == 0).any():
        raise ValueError(f"stocks {list(sd.index[sd == 0])[:5]} have constant returns: drop them.")
    return (1 / sd / (1 / sd).sum()).rename("inverse vol")


def max_drawdown(daily_returns: Any) -> float:
    """Largest peak-to-trough fall of the wealth curve, as a positive fraction.

    Parameters
    ----------
    daily_returns : array-like, shape (n_days,)
        Daily log returns of a portfolio (wealth = exp(cumulative sum)).
    """
    r = as_1d_float(daily_returns, "daily_returns")
    log_wealth = np.concatenate([[0.0], np.cumsum(r)])
    return float(1 - np.exp((log_wealth - np.maximum.accumulate(log_wealth)).min()))


def portfolio_report(weights: Mapping[str, pd.Series], returns_test: pd.DataFrame) -> pd.DataFrame:
    """Test-period volatility, maximum drawdown and return of fixed-weight portfolios.

    Parameters
    ----------
    weights : mapping name -> pandas.Series
        Weights indexed by ticker (the columns of ``returns_test``), fixed over
        the test period (rebalanced daily to these weights).
    returns_test : pandas.DataFrame
        Shape (n_days, n_stocks): daily log returns of the *test* period.

    Returns
    -------
    pandas.DataFrame
        One row per portfolio: ``ann. vol``, ``max drawdown``, ``ann. return``
        and ``largest weight``.
    """
    check_frame(returns_test, "returns_test")
    if not weights:
        raise ValueError("weights is empty: pass e.g. {'equal weight': w}.")
    rows = {}
    for name, w in weights.items():
        if not isinstance(w, pd.Series) or set(w.index) != set(returns_test.columns):
            raise ValueError(f"weights[{name!r}] must be a Series indexed by exactly the tickers of returns_test.")
        if not np.isfinite(w.to_numpy(dtype=float)).all():
            raise ValueError(f"weights[{name!r}] holds NaN or infinite values.")
        r = returns_test.to_numpy() @ w.reindex(returns_test.columns).to_numpy(dtype=float)
        rows[name] = {
            "ann. vol": r.std(ddof=1) * np.sqrt(TRADING_DAYS),
            "max drawdown": max_drawdown(r),
            "ann. return": r.mean() * TRADING_DAYS,
            "largest weight": float(w.max()),
        }
    return pd.DataFrame(rows).T


def volatility_difference(
    returns_test: pd.DataFrame, w_a: pd.Series, w_b: pd.Series, *, block: int = 21, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Test-period annualised volatility of portfolio ``a`` minus that of ``b``, with a 95% block-bootstrap interval.

    Days are resampled in blocks of ``block`` consecutive days, the same
    blocks for both portfolios (a paired comparison that keeps volatility
    clustering inside blocks).

    Parameters
    ----------
    returns_test : pandas.DataFrame
        Shape (n_days, n_stocks): test-period daily returns, n_days >= 4 * block.
    w_a, w_b : pandas.Series
        Weights indexed by the tickers of ``returns_test``.
    block : int, default 21
    n_boot : int, default 2000
    seed : int, default 0

    Returns
    -------
    (float, float, float)
        Difference, lower and upper 95% bound (negative = ``a`` less volatile).
    """
    check_frame(returns_test, "returns_test")
    for nm, w in (("w_a", w_a), ("w_b", w_b)):
        if not isinstance(w, pd.Series) or set(w.index) != set(returns_test.columns):
            raise ValueError(f"{nm} must be a Series indexed by exactly the tickers of returns_test.")
        as_1d_float(w, nm)
    n = len(returns_test)
    if not isinstance(block, (int, np.integer)) or block < 1 or n // block < 4:
        raise ValueError(f"need block >= 1 and at least 4 blocks: {n} days, block={block!r}.")
    n_boot = _check_n_draws(n_boot, "n_boot")
    R = returns_test.to_numpy(dtype=np.float64)
    ra = R @ w_a.reindex(returns_test.columns).to_numpy(dtype=float)
    rb = R @ w_b.reindex(returns_test.columns).to_numpy(dtype=float)
    diff = (ra.std(ddof=1) - rb.std(ddof=1)) * np.sqrt(TRADING_DAYS)
    rng = np.random.default_rng(check_seed(seed))
    x = np.column_stack([ra, rb])
    c1 = np.vstack([np.zeros((1, 2)), np.cumsum(x, axis=0)])
    c2 = np.vstack([np.zeros((1, 2)), np.cumsum(x**2, axis=0)])
    b1, b2 = c1[block:] - c1[:-block], c2[block:] - c2[:-block]  # sums over every block of consecutive days
    starts = rng.integers(0, n - block + 1, (n_boot, n // block))
    m = (n // block) * block
    s1, s2 = b1[starts].sum(1), b2[starts].sum(1)
    sd = np.sqrt(np.clip((s2 - s1**2 / m) / (m - 1), 0, None))
    boot = (sd[:, 0] - sd[:, 1]) * np.sqrt(TRADING_DAYS)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return float(diff), float(lo), float(hi)
