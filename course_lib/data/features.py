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

from .._validation import InputTypeError, align_columns, check_frame, check_nonnegative_int, check_positive_int, check_real

__all__ = ["log_returns", "rolling_features", "chronological_split", "scale_splits", "Splits"]


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
    check_frame(prices, "prices", min_rows=2)
    bad = (prices <= 0).to_numpy()
    if bad.any():
        where = prices.columns[bad.any(axis=0)][:5].tolist()
        raise ValueError(f"prices must be strictly positive to take logs; found zero or negative prices in {where}.")
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
    window = check_positive_int(window, "window", minimum=2)
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
        Rows dropped between consecutive parts (>= 0). Use ``gap=window - 1`` when
        the features are rolling windows, so no window straddles two parts.

    Returns
    -------
    Splits

    Raises
    ------
    ValueError, TypeError
        For a frame that is not sorted by unique dates, fractions outside
        their range, a negative or non-integer ``gap``, or too few rows.
    """
    check_frame(df, "df")
    train = check_real(train, "train", low=0.0, high=1.0, low_open=True, high_open=True)
    val = check_real(val, "val", low=0.0, high=1.0, high_open=True)
    gap = check_nonnegative_int(gap, "gap")
    if train + val >= 1:
        raise ValueError(f"train + val must be < 1 so a test part remains; got train={train}, val={val}.")
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

    Parameters
    ----------
    splits : Splits
        From :func:`chronological_split`: ``train`` has at least 2 rows; ``val``
        and ``test`` may be empty. Columns are matched by label: a part whose
        columns are in another order is reordered to ``train``'s.

    Returns
    -------
    Splits
        New frames (same index; every part with ``train``'s column order) and the fitted ``scaler``.

    Raises
    ------
    ValueError, TypeError
        For NaN/inf, non-numeric or unsorted parts, parts out of time order,
        columns that cannot be matched by label, or a constant training column.
    """
    if not isinstance(splits, Splits):
        raise InputTypeError(f"splits must be a Splits (from chronological_split), got {type(splits).__name__}.")
    train = check_frame(splits.train, "splits.train", min_rows=2)
    parts = {"val": splits.val, "test": splits.test}
    last = train.index[-1]
    for name, part in parts.items():
        if not isinstance(part, pd.DataFrame):
            raise InputTypeError(f"splits.{name} must be a DataFrame, got {type(part).__name__}.")
        if part.empty:
            continue
        check_frame(part, f"splits.{name}")
        parts[name] = part = align_columns(part, train.columns, f"splits.{name}", "splits.train")
        if part.index[0] <= last:
            raise ValueError(
                f"splits.{name} starts on {part.index[0].date()}, not after the previous part (ends {last.date()}): "
                "the parts overlap or are out of order (look-ahead). Build them with chronological_split."
            )
        last = part.index[-1]
    sd = train.std(ddof=0).to_numpy()
    if np.any(sd == 0):
        const = list(train.columns[sd == 0])
        raise ValueError(
            f"splits.train has {len(const)} constant column(s) {const[:5]} (zero variance): "
            "they cannot be standardised; drop them."
        )
    scaler = StandardScaler().fit(train.to_numpy())

    def tf(part: pd.DataFrame) -> pd.DataFrame:
        if part.empty:
            return part.copy()
        return pd.DataFrame(scaler.transform(part.to_numpy()), index=part.index, columns=part.columns)

    return Splits(tf(train), tf(parts["val"]), tf(parts["test"]), scaler)
