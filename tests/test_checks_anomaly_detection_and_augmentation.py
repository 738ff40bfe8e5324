"""Each Chapter 4 checker passes a right answer and catches typical wrong ones with its specific hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.checks import check_anomaly_score, check_precision_at_k, check_sample_near_encoding, check_threshold_flags


# anomaly score ------------------------------------------------------------------
def _recon(x, xh):
    return 0.5 * ((x - xh) ** 2).sum(1)


def _kl(mu, lv):
    return 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(1)


def score_right(x, xh, mu, lv, w=0.1):
    return _recon(x, xh) + w * _kl(mu, lv)


def score_torch(x, xh, mu, lv, w=0.1):
    x, xh, mu, lv = (torch.as_tensor(a) for a in (x, xh, mu, lv))
    return 0.5 * (x - xh).pow(2).sum(1) + w * 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(1)


def test_anomaly_score_right():
    check_anomaly_score(score_right)
    check_anomaly_score(score_torch)


@pytest.mark.parametrize(
    "fn, match",
    [
        (lambda x, xh, mu, lv, w=0.1: score_right(x, xh, mu, lv, w).mean(), "one number for the whole batch"),
        (lambda x, xh, mu, lv, w=0.1: 0.5 * (x - xh) ** 2, r"shape \(7, 5\)"),
        (lambda x, xh, mu, lv, w=0.1: 2 * _recon(x, xh) + w * _kl(mu, lv), "twice too large"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) / x.shape[1] + w * _kl(mu, lv), "averaged over features"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) + _kl(mu, lv), "KL is not weighted"),
        (lambda x, xh, mu, lv, w=0.1: w * _recon(x, xh) + _kl(mu, lv), "multiplies the reconstruction"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh), "ignores the KL"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) + w * 0.5 * (mu**2 + np.exp(lv) - lv).sum(1), "forgot the -1"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) - w * _kl(mu, lv), "wrong sign"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) + w * 0.5 * (mu**2 + np.exp(0.5 * lv) - lv - 1).sum(1), "variance exp"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) + w * _kl(mu, lv) / mu.shape[1], "averaged over latent"),
        (lambda x, xh, mu, lv, w=0.1: _recon(x, xh) + 0.1 * _kl(mu, lv), "hard-code 0.1"),
        (lambda x, xh, mu, lv, w=0.1: 0.5 * np.abs(x - xh).sum(1) + w * _kl(mu, lv), "not squared"),
    ],
)
def test_anomaly_score_wrong(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_anomaly_score(fn)


def test_anomaly_score_stub():
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_anomaly_score(stub)


# threshold ----------------------------------------------------------------------
def test_threshold_right():
    check_threshold_flags(lambda tr, te, c=0.05: te > np.quantile(tr, 1 - c))
    check_threshold_flags(lambda tr, te, c=0.05: te > np.percentile(tr, 100 * (1 - c)))


@pytest.mark.parametrize(
    "fn, match",
    [
        (lambda tr, te, c=0.05: te < np.quantile(tr, c), "lowest scores"),
        (lambda tr, te, c=0.05: te > np.percentile(tr, 1 - c), "percent and fraction"),
        (lambda tr, te, c=0.05: te > np.quantile(te, 1 - c), "TEST scores"),
        (lambda tr, te, c=0.05: te > np.quantile(np.r_[tr, te], 1 - c), "train and test scores together"),
        (lambda tr, te, c=0.05: te > np.quantile(tr, 0.95), "hard-code 0.05"),
        (lambda tr, te, c=0.05: np.where(te > np.quantile(tr, 1 - c), -1, 1), "return booleans"),
        (lambda tr, te, c=0.05: np.quantile(tr, 1 - c), "one flag per test row"),
        (lambda tr, te, c=0.05: te > tr.max(), "not the maximum"),
        (lambda tr, te, c=0.05: te > np.quantile(tr, c), "contamination quantile \\(lower tail\\)"),
        (lambda tr, te, c=0.05: te > np.percentile(tr, 100 * c), "contamination quantile \\(lower tail\\)"),
        (lambda tr, te, c=0.05: te >= np.quantile(tr, c), "contamination quantile \\(lower tail\\)"),
        (lambda tr, te, c=0.05: te > np.quantile(tr, 0.25), "about the 0.25 quantile"),
        (lambda tr, te, c=0.05: te > np.quantile(tr, 100 * (1 - c)), "fraction in \\[0, 1\\] \\(0.95\\), np.percentile a"),
        (lambda tr, te, c=0.05: te > np.quantile(tr, 95), "fraction in \\[0, 1\\]"),
        (lambda tr, te, c=0.05: te > np.percentile(tr, 100 * (1 - c) * 100), "fraction in \\[0, 1\\]"),
    ],
)
def test_threshold_wrong(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_threshold_flags(fn)


def test_threshold_lower_tail_no_longer_blames_the_test_rows():
    with pytest.raises(AssertionError) as info:
        check_threshold_flags(lambda tr, te, c=0.05: te > np.quantile(tr, c))
    assert "test rows" not in str(info.value) and "upper (1 - contamination) quantile" in str(info.value)


def test_threshold_other_value_errors_are_not_hidden():
    def bad(tr, te, c=0.05):
        raise ValueError("something else")

    with pytest.raises(ValueError, match="something else"):
        check_threshold_flags(bad)


# precision at k -----------------------------------------------------------------
def p_right(s, y, k):
    return float(np.asarray(y)[np.argsort(-np.asarray(s), kind="stable")[:k]].mean())


def test_precision_right():
    check_precision_at_k(p_right)
    check_precision_at_k(lambda s, y, k: np.mean(y[np.argsort(s)[::-1][:k]]))


@pytest.mark.parametrize(
    "fn, match",
    [
        (lambda s, y, k: float(y[np.argsort(-s)[:k]].sum()), "number of hits"),
        (lambda s, y, k: float(y[np.argsort(s)[:k]].mean()), "LOWEST"),
        (lambda s, y, k: float(y[np.argsort(-s)[:k]].sum() / y.sum()), "recall at k"),
        (lambda s, y, k: float(y[np.argsort(-s)[: k + 1]].mean()), "off by one"),
        (lambda s, y, k: y[np.argsort(-s)[:k]], "single number"),
    ],
)
def test_precision_wrong(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_precision_at_k(fn)


# sampling near an encoding ------------------------------------------------------
def near_right(mu, lv, n, s=0.5, *, rng):
    m = np.repeat(mu, n, axis=0)
    return m + s * np.repeat(np.exp(0.5 * lv), n, axis=0) * rng.standard_normal(m.shape)


def near_torch(mu, lv, n, s=0.5, *, rng):
    mu, lv = torch.as_tensor(mu), torch.as_tensor(lv)
    m = mu.repeat_interleave(n, dim=0)
    eps = torch.from_numpy(rng.standard_normal(tuple(m.shape)))
    return m + s * torch.exp(0.5 * lv).repeat_interleave(n, dim=0) * eps


def near_rng_normal(mu, lv, n, s=0.5, rng=None):  # rng positional-or-keyword, drawing with rng.normal
    return rng.normal(np.repeat(mu, n, axis=0), s * np.repeat(np.exp(0.5 * lv), n, axis=0))


def _near(std_fn, order="repeat", center=True, noise=True):
    def fn(mu, lv, n, s=0.5, *, rng):
        rep = (lambda a: np.repeat(a, n, axis=0)) if order == "repeat" else (lambda a: np.tile(a, (n, 1)))
        m = rep(mu)
        eps = rng.standard_normal(m.shape) if noise else np.ones(m.shape)
        return (m if center else 0 * m) + rep(std_fn(lv, s)) * eps

    return fn


def test_near_right():
    check_sample_near_encoding(near_right)
    check_sample_near_encoding(near_torch)
    check_sample_near_encoding(near_rng_normal)


def near_fixed_seed(mu, lv, n, s=0.5, *, rng):  # ignores rng: every call gives the same draws
    return near_right(mu, lv, n, s, rng=np.random.default_rng(0))


def near_unseeded(mu, lv, n, s=0.5, *, rng):  # ignores rng: fresh entropy every call
    return near_right(mu, lv, n, s, rng=np.random.default_rng())


def near_torch_global(mu, lv, n, s=0.5, *, rng):
    mu, lv = torch.as_tensor(mu), torch.as_tensor(lv)
    m = mu.repeat_interleave(n, dim=0)
    return m + s * torch.exp(0.5 * lv).repeat_interleave(n, dim=0) * torch.randn_like(m)


def near_no_rng_argument(mu, lv, n, s=0.5):  # the old signature
    return near_right(mu, lv, n, s, rng=np.random.default_rng())


@pytest.mark.parametrize(
    "fn, match",
    [
        (_near(lambda lv, s: np.exp(0.5 * lv)), "full posterior sigma"),
        (_near(lambda lv, s: s * np.exp(lv)), "exp\\(logvar\\), the variance"),
        (_near(lambda lv, s: np.sqrt(s) * np.exp(0.5 * lv)), "applied to the variance"),
        (_near(lambda lv, s: s * np.abs(lv)), "logvar itself"),
        (_near(lambda lv, s: s + 0 * lv), "same spread"),
        (_near(lambda lv, s: s * np.exp(0.5 * lv), order="tile"), "interleaved"),
        (_near(lambda lv, s: s * np.exp(0.5 * lv), center=False), "centred on 0"),
        (_near(lambda lv, s: s * np.exp(0.5 * lv), noise=False), "identical"),
        (lambda mu, lv, n, s=0.5, *, rng: np.repeat(mu, n, axis=0).reshape(n, *mu.shape), "2-D array"),
        (near_fixed_seed, "different seeds gave the same draws"),
        (near_unseeded, "same seed gave different draws"),
        (near_torch_global, "same seed gave different draws"),
        (near_no_rng_argument, "accept the random generator"),
    ],
)
def test_near_wrong(fn, match):
    with pytest.raises(AssertionError, match=match):
        check_sample_near_encoding(fn)
