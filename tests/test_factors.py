"""Tests for course_lib.factors: comparing factor models out of sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from course_lib.data import chronological_split, make_factor_market, scale_splits
from course_lib.factors import (
    aggregate_posterior_sample,
    average_loadings,
    beta_sweep,
    compare_factor_models,
    market_style_r2,
    nonlinear_recovery_r2,
    style_component,
)
from course_lib.metrics import factor_recovery_r2, variance_explained


@pytest.fixture(scope="module")
def market_splits():
    m = make_factor_market(n_stocks=30, n_days=400, n_factors=3, n_sectors=5, seed=1)
    s = scale_splits(chronological_split(m.returns, train=0.7, val=0.0))
    return m, s, m.factors.loc[s.train.index], m.factors.loc[s.test.index]


def test_compare_factor_models_matches_manual_scores(market_splits) -> None:
    m, s, Ftr, Fte = market_splits
    out = compare_factor_models({"PCA": PCA(3), "PCA1": PCA(1)}, s.train, s.test, Ftr, Fte)
    assert list(out.index) == ["PCA", "PCA1"]
    assert {"var_explained_train", "var_explained_test", "fit_seconds", "recovery_mean", "R2 MKT", "R2 F1", "R2 F2"} <= set(
        out.columns
    )
    pca = PCA(3).fit(s.train.to_numpy())
    Xte = s.test.to_numpy()
    ve = variance_explained(Xte, pca.inverse_transform(pca.transform(Xte)), center=0)
    assert out.loc["PCA", "var_explained_test"] == pytest.approx(ve, abs=1e-5)
    r2 = factor_recovery_r2(Ftr, pca.transform(s.train.to_numpy()), Fte, pca.transform(Xte))
    assert out.loc["PCA", ["R2 MKT", "R2 F1", "R2 F2"]].to_numpy() == pytest.approx(r2, abs=1e-5)
    assert out.loc["PCA", "recovery_mean"] == pytest.approx(r2.mean(), abs=1e-5)
    # more factors explain more, and recover the 3 true factors better
    assert out.loc["PCA", "var_explained_test"] > out.loc["PCA1", "var_explained_test"]
    assert out.loc["PCA", "recovery_mean"] > 0.8 > out.loc["PCA1", "recovery_mean"]
    assert isinstance(out.attrs["models"]["PCA"], PCA) and hasattr(out.attrs["models"]["PCA"], "components_")


def test_compare_factor_models_without_factors_and_without_refit(market_splits) -> None:
    _, s, _, _ = market_splits
    fitted = PCA(2).fit(s.train.to_numpy())
    out = compare_factor_models({"pca": fitted}, s.train.to_numpy(), s.test.to_numpy(), refit=False)
    assert "recovery_mean" not in out.columns and np.isnan(out.loc["pca", "fit_seconds"])
    assert out.attrs["models"]["pca"] is fitted
    named = compare_factor_models(
        {"pca": PCA(2)},
        s.train,
        s.test,
        np.zeros((len(s.train), 1)) + np.arange(len(s.train))[:, None],
        np.arange(len(s.test))[:, None] * 1.0,
        factor_names=["trend"],
    )
    assert "R2 trend" in named.columns


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(models={}), "models is empty"),
        (dict(models={"x": object()}), "has no fit"),
        (dict(X_test=np.zeros((5, 4))), "columns"),
        (dict(factors_train=np.zeros((10, 1))), "give both"),
        (dict(factors_train=np.zeros((10, 1)), factors_test=np.zeros((5, 1))), "same days"),
        (dict(X_train=np.full((10, 30), np.nan)), "NaN"),
    ],
)
def test_compare_factor_models_bad_input(market_splits, kwargs, match) -> None:
    _, s, _, _ = market_splits
    args = dict(models={"PCA": PCA(2)}, X_train=s.train, X_test=s.test)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        compare_factor_models(**args)


def test_compare_factor_models_factor_names_length(market_splits) -> None:
    _, s, Ftr, Fte = market_splits
    with pytest.raises(ValueError, match="factor_names"):
        compare_factor_models({"PCA": PCA(2)}, s.train, s.test, Ftr, Fte, factor_names=["a"])


def test_average_loadings_of_pca_are_its_components(market_splits) -> None:
    _, s, _, _ = market_splits
    pca = PCA(3).fit(s.train.to_numpy())
    L = average_loadings(pca, pca.transform(s.train.to_numpy()))
    assert L.shape == (30, 3)
    assert np.allclose(L, pca.components_.T, atol=1e-4)


class _Quadratic:
    """inverse_transform(Z) = (Z ** 2) @ W: Jacobian 2 * z_j * W[j]."""

    def __init__(self, W: np.ndarray) -> None:
        self.W = W

    def inverse_transform(self, Z):
        return (np.asarray(Z) ** 2) @ self.W


def test_average_loadings_of_a_nonlinear_decoder() -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 6))
    Z = rng.standard_normal((50, 2)) + 1.0
    L = average_loadings(_Quadratic(W), Z, eps=1e-3)
    expected = (2 * Z.mean(axis=0)[:, None] * W).T
    assert L.shape == (6, 2)
    assert np.allclose(L, expected, atol=1e-4)


def test_average_loadings_bad_input() -> None:
    W = np.ones((2, 3))
    with pytest.raises(ValueError, match="eps"):
        average_loadings(_Quadratic(W), np.ones((4, 2)), eps=0.0)
    with pytest.raises(ValueError, match="NaN"):
        average_loadings(_Quadratic(W), np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        average_loadings(_Quadratic(W), np.ones(3))

    class Bad:
        def inverse_transform(self, Z):
            return np.ones(len(Z))

    with pytest.raises(ValueError, match="inverse_transform returned shape"):
        average_loadings(Bad(), np.ones((4, 2)))


def test_beta_sweep_trades_fit_for_kl(market_splits) -> None:
    _, s, Ftr, Fte = market_splits
    out = beta_sweep(
        s.train,
        s.test,
        [0.01, 100.0],
        Ftr,
        Fte,
        n_components=3,
        hidden_dims=(16,),
        epochs=15,
        warmup_epochs=5,
        batch_size=64,
        random_state=0,
    )
    assert list(out.index) == [0.01, 100.0]
    assert {"test_recon", "test_kl", "active_units", "informative_units", "var_explained_test", "recovery_mean"} <= set(
        out.columns
    )
    assert out.loc[100.0, "informative_units"] <= out.loc[100.0, "active_units"] or out.loc[100.0, "informative_units"] == 0
    assert out.loc[100.0, "test_kl"] < out.loc[0.01, "test_kl"]
    assert out.loc[100.0, "test_recon"] > out.loc[0.01, "test_recon"]
    assert out.loc[100.0, "active_units"] <= out.loc[0.01, "active_units"]
    assert set(out.attrs["models"]) == {0.01, 100.0}
    # test_recon is the mean half squared error of the posterior-mean reconstruction
    vae = out.attrs["models"][0.01]
    Xte = s.test.to_numpy().astype(np.float32)
    rec = vae.inverse_transform(vae.transform(Xte))
    assert out.loc[0.01, "test_recon"] == pytest.approx(0.5 * ((Xte - rec) ** 2).sum(1).mean(), rel=1e-4)


@pytest.mark.parametrize("betas, match", [([], "betas is empty"), ([0.1, -1.0], ">= 0"), ([float("nan")], ">= 0")])
def test_beta_sweep_bad_betas(market_splits, betas, match) -> None:
    _, s, _, _ = market_splits
    with pytest.raises(ValueError, match=match):
        beta_sweep(s.train, s.test, betas, epochs=1)


def test_beta_sweep_bad_threshold(market_splits) -> None:
    _, s, _, _ = market_splits
    with pytest.raises(ValueError, match="kl_threshold"):
        beta_sweep(s.train, s.test, [1.0], kl_threshold=-1.0, epochs=1)


def test_beta_sweep_informative_units_count_kl_per_unit(market_splits) -> None:
    _, s, _, _ = market_splits
    out = beta_sweep(
        s.train, s.test, [0.5], n_components=3, hidden_dims=(16,), epochs=5, warmup_epochs=2, random_state=0, kl_threshold=0.0
    )
    vae = out.attrs["models"][0.5]
    mu, std = vae.posterior(s.test.to_numpy())
    kl_units = 0.5 * (mu**2 + std**2 - np.log(std**2) - 1).mean(axis=0)
    assert out.loc[0.5, "informative_units"] == int((kl_units > 0).sum())
    assert out.loc[0.5, "test_kl"] == pytest.approx(kl_units.sum(), rel=1e-3)


# --- non-linear probe, style component, aggregate posterior -------------------------------------------------------------


def test_nonlinear_probe_sees_through_a_smooth_invertible_map() -> None:
    rng = np.random.default_rng(0)
    F = rng.standard_normal((800, 2))
    Z = np.column_stack([np.tanh(1.5 * F[:, 0]) + 0.2 * F[:, 0], F[:, 1] ** 3 + F[:, 1]])  # invertible, curved
    lin = factor_recovery_r2(F[:600], Z[:600], F[600:], Z[600:])
    nonlin = nonlinear_recovery_r2(F[:600], Z[:600], F[600:], Z[600:])
    assert nonlin.shape == (2,)
    assert (nonlin > 0.9).all() and (nonlin > lin + 0.03).all()  # measured: 0.99 vs 0.93, 0.92 vs 0.73
    # on a linear map the probe loses next to nothing
    A = rng.standard_normal((2, 2)) + 2 * np.eye(2)
    assert (nonlinear_recovery_r2(F[:600], F[:600] @ A, F[600:], F[600:] @ A) > 0.97).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(latents=np.zeros((50, 2))), "same \\(training\\) days"),
        (dict(latents_test=np.zeros((9, 2))), "same \\(test\\) days"),
        (dict(latents_test=np.zeros((10, 3))), "same columns"),
        (dict(alphas=[]), "non-empty"),
        (dict(gammas=[-1.0]), "> 0"),
        (dict(val_fraction=1.5), "val_fraction"),
        (dict(factors=np.full((60, 1), np.nan)), "NaN"),
    ],
)
def test_nonlinear_probe_bad_input(kwargs, match) -> None:
    rng = np.random.default_rng(0)
    args = dict(
        factors=rng.standard_normal((60, 1)),
        latents=rng.standard_normal((60, 2)),
        factors_test=rng.standard_normal((10, 1)),
        latents_test=rng.standard_normal((10, 2)),
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        nonlinear_recovery_r2(**args)


def _etf_world(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-01", periods=n)
    mkt = pd.Series(rng.standard_normal(n) * 0.01, idx, name="MKT")
    style = rng.standard_normal(n) * 0.004  # a tradable style factor, independent of the market
    targets = pd.DataFrame(
        {
            "pure_beta": 0.8 * mkt + rng.standard_normal(n) * 0.002,
            "styled": 1.1 * mkt + style + rng.standard_normal(n) * 0.001,
        }
    )
    latents = pd.DataFrame({"z_mkt": mkt + rng.standard_normal(n) * 0.003, "z_style": style}, index=idx)
    return targets, mkt, latents, idx[:400], idx[400:]


def test_style_component_removes_the_fit_days_beta() -> None:
    targets, mkt, _, fit, test = _etf_world()
    style, betas = style_component(targets, mkt, fit)
    assert betas["pure_beta"] == pytest.approx(0.8, abs=0.02) and betas["styled"] == pytest.approx(1.1, abs=0.03)
    assert abs(np.corrcoef(style.loc[fit, "pure_beta"], mkt.loc[fit])[0, 1]) < 1e-8  # orthogonal on the fit days
    assert np.allclose(style["styled"], targets["styled"] - betas["styled"] * mkt)
    # betas use the fit days only: changing test days leaves them unchanged
    t2 = targets.copy()
    t2.loc[test] *= 5
    assert np.allclose(style_component(t2, mkt, fit)[1], betas)


def test_style_component_bad_input() -> None:
    targets, mkt, _, fit, _ = _etf_world()
    with pytest.raises(ValueError, match="same index"):
        style_component(targets, mkt.iloc[1:], fit)
    with pytest.raises(ValueError, match="at least 10"):
        style_component(targets, mkt, fit[:5])
    with pytest.raises(ValueError, match="not in returns.index"):
        style_component(targets.iloc[:100], mkt.iloc[:100], fit)
    bad = targets.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        style_component(bad, mkt, fit)
    with pytest.raises(ValueError, match="DataFrame"):
        style_component(targets["styled"], mkt, fit)


def test_market_style_r2_separates_beta_from_style() -> None:
    targets, mkt, latents, fit, test = _etf_world()
    out = market_style_r2(targets, mkt, {"Z": latents}, fit, test)
    assert list(out.index) == ["market only", "Z factors", "market + Z", "Z on style"]
    assert out.loc["market only", "pure_beta"] > 0.9 and out.loc["Z on style", "pure_beta"] < 0.05
    assert out.loc["Z on style", "styled"] > 0.8  # the latent style factor explains what the market leaves
    assert out.loc["market + Z", "styled"] > out.loc["market only", "styled"] + 0.05
    assert out.attrs["betas"]["pure_beta"] == pytest.approx(0.8, abs=0.02)
    with pytest.raises(ValueError, match="before every test day"):
        market_style_r2(targets, mkt, {"Z": latents}, test, fit)
    with pytest.raises(ValueError, match="covers every day"):
        market_style_r2(targets, mkt, {"Z": latents.iloc[5:]}, fit, test)
    with pytest.raises(ValueError, match="factors is empty"):
        market_style_r2(targets, mkt, {}, fit, test)


class _LinearDecoder:
    def __init__(self, W: np.ndarray) -> None:
        self.W = W

    def transform(self, X):
        return np.asarray(X) @ self.W

    def inverse_transform(self, Z):
        return np.asarray(Z) @ self.W.T


def test_aggregate_posterior_sample_matches_the_encoded_spread() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 4)) * np.array([3.0, 1.0, 1.0, 0.5])
    W = np.eye(4)[:, :2]
    scen, Z = aggregate_posterior_sample(_LinearDecoder(W), X, 4000, seed=1)
    assert scen.shape == (4000, 4) and Z.shape == (4000, 2)
    assert Z.std(axis=0) == pytest.approx([3.0, 1.0], rel=0.06)  # not the prior's unit spread
    again, _ = aggregate_posterior_sample(_LinearDecoder(W), X, 4000, seed=1)
    assert np.array_equal(scen, again)
    with pytest.raises(ValueError, match="n must be"):
        aggregate_posterior_sample(_LinearDecoder(W), X, 0)
    with pytest.raises(ValueError, match="NaN"):
        aggregate_posterior_sample(_LinearDecoder(W), np.full((5, 4), np.nan), 3)
