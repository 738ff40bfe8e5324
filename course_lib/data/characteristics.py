"""Characteristics panels for conditional factor models (the conditional autoencoder chapter).

Two sources of a panel (periods x stocks x characteristics):

- :func:`make_characteristics_panel` simulates stocks whose factor betas are a known, non-linear function
  of observable, time-varying characteristics (the set-up of Gu, Kelly and Xiu 2021);
- :func:`price_characteristics` computes four price-based characteristics of real stocks
  (momentum, short-term reversal, volatility, market beta) from daily prices.

**Timing convention (no look-ahead).** ``characteristics[t]`` is what is known at the *end* of period ``t``;
it may set the betas of the returns of period ``t + 1``, never of period ``t``. Pair them with
:func:`course_lib.conditional.lag_characteristics`, which drops the first return and the last characteristics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import _to_numeric, check_frame, check_real, check_seed

__all__ = ["CharacteristicsPanel", "make_characteristics_panel", "rank_normalize", "price_characteristics", "price_panel"]


@dataclass
class CharacteristicsPanel:
    """A simulated panel with its truth.

    Attributes
    ----------
    returns : ndarray, shape (T, N)
        Excess returns of period ``t``.
    characteristics : ndarray, shape (T, N, P)
        Characteristics known at the end of period ``t``, cross-sectionally ranked to [-0.5, 0.5].
    betas : ndarray, shape (T, N, K)
        True betas of the returns of period ``t``: ``betas[t] = g(characteristics[t - 1])``
        (``betas[0]`` uses a pre-sample draw that is not returned).
    factors : ndarray, shape (T, K)
        True factor returns of period ``t``.
    premia : ndarray, shape (K,)
        True factor means (risk premia).
    names : list of str
        Characteristic names, length P.
    """

    returns: np.ndarray
    characteristics: np.ndarray
    betas: np.ndarray
    factors: np.ndarray
    premia: np.ndarray
    names: list[str]

    @property
    def signal(self) -> np.ndarray:
        """True systematic return ``betas[t] @ factors[t]``, shape (T, N)."""
        return np.einsum("tnk,tk->tn", self.betas, self.factors)


def rank_normalize(values: np.ndarray, axis: int = -2) -> np.ndarray:
    """Cross-sectional ranks mapped linearly to [-0.5, 0.5] (ties get their average rank).

    Parameters
    ----------
    values : ndarray
        Any shape; ranked along ``axis`` (the stock axis: ``-2`` for (T, N, P) panels).
    axis : int
        The cross-sectional axis.

    Returns
    -------
    ndarray, same shape; the smallest value maps to -0.5 and the largest to 0.5. NaN stays NaN.
    """
    arr = _to_numeric(values, "values", np.float64)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer, got {axis!r}.")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis={axis} is out of range for values of shape {arr.shape}.")
    if np.isinf(arr).any():
        raise ValueError("values holds infinite values; only NaN (missing) is allowed, and it stays NaN.")
    moved = np.moveaxis(arr, axis, -1)
    if moved.shape[-1] < 2:
        raise ValueError(f"values need at least 2 stocks along axis {axis} to rank, got {moved.shape[-1]}.")
    ranks = pd.DataFrame(moved.reshape(-1, moved.shape[-1])).rank(axis=1, method="average").to_numpy()
    count = np.isfinite(moved.reshape(-1, moved.shape[-1])).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 1, (ranks - 1) / np.maximum(count - 1, 1) - 0.5, 0.0)
    out = np.where(np.isnan(ranks), np.nan, out)
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


def true_betas(c: np.ndarray) -> np.ndarray:
    """The simulated market's beta function ``g``: characteristics (..., P>=4) -> betas (..., 3).

    ``beta_1 = 1 + c_1`` (a linear market beta), ``beta_2 = c_2 + 6 (c_2^2 - 1/12)`` (convex),
    ``beta_3 = c_3 + 4 c_3 c_4`` (an interaction); the characteristics from the fifth on do not matter.
    """
    c = np.asarray(c, dtype=float)
    if c.shape[-1] < 4:
        raise ValueError(f"c needs at least 4 characteristics in its last axis, got shape {c.shape}.")
    b1 = 1.0 + c[..., 0]
    b2 = c[..., 1] + 6.0 * (c[..., 1] ** 2 - 1.0 / 12.0)
    b3 = c[..., 2] + 4.0 * c[..., 2] * c[..., 3]
    return np.stack([b1, b2, b3], axis=-1)


def make_characteristics_panel(
    n_stocks: int = 200,
    n_periods: int = 480,
    n_characteristics: int = 6,
    *,
    persistence: float = 0.95,
    factor_vol: tuple[float, float, float] = (1.0, 1.5, 1.5),
    premia: tuple[float, float, float] = (0.4, 0.4, 0.4),
    idio_vol: float = 1.5,
    seed: int = 0,
) -> CharacteristicsPanel:
    """Simulate returns whose betas are a known non-linear function of lagged characteristics.

    Each stock has ``P`` latent AR(1) characteristic scores (persistence ``persistence``), ranked across
    stocks every period to [-0.5, 0.5]. Returns of period ``t`` are
    ``r_t = g(c_{t-1}) f_t + e_t`` with ``g`` from :func:`true_betas` (three factors), factors
    ``f_t ~ N(premia, diag(factor_vol^2))`` and idiosyncratic noise ``e ~ N(0, idio_vol^2)``.

    Parameters
    ----------
    n_stocks, n_periods : int
        Panel size N and T (at least 10 and 20).
    n_characteristics : int
        P >= 4; those beyond the fourth are irrelevant noise (a model should learn to ignore them).
    persistence : float
        AR(1) coefficient of the latent characteristic scores, in [0, 1).
    factor_vol, premia : tuple of 3 floats
        Factor volatilities and means.
    idio_vol : float
        Idiosyncratic volatility (> 0).
    seed : int
        Seed of a local ``numpy`` generator (the global state is not touched).

    Returns
    -------
    CharacteristicsPanel
    """
    for name, val, low in (("n_stocks", n_stocks, 10), ("n_periods", n_periods, 20), ("n_characteristics", n_characteristics, 4)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {val!r}.")
    seed = check_seed(seed)
    persistence = check_real(persistence, "persistence")
    idio_vol = check_real(idio_vol, "idio_vol")
    if not 0 <= persistence < 1:
        raise ValueError(f"persistence must lie in [0, 1) for stationary characteristics, got {persistence}.")
    if not idio_vol > 0:
        raise ValueError(f"idio_vol must be positive, got {idio_vol}.")
    fv, lam = np.asarray(factor_vol, dtype=float), np.asarray(premia, dtype=float)
    if fv.shape != (3,) or lam.shape != (3,) or not (np.all(np.isfinite(fv)) and np.all(fv > 0)) or not np.all(np.isfinite(lam)):
        raise ValueError(f"factor_vol (positive) and premia must have 3 finite entries each, got {factor_vol} and {premia}.")
    rng = np.random.default_rng(seed)
    N, T, P = int(n_stocks), int(n_periods), int(n_characteristics)
    # latent scores for the pre-sample period and periods 0..T-1
    u = np.empty((T + 1, N, P))
    u[0] = rng.standard_normal((N, P))
    shocks = rng.standard_normal((T, N, P)) * np.sqrt(1 - persistence**2)
    for t in range(T):
        u[t + 1] = persistence * u[t] + shocks[t]
    c_all = rank_normalize(u, axis=1)  # (T+1, N, P); c_all[0] is pre-sample
    betas = true_betas(c_all[:-1])  # betas of period t from characteristics at the end of t-1
    factors = lam + rng.standard_normal((T, 3)) * fv
    returns = np.einsum("tnk,tk->tn", betas, factors) + idio_vol * rng.standard_normal((T, N))
    names = [f"c{j + 1}" for j in range(P)]
    return CharacteristicsPanel(returns, c_all[1:], betas, factors, lam, names)


def price_characteristics(prices: pd.DataFrame, *, rank: bool = True) -> dict[str, pd.DataFrame]:
    """Four price-based characteristics per stock and day, each known at the day's close.

    - ``momentum``: log return from 252 to 21 trading days ago (12-1 month momentum);
    - ``reversal``: log return over the last 21 days (short-term reversal);
    - ``volatility``: standard deviation of daily log returns over the last 63 days;
    - ``market_beta``: beta on the equal-weighted average of the stocks over the last 252 days.

    Each value at date ``t`` uses prices up to and including ``t`` only. Use it for returns *after* ``t``
    (lag by one period, see :func:`course_lib.conditional.lag_characteristics`).

    Parameters
    ----------
    prices : DataFrame, shape (n_days, N)
        Daily prices with a sorted DatetimeIndex, finite and positive, at least 300 rows and 2 columns.
    rank : bool
        Rank each characteristic across stocks every day to [-0.5, 0.5] (as in Gu, Kelly and Xiu).

    Returns
    -------
    dict of str -> DataFrame (n_days, N)
        The first 252 days are NaN (not enough history); drop them.
    """
    check_frame(prices, "prices")
    if prices.shape[0] < 300 or prices.shape[1] < 2:
        raise ValueError(f"prices needs at least 300 days and 2 stocks, got shape {prices.shape}: pass a longer history.")
    if (prices <= 0).to_numpy().any():
        raise ValueError("prices must be positive to take log returns; drop or fix non-positive prices.")
    logp = np.log(prices)
    r = logp.diff()
    mkt = r.mean(axis=1)
    cov = r.rolling(252).cov(mkt)
    beta = cov.div(mkt.rolling(252).var(), axis=0)
    out = {
        "momentum": logp.shift(21) - logp.shift(252),
        "reversal": logp - logp.shift(21),
        "volatility": r.rolling(63).std(),
        "market_beta": beta,
    }
    early = np.arange(len(prices)) < 252  # not enough history: NaN, never a partial window
    out = {k: v.mask(pd.Series(early, index=v.index), axis=0) for k, v in out.items()}
    if rank:
        out = {k: pd.DataFrame(rank_normalize(v.to_numpy(), axis=1), index=v.index, columns=v.columns) for k, v in out.items()}
    return out


def price_panel(prices: pd.DataFrame, freq: str = "W-FRI") -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex, list[str]]:
    """Returns and ranked price characteristics of real stocks as arrays, sampled every ``freq``.

    Parameters
    ----------
    prices : DataFrame, shape (n_days, N)
        Daily prices (see :func:`price_characteristics`).
    freq : str
        A pandas frequency for the periods: ``"W-FRI"`` (weeks ending on Friday) or ``"ME"`` (months).

    Returns
    -------
    characteristics : ndarray, shape (T, N, 4)
        Ranked characteristics at the last trading day of each period (known at that close).
    returns : ndarray, shape (T, N)
        Log returns over each period (last close of the previous period to the last close of this one).
    dates : DatetimeIndex, length T
        The last trading day of each period.
    names : list of str
        The characteristic names.
    """
    if not isinstance(freq, str):
        raise TypeError(f"freq must be a pandas frequency string such as 'W-FRI' or 'ME', got {freq!r}.")
    chars = price_characteristics(prices, rank=True)
    last_days = prices.index.to_series().groupby(prices.index.to_period(freq.replace("ME", "M"))).max()
    dates = pd.DatetimeIndex(last_days.to_numpy())
    if len(dates) < 20:
        raise ValueError(f"only {len(dates)} periods of frequency {freq!r}: pass a longer price history or a shorter freq.")
    logp = np.log(prices.loc[dates])
    returns = logp.diff()
    names = list(chars)
    panel = np.stack([chars[k].loc[dates].to_numpy() for k in names], axis=2)
    ok = np.isfinite(panel).all(axis=(1, 2)) & np.isfinite(returns.to_numpy()).all(axis=1)
    return panel[ok], returns.to_numpy()[ok], dates[ok], names
