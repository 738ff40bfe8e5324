"""Input checks shared by the library: clear errors instead of silent surprises."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def as_2d_float(X: Any, name: str = "X", *, min_rows: int = 1) -> np.ndarray:
    """Return ``X`` as a finite float32 array of shape (n_samples, n_features).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has fewer than ``min_rows`` rows or no columns,
        or holds NaN or infinite values.
    """
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy()
    try:
        arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; converting it failed: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}. "
            "Reshape a single sample with X.reshape(1, -1) or a single feature with X.reshape(-1, 1)."
        )
    if arr.shape[0] < min_rows or arr.shape[1] == 0:
        raise ValueError(
            f"{name} has shape {arr.shape}: need at least {min_rows} row(s) and one column. "
            "Check the date range or filters that produced it."
        )
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str = "X") -> None:
    """Raise a ``ValueError`` naming the count and first position of NaN/inf values."""
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s) (first at index {first}). "
            "Drop or fill them explicitly before calling this function, e.g. with "
            "df.dropna() or df.ffill(); nothing is dropped silently."
        )


def check_frame(df: Any, name: str) -> pd.DataFrame:
    """Check that ``df`` is a non-empty DataFrame with a DatetimeIndex and finite values."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame (dates x tickers), got {type(df).__name__}.")
    if df.empty:
        raise ValueError(f"{name} is empty: check the date range or tickers you selected.")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise ValueError(f"{name} must have a DatetimeIndex; use pd.to_datetime on the index first.")
    if not df.index.is_monotonic_increasing:
        raise ValueError(f"{name} must be sorted by date; call .sort_index() first.")
    check_finite(df.to_numpy(dtype=float), name)
    return df
