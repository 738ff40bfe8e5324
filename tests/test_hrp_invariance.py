"""Tests for the basis-invariant embedding and hierarchical risk parity in course_lib.portfolio."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib import portfolio as pf
from course_lib.models import Autoencoder


def random_map(k, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(k, k)) + 2 * np.eye(k)
    assert np.linalg.cond(A) < 50
    return A


@pytest.mark.parametrize("hidden, act", [((), None), ((8,), "elu")])
def test_cov_scaled_embedding_distances_are_invariant_to_an_invertible_latent_map(hidden, act):
    torch.manual_seed(0)
    model = Autoencoder(12, 3, hidden_dims=hidden, activation=act)
    X = np.random.default_rng(0).normal(size=(200, 12)).astype(np.float32)
    mapped = pf.transform_latents(model, random_map(3))
    with torch.no_grad():
        x = torch.from_numpy(X)
        np.testing.assert_allclose(mapped.decoder(mapped.encode(x)), model.decoder(model.encode(x)), atol=1e-4)
    D = pf.embedding_distances(pf.decoder_loadings(model, X, scale="cov"))
    D_mapped = pf.embedding_distances(pf.decoder_loadings(mapped, X, scale="cov"))
    np.testing.assert_allclose(D_mapped, D, rtol=1e-3, atol=1e-5)
    # the per-latent sd scaling is NOT invariant to mixing the latents
    S = pf.embedding_distances(pf.decoder_loadings(model, X, scale="sd"))
    S_mapped = pf.embedding_distances(pf.decoder_loadings(mapped, X, scale="sd"))
    assert np.abs(S_mapped - S).max() > 10 * np.abs(D_mapped - D).max()


def test_cov_scaling_gives_systematic_variance_of_the_difference():
    rng = np.random.default_rng(1)
    J = rng.normal(size=(6, 3))
    Z = rng.normal(size=(5000, 3)) @ rng.normal(size=(3, 3))
    L = pf.scale_loadings(J, Z, how="cov")
    systematic = Z @ J.T  # first-order systematic returns of the 6 stocks
    var_diff = np.var(systematic[:, 0] - systematic[:, 1])
    assert np.sum((L[0] - L[1]) ** 2) == pytest.approx(var_diff, rel=1e-6)
    # whitening the latents gives the same Gram matrix
    A = np.linalg.inv(np.linalg.cholesky(np.cov(Z, rowvar=False, bias=True)))
    Lw = pf.scale_loadings(J @ np.linalg.inv(A), Z @ A.T, how="cov")
    np.testing.assert_allclose(Lw @ Lw.T, L @ L.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pf.scale_loadings(J, Z, how="sd"), J * Z.std(0))


def test_scale_and_map_bad_input():
    with pytest.raises(ValueError, match="latent columns"):
        pf.scale_loadings(np.ones((4, 3)), np.ones((10, 2)))
    with pytest.raises(ValueError, match="how"):
        pf.scale_loadings(np.ones((4, 2)), np.random.default_rng(0).normal(size=(10, 2)), how="qr")
    with pytest.raises(ValueError, match="NaN"):
        pf.scale_loadings(np.full((4, 2), np.nan), np.ones((10, 2)))
    model = Autoencoder(5, 2)
    with pytest.raises(ValueError, match="invertible"):
        pf.transform_latents(model, np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match="latents"):
        pf.transform_latents(model, np.eye(3))
    with pytest.raises(ValueError, match="scale"):
        pf.decoder_loadings(model, np.zeros((5, 5), dtype=np.float32), scale="whiten")


# HRP ---------------------------------------------------------------------------
def block_cov(sd=(0.1, 0.1, 0.2, 0.2), rho_ab=0.9):
    sd = np.asarray(sd)
    R = np.array([[1, rho_ab, 0, 0], [rho_ab, 1, 0, 0], [0, 0, 1, 0.9], [0, 0, 0.9, 1.0]])
    t = list("abcd")
    return pd.DataFrame(R * np.outer(sd, sd), index=t, columns=t)


def test_hrp_by_hand_on_two_blocks():
    cov = block_cov()
    w = pf.hrp_weights(cov)
    # each block: inverse-variance split (equal inside); block variances 0.01*0.95 and 0.04*0.95
    v1, v2 = 0.01 * 0.95, 0.04 * 0.95
    a = 1 - v1 / (v1 + v2)
    np.testing.assert_allclose(w.sort_index().to_numpy(), [a / 2, a / 2, (1 - a) / 2, (1 - a) / 2], rtol=1e-10)
    assert w.sum() == pytest.approx(1)


def test_hrp_uses_the_given_distance_tree():
    cov = block_cov((0.1, 0.15, 0.2, 0.35), rho_ab=0.5)
    # a tree that pairs a with c and b with d changes the bisection
    D = np.array([[0, 1, 0.1, 1], [1, 0, 1, 0.1], [0.1, 1, 0, 1], [1, 0.1, 1, 0.0]])
    w_tree = pf.hrp_weights(cov, distance=D)
    assert not np.allclose(w_tree.sort_index(), pf.hrp_weights(cov).sort_index())
    assert (w_tree > 0).all() and w_tree.sum() == pytest.approx(1)


def test_hrp_bad_input():
    cov = block_cov()
    with pytest.raises(ValueError, match="DataFrame"):
        pf.hrp_weights(cov.to_numpy())
    bad = cov.copy()
    bad.iloc[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pf.hrp_weights(bad)
    with pytest.raises(ValueError, match="distance has shape"):
        pf.hrp_weights(cov, distance=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        pf.hrp_weights(cov, distance=np.triu(np.ones((4, 4))))


def test_max_drawdown_and_portfolio_report():
    r = np.log([1.0, 1.1, 0.55, 1.0])
    assert pf.max_drawdown(np.concatenate([[0.0], np.diff(np.log([1, 1.1, 0.605, 0.605]))])) == pytest.approx(0.45)
    assert pf.max_drawdown(np.abs(r)) == 0.0
    idx = pd.bdate_range("2020-01-01", periods=300)
    rets = pd.DataFrame(np.random.default_rng(0).normal(0, 0.01, (300, 4)) * [1, 1, 3, 3], index=idx, columns=list("abcd"))
    ew = pd.Series(0.25, index=list("abcd"))
    rep = pf.portfolio_report({"equal": ew, "inverse vol": pf.inverse_volatility_weights(rets)}, rets)
    assert rep.loc["inverse vol", "ann. vol"] < rep.loc["equal", "ann. vol"]
    with pytest.raises(ValueError, match="exactly the tickers"):
        pf.portfolio_report({"bad": ew.iloc[:3]}, rets)
    with pytest.raises(ValueError, match="finite"):
        pf.max_drawdown([0.1, np.nan])


def test_volatility_difference_interval():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2020-01-01", periods=500)
    rets = pd.DataFrame(rng.normal(0, 0.01, (500, 3)) * [1, 1, 2], index=idx, columns=list("abc"))
    low = pd.Series([0.5, 0.5, 0.0], index=list("abc"))
    high = pd.Series([0.0, 0.0, 1.0], index=list("abc"))
    d, lo, hi = pf.volatility_difference(rets, low, high, seed=0)
    assert lo <= d <= hi and hi < 0, "half the vol of a single volatile stock: clearly lower"
    d0, lo0, hi0 = pf.volatility_difference(rets, low, low.copy())
    assert d0 == 0 and lo0 == 0 and hi0 == 0
    with pytest.raises(ValueError, match="4 blocks"):
        pf.volatility_difference(rets.iloc[:60], low, high)
    with pytest.raises(ValueError, match="w_b"):
        pf.volatility_difference(rets, low, high.iloc[:2])
