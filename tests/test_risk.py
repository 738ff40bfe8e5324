"""Tests for course_lib.risk: covariance estimators and the walk-forward minimum-variance backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from course_lib.risk import (
    decoder_factor_covariance,
    factor_model_covariance,
    ledoit_wolf_covariance,
    min_variance_weights,
    rolling_min_variance,
    sample_covariance,
    volatility_table,
)


def _factor_returns(n_days: int = 900, n_assets: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    B = rng.normal(1.0, 0.3, (n_assets, 1))
    f = rng.standard_normal((n_days, 1)) * 0.01
    idio = rng.standard_normal((n_days, n_assets)) * np.linspace(0.005, 0.02, n_assets)
    idx = pd.bdate_range("2010-01-01", periods=n_days)
    out = pd.DataFrame(f @ B.T + idio, index=idx, columns=[f"S{i}" for i in range(n_assets)])
    out.attrs["true_cov"] = 1e-4 * B @ B.T + np.diag(np.linspace(0.005, 0.02, n_assets) ** 2)
    return out


def test_min_variance_weights_closed_form_and_diagonal_case() -> None:
    d = np.array([1.0, 4.0, 0.25])
    w = min_variance_weights(np.diag(d))
    assert w == pytest.approx((1 / d) / (1 / d).sum())
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 6))
    C = A @ A.T + 6 * np.eye(6)
    w = min_variance_weights(C)
    assert w.sum() == pytest.approx(1.0)
    # no other fully invested portfolio has lower variance
    for _ in range(20):
        v = w + rng.standard_normal(6) * 0.05
        v /= v.sum()
        assert v @ C @ v >= w @ C @ w - 1e-12


@pytest.mark.parametrize(
    "cov, match",
    [
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
        (np.ones((3, 3)), "positive definite"),
    ],
)
def test_min_variance_weights_bad_input(cov, match) -> None:
    with pytest.raises(ValueError, match=match):
        min_variance_weights(cov)


def test_sample_and_ledoit_wolf() -> None:
    X = _factor_returns(200, 8).to_numpy()
    assert sample_covariance(X) == pytest.approx(np.cov(X, rowvar=False))
    lw = ledoit_wolf_covariance(X)
    S = np.cov(X, rowvar=False, ddof=0)
    # shrinkage pulls the off-diagonal towards 0 relative to the sample estimate
    off = ~np.eye(8, dtype=bool)
    assert np.abs(lw[off]).sum() < np.abs(S[off]).sum()
    with pytest.raises(ValueError, match="NaN"):
        sample_covariance(np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="row"):
        ledoit_wolf_covariance(np.ones((1, 3)))


def test_factor_model_covariance_and_errors() -> None:
    B = np.array([[1.0], [2.0]])
    C = factor_model_covariance(B, [[0.5]], [0.1, 0.2])
    assert C == pytest.approx(np.array([[0.6, 1.0], [1.0, 2.2]]))
    with pytest.raises(ValueError, match="factors"):
        factor_model_covariance(B, np.eye(2), [0.1, 0.2])
    with pytest.raises(ValueError, match="one variance per asset"):
        factor_model_covariance(B, [[1.0]], [0.1])
    with pytest.raises(ValueError, match="> 0"):
        factor_model_covariance(B, [[1.0]], [0.1, 0.0])


def test_decoder_factor_covariance_of_pca_matches_manual() -> None:
    R = _factor_returns(400, 10)
    X = R.to_numpy()
    pca = PCA(2).fit(X)
    C = decoder_factor_covariance(pca, X)
    Z = pca.transform(X)
    resid = X - pca.inverse_transform(Z)
    expected = pca.components_.T @ np.cov(Z, rowvar=False) @ pca.components_ + np.diag(resid.var(axis=0, ddof=1))
    assert C == pytest.approx(expected, rel=1e-3, abs=1e-9)
    # on a one-factor market the one-factor model is close to the true covariance (measured: 15-19 % error)
    truth = R.attrs["true_cov"]
    C1 = decoder_factor_covariance(PCA(1).fit(X), X)
    assert np.linalg.norm(C1 - truth) < 0.3 * np.linalg.norm(truth)


def test_rolling_min_variance_beats_equal_weight_and_has_no_lookahead() -> None:
    R = _factor_returns()
    test = R.index[500:]
    ests = {"equal": lambda W: np.eye(W.shape[1]), "sample": sample_covariance, "LW": ledoit_wolf_covariance}
    port = rolling_min_variance(R, ests, test, window=250, rebalance_every=50)
    assert port.shape == (400, 3) and list(port.columns) == ["equal", "sample", "LW"]
    assert np.allclose(port["equal"], np.expm1(R.loc[test]).mean(axis=1))
    assert port["sample"].std() < port["equal"].std()
    W = port.attrs["weights"]["sample"]
    assert W.shape == (8, 12) and np.allclose(W.sum(axis=1), 1.0)
    # the weights at the first rebalance use only the 250 days before it
    first = R.index.get_loc(test[0])
    assert np.allclose(W.iloc[0], min_variance_weights(np.cov(R.iloc[first - 250 : first].to_numpy(), rowvar=False)))
    # changing the future does not change past weights
    R2 = R.copy()
    R2.iloc[first:] *= 3.0
    port2 = rolling_min_variance(R2, ests, test, window=250, rebalance_every=50)
    assert np.allclose(port2.attrs["weights"]["sample"].iloc[0], W.iloc[0])


def test_rolling_min_variance_bad_input() -> None:
    R = _factor_returns(300, 4)
    ests = {"sample": sample_covariance}
    with pytest.raises(ValueError, match="window"):
        rolling_min_variance(R, ests, R.index[100:], window=200)
    with pytest.raises(ValueError, match="not in returns.index"):
        rolling_min_variance(R, ests, pd.bdate_range("2030-01-01", periods=3), window=10)
    with pytest.raises(ValueError, match="estimators is empty"):
        rolling_min_variance(R, {}, R.index[100:], window=50)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        rolling_min_variance(R.reset_index(drop=True), ests, R.index[100:], window=50)
    bad = R.copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rolling_min_variance(bad, ests, R.index[100:], window=50)
    with pytest.raises(ValueError, match="returned shape"):
        rolling_min_variance(R, {"bad": lambda W: np.eye(2)}, R.index[100:], window=50)


def test_volatility_table_paired_difference() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(2520) * 0.01
    P = pd.DataFrame({"a": a, "double": 2 * a, "same": a.copy()})
    t = volatility_table(P, "a")
    assert t.loc["a", "vol"] == pytest.approx(0.01 * np.sqrt(252), rel=0.05)
    assert t.loc["double", "vol"] == pytest.approx(2 * t.loc["a", "vol"])
    assert t.loc["same", "diff_vs_a"] == 0 and t.loc["same", "ci_low"] == 0
    assert t.loc["double", "ci_low"] > 0  # clearly more volatile
    # delta method: (4 - 1) * var / (2 * vol) = 1.5 * vol
    assert t.loc["double", "diff_vs_a"] == pytest.approx(1.5 * t.loc["a", "vol"], rel=0.05)
    with pytest.raises(ValueError, match="baseline"):
        volatility_table(P, "zzz")
    with pytest.raises(ValueError, match="blocks"):
        volatility_table(P.iloc[:30], "a", block=21)
