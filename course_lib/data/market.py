r"""A synthetic factor market with a known truth.

Daily returns of :math:`N` stocks follow the factor model

.. math::  r_t = B f_t + \varepsilon_t, \qquad \varepsilon_t \sim \mathcal N(0, D),

with :math:`K` factors :math:`f_t` (a market factor plus ``K - 1`` style
factors), loadings :math:`B` (stocks x factors) that cluster by sector, AR(1)
factor dynamics with a small coefficient (mild autocorrelation) and diagonal
idiosyncratic noise :math:`D`. Because :math:`B`, :math:`f_t` and the sectors
are known, every chapter can score what a model recovers.

Two non-linear variants show where a non-linear model can earn its keep:

``"squared"``
    each stock also carries a convex (or concave) exposure to the market,
    :math:`c_i\,(f_{0,t}^2/\sigma_0^2 - 1)`; the returns then lie on a curved
    :math:`K`-dimensional surface that no :math:`K`-dimensional linear model
    (PCA) can represent, while a decoder with :math:`K` latents can.
``"regime"``
    a hidden calm/stress Markov chain; in stress, factor and idiosyncratic
    volatilities jump and market loadings converge to 1 (correlations rise),
    so the loadings switch with the volatility regime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._validation import check_nonnegative_int, check_positive_int, check_real

__all__ = ["FactorMarket", "make_factor_market", "GICS_SECTORS"]

GICS_SECTORS: tuple[str, ...] = (
    "Information Technology",
    "Health Care",
    "Financials",
    "Consumer Discretionary",
    "Communication Services",
    "Industrials",
    "Consumer Staples",
    "Energy",
    "Utilities",
    "Real Estate",
    "Materials",
)


@dataclass
class FactorMarket:
    """The output of :func:`make_factor_market`.

    Attributes
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks): daily returns, business-day dates x tickers.
    factors : pandas.DataFrame
        Shape (n_days, n_factors): the true factor returns (column ``"MKT"`` first).
    loadings : pandas.DataFrame
        Shape (n_stocks, n_factors): the true (calm-regime) loadings :math:`B`.
    sectors : pandas.Series
        Shape (n_stocks,): the sector name of each ticker.
    regime : pandas.Series
        Shape (n_days,): 1 on stress days, 0 on calm days (all 0 unless
        ``nonlinear="regime"``).
    kind : str
        ``"linear"``, ``"squared"`` or ``"regime"``.
    """

    returns: pd.DataFrame
    factors: pd.DataFrame
    loadings: pd.DataFrame
    sectors: pd.Series
    regime: pd.Series
    kind: str

    @property
    def sector_codes(self) -> np.ndarray:
        """Integer sector label of each stock, shape (n_stocks,)."""
        return pd.Categorical(self.sectors).codes.astype(int)


def make_factor_market(
    n_stocks: int = 100,
    n_days: int = 1000,
    n_factors: int = 5,
    n_sectors: int = 10,
    *,
    nonlinear: Literal["squared", "regime"] | None = None,
    nonlinear_strength: float = 1.0,
    autocorrelation: float = 0.05,
    tails_df: float | None = None,
    start: str = "2015-01-02",
    seed: int = 0,
) -> FactorMarket:
    """Simulate a factor market with sector-structured loadings.

    Parameters
    ----------
    n_stocks, n_days, n_factors, n_sectors : int
        Sizes. Stocks are spread evenly over sectors (in ticker order).
    nonlinear : {None, "squared", "regime"}
        The non-linear variant (see the module docstring); ``None`` is the
        linear-Gaussian market on which PCA is the benchmark to match.
    nonlinear_strength : float, default 1.0
        Scales the squared-market term, or the stress-regime effects.
    autocorrelation : float, default 0.05
        AR(1) coefficient of every factor (mild, as in real data).
    tails_df : float, optional
        Degrees of freedom of Student-t shocks (unit variance) for heavier
        tails; Gaussian when ``None``.
    start : str
        First business day.
    seed : int
        Seed of the generator: the same seed gives the same market.

    Returns
    -------
    FactorMarket
    """
    n_stocks = check_positive_int(n_stocks, "n_stocks", minimum=2)
    n_days = check_positive_int(n_days, "n_days", minimum=2)
    n_factors = check_positive_int(n_factors, "n_factors")
    n_sectors = check_positive_int(n_sectors, "n_sectors")
    check_nonnegative_int(seed, "seed")
    if n_sectors > n_stocks:
        raise ValueError(f"n_sectors={n_sectors} exceeds n_stocks={n_stocks}: every sector needs a stock.")
    if nonlinear not in (None, "squared", "regime"):
        raise ValueError(f"nonlinear must be None, 'squared' or 'regime', got {nonlinear!r}.")
    nonlinear_strength = check_real(nonlinear_strength, "nonlinear_strength", low=0.0)
    check_real(
        autocorrelation, "autocorrelation (a stationary AR(1) coefficient)", low=-1.0, high=1.0, low_open=True, high_open=True
    )
    check_real(tails_df, "tails_df (> 2 so the variance is finite)", low=2.0, low_open=True, allow_none=True)
    try:
        pd.Timestamp(start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be a date such as '2015-01-02', got {start!r}.") from None

    rng = np.random.default_rng(seed)
    K = n_factors

    def shocks(*shape: int) -> np.ndarray:
        if tails_df is None:
            return rng.standard_normal(shape)
        return rng.standard_t(tails_df, size=shape) * np.sqrt((tails_df - 2) / tails_df)

    # Sectors and loadings -------------------------------------------------
    sector_idx = (np.arange(n_stocks) * n_sectors) // n_stocks
    names = [GICS_SECTORS[s] if n_sectors <= len(GICS_SECTORS) else f"Sector {s}" for s in range(n_sectors)]
    B = np.empty((n_stocks, K))
    B[:, 0] = 1.0 + 0.2 * rng.standard_normal(n_stocks)
    if K > 1:
        centroids = rng.standard_normal((n_sectors, K - 1))
        if n_sectors >= K:
            # Centred, orthogonal columns of equal size: every style factor is distinct from the
            # market and from the others, so its strength is set by its volatility alone.
            centroids -= centroids.mean(axis=0)
            q, _ = np.linalg.qr(centroids)
            centroids = q * np.sqrt(n_sectors)
        B[:, 1:] = centroids[sector_idx] + 0.25 * rng.standard_normal((n_stocks, K - 1))
    factor_vol = np.concatenate([[0.010], np.linspace(0.008, 0.004, K - 1)]) if K > 1 else np.array([0.010])
    idio_vol = rng.uniform(0.008, 0.016, n_stocks)

    # Regime (hidden calm/stress Markov chain) ------------------------------
    regime = np.zeros(n_days, dtype=int)
    if nonlinear == "regime":
        p_enter, p_leave = 0.02, 0.10
        for t in range(1, n_days):
            p = p_leave if regime[t - 1] else p_enter
            regime[t] = 1 - regime[t - 1] if rng.random() < p else regime[t - 1]
    vol_mult = 1.0 + (1.5 * nonlinear_strength) * regime  # 2.5x factor vol in stress by default

    # Factors: AR(1) with unit stationary variance, then scaled -------------
    phi = autocorrelation
    eps = shocks(n_days, K)
    z = np.empty((n_days, K))
    z[0] = eps[0]
    for t in range(1, n_days):
        z[t] = phi * z[t - 1] + np.sqrt(1 - phi**2) * eps[t]
    drift = np.zeros(K)
    drift[0] = 0.0003
    F = drift + z * factor_vol * vol_mult[:, None]

    # Returns ------------------------------------------------------------
    idio = shocks(n_days, n_stocks) * idio_vol * (1.0 + 0.5 * nonlinear_strength * regime)[:, None]
    if nonlinear == "regime":
        B_stress = B.copy()
        shrink = max(0.0, 1.0 - 0.7 * nonlinear_strength)
        B_stress[:, 0] = 1.0 + shrink * (B[:, 0] - 1.0)
        B_stress[:, 1:] = B[:, 1:] * (0.5 + 0.5 * shrink)
        R = np.where(regime[:, None] == 1, F @ B_stress.T, F @ B.T)
    else:
        R = F @ B.T
    if nonlinear == "squared":
        c = rng.standard_normal(n_stocks)
        sq = ((F[:, 0] - drift[0]) / factor_vol[0]) ** 2 - 1.0
        R = R + np.outer(sq / np.sqrt(2.0), c) * 0.008 * nonlinear_strength
    R = R + idio

    dates = pd.bdate_range(start, periods=n_days, name="date")
    tickers = pd.Index([f"STK{i:03d}" for i in range(n_stocks)], name="ticker")
    fnames = pd.Index(["MKT"] + [f"F{k}" for k in range(1, K)], name="factor")
    return FactorMarket(
        returns=pd.DataFrame(R, index=dates, columns=tickers),
        factors=pd.DataFrame(F, index=dates, columns=fnames),
        loadings=pd.DataFrame(B, index=tickers, columns=fnames),
        sectors=pd.Series([names[s] for s in sector_idx], index=tickers, name="sector"),
        regime=pd.Series(regime, index=dates, name="stress"),
        kind=nonlinear or "linear",
    )
