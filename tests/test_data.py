import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from course_lib.data import (
    SECTORS,
    chronological_split,
    load_factor_etfs,
    load_sp500_index,
    load_sp500_prices,
    log_returns,
    make_factor_market,
    rolling_features,
    scale_splits,
)
from course_lib.metrics import factor_recovery_r2


# ---- synthetic market ---------------------------------------------------------------
def test_factor_market_shapes_and_labels():
    m = make_factor_market(n_stocks=30, n_days=200, n_factors=4, n_sectors=5, seed=1)
    assert m.returns.shape == (200, 30)
    assert m.factors.shape == (200, 4)
    assert m.loadings.shape == (30, 4)
    assert m.sectors.shape == (30,) and m.sectors.nunique() == 5
    assert isinstance(m.returns.index, pd.DatetimeIndex)
    assert (m.returns.index.dayofweek < 5).all(), "business days only"
    assert list(m.returns.columns) == list(m.loadings.index) == list(m.sectors.index)
    assert np.isfinite(m.returns.to_numpy()).all()
    assert m.kind == "linear" and (m.regime == 0).all()
    assert m.sector_codes.shape == (30,)


def test_factor_market_is_a_function_of_its_seed():
    a, b, c = (make_factor_market(n_stocks=10, n_days=50, seed=s) for s in (5, 5, 6))
    pd.testing.assert_frame_equal(a.returns, b.returns)
    assert not np.allclose(a.returns, c.returns)


def test_returns_equal_loadings_times_factors_plus_small_noise():
    m = make_factor_market(seed=2)
    resid = m.returns.to_numpy() - m.factors.to_numpy() @ m.loadings.to_numpy().T
    assert 0.007 < resid.std() < 0.017, "idiosyncratic vol between 0.8% and 1.6% a day"
    assert abs(np.corrcoef(resid[:, 0], resid[:, 1])[0, 1]) < 0.15, "idiosyncratic noise is uncorrelated"


def test_factors_have_mild_autocorrelation():
    m = make_factor_market(n_days=4000, autocorrelation=0.1, seed=0)
    f = m.factors.to_numpy()
    f = f - f.mean(0)
    acf = (f[1:] * f[:-1]).sum(0) / (f**2).sum(0)
    assert np.allclose(acf, 0.1, atol=0.05)


def test_pca_recovers_the_factors_of_a_clean_market():
    m = make_factor_market(n_stocks=100, n_days=1000, n_factors=5, seed=0)
    Z = PCA(5).fit_transform(m.returns)
    assert factor_recovery_r2(m.factors, Z).min() > 0.85


def test_sectors_are_visible_in_correlations():
    m = make_factor_market(seed=0)
    C = m.returns.corr().to_numpy()
    same = m.sector_codes[:, None] == m.sector_codes[None, :]
    off = ~np.eye(len(C), dtype=bool)
    assert C[same & off].mean() > C[~same].mean() + 0.2


def test_squared_variant_needs_an_extra_linear_dimension():
    lin = make_factor_market(seed=0)
    sq = make_factor_market(seed=0, nonlinear="squared")

    def gap(m):  # 6th eigenvalue over the 7th: ~1 when only noise is left after 5 factors
        ev = PCA(8).fit((m.returns - m.returns.mean()) / m.returns.std()).explained_variance_
        return ev[5] / ev[6]

    assert gap(lin) < 1.3
    assert gap(sq) > 3, "the squared term is a direction outside the span of the 5 factors"


def test_regime_variant_has_stress_days_with_higher_vol_and_correlation():
    m = make_factor_market(n_days=2000, nonlinear="regime", seed=0)
    assert m.kind == "regime" and 0.05 < m.regime.mean() < 0.4
    R = m.returns
    calm, stress = R[m.regime == 0], R[m.regime == 1]
    assert stress.std().mean() > 1.5 * calm.std().mean()
    mc = lambda X: X.corr().to_numpy()[~np.eye(X.shape[1], dtype=bool)].mean()  # noqa: E731
    assert mc(stress) > mc(calm)


def test_heavy_tails_option():
    from scipy.stats import kurtosis

    m = make_factor_market(n_days=3000, tails_df=4, seed=0)
    assert np.median(kurtosis(m.returns, axis=0)) > 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_stocks": 1}, "n_stocks"),
        ({"n_sectors": 200}, "n_sectors"),
        ({"nonlinear": "cubic"}, "nonlinear"),
        ({"autocorrelation": 1.0}, "autocorrelation"),
        ({"tails_df": 2}, "tails_df"),
        ({"n_factors": 0}, "n_factors"),
    ],
)
def test_factor_market_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_factor_market(**kwargs)


# ---- real prices ------------------------------------------------------------------------
def test_real_prices_are_shipped_and_complete():
    p = load_sp500_prices()
    assert p.shape == (8313, 20)
    assert p.index[0] == pd.Timestamp("1990-01-02") and p.index[-1] == pd.Timestamp("2022-12-28")
    assert set(p.columns) == set(SECTORS)
    assert len(set(SECTORS.values())) == 7
    assert np.isfinite(p.to_numpy()).all() and (p > 0).all().all()
    idx = load_sp500_index()
    assert isinstance(idx, pd.Series) and len(idx) == len(p)
    etf = load_factor_etfs()
    assert list(etf.columns) == ["MTUM", "QUAL", "SIZE", "USMV", "VLUE"]
    assert etf.index[0].year == 2014


def test_real_prices_date_slicing_and_errors():
    p = load_sp500_prices("2020-01-01", "2020-12-31")
    assert p.index.min().year == 2020 and p.index.max().year == 2020
    with pytest.raises(ValueError, match="data cover"):
        load_sp500_prices("2030-01-01")


def test_real_returns_match_the_documented_facts():
    r = log_returns(load_sp500_prices())
    z = (r - r.mean()) / r.std()
    evr = PCA(3).fit(z).explained_variance_ratio_
    assert 0.30 < evr[0] < 0.40 and 0.45 < evr.sum() < 0.55
    C = r.corr().to_numpy()
    assert 0.27 < C[~np.eye(20, dtype=bool)].mean() < 0.33


# ---- features without look-ahead -------------------------------------------------------
def _prices(n=120, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-01-01", periods=n, name="date")
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 3)), 0)), index=idx, columns=["A", "B", "C"])


def test_log_returns_values():
    p = _prices()
    r = log_returns(p)
    assert r.shape == (len(p) - 1, 3)
    assert np.allclose(r.iloc[0], np.log(p.iloc[1] / p.iloc[0]))


def test_rolling_features_shapes_and_values():
    r = log_returns(_prices())
    f = rolling_features(r, window=22)
    assert f.shape == (len(r) - 21, 9)
    assert list(f.columns.get_level_values("feature").unique()) == ["return", "mean", "vol"]
    assert np.isclose(f[("vol", "A")].iloc[0], r["A"].iloc[:22].std())
    assert np.isclose(f[("mean", "B")].iloc[-1], r["B"].iloc[-22:].mean())


def test_changing_future_prices_does_not_change_past_features():
    p = _prices()
    p2 = p.copy()
    p2.iloc[80:] *= np.linspace(1, 3, len(p) - 80)[:, None]
    f1, f2 = rolling_features(log_returns(p)), rolling_features(log_returns(p2))
    cut = p.index[79]
    pd.testing.assert_frame_equal(f1.loc[:cut], f2.loc[:cut])
    assert not f1.loc[cut:].iloc[1:].equals(f2.loc[cut:].iloc[1:])


def test_scaler_is_fitted_on_the_training_part_only():
    r = log_returns(_prices(200))
    s = chronological_split(r, 0.5, 0.25)
    r2 = r.copy()
    r2.loc[s.test.index] *= 5  # a wild future must not move the scaler
    a, b = scale_splits(s), scale_splits(chronological_split(r2, 0.5, 0.25))
    pd.testing.assert_frame_equal(a.train, b.train)
    assert np.allclose(a.scaler.mean_, r.loc[s.train.index].mean())
    assert np.allclose(a.train.mean(), 0, atol=1e-9)
    assert not np.allclose(a.test.mean(), 0, atol=1e-3)


def test_chronological_split_is_ordered_disjoint_and_gapped():
    r = log_returns(_prices(200))
    tr, va, te = chronological_split(r, 0.6, 0.2, gap=5)
    assert tr.index.max() < va.index.min() and va.index.max() < te.index.min()
    assert r.index.get_loc(va.index[0]) - r.index.get_loc(tr.index[-1]) == 6
    assert len(tr) == round(0.6 * len(r)) and len(va) == round(0.2 * len(r))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: log_returns(p.replace(p.iloc[5, 0], np.nan)), "NaN"),
        (lambda p: log_returns(-p), "strictly positive"),
        (lambda p: log_returns(p.iloc[:0]), "empty"),
        (lambda p: log_returns(p.reset_index(drop=True)), "DatetimeIndex"),
        (lambda p: log_returns(p.iloc[::-1]), "sorted"),
        (lambda p: rolling_features(log_returns(p.iloc[:10]), 22), "window=22 needs"),
        (lambda p: rolling_features(log_returns(p), 1), "window"),
        (lambda p: chronological_split(log_returns(p), 0.9, 0.2), "train"),
        (lambda p: chronological_split(log_returns(p.iloc[:4]), 0.5, 0.25, gap=2), "too few"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(_prices())
