"""Property-based tests (Hypothesis) of the core numeric functions: metrics, losses, schedules, features, splits, scaling.

Each test states a property that must hold for every input Hypothesis can find, not only for one example.
Examples are few (``max_examples``) so the suite stays fast; ``derandomize`` makes runs repeatable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib.data import chronological_split, log_returns, rolling_features, scale_splits
from course_lib.losses import cyclical_anneal, gaussian_nll, kl_normal, linear_anneal, vae_loss
from course_lib.metrics import active_units, factor_recovery_r2, ndcg_at_k, recall_at_k, subspace_similarity, variance_explained

FAST = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


def matrices(min_rows=3, max_rows=30, min_cols=1, max_cols=6):
    shape = st.tuples(st.integers(min_rows, max_rows), st.integers(min_cols, max_cols))
    return shape.flatmap(lambda s: arrays(np.float64, s, elements=finite))


def _frame(values: np.ndarray) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=len(values), name="date")
    return pd.DataFrame(values, index=dates, columns=[f"A{i}" for i in range(values.shape[1])])


# metrics --------------------------------------------------------------------------------------------------------------
@FAST
@given(matrices())
def test_variance_explained_is_one_for_a_perfect_fit_and_zero_for_the_mean(X):
    assume(np.ptp(X, axis=0).max() > 1e-3)
    assert variance_explained(X, X) == pytest.approx(1.0)
    assert variance_explained(X, np.broadcast_to(X.mean(axis=0), X.shape)) == pytest.approx(0.0, abs=1e-6)


@FAST
@given(matrices(), st.floats(0.0, 2.0))
def test_variance_explained_never_exceeds_one_and_ignores_column_order_of_frames(X, noise):
    assume(np.ptp(X, axis=0).max() > 1e-3)
    X_hat = X + noise * np.cos(X)
    ve = variance_explained(X, X_hat)
    assert ve <= 1.0 + 1e-12
    df, dh = _frame(X), _frame(X_hat)
    assert variance_explained(df, dh[dh.columns[::-1]]) == pytest.approx(ve)


@FAST
@given(st.integers(0, 10_000), st.integers(2, 4))
def test_factor_recovery_is_one_for_any_invertible_mix_of_the_factors(seed, k):
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((60, k))
    A = rng.standard_normal((k, k)) + 3 * np.eye(k)  # invertible
    assert np.allclose(factor_recovery_r2(F, F @ A + 1.0), 1.0)
    f = _frame(F)
    assert np.allclose(factor_recovery_r2(f, f.iloc[::-1] @ A), 1.0), "rows are paired by date"


@FAST
@given(st.integers(0, 10_000))
def test_subspace_similarity_is_symmetric_bounded_and_rotation_invariant(seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    s = subspace_similarity(A, B)
    assert 0.0 <= s <= 1.0 + 1e-9
    assert s == pytest.approx(subspace_similarity(B, A))
    R = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    assert subspace_similarity(A, A @ R) == pytest.approx(1.0)


@FAST
@given(matrices(min_rows=2), st.floats(0.0, 10.0))
def test_active_units_lies_between_zero_and_the_latent_count(M, threshold):
    n = active_units(M, threshold)
    assert 0 <= n <= M.shape[1]
    assert active_units(M, threshold) >= active_units(M, threshold + 1.0)


@FAST
@given(st.integers(0, 10_000), st.integers(1, 10))
def test_ranking_metrics_lie_in_unit_interval_and_are_one_for_a_perfect_ranking(seed, k):
    rng = np.random.default_rng(seed)
    H = (rng.random((5, 12)) < 0.3).astype(float)
    H[:, 0] = 1
    S = rng.standard_normal((5, 12))
    for fn in (ndcg_at_k, recall_at_k):
        v = fn(S, H, k)
        assert ((v >= 0) & (v <= 1 + 1e-12)).all()
        assert np.allclose(fn(H + 0.01 * S, H, k), 1.0)


# losses and schedules ------------------------------------------------------------------------------------------------
tensors = arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(1, 4)), elements=st.floats(-5, 5, width=32))


pairs = st.tuples(st.integers(1, 8), st.integers(1, 4)).flatmap(
    lambda shape: st.tuples(*(arrays(np.float32, shape, elements=st.floats(-5, 5, width=32)) for _ in range(2)))
)


@FAST
@given(pairs)
def test_kl_is_non_negative_and_zero_only_at_the_prior(pair):
    m, v = (torch.from_numpy(a) for a in pair)
    assert (kl_normal(m, v) >= -1e-5).all()
    assert torch.allclose(kl_normal(torch.zeros_like(m), torch.zeros_like(v)), torch.zeros(len(m)))


@FAST
@given(tensors, st.floats(0.0, 5.0))
def test_vae_loss_is_recon_plus_beta_kl_and_nll_is_zero_for_a_perfect_reconstruction(x, beta):
    t = torch.from_numpy(x)
    assert torch.allclose(gaussian_nll(t, t), torch.zeros(len(t)))
    total, rec, kl = vae_loss(t * 0.5, t, t, t, beta)
    assert torch.isclose(total, rec + beta * kl, rtol=1e-5, atol=1e-4)
    assert rec >= 0


@FAST
@given(st.floats(0.0, 10.0), st.integers(0, 50), st.integers(0, 200))
def test_linear_anneal_rises_monotonically_to_beta_max(beta_max, warmup, epoch):
    s = linear_anneal(beta_max, warmup)
    assert 0.0 <= s(epoch) <= beta_max + 1e-12
    assert s(epoch) <= s(epoch + 1) + 1e-12
    assert s(warmup) == pytest.approx(beta_max)


@FAST
@given(st.floats(0.0, 10.0), st.integers(1, 30), st.floats(0.05, 1.0), st.integers(0, 200))
def test_cyclical_anneal_stays_within_zero_and_beta_max(beta_max, cycle, ramp, epoch):
    s = cyclical_anneal(beta_max, cycle, ramp)
    assert 0.0 <= s(epoch) <= beta_max + 1e-12
    assert s(epoch) == pytest.approx(s(epoch + cycle))


# features, splits and scaling ---------------------------------------------------------------------------------------
returns = matrices(min_rows=30, max_rows=80, min_cols=1, max_cols=4).map(lambda a: a / 1e5)


@FAST
@given(returns)
def test_log_returns_invert_to_the_prices(r):
    prices = _frame(100 * np.exp(np.cumsum(r, axis=0)))
    lr = log_returns(prices)
    rebuilt = np.log(prices.iloc[0]).to_numpy() + lr.cumsum().to_numpy()
    assert np.allclose(rebuilt, np.log(prices.iloc[1:]).to_numpy())


@FAST
@given(returns, st.integers(2, 10), st.data())
def test_rolling_features_never_look_ahead(r, window, data):
    df = _frame(r)
    cut = data.draw(st.integers(window, len(df) - 1))
    changed = df.copy()
    changed.iloc[cut:] = changed.iloc[cut:] * 3 + 1
    a, b = rolling_features(df, window), rolling_features(changed, window)
    past = a.index < df.index[cut]
    pd.testing.assert_frame_equal(a[past], b[past])


@FAST
@given(returns, st.floats(0.2, 0.7), st.floats(0.0, 0.25), st.integers(0, 3))
def test_chronological_split_parts_are_ordered_disjoint_and_complete(r, train, val, gap):
    df = _frame(r)
    try:
        s = chronological_split(df, train, val, gap=gap)
    except ValueError:
        return  # too few rows for these fractions: refused, never a silent overlap
    parts = [p for p in s if len(p)]
    for a, b in zip(parts[:-1], parts[1:]):
        assert a.index[-1] < b.index[0]
    n_gaps = gap * (2 if val > 0 else 1)
    assert sum(len(p) for p in s) == len(df) - n_gaps


@FAST
@given(returns)
def test_scale_splits_standardises_train_and_applies_train_statistics_elsewhere(r):
    df = _frame(r)
    assume((df.iloc[: int(round(0.6 * len(df)))].std(ddof=0) > 1e-9).all())
    s = chronological_split(df, 0.6, 0.2)
    z = scale_splits(s)
    assert np.allclose(z.train.mean(), 0, atol=1e-6)
    assert np.allclose(z.train.std(ddof=0), 1, atol=1e-6)
    mean, sd = s.train.mean(), s.train.std(ddof=0)
    assert np.allclose(z.test, (s.test - mean) / sd, atol=1e-6)
