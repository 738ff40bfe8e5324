r"""Pairs as they are traded: hedge ratio, cointegration, half-life and a z-score rule with costs.

A pair trade bets that the *price* spread of two stocks returns to its mean.
On a formation window (past data only) each pair :math:`(a, b)` gets

- a hedge ratio from the log-price regression
  :math:`p_{a,t} = \alpha + \beta\, p_{b,t} + s_t` (:func:`hedge_ratios`);
- an Engle-Granger test that the residual spread :math:`s_t` is stationary
  (:func:`engle_granger`: the statistic of ``statsmodels.tsa.stattools.coint``,
  computed for many pairs at once, with statsmodels' MacKinnon p-values; a unit
  test checks both against ``coint``);
- the half-life of the spread, :math:`-\ln 2 / \ln(1 + b)` from the regression
  :math:`\Delta s_t = c + b\, s_{t-1} + u_t`.

On the following trading window :func:`zscore_backtest` runs the textbook
rule: :math:`z_t = s_t / \operatorname{sd}_{\text{formation}}(s)`; short the
spread when :math:`z_t > z_{\text{entry}}`, buy it when
:math:`z_t < -z_{\text{entry}}`, close when :math:`|z_t| < z_{\text{exit}}`
(and at the end of the window). A position of one unit holds
:math:`1/(1+|\beta|)` of :math:`a` and :math:`-\beta/(1+|\beta|)` of :math:`b`
(gross exposure 1); each change of position pays ``cost_bp`` basis points per
unit of notional traded on each leg. A position decided at the close of day
:math:`t` earns day :math:`t+1`'s returns: no look-ahead.

:func:`walk_forward_pairs` rolls formation and trading windows through a sample
and compares selection rules (embedding neighbours, most correlated,
cointegration screen) with random pairs; :func:`paired_difference` gives the
confidence interval of the difference of two rules' daily returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validation import (
    as_1d_float,
    as_2d_float,
    check_frame,
    check_positive_int,
    check_probability,
    check_real,
    check_seed,
    check_unique_names,
)

__all__ = [
    "pair_names",
    "hedge_ratios",
    "engle_granger",
    "closest_pairs",
    "cointegration_screen",
    "zscore_backtest",
    "PairsBacktest",
    "walk_forward_pairs",
    "PairsTradingResult",
    "paired_difference",
    "sharpe_difference",
    "annualised_stats",
]

TRADING_DAYS = 252


def pair_names(pairs: Sequence[tuple[str, str]]) -> pd.Index:
    """The pairs as an index of strings ``"A-B"``."""
    return pd.Index([f"{a}-{b}" for a, b in pairs], name="pair")


def _check_pairs(pairs: Any, columns: Sequence[str], name: str = "pairs") -> list[tuple[str, str]]:
    try:
        out = [(str(a), str(b)) for a, b in pairs]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of (ticker, ticker) tuples, e.g. [('KO', 'PEP')].") from None
    if not out:
        raise ValueError(f"{name} is empty: pass at least one (ticker, ticker) pair.")
    missing = sorted({t for p in out for t in p} - set(map(str, columns)))
    if missing:
        raise ValueError(f"tickers {missing[:5]} of {name} are not columns of the prices.")
    same = [p for p in out if p[0] == p[1]]
    if same:
        raise ValueError(f"{name} holds a stock paired with itself: {same[:3]}.")
    return out


def _check_prices(log_prices: Any, name: str, min_rows: int = 30) -> pd.DataFrame:
    check_frame(log_prices, name)
    if len(log_prices) < min_rows:
        raise ValueError(f"{name} has {len(log_prices)} days: need at least {min_rows} to fit and test a spread.")
    return log_prices


def _legs(log_prices: pd.DataFrame, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    cols = {c: i for i, c in enumerate(map(str, log_prices.columns))}
    P = log_prices.to_numpy(dtype=np.float64)
    return P[:, [cols[a] for a, _ in pairs]], P[:, [cols[b] for _, b in pairs]]


def _half_life(spread: np.ndarray) -> np.ndarray:
    """Half-life (days) of each column of ``spread`` from the AR(1) regression of its changes; inf if not mean-reverting."""
    lag, d = spread[:-1], np.diff(spread, axis=0)
    lag_c, d_c = lag - lag.mean(0), d - d.mean(0)
    b = (lag_c * d_c).sum(0) / (lag_c**2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        hl = np.where((b < 0) & (b > -1), -np.log(2.0) / np.log1p(b), np.inf)
    return hl


def hedge_ratios(log_prices: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, half_life: bool = True) -> pd.DataFrame:
    r"""Hedge ratio, spread volatility and half-life of each pair over ``log_prices`` (the formation window).

    Parameters
    ----------
    log_prices : pandas.DataFrame
        Shape (n_days, n_stocks), n_days >= 30: log prices (or cumulative log returns).
    pairs : sequence of (str, str)
        ``(a, b)``: :math:`a` is regressed on :math:`b`.
    half_life : bool, default True
        Also estimate the half-life (skip it to save time on thousands of pairs).

    Returns
    -------
    pandas.DataFrame
        Index ``"a-b"``; columns ``alpha``, ``beta`` (OLS of :math:`p_a` on
        :math:`p_b`), ``spread_sd`` (standard deviation of the residual spread)
        and ``half_life`` (days; ``inf`` when the spread does not revert).
    """
    log_prices = _check_prices(log_prices, "log_prices")
    pairs = _check_pairs(pairs, log_prices.columns)
    A, B = _legs(log_prices, pairs)
    Bc = B - B.mean(0)
    var_b = (Bc**2).sum(0)
    if (var_b == 0).any():
        bad = [f"{a}-{b}" for (a, b), v in zip(pairs, var_b) if v == 0]
        raise ValueError(
            f"pairs {bad[:3]}: the second leg has a constant price over the window, "
            "so its hedge ratio is undefined; drop that pair."
        )
    beta = (Bc * (A - A.mean(0))).sum(0) / var_b
    alpha = A.mean(0) - beta * B.mean(0)
    spread = A - alpha - beta * B
    return pd.DataFrame(
        {
            "alpha": alpha,
            "beta": beta,
            "spread_sd": spread.std(0, ddof=1),
            "half_life": _half_life(spread) if half_life else np.nan,
        },
        index=pair_names(pairs),
    )


def _adf_stat(spread: np.ndarray, maxlag: int) -> np.ndarray:
    """ADF t-statistic without constant of each column (the regression of ``adfuller(..., regression="n")``)."""
    d = np.diff(spread, axis=0)
    n = len(d) - maxlag
    y = d[maxlag:]  # (n, P)
    cols = [spread[maxlag:-1]] + [d[maxlag - i : maxlag - i + n] for i in range(1, maxlag + 1)]
    X = np.stack(cols, axis=-1).transpose(1, 0, 2)  # (P, n, k)
    XtX = np.einsum("pnk,pnl->pkl", X, X)
    Xty = np.einsum("pnk,np->pk", X, y)
    coef = np.linalg.solve(XtX, Xty[..., None])[..., 0]
    resid = y.T - np.einsum("pnk,pk->pn", X, coef)
    sigma2 = (resid**2).sum(1) / (n - X.shape[2])
    se = np.sqrt(sigma2 * np.linalg.inv(XtX)[:, 0, 0])
    return coef[:, 0] / se


def engle_granger(log_prices: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, maxlag: int = 1) -> pd.DataFrame:
    """Engle-Granger cointegration test of each pair, vectorised over pairs.

    Step 1 regresses :math:`p_a` on a constant and :math:`p_b`
    (:func:`hedge_ratios`); step 2 is an augmented Dickey-Fuller regression of
    the residual's changes on its lagged level and ``maxlag`` lagged changes,
    without constant. The statistic equals that of
    ``statsmodels.tsa.stattools.coint(a, b, trend="c", maxlag=maxlag,
    autolag=None)`` (a unit test checks it) but is computed for all pairs at
    once (``coint`` costs about 10 ms a pair); the p-value is statsmodels'
    MacKinnon (1994/2010) approximation, ``mackinnonp(stat, regression="c", N=2)``.

    Parameters
    ----------
    log_prices : pandas.DataFrame
        Shape (n_days, n_stocks), n_days >= 30.
    pairs : sequence of (str, str)
    maxlag : int, default 1
        Lagged differences in the ADF regression (fixed, no automatic search).

    Returns
    -------
    pandas.DataFrame
        Index ``"a-b"``; ``adf_stat``, ``p_value`` (small = cointegrated),
        ``beta`` and ``half_life`` from :func:`hedge_ratios`.
    """
    if not isinstance(maxlag, (int, np.integer)) or isinstance(maxlag, (bool, np.bool_)) or not 0 <= maxlag <= 10:
        raise ValueError(f"maxlag must be an integer in [0, 10], got {maxlag!r}.")
    hr = hedge_ratios(log_prices, pairs)
    A, B = _legs(log_prices, _check_pairs(pairs, log_prices.columns))
    spread = A - hr["alpha"].to_numpy() - hr["beta"].to_numpy() * B
    stat = _adf_stat(spread, int(maxlag))
    return pd.DataFrame(
        {"adf_stat": stat, "p_value": _mackinnon_p(stat), "beta": hr["beta"].to_numpy(), "half_life": hr["half_life"].to_numpy()},
        index=hr.index,
    )


def _mackinnon_p(stat: np.ndarray) -> np.ndarray:
    """``statsmodels.tsa.adfvalues.mackinnonp(stat, regression="c", N=2)`` for an array (same tables, no Python loop)."""
    from scipy.stats import norm
    from statsmodels.tsa import adfvalues as av

    stat = np.asarray(stat, dtype=np.float64)
    small = np.polyval(np.asarray(av._tau_smallps["c"][1])[::-1], stat)
    large = np.polyval(np.asarray(av._tau_largeps["c"][1])[::-1], stat)
    p = norm.cdf(np.where(stat <= av._tau_stars["c"][1], small, large))
    return np.where(stat > av._tau_maxs["c"][1], 1.0, np.where(stat < av._tau_mins["c"][1], 0.0, p))


def closest_pairs(distance: Any, names: Sequence[str], n: int) -> list[tuple[str, str]]:
    """The ``n`` unordered pairs with the smallest distance (each written in sorted name order).

    Parameters
    ----------
    distance : array-like, shape (n_stocks, n_stocks)
        Symmetric distances, for example Euclidean distances between
        embeddings or ``1 - correlation``.
    names : sequence of str, length n_stocks
    n : int
        Pairs wanted, in [1, n_stocks * (n_stocks - 1) / 2].

    Returns
    -------
    list of (str, str)
        Closest first.
    """
    D = as_2d_float(distance, "distance", min_rows=2).astype(np.float64)
    names = list(map(str, check_unique_names(names)))
    if D.shape != (len(names), len(names)):
        raise ValueError(f"distance has shape {D.shape} but there are {len(names)} names: pass a square (n, n) matrix.")
    if not np.allclose(D, D.T, rtol=1e-6, atol=1e-9):
        raise ValueError("distance must be symmetric (d(a, b) = d(b, a)); for example (D + D.T) / 2.")
    iu = np.triu_indices(len(names), 1)
    n = check_positive_int(n, "n")
    if not 1 <= n <= len(iu[0]):
        raise ValueError(f"n must be an integer in [1, {len(iu[0])}], got {n!r}.")
    order = np.argsort(D[iu], kind="stable")[: int(n)]
    return [tuple(sorted((names[iu[0][k]], names[iu[1][k]]))) for k in order]


def cointegration_screen(
    log_prices: pd.DataFrame,
    n: int,
    *,
    n_candidates: int | None = None,
    p_max: float = 0.05,
    maxlag: int = 1,
) -> list[tuple[str, str]]:
    """Pairs that pass an Engle-Granger test on ``log_prices``, most significant first.

    As on a desk, candidates are pre-filtered (here: the ``n_candidates``
    pairs with the highest return correlation over the same window), tested,
    and the ``n`` with the smallest p-value below ``p_max`` are kept (fewer if
    fewer pass; the list may be empty).

    Parameters
    ----------
    log_prices : pandas.DataFrame
        Shape (n_days, n_stocks): the formation window.
    n : int
        Pairs wanted (>= 1).
    n_candidates : int, optional
        Pairs tested; default ``max(6 * n, 30)``, at most all pairs.
    p_max : float, default 0.05
        Significance level of the test, in (0, 1).
    maxlag : int, default 1

    Returns
    -------
    list of (str, str)
    """
    log_prices = _check_prices(log_prices, "log_prices")
    n = check_positive_int(n, "n")
    if n_candidates is not None:
        n_candidates = check_positive_int(n_candidates, "n_candidates")
    p_max = check_probability(p_max, "p_max")
    names = list(map(str, log_prices.columns))
    n_all = len(names) * (len(names) - 1) // 2
    n_candidates = min(n_all, max(6 * int(n), 30) if n_candidates is None else int(n_candidates))
    corr = np.corrcoef(np.diff(log_prices.to_numpy(dtype=np.float64), axis=0), rowvar=False)
    cands = closest_pairs(1 - corr, names, n_candidates)
    eg = engle_granger(log_prices, cands, maxlag=maxlag)
    eg = eg[eg["p_value"] < p_max].sort_values("p_value")
    return [tuple(p.split("-", 1)) for p in eg.index[: int(n)]]


@dataclass
class PairsBacktest:
    """The output of :func:`zscore_backtest`.

    Attributes
    ----------
    pnl : pandas.DataFrame
        Shape (n_trading_days, n_pairs): daily net return of each pair (gross
        exposure 1 when open, 0 when flat), costs deducted on trading days.
    position : pandas.DataFrame
        Shape (n_trading_days, n_pairs): -1, 0 or +1 units of spread held at each close.
    trades : pandas.Series
        Shape (n_pairs,): positions opened (round trips) per pair.
    hedge : pandas.DataFrame
        :func:`hedge_ratios` of the formation window (without the half-life).
    """

    pnl: pd.DataFrame
    position: pd.DataFrame
    trades: pd.Series
    hedge: pd.DataFrame


def zscore_backtest(
    formation: pd.DataFrame,
    trading: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    entry: float = 2.0,
    exit: float = 0.5,
    cost_bp: float = 10.0,
) -> PairsBacktest:
    """Trade each pair's spread on ``trading`` with the z-score rule fitted on ``formation``.

    Parameters
    ----------
    formation : pandas.DataFrame
        Shape (n_formation_days >= 30, n_stocks): log prices of the formation
        window (hedge ratio, spread mean and sd come from here only).
    trading : pandas.DataFrame
        Shape (n_trading_days >= 2, n_stocks): log prices of the following
        window, same columns, all dates after ``formation``.
    pairs : sequence of (str, str)
    entry : float, default 2.0
        Open when :math:`|z|` exceeds it (> exit).
    exit : float, default 0.5
        Close when :math:`|z|` falls below it (>= 0).
    cost_bp : float, default 10.0
        Cost in basis points per unit of notional traded on each leg (>= 0);
        a round trip at gross exposure 1 costs ``2 * cost_bp``.

    Returns
    -------
    PairsBacktest
    """
    formation = _check_prices(formation, "formation")
    check_frame(trading, "trading")
    if len(trading) < 2:
        raise ValueError(f"trading has {len(trading)} day(s): need at least 2 to earn a return.")
    if list(formation.columns) != list(trading.columns):
        raise ValueError("formation and trading must have the same columns in the same order (reindex one with the other's).")
    if trading.index[0] <= formation.index[-1]:
        raise ValueError("trading must start after formation ends: overlapping windows would leak the future into the fit.")
    entry = check_real(entry, "entry", low=0.0, low_open=True)
    exit = check_real(exit, "exit", low=0.0)
    cost_bp = check_real(cost_bp, "cost_bp", low=0.0)
    if not (0 <= exit < entry):
        raise ValueError(f"need 0 <= exit < entry, got exit={exit!r}, entry={entry!r}.")
    pairs = _check_pairs(pairs, formation.columns)
    hedge = hedge_ratios(formation, pairs, half_life=False)
    alpha, beta, sd = (hedge[c].to_numpy() for c in ("alpha", "beta", "spread_sd"))
    # the day before trading starts anchors the first trading-day return
    full = pd.concat([formation.iloc[-1:], trading])
    A, B = _legs(full, pairs)
    z = (A - alpha - beta * B) / sd
    wa, wb = 1.0 / (1.0 + np.abs(beta)), -beta / (1.0 + np.abs(beta))
    leg_ret = wa * np.diff(A, axis=0) + wb * np.diff(B, axis=0)  # (T, P): return of one unit of spread
    T, P = leg_ret.shape
    pos = np.zeros((T, P))
    cur = np.zeros(P)
    for t in range(T):
        zt = z[t + 1]
        nxt = cur.copy()
        nxt[(cur == 0) & (zt > entry)] = -1.0
        nxt[(cur == 0) & (zt < -entry)] = 1.0
        nxt[(cur == 1) & (zt > -exit)] = 0.0
        nxt[(cur == -1) & (zt < exit)] = 0.0
        nxt[(cur == 1) & (zt > entry)] = -1.0
        nxt[(cur == -1) & (zt < -entry)] = 1.0
        cur = nxt
        pos[t] = cur
    pos[-1] = 0.0  # close everything at the end of the window
    held = np.vstack([np.zeros((1, P)), pos[:-1]])  # position at the previous close earns today's return
    turnover = np.abs(np.diff(np.vstack([np.zeros((1, P)), pos]), axis=0))  # units traded at each close
    pnl = held * leg_ret - turnover * cost_bp / 1e4
    opened = ((pos != 0) & (np.vstack([np.zeros((1, P)), pos[:-1]]) != pos)).sum(0)
    idx = pair_names(pairs)
    return PairsBacktest(
        pnl=pd.DataFrame(pnl, index=trading.index, columns=idx),
        position=pd.DataFrame(pos, index=trading.index, columns=idx),
        trades=pd.Series(opened, index=idx, name="trades"),
        hedge=hedge,
    )


def annualised_stats(daily: pd.Series | np.ndarray) -> tuple[float, float]:
    """Annualised mean return (252 x daily mean) and Sharpe ratio (sqrt(252) x mean / sd) of daily returns.

    ``daily`` is 1-D with at least 2 finite values. Returns with zero spread
    (a strategy that never trades) get a Sharpe ratio of 0 by definition.
    """
    d = as_1d_float(daily, "daily", min_len=2)
    sd = d.std(ddof=1)
    return float(d.mean() * TRADING_DAYS), float(d.mean() / sd * np.sqrt(TRADING_DAYS)) if sd > 0 else 0.0


def paired_difference(a: pd.Series, b: pd.Series, *, block: int = 21) -> tuple[float, float, float]:
    """Annualised mean of ``a - b`` (daily returns of two strategies on the same days) with a 95% CI.

    The standard error comes from non-overlapping blocks of ``block`` days
    (block means are close to independent even when daily P&L is
    autocorrelated, as it is for positions held several days).

    Parameters
    ----------
    a, b : pandas.Series
        Daily returns on the same dates.
    block : int, default 21
        Days per block, at least 1; at least 4 blocks are needed.

    Returns
    -------
    (float, float, float)
        Annualised mean difference, lower and upper 95% bound.
    """
    if not isinstance(a, pd.Series) or not isinstance(b, pd.Series):
        raise ValueError("a and b must be pandas Series of daily returns indexed by date.")
    if not a.index.equals(b.index):
        raise ValueError("a and b must share the same dates: align them with a.align(b, join='inner') first.")
    d = (a - b).to_numpy(dtype=np.float64)
    if not np.isfinite(d).all():
        raise ValueError("a - b holds NaN or infinite values: fill or drop them first.")
    block = check_positive_int(block, "block")
    if len(d) // block < 4:
        raise ValueError(f"need block >= 1 and at least 4 blocks: {len(d)} days, block={block!r}.")
    n_blocks = len(d) // block
    means = d[: n_blocks * block].reshape(n_blocks, block).mean(1)
    mean = d.mean() * TRADING_DAYS
    half = 1.96 * means.std(ddof=1) / np.sqrt(n_blocks) * TRADING_DAYS
    return float(mean), float(mean - half), float(mean + half)


def _distinct_draws(rng: np.random.Generator, n_all: int, size: int, n_draws: int) -> np.ndarray:
    """(n_draws, size) indices in [0, n_all), distinct within each row (redraw rows with repeats)."""
    if size * 4 > n_all:  # dense case: random keys
        return np.argsort(rng.random((n_draws, n_all)), axis=1)[:, :size]
    picks = rng.integers(0, n_all, (n_draws, size))
    while True:
        srt = np.sort(picks, axis=1)
        bad = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
        if not bad.any():
            return picks
        picks[bad] = rng.integers(0, n_all, (int(bad.sum()), size))


def sharpe_difference(
    a: pd.Series, b: pd.Series, *, block: int = 21, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Annualised Sharpe ratio of ``a`` minus that of ``b`` (daily returns, same days), with a 95% block-bootstrap interval.

    The same blocks of ``block`` consecutive days are drawn for both series
    (paired), so common shocks cancel and autocorrelation inside blocks is kept.

    Parameters
    ----------
    a, b : pandas.Series
        Daily returns on the same dates, at least 4 blocks long.
    block : int, default 21
    n_boot : int, default 2000
    seed : int, default 0

    Returns
    -------
    (float, float, float)
        Difference, lower and upper 95% bound.
    """
    paired_difference(a, b, block=block)  # same input checks
    n_boot = check_positive_int(n_boot, "n_boot", minimum=100)
    x = np.column_stack([a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64)])
    rng = np.random.default_rng(check_seed(seed))
    s1, s2, m = _block_bootstrap_sums(x, block, n_boot, rng)
    boot = _sharpe_from_sums(s1[:, 0], s2[:, 0], m) - _sharpe_from_sums(s1[:, 1], s2[:, 1], m)
    n = len(x)
    point = _sharpe_from_sums(x[:, 0].sum(), (x[:, 0] ** 2).sum(), n) - _sharpe_from_sums(x[:, 1].sum(), (x[:, 1] ** 2).sum(), n)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return float(point), float(lo), float(hi)


def _block_bootstrap_sums(x: np.ndarray, block: int, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Sums of x and x**2 over ``n // block`` blocks drawn with replacement (moving blocks), per bootstrap draw.

    x has shape (n, c); returns arrays of shape (n_boot, c) and the number of days per draw.
    """
    n = len(x)
    c1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    c2 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x**2, axis=0)])
    b1, b2 = c1[block:] - c1[:-block], c2[block:] - c2[:-block]  # (n - block + 1, c): every block's sums
    starts = rng.integers(0, n - block + 1, (n_boot, n // block))
    return b1[starts].sum(1), b2[starts].sum(1), (n // block) * block


def _sharpe_from_sums(s1: Any, s2: Any, m: int) -> Any:
    mean = np.asarray(s1) / m
    var = np.clip((np.asarray(s2) - m * mean**2) / (m - 1), 0, None)
    sd = np.sqrt(var)
    return np.where(sd > 0, mean / np.where(sd > 0, sd, 1), 0.0) * np.sqrt(TRADING_DAYS)


@dataclass
class PairsTradingResult:
    """The output of :func:`walk_forward_pairs`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per rule plus ``"random pairs"``; columns ``pairs per window``,
        ``ann. return``, ``Sharpe`` (for random pairs: the median over the
        draws, since the all-pairs average is far more diversified than ``n_pairs`` pairs),
        ``trades per pair`` (positions opened per pair and window), ``half-life (days)``
        (median over the selected pairs of the spread's half-life on the formation
        window; ``inf`` when it does not revert), ``stay cointegrated``
        (share of the selected pairs with an Engle-Granger p-value below 0.05
        on the trading window), ``hit true pairs`` (share of selected pairs that
        are in ``true_pairs``; NaN when no truth is given) and
        ``random percentile`` (where the rule's annualised return falls among
        the random draws).
    daily : pandas.DataFrame
        Shape (n_trading_days, n_rules + 1): daily return of each rule's
        equal-weight portfolio of pairs; ``"random pairs"`` is the mean over all
        pairs (the expected random selection).
    random_returns : numpy.ndarray
        Shape (n_draws,): annualised return of random selections of the same size.
    selections : dict
        Rule name -> list (one per window) of the selected pairs.
    """

    table: pd.DataFrame
    daily: pd.DataFrame
    random_returns: np.ndarray
    selections: dict[str, list[list[tuple[str, str]]]]


def walk_forward_pairs(
    log_prices: pd.DataFrame,
    selectors: Mapping[str, Callable[[pd.DataFrame], Sequence[tuple[str, str]]]],
    *,
    n_pairs: int,
    formation: int,
    trading: int,
    start: int,
    entry: float = 2.0,
    exit: float = 0.5,
    cost_bp: float = 10.0,
    true_pairs: Sequence[tuple[str, str]] | None = None,
    n_draws: int = 2000,
    seed: int = 0,
) -> PairsTradingResult:
    """Roll formation/trading windows through ``log_prices`` and trade each rule's pairs with :func:`zscore_backtest`.

    Window ``w`` forms on days ``[start + w*trading - formation, start + w*trading)``
    and trades the next ``trading`` days; windows run while a full trading
    window fits.

    Parameters
    ----------
    log_prices : pandas.DataFrame
        Shape (n_days, n_stocks).
    selectors : mapping name -> callable
        Each callable receives the formation window's log prices and returns
        its pairs (at most ``n_pairs`` are used; an empty list means the rule
        stays flat in that window).
    n_pairs : int
        Pairs per window for the random draws.
    formation, trading, start : int
        Window lengths in days (formation >= 30, trading >= 2) and the first
        trading day (row position, >= formation).
    entry, exit, cost_bp : float
        Passed to :func:`zscore_backtest`.
    true_pairs : sequence of (str, str), optional
        The planted pairs of a synthetic market.
    n_draws : int, default 2000
        Random selections of ``n_pairs`` pairs per window.
    seed : int, default 0

    Returns
    -------
    PairsTradingResult
    """
    log_prices = _check_prices(log_prices, "log_prices")
    if not selectors:
        raise ValueError("selectors is empty: pass e.g. {'most correlated': my_rule}.")
    for nm, v, low in (("formation", formation, 30), ("trading", trading, 2), ("n_pairs", n_pairs, 1), ("n_draws", n_draws, 1)):
        if not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{nm} must be an integer >= {low}, got {v!r}.")
    if not isinstance(start, (int, np.integer)) or not formation <= start <= len(log_prices) - trading:
        raise ValueError(
            f"start must lie in [formation={formation}, n_days - trading={len(log_prices) - trading}], got {start!r}."
        )
    names = list(map(str, log_prices.columns))
    all_pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    if n_pairs > len(all_pairs):
        raise ValueError(f"n_pairs={n_pairs} exceeds the {len(all_pairs)} possible pairs.")
    truth = {tuple(sorted(p)) for p in true_pairs} if true_pairs is not None else None
    rng = np.random.default_rng(seed)
    rules = list(selectors)
    daily: dict[str, list[pd.Series]] = {r: [] for r in [*rules, "random pairs"]}
    trades: dict[str, list[float]] = {r: [] for r in daily}
    stay: dict[str, list[float]] = {r: [] for r in daily}
    hits: dict[str, list[float]] = {r: [] for r in daily}
    half_lives: dict[str, list[float]] = {r: [] for r in daily}
    counts: dict[str, list[int]] = {r: [] for r in daily}
    selections: dict[str, list[list[tuple[str, str]]]] = {r: [] for r in rules}
    draw_daily = []
    s = int(start)
    while s + trading <= len(log_prices):
        form, trade = log_prices.iloc[s - formation : s], log_prices.iloc[s : s + trading]
        bt = zscore_backtest(form, trade, all_pairs, entry=entry, exit=exit, cost_bp=cost_bp)
        pnl = bt.pnl.to_numpy()
        key = {p: k for k, p in enumerate(all_pairs)}
        sample = [all_pairs[k] for k in rng.choice(len(all_pairs), size=n_pairs, replace=False)]
        chosen_by = {r: [tuple(sorted(map(str, p))) for p in selectors[r](form)][:n_pairs] for r in rules}
        for r, chosen in chosen_by.items():
            if chosen:  # a selector may find no pair in a window (e.g. no cointegrated pair)
                _check_pairs(chosen, names, f"the pairs of selector {r!r}")
        chosen_by["random pairs"] = sample
        for r, chosen in chosen_by.items():
            if r in selections:
                selections[r].append(chosen)
            idx = [key[p] for p in chosen]
            if r == "random pairs":
                daily[r].append(pd.Series(pnl.mean(1), index=trade.index))
                trades[r].append(float(bt.trades.mean()))
            else:
                daily[r].append(pd.Series(pnl[:, idx].mean(1) if idx else np.zeros(len(trade)), index=trade.index))
                if idx:
                    trades[r].append(float(bt.trades.iloc[idx].mean()))
            counts[r].append(len(idx))
            if idx:
                half_lives[r] += hedge_ratios(form, chosen)["half_life"].tolist()
                eg = engle_granger(trade, chosen) if len(trade) >= 30 else None
                if eg is not None:
                    stay[r].append(float((eg["p_value"] < 0.05).mean()))
                if truth is not None:
                    hits[r].append(float(np.mean([p in truth for p in chosen])))
        picks = _distinct_draws(rng, len(all_pairs), n_pairs, n_draws)
        draw_daily.append(pnl[:, picks].mean(2))  # (trading, n_draws)
        s += trading
    daily_df = pd.DataFrame({r: pd.concat(v) for r, v in daily.items()})
    draws = np.vstack(draw_daily)  # (n_days, n_draws)
    random_returns = draws.mean(0) * TRADING_DAYS
    sd = draws.std(0, ddof=1)
    random_sharpe = float(np.median(np.where(sd > 0, draws.mean(0) / np.where(sd > 0, sd, 1) * np.sqrt(TRADING_DAYS), 0.0)))
    rows = {}
    for r in daily_df:
        ann, sharpe = annualised_stats(daily_df[r])
        rows[r] = {
            "pairs per window": float(np.mean(counts[r])),
            "ann. return": ann,
            "Sharpe": sharpe,
            "trades per pair": float(np.mean(trades[r])) if trades[r] else np.nan,
            "half-life (days)": float(np.median(half_lives[r])) if half_lives[r] else np.nan,
            "stay cointegrated": float(np.mean(stay[r])) if stay[r] else np.nan,
            "hit true pairs": float(np.mean(hits[r])) if hits[r] else np.nan,
            "random percentile": float((random_returns < ann).mean() * 100),
        }
    rows["random pairs"]["Sharpe"] = random_sharpe
    table = pd.DataFrame(rows).T
    table.index.name = "rule"
    return PairsTradingResult(table=table, daily=daily_df, random_returns=random_returns, selections=selections)
