r"""A synthetic factor market with planted mean-reverting pairs: a known answer for pair selection.

Start from :func:`~course_lib.data.make_factor_market`. Then, inside sectors,
``n_pairs`` disjoint pairs of stocks :math:`(a, b)` are tied together: the log
price of :math:`b` becomes

.. math::  p_{b,t} = \beta\, p_{a,t} + s_t, \qquad s_t = \phi\, s_{t-1} + \sigma_s \eta_t,
           \quad \phi = 2^{-1/h},

a hedge ratio :math:`\beta` times the partner's log price plus a stationary
AR(1) spread with half-life :math:`h` days. So :math:`b`'s return is
:math:`\beta r_{a,t} + s_t - s_{t-1}`: it shares :math:`a`'s factor exposures
*and* its idiosyncratic shocks, and the pair is cointegrated with vector
:math:`(1, -\beta)`. Every other pair of stocks has a random-walk spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_positive_int, check_real
from .market import FactorMarket, make_factor_market

__all__ = ["PairsMarket", "make_pairs_market"]


@dataclass
class PairsMarket:
    """The output of :func:`make_pairs_market`.

    Attributes
    ----------
    returns : pandas.DataFrame
        Shape (n_days, n_stocks): daily log returns.
    log_prices : pandas.DataFrame
        Shape (n_days, n_stocks): cumulative log returns (log price, 0 before the first day).
    sectors : pandas.Series
        Shape (n_stocks,): sector of each ticker.
    pairs : list of (str, str)
        The planted cointegrated pairs, each written in sorted ticker order.
    truth : pandas.DataFrame
        One row per planted pair (index ``"A-B"``): ``leader`` (:math:`a`),
        ``follower`` (:math:`b`), ``beta`` (hedge ratio of :math:`b` on
        :math:`a`) and ``half_life`` (days).
    factor_market : FactorMarket
        The underlying factor market; its ``loadings`` of each follower are
        set to ``beta`` times the leader's.
    """

    returns: pd.DataFrame
    log_prices: pd.DataFrame
    sectors: pd.Series
    pairs: list[tuple[str, str]]
    truth: pd.DataFrame
    factor_market: FactorMarket


def make_pairs_market(
    n_stocks: int = 60,
    n_days: int = 1000,
    n_factors: int = 4,
    n_sectors: int = 6,
    *,
    n_pairs: int = 10,
    half_life: tuple[float, float] = (2.0, 10.0),
    beta: tuple[float, float] = (0.7, 1.3),
    spread_vol: float = 0.01,
    start: str = "2015-01-02",
    seed: int = 0,
) -> PairsMarket:
    """Simulate a factor market in which ``n_pairs`` pairs of same-sector stocks are cointegrated.

    Parameters
    ----------
    n_stocks, n_days, n_factors, n_sectors : int
        Passed to :func:`make_factor_market`.
    n_pairs : int, default 10
        Planted pairs, disjoint, spread round-robin over the sectors; at most
        the number of disjoint same-sector pairs (``sum(size // 2)``).
    half_life : (float, float), default (2, 10)
        Range (days) of the uniform draw of each spread's half-life; both > 0.
        Slower spreads are hard to detect: with one year of data the
        Engle-Granger test misses many half-lives above 10 days.
    beta : (float, float), default (0.7, 1.3)
        Range of the uniform draw of each hedge ratio.
    spread_vol : float, default 0.01
        Daily innovation volatility :math:`\\sigma_s` of each spread (> 0).
    start : str
        First business day.
    seed : int
        The same seed gives the same market (the factor market uses ``seed``,
        the pairs a separate stream).

    Returns
    -------
    PairsMarket
    """
    n_pairs = check_positive_int(n_pairs, "n_pairs")
    for nm, rng_ in (("half_life", half_life), ("beta", beta)):
        if isinstance(rng_, (str, bytes)) or not hasattr(rng_, "__len__") or len(rng_) != 2:
            raise ValueError(f"{nm} must be a (low, high) pair of numbers, got {rng_!r}.")
        for i, v in enumerate(rng_):
            check_real(v, f"{nm}[{i}]")
    spread_vol = check_real(spread_vol, "spread_vol", low=0.0, low_open=True)
    lo, hi = (float(v) for v in half_life)
    if not 0 < lo <= hi:
        raise ValueError(f"half_life must be a (low, high) range with 0 < low <= high, got {half_life!r}.")
    blo, bhi = (float(v) for v in beta)
    if not blo <= bhi:
        raise ValueError(f"beta must be a (low, high) range with low <= high, got {beta!r}.")
    if not spread_vol > 0:
        raise ValueError(f"spread_vol must be > 0, got {spread_vol!r}.")
    fm = make_factor_market(n_stocks, n_days, n_factors, n_sectors, start=start, seed=seed)
    rng = np.random.default_rng([seed, 1729])
    tickers = list(fm.returns.columns)
    sector_idx = pd.Categorical(fm.sectors, categories=pd.unique(fm.sectors)).codes
    pools = [list(rng.permutation(np.flatnonzero(sector_idx == s))) for s in range(n_sectors)]
    capacity = sum(len(p) // 2 for p in pools)
    if n_pairs > capacity:
        raise ValueError(f"n_pairs={n_pairs} exceeds the {capacity} disjoint same-sector pairs: lower n_pairs or add stocks.")
    chosen: list[tuple[int, int]] = []
    s = 0
    while len(chosen) < n_pairs:
        if len(pools[s]) >= 2:
            chosen.append((pools[s].pop(), pools[s].pop()))
        s = (s + 1) % n_sectors

    R = fm.returns.to_numpy().copy()
    B = fm.loadings.copy()
    rows = {}
    for a, b in chosen:
        h = rng.uniform(lo, hi)
        bet = rng.uniform(blo, bhi)
        phi = 0.5 ** (1.0 / h)
        eta = rng.standard_normal(n_days) * spread_vol
        spread = np.empty(n_days)
        spread[0] = eta[0] / np.sqrt(1 - phi**2)
        for t in range(1, n_days):
            spread[t] = phi * spread[t - 1] + eta[t]
        R[:, b] = bet * R[:, a] + np.diff(spread, prepend=0.0)
        B.iloc[b] = bet * B.iloc[a].to_numpy()
        x, y = sorted((tickers[a], tickers[b]))
        rows[f"{x}-{y}"] = {"leader": tickers[a], "follower": tickers[b], "beta": bet, "half_life": h}
    returns = pd.DataFrame(R, index=fm.returns.index, columns=fm.returns.columns)
    fm_out = FactorMarket(returns=returns, factors=fm.factors, loadings=B, sectors=fm.sectors, regime=fm.regime, kind=fm.kind)
    truth = pd.DataFrame.from_dict(rows, orient="index")
    truth.index.name = "pair"
    pairs = [tuple(p.split("-")) for p in truth.index]
    return PairsMarket(
        returns=returns,
        log_prices=returns.cumsum(),
        sectors=fm.sectors,
        pairs=pairs,
        truth=truth,
        factor_market=fm_out,
    )
