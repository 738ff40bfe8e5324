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

from ._validation import as_2d_float, check_frame
from .factors import average_loadings

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
    prof.index.name = returns.columns.name or "ticker"
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
        was_training = self.net.training
        self.net.eval()
        z = self.net.encode(torch.from_numpy(X).to(dev))
        self.net.train(was_training)
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


def decoder_loadings(model: Any, X: Any, *, scale: bool = True, eps: float = 1e-3) -> np.ndarray:
    r"""Stock embeddings read off a day-level autoencoder: the average decoder Jacobian.

    .. math:: L_{ij} = \operatorname{sd}(z_j)\; \frac{1}{T}\sum_{t=1}^{T} \frac{\partial \hat x_{t,i}}{\partial z_{t,j}}

    The Jacobian average is :func:`course_lib.factors.average_loadings`
    (central finite differences, here on a float64 copy of the decoder); this
    function encodes the days and scales by the spread of each latent.

    Parameters
    ----------
    model : AutoencoderEmbedder or Autoencoder
        Fitted on days (rows) x stocks (columns); any torch module with
        ``.encode`` and ``.decoder`` works.
    X : array-like, shape (n_days, n_stocks)
        The days at which to average the sensitivity (the training days).
    scale : bool, default True
        Multiply by the standard deviation of each latent over ``X`` so the
        result does not depend on the arbitrary scale of each latent.
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
    z = dec.transform(X)
    L = average_loadings(dec, z, eps=eps)
    if scale:
        L = L * z.std(axis=0)
    return L


def kmeans_labels(Z: Any, k: int, *, seed: int = 0, n_init: int = 50) -> np.ndarray:
    """K-means cluster labels of the rows of ``Z``, shape (n,).

    Many restarts (``n_init``) because on a few dozen points a single run's
    local optimum changes the answer.
    """
    Z = as_2d_float(Z, "Z")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= len(Z):
        raise ValueError(f"k must be an integer between 1 and the number of rows ({len(Z)}), got {k!r}.")
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
    ks = [int(k) for k in ks]
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
    names = list(names)
    if len(names) != len(Z):
        raise ValueError(f"names has {len(names)} entries but Z has {len(Z)} rows.")
    if metric == "euclidean":
        D = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
    elif metric == "precomputed":
        if Z.shape[0] != Z.shape[1]:
            raise ValueError(f"a precomputed distance matrix must be square, got shape {Z.shape}.")
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
    if len(pairs) == 0:
        raise ValueError("pairs is empty: pass at least one (ticker, ticker) pair.")
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
    if not 1 <= n_pairs <= n_all:
        raise ValueError(f"n_pairs must lie in [1, {n_all}] for {n} stocks, got {n_pairs}.")
    C = np.corrcoef(returns.to_numpy(), rowvar=False)
    iu = np.triu_indices(n, 1)
    all_corr = C[iu]
    n_draws = _check_n_draws(n_draws)
    rng = np.random.default_rng(seed)
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
    n_draws = _check_n_draws(n_draws)
    rng = np.random.default_rng(seed)
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
    if not 1 <= size <= n_stocks:
        raise ValueError(f"size must lie in [1, n_stocks={n_stocks}], got {size}.")
    n_draws = _check_n_draws(n_draws)
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n_draws, n_stocks)), axis=1)[:, :size]


def _check_n_draws(n_draws: Any) -> int:
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1 (for example n_draws=1000), got {n_draws!r}.")
    return int(n_draws)


def _check_picks(returns: pd.DataFrame, picks: Any) -> np.ndarray:
    check_frame(returns, "returns")
    picks = np.asarray(picks)
    if picks.ndim != 2 or picks.size == 0:
        raise ValueError(f"picks must be a non-empty (n_draws, size) array of column indices, got shape {picks.shape}.")
    if not np.issubdtype(picks.dtype, np.integer) or picks.min() < 0 or picks.max() >= returns.shape[1]:
        raise ValueError(f"picks must hold integer column indices in [0, {returns.shape[1] - 1}].")
    return picks


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
        raise ValueError("each portfolio needs at least 2 stocks to have a pairwise correlation.")
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
