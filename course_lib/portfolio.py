r"""From embeddings of stocks to portfolio decisions: clusters, pairs and diversification.

A stock embedding is one vector per *stock* (never per day). Two routes give one:

- :func:`stock_profiles` treats each stock as a sample: its standardised return
  trajectory over the training window, shape (n_stocks, n_days). PCA of this
  matrix is the classic "principal components of returns" route.
- :func:`decoder_loadings` trains on days (many samples) and reads each stock's
  embedding off the decoder: the average sensitivity of stock :math:`i`'s
  reconstructed return to each latent, :math:`\bar J_{i\cdot} = \frac1T \sum_t
  \partial \hat x_{t,i} / \partial z_t`, scaled by the spread of each latent. For a
  linear decoder this is exactly the factor-loading matrix :math:`B`.

The rest scores what embeddings are used for, always against a baseline:
:func:`cluster_scores` (adjusted Rand index against known sectors),
:func:`choose_k` (silhouette), :func:`nearest_neighbour_pairs` with
:func:`pair_statistics` and :func:`random_pair_baseline` (out-of-sample pair
checks), and :func:`one_per_cluster_picks`, :func:`random_picks` with
:func:`portfolio_volatility` (diversification).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from ._validation import as_2d_float, check_frame

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
    "mean_pairwise_correlation",
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


def _decoder(model: Any) -> torch.nn.Module:
    if hasattr(model, "model_"):
        model = model.model_
    if not hasattr(model, "decoder") or not hasattr(model, "encode"):
        raise ValueError(
            "decoder_loadings needs a fitted AutoencoderEmbedder or an Autoencoder (with .encode and .decoder); "
            f"got {type(model).__name__}."
        )
    return model


def decoder_loadings(model: Any, X: Any, *, scale: bool = True) -> np.ndarray:
    r"""Stock embeddings read off a day-level autoencoder: the average decoder Jacobian.

    .. math:: L_{ij} = \operatorname{sd}(z_j)\; \frac{1}{T}\sum_{t=1}^{T} \frac{\partial \hat x_{t,i}}{\partial z_{t,j}}

    Parameters
    ----------
    model : AutoencoderEmbedder or Autoencoder
        Fitted on days (rows) x stocks (columns).
    X : array-like, shape (n_days, n_stocks)
        The days at which to average the sensitivity (the training days).
    scale : bool, default True
        Multiply by the standard deviation of each latent over ``X`` so the
        result does not depend on the arbitrary scale of each latent.

    Returns
    -------
    numpy.ndarray
        Shape (n_stocks, latent_dim): one embedding per stock. For a linear
        decoder it is the loading matrix (times the latent spreads).
    """
    net = _decoder(model)
    X = as_2d_float(X, "X", min_rows=2)
    in_dim = getattr(net, "input_dim", X.shape[1])
    if X.shape[1] != in_dim:
        raise ValueError(f"X has {X.shape[1]} columns but the model was built for {in_dim} stocks.")
    dev = next(net.parameters()).device
    was_training = net.training
    net.eval()
    with torch.no_grad():
        z = net.encode(torch.from_numpy(X).to(dev))
    # d(sum_t xhat_t)/dz_t = J_t because rows are independent; one Jacobian per latent column.
    z = z.detach().requires_grad_(True)
    out = net.decoder(z)
    cols = []
    for i in range(out.shape[1]):
        (g,) = torch.autograd.grad(out[:, i].sum(), z, retain_graph=i < out.shape[1] - 1)
        cols.append(g.mean(0))
    net.train(was_training)
    L = torch.stack(cols).detach().cpu().double().numpy()
    if scale:
        L = L * z.detach().cpu().double().numpy().std(axis=0)
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


def choose_k(
    Z: Any, ks: Sequence[int] = range(2, 11), *, seed: int = 0, sample_size: int | None = 2000
) -> tuple[int, pd.Series]:
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
    rng = np.random.default_rng(seed)
    draws = np.argsort(rng.random((n_draws, n_all)), axis=1)[:, :n_pairs]
    return all_corr[draws].mean(axis=1)


def one_per_cluster_picks(labels: Any, *, n_draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Random portfolios holding exactly one stock from each cluster.

    Parameters
    ----------
    labels : array-like, shape (n_stocks,)
        Cluster label of each stock.

    Returns
    -------
    numpy.ndarray
        Shape (n_draws, n_clusters): column indices of the chosen stocks.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}.")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    return np.column_stack([g[rng.integers(0, len(g), n_draws)] for g in groups])


def random_picks(n_stocks: int, size: int, *, n_draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Random portfolios of ``size`` distinct stocks out of ``n_stocks``; shape (n_draws, size)."""
    if not 1 <= size <= n_stocks:
        raise ValueError(f"size must lie in [1, n_stocks={n_stocks}], got {size}.")
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n_draws, n_stocks)), axis=1)[:, :size]


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


def mean_pairwise_correlation(returns: pd.DataFrame, picks: Any) -> np.ndarray:
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
