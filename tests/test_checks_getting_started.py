"""Each checker passes right answers and catches typical wrong ones with the right hint."""

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib.checks import (
    check_kl_normal,
    check_log_returns,
    check_ndcg_at_k,
    check_reparameterize,
    check_rolling_volatility,
    check_train_only_scaler,
)
from course_lib.metrics import ndcg_at_k


# ---- reparameterisation ------------------------------------------------------------------
def reparam_ok(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mu, lv: mu, "forgot the noise"),
        (lambda mu, lv: torch.exp(0.5 * lv) * torch.randn_like(mu), "forget to add mu"),
        (lambda mu, lv: mu + torch.exp(lv) * torch.randn_like(mu), "the variance"),
        (lambda mu, lv: mu + torch.randn_like(mu), "scale the noise"),
        (lambda mu, lv: mu + lv * torch.randn_like(mu), "logvar is the log of the variance"),
        (lambda mu, lv: torch.normal(mu, torch.exp(0.5 * lv)), "no gradient reaches mu"),
        (lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach(), "no gradient"),
        (lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape[1]), "same noise"),
        (
            lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(0)),
            "two calls returned the same draws",
        ),
        (lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach().numpy(), "torch.Tensor"),
    ],
)
def test_check_reparameterize_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_reparameterize(wrong)


def test_check_reparameterize_passes_right_answers():
    check_reparameterize(reparam_ok)
    check_reparameterize(lambda mu, lv: mu + torch.sqrt(torch.exp(lv)) * torch.randn_like(lv))


def test_checker_reports_unfinished_stub():
    def stub(mu, logvar):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_reparameterize(stub)


# ---- KL --------------------------------------------------------------------------------------
def kl_ok(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mu, lv: (mu**2 + lv.exp() - lv - 1).sum(1), "twice too large: did you drop the 1/2"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).mean(1), "latent_dim times too small"),
        (lambda mu, lv: -0.5 * (mu**2 + lv.exp() - lv - 1).sum(1), "wrong sign"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv).sum(1), "forgot the -1"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).sum(), "one number for the whole batch"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1), "sum over the latent dimensions"),
        (lambda mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 0.5 * lv - 1).sum(1), "sigma where sigma\\^2 belongs"),
        (lambda mu, lv: 0.5 * (lv.exp() - lv - 1).sum(1), "torch.distributions"),
    ],
)
def test_check_kl_normal_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_kl_normal(wrong)


def test_check_kl_normal_passes_right_answers():
    check_kl_normal(kl_ok)
    dist = torch.distributions
    check_kl_normal(lambda mu, lv: dist.kl_divergence(dist.Normal(mu, (0.5 * lv).exp()), dist.Normal(0.0, 1.0)).sum(-1))


# ---- NDCG ------------------------------------------------------------------------------------
def _ndcg_builder(discount_offset=2, normalise=True, ideal_min=True, descending=True, per_user=True, dense_only=False, extra=0):
    def fn(scores, heldout, k):
        if not dense_only and hasattr(heldout, "toarray"):
            heldout = heldout.toarray()
        H = np.asarray(heldout)
        order = np.argsort(-scores if descending else scores, axis=1)[:, : k + extra]
        hits = np.take_along_axis(H, order, axis=1)
        disc = 1.0 / np.log2(np.arange(discount_offset, k + extra + discount_offset))
        dcg = hits @ disc
        n = H.sum(1)
        m = np.minimum(n, k) if ideal_min else n
        idcg = np.array([(1.0 / np.log2(np.arange(discount_offset, mm + discount_offset))).sum() for mm in m])
        out = dcg / idcg if normalise else dcg
        return out if per_user else out.mean()

    return fn


@pytest.mark.parametrize(
    "kwargs, hint",
    [
        ({"discount_offset": 1}, "(non-finite|off by one)"),
        ({"discount_offset": 3}, "off by one"),
        ({"discount_offset": 1, "normalise": False}, "non-finite"),
        ({"normalise": False}, "above 1: divide the DCG by the ideal"),
        ({"ideal_min": False}, "min\\(k, number held out\\)"),
        ({"descending": False}, "descending"),
        ({"per_user": False}, "one value per user"),
        ({"dense_only": True}, "scipy sparse"),
        ({"extra": 1}, "only the top k items count"),
    ],
)
def test_check_ndcg_catches(kwargs, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(AssertionError, match=hint):
            check_ndcg_at_k(_ndcg_builder(**kwargs))


def test_check_ndcg_passes_right_answers():
    check_ndcg_at_k(ndcg_at_k)
    check_ndcg_at_k(_ndcg_builder())


# ---- Chapter 0 warm-ups ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda p: np.log(p).diff(), "drop it"),
        (lambda p: p.pct_change().iloc[1:], "simple returns"),
        (lambda p: -np.log(p).diff().iloc[1:], "sign is flipped"),
        (lambda p: np.log(p).diff().iloc[1:].to_numpy(), "DataFrame"),
        (lambda p: -np.log(p).diff(-1).iloc[:-1], "one day too early"),
    ],
)
def test_check_log_returns_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_log_returns(wrong)


def test_check_log_returns_passes():
    check_log_returns(lambda p: np.log(p / p.shift(1)).dropna())


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, w: r.rolling(w, center=True).std(), "look-ahead"),
        (lambda r, w: r.shift(-(w - 1)).rolling(w).std(), "looks forward"),
        (lambda r, w: r.rolling(w).std(ddof=0), "ddof=0"),
        (lambda r, w: r.rolling(w).std() * np.sqrt(252), "annualised"),
        (lambda r, w: r.rolling(w, min_periods=1).std(), "must be NaN"),
        (lambda r, w: r.rolling(w).std().dropna(), "one row per date"),
        (lambda r, w: r.rolling(w).std().shift(1), "lagged by one day"),
    ],
)
def test_check_rolling_volatility_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_rolling_volatility(wrong)


def test_check_rolling_volatility_passes():
    check_rolling_volatility(lambda r, w: r.rolling(window=w).std())


def _scale_full(train, test):
    full = pd.concat([train, test])
    mu, sd = full.mean(), full.std(ddof=0)
    return (train - mu) / sd, (test - mu) / sd


def _scale_full_ddof1(train, test):
    full = pd.concat([train, test])
    return (train - full.mean()) / full.std(), (test - full.mean()) / full.std()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - te.mean()) / te.std()), "its own"),
        (_scale_full, "full-sample"),
        (lambda tr, te: _scale_full_ddof1(tr, te), "full-sample"),
        (lambda tr, te: (tr - tr.mean()) / tr.std(), "pair"),
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / te.std()), "train mean\\) / train std"),
    ],
)
def test_check_train_only_scaler_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_train_only_scaler(wrong)


def test_check_train_only_scaler_passes():
    from sklearn.preprocessing import StandardScaler

    def ok(train, test):
        s = StandardScaler().fit(train)
        return s.transform(train), s.transform(test)

    check_train_only_scaler(ok)
    check_train_only_scaler(lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / tr.std()))


def test_failing_checks_hide_the_reference_code_from_the_traceback():
    import traceback

    try:
        check_kl_normal(lambda mu, lv: (mu**2 + lv.exp() - lv - 1).sum(1))
    except AssertionError as exc:
        text = "".join(traceback.format_exception(exc))
    assert "did you drop the 1/2" in text
    assert "kl_divergence" not in text, "the checker's reference computation must not show"
    assert check_kl_normal.__name__ == "check_kl_normal" and "KL" in check_kl_normal.__doc__
