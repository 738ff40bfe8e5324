"""Checkers for Chapter 4 (anomaly detection and augmentation): call them on your own implementation.

- :func:`check_anomaly_score`: ``fn(x, x_hat, mu, logvar, kl_weight) -> (n,)``, reconstruction + weighted KL;
- :func:`check_threshold_flags`: ``fn(train_scores, test_scores, contamination) -> (n_test,) bool``,
  a percentile threshold fitted on training scores only;
- :func:`check_precision_at_k`: ``fn(scores, labels, k) -> float``;
- :func:`check_sample_near_encoding`: ``fn(mu, logvar, n_per_row, noise_scale, rng=rng) -> (n_rows * n_per_row, L)``,
  the noise drawn from the ``numpy.random.Generator`` ``rng``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..anomalies import precision_at_k as _precision_ref
from ._common import Hint, call, close, register_hints, to_numpy

__all__ = ["check_anomaly_score", "check_threshold_flags", "check_precision_at_k", "check_sample_near_encoding"]


def _recon(x: np.ndarray, xh: np.ndarray) -> np.ndarray:
    return 0.5 * ((x - xh) ** 2).sum(axis=1)


def _kl(mu: np.ndarray, lv: np.ndarray) -> np.ndarray:
    return 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(axis=1)


def check_anomaly_score(fn: Callable[..., Any]) -> None:
    """Check ``fn(x, x_hat, mu, logvar, kl_weight)`` returns ``0.5*||x - x_hat||^2 + kl_weight * KL`` per row, shape (n,)."""
    rng = np.random.default_rng(0)
    n, D, L = 7, 5, 3
    x, xh = rng.normal(size=(n, D)), rng.normal(size=(n, D))
    mu, lv = rng.normal(size=(n, L)), 0.7 * rng.normal(size=(n, L))
    w = 0.1
    rec, kl = _recon(x, xh), _kl(mu, lv)
    ref = rec + w * kl
    out = to_numpy(call(fn, x.copy(), xh.copy(), mu.copy(), lv.copy(), w, what="anomaly_score"), "anomaly_score")
    if out.size == 1 and out.shape != (n,):
        raise AssertionError("you returned one number for the whole batch: return one score per row (day), shape (n,).")
    if out.shape in ((n, D), (n, L)):
        raise AssertionError(
            f"you returned shape {out.shape}: sum the squared errors over features and the KL over latent dimensions (axis=1)."
        )
    if out.shape in ((D,), (L,)):
        raise AssertionError(
            "you summed over the days (axis=0): sum over features and latent dimensions (axis=1), one score per day."
        )
    assert out.shape == (n,), f"the score should have shape (n,)=({n},), got {out.shape}."
    wrong = {
        "the reconstruction part is twice too large: it is 0.5 * sum((x - x_hat)**2), with the 1/2.": 2 * rec + w * kl,
        "the reconstruction part is averaged over features: sum the squared errors over features (axis=1), then halve.": rec / D
        + w * kl,
        "the KL is not weighted: multiply it by kl_weight.": rec + kl,
        "kl_weight multiplies the reconstruction instead of the KL: score = recon + kl_weight * KL.": w * rec + kl,
        "the score ignores the KL: add kl_weight * KL.": rec,
        "the KL part is 0.5 per latent dimension too large: you forgot the -1 inside the sum.": rec + w * (kl + 0.5 * L),
        "the KL has the wrong sign: the KL is >= 0, so add it.": rec - w * kl,
        "the KL uses exp(0.5*logvar) (sigma) where the variance exp(logvar) belongs.": rec
        + w * 0.5 * (mu**2 + np.exp(0.5 * lv) - lv - 1).sum(1),
        "the KL is averaged over latent dimensions: sum it (axis=1).": rec + w * kl / L,
        "the squared error is not squared (abs or plain difference): use 0.5 * ((x - x_hat)**2).sum(axis=1).": 0.5
        * np.abs(x - xh).sum(1)
        + w * kl,
    }
    for hint, val in wrong.items():
        if close(out, val):
            raise AssertionError(hint)
    assert close(out, ref), f"the scores differ from recon + kl_weight * KL: expected {ref.round(3)}, got {out.round(3)}."
    out2 = to_numpy(call(fn, x, xh, mu, lv, 1.0, what="anomaly_score"), "anomaly_score")
    if close(out2, ref):
        raise AssertionError("the result does not change with kl_weight: use the argument, do not hard-code 0.1.")
    assert close(out2, rec + kl), "with kl_weight=1 the score should be recon + KL."
    zero = to_numpy(call(fn, x, x.copy(), np.zeros((n, L)), np.zeros((n, L)), w, what="anomaly_score"), "anomaly_score")
    assert np.allclose(zero, 0.0, atol=1e-9), "a perfect reconstruction with the prior as posterior must score 0."


def _threshold_level(run: Callable[[np.ndarray, np.ndarray, float], np.ndarray], train: np.ndarray, c: float) -> float | None:
    """The training-score quantile level above which ``run`` flags, or None when the flags are not one upper tail."""
    levels = np.linspace(0.0, 1.0, 2001)
    flags = run(train, np.quantile(train, levels), c)
    if not flags.any() or flags.all() or not (np.diff(flags.astype(int)) >= 0).all():
        return None
    return float(levels[int(np.argmax(flags)) - 1])


def check_threshold_flags(fn: Callable[..., Any]) -> None:
    """Check ``fn(train_scores, test_scores, contamination)``.

    It must flag the test rows above the training ``1 - contamination`` quantile.
    """
    rng = np.random.default_rng(1)
    train = rng.exponential(size=1000)
    test = np.r_[rng.exponential(size=190), 20 + rng.exponential(size=10)]
    c = 0.05

    def run(tr: np.ndarray, te: np.ndarray, cc: float) -> np.ndarray:
        try:
            out = call(fn, tr.copy(), te.copy(), cc, what="threshold_flags")
        except ValueError as exc:
            if "must be in the range" in str(exc):
                raise AssertionError(
                    f"np.quantile takes a fraction in [0, 1] (0.95), np.percentile a percentage (95) ({exc})."
                ) from None
            raise
        arr = np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out)
        if arr.shape != te.shape:
            raise AssertionError(f"return one flag per test row, shape ({len(te)},); got shape {arr.shape}.")
        if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
            raise AssertionError("return booleans (True = flagged), e.g. test_scores > threshold, not scores or -1/1 labels.")
        if arr.dtype != bool:
            raise AssertionError(
                "the flags are 0/1 numbers, not booleans: the next cell selects rows with X[flags], and integer flags "
                "pick rows 0 and 1 instead of masking. Return the comparison itself (dtype bool)."
            )
        return arr.astype(bool)

    flags = run(train, test, c)
    tau = np.quantile(train, 1 - c)
    ref = test > tau
    if np.array_equal(flags, test < np.quantile(train, c)) or np.array_equal(flags, test <= np.quantile(train, c)):
        raise AssertionError(
            "you flagged the lowest scores: anomalies have HIGH scores; use the 1 - contamination quantile and >."
        )
    if np.array_equal(flags, test > np.percentile(train, 1 - c)):
        raise AssertionError("percent and fraction mixed up: np.quantile takes a fraction (0.95), np.percentile a percent (95).")
    # the threshold must not move with the test data
    far = test + 50
    shifted = run(train, far, c)
    if not shifted.all():
        if np.array_equal(shifted, far > np.quantile(far, 1 - c)):
            raise AssertionError(
                "the threshold was taken from the TEST scores: fit it on train_scores only (test data must not set it)."
            )
        if np.array_equal(shifted, far > np.quantile(np.r_[train, far], 1 - c)):
            raise AssertionError("the threshold used train and test scores together: fit it on train_scores only.")
        raise AssertionError(
            "when every test score is far above the training scores all must be flagged: "
            "the threshold must come from training scores only."
        )
    calm = run(train, np.full(50, np.median(train)), c)
    if calm.any():
        level = _threshold_level(run, train, c)
        if level is not None and abs(level - c) <= 0.01:
            raise AssertionError(
                "the threshold is the contamination quantile (lower tail) of the training scores: flag scores above "
                "the upper (1 - contamination) quantile, test_scores > np.quantile(train_scores, 1 - contamination)."
            )
        if level is not None:
            raise AssertionError(
                f"the threshold sits at about the {level:.3g} quantile of the training scores, in the lower tail: flag scores "
                "above the upper (1 - contamination) quantile, test_scores > np.quantile(train_scores, 1 - contamination)."
            )
        raise AssertionError(
            "typical test scores (equal to the training median) were flagged: anomalies are the HIGH scores, "
            "above np.quantile(train_scores, 1 - contamination)."
        )
    if np.array_equal(flags, test > train.max()) or np.array_equal(flags, test >= train.max()):
        raise AssertionError(
            "the threshold is the largest training score: with contamination c, a share c of the training days should "
            "lie above the threshold, so it is the upper (1 - c) quantile, not the maximum."
        )
    assert np.array_equal(flags, ref), (
        f"flagged {int(flags.sum())} test rows, expected {int(ref.sum())}: "
        "flag the test scores above the upper (1 - contamination) quantile of the TRAINING scores."
    )
    other = run(train, test, 0.2)
    if np.array_equal(other, flags):
        raise AssertionError("the flags do not change with contamination: use the argument, do not hard-code 0.05.")
    assert np.array_equal(other, test > np.quantile(train, 0.8)), (
        "with contamination=0.2 the threshold is the 80th percentile of the training scores."
    )


def check_precision_at_k(fn: Callable[..., Any]) -> None:
    """Check ``fn(scores, labels, k)`` returns the share of anomalies among the ``k`` highest scores."""

    def run(s: np.ndarray, y: np.ndarray, k: int) -> float:
        out = to_numpy(call(fn, s.copy(), y.copy(), k, what="precision_at_k"), "precision_at_k")
        if out.size != 1:
            raise AssertionError(f"return a single number, not an array of shape {out.shape}.")
        return float(out.reshape(()))

    s = np.array([0.9, 0.1, 0.8, 0.3, 0.7, 0.2, 0.6, 0.05])
    y = np.array([1, 1, 0, 0, 1, 1, 1, 1])
    k = 3
    got = run(s, y, k)
    ref = _precision_ref(s, y, k)  # top 3: 0.9 (1), 0.8 (0), 0.7 (1) -> 2/3
    if np.isclose(got, 2.0):
        raise AssertionError("you returned the number of hits; divide by k to get a share.")
    if np.isclose(got, _precision_ref(-s, y, k)):
        raise AssertionError("you took the k LOWEST scores: sort by descending score (np.argsort(-scores)).")
    if np.isclose(got, 2 / y.sum()):
        raise AssertionError("you divided by the number of anomalies: that is recall at k; precision divides by k.")
    if np.isclose(got, _precision_ref(s, y, k + 1)) or np.isclose(got, _precision_ref(s, y, k - 1)):
        raise AssertionError("off by one: take exactly k rows, e.g. np.argsort(-scores)[:k].")
    assert np.isclose(got, ref), f"precision at {k} should be {ref:.4f}, got {got:.4f}."
    rng = np.random.default_rng(3)
    s2, y2 = rng.normal(size=200), (rng.random(200) < 0.1).astype(int)
    for kk in (1, 10, 50):
        r = _precision_ref(s2, y2, kk)
        g = run(s2, y2, kk)
        assert np.isclose(g, r), f"on random data precision at {kk} should be {r:.4f}, got {g:.4f}."
    assert np.isclose(run(s2, y2, 200), y2.mean()), "with k = n, precision at k is the share of anomalies."


def check_sample_near_encoding(fn: Callable[..., Any]) -> None:
    """Check ``fn(mu, logvar, n_per_row, noise_scale, rng=rng)`` draws ``mu + noise_scale * sigma * eps``, row 0's draws first.

    The noise must come from the ``numpy.random.Generator`` passed as ``rng``: the same seed gives the same draws,
    another seed other draws.
    """
    mu = np.array([[1.0, -2.0], [0.0, 3.0]])
    std = np.array([[1.0, 2.0], [0.5, 1.5]])
    lv = 2 * np.log(std)
    n, s = 20000, 0.5

    def run(m: np.ndarray, v: np.ndarray, k: int, scale: float, seed: int) -> np.ndarray:
        try:
            with_rng = functools.partial(fn, rng=np.random.default_rng(seed))
            out = call(with_rng, m.copy(), v.copy(), k, scale, what="sample_near_encoding")
        except TypeError as exc:
            if "'rng'" in str(exc):
                raise AssertionError(
                    "the function must accept the random generator: def sample_near_encoding(mu, logvar, n_per_row, "
                    f"noise_scale=0.5, *, rng), and draw the noise with rng.standard_normal(shape) ({exc})."
                ) from None
            raise
        return to_numpy(out, "sample_near_encoding")

    out = run(mu, lv, n, s, 0)
    if out.shape == (n, 2, 2) or out.shape == (2, n, 2):
        raise AssertionError(
            f"return a 2-D array of shape (n_rows * n_per_row, latent_dim) = ({2 * n}, 2): reshape(-1, latent_dim)."
        )
    assert out.shape == (2 * n, 2), f"expected shape (n_rows * n_per_row, latent_dim) = ({2 * n}, 2), got {out.shape}."
    first, second = out[:n], out[n:]
    if np.allclose(first.std(0), 0) or np.allclose(out[0], out[1]):
        raise AssertionError("the draws are identical: add noise eps ~ N(0, I), one per draw and dimension.")
    if not np.allclose(first.mean(0), mu[0], atol=0.05):
        if np.allclose(out[0::2].mean(0), mu[0], atol=0.05):
            raise AssertionError(
                "the draws are interleaved (row 0, row 1, row 0, ...): "
                "put all draws of row 0 first, then those of row 1 (repeat each row, do not tile the block)."
            )
        if np.allclose(first.mean(0), 0, atol=0.05):
            raise AssertionError("the draws are centred on 0: centre them on mu (z = mu + ...).")
        raise AssertionError(
            f"the draws of row 0 should have mean mu[0]={mu[0].tolist()}, got {first.mean(0).round(3).tolist()}."
        )
    got = np.vstack([first.std(0), second.std(0)])
    target = s * std
    candidates = {
        "the spread is the full posterior sigma: scale the noise by noise_scale (z = mu + noise_scale * sigma * eps).": std,
        "the spread uses exp(logvar), the variance: sigma = exp(0.5 * logvar).": s * np.exp(lv),
        "noise_scale was applied to the variance: scale the standard deviation, z = mu + noise_scale * sigma * eps.": np.sqrt(s)
        * std,
        "the spread uses logvar itself: sigma = exp(0.5 * logvar).": s * np.abs(lv),
        "every dimension has the same spread noise_scale: multiply eps by sigma = exp(0.5 * logvar).": np.full_like(std, s),
    }
    if np.allclose(got, target, rtol=0.05):
        pass
    else:
        for hint, val in candidates.items():
            if np.allclose(got, val, rtol=0.05, atol=0.01):
                raise AssertionError(hint)
        raise AssertionError(
            f"the spread per dimension should be noise_scale * sigma = {target.tolist()}, got {got.round(3).tolist()}."
        )
    zero = run(mu, lv, 5, 0.0, 0)
    assert zero.shape == (10, 2) and np.allclose(zero, np.repeat(mu, 5, axis=0)), "with noise_scale=0 every draw equals its mu."
    # the noise must come from rng: reproducible with the same seed, different with another
    again, other = run(mu, lv, 50, s, 7), run(mu, lv, 50, s, 8)
    if not np.array_equal(again, run(mu, lv, 50, s, 7)):
        raise AssertionError(
            "two generators with the same seed gave different draws: draw the noise from the rng argument, "
            "eps = rng.standard_normal(shape), not from np.random, torch.randn or a new np.random.default_rng()."
        )
    if np.array_equal(again, other):
        raise AssertionError(
            "generators with different seeds gave the same draws: the noise ignores rng (a fixed seed inside the function?); "
            "draw it with eps = rng.standard_normal(shape)."
        )


register_hints(
    Hint(
        "check_anomaly_score",
        "anomaly_score",
        (
            "the score adds a reconstruction error and a weighted KL of the posterior to the prior, one number per day "
            "(Chapter 4, the VAE anomaly score)."
        ),
        "0.5 * ((x - x_hat)**2).sum(axis=1) + kl_weight * 0.5 * (mu**2 + np.exp(logvar) - logvar - 1).sum(axis=1).",
    ),
    Hint(
        "check_threshold_flags",
        "threshold_flags",
        (
            "the threshold is a high quantile of the TRAINING scores; a test day is flagged when its score is above it "
            "(Chapter 4, thresholds without look-ahead)."
        ),
        "t = np.quantile(train_scores, 1 - contamination); return np.asarray(test_scores) > t.",
    ),
    Hint(
        "check_precision_at_k",
        "precision_at_k",
        "take the k rows with the highest scores and report the share of true anomalies among them (Chapter 4, precision at k).",
        "top = np.argsort(-scores)[:k]; return float(np.asarray(labels)[top].mean()).",
    ),
    Hint(
        "check_sample_near_encoding",
        "sample_near_encoding",
        (
            "each code is its row's posterior mean plus a shrunken draw from that row's posterior spread; the copies of one"
            " row stay together and the noise comes from the generator you are given (Chapter 4, augmentation)."
        ),
        (
            "mu_r = np.repeat(mu, n_per_row, axis=0); sd = np.repeat(np.exp(0.5 * logvar), n_per_row, axis=0); return mu_r "
            "+ noise_scale * sd * rng.standard_normal(mu_r.shape)."
        ),
    ),
)
