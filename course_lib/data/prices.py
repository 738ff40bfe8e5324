"""Real daily prices shipped with the package.

The three files come from the BSD-3-licensed skfolio project (see
``_files/LICENSE-skfolio.txt``); skfolio is not needed at run time.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from .._validation import InputTypeError

__all__ = ["SECTORS", "load_sp500_prices", "load_sp500_index", "load_factor_etfs"]

#: GICS sector of each of the 20 stocks in :func:`load_sp500_prices` (7 sectors).
SECTORS: dict[str, str] = {
    "AAPL": "Information Technology",
    "AMD": "Information Technology",
    "MSFT": "Information Technology",
    "BAC": "Financials",
    "JPM": "Financials",
    "BBY": "Consumer Discretionary",
    "HD": "Consumer Discretionary",
    "CVX": "Energy",
    "RRC": "Energy",
    "XOM": "Energy",
    "GE": "Industrials",
    "JNJ": "Health Care",
    "LLY": "Health Care",
    "MRK": "Health Care",
    "PFE": "Health Care",
    "UNH": "Health Care",
    "KO": "Consumer Staples",
    "PEP": "Consumer Staples",
    "PG": "Consumer Staples",
    "WMT": "Consumer Staples",
}


def _read(name: str) -> pd.DataFrame:
    path = resources.files("course_lib.data").joinpath("_files", name)
    with resources.as_file(path) as p:
        df = pd.read_csv(p, index_col="Date", parse_dates=True)
    df.index.name = "date"
    df.columns.name = "ticker"
    return df.astype(float)


def _date(value: str | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    if not isinstance(value, (str, pd.Timestamp)) and not hasattr(value, "year"):
        raise InputTypeError(f"{name} must be a date string such as '2010-01-01' (or None), got {type(value).__name__}.")
    try:
        return pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a date such as '2010-01-01', got {value!r}.") from None


def _slice(df: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    lo, hi = _date(start, "start"), _date(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"start={start!r} is after end={end!r}: swap them.")
    out = df.loc[lo:hi]
    if out.empty:
        raise ValueError(
            f"no prices between start={start!r} and end={end!r}; the data cover {df.index[0].date()} to {df.index[-1].date()}."
        )
    return out


def load_sp500_prices(start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Daily adjusted closes of 20 S&P 500 stocks, 1990-01-02 to 2022-12-28.

    Parameters
    ----------
    start, end : str, optional
        Inclusive date bounds such as ``"2010-01-01"``.

    Returns
    -------
    pandas.DataFrame
        Shape (n_days, 20): a ``DatetimeIndex`` named ``date`` and one column
        per ticker (see :data:`SECTORS`).
    """
    return _slice(_read("sp500_dataset.csv.gz"), start, end)


def load_sp500_index(start: str | None = None, end: str | None = None) -> pd.Series:
    """Daily level of the S&P 500 index, 1990-01-02 to 2022-12-28.

    Returns
    -------
    pandas.Series
        Shape (n_days,), named ``"SP500"``.
    """
    return _slice(_read("sp500_index.csv.gz"), start, end)["SP500"]


def load_factor_etfs(start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Daily prices of 5 iShares factor ETFs, 2014-01-02 to 2022-12-28.

    Columns: MTUM (momentum), QUAL (quality), SIZE (size), USMV (minimum
    volatility), VLUE (value).

    Returns
    -------
    pandas.DataFrame
        Shape (n_days, 5).
    """
    return _slice(_read("factors_dataset.csv.gz"), start, end)
