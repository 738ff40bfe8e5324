"""Tests for course_lib.portfolio: stock embeddings, clustering scores, pairs and diversification."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.decomposition import PCA

from course_lib import portfolio as pf
from course_lib.data import make_factor_market
from course_lib.estimators import AutoencoderEmbedder
from course_lib.models import Autoencoder


@pytest.fixture(scope="module")
def market():
    return make_factor_market(n_stocks=40, n_days=500, n_factors=3, n_sectors=4, seed=0)


def blobs(n_per=10, k=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = 20.0 * np.eye(k)
    d = k
    Z = np.repeat(centres, n_per, axis=0) + rng.normal(size=(k * n_per, d))
    return Z, np.repeat(np.arange(k), n_per)


# stock_profiles -------------------------------------------------------------
def test_stock_profiles_shape_and_standardisation(market):
    prof = pf.stock_profiles(market.returns, center_days=False)
    assert prof.shape == (40, 500)
    assert list(prof.index) == list(market.returns.columns)
    np.testing.assert_allclose(prof.mean(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(prof.std(axis=1), 1, atol=1e-10)
    centred = pf.stock_profiles(market.returns)
    np.testing.assert_allclose(centred.mean(axis=0), 0, atol=1e-10)


def test_stock_profiles_pca_matches_correlation_eigenvectors(market):
    prof = pf.stock_profiles(market.returns, center_days=False)
    scores = PCA(3).fit_transform(prof.to_numpy() - prof.to_numpy().mean(0))
    assert scores.shape == (40, 3)


def test_stock_profiles_bad_input(market):
    bad = market.returns.copy()
    bad.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pf.stock_profiles(bad)
    const = market.returns.copy()
    const.iloc[:, 0] = 0.01
    with pytest.raises(ValueError, match="constant"):
        pf.stock_profiles(const)
    with pytest.raises(ValueError, match="at least 3 days"):
        pf.stock_profiles(market.returns.iloc[:2])


# decoder_loadings -----------------------------------------------------------
def test_decoder_loadings_of_linear_decoder_is_its_matrix():
    torch.manual_seed(0)
    model = Autoencoder(6, 2, hidden_dims=(), activation=None)
    X = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    L = pf.decoder_loadings(model, X, scale=False)
    np.testing.assert_allclose(L, model.decoder[0].weight.detach().numpy(), atol=1e-6)
    with torch.no_grad():
        zsd = model.encode(torch.from_numpy(X)).numpy().std(0)
    np.testing.assert_allclose(pf.decoder_loadings(model, X), L * zsd, rtol=1e-5)


def test_decoder_loadings_nonlinear_matches_finite_differences():
    torch.manual_seed(1)
    model = Autoencoder(5, 2, hidden_dims=(8,), activation="tanh").double().float()
    X = np.random.default_rng(1).normal(size=(30, 5)).astype(np.float32)
    L = pf.decoder_loadings(model, X, scale=False)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(X)).double()
        dec = model.decoder.double()
        eps = 1e-5
        fd = np.stack(
            [((dec(z + eps * torch.eye(2)[j]) - dec(z - eps * torch.eye(2)[j])) / (2 * eps)).mean(0).numpy() for j in range(2)],
            axis=1,
        )
    np.testing.assert_allclose(L, fd, atol=1e-4)


def test_decoder_loadings_is_the_average_jacobian_of_factors(market):
    from course_lib.factors import average_loadings

    X = (market.returns.to_numpy() / market.returns.to_numpy().std()).astype(np.float32)
    emb = AutoencoderEmbedder(latent_dim=2, hidden_dims=(8,), activation="elu", epochs=2, random_state=0).fit(X)
    z = emb.transform(X)
    np.testing.assert_allclose(pf.decoder_loadings(emb, X, scale=False), average_loadings(emb, z), atol=1e-3)


def test_decoder_loadings_accepts_embedder_and_checks_input(market):
    X = market.returns.to_numpy() / market.returns.to_numpy().std()
    emb = AutoencoderEmbedder(latent_dim=2, hidden_dims=(8,), epochs=2, random_state=0).fit(X)
    L = pf.decoder_loadings(emb, X)
    assert L.shape == (40, 2) and np.isfinite(L).all()
    with pytest.raises(ValueError, match="columns"):
        pf.decoder_loadings(emb, X[:, :10])
    with pytest.raises(ValueError, match="AutoencoderEmbedder"):
        pf.decoder_loadings(PCA(2), X)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pf.decoder_loadings(emb, Xn)


# clustering -----------------------------------------------------------------
def test_cluster_scores_perfect_and_random():
    Z, y = blobs()
    rng = np.random.default_rng(0)
    s = pf.cluster_scores({"blobs": Z, "noise": rng.normal(size=Z.shape)}, y, 4)
    assert s["blobs"] == pytest.approx(1.0)
    assert s["noise"] < 0.3


def test_cluster_scores_catches_days_instead_of_stocks():
    Z, y = blobs()
    with pytest.raises(ValueError, match="one row per stock"):
        pf.cluster_scores({"days": np.zeros((100, 3))}, y, 4)
    with pytest.raises(ValueError, match="empty"):
        pf.cluster_scores({}, y, 4)


def test_kmeans_labels_validates_k():
    Z, _ = blobs()
    assert pf.kmeans_labels(Z, 4).shape == (40,)
    with pytest.raises(ValueError, match="k must be"):
        pf.kmeans_labels(Z, 0)
    with pytest.raises(ValueError, match="k must be"):
        pf.kmeans_labels(Z, 41)


def test_choose_k_finds_the_blobs():
    Z, _ = blobs(k=5)
    k, sil = pf.choose_k(Z, range(2, 9))
    assert k == 5
    assert sil.idxmax() == 5 and list(sil.index) == list(range(2, 9))
    with pytest.raises(ValueError, match="every k"):
        pf.choose_k(Z, [1, 2])


# pairs ----------------------------------------------------------------------
def test_nearest_neighbour_pairs():
    Z = np.array([[0.0, 0], [0.1, 0], [5, 5], [5, 5.2], [9, 0]])
    names = ["A", "B", "C", "D", "E"]
    pairs = pf.nearest_neighbour_pairs(Z, names)
    assert ("A", "B") in pairs and ("C", "D") in pairs
    assert len(pairs) == len(set(pairs)) == 3  # E pairs with its nearest (B or D side), no duplicates
    D = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    assert pf.nearest_neighbour_pairs(D, names, metric="precomputed") == pairs
    with pytest.raises(ValueError, match="names has"):
        pf.nearest_neighbour_pairs(Z, names[:3])
    with pytest.raises(ValueError, match="square"):
        pf.nearest_neighbour_pairs(Z, names, metric="precomputed")
    with pytest.raises(ValueError, match="metric"):
        pf.nearest_neighbour_pairs(Z, names, metric="cosine")


def test_pair_statistics_and_random_baseline(market):
    R = market.returns
    st = pf.pair_statistics(R, [("STK000", "STK001"), ("STK000", "STK039")])
    assert list(st.columns) == ["corr", "spread_vol"] and list(st.index) == ["STK000-STK001", "STK000-STK039"]
    assert st.loc["STK000-STK001", "corr"] == pytest.approx(R["STK000"].corr(R["STK001"]))
    assert st.loc["STK000-STK001", "spread_vol"] == pytest.approx((R["STK000"] - R["STK001"]).std() * np.sqrt(252))
    same_sector = st.loc["STK000-STK001", "corr"]
    base = pf.random_pair_baseline(R, 5, n_draws=200, seed=0)
    assert base.shape == (200,)
    assert same_sector > base.mean()
    C = R.corr().to_numpy()
    assert base.mean() == pytest.approx(C[np.triu_indices(40, 1)].mean(), abs=0.03)
    with pytest.raises(ValueError, match="not columns"):
        pf.pair_statistics(R, [("STK000", "XXX")])
    with pytest.raises(ValueError, match="empty"):
        pf.pair_statistics(R, [])
    with pytest.raises(ValueError, match="n_pairs"):
        pf.random_pair_baseline(R, 0)
    with pytest.raises(ValueError, match="n_draws must be an integer >= 1"):
        pf.random_pair_baseline(R, 5, n_draws=0)


# diversification ------------------------------------------------------------
def test_one_per_cluster_and_random_picks():
    labels = np.array([0, 0, 1, 1, 1, 2])
    picks = pf.one_per_cluster_picks(labels, n_draws=300, seed=0)
    assert picks.shape == (300, 3)
    np.testing.assert_array_equal(labels[picks], np.tile([0, 1, 2], (300, 1)))
    assert set(picks[:, 1]) == {2, 3, 4}
    r = pf.random_picks(6, 3, n_draws=300, seed=0)
    assert r.shape == (300, 3)
    assert all(len(set(row)) == 3 for row in r)
    with pytest.raises(ValueError, match="size"):
        pf.random_picks(6, 7)
    with pytest.raises(ValueError, match="labels"):
        pf.one_per_cluster_picks(np.zeros((2, 2)))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="n_draws must be an integer >= 1"):
            pf.one_per_cluster_picks(labels, n_draws=bad)
        with pytest.raises(ValueError, match="n_draws must be an integer >= 1"):
            pf.random_picks(6, 3, n_draws=bad)


def test_portfolio_volatility_and_correlation():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2020-01-01", periods=400)
    common = rng.normal(size=400)
    R = pd.DataFrame(
        np.column_stack([common + 0.1 * rng.normal(size=400), common + 0.1 * rng.normal(size=400), rng.normal(size=400)]) * 0.01,
        index=idx,
        columns=["A", "B", "C"],
    )
    vol = pf.portfolio_volatility(R, np.array([[0, 1], [0, 2]]))
    w = np.array([0.5, 0.5])
    assert vol[0] == pytest.approx(np.sqrt(w @ R[["A", "B"]].cov().to_numpy() @ w * 252))
    assert vol[1] < vol[0]  # an uncorrelated partner diversifies
    mpc = pf.mean_pick_correlation(R, np.array([[0, 1], [0, 2], [0, 1]]))
    assert mpc[0] == pytest.approx(R["A"].corr(R["B"])) and mpc[0] == mpc[2]
    assert abs(mpc[1]) < 0.15
    with pytest.raises(ValueError, match="column indices"):
        pf.portfolio_volatility(R, np.array([[0, 3]]))
    with pytest.raises(ValueError, match="non-empty"):
        pf.portfolio_volatility(R, np.array([0, 1]))
    with pytest.raises(ValueError, match="at least 2"):
        pf.mean_pick_correlation(R, np.array([[0], [1]]))


def test_choose_k_subsamples_large_inputs():
    Z, _ = blobs(n_per=300, k=3)
    k, sil = pf.choose_k(Z, range(2, 5), sample_size=200)
    assert k == 3
    k_full, sil_full = pf.choose_k(Z, range(2, 5), sample_size=None)
    assert k_full == 3 and abs(sil[3] - sil_full[3]) < 0.05


# reports ---------------------------------------------------------------------
def test_pair_report_against_its_baselines(market):
    R = market.returns
    train, test = R.iloc[:300], R.iloc[300:]
    names = list(R.columns)
    corr = train.corr().to_numpy()
    Z = market.loadings.to_numpy()
    pairs, stats, table, random_means = pf.pair_report(Z, corr, test, names, n_draws=300, seed=1)
    assert pairs == pf.nearest_neighbour_pairs(Z, names)
    assert list(stats.index) == [f"{a}-{b}" for a, b in pairs]
    assert list(table.index) == ["embedding neighbours", "most correlated (train)", "random pairs (mean of draws)"]
    assert list(table.columns) == ["pairs", "test correlation", "test spread vol"]
    assert table.loc["embedding neighbours", "pairs"] == len(pairs)
    assert table.loc["embedding neighbours", "test correlation"] == pytest.approx(stats["corr"].mean())
    assert random_means.shape == (300,)
    np.testing.assert_allclose(random_means, pf.random_pair_baseline(test, len(pairs), n_draws=300, seed=1))
    assert table.loc["embedding neighbours", "test correlation"] > np.quantile(random_means, 0.99)  # sectors co-move
    with pytest.raises(ValueError, match="training correlation matrix"):
        pf.pair_report(Z, corr[:5, :5], test, names)
    with pytest.raises(ValueError, match="same order"):
        pf.pair_report(Z, corr, test[names[::-1]], names)
    with pytest.raises(ValueError, match="n_draws"):
        pf.pair_report(Z, corr, test, names, n_draws=0)


def test_diversification_report(market):
    R = market.returns
    labels = market.sectors.to_numpy()
    rep = pf.diversification_report(labels, R, n_draws=400, seed=0)
    assert list(rep.index) == ["one per cluster", "random"]
    assert list(rep.columns) == ["mean pairwise corr", "mean stock vol", "portfolio vol"]
    picks = pf.one_per_cluster_picks(labels, n_draws=400, seed=0)
    assert rep.loc["one per cluster", "portfolio vol"] == pytest.approx(pf.portfolio_volatility(R, picks).mean())
    rnd = pf.random_picks(R.shape[1], 4, n_draws=400, seed=1)
    assert rep.loc["random", "mean pairwise corr"] == pytest.approx(pf.mean_pick_correlation(R, rnd).mean())
    # one stock per true sector holds less correlated stocks than random picks
    assert rep.loc["one per cluster", "mean pairwise corr"] < rep.loc["random", "mean pairwise corr"]
    with pytest.raises(ValueError, match="one cluster label per stock"):
        pf.diversification_report(labels[:5], R)
    with pytest.raises(ValueError, match="single cluster"):
        pf.diversification_report(np.zeros(R.shape[1]), R)
    with pytest.raises(ValueError, match="n_draws"):
        pf.diversification_report(labels, R, n_draws=0)
