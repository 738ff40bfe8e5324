"""Checkers for Chapter 0's warm-up exercises: returns, rolling volatility, train-only scaling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ._common import Hint, call, register_hints

__all__ = ["check_log_returns", "check_rolling_volatility", "check_train_only_scaler"]


def _prices() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2020-01-01", periods=60, name="date")
    steps = rng.normal(0, 0.02, size=(60, 2))
    return pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=idx, columns=["AAA", "BBB"])


def check_log_returns(fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Check ``fn(prices) -> log returns`` (first date dropped, same columns)."""
    p = _prices()
    out = call(fn, p.copy(), what="log_returns")
    assert isinstance(out, pd.DataFrame), f"return a DataFrame (dates x tickers), got {type(out).__name__}."
    ref = np.log(p).diff().iloc[1:]
    simple = p.pct_change().iloc[1:]
    if out.shape == p.shape:
        raise AssertionError("the first row has no previous price: drop it (e.g. .iloc[1:] or .dropna()).")
    assert out.shape == ref.shape, f"expected shape {ref.shape}, got {out.shape}."
    if np.allclose(out.to_numpy(), simple.to_numpy()):
        raise AssertionError("those are simple returns P_t/P_{t-1} - 1; the log return is log(P_t) - log(P_{t-1}).")
    if np.allclose(out.to_numpy(), -ref.to_numpy()):
        raise AssertionError("the sign is flipped: the return on day t is log(P_t) - log(P_{t-1}).")
    if out.index.equals(p.index[:-1]) and np.allclose(out.to_numpy(), ref.to_numpy()):
        raise AssertionError("each return is dated one day too early (look-ahead): the return from t-1 to t belongs to day t.")
    assert out.index.equals(ref.index), "the returns should keep the dates of the prices, minus the first one."
    got = out.to_numpy(dtype=float)
    for factor, unit in ((100.0, "per cent"), (1e4, "basis points")):
        if np.allclose(got, factor * ref.to_numpy()):
            raise AssertionError(f"the returns are in {unit} ({factor:g} times too large): return plain log returns.")
    if np.allclose(got[1:], np.log(p).diff(2).iloc[2:].to_numpy()):
        raise AssertionError("each return spans two days: compare each price with the one just before it (a lag of one day).")
    assert np.allclose(out.to_numpy(), ref.to_numpy()), "the values differ from log(P_t) - log(P_{t-1})."


def check_rolling_volatility(fn: Callable[[pd.DataFrame, int], pd.DataFrame]) -> None:
    """Check ``fn(returns, window)`` is the trailing standard deviation, with no look-ahead."""
    r = np.log(_prices()).diff().iloc[1:]
    w = 5
    out = call(fn, r.copy(), w, what="rolling_volatility")
    assert isinstance(out, pd.DataFrame), f"return a DataFrame, got {type(out).__name__}."
    ref = r.rolling(w).std()
    assert out.shape == ref.shape, (
        f"keep one row per date (the first window-1 rows are NaN); expected {ref.shape}, got {out.shape}."
    )
    filled = out.fillna(0).to_numpy()
    for ww in (w - 1, w + 1):
        if np.allclose(filled, r.rolling(ww).std().fillna(0).to_numpy()):
            raise AssertionError(
                f"the window holds {ww} returns instead of window={w}: a window of w days ends on day t and starts on "
                "day t - w + 1 (off by one)."
            )
    if np.allclose(filled, r.rolling(w).var().fillna(0).to_numpy()):
        raise AssertionError("that is the rolling variance: the volatility is its square root, the standard deviation.")
    if np.allclose(out.iloc[w:].to_numpy(), r.expanding(w).std().iloc[w:].to_numpy()):
        raise AssertionError(
            "the window grows from the first date on (an expanding window): keep a fixed window of the last `window` returns."
        )
    centred = r.rolling(w, center=True).std()
    if np.allclose(out.fillna(0).to_numpy(), centred.fillna(0).to_numpy()):
        raise AssertionError("center=True uses future returns (look-ahead): the volatility on day t may only use days up to t.")
    shifted = r.shift(-(w - 1)).rolling(w).std()
    if np.allclose(out.fillna(0).to_numpy(), shifted.fillna(0).to_numpy()):
        raise AssertionError("the window looks forward: the window for day t must END on day t (a trailing window).")
    lagged = r.rolling(w).std().shift(1)
    if np.allclose(out.fillna(0).to_numpy(), lagged.fillna(0).to_numpy()):
        raise AssertionError(
            "your volatility is lagged by one day (.shift(1)). That is also free of look-ahead, but this exercise "
            "asks for the window ending ON day t; lag it later, where you use it as a forecast for day t+1."
        )
    if np.allclose(out.iloc[w:].to_numpy(), r.rolling(w).std(ddof=0).iloc[w:].to_numpy()):
        raise AssertionError("you used the population std (ddof=0); pandas' default sample std (ddof=1) is expected.")
    if np.allclose(out.iloc[w:].to_numpy(), (r.rolling(w).std() * np.sqrt(252)).iloc[w:].to_numpy()):
        raise AssertionError("this is annualised; return the daily volatility (multiply by sqrt(252) only when you report it).")
    assert out.iloc[: w - 1].isna().all().all(), f"the first {w - 1} dates have an incomplete window and must be NaN, not filled."
    assert np.allclose(out.iloc[w - 1 :].to_numpy(), ref.iloc[w - 1 :].to_numpy()), (
        "the values differ from the trailing sample standard deviation of the last `window` returns."
    )
    # No look-ahead: changing the future must not change the past.
    r2 = r.copy()
    r2.iloc[40:] *= 10
    out2 = call(fn, r2, w, what="rolling_volatility")
    assert np.allclose(out.iloc[:40].fillna(0).to_numpy(), out2.iloc[:40].fillna(0).to_numpy()), (
        "changing future returns changed past volatilities: that is look-ahead."
    )


def check_train_only_scaler(fn: Callable[[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]) -> None:
    """Check ``fn(train, test) -> (train_scaled, test_scaled)`` uses training statistics only."""
    r = np.log(_prices()).diff().iloc[1:]
    train, test = r.iloc[:40], r.iloc[40:] * 3 + 0.01
    out = call(fn, train.copy(), test.copy(), what="scale")
    assert isinstance(out, tuple) and len(out) == 2, "return a pair (train_scaled, test_scaled)."
    tr, te = (np.asarray(o, dtype=float) for o in out)
    mu, sd = train.mean().to_numpy(), train.std(ddof=0).to_numpy()
    if np.allclose(te.mean(axis=0), 0, atol=1e-8):
        raise AssertionError(
            "the test part has mean exactly 0: it was scaled with its own (or full-sample) statistics. Fit on train only."
        )
    full = pd.concat([train, test])
    if any(np.allclose(te, ((test - full.mean()) / full.std(ddof=d)).to_numpy()) for d in (0, 1)):
        raise AssertionError("you used full-sample statistics, which include the test period (look-ahead). Fit on train only.")
    sd1 = train.std(ddof=1).to_numpy()
    ok = np.allclose(te, (test.to_numpy() - mu) / sd) or np.allclose(te, (test.to_numpy() - mu) / sd1)
    t = test.to_numpy()
    if not ok and np.allclose(te, t - mu):
        raise AssertionError("the test part is centred but not scaled: divide by the training standard deviation too.")
    if not ok and any(np.allclose(te, (t - mu) / s**2) for s in (sd, sd1)):
        raise AssertionError("you divided by the variance: standardising divides by the standard deviation.")
    lo, hi = train.min().to_numpy(), train.max().to_numpy()
    if not ok and np.allclose(te, (t - lo) / (hi - lo)):
        raise AssertionError("that is min-max scaling to [0, 1]: this exercise standardises (mean 0, standard deviation 1).")
    if not ok and np.allclose(np.asarray(tr, dtype=float).mean(axis=1), 0, atol=1e-8):
        raise AssertionError(
            "each DATE (row) was standardised across tickers: compute the statistics per ticker (column), "
            "over the training dates."
        )
    assert ok, "the test part should be (test - train mean) / train std."
    assert np.allclose(tr.mean(axis=0), 0, atol=1e-8), "the training part should have mean 0 after scaling."


register_hints(
    Hint(
        "check_log_returns",
        "log_returns",
        (
            "a log return compares each day's price with the previous day's on the log scale and is dated on the later day;"
            " the first day has no previous price (Chapter 0, section 3)."
        ),
        "np.log(prices).diff() gives log(P_t) - log(P_{t-1}) on day t; drop the first row with .iloc[1:].",
    ),
    Hint(
        "check_rolling_volatility",
        "rolling_volatility",
        (
            "the volatility on day t may use returns up to day t only: a trailing window, incomplete windows left empty "
            "(Chapter 0, section 5: look-ahead bias)."
        ),
        "returns.rolling(window).std(): pandas' windows end on the current row; no center=True, no .shift(), no fillna.",
    ),
    Hint(
        "check_train_only_scaler",
        "scale",
        (
            "estimate the mean and standard deviation on the training period only and apply those same numbers to both "
            "periods (Chapter 0, section 5: look-ahead bias)."
        ),
        "mu, sd = train.mean(), train.std(); return (train - mu) / sd, (test - mu) / sd.",
    ),
)
