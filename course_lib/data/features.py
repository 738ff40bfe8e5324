r"""Feature engineering without look-ahead.

Every feature on date :math:`t` uses prices up to and including :math:`t` only,
and every scaler is fitted on the training period only. Splits are
chronological: the validation period follows the training period and the test
period follows both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from .._validation import check_frame


def log_returns(prices: pd.DataFrame) -> pd.DataFrame:
    r"""Daily log returns :math:`r_t = \log P_t - \log P_{t-1}`.

    Parameters
    ----------
    prices : pandas.DataFrame
        Shape (n_days, n_assets), strictly positive, DatetimeIndex.

    Returns
    -------
    pandas.DataFrame
        Shape (n_days - 1, n_assets); the first date is dropped because it
        has no previous price.
    """
    if isinstance(prices, pd.Series):
        prices = prices.to_frame()
    check_frame(prices, "prices")
    if (prices <= 0).to_numpy().any():
        raise ValueError("prices must be strictly positive to take logs; found zero or negative prices.")
    if len(prices) < 2:
        raise ValueError("need at least 2 dates of prices to compute a return.")
    return np.log(prices).diff().iloc[1:]


def rolling_features(returns: pd.DataFrame, window: int = 22) -> pd.DataFrame:
    """Per-asset return, trailing mean and trailing volatility.

    The mean and volatility on date t use the ``window`` returns ending at t
    (inclusive), so nothing from the future leaks in.

    Parameters
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_assets) of (log) returns.
    window : int, default 22
        Trailing window in trading days (22 is about one month).

    Returns
    -------
    pandas.DataFrame
        Shape (n_days - window + 1, 3 * n_assets) with two column levels:
        ``feature`` in {"return", "mean", "vol"} and ``ticker``. The first
        ``window - 1`` dates are dropped because their window is incomplete.
    """
    check_frame(returns, "returns")
    if not isinstance(window, (int, np.integer)) or window < 2:
        raise ValueError(f"window must be an integer >= 2, got {window!r}.")
    if len(returns) < window:
        raise ValueError(
            f"returns has {len(returns)} rows but window={window} needs at least {window}: "
            "use a longer date range or a shorter window."
        )
    roll = returns.rolling(window, min_periods=window)
    feats = pd.concat({"return": returns, "mean": roll.mean(), "vol": roll.std()}, axis=1, names=["feature", "ticker"])
    return feats.iloc[window - 1 :]


@dataclass
class Splits:
    """Three chronological parts of a time-indexed frame.

    Attributes
    ----------
    train, val, test : pandas.DataFrame
        Consecutive, non-overlapping date ranges (in that order).
    scaler : sklearn.preprocessing.StandardScaler or None
        Fitted on ``train`` only, when the splits were scaled.
    """

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    scaler: StandardScaler | None = None

    def __iter__(self):
        return iter((self.train, self.val, self.test))


def chronological_split(df: pd.DataFrame, train: float = 0.6, val: float = 0.2, *, gap: int = 0) -> Splits:
    """Split rows in time order into train, validation and test parts.

    Parameters
    ----------
    df : pandas.DataFrame
        Shape (n_days, n_features), sorted by date.
    train, val : float
        Fractions of rows for training and validation; the rest is test.
    gap : int, default 0
        Rows dropped between consecutive parts. Use ``gap=window - 1`` when
        the features are rolling windows, so no window straddles two parts.

    Returns
    -------
    Splits
    """
    check_frame(df, "df")
    if not (0 < train < 1 and 0 <= val < 1 and train + val < 1):
        raise ValueError(f"need 0 < train < 1, 0 <= val and train + val < 1; got train={train}, val={val}.")
    n = len(df)
    n_tr = int(round(n * train))
    n_va = int(round(n * val))
    if n_tr < 1 or n - n_tr - n_va - 2 * gap < 1 or (val > 0 and n_va < 1):
        raise ValueError(f"{n} rows are too few for train={train}, val={val}, gap={gap}.")
    tr = df.iloc[:n_tr]
    va = df.iloc[n_tr + gap : n_tr + gap + n_va]
    te = df.iloc[n_tr + gap + n_va + gap :] if val > 0 else df.iloc[n_tr + gap :]
    return Splits(tr, va, te)


def scale_splits(splits: Splits) -> Splits:
    """Standardise every part with a scaler fitted on the training part only.

    Returns
    -------
    Splits
        New frames (same index and columns) and the fitted ``scaler``.
    """
    scaler = StandardScaler().fit(splits.train.to_numpy())
    if np.any(scaler.scale_ == 0) or np.any(splits.train.std(ddof=0).to_numpy() == 0):
        const = list(splits.train.columns[splits.train.std(ddof=0).to_numpy() == 0])
        raise ValueError(f"columns {const[:5]} are constant on the training part and cannot be standardised.")

    def tf(part: pd.DataFrame) -> pd.DataFrame:
        if part.empty:
            return part.copy()
        return pd.DataFrame(scaler.transform(part.to_numpy()), index=part.index, columns=part.columns)

    return Splits(tf(splits.train), tf(splits.val), tf(splits.test), scaler)
