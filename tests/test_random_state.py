"""No public library call changes the caller's global random state (issue 14, item 1).

Each entry of ``CALLS`` is ``(label, zero-argument callable)``. The test sets the global generators of
Python, NumPy and PyTorch to a known state, runs the call, and requires every generator to be exactly as
before. To cover a new public function, add one line to ``CALLS`` (or to ``CHECKER_RIGHT_ANSWERS`` for a
checker that runs the learner's code past its first line).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

import course_lib.checks as checks
from course_lib import isolated_rng
from course_lib.data import chronological_split, make_factor_market, make_fund_holdings, scale_splits
from course_lib.estimators import AutoencoderEmbedder, VAEAnomalyDetector, VAEFactorModel
from course_lib.losses import linear_anneal
from course_lib.metrics import factor_recovery_r2
from course_lib.models import VAE, Autoencoder
from course_lib.scenarios import bootstrap_scenarios, discriminator_auc, gaussian_scenarios
from course_lib.train import evaluate, fit

_X = np.random.default_rng(0).standard_normal((48, 6)).astype(np.float32)
_TINY = dict(hidden_dims=(4,), epochs=2, batch_size=16)


def _fitted(cls, **kw):
    with isolated_rng(0):
        return cls(**kw, **_TINY).fit(_X)


def _model(cls, *args):
    with isolated_rng(0):
        return cls(*args)


_EMB = _fitted(AutoencoderEmbedder, latent_dim=2)
_FAC = _fitted(VAEFactorModel, n_components=2, warmup_epochs=1)
_DET = _fitted(VAEAnomalyDetector, latent_dim=2, warmup_epochs=1)
_MKT = make_factor_market(n_stocks=8, n_days=60, n_factors=2, n_sectors=2, seed=0)

CALLS: list[tuple[str, Callable[[], object]]] = [
    ("fit(seed=0)", lambda: fit(_model(VAE, 6, 2, (4,)), _X, epochs=2, beta=linear_anneal(1.0, 1), seed=0, progress=False)),
    (
        "fit(seed=0, val_fraction)",
        lambda: fit(_model(Autoencoder, 6, 2, (4,)), _X, epochs=2, val_fraction=0.25, seed=0, progress=False),
    ),
    ("evaluate", lambda: evaluate(_FAC.model_, _X)),
    ("AutoencoderEmbedder.fit", lambda: AutoencoderEmbedder(latent_dim=2, **_TINY).fit(_X)),
    ("AutoencoderEmbedder.transform", lambda: _EMB.transform(_X)),
    ("AutoencoderEmbedder.inverse_transform", lambda: _EMB.inverse_transform(np.zeros((3, 2)))),
    ("VAEFactorModel.fit", lambda: VAEFactorModel(n_components=2, warmup_epochs=1, **_TINY).fit(_X)),
    (
        "VAEFactorModel.fit(RandomState)",
        lambda: VAEFactorModel(n_components=2, random_state=np.random.RandomState(3), **_TINY).fit(_X),
    ),
    ("VAEFactorModel.transform", lambda: _FAC.transform(_X)),
    ("VAEFactorModel.posterior", lambda: _FAC.posterior(_X)),
    ("VAEFactorModel.sample", lambda: _FAC.sample(5, random_state=0)),
    ("VAEAnomalyDetector.fit", lambda: VAEAnomalyDetector(latent_dim=2, warmup_epochs=1, **_TINY).fit(_X)),
    ("VAEAnomalyDetector.score_samples", lambda: _DET.score_samples(_X)),
    ("VAEAnomalyDetector.predict", lambda: _DET.predict(_X)),
    ("make_factor_market", lambda: make_factor_market(n_stocks=8, n_days=40, n_factors=2, n_sectors=2, seed=1)),
    (
        "make_factor_market(regime)",
        lambda: make_factor_market(n_stocks=8, n_days=40, n_factors=2, n_sectors=2, nonlinear="regime"),
    ),
    ("make_fund_holdings", lambda: make_fund_holdings(n_investors=60, n_funds=40, seed=0)),
    ("chronological_split + scale_splits", lambda: scale_splits(chronological_split(_MKT.returns))),
    ("gaussian_scenarios", lambda: gaussian_scenarios(_X, 5)),
    ("bootstrap_scenarios", lambda: bootstrap_scenarios(_X, 5)),
    ("discriminator_auc", lambda: discriminator_auc(_X, _X[::-1], n_splits=2)),
    ("factor_recovery_r2", lambda: factor_recovery_r2(_MKT.factors, _MKT.factors)),
]

# Chapter modules that draw random numbers (issue 16 added their seed checks) ------------------------------------------
from course_lib import conditional as _cond  # noqa: E402
from course_lib import factors as _fac  # noqa: E402
from course_lib import pairs as _prs  # noqa: E402
from course_lib import portfolio as _pf  # noqa: E402
from course_lib import recommend as _rec  # noqa: E402
from course_lib import recsplit as _rs  # noqa: E402
from course_lib.data import make_characteristics_panel, make_pairs_market  # noqa: E402
from course_lib.data.holdings import make_mismatch_profiles  # noqa: E402

_RET = _MKT.returns.iloc[:, :6]
_Z6 = np.random.default_rng(1).standard_normal((6, 2))
_UI = (np.random.default_rng(2).random((30, 12)) < 0.4).astype(np.float32)
_REC = _model(_rec.RecAutoencoder, 12, 8, 4)
_FH = make_fund_holdings(n_investors=60, n_funds=40, seed=0)
_PANEL = make_characteristics_panel(20, 24, 4, seed=0)
CALLS += [
    ("portfolio.kmeans_labels", lambda: _pf.kmeans_labels(_Z6, 2, n_init=2)),
    ("portfolio.choose_k", lambda: _pf.choose_k(_Z6, [2, 3])),
    ("portfolio.random_pair_baseline", lambda: _pf.random_pair_baseline(_RET, 2, n_draws=5)),
    ("portfolio.one_per_cluster_picks", lambda: _pf.one_per_cluster_picks([0, 0, 1, 1, 2, 2], n_draws=5)),
    ("portfolio.random_picks", lambda: _pf.random_picks(6, 3, n_draws=5)),
    ("portfolio.pair_report", lambda: _pf.pair_report(_Z6, _RET.corr().to_numpy(), _RET, list(_RET.columns), n_draws=5)),
    ("portfolio.diversification_report", lambda: _pf.diversification_report([0, 0, 1, 1, 2, 2], _RET, n_draws=5)),
    (
        "portfolio.volatility_difference",
        lambda: _pf.volatility_difference(
            _RET, _pf.inverse_volatility_weights(_RET), _pf.inverse_volatility_weights(_RET), block=5, n_boot=50
        ),
    ),
    ("pairs.sharpe_difference", lambda: _prs.sharpe_difference(_RET.iloc[:, 0], _RET.iloc[:, 1], block=5, n_boot=100)),
    ("factors.aggregate_posterior_sample", lambda: _fac.aggregate_posterior_sample(_FAC, _X, 5)),
    (
        "conditional.ConditionalAutoencoder.fit",
        lambda: _cond.ConditionalAutoencoder(2, (4,), epochs=2).fit(
            *_cond.lag_characteristics(_PANEL.characteristics, _PANEL.returns)
        ),
    ),
    ("recommend.train_recommender(seed=0)", lambda: _rec.train_recommender(_REC, _UI, epochs=1, seed=0)),
    ("recommend.posterior_scores", lambda: _rec.posterior_scores(_REC, _UI, 3)),
    ("recommend.cold_start_scores", lambda: _rec.cold_start_scores(_REC, n_samples=3)),
    ("recsplit.strong_generalization_split", lambda: _rs.strong_generalization_split(_FH.holdings, 5)),
    ("recsplit.kfold_user_splits", lambda: _rs.kfold_user_splits(_FH.holdings, 3, 5)),
    ("holdings.make_mismatch_profiles", lambda: make_mismatch_profiles(_FH, np.arange(60))),
    ("make_pairs_market", lambda: make_pairs_market(n_stocks=20, n_days=60, n_factors=2, n_sectors=2, n_pairs=2)),
    ("make_characteristics_panel", lambda: make_characteristics_panel(20, 24, 4, seed=1)),
]

# Anomalies and latent space (issue 16 added their seed checks) ----------------------------------------------------------
from course_lib import anomalies as _an  # noqa: E402
from course_lib import latent as _lt  # noqa: E402

_KIND = np.array(["jump"] * 4 + ["normal"] * 44, dtype=object)
_MU_LV = _lt.encode(_DET, _X[:4])
CALLS += [
    ("anomalies.inject_anomalies", lambda: _an.inject_anomalies(_X, [0, 0, 1, 1, 2, 2], n_per_kind=2, seed=1)),
    ("anomalies.bootstrap_detection_table", lambda: _an.bootstrap_detection_table({"m": _X[:, 0]}, _KIND, n_boot=100)),
    ("anomalies.MahalanobisDetector.fit", lambda: _an.MahalanobisDetector().fit(_X)),
    ("anomalies.PCAReconstructionDetector.fit", lambda: _an.PCAReconstructionDetector(n_components=2).fit(_X)),
    ("latent.encode", lambda: _lt.encode(_DET, _X)),
    ("latent.decode(residual_std)", lambda: _lt.decode(_DET, np.zeros((3, 2)), residual_std=0.1, seed=1)),
    ("latent.vae_scenarios", lambda: _lt.vae_scenarios(_FAC, 5, residual_std=0.1)),
    ("latent.sample_near_encoding", lambda: _lt.sample_near_encoding(*_MU_LV, 3)),
    ("latent.augment_near_encodings", lambda: _lt.augment_near_encodings(_DET, _X[:4], 3, residual_std=0.1)),
    ("latent.jitter_augment", lambda: _lt.jitter_augment(_X, 3)),
]


def _reparameterize(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def _encoder(d, latent, hidden):
    sizes = [d, *hidden, latent]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def _embed(encoder, X, batch_size):
    encoder.eval()
    with torch.no_grad():
        return torch.cat([encoder(torch.from_numpy(X[i : i + batch_size])) for i in range(0, len(X), batch_size)]).numpy()


def _step(model, opt, x):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    opt.step()
    return loss.item()


#: Checkers called with a right answer, so they run to the end (the learner's code may draw random numbers).
CHECKER_RIGHT_ANSWERS: dict[str, tuple] = {
    "check_reparameterize": (_reparameterize,),
    "check_encoder": (_encoder,),
    "check_embed_in_order": (_embed,),
    "check_train_step": (_step,),
}


def _stub(*args, **kwargs):
    raise NotImplementedError("a stub: the checker stops at its first call of the learner's function")


# Every checker, called with a stub (it runs up to the learner's first call), and with a right answer where listed.
CALLS += [(f"checks.{name}(stub)", lambda name=name: getattr(checks, name)(_stub)) for name in checks.__all__]
CALLS += [
    (f"checks.{name}(right)", lambda name=name, a=a: getattr(checks, name)(*a)) for name, a in CHECKER_RIGHT_ANSWERS.items()
]


def _snapshot() -> tuple:
    cuda = tuple(s.clone() for s in torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else ()
    np_state = np.random.get_state()  # noqa: NPY002
    return random.getstate(), (np_state[0], np_state[1].copy(), *np_state[2:]), torch.random.get_rng_state().clone(), cuda


def _same(a: tuple, b: tuple) -> bool:
    (pa, na, ta, ca), (pb, nb, tb, cb) = a, b
    return (
        pa == pb
        and na[0] == nb[0]
        and np.array_equal(na[1], nb[1])
        and na[2:] == nb[2:]
        and torch.equal(ta, tb)
        and len(ca) == len(cb)
        and all(torch.equal(x, y) for x, y in zip(ca, cb))
    )


@pytest.mark.parametrize("label, call", CALLS, ids=[c[0] for c in CALLS])
def test_call_leaves_the_global_random_state_alone(label, call):
    random.seed(11)
    np.random.seed(12)  # noqa: NPY002
    torch.manual_seed(13)
    before = _snapshot()
    try:
        call()
    except (AssertionError, NotImplementedError, TypeError):
        assert "(stub)" in label, f"{label} failed"  # only stubs are expected to fail
    assert _same(before, _snapshot()), f"{label} changed the caller's global random state"


def test_the_learners_stream_continues_after_a_checker():
    torch.manual_seed(5)
    expected = torch.randn(4)
    torch.manual_seed(5)
    checks.check_reparameterize(_reparameterize)
    assert torch.equal(torch.randn(4), expected), "the checker reseeded the learner's torch stream"


def test_fit_with_a_seed_repeats_exactly_on_the_cpu_whatever_the_global_state():
    losses = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        m = _model(VAE, 6, 2, (4,))
        losses.append(fit(m, _X, epochs=3, seed=7, progress=False, device="cpu").train_loss)
    assert losses[0] == losses[1]


def test_estimator_random_state_none_follows_numpys_global_seed():
    """``random_state=None`` draws its seed from NumPy's global generator, as in scikit-learn (accepted on purpose)."""
    codes = []
    for _ in range(2):
        np.random.seed(3)  # noqa: NPY002
        codes.append(AutoencoderEmbedder(latent_dim=2, random_state=None, **_TINY).fit(_X).transform(_X))
    assert np.array_equal(codes[0], codes[1])


def test_isolated_rng_restores_on_error_and_rejects_bad_seeds():
    torch.manual_seed(0)
    before = torch.random.get_rng_state().clone()
    with pytest.raises(RuntimeError), isolated_rng(3):
        torch.randn(2)
        raise RuntimeError("boom")
    assert torch.equal(before, torch.random.get_rng_state())
    with pytest.raises(ValueError, match="seed"), isolated_rng(-1):
        pass
