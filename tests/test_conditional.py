"""Conditional factor models and the characteristics panels: known answers, shapes, gradients, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib.conditional import (
    CAENet,
    ConditionalAutoencoder,
    LinearConditional,
    StaticPCA,
    evaluate,
    lag_characteristics,
    managed_portfolios,
    paired_r2_difference,
    predictive_r2,
    total_r2,
)
from course_lib.data import make_characteristics_panel, price_characteristics, rank_normalize
from course_lib.data.characteristics import price_panel, true_betas


@pytest.fixture(scope="module")
def panel():
    return make_characteristics_panel(n_stocks=60, n_periods=160, seed=3)


# --- generator -----------------------------------------------------------------
def test_panel_shapes_and_no_look_ahead(panel) -> None:
    T, N, P = panel.characteristics.shape
    assert (T, N, P) == (160, 60, 6)
    assert panel.returns.shape == (T, N) and panel.betas.shape == (T, N, 3) and panel.factors.shape == (T, 3)
    # betas of period t come from the characteristics at the end of t - 1, never from those of t
    assert np.allclose(panel.betas[1:], true_betas(panel.characteristics[:-1]))
    assert not np.allclose(panel.betas[1:], true_betas(panel.characteristics[1:]))
    assert panel.characteristics.min() == -0.5 and panel.characteristics.max() == 0.5
    assert np.allclose(panel.characteristics.mean(axis=1), 0.0)  # ranks are centred every period
    assert panel.signal.shape == (T, N)


def test_panel_is_reproducible_and_leaves_global_state_alone() -> None:
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    a = make_characteristics_panel(20, 30, seed=5)
    after = np.random.random()
    b = make_characteristics_panel(20, 30, seed=5)
    assert before == after
    assert np.array_equal(a.returns, b.returns)
    assert not np.array_equal(a.returns, make_characteristics_panel(20, 30, seed=6).returns)


def test_panel_noise_level_matches_the_truth(panel) -> None:
    resid = panel.returns - panel.signal
    assert 1.35 < resid.std() < 1.65  # idio_vol = 1.5
    assert np.allclose(panel.factors.mean(0), panel.premia, atol=0.35)


def test_true_betas_shapes() -> None:
    c = np.zeros((4, 5))
    assert np.allclose(true_betas(c), [[1.0, -0.5, 0.0]] * 4)
    with pytest.raises(ValueError, match="at least 4"):
        true_betas(np.zeros((3, 3)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_stocks": 5}, "n_stocks"),
        ({"n_periods": 10}, "n_periods"),
        ({"n_characteristics": 3}, "n_characteristics"),
        ({"persistence": 1.0}, "persistence"),
        ({"idio_vol": 0.0}, "idio_vol"),
        ({"premia": (0.1, 0.2)}, "premia"),
    ],
)
def test_panel_bad_input(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        make_characteristics_panel(**kwargs)


def test_rank_normalize_known_answer() -> None:
    v = np.array([[3.0, 1.0, 2.0], [0.0, 0.0, 5.0]])
    out = rank_normalize(v, axis=1)
    assert np.allclose(out, [[0.5, -0.5, 0.0], [-0.25, -0.25, 0.5]])
    with_nan = rank_normalize(np.array([[1.0, np.nan, 3.0]]), axis=1)
    assert np.isnan(with_nan[0, 1]) and np.allclose(with_nan[0, [0, 2]], [-0.5, 0.5])
    with pytest.raises(ValueError, match="at least 2 stocks"):
        rank_normalize(np.ones((3, 1)), axis=1)


# --- price characteristics -------------------------------------------------------
@pytest.fixture(scope="module")
def prices():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2000-01-03", periods=400)
    return pd.DataFrame(100 * np.exp(np.cumsum(0.01 * rng.standard_normal((400, 4)), axis=0)), idx, list("ABCD"))


def test_price_characteristics_use_only_the_past(prices) -> None:
    raw = price_characteristics(prices, rank=False)
    assert set(raw) == {"momentum", "reversal", "volatility", "market_beta"}
    logp = np.log(prices)
    t = 300
    assert np.isclose(raw["reversal"].iloc[t, 0], logp.iloc[t, 0] - logp.iloc[t - 21, 0])
    assert np.isclose(raw["momentum"].iloc[t, 1], logp.iloc[t - 21, 1] - logp.iloc[t - 252, 1])
    assert raw["volatility"].iloc[:252].isna().all().all() and raw["volatility"].iloc[252:].notna().all().all()
    # changing a future price leaves every characteristic up to t unchanged
    future = prices.copy()
    future.iloc[t + 1 :] *= 1.5
    again = price_characteristics(future, rank=False)
    for k in raw:
        pd.testing.assert_frame_equal(raw[k].iloc[: t + 1], again[k].iloc[: t + 1])
    ranked = price_characteristics(prices)
    assert ranked["momentum"].iloc[300].min() == -0.5 and ranked["momentum"].iloc[300].max() == 0.5


def test_price_characteristics_market_beta_known_answer() -> None:
    rng = np.random.default_rng(1)
    idx = pd.bdate_range("2001-01-01", periods=320)
    m = 0.01 * rng.standard_normal(320)
    r = np.column_stack([0.5 * m, 1.5 * m])  # the equal-weighted market is m itself
    p = pd.DataFrame(np.exp(np.cumsum(r, axis=0)), idx, ["lo", "hi"])
    beta = price_characteristics(p, rank=False)["market_beta"].iloc[-1]
    assert np.allclose(beta, [0.5, 1.5])


def test_price_panel_shapes(prices) -> None:
    Z, R, dates, names = price_panel(prices)
    assert Z.shape == (len(dates), 4, 4) and R.shape == (len(dates), 4) and len(names) == 4
    assert np.isfinite(Z).all() and np.isfinite(R).all() and dates.is_monotonic_increasing


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda p: p.iloc[:100], "at least 300 days"),
        (lambda p: p.assign(A=-1.0), "positive"),
        (lambda p: p.assign(A=np.nan), "NaN"),
        (lambda p: p.to_numpy(), "DataFrame"),
    ],
)
def test_price_characteristics_bad_input(prices, bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        price_characteristics(bad(prices))


# --- panel helpers and scores ------------------------------------------------------
def test_lag_and_managed_portfolios_known_answer() -> None:
    Z = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    R = np.array([[9.0, 9.0, 9.0], [1.0, 2.0, 3.0]])
    Zl, Rl = lag_characteristics(Z, R)
    assert np.array_equal(Zl, Z[:1]) and np.array_equal(Rl, R[1:])
    # Z[0] = [[0,1],[2,3],[4,5]], r_1 = [1,2,3]: (0+4+12)/3, (1+6+15)/3
    assert np.allclose(managed_portfolios(Z, R), [[16 / 3, 22 / 3]])


def test_scores_known_answers() -> None:
    R = np.array([[1.0, -1.0], [2.0, 0.0]])
    assert total_r2(R, R) == 1.0 and total_r2(R, np.zeros_like(R)) == 0.0
    assert np.isclose(total_r2(R, R / 2), 0.75)
    B = np.ones((2, 2, 1))
    assert np.isclose(predictive_r2(R, B, [0.5]), 1 - (0.25 + 2.25 + 2.25 + 0.25) / 6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: total_r2(np.ones((2, 2)), np.ones((2, 3))), "fitted has shape"),
        (lambda: total_r2(np.zeros((2, 2)), np.zeros((2, 2))), "all zero"),
        (lambda: total_r2(np.array([[np.nan, 1.0]]), np.ones((1, 2))), "finite"),
        (lambda: predictive_r2(np.ones((2, 2)), np.ones((2, 2, 2)), [1.0]), "betas must have shape"),
        (lambda: lag_characteristics(np.ones((3, 2)), np.ones((3, 2))), "characteristics must be 3-D"),
        (lambda: lag_characteristics(np.ones((3, 2, 1)), np.ones((3, 4))), "align them"),
        (lambda: managed_portfolios(np.full((3, 2, 1), np.nan), np.ones((3, 2))), "characteristics holds"),
        (lambda: StaticPCA(0), "n_factors"),
        (lambda: LinearConditional(2.5), "n_factors"),
        (lambda: ConditionalAutoencoder(2, lr=-1.0), "lr > 0"),
    ],
)
def test_bad_input_names_the_argument(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# --- models ------------------------------------------------------------------------
def _split(panel):
    Z, R = lag_characteristics(panel.characteristics, panel.returns)
    return Z[:100], R[:100], Z[100:130], R[100:130], Z[130:], R[130:]


def test_ipca_recovers_a_linear_truth_exactly_without_noise() -> None:
    rng = np.random.default_rng(0)
    T, N, P, K = 80, 40, 3, 2
    Z = rng.uniform(-0.5, 0.5, (T, N, P))
    G = rng.standard_normal((P + 1, K))
    F = rng.standard_normal((T, K)) + 0.3
    Zc = np.concatenate([np.ones((T, N, 1)), Z], axis=2)
    R = np.einsum("tnl,lk,tk->tn", Zc, G, F)
    m = LinearConditional(K).fit(Z[:60], R[:60])
    assert total_r2(R[60:], m.fitted(Z[60:], R[60:])) > 1 - 1e-8
    assert m.betas(Z).shape == (T, N, K) and m.factors(Z, R).shape == (T, K) and m.premia_.shape == (K,)
    with pytest.raises(ValueError, match="Z must have shape"):
        m.betas(Z[..., :2])


def test_static_pca_recovers_static_betas() -> None:
    rng = np.random.default_rng(1)
    T, N = 100, 30
    B = rng.standard_normal((N, 2))
    R = (rng.standard_normal((T, 2)) + 0.5) @ B.T
    Z = np.zeros((T, N, 1))
    m = StaticPCA(2).fit(Z[:70], R[:70])
    assert total_r2(R[70:], m.fitted(Z[70:], R[70:])) > 1 - 1e-10
    assert m.betas(Z[70:]).shape == (30, N, 2)
    with pytest.raises(ValueError, match="same stocks"):
        m.betas(np.zeros((3, N + 1, 1)))
    with pytest.raises(ValueError, match="exceeds the number of stocks"):
        StaticPCA(40).fit(np.zeros((50, N, 1)), rng.standard_normal((50, N)))


def test_models_rank_as_expected_on_the_nonlinear_panel(panel) -> None:
    Ztr, Rtr, Zva, Rva, Zte, Rte = _split(panel)
    scores = {
        "PCA": evaluate(StaticPCA(3).fit(Ztr, Rtr), Zte, Rte)["total_r2"],
        "IPCA": evaluate(LinearConditional(3).fit(Ztr, Rtr), Zte, Rte)["total_r2"],
        "CAE": evaluate(ConditionalAutoencoder(3, epochs=150, lr=0.02, seed=0).fit(Ztr, Rtr, Zva, Rva), Zte, Rte)["total_r2"],
    }
    oracle = total_r2(Rte, panel.signal[1:][130:])
    assert scores["PCA"] < scores["IPCA"] < scores["CAE"] <= oracle + 0.02, scores


def test_cae_shapes_history_and_global_state(panel) -> None:
    Ztr, Rtr, Zva, Rva, Zte, Rte = _split(panel)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    m = ConditionalAutoencoder(2, hidden=(8,), epochs=5, seed=1).fit(Ztr, Rtr, Zva, Rva)
    assert torch.equal(torch.rand(1), before), "fit must not touch the global torch generator"
    assert m.betas(Zte).shape == (len(Zte), 60, 2) and m.factors(Zte, Rte).shape == (len(Zte), 2)
    assert len(m.history_.train_loss) == len(m.history_.val_loss) <= 5 and 1 <= m.best_epoch_ <= 5
    again = ConditionalAutoencoder(2, hidden=(8,), epochs=5, seed=1).fit(Ztr, Rtr, Zva, Rva)
    assert np.allclose(m.betas(Zte), again.betas(Zte))
    with pytest.raises(ValueError, match="Z_val has"):
        ConditionalAutoencoder(2, epochs=2).fit(Ztr, Rtr, Zva[:, :, :3], Rva)
    with pytest.raises(ValueError, match="R holds"):
        ConditionalAutoencoder(2, epochs=2).fit(Ztr, np.where(Rtr > 3, np.nan, Rtr))


def test_cae_gradients_reach_both_networks() -> None:
    net = CAENet(4, 2, (8,))
    Z, R = torch.rand(5, 7, 4) - 0.5, torch.randn(5, 7)
    ((net(Z, R) - R) ** 2).mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert net(Z, R).shape == (5, 7)


def test_cae_training_lowers_the_loss(panel) -> None:
    Ztr, Rtr, *_ = _split(panel)
    m = ConditionalAutoencoder(3, epochs=40, lr=0.02, seed=0).fit(Ztr, Rtr)
    h = m.history_.train_loss
    assert h[-1] < 0.9 * h[0] and m.best_epoch_ == 40 and m.history_.val_loss == []


def test_paired_r2_difference_known_answer() -> None:
    rng = np.random.default_rng(0)
    R = rng.standard_normal((50, 10))
    a, b = 0.5 * R, np.zeros_like(R)
    diff, se = paired_r2_difference(R, a, b)
    assert np.isclose(diff, total_r2(R, a) - total_r2(R, b)) and se > 0
    assert paired_r2_difference(R, a, a) == (0.0, 0.0)
    with pytest.raises(ValueError, match="share one 2-D shape"):
        paired_r2_difference(R, a[:-1], b)
    with pytest.raises(ValueError, match="at least 3 periods"):
        paired_r2_difference(R[:2], a[:2], b[:2])
