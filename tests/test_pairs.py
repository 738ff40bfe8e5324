"""Tests for course_lib.pairs and course_lib.data.make_pairs_market: cointegration, half-life, z-score backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_lib import pairs as pr
from course_lib.data import make_pairs_market


@pytest.fixture(scope="module")
def market():
    return make_pairs_market(n_stocks=24, n_days=600, n_factors=3, n_sectors=3, n_pairs=4, seed=0)


def ou_pair(n=500, beta=0.8, half_life=10.0, seed=0):
    rng = np.random.default_rng(seed)
    phi = 0.5 ** (1 / half_life)
    s = np.zeros(n)
    for t in range(1, n):
        s[t] = phi * s[t - 1] + 0.01 * rng.standard_normal()
    b = np.cumsum(0.01 * rng.standard_normal(n))
    walk = np.cumsum(0.01 * rng.standard_normal(n))
    dates = pd.bdate_range("2020-01-01", periods=n)
    return pd.DataFrame({"A": 0.3 + beta * b + s, "B": b, "C": walk}, index=dates)


# generator ------------------------------------------------------------------
def test_pairs_market_plants_cointegrated_same_sector_pairs(market):
    assert len(market.pairs) == 4 and market.returns.shape == (600, 24)
    np.testing.assert_allclose(market.log_prices.to_numpy(), market.returns.cumsum().to_numpy())
    for (a, b), (_, row) in zip(market.pairs, market.truth.iterrows()):
        assert market.sectors[a] == market.sectors[b]
        spread = market.log_prices[row.follower] - row.beta * market.log_prices[row.leader]
        phi = np.corrcoef(spread[1:], spread[:-1])[0, 1]
        assert phi < 0.5 ** (1 / 40), "the planted spread must revert (half-life below 40 days)"
    assert len({t for p in market.pairs for t in p}) == 8, "pairs are disjoint"
    eg = pr.engle_granger(market.log_prices, market.pairs)
    assert (eg["p_value"] < 0.05).all()


def test_pairs_market_bad_input():
    with pytest.raises(ValueError, match="n_pairs"):
        make_pairs_market(n_stocks=12, n_sectors=3, n_pairs=7)
    with pytest.raises(ValueError, match="half_life"):
        make_pairs_market(half_life=(0, 5))
    with pytest.raises(ValueError, match="spread_vol"):
        make_pairs_market(spread_vol=0)


# hedge ratio, half-life, Engle-Granger ----------------------------------------
def test_hedge_ratio_and_half_life_are_recovered():
    px = ou_pair(n=3000, beta=0.8, half_life=10.0)
    hr = pr.hedge_ratios(px, [("A", "B"), ("C", "B")])
    assert abs(hr.loc["A-B", "beta"] - 0.8) < 0.05
    assert 7 < hr.loc["A-B", "half_life"] < 14
    assert hr.loc["A-B", "half_life"] < hr.loc["C-B", "half_life"]


def test_engle_granger_separates_cointegrated_from_random_walks():
    px = ou_pair()
    eg = pr.engle_granger(px, [("A", "B"), ("C", "B")])
    assert eg.loc["A-B", "p_value"] < 0.01
    assert eg.loc["C-B", "p_value"] > 0.05
    assert list(eg.columns) == ["adf_stat", "p_value", "beta", "half_life"]


@pytest.mark.parametrize("maxlag", [0, 1, 3])
def test_engle_granger_statistic_matches_statsmodels_coint(maxlag):
    from statsmodels.tsa.stattools import coint

    px = ou_pair(n=400, seed=3)
    eg = pr.engle_granger(px, [("A", "B"), ("C", "B"), ("B", "C")], maxlag=maxlag)
    for (a, b), (_, row) in zip([("A", "B"), ("C", "B"), ("B", "C")], eg.iterrows()):
        stat, p, _ = coint(px[a], px[b], trend="c", maxlag=maxlag, autolag=None)
        assert row.adf_stat == pytest.approx(stat, rel=1e-8)
        assert row.p_value == pytest.approx(p, rel=1e-8)


def test_vectorised_p_values_match_mackinnonp():
    from statsmodels.tsa.adfvalues import mackinnonp

    stats = np.linspace(-30, 5, 141)
    np.testing.assert_allclose(pr._mackinnon_p(stats), [mackinnonp(t, regression="c", N=2) for t in stats], rtol=1e-12)


def test_cointegration_screen_finds_planted_pairs(market):
    chosen = pr.cointegration_screen(market.log_prices, 4)
    assert len(set(chosen) & set(market.pairs)) >= 3


def test_closest_pairs_order_and_errors():
    D = np.array([[0, 1, 5], [1, 0, 2], [5, 2, 0.0]])
    assert pr.closest_pairs(D, ["x", "y", "z"], 2) == [("x", "y"), ("y", "z")]
    with pytest.raises(ValueError, match="n must"):
        pr.closest_pairs(D, ["x", "y", "z"], 4)
    with pytest.raises(ValueError, match="square"):
        pr.closest_pairs(D, ["x", "y"], 1)


def test_bad_prices_are_rejected():
    px = ou_pair(n=100)
    bad = px.copy()
    bad.iloc[5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pr.hedge_ratios(bad, [("A", "B")])
    with pytest.raises(ValueError, match="at least 30"):
        pr.engle_granger(px.iloc[:10], [("A", "B")])
    with pytest.raises(ValueError, match="not columns"):
        pr.hedge_ratios(px, [("A", "Q")])
    with pytest.raises(ValueError, match="itself"):
        pr.hedge_ratios(px, [("A", "A")])


# z-score backtest --------------------------------------------------------------
def test_backtest_by_hand_on_a_tiny_spread():
    dates = pd.bdate_range("2021-01-01", periods=40)
    rng = np.random.default_rng(0)
    b = np.cumsum(0.01 * rng.standard_normal(40))
    s = np.tile([0.0, 0.01, -0.01, 0.0], 10)
    px = pd.DataFrame({"A": b + s, "B": b}, index=dates)
    form, trade = px.iloc[:32], px.iloc[32:].copy()
    hr = pr.hedge_ratios(form, [("A", "B")]).iloc[0]
    # make the trading spread jump to +3 sd on day 2, back to 0 on day 4
    base = hr.alpha + hr.beta * trade["B"]
    trade["A"] = base + np.array([0, 3, 3, 0, 0, 0, 0, 0]) * hr.spread_sd
    bt = pr.zscore_backtest(form, trade, [("A", "B")], entry=2, exit=0.5, cost_bp=10)
    assert bt.position["A-B"].tolist() == [0, -1, -1, 0, 0, 0, 0, 0]
    assert bt.trades["A-B"] == 1
    wa, wb = 1 / (1 + abs(hr.beta)), -hr.beta / (1 + abs(hr.beta))
    ra, rb = trade["A"].diff(), trade["B"].diff()
    expected_day4 = -(wa * ra.iloc[3] + wb * rb.iloc[3]) - 10e-4
    assert bt.pnl["A-B"].iloc[3] == pytest.approx(expected_day4)
    assert bt.pnl["A-B"].iloc[1] == pytest.approx(-10e-4), "entry pays the cost, earns nothing the same day"
    assert bt.pnl["A-B"].iloc[3] > 0, "shorting a spread that falls back makes money"


def test_costs_lower_pnl_by_two_legs_per_round_trip():
    px = ou_pair(n=700)
    f, t = px.iloc[:400], px.iloc[400:]
    free = pr.zscore_backtest(f, t, [("A", "B")], cost_bp=0)
    paid = pr.zscore_backtest(f, t, [("A", "B")], cost_bp=10)
    assert free.trades.iloc[0] >= 2
    gap = free.pnl.sum().iloc[0] - paid.pnl.sum().iloc[0]
    assert gap == pytest.approx(free.trades.iloc[0] * 2 * 10e-4)
    assert free.pnl.sum().iloc[0] > 0, "a true mean-reverting pair earns before costs"


def test_backtest_rejects_overlap_and_bad_thresholds():
    px = ou_pair(n=200)
    with pytest.raises(ValueError, match="after formation"):
        pr.zscore_backtest(px.iloc[:100], px.iloc[90:], [("A", "B")])
    with pytest.raises(ValueError, match="exit < entry"):
        pr.zscore_backtest(px.iloc[:100], px.iloc[100:], [("A", "B")], entry=1, exit=1)
    with pytest.raises(ValueError, match="cost_bp"):
        pr.zscore_backtest(px.iloc[:100], px.iloc[100:], [("A", "B")], cost_bp=-1)
    with pytest.raises(ValueError, match="same columns"):
        pr.zscore_backtest(px.iloc[:100], px.iloc[100:, ::-1], [("A", "B")])


# walk forward and paired difference --------------------------------------------
def test_walk_forward_cointegration_beats_random_on_planted_pairs(market):
    res = pr.walk_forward_pairs(
        market.log_prices,
        {"cointegration": lambda f: pr.cointegration_screen(f, 4)},
        n_pairs=4,
        formation=300,
        trading=150,
        start=300,
        true_pairs=market.pairs,
        n_draws=200,
        seed=0,
    )
    t = res.table
    assert list(t.index) == ["cointegration", "random pairs"]
    assert t.loc["cointegration", "hit true pairs"] >= 0.75
    assert t.loc["cointegration", "half-life (days)"] < 15 < t.loc["random pairs", "half-life (days)"]
    assert t.loc["cointegration", "ann. return"] > t.loc["random pairs", "ann. return"]
    assert res.daily.shape == (300, 2) and res.random_returns.shape == (200,)
    assert len(res.selections["cointegration"]) == 2


def test_walk_forward_bad_windows(market):
    with pytest.raises(ValueError, match="start"):
        pr.walk_forward_pairs(market.log_prices, {"x": lambda f: []}, n_pairs=2, formation=300, trading=150, start=100)
    with pytest.raises(ValueError, match="selectors"):
        pr.walk_forward_pairs(market.log_prices, {}, n_pairs=2, formation=300, trading=150, start=300)


def test_paired_difference_ci_covers_truth_and_checks_input():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2020-01-01", periods=1260)
    covered = []
    for _ in range(200):
        a = pd.Series(0.001 + 0.01 * rng.standard_normal(1260), index=idx)
        b = pd.Series(0.01 * rng.standard_normal(1260), index=idx)
        mean, lo, hi = pr.paired_difference(a, b)
        covered.append(lo < 0.252 < hi)
    assert 0.88 < np.mean(covered) < 0.99, "the 95% interval should cover the true difference about 95% of the time"
    with pytest.raises(ValueError, match="same dates"):
        pr.paired_difference(a, b.iloc[1:])
    with pytest.raises(ValueError, match="4 blocks"):
        pr.paired_difference(a.iloc[:50], b.iloc[:50])


def test_sharpe_difference_detects_a_clear_edge_and_not_noise():
    rng = np.random.default_rng(1)
    idx = pd.bdate_range("2020-01-01", periods=756)
    common = 0.01 * rng.standard_normal(756)
    a = pd.Series(0.002 + common + 0.002 * rng.standard_normal(756), index=idx)
    b = pd.Series(common + 0.002 * rng.standard_normal(756), index=idx)
    d, lo, hi = pr.sharpe_difference(a, b, seed=0)
    assert lo <= d <= hi and lo > 0
    c = pd.Series(common + 0.002 * rng.standard_normal(756), index=idx)
    d0, lo0, hi0 = pr.sharpe_difference(c, b, seed=0)
    assert lo0 < 0 < hi0
    with pytest.raises(ValueError, match="n_boot"):
        pr.sharpe_difference(a, b, n_boot=10)
