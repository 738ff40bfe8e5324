"""Checkers for Chapter 2b (the conditional autoencoder).

- :func:`check_managed_portfolios`: characteristic-managed portfolios ``x_t = Z_{t-1}' r_t / N``;
- :func:`check_rank_normalize`: cross-sectional ranks mapped to [-0.5, 0.5];
- :func:`check_r2_scores`: the total and the predictive R^2 of Gu, Kelly and Xiu.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conditional import managed_portfolios as _managed
from ._common import Hint, call, close, register_hints, to_numpy

__all__ = ["check_managed_portfolios", "check_rank_normalize", "check_r2_scores"]


def check_managed_portfolios(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check ``fn(characteristics, returns) -> (T - 1, P)`` with row s = ``characteristics[s]' returns[s + 1] / N``."""
    rng = np.random.default_rng(1)
    T, N, P = 9, 7, 3
    Z = rng.uniform(-0.5, 0.5, (T, N, P))
    R = rng.standard_normal((T, N)) + 0.3

    def run(Za: np.ndarray, Ra: np.ndarray) -> np.ndarray:
        return to_numpy(call(fn, Za.copy(), Ra.copy(), what="managed_portfolios"), "managed_portfolios")

    out = run(Z, R)
    ref = _managed(Z, R)
    same = np.einsum("tnp,tn->tp", Z, R) / N  # characteristics of the same period: look-ahead
    if out.shape == (P, T - 1) or out.shape == (P, T):
        raise AssertionError(
            f"your result has shape {out.shape}, the transpose of (periods, characteristics) = ({T - 1}, {P}): "
            "return one row per period and one column per characteristic."
        )
    if out.shape == (T, P):
        if close(out, same) or close(out, same * N):
            raise AssertionError(
                "look-ahead: you paired characteristics[t] with returns[t]. The characteristics at the end of period t "
                "are not known when period t's returns are earned: use characteristics[:-1] with returns[1:] "
                f"(the result has T - 1 = {T - 1} rows)."
            )
        raise AssertionError(f"expected shape (T - 1, P) = ({T - 1}, {P}): the first period has no lagged characteristics.")
    assert out.shape == (T - 1, P), f"expected shape (T - 1, P) = ({T - 1}, {P}), got {out.shape}."
    for cand in (same[1:], same[:-1], same[1:] * N, same[:-1] * N):
        if close(out, cand):
            raise AssertionError(
                "look-ahead: you paired characteristics[t] with returns[t]. The characteristics at the end of period t "
                "are not known when period t's returns are earned: use characteristics[:-1] with returns[1:]."
            )
    wrong_dir = np.einsum("tnp,tn->tp", Z[1:], R[:-1]) / N
    if close(out, wrong_dir) or close(out, wrong_dir * N):
        raise AssertionError(
            "the lag points the wrong way: you paired the returns of period t with the characteristics of period t + 1 "
            "(the future). Use characteristics[:-1] with returns[1:]."
        )
    if close(out, ref * N):
        raise AssertionError(f"your portfolios are N = {N} times too large: divide the sum over stocks by N (or take the mean).")
    if close(out, ref * N / P) or close(out, ref * N / (T - 1)):
        raise AssertionError(
            "divide by the number of stocks N (the cross-section), not by the number of characteristics or periods."
        )
    if close(out, ref.mean(axis=0, keepdims=True).repeat(T - 1, 0)):
        raise AssertionError("you averaged over periods: keep one row per period.")
    assert close(out, ref), (
        f"expected row 0 = {np.round(ref[0], 4).tolist()}, got {np.round(out[0], 4).tolist()}: "
        "x_s = characteristics[s].T @ returns[s + 1] / N."
    )
    Z2, R2 = rng.uniform(-0.5, 0.5, (5, 11, 2)), rng.standard_normal((5, 11))
    assert close(run(Z2, R2), _managed(Z2, R2)), "wrong on a second panel of another size: do not hard-code sizes."


def _rank_ref(values: np.ndarray) -> np.ndarray:
    ranks = values.argsort(axis=1).argsort(axis=1).astype(float)
    return ranks / (values.shape[1] - 1) - 0.5


def _assert_rows_match(out: np.ndarray, ref: np.ndarray) -> None:
    """Fail naming the first row (period) where ``out`` (T, N) differs from ``ref`` (T, N)."""
    if close(out, ref):
        return
    bad = next(t for t in range(ref.shape[0]) if not close(out[t], ref[t]))
    raise AssertionError(
        f"row {bad} (period {bad}): expected {np.round(ref[bad], 3).tolist()}, got {np.round(out[bad], 3).tolist()}."
    )


def check_rank_normalize(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Check ``fn(values) -> same shape``: each row (period) ranked across its columns (stocks) to [-0.5, 0.5]."""
    rng = np.random.default_rng(2)
    T, N = 6, 5
    V = rng.standard_normal((T, N)) * np.array([1.0, 10.0, 0.1, 3.0, 5.0])

    def run(Va: np.ndarray) -> np.ndarray:
        return to_numpy(call(fn, Va.copy(), what="rank_normalize"), "rank_normalize")

    out = run(V)
    ref = _rank_ref(V)
    assert out.shape == V.shape, f"return the same shape as the input {V.shape}, got {out.shape}."
    over_time = (V.argsort(axis=0).argsort(axis=0) / (T - 1) - 0.5).astype(float)
    if close(out, over_time):
        raise AssertionError(
            "you ranked each stock over time (axis 0): that uses the stock's future values (look-ahead) and does not "
            "compare stocks. Rank across stocks within each period (axis=1)."
        )
    if close(out, ref + 0.5):
        raise AssertionError("your values lie in [0, 1]: subtract 0.5 so they lie in [-0.5, 0.5], centred on 0.")
    ranks0 = ref + 0.5  # ranks / (N - 1)
    if close(out, ranks0 * (N - 1)) or close(out, ranks0 * (N - 1) + 1):
        raise AssertionError(f"you returned raw ranks: map them linearly to [-0.5, 0.5] with rank / (N - 1) - 0.5 (N = {N}).")
    if close(out, ranks0 * (N - 1) / N - 0.5) or close(out, (ranks0 * (N - 1) + 1) / N - 0.5):
        raise AssertionError("divide the 0-based rank by N - 1, not N: the largest value must map to exactly 0.5.")
    if np.allclose(np.sort(out, axis=1), np.sort(ref, axis=1)) and close(out, -ref):
        raise AssertionError("the order is reversed: the smallest value must map to -0.5 and the largest to 0.5.")
    if close(out, (V - V.mean(1, keepdims=True)) / V.std(1, keepdims=True)):
        raise AssertionError("you standardised the values (z-scores); rank them instead: ranks are robust to outliers.")
    order = V.argsort(axis=1).astype(float)  # one argsort: the positions that sort the row, not the ranks
    if any(close(out, cand) for cand in (order / (N - 1) - 0.5, order, order / N - 0.5, (order + 1) / N - 0.5)):
        raise AssertionError(
            "you applied argsort once: argsort returns the positions that would sort the row (which column is "
            "smallest, which next, ...), not each value's rank. The rank of each value is the argsort of the argsort "
            "(or scipy.stats.rankdata / DataFrame.rank(axis=1) minus 1)."
        )
    _assert_rows_match(out, ref)
    V2 = rng.standard_normal((3, 8))
    assert close(run(V2), _rank_ref(V2)), "wrong on a second array of another size: do not hard-code N."


def check_r2_scores(fn: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[float, float]]) -> None:
    """Check ``fn(returns, betas, factors, train_factors) -> (total_r2, predictive_r2)``.

    ``returns`` (T, N), ``betas`` (T, N, K) and ``factors`` (T, K) are test periods; ``train_factors`` (T0, K) the
    factors of the training periods. Both R^2 use the raw sum of squared returns in the denominator; the
    predictive one uses ``betas @ train_factors.mean(0)``.
    """
    rng = np.random.default_rng(3)
    T, N, K = 12, 9, 2
    B = 1.0 + 0.5 * rng.standard_normal((T, N, K))
    F_train = rng.standard_normal((40, K)) * 0.5 + np.array([0.6, 0.2])
    F = rng.standard_normal((T, K)) * 0.5 + np.array([0.6, 0.2])
    R = np.einsum("tnk,tk->tn", B, F) + 0.8 * rng.standard_normal((T, N))

    raw = call(fn, R.copy(), B.copy(), F.copy(), F_train.copy(), what="r2_scores")
    try:
        tot, pred = (float(to_numpy(v, "r2_scores").reshape(())) for v in raw)
    except (TypeError, ValueError):
        raise AssertionError("return two numbers: (total_r2, predictive_r2).") from None

    def r2(fit: np.ndarray, demean: bool = False) -> float:
        den = ((R - R.mean()) ** 2).sum() if demean else (R**2).sum()
        return float(1 - ((R - fit) ** 2).sum() / den)

    fit_total = np.einsum("tnk,tk->tn", B, F)
    ref_tot, ref_pred = r2(fit_total), r2(B @ F_train.mean(0))
    if np.isclose(tot, ref_pred, atol=1e-6) and np.isclose(pred, ref_tot, atol=1e-6):
        raise AssertionError("the two numbers are swapped: return (total_r2, predictive_r2).")
    if np.isclose(tot, r2(fit_total, demean=True), atol=1e-6):
        raise AssertionError(
            "the total R^2 uses a demeaned denominator: as in Gu, Kelly and Xiu, divide by the raw sum of squared returns, "
            "sum(r^2), so that predicting the average return counts as skill."
        )
    assert np.isclose(tot, ref_tot, atol=1e-6), (
        f"total R^2: expected {ref_tot:.4f}, got {tot:.4f}: fitted = betas[t] @ factors[t]."
    )
    if np.isclose(pred, ref_tot, atol=1e-6):
        raise AssertionError(
            "your predictive R^2 equals the total R^2: it used the realised factors of the same periods, which are not "
            "known in advance. Use the factor means of the training periods: betas @ train_factors.mean(0)."
        )
    if np.isclose(pred, r2(B @ F.mean(0)), atol=1e-6):
        raise AssertionError(
            "look-ahead: your predictive R^2 uses the mean of the test-period factors. Use the training-period mean, "
            "train_factors.mean(0): it is all you know before the test periods."
        )
    if np.isclose(pred, r2(B @ F_train.mean(0), demean=True), atol=1e-6):
        raise AssertionError(
            "the predictive R^2 uses a demeaned denominator: divide by the raw sum of squared returns, sum(r^2) "
            "(the benchmark is a forecast of zero, not the test-period average, which is not known in advance)."
        )
    assert np.isclose(pred, ref_pred, atol=1e-6), (
        f"predictive R^2: expected {ref_pred:.4f}, got {pred:.4f}: forecast = betas @ train_factors.mean(0)."
    )


register_hints(
    Hint(
        "check_managed_portfolios",
        "my_managed_portfolios",
        (
            "a managed portfolio weights each stock's return by its characteristic known at the previous period and"
            " averages over the stocks, one row per period after the first (Chapter 2b, 'managed portfolios')."
        ),
        "pair characteristics[:-1] with returns[1:] and average over stocks: np.einsum('tnp,tn->tp', Z_lag, R) / N.",
    ),
    Hint(
        "check_rank_normalize",
        "my_rank_normalize",
        (
            "characteristics are ranked across the stocks of one period, never over time, and the ranks are mapped"
            " linearly so the smallest is -0.5 and the largest +0.5 (Chapter 2b, 'characteristics')."
        ),
        "0-based ranks per row are values.argsort(axis=1).argsort(axis=1); then ranks / (N - 1) - 0.5.",
    ),
    Hint(
        "check_r2_scores",
        "my_r2_scores",
        (
            "the total R-squared explains each period with that period's factors; the predictive R-squared may use only"
            " the factor premium estimated on training periods; both divide by the raw sum of squared returns"
            " (Chapter 2b, 'total and predictive R-squared')."
        ),
        "fitted = einsum('tnk,tk->tn', betas, factors); forecast = betas @ train_factors.mean(0);"
        " r2 = 1 - sum((returns - x)**2) / sum(returns**2) for x in (fitted, forecast).",
    ),
)
