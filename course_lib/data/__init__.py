"""Data for the course: generated markets, shipped real prices, and look-ahead-free features.

Submodules
----------
market
    :func:`make_factor_market`, a synthetic factor market with known factors,
    loadings and sectors (linear, or with a non-linear twist).
prices
    Daily prices of 20 S&P 500 stocks, the index and 5 factor ETFs, shipped
    with the package (no network), and their GICS ``SECTORS``.
holdings
    :func:`make_fund_holdings`, generated investor-fund holdings with a known truth (Chapter 3).
movielens
    :func:`load_movielens_100k`, MovieLens-100k read from a local file (not shipped; Chapter 3).
features
    Log returns, rolling features, chronological splits and a scaler fitted on
    the training part only.
"""

from __future__ import annotations

from .characteristics import *  # noqa: F401,F403  (chapter 2b: characteristics panels)
from .features import (
    Splits,
    chronological_split,
    log_returns,
    rolling_features,
    scale_splits,
)
from .holdings import ASSET_CLASSES, THEMES, FundHoldings, make_fund_holdings
from .market import FactorMarket, make_factor_market
from .movielens import load_movielens_100k, movielens_100k_path
from .pairs_market import PairsMarket, make_pairs_market  # noqa: F401  (Chapter 1 pairs)
from .prices import SECTORS, load_factor_etfs, load_sp500_index, load_sp500_prices

__all__ = [
    "FactorMarket",
    "make_factor_market",
    "SECTORS",
    "load_sp500_prices",
    "load_sp500_index",
    "load_factor_etfs",
    "log_returns",
    "rolling_features",
    "chronological_split",
    "scale_splits",
    "Splits",
    "FundHoldings",
    "ASSET_CLASSES",
    "THEMES",
    "make_fund_holdings",
    "load_movielens_100k",
    "movielens_100k_path",
]
