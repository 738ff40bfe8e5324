"""Chapter 0 checkers pass right answers and catch typical wrong ones with the right hint."""

import numpy as np
import pandas as pd
import pytest

from course_lib.checks import (
    check_kl_normal,
    check_log_returns,
    check_rolling_volatility,
    check_train_only_scaler,
)


# ---- Chapter 0 warm-ups ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda p: np.log(p).diff(), "drop it"),
        (lambda p: p.pct_change().iloc[1:], "simple returns"),
        (lambda p: -np.log(p).diff().iloc[1:], "sign is flipped"),
        (lambda p: np.log(p).diff().iloc[1:].to_numpy(), "DataFrame"),
        (lambda p: -np.log(p).diff(-1).iloc[:-1], "one day too early"),
    ],
)
def test_check_log_returns_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_log_returns(wrong)


def test_check_log_returns_passes():
    check_log_returns(lambda p: np.log(p / p.shift(1)).dropna())


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, w: r.rolling(w, center=True).std(), "look-ahead"),
        (lambda r, w: r.shift(-(w - 1)).rolling(w).std(), "looks forward"),
        (lambda r, w: r.rolling(w).std(ddof=0), "ddof=0"),
        (lambda r, w: r.rolling(w).std() * np.sqrt(252), "annualised"),
        (lambda r, w: r.rolling(w, min_periods=1).std(), "must be NaN"),
        (lambda r, w: r.rolling(w).std().dropna(), "one row per date"),
        (lambda r, w: r.rolling(w).std().shift(1), "lagged by one day"),
    ],
)
def test_check_rolling_volatility_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_rolling_volatility(wrong)


def test_check_rolling_volatility_passes():
    check_rolling_volatility(lambda r, w: r.rolling(window=w).std())


def _scale_full(train, test):
    full = pd.concat([train, test])
    mu, sd = full.mean(), full.std(ddof=0)
    return (train - mu) / sd, (test - mu) / sd


def _scale_full_ddof1(train, test):
    full = pd.concat([train, test])
    return (train - full.mean()) / full.std(), (test - full.mean()) / full.std()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - te.mean()) / te.std()), "its own"),
        (_scale_full, "full-sample"),
        (lambda tr, te: _scale_full_ddof1(tr, te), "full-sample"),
        (lambda tr, te: (tr - tr.mean()) / tr.std(), "pair"),
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / te.std()), "train mean\\) / train std"),
    ],
)
def test_check_train_only_scaler_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_train_only_scaler(wrong)


def test_check_train_only_scaler_passes():
    from sklearn.preprocessing import StandardScaler

    def ok(train, test):
        s = StandardScaler().fit(train)
        return s.transform(train), s.transform(test)

    check_train_only_scaler(ok)
    check_train_only_scaler(lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / tr.std()))


def test_failing_checks_hide_the_reference_code_from_the_traceback():
    import traceback

    try:
        check_kl_normal(lambda mu, lv: (mu**2 + lv.exp() - lv - 1).sum(1))
    except AssertionError as exc:
        text = "".join(traceback.format_exception(exc))
    assert "did you drop the 1/2" in text
    assert "kl_divergence" not in text, "the checker's reference computation must not show"
    assert check_kl_normal.__name__ == "check_kl_normal" and "KL" in check_kl_normal.__doc__
