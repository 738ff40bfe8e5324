"""Typical wrong answers a learner writes, one per line, across every chapter's checkers.

Each is caught with a hint that NAMES the mistake (not "the values differ"): wrong scale or normalisation,
wrong axis or denominator, off-by-one windows and lags, sign errors, leaks, inputs changed in place, a wrong
dtype or shape that breaks the next cell. The share of specific hints is at least 90 % (all of these).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from course_lib import checks as C


def lr_inplace(p):
    p.iloc[:, :] = np.log(p.to_numpy())
    return p.diff().iloc[1:]


def sc_inplace(tr, te):
    mu, sd = tr.mean(), tr.std()
    tr -= mu
    tr /= sd
    return tr, (te - mu) / sd


def kl_inplace(mu, lv):
    mu.pow_(2)
    return 0.5 * (mu + lv.exp() - lv - 1).sum(1)


def mask_inplace(s, f):
    s[np.asarray(f.toarray() if sp.issparse(f) else f) != 0] = -np.inf
    return s


# (checker, wrong answer, kind of mistake, what the hint must say)
MISTAKES = [
    ("check_log_returns", lr_inplace, "inputs mutated", "in place"),
    ("check_log_returns", lambda p: 100 * np.log(p).diff().iloc[1:], "scale", "per cent"),
    ("check_log_returns", lambda p: np.log(p).diff(2).iloc[1:], "off-by-one/lag", "spans two days"),
    ("check_log_returns", lambda p: np.log(p.shift(1) / p).iloc[1:], "sign", "sign is flipped"),
    ("check_rolling_volatility", lambda r, w: r.rolling(w - 1).std(), "off-by-one window", "off by one"),
    ("check_rolling_volatility", lambda r, w: r.rolling(w + 1).std(), "off-by-one window", "off by one"),
    ("check_rolling_volatility", lambda r, w: r.rolling(w).var(), "scale (variance)", "rolling variance"),
    ("check_rolling_volatility", lambda r, w: r.expanding(w).std(), "window", "expanding window"),
    ("check_rolling_volatility", lambda r, w: r.rolling(w, min_periods=1).std(), "incomplete windows", "incomplete window"),
    ("check_rolling_volatility", lambda r, w: r.rolling(w).std().to_numpy(), "type", "DataFrame"),
    ("check_train_only_scaler", sc_inplace, "inputs mutated", "in place"),
    ("check_train_only_scaler", lambda tr, te: (tr - tr.mean(), te - tr.mean()), "scale missing", "centred but not scaled"),
    (
        "check_train_only_scaler",
        lambda tr, te: ((tr - tr.mean()) / tr.var(), (te - tr.mean()) / tr.var()),
        "variance",
        "divided by the variance",
    ),
    (
        "check_train_only_scaler",
        lambda tr, te: ((tr - tr.min()) / (tr.max() - tr.min()), (te - tr.min()) / (tr.max() - tr.min())),
        "min-max",
        "min-max",
    ),
    (
        "check_train_only_scaler",
        lambda tr, te: (
            (tr - tr.mean(axis=1).to_numpy()[:, None]) / tr.std(axis=1).to_numpy()[:, None],
            (te - te.mean(axis=1).to_numpy()[:, None]) / te.std(axis=1).to_numpy()[:, None],
        ),
        "axis",
        "each DATE",
    ),
    ("check_kl_normal", kl_inplace, "inputs mutated", "in place"),
    ("check_kl_normal", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).sum(0), "axis", "summed over the batch"),
    (
        "check_kl_normal",
        lambda mu, lv: 0.5 * (mu**2 + lv.exp() ** 2 - 2 * lv - 1).sum(1),
        "variance squared",
        "squared the variance",
    ),
    ("check_kl_normal", lambda mu, lv: 0.5 * (mu + lv.exp() - lv - 1).sum(1), "mu not squared", "mu\\^2"),
    ("check_kl_normal", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).sum(1, keepdim=True), "shape (B,1)", "keepdim"),
    (
        "check_kl_normal",
        lambda mu, lv: (0.5 * (mu**2 + lv.exp() - lv - 1).sum(1)).detach().numpy().astype(np.float32),
        "numpy ok?",
        "no gradient flows",
    ),
    ("check_reparameterize", lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.rand_like(mu), "uniform noise", "uniform"),
    ("check_reparameterize", lambda mu, lv: mu + torch.exp(-0.5 * lv) * torch.randn_like(mu), "sign in exponent", "1/sigma"),
    ("check_beta_schedule", lambda e, b, w: b * e / w, "no cap", "keeps growing"),
    ("check_beta_schedule", lambda e, b, w: b * min(1, e / (w - 1)) if w > 1 else b, "off by one", "off by one"),
    (
        "check_recovery_r2",
        lambda f, l: np.array([np.corrcoef(f[:, j], l[:, 0])[0, 1] ** 2 for j in range(f.shape[1])]),
        "one latent only",
        "ONE latent",
    ),
    (
        "check_recovery_r2",
        lambda f, l: 1 - ((f - l @ np.linalg.lstsq(l, f, rcond=None)[0]) ** 2).sum(0) / (f**2).sum(0),
        "no intercept",
        "no intercept",
    ),
    ("check_multinomial_nll", lambda f, x: -(torch.log_softmax(f, dim=0) * x).sum(1), "axis", "over users"),
    ("check_multinomial_nll", lambda f, x: -(torch.log(torch.sigmoid(f)) * x).sum(1), "sigmoid", "sigmoid"),
    ("check_multinomial_nll", lambda f, x: -(torch.log_softmax(f, dim=1) * x).mean(1), "mean over items", "averaged over items"),
    ("check_multinomial_nll", lambda f, x: -(f * x).sum(1), "no normalisation", "raw logits"),
    ("check_multinomial_nll", lambda f, x: -(torch.log_softmax(f, 1) * x).sum(1).detach().numpy(), "numpy", "no gradient flows"),
    ("check_mask_foldin", mask_inplace, "inputs mutated", "in place"),
    (
        "check_mask_foldin",
        lambda s, f: np.where(np.asarray(f.toarray() if sp.issparse(f) else f) != 0, 0.0, s),
        "zero",
        "not enough",
    ),
    (
        "check_mask_foldin",
        lambda s, f: np.where(np.asarray(f.toarray() if sp.issparse(f) else f) != 0, -1e9, s),
        "-1e9",
        "large negative",
    ),
    (
        "check_anomaly_score",
        lambda x, xh, mu, lv, w: ((x - xh) ** 2).sum(1) + w * 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(1),
        "missing half",
        "twice too large",
    ),
    (
        "check_anomaly_score",
        lambda x, xh, mu, lv, w: 0.5 * ((x - xh) ** 2).mean(1) + w * 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(1),
        "mean not sum",
        "averaged over features",
    ),
    (
        "check_anomaly_score",
        lambda x, xh, mu, lv, w: 0.5 * ((x - xh) ** 2).sum(1) + 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(1),
        "weight ignored",
        "not weighted",
    ),
    (
        "check_anomaly_score",
        lambda x, xh, mu, lv, w: 0.5 * ((x - xh) ** 2).sum(1) - w * 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(1),
        "sign",
        "wrong sign",
    ),
    ("check_anomaly_score", lambda x, xh, mu, lv, w: 0.5 * ((x - xh) ** 2).sum(0), "axis", "over the days"),
    (
        "check_threshold_flags",
        lambda tr, te, c=0.05: np.asarray(te) > np.quantile(tr, 100 * (1 - c)),
        "percent",
        "fraction in \\[0, 1\\]",
    ),
    (
        "check_threshold_flags",
        lambda tr, te, c=0.05: np.asarray(te) > np.quantile(np.concatenate([tr, te]), 1 - c),
        "leak",
        "train and test",
    ),
    ("check_threshold_flags", lambda tr, te, c=0.05: np.asarray(te) > np.quantile(tr, c), "lower quantile", "lower tail"),
    (
        "check_threshold_flags",
        lambda tr, te, c=0.05: (np.asarray(te) > np.quantile(tr, 1 - c)).astype(int),
        "int dtype",
        "not booleans",
    ),
    (
        "check_precision_at_k",
        lambda s, y, k: float(np.asarray(y)[np.argsort(-np.asarray(s))[:k]].sum()),
        "count",
        "number of hits",
    ),
    (
        "check_precision_at_k",
        lambda s, y, k: float(np.asarray(y)[np.argsort(-np.asarray(s))[: k + 1]].mean()),
        "off by one",
        "off by one",
    ),
    (
        "check_sample_near_encoding",
        lambda mu, lv, n, s=0.5, *, rng: (
            np.tile(mu, (n, 1)) + s * np.tile(np.exp(0.5 * lv), (n, 1)) * rng.standard_normal((mu.shape[0] * n, mu.shape[1]))
        ),
        "tile order",
        "interleaved",
    ),
    (
        "check_sample_near_encoding",
        lambda mu, lv, n, s=0.5, *, rng: (
            np.repeat(mu, n, 0) + s * np.repeat(np.exp(lv), n, 0) * rng.standard_normal((mu.shape[0] * n, mu.shape[1]))
        ),
        "variance",
        "the variance",
    ),
    (
        "check_sample_near_encoding",
        lambda mu, lv, n, s=0.5, *, rng: (
            np.repeat(mu, n, 0)
            + s * np.repeat(np.exp(0.5 * lv), n, 0) * np.random.standard_normal((mu.shape[0] * n, mu.shape[1]))
        ),
        "global rng",
        "rng argument",
    ),
    (
        "check_sample_near_encoding",
        lambda mu, lv, n, s=0.5, *, rng: (
            np.repeat(mu, n, 0) + np.repeat(np.exp(0.5 * lv), n, 0) * rng.standard_normal((mu.shape[0] * n, mu.shape[1]))
        ),
        "scale ignored",
        "noise_scale",
    ),
    ("check_rank_normalize", lambda v: np.argsort(v, axis=1) / (v.shape[1] - 1) - 0.5, "positions, not ranks", "argsort once"),
]


@pytest.mark.parametrize("checker, wrong, kind, hint", MISTAKES, ids=[f"{m[0]}-{m[2]}" for m in MISTAKES])
def test_typical_mistake_gets_a_hint_naming_it(checker, wrong, kind, hint):
    with pytest.raises(AssertionError, match=hint):
        getattr(C, checker)(wrong)


def test_correct_variants_still_pass():
    C.check_reparameterize(lambda mu, lv: mu - torch.exp(0.5 * lv) * torch.randn_like(mu))  # -eps is N(0, 1) too
    C.check_kl_normal(lambda mu, lv: -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp(), dim=-1))
    C.check_train_only_scaler(lambda tr, te: ((tr - tr.mean()) / tr.std(ddof=0), (te - tr.mean()) / tr.std(ddof=0)))
    C.check_threshold_flags(lambda tr, te, c=0.05: np.asarray(te) > np.percentile(tr, 100 * (1 - c)))


def test_every_checker_has_typical_mistakes_listed_here_or_in_its_own_tests():
    covered = {m[0] for m in MISTAKES}
    assert len(covered) >= 12
    assert len(MISTAKES) >= 45
