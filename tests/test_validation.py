"""Bad input gets a clear error, never a plausible wrong answer (issue 16).

``PROBES`` is a table of ``(label, call, argument)``: every call feeds one public function one bad input (NaN,
inf, empty, wrong shape, misaligned labels, wrong type, a bad setting) and must raise ``ValueError`` or
``TypeError`` whose message names ``argument``. Most rows are generated: :func:`array_probes`,
:func:`frame_probes`, :func:`int_probes` and :func:`real_probes` turn one correct call into its bad variants.
To cover another function (a chapter module), append rows with those helpers.

``ACCEPTED`` lists inputs accepted on purpose, each with its reason; a test keeps them accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from course_lib import configure_threads, get_device, isolated_rng, set_seed
from course_lib._validation import InputTypeError, align_columns, align_index
from course_lib.data import (
    chronological_split,
    load_factor_etfs,
    load_movielens_100k,
    load_sp500_index,
    load_sp500_prices,
    log_returns,
    make_factor_market,
    rolling_features,
    scale_splits,
)
from course_lib.data.features import Splits
from course_lib.estimators import AutoencoderEmbedder, VAEAnomalyDetector, VAEFactorModel
from course_lib.losses import as_schedule, constant_beta, cyclical_anneal, gaussian_nll, kl_normal, linear_anneal, vae_loss
from course_lib.metrics import active_units, factor_recovery_r2, ndcg_at_k, recall_at_k, subspace_similarity, variance_explained
from course_lib.models import VAE, Autoencoder, mlp
from course_lib.plots import plot_correlation_heatmap, plot_latent_scatter, plot_training_curves
from course_lib.scenarios import (
    bootstrap_scenarios,
    correlation_distance,
    discriminator_auc,
    gaussian_scenarios,
    mean_pairwise_correlation,
    stylised_facts,
)
from course_lib.train import History, evaluate, fit

Probe = tuple[str, Callable[[], object], str]

# Correct inputs -------------------------------------------------------------------------------------------------------
_rng = np.random.default_rng(0)
X = _rng.standard_normal((40, 5))
DATES = pd.bdate_range("2020-01-01", periods=40, name="date")
RET = pd.DataFrame(X * 0.01, index=DATES, columns=[f"S{i}" for i in range(5)])
PRICES = 100 * np.exp(RET.cumsum())
SCORES = _rng.standard_normal((6, 8))
HELD = np.zeros((6, 8))
HELD[:, 0] = 1
MU = torch.zeros(4, 2)


def _fitted(cls, **kw):
    with isolated_rng(0):
        return cls(**kw, hidden_dims=(4,), epochs=2, batch_size=16).fit(X)


EMB = _fitted(AutoencoderEmbedder, latent_dim=2)
FAC = _fitted(VAEFactorModel, n_components=2, warmup_epochs=1)
DET = _fitted(VAEAnomalyDetector, latent_dim=2, warmup_epochs=1)
FAC_DF = _fitted(VAEFactorModel, n_components=2, warmup_epochs=1)
FAC_DF.fit(RET)
AE = Autoencoder(5, 2, (4,))


# Generators of bad variants -----------------------------------------------------------------------------------------
def _with(a: np.ndarray, i: tuple, v: float) -> np.ndarray:
    b = np.array(a, dtype=np.result_type(a, type(v)))
    b[i] = v
    return b


def array_probes(
    label: str, call: Callable[[object], object], name: str, good: np.ndarray, *, ndim: int = 2, sparse_ok: bool = False
) -> list[Probe]:
    """NaN, inf, empty, wrong number of dimensions, complex, text, wrong container type, sparse (unless supported)."""
    first = (0,) * good.ndim
    wrong_ndim = good.ravel() if ndim == 2 else good.reshape(1, -1)
    variants = {
        "NaN": _with(good, first, np.nan),
        "inf": _with(good, first, np.inf),
        "empty": good[:0],
        "wrong ndim": wrong_ndim,
        "complex": good + 1j,
        "text": good.astype(str),
        "dict": {"a": 1},
        "None": None,
    }
    if ndim == 2 and not sparse_ok:
        variants["sparse"] = sp.csr_matrix(good)
    return [(f"{label}: {name} {kind}", (lambda v=v: call(v)), name) for kind, v in variants.items()]


def frame_probes(label: str, call: Callable[[object], object], name: str, good: pd.DataFrame) -> list[Probe]:
    """Time-indexed frames: NaN, inf, empty, reversed or duplicate dates, no DatetimeIndex, text column, an array."""
    nan = good.copy()
    nan.iloc[1, 0] = np.nan
    inf = good.copy()
    inf.iloc[1, 0] = np.inf
    text = good.copy().astype(object)
    text.iloc[:, 0] = "x"
    dup = good.copy()
    dup.index = good.index[[0, *range(len(good) - 1)]]
    variants = {
        "NaN": nan,
        "inf": inf,
        "empty": good.iloc[:0],
        "reversed dates": good.iloc[::-1],
        "duplicate dates": dup,
        "no DatetimeIndex": good.reset_index(drop=True),
        "text column": text,
        "ndarray": good.to_numpy(),
    }
    return [(f"{label}: {name} {kind}", (lambda v=v: call(v)), name) for kind, v in variants.items()]


def int_probes(
    label: str, call: Callable[[object], object], name: str, bad: tuple = (0, -1, 2.5, True, "3", None)
) -> list[Probe]:
    """Sizes and counts: zero, negative, float, bool, text, None."""
    return [(f"{label}: {name}={v!r}", (lambda v=v: call(v)), name) for v in bad]


def real_probes(
    label: str, call: Callable[[object], object], name: str, bad: tuple = (math.nan, math.inf, -1.0, "0.1")
) -> list[Probe]:
    """Settings: NaN, inf, out of range, text."""
    return [(f"{label}: {name}={v!r}", (lambda v=v: call(v)), name) for v in bad]


def _fit(**kw):
    opts = dict(epochs=1, progress=False, seed=0)
    opts.update(kw)
    model = opts.pop("model", None) or Autoencoder(5, 2, (4,))
    return fit(model, opts.pop("X", X), opts.pop("X_val", None), **opts)


_split = chronological_split(RET)

PROBES: list[Probe] = [
    # data ----------
    *frame_probes("log_returns", log_returns, "prices", PRICES),
    ("log_returns: negative prices", lambda: log_returns(-PRICES), "prices"),
    ("log_returns: one row", lambda: log_returns(PRICES.iloc[:1]), "prices"),
    *frame_probes("rolling_features", rolling_features, "returns", RET),
    *int_probes("rolling_features", lambda w: rolling_features(RET, w), "window", (1, 0, -2, 5.0, True, "5", None)),
    ("rolling_features: window longer than the data", lambda: rolling_features(RET, 100), "window"),
    *frame_probes("chronological_split", chronological_split, "df", RET),
    *real_probes(
        "chronological_split", lambda t: chronological_split(RET, train=t), "train", (math.nan, 0.0, 1.0, -0.5, "0.6", None)
    ),
    *real_probes("chronological_split", lambda v: chronological_split(RET, val=v), "val", (math.nan, -0.1, 0.9, "0.2")),
    *int_probes("chronological_split", lambda g: chronological_split(RET, gap=g), "gap", (-1, 2.5, True, "1", 100)),
    ("scale_splits: not a Splits", lambda: scale_splits((RET, RET, RET)), "splits"),
    (
        "scale_splits: test columns in another order with other names",
        lambda: scale_splits(Splits(_split.train, _split.val, _split.test.rename(columns={"S0": "T0"}))),
        "splits.test",
    ),
    ("scale_splits: NaN in val", lambda: scale_splits(Splits(_split.train, _split.val * np.nan, _split.test)), "splits.val"),
    (
        "scale_splits: constant column",
        lambda: scale_splits(Splits(_split.train.assign(S0=1.0), _split.val, _split.test)),
        "splits.train",
    ),
    ("scale_splits: overlapping parts", lambda: scale_splits(Splits(_split.train, _split.train, _split.test)), "splits.val"),
    (
        "scale_splits: one training row",
        lambda: scale_splits(Splits(_split.train.iloc[:1], _split.val, _split.test)),
        "splits.train",
    ),
    *int_probes(
        "make_factor_market", lambda n: make_factor_market(n_stocks=n, n_days=30), "n_stocks", (1, 0, -5, 10.5, True, "10")
    ),
    *int_probes("make_factor_market", lambda n: make_factor_market(n_days=n, n_stocks=10), "n_days", (1, 30.0, None)),
    *int_probes("make_factor_market", lambda n: make_factor_market(n_factors=n, n_days=30), "n_factors", (0, 2.5)),
    *int_probes("make_factor_market", lambda n: make_factor_market(n_sectors=n, n_days=30), "n_sectors", (0, 2.5, 500)),
    *int_probes("make_factor_market", lambda s: make_factor_market(seed=s, n_days=30), "seed", (-1, 0.5, "0")),
    *real_probes(
        "make_factor_market",
        lambda a: make_factor_market(autocorrelation=a, n_days=30),
        "autocorrelation",
        (math.nan, 1.0, -2.0, "0"),
    ),
    *real_probes("make_factor_market", lambda a: make_factor_market(nonlinear_strength=a, n_days=30), "nonlinear_strength"),
    *real_probes(
        "make_factor_market", lambda a: make_factor_market(tails_df=a, n_days=30), "tails_df", (math.nan, 2.0, 1.0, "4")
    ),
    ("make_factor_market: nonlinear='cubic'", lambda: make_factor_market(nonlinear="cubic", n_days=30), "nonlinear"),
    ("make_factor_market: start='yesterday'", lambda: make_factor_market(start="not a date", n_days=30), "start"),
    ("load_sp500_prices: start after end", lambda: load_sp500_prices("2020-01-01", "2010-01-01"), "start"),
    ("load_sp500_prices: start not a date", lambda: load_sp500_prices("the beginning"), "start"),
    ("load_sp500_prices: start a float", lambda: load_sp500_prices(2010.5), "start"),
    ("load_sp500_index: end not a date", lambda: load_sp500_index(end="soon"), "end"),
    ("load_factor_etfs: before the data", lambda: load_factor_etfs("1900-01-01", "1900-12-31"), "start"),
    ("load_movielens_100k: path an int", lambda: load_movielens_100k(100), "path"),
    # metrics ----------
    *array_probes("variance_explained", lambda v: variance_explained(v, X), "X", X),
    *array_probes("variance_explained", lambda v: variance_explained(X, v), "X_hat", X),
    ("variance_explained: shapes differ", lambda: variance_explained(X, X[:, :3]), "X_hat"),
    ("variance_explained: center of wrong length", lambda: variance_explained(X, X, center=np.zeros(3)), "center"),
    ("variance_explained: center NaN", lambda: variance_explained(X, X, center=np.full(5, np.nan)), "center"),
    ("variance_explained: constant X", lambda: variance_explained(np.ones((4, 2)), np.ones((4, 2))), "X"),
    ("variance_explained: misaligned frames", lambda: variance_explained(RET, RET.shift(1, freq="D")), "X_hat"),
    ("variance_explained: other columns", lambda: variance_explained(RET, RET.rename(columns={"S0": "Z"})), "X_hat"),
    *array_probes("factor_recovery_r2", lambda v: factor_recovery_r2(v, X), "factors", X),
    *array_probes("factor_recovery_r2", lambda v: factor_recovery_r2(X, v), "latents", X),
    ("factor_recovery_r2: row counts differ", lambda: factor_recovery_r2(X, X[:-1]), "latents"),
    ("factor_recovery_r2: other dates", lambda: factor_recovery_r2(RET, RET.shift(5, freq="D")), "factors"),
    ("factor_recovery_r2: constant factor", lambda: factor_recovery_r2(np.c_[X[:, :2], np.ones(40)], X), "factor"),
    ("factor_recovery_r2: only factors_test", lambda: factor_recovery_r2(X, X, factors_test=X), "latents_test"),
    *array_probes("subspace_similarity", lambda v: subspace_similarity(v, X), "A", X),
    ("subspace_similarity: row counts differ", lambda: subspace_similarity(X, X[:-2]), "B"),
    ("subspace_similarity: all zeros", lambda: subspace_similarity(np.zeros((5, 2)), X[:5]), "A"),
    *array_probes("active_units", active_units, "mu", X),
    *real_probes("active_units", lambda t: active_units(X, t), "threshold"),
    *array_probes("ndcg_at_k", lambda v: ndcg_at_k(v, HELD, 3), "scores", SCORES),
    ("ndcg_at_k: heldout not binary", lambda: ndcg_at_k(SCORES, HELD * 2, 3), "heldout"),
    ("ndcg_at_k: heldout NaN", lambda: ndcg_at_k(SCORES, HELD * np.nan, 3), "heldout"),
    ("ndcg_at_k: heldout other shape", lambda: ndcg_at_k(SCORES, HELD[:, :4], 3), "heldout"),
    ("ndcg_at_k: a user without held-out items", lambda: ndcg_at_k(SCORES, np.zeros_like(HELD), 3), "held-out"),
    *int_probes("ndcg_at_k", lambda k: ndcg_at_k(SCORES, HELD, k), "k"),
    *int_probes("recall_at_k", lambda k: recall_at_k(SCORES, HELD, k), "k", (0, 1.5, True)),
    # losses and schedules ----------
    ("kl_normal: numpy input", lambda: kl_normal(np.zeros((4, 2)), MU), "mu"),
    ("kl_normal: shapes differ", lambda: kl_normal(MU, torch.zeros(4, 3)), "logvar"),
    ("kl_normal: 1-D", lambda: kl_normal(MU[0], MU[0]), "mu"),
    ("kl_normal: integer tensor", lambda: kl_normal(MU.long(), MU), "mu"),
    ("gaussian_nll: shapes differ", lambda: gaussian_nll(MU, torch.zeros(4, 3)), "recon"),
    ("gaussian_nll: list input", lambda: gaussian_nll([[0.0]], MU), "recon"),
    *real_probes("vae_loss", lambda b: vae_loss(MU, MU, MU, MU, b), "beta"),
    *real_probes("constant_beta", constant_beta, "beta"),
    *real_probes("linear_anneal", lambda b: linear_anneal(b, 5), "beta_max"),
    *int_probes("linear_anneal", lambda w: linear_anneal(1.0, w), "warmup_epochs", (-1, 2.5, True, "5")),
    *real_probes("linear_anneal", lambda s: linear_anneal(1.0, 5, start=s), "start"),
    *int_probes("cyclical_anneal", lambda c: cyclical_anneal(1.0, c), "cycle_epochs"),
    *real_probes("cyclical_anneal", lambda r: cyclical_anneal(1.0, 10, r), "ramp_fraction", (math.nan, 0.0, 1.5, "0.5")),
    *real_probes("cyclical_anneal", lambda b: cyclical_anneal(b, 10), "beta_max"),
    *real_probes("as_schedule", as_schedule, "beta", (math.nan, math.inf, -1.0, "1", True, None)),
    # models ----------
    *int_probes("mlp", lambda w: mlp([5, w, 2]), "sizes[1]", (0, -3, 2.5, True, "4")),
    ("mlp: one width", lambda: mlp([5]), "sizes"),
    ("mlp: text", lambda: mlp("52"), "sizes"),
    ("mlp: activation", lambda: mlp([5, 2], "sigmoidish"), "activation"),
    *real_probes("mlp", lambda d: mlp([5, 4, 2], dropout=d), "dropout", (math.nan, 1.0, -0.1, "0.1")),
    *int_probes("Autoencoder", lambda d: Autoencoder(d, 2), "input_dim"),
    *int_probes("Autoencoder", lambda d: Autoencoder(5, d), "latent_dim", (0, 2.5, True)),
    *int_probes("VAE", lambda d: VAE(d, 2), "input_dim", (0, 5.0, None)),
    ("VAE: hidden_dims an int", lambda: VAE(5, 2, 64), "hidden_dims"),
    ("VAE: hidden_dims with a float", lambda: VAE(5, 2, (8.5,)), "hidden_dims[0]"),
    *int_probes("VAE.sample", lambda n: VAE(5, 2, (4,)).sample(n), "n"),
    ("Autoencoder.encode: wrong width", lambda: AE.encode(torch.zeros(3, 4)), "x"),
    ("Autoencoder.decode: wrong width", lambda: AE.decode(torch.zeros(3, 5)), "z"),
    ("VAE.encode: numpy input", lambda: VAE(5, 2, (4,)).encode(np.zeros((3, 5))), "x"),
    # train ----------
    *array_probes("fit", lambda v: _fit(X=v), "X", X, sparse_ok=True),
    ("fit: X one column too many for the model", lambda: _fit(X=np.c_[X, X[:, 0]]), "X"),
    ("fit: X_val wrong width", lambda: _fit(X_val=X[:, :3]), "X_val"),
    ("fit: X_val NaN", lambda: _fit(X_val=X * np.nan), "X_val"),
    ("fit: X_val and val_fraction", lambda: _fit(X_val=X, val_fraction=0.2), "val_fraction"),
    *int_probes("fit", lambda e: _fit(epochs=e), "epochs"),
    *int_probes("fit", lambda b: _fit(batch_size=b), "batch_size"),
    *int_probes("fit", lambda p: _fit(patience=p), "patience", (0, -1, 2.5, True)),
    *int_probes("fit", lambda s: _fit(seed=s), "seed", (-1, 0.5, "0")),
    *real_probes("fit", lambda lr: _fit(lr=lr), "lr", (math.nan, math.inf, 0.0, -1e-3, "1e-3")),
    *real_probes("fit", lambda w: _fit(weight_decay=w), "weight_decay"),
    *real_probes("fit", lambda g: _fit(grad_clip=g), "grad_clip", (math.nan, 0.0, -1.0, "1")),
    *real_probes("fit", lambda v: _fit(val_fraction=v), "val_fraction", (math.nan, 1.0, -0.2, "0.2")),
    ("fit: val_fraction leaves one row", lambda: _fit(X=X[:3], val_fraction=0.5), "val_fraction"),
    *real_probes("fit", lambda b: _fit(model=VAE(5, 2, (4,)), beta=b), "beta", (math.nan, math.inf, -1.0, "1")),
    ("fit: NaN beta schedule", lambda: _fit(model=VAE(5, 2, (4,)), beta=lambda e: math.nan), "beta"),
    ("fit: BatchNorm and batch_size=1", lambda: _fit(model=VAE(5, 2, (4,), batch_norm=True), batch_size=1), "batch_size"),
    ("fit: BatchNorm and one row", lambda: _fit(model=VAE(5, 2, (4,), batch_norm=True), X=X[:1]), "row"),
    ("fit: sparse NaN", lambda: _fit(X=sp.csr_matrix(_with(X, (0, 0), np.nan))), "X"),
    ("evaluate: wrong width", lambda: evaluate(AE, X[:, :4]), "X"),
    ("evaluate: NaN X", lambda: evaluate(AE, X * np.nan), "X"),
    ("evaluate: empty X", lambda: evaluate(AE, X[:0]), "X"),
    *real_probes("evaluate", lambda b: evaluate(AE, X, b), "beta"),
    *int_probes("evaluate", lambda b: evaluate(AE, X, batch_size=b), "batch_size", (0, 2.5)),
    # estimators ----------
    *array_probes("AutoencoderEmbedder.fit", lambda v: AutoencoderEmbedder(2, (4,), epochs=1).fit(v), "X", X),
    ("AutoencoderEmbedder.fit: one row", lambda: AutoencoderEmbedder(2, (4,), epochs=1).fit(X[:1]), "X"),
    *int_probes("AutoencoderEmbedder.fit", lambda d: AutoencoderEmbedder(d, (4,), epochs=1).fit(X), "latent_dim", (0, 2.5, True)),
    *int_probes("AutoencoderEmbedder.fit", lambda e: AutoencoderEmbedder(2, (4,), epochs=e).fit(X), "epochs", (0, 2.5)),
    ("AutoencoderEmbedder.fit: hidden_dims text", lambda: AutoencoderEmbedder(2, "64").fit(X), "hidden_dims"),
    (
        "AutoencoderEmbedder.fit: random_state -1",
        lambda: AutoencoderEmbedder(2, (4,), epochs=1, random_state=-1).fit(X),
        "random_state",
    ),
    (
        "AutoencoderEmbedder.fit: random_state text",
        lambda: AutoencoderEmbedder(2, (4,), epochs=1, random_state="0").fit(X),
        "random_state",
    ),
    *array_probes("AutoencoderEmbedder.transform", EMB.transform, "X", X),
    ("AutoencoderEmbedder.transform: wrong width", lambda: EMB.transform(X[:, :3]), "X"),
    ("AutoencoderEmbedder.transform: unfitted", lambda: AutoencoderEmbedder().transform(X), "AutoencoderEmbedder"),
    *array_probes("AutoencoderEmbedder.inverse_transform", EMB.inverse_transform, "Z", X[:, :2]),
    ("AutoencoderEmbedder.inverse_transform: wrong width", lambda: EMB.inverse_transform(X), "Z"),
    *array_probes("VAEFactorModel.transform", FAC.transform, "X", X),
    ("VAEFactorModel.transform: columns reordered", lambda: FAC_DF.transform(RET[RET.columns[::-1]]), "X"),
    ("VAEFactorModel.transform: other columns", lambda: FAC_DF.transform(RET.rename(columns={"S0": "Z"})), "X"),
    *array_probes("VAEFactorModel.posterior", FAC.posterior, "X", X),
    *int_probes("VAEFactorModel.sample", FAC.sample, "n"),
    ("VAEFactorModel.sample: random_state text", lambda: FAC.sample(3, random_state="0"), "random_state"),
    *real_probes("VAEFactorModel.fit", lambda b: VAEFactorModel(2, (4,), beta=b, epochs=1).fit(X), "beta"),
    *int_probes(
        "VAEFactorModel.fit", lambda w: VAEFactorModel(2, (4,), warmup_epochs=w, epochs=1).fit(X), "warmup_epochs", (-1, 2.5)
    ),
    *int_probes("VAEFactorModel.fit", lambda n: VAEFactorModel(n, (4,), epochs=1).fit(X), "n_components", (0, 2.5)),
    (
        "VAEFactorModel.fit: batch_size=1 with BatchNorm",
        lambda: VAEFactorModel(2, (4,), epochs=1, batch_size=1).fit(X),
        "batch_size",
    ),
    *real_probes(
        "VAEFactorModel.fit", lambda g: VAEFactorModel(2, (4,), epochs=1, grad_clip=g).fit(X), "grad_clip", (-1.0, math.nan)
    ),
    *array_probes("VAEAnomalyDetector.score_samples", DET.score_samples, "X", X),
    *array_probes("VAEAnomalyDetector.predict", DET.predict, "X", X),
    ("VAEAnomalyDetector.score_samples: wrong width", lambda: DET.score_samples(X[:, :2]), "X"),
    *real_probes(
        "VAEAnomalyDetector.fit",
        lambda c: VAEAnomalyDetector(2, (4,), contamination=c, epochs=1).fit(X),
        "contamination",
        (math.nan, 0.0, 0.5, -0.1, "0.05"),
    ),
    *real_probes("VAEAnomalyDetector.fit", lambda w: VAEAnomalyDetector(2, (4,), kl_weight=w, epochs=1).fit(X), "kl_weight"),
    # scenarios ----------
    *array_probes("gaussian_scenarios", lambda v: gaussian_scenarios(v, 5), "X", X),
    *int_probes("gaussian_scenarios", lambda n: gaussian_scenarios(X, n), "n"),
    *int_probes("gaussian_scenarios", lambda s: gaussian_scenarios(X, 5, seed=s), "seed", (-1, 0.5, "0")),
    *array_probes("bootstrap_scenarios", lambda v: bootstrap_scenarios(v, 5), "X", X),
    *int_probes("bootstrap_scenarios", lambda n: bootstrap_scenarios(X, n), "n", (0, 2.5, True)),
    *array_probes("stylised_facts", stylised_facts, "X", X),
    ("stylised_facts: constant column", lambda: stylised_facts(np.c_[X, np.ones(40)]), "X"),
    ("stylised_facts: two rows", lambda: stylised_facts(X[:2]), "X"),
    *array_probes("mean_pairwise_correlation", mean_pairwise_correlation, "X", X),
    ("mean_pairwise_correlation: one asset", lambda: mean_pairwise_correlation(X[:, :1]), "X"),
    *array_probes("correlation_distance", lambda v: correlation_distance(X, v), "Y", X),
    ("correlation_distance: other assets", lambda: correlation_distance(RET, RET.rename(columns={"S1": "Q"})), "Y"),
    ("correlation_distance: constant column", lambda: correlation_distance(X, np.c_[X[:, :4], np.ones(40)]), "Y"),
    *array_probes("discriminator_auc", lambda v: discriminator_auc(X, v, n_splits=2), "synthetic", X),
    *int_probes("discriminator_auc", lambda k: discriminator_auc(X, X, n_splits=k), "n_splits", (1, 0, 2.5, True)),
    ("discriminator_auc: different widths", lambda: discriminator_auc(X, X[:, :2], n_splits=2), "synthetic"),
    # plots ----------
    *array_probes("plot_latent_scatter", plot_latent_scatter, "Z", X),
    ("plot_latent_scatter: one column", lambda: plot_latent_scatter(X[:, :1]), "Z"),
    ("plot_latent_scatter: labels too short", lambda: plot_latent_scatter(X, labels=["a"] * 3), "labels"),
    ("plot_latent_scatter: annotate too long", lambda: plot_latent_scatter(X, annotate=["a"] * 41), "annotate"),
    ("plot_correlation_heatmap: a covariance", lambda: plot_correlation_heatmap(np.cov(X, rowvar=False) * 4), "corr"),
    ("plot_correlation_heatmap: not square", lambda: plot_correlation_heatmap(X), "corr"),
    ("plot_correlation_heatmap: NaN", lambda: plot_correlation_heatmap(np.full((3, 3), np.nan)), "corr"),
    ("plot_training_curves: a dict", lambda: plot_training_curves({"train_loss": [1.0]}), "history"),
    ("plot_training_curves: empty", lambda: plot_training_curves(History()), "history"),
    # runtime ----------
    *int_probes("set_seed", set_seed, "seed", (-1, 2.5, True, "0", None)),
    ("get_device: tpu", lambda: get_device("tpu"), "device"),
    ("get_device: an int", lambda: get_device(0), "prefer"),
    *int_probes("configure_threads", configure_threads, "threads", (0, -2, 1.5, True, "2")),
    *int_probes("isolated_rng", lambda s: isolated_rng(s).__enter__(), "seed", (-1, 0.5, "1")),
    ("align_columns: other labels", lambda: align_columns(RET.rename(columns={"S0": "Q"}), RET.columns, "test", "train"), "test"),
    ("align_index: other labels", lambda: align_index(RET, RET.shift(1, freq="D"), ("a", "b")), "a"),
]

# Chapter modules ------------------------------------------------------------------------------------------------------
from course_lib import conditional as cond  # noqa: E402
from course_lib import factors as fac  # noqa: E402
from course_lib import pairs as prs  # noqa: E402
from course_lib import portfolio as pf  # noqa: E402
from course_lib import recommend as rec  # noqa: E402
from course_lib import recsplit as rs  # noqa: E402
from course_lib import risk as rk  # noqa: E402
from course_lib.data import characteristics as chars  # noqa: E402
from course_lib.data import holdings as hold  # noqa: E402
from course_lib.data import pairs_market as pm  # noqa: E402

_crng = np.random.default_rng(1)
CDATES = pd.bdate_range("2020-01-01", periods=80, name="date")
CRET = pd.DataFrame(_crng.standard_normal((80, 6)) * 0.01, index=CDATES, columns=[f"S{i}" for i in range(6)])
LOGP = CRET.cumsum()
NAMES = list(CRET.columns)
ZS = _crng.standard_normal((6, 2))
CORR = CRET.corr().to_numpy()
COV = CRET.cov()
PICKS = np.array([[0, 1, 2], [3, 4, 5]])
W_EQ = pd.Series(1 / 6, index=NAMES)
PANEL_Z = _crng.standard_normal((12, 8, 3))
PANEL_R = _crng.standard_normal((12, 8))
UI = sp.csr_matrix((_crng.random((30, 12)) < 0.4).astype(np.float64))
HO = sp.csr_matrix(1.0 - UI.toarray())  # held-out items disjoint from the fold-in UI
REC = rec.RecAutoencoder(12, 8, 4)
DRAWS = _crng.standard_normal((5, 3, 12))
_SER = CRET["S0"]
FH = hold.make_fund_holdings(60, 40, seed=0)
LONGP = pd.DataFrame(
    100 * np.exp(np.cumsum(_crng.standard_normal((320, 3)) * 0.01, axis=0)),
    index=pd.bdate_range("2019-01-01", periods=320),
    columns=["A", "B", "C"],
)


def _sparse_with(v: float) -> sp.csr_matrix:
    m = UI.copy().astype(np.float64)
    m.data[0] = v
    return m


CHAPTER_PROBES: list[Probe] = [
    # portfolio ----------
    *frame_probes("stock_profiles", pf.stock_profiles, "returns", CRET),
    ("stock_profiles: constant column", lambda: pf.stock_profiles(CRET.assign(S0=0.0)), "S0"),
    *array_probes("kmeans_labels", lambda v: pf.kmeans_labels(v, 2), "Z", ZS),
    *int_probes("kmeans_labels", lambda k: pf.kmeans_labels(ZS, k), "k", (0, -1, 2.5, True, "2", None, 7)),
    *int_probes("kmeans_labels", lambda n: pf.kmeans_labels(ZS, 2, n_init=n), "n_init", (0, 2.5)),
    *int_probes("kmeans_labels", lambda s: pf.kmeans_labels(ZS, 2, seed=s), "seed", (-1, 0.5, "0")),
    ("cluster_scores: empty", lambda: pf.cluster_scores({}, [0] * 6, 2), "embeddings"),
    ("cluster_scores: truth too short", lambda: pf.cluster_scores({"a": ZS}, [0] * 5, 2), "truth"),
    ("cluster_scores: truth NaN", lambda: pf.cluster_scores({"a": ZS}, [np.nan] * 6, 2), "truth"),
    ("cluster_scores: NaN embedding", lambda: pf.cluster_scores({"a": ZS * np.nan}, [0] * 6, 2), "embeddings"),
    *int_probes("cluster_scores", lambda k: pf.cluster_scores({"a": ZS}, [0, 0, 0, 1, 1, 1], k), "k", (0, 2.5, "2")),
    *array_probes("choose_k", lambda v: pf.choose_k(v, [2, 3]), "Z", ZS),
    ("choose_k: k=1", lambda: pf.choose_k(ZS, [1, 2]), "k"),
    ("choose_k: float k", lambda: pf.choose_k(ZS, [2.5]), "ks"),
    ("choose_k: empty ks", lambda: pf.choose_k(ZS, []), "k"),
    *int_probes("choose_k", lambda s: pf.choose_k(ZS, [2], sample_size=s), "sample_size", (0, 2.5, "3")),
    *array_probes("nearest_neighbour_pairs", lambda v: pf.nearest_neighbour_pairs(v, NAMES), "Z", ZS),
    ("nearest_neighbour_pairs: names too short", lambda: pf.nearest_neighbour_pairs(ZS, NAMES[:4]), "names"),
    ("nearest_neighbour_pairs: duplicate names", lambda: pf.nearest_neighbour_pairs(ZS, ["a"] * 6), "names"),
    ("nearest_neighbour_pairs: metric", lambda: pf.nearest_neighbour_pairs(ZS, NAMES, metric="cosine"), "metric"),
    ("nearest_neighbour_pairs: not square", lambda: pf.nearest_neighbour_pairs(ZS, NAMES, metric="precomputed"), "Z"),
    *frame_probes("pair_statistics", lambda v: pf.pair_statistics(v, [("S0", "S1")]), "returns", CRET),
    ("pair_statistics: empty pairs", lambda: pf.pair_statistics(CRET, []), "pairs"),
    ("pair_statistics: unknown ticker", lambda: pf.pair_statistics(CRET, [("S0", "ZZ")]), "returns"),
    ("pair_statistics: self-pair", lambda: pf.pair_statistics(CRET, [("S0", "S0")]), "pairs"),
    ("pair_statistics: not pairs", lambda: pf.pair_statistics(CRET, ["S0"]), "pairs"),
    *frame_probes("random_pair_baseline", lambda v: pf.random_pair_baseline(v, 2, n_draws=5), "returns", CRET),
    *int_probes(
        "random_pair_baseline",
        lambda n: pf.random_pair_baseline(CRET, n, n_draws=5),
        "n_pairs",
        (0, -1, 2.5, True, "2", None, 16),
    ),
    *int_probes("random_pair_baseline", lambda n: pf.random_pair_baseline(CRET, 2, n_draws=n), "n_draws"),
    *int_probes("random_pair_baseline", lambda s: pf.random_pair_baseline(CRET, 2, n_draws=5, seed=s), "seed", (-1, 0.5, "0")),
    ("one_per_cluster_picks: empty", lambda: pf.one_per_cluster_picks([]), "labels"),
    ("one_per_cluster_picks: 2-D", lambda: pf.one_per_cluster_picks(np.zeros((2, 3))), "labels"),
    ("one_per_cluster_picks: NaN", lambda: pf.one_per_cluster_picks([0, np.nan, 1]), "labels"),
    ("one_per_cluster_picks: None", lambda: pf.one_per_cluster_picks(None), "labels"),
    *int_probes("one_per_cluster_picks", lambda n: pf.one_per_cluster_picks([0, 1], n_draws=n), "n_draws"),
    *int_probes("one_per_cluster_picks", lambda s: pf.one_per_cluster_picks([0, 1], seed=s), "seed", (-1, 0.5, "0")),
    *int_probes("random_picks", lambda n: pf.random_picks(n, 2, n_draws=3), "n_stocks", (0, -1, 2.5, True, "6", None)),
    *int_probes("random_picks", lambda s: pf.random_picks(6, s, n_draws=3), "size", (0, -1, 2.5, True, "2", None, 7)),
    *int_probes("random_picks", lambda n: pf.random_picks(6, 2, n_draws=n), "n_draws"),
    *int_probes("random_picks", lambda s: pf.random_picks(6, 2, seed=s), "seed", (-1, 0.5, "0")),
    *frame_probes("portfolio_volatility", lambda v: pf.portfolio_volatility(v, PICKS), "returns", CRET),
    ("portfolio_volatility: float picks", lambda: pf.portfolio_volatility(CRET, PICKS + 0.5), "picks"),
    ("portfolio_volatility: negative pick", lambda: pf.portfolio_volatility(CRET, -PICKS), "picks"),
    ("portfolio_volatility: pick out of range", lambda: pf.portfolio_volatility(CRET, PICKS + 3), "picks"),
    ("portfolio_volatility: 1-D picks", lambda: pf.portfolio_volatility(CRET, PICKS[0]), "picks"),
    ("portfolio_volatility: duplicate picks", lambda: pf.portfolio_volatility(CRET, np.array([[0, 0, 1]])), "picks"),
    ("portfolio_volatility: picks None", lambda: pf.portfolio_volatility(CRET, None), "picks"),
    ("mean_pick_correlation: duplicate picks", lambda: pf.mean_pick_correlation(CRET, np.array([[2, 2]])), "picks"),
    ("mean_pick_correlation: one stock", lambda: pf.mean_pick_correlation(CRET, PICKS[:, :1]), "picks"),
    *frame_probes("mean_pick_correlation", lambda v: pf.mean_pick_correlation(v, PICKS), "returns", CRET),
    ("pair_report: corr wrong shape", lambda: pf.pair_report(ZS, CORR[:4, :4], CRET, NAMES, n_draws=5), "corr"),
    ("pair_report: corr NaN", lambda: pf.pair_report(ZS, CORR * np.nan, CRET, NAMES, n_draws=5), "corr"),
    ("pair_report: columns reordered", lambda: pf.pair_report(ZS, CORR, CRET[NAMES[::-1]], NAMES, n_draws=5), "returns_test"),
    ("pair_report: Z NaN", lambda: pf.pair_report(ZS * np.nan, CORR, CRET, NAMES, n_draws=5), "Z"),
    ("pair_report: Z rows", lambda: pf.pair_report(ZS[:4], CORR, CRET, NAMES, n_draws=5), "Z"),
    *int_probes("pair_report", lambda n: pf.pair_report(ZS, CORR, CRET, NAMES, n_draws=n), "n_draws", (0, 2.5, "5")),
    ("diversification_report: labels too short", lambda: pf.diversification_report([0, 1], CRET, n_draws=5), "labels"),
    *frame_probes(
        "diversification_report", lambda v: pf.diversification_report([0, 0, 0, 1, 1, 1], v, n_draws=5), "returns", CRET
    ),
    *array_probes("embedding_distances", pf.embedding_distances, "Z", ZS),
    ("hrp_weights: ndarray", lambda: pf.hrp_weights(COV.to_numpy()), "cov"),
    ("hrp_weights: NaN", lambda: pf.hrp_weights(COV * np.nan), "cov"),
    ("hrp_weights: not symmetric", lambda: pf.hrp_weights(COV + np.triu(np.ones((6, 6)), 1) * 1e-3), "cov"),
    ("hrp_weights: not square", lambda: pf.hrp_weights(COV.iloc[:, :4]), "cov"),
    ("hrp_weights: index and columns differ", lambda: pf.hrp_weights(COV.rename(index={"S0": "Q"})), "cov"),
    ("hrp_weights: zero variance", lambda: pf.hrp_weights(COV * 0), "cov"),
    ("hrp_weights: distance wrong shape", lambda: pf.hrp_weights(COV, distance=np.zeros((4, 4))), "distance"),
    ("hrp_weights: distance negative", lambda: pf.hrp_weights(COV, distance=-np.ones((6, 6))), "distance"),
    ("hrp_weights: distance NaN", lambda: pf.hrp_weights(COV, distance=np.full((6, 6), np.nan)), "distance"),
    ("hrp_weights: method", lambda: pf.hrp_weights(COV, method="nearest"), "method"),
    *frame_probes("inverse_volatility_weights", pf.inverse_volatility_weights, "returns", CRET),
    ("inverse_volatility_weights: constant column", lambda: pf.inverse_volatility_weights(CRET.assign(S1=0.0)), "S1"),
    *array_probes("max_drawdown", pf.max_drawdown, "daily_returns", CRET["S0"].to_numpy(), ndim=1),
    ("portfolio_report: empty", lambda: pf.portfolio_report({}, CRET), "weights"),
    ("portfolio_report: other tickers", lambda: pf.portfolio_report({"a": W_EQ.rename({"S0": "Q"})}, CRET), "weights"),
    ("portfolio_report: NaN weight", lambda: pf.portfolio_report({"a": W_EQ * np.nan}, CRET), "weights"),
    ("portfolio_report: ndarray weight", lambda: pf.portfolio_report({"a": W_EQ.to_numpy()}, CRET), "weights"),
    *frame_probes("portfolio_report", lambda v: pf.portfolio_report({"a": W_EQ}, v), "returns_test", CRET),
    ("volatility_difference: w_a other tickers", lambda: pf.volatility_difference(CRET, W_EQ[:3], W_EQ, n_boot=100), "w_a"),
    ("volatility_difference: w_b NaN", lambda: pf.volatility_difference(CRET, W_EQ, W_EQ * np.nan, n_boot=100), "w_b"),
    *int_probes(
        "volatility_difference",
        lambda b: pf.volatility_difference(CRET, W_EQ, W_EQ, block=b, n_boot=100),
        "block",
        (0, -1, 2.5, "5", 30),
    ),
    *int_probes(
        "volatility_difference",
        lambda n: pf.volatility_difference(CRET, W_EQ, W_EQ, block=5, n_boot=n),
        "n_boot",
        (0, 2.5, "100"),
    ),
    ("scale_loadings: NaN", lambda: pf.scale_loadings(np.full((6, 2), np.nan), ZS), "J"),
    ("scale_loadings: Z NaN", lambda: pf.scale_loadings(ZS, ZS * np.nan), "Z"),
    ("scale_loadings: widths differ", lambda: pf.scale_loadings(ZS, np.c_[ZS, ZS]), "Z"),
    ("scale_loadings: how", lambda: pf.scale_loadings(ZS, ZS, how="max"), "how"),
    ("decoder_loadings: NaN X", lambda: pf.decoder_loadings(EMB, X * np.nan), "X"),
    *real_probes("decoder_loadings", lambda e: pf.decoder_loadings(EMB, X, eps=e), "eps", (math.nan, 0.0, -1e-3, "0.01")),
    # pairs ----------
    *frame_probes("hedge_ratios", lambda v: prs.hedge_ratios(v, [("S0", "S1")]), "log_prices", LOGP),
    ("hedge_ratios: self-pair", lambda: prs.hedge_ratios(LOGP, [("S0", "S0")]), "pairs"),
    ("hedge_ratios: unknown ticker", lambda: prs.hedge_ratios(LOGP, [("S0", "ZZ")]), "pairs"),
    ("hedge_ratios: empty pairs", lambda: prs.hedge_ratios(LOGP, []), "pairs"),
    ("hedge_ratios: pairs a string", lambda: prs.hedge_ratios(LOGP, "S0S1"), "pairs"),
    ("hedge_ratios: too few days", lambda: prs.hedge_ratios(LOGP.iloc[:10], [("S0", "S1")]), "log_prices"),
    ("hedge_ratios: constant leg", lambda: prs.hedge_ratios(LOGP.assign(S1=1.0), [("S0", "S1")]), "S1"),
    *frame_probes("engle_granger", lambda v: prs.engle_granger(v, [("S0", "S1")]), "log_prices", LOGP),
    *int_probes("engle_granger", lambda m: prs.engle_granger(LOGP, [("S0", "S1")], maxlag=m), "maxlag", (-1, 2.5, True, "1", 11)),
    *array_probes("closest_pairs", lambda v: prs.closest_pairs(v, NAMES, 2), "distance", 1 - CORR),
    *int_probes("closest_pairs", lambda n: prs.closest_pairs(1 - CORR, NAMES, n), "n", (0, -1, 2.5, True, "2", None, 16)),
    ("closest_pairs: names too short", lambda: prs.closest_pairs(1 - CORR, NAMES[:3], 2), "names"),
    ("closest_pairs: not symmetric", lambda: prs.closest_pairs(np.triu(1 - CORR), NAMES, 2), "distance"),
    ("closest_pairs: duplicate names", lambda: prs.closest_pairs(1 - CORR, ["a"] * 6, 2), "names"),
    *frame_probes("cointegration_screen", lambda v: prs.cointegration_screen(v, 2), "log_prices", LOGP),
    *int_probes("cointegration_screen", lambda n: prs.cointegration_screen(LOGP, n), "n", (0, -1, 2.5, True, "2", None)),
    *int_probes(
        "cointegration_screen", lambda n: prs.cointegration_screen(LOGP, 2, n_candidates=n), "n_candidates", (0, 2.5, "3")
    ),
    *real_probes(
        "cointegration_screen", lambda p: prs.cointegration_screen(LOGP, 2, p_max=p), "p_max", (math.nan, 0.0, 1.5, "0.05")
    ),
    *frame_probes(
        "zscore_backtest", lambda v: prs.zscore_backtest(v, LOGP.iloc[60:], [("S0", "S1")]), "formation", LOGP.iloc[:60]
    ),
    *frame_probes("zscore_backtest", lambda v: prs.zscore_backtest(LOGP.iloc[:40], v, [("S0", "S1")]), "trading", LOGP.iloc[50:]),
    ("zscore_backtest: overlapping", lambda: prs.zscore_backtest(LOGP.iloc[:60], LOGP.iloc[50:], [("S0", "S1")]), "trading"),
    (
        "zscore_backtest: columns reordered",
        lambda: prs.zscore_backtest(LOGP.iloc[:60], LOGP.iloc[60:, ::-1], [("S0", "S1")]),
        "trading",
    ),
    *real_probes(
        "zscore_backtest",
        lambda e: prs.zscore_backtest(LOGP.iloc[:60], LOGP.iloc[60:], [("S0", "S1")], entry=e),
        "entry",
        (math.nan, math.inf, 0.2, "2"),
    ),
    *real_probes(
        "zscore_backtest",
        lambda e: prs.zscore_backtest(LOGP.iloc[:60], LOGP.iloc[60:], [("S0", "S1")], exit=e),
        "exit",
        (math.nan, -1.0, 3.0, "0.5"),
    ),
    *real_probes(
        "zscore_backtest", lambda c: prs.zscore_backtest(LOGP.iloc[:60], LOGP.iloc[60:], [("S0", "S1")], cost_bp=c), "cost_bp"
    ),
    ("zscore_backtest: self-pair", lambda: prs.zscore_backtest(LOGP.iloc[:60], LOGP.iloc[60:], [("S1", "S1")]), "pairs"),
    *array_probes("annualised_stats", prs.annualised_stats, "daily", _SER.to_numpy(), ndim=1),
    ("annualised_stats: one day", lambda: prs.annualised_stats(_SER.iloc[:1]), "daily"),
    ("paired_difference: ndarray", lambda: prs.paired_difference(_SER.to_numpy(), _SER), "a"),
    ("paired_difference: other dates", lambda: prs.paired_difference(_SER, _SER.shift(1, freq="D")), "b"),
    ("paired_difference: NaN", lambda: prs.paired_difference(_SER * np.nan, _SER), "a"),
    *int_probes("paired_difference", lambda b: prs.paired_difference(_SER, _SER * 2, block=b), "block", (0, -1, 2.5, "5", 30)),
    ("sharpe_difference: ndarray", lambda: prs.sharpe_difference(_SER.to_numpy(), _SER), "a"),
    ("sharpe_difference: other dates", lambda: prs.sharpe_difference(_SER, _SER.shift(1, freq="D")), "b"),
    *int_probes(
        "sharpe_difference", lambda n: prs.sharpe_difference(_SER, CRET["S1"], block=5, n_boot=n), "n_boot", (0, 50, 2.5, "200")
    ),
    *int_probes(
        "sharpe_difference", lambda b: prs.sharpe_difference(_SER, CRET["S1"], block=b, n_boot=100), "block", (0, 2.5, 30)
    ),
    (
        "walk_forward_pairs: empty selectors",
        lambda: prs.walk_forward_pairs(LOGP, {}, n_pairs=1, formation=40, trading=10, start=40),
        "selectors",
    ),
    *int_probes(
        "walk_forward_pairs",
        lambda n: prs.walk_forward_pairs(
            LOGP, {"c": lambda f: [("S0", "S1")]}, n_pairs=n, formation=40, trading=10, start=40, n_draws=5
        ),
        "n_pairs",
        (0, 2.5, "1"),
    ),
    *int_probes(
        "walk_forward_pairs",
        lambda n: prs.walk_forward_pairs(
            LOGP, {"c": lambda f: [("S0", "S1")]}, n_pairs=1, formation=n, trading=10, start=40, n_draws=5
        ),
        "formation",
        (0, 2.5, "40"),
    ),
    *int_probes(
        "walk_forward_pairs",
        lambda n: prs.walk_forward_pairs(
            LOGP, {"c": lambda f: [("S0", "S1")]}, n_pairs=1, formation=40, trading=n, start=40, n_draws=5
        ),
        "trading",
        (0, 2.5, "10"),
    ),
    *int_probes(
        "walk_forward_pairs",
        lambda n: prs.walk_forward_pairs(
            LOGP, {"c": lambda f: [("S0", "S1")]}, n_pairs=1, formation=40, trading=10, start=n, n_draws=5
        ),
        "start",
        (10, -1, 2.5, "40", 100),
    ),
    (
        "walk_forward_pairs: selector self-pair",
        lambda: prs.walk_forward_pairs(
            LOGP, {"c": lambda f: [("S0", "S0")]}, n_pairs=1, formation=40, trading=10, start=40, n_draws=5
        ),
        "pairs",
    ),
    # risk ----------
    *array_probes("min_variance_weights", rk.min_variance_weights, "cov", COV.to_numpy()),
    ("min_variance_weights: not symmetric", lambda: rk.min_variance_weights(np.triu(COV.to_numpy())), "cov"),
    ("min_variance_weights: singular", lambda: rk.min_variance_weights(np.ones((3, 3))), "cov"),
    ("min_variance_weights: not square", lambda: rk.min_variance_weights(COV.to_numpy()[:, :3]), "cov"),
    *array_probes("sample_covariance", rk.sample_covariance, "X", X),
    ("sample_covariance: one row", lambda: rk.sample_covariance(X[:1]), "X"),
    *array_probes("ledoit_wolf_covariance", rk.ledoit_wolf_covariance, "X", X),
    ("ledoit_wolf_covariance: one row", lambda: rk.ledoit_wolf_covariance(X[:1]), "X"),
    *array_probes("factor_model_covariance", lambda v: rk.factor_model_covariance(v, np.eye(2), np.ones(6)), "loadings", ZS),
    (
        "factor_model_covariance: factor_cov wrong size",
        lambda: rk.factor_model_covariance(ZS, np.eye(3), np.ones(6)),
        "factor_cov",
    ),
    (
        "factor_model_covariance: resid_var wrong length",
        lambda: rk.factor_model_covariance(ZS, np.eye(2), np.ones(5)),
        "resid_var",
    ),
    ("factor_model_covariance: resid_var zero", lambda: rk.factor_model_covariance(ZS, np.eye(2), np.zeros(6)), "resid_var"),
    (
        "factor_model_covariance: resid_var NaN",
        lambda: rk.factor_model_covariance(ZS, np.eye(2), np.full(6, np.nan)),
        "resid_var",
    ),
    ("factor_model_covariance: factor_cov not PSD", lambda: rk.factor_model_covariance(ZS, -np.eye(2), np.ones(6)), "factor_cov"),
    ("decoder_factor_covariance: NaN X", lambda: rk.decoder_factor_covariance(EMB, X * np.nan), "X"),
    *real_probes(
        "decoder_factor_covariance", lambda e: rk.decoder_factor_covariance(EMB, X, eps=e), "eps", (math.nan, 0.0, -1.0, "0.01")
    ),
    (
        "rolling_min_variance: ndarray",
        lambda: rk.rolling_min_variance(CRET.to_numpy(), {"s": rk.sample_covariance}, CDATES[60:]),
        "returns",
    ),
    (
        "rolling_min_variance: NaN",
        lambda: rk.rolling_min_variance(CRET * np.nan, {"s": rk.sample_covariance}, CDATES[60:], window=20),
        "returns",
    ),
    (
        "rolling_min_variance: duplicate dates",
        lambda: rk.rolling_min_variance(CRET.iloc[[0, *range(79)]], {"s": rk.sample_covariance}, CDATES[60:], window=20),
        "returns",
    ),
    ("rolling_min_variance: empty estimators", lambda: rk.rolling_min_variance(CRET, {}, CDATES[60:], window=20), "estimators"),
    *int_probes(
        "rolling_min_variance",
        lambda w: rk.rolling_min_variance(CRET, {"s": rk.sample_covariance}, CDATES[60:], window=w),
        "window",
        (1, -1, 20.5, True, "20", 70),
    ),
    *int_probes(
        "rolling_min_variance",
        lambda r: rk.rolling_min_variance(CRET, {"s": rk.sample_covariance}, CDATES[60:], window=20, rebalance_every=r),
        "rebalance_every",
        (0, 2.5, "5"),
    ),
    (
        "rolling_min_variance: test_index empty",
        lambda: rk.rolling_min_variance(CRET, {"s": rk.sample_covariance}, CDATES[:0], window=20),
        "test_index",
    ),
    (
        "rolling_min_variance: test_index unsorted",
        lambda: rk.rolling_min_variance(CRET, {"s": rk.sample_covariance}, CDATES[60:][::-1], window=20),
        "test_index",
    ),
    (
        "rolling_min_variance: test_index too early",
        lambda: rk.rolling_min_variance(CRET, {"s": rk.sample_covariance}, CDATES[5:], window=20),
        "test_index",
    ),
    ("volatility_table: ndarray", lambda: rk.volatility_table(CRET.to_numpy(), "S0"), "portfolio_returns"),
    ("volatility_table: baseline", lambda: rk.volatility_table(CRET, "ZZ"), "baseline"),
    ("volatility_table: NaN", lambda: rk.volatility_table(CRET * np.nan, "S0", block=5), "portfolio_returns"),
    *int_probes("volatility_table", lambda b: rk.volatility_table(CRET, "S0", block=b), "block", (0, -1, 2.5, "5", 60)),
    *int_probes(
        "volatility_table",
        lambda p: rk.volatility_table(CRET, "S0", block=5, periods_per_year=p),
        "periods_per_year",
        (0, 2.5, "252"),
    ),
    # factors ----------
    ("compare_factor_models: empty", lambda: fac.compare_factor_models({}, X, X), "models"),
    *array_probes("compare_factor_models", lambda v: fac.compare_factor_models({"e": EMB}, v, X, refit=False), "X_train", X),
    *array_probes("compare_factor_models", lambda v: fac.compare_factor_models({"e": EMB}, X, v, refit=False), "X_test", X),
    ("compare_factor_models: widths differ", lambda: fac.compare_factor_models({"e": EMB}, X, X[:, :3], refit=False), "X_test"),
    (
        "compare_factor_models: only factors_train",
        lambda: fac.compare_factor_models({"e": EMB}, X, X, X[:, :2], refit=False),
        "factors_test",
    ),
    (
        "compare_factor_models: factors rows",
        lambda: fac.compare_factor_models({"e": EMB}, X, X, X[:5, :2], X[:, :2], refit=False),
        "factors_train",
    ),
    ("compare_factor_models: not a model", lambda: fac.compare_factor_models({"e": 3}, X, X, refit=False), "model"),
    (
        "compare_factor_models: other columns",
        lambda: fac.compare_factor_models({"e": FAC_DF}, RET, RET.rename(columns={"S0": "Q"}), refit=False),
        "X_test",
    ),
    *array_probes("average_loadings", lambda v: fac.average_loadings(EMB, v), "Z", X[:, :2]),
    *real_probes("average_loadings", lambda e: fac.average_loadings(EMB, X[:, :2], e), "eps", (math.nan, 0.0, -1.0, "0.01")),
    ("beta_sweep: empty betas", lambda: fac.beta_sweep(X, X, []), "betas"),
    ("beta_sweep: negative beta", lambda: fac.beta_sweep(X, X, [-1.0]), "beta"),
    ("beta_sweep: NaN beta", lambda: fac.beta_sweep(X, X, [math.nan]), "beta"),
    ("beta_sweep: text beta", lambda: fac.beta_sweep(X, X, ["1"]), "beta"),
    *real_probes("beta_sweep", lambda t: fac.beta_sweep(X, X, [1.0], kl_threshold=t), "kl_threshold"),
    *array_probes("nonlinear_recovery_r2", lambda v: fac.nonlinear_recovery_r2(v, X, X, X), "factors", X),
    *array_probes("nonlinear_recovery_r2", lambda v: fac.nonlinear_recovery_r2(X, X, X, v), "latents_test", X),
    ("nonlinear_recovery_r2: rows differ", lambda: fac.nonlinear_recovery_r2(X, X[:-1], X, X), "latents"),
    ("nonlinear_recovery_r2: other dates", lambda: fac.nonlinear_recovery_r2(RET, RET.shift(3, freq="D"), RET, RET), "latents"),
    *real_probes(
        "nonlinear_recovery_r2",
        lambda v: fac.nonlinear_recovery_r2(X, X, X, X, val_fraction=v),
        "val_fraction",
        (math.nan, 0.0, 1.0, "0.2"),
    ),
    ("nonlinear_recovery_r2: alpha negative", lambda: fac.nonlinear_recovery_r2(X, X, X, X, alphas=(-1.0,)), "alphas"),
    ("nonlinear_recovery_r2: gamma NaN", lambda: fac.nonlinear_recovery_r2(X, X, X, X, gammas=(math.nan,)), "gammas"),
    ("style_component: ndarray", lambda: fac.style_component(RET.to_numpy(), RET["S0"], DATES[:20]), "returns"),
    ("style_component: market NaN", lambda: fac.style_component(RET, RET["S0"] * np.nan, DATES[:20]), "market"),
    ("style_component: fit_days outside", lambda: fac.style_component(RET, RET["S0"], DATES.shift(100)[:20]), "fit_days"),
    ("style_component: too few fit_days", lambda: fac.style_component(RET, RET["S0"], DATES[:5]), "fit_days"),
    ("style_component: market constant", lambda: fac.style_component(RET, RET["S0"] * 0, DATES[:20]), "market"),
    ("style_component: market other dates", lambda: fac.style_component(RET, RET["S0"].shift(1, freq="D"), DATES[:20]), "market"),
    ("market_style_r2: look-ahead", lambda: fac.market_style_r2(RET, RET["S0"], {"a": RET}, DATES[20:], DATES[:20]), "fit_days"),
    ("market_style_r2: empty factors", lambda: fac.market_style_r2(RET, RET["S0"], {}, DATES[:20], DATES[20:]), "factors"),
    (
        "market_style_r2: factors ndarray",
        lambda: fac.market_style_r2(RET, RET["S0"], {"a": X}, DATES[:20], DATES[20:]),
        "factors",
    ),
    (
        "market_style_r2: factors NaN",
        lambda: fac.market_style_r2(RET, RET["S0"], {"a": RET * np.nan}, DATES[:20], DATES[20:]),
        "factors",
    ),
    (
        "market_style_r2: test_days empty",
        lambda: fac.market_style_r2(RET, RET["S0"], {"a": RET}, DATES[:20], DATES[:0]),
        "test_days",
    ),
    ("aggregate_posterior_sample: NaN X", lambda: fac.aggregate_posterior_sample(FAC, X * np.nan, 5), "X"),
    *int_probes("aggregate_posterior_sample", lambda n: fac.aggregate_posterior_sample(FAC, X, n), "n"),
    *int_probes(
        "aggregate_posterior_sample", lambda s: fac.aggregate_posterior_sample(FAC, X, 5, seed=s), "seed", (-1, 0.5, "0")
    ),
    # conditional ----------
    ("lag_characteristics: 2-D", lambda: cond.lag_characteristics(PANEL_R, PANEL_R), "characteristics"),
    ("lag_characteristics: NaN", lambda: cond.lag_characteristics(PANEL_Z * np.nan, PANEL_R), "characteristics"),
    ("lag_characteristics: returns NaN", lambda: cond.lag_characteristics(PANEL_Z, PANEL_R * np.nan), "returns"),
    ("lag_characteristics: stocks differ", lambda: cond.lag_characteristics(PANEL_Z, PANEL_R[:, :5]), "returns"),
    ("lag_characteristics: text", lambda: cond.lag_characteristics(PANEL_Z.astype(str), PANEL_R), "characteristics"),
    ("lag_characteristics: None", lambda: cond.lag_characteristics(None, PANEL_R), "characteristics"),
    ("lag_characteristics: complex", lambda: cond.lag_characteristics(PANEL_Z + 1j, PANEL_R), "characteristics"),
    ("managed_portfolios: NaN", lambda: cond.managed_portfolios(PANEL_Z, PANEL_R * np.nan), "returns"),
    ("managed_portfolios: periods differ", lambda: cond.managed_portfolios(PANEL_Z, PANEL_R[:5]), "returns"),
    ("total_r2: shapes differ", lambda: cond.total_r2(PANEL_R, PANEL_R[:5]), "fitted"),
    ("total_r2: NaN", lambda: cond.total_r2(PANEL_R, PANEL_R * np.nan), "fitted"),
    ("total_r2: all zero", lambda: cond.total_r2(PANEL_R * 0, PANEL_R), "returns"),
    ("total_r2: text", lambda: cond.total_r2(PANEL_R.astype(str), PANEL_R), "returns"),
    ("predictive_r2: premia wrong length", lambda: cond.predictive_r2(PANEL_R, PANEL_Z, np.ones(2)), "betas"),
    ("predictive_r2: premia NaN", lambda: cond.predictive_r2(PANEL_R, PANEL_Z, np.full(3, np.nan)), "premia"),
    ("predictive_r2: betas NaN", lambda: cond.predictive_r2(PANEL_R, PANEL_Z * np.nan, np.ones(3)), "betas"),
    *int_probes("StaticPCA", cond.StaticPCA, "n_factors"),
    ("StaticPCA.fit: too many factors", lambda: cond.StaticPCA(9).fit(PANEL_Z, PANEL_R), "n_factors"),
    ("StaticPCA.fit: NaN", lambda: cond.StaticPCA(2).fit(PANEL_Z, PANEL_R * np.nan), "R"),
    ("StaticPCA.betas: other stocks", lambda: cond.StaticPCA(2).fit(PANEL_Z, PANEL_R).betas(PANEL_Z[:, :5]), "Z"),
    *int_probes("LinearConditional", cond.LinearConditional, "n_factors"),
    *int_probes("LinearConditional", lambda m: cond.LinearConditional(2, max_iter=m), "max_iter", (0, -1, 2.5, "10")),
    *real_probes("LinearConditional", lambda t: cond.LinearConditional(2, tol=t), "tol", (math.nan, 0.0, -1.0, "1e-8")),
    ("LinearConditional.fit: too many factors", lambda: cond.LinearConditional(5).fit(PANEL_Z, PANEL_R), "n_factors"),
    ("LinearConditional.fit: Z NaN", lambda: cond.LinearConditional(2).fit(PANEL_Z * np.nan, PANEL_R), "Z"),
    (
        "LinearConditional.betas: other characteristics",
        lambda: cond.LinearConditional(2).fit(PANEL_Z, PANEL_R).betas(PANEL_Z[:, :, :2]),
        "Z",
    ),
    *int_probes("ConditionalAutoencoder", cond.ConditionalAutoencoder, "n_factors"),
    *int_probes("ConditionalAutoencoder", lambda e: cond.ConditionalAutoencoder(2, epochs=e), "epochs"),
    *int_probes("ConditionalAutoencoder", lambda p: cond.ConditionalAutoencoder(2, patience=p), "patience", (0, 2.5, "3")),
    *int_probes("ConditionalAutoencoder", lambda s: cond.ConditionalAutoencoder(2, seed=s), "seed", (-1, 0.5, "0")),
    *real_probes("ConditionalAutoencoder", lambda v: cond.ConditionalAutoencoder(2, lr=v), "lr", (math.nan, 0.0, -1.0, "0.01")),
    *real_probes("ConditionalAutoencoder", lambda v: cond.ConditionalAutoencoder(2, l1=v), "l1"),
    ("ConditionalAutoencoder: hidden with zero", lambda: cond.ConditionalAutoencoder(2, hidden=(0,)), "hidden"),
    ("ConditionalAutoencoder: hidden an int", lambda: cond.ConditionalAutoencoder(2, hidden=8), "hidden"),
    ("ConditionalAutoencoder.fit: NaN", lambda: cond.ConditionalAutoencoder(2, epochs=1).fit(PANEL_Z, PANEL_R * np.nan), "R"),
    (
        "ConditionalAutoencoder.fit: only Z_val",
        lambda: cond.ConditionalAutoencoder(2, epochs=1).fit(PANEL_Z, PANEL_R, PANEL_Z),
        "R_val",
    ),
    (
        "ConditionalAutoencoder.fit: Z_val other width",
        lambda: cond.ConditionalAutoencoder(2, epochs=1).fit(PANEL_Z, PANEL_R, PANEL_Z[:, :, :2], PANEL_R),
        "Z_val",
    ),
    ("ConditionalAutoencoder.betas: unfitted", lambda: cond.ConditionalAutoencoder(2).betas(PANEL_Z), "fit"),
    ("evaluate: not a model", lambda: cond.evaluate("pca", PANEL_Z, PANEL_R), "model"),
    ("paired_r2_difference: shapes differ", lambda: cond.paired_r2_difference(PANEL_R, PANEL_R, PANEL_R[:5]), "fit_b"),
    ("paired_r2_difference: NaN", lambda: cond.paired_r2_difference(PANEL_R, PANEL_R * np.nan, PANEL_R), "fit_a"),
    ("paired_r2_difference: one period", lambda: cond.paired_r2_difference(PANEL_R[:1], PANEL_R[:1], PANEL_R[:1]), "returns"),
    # recommend ----------
    *int_probes("RecAutoencoder", lambda n: rec.RecAutoencoder(n, 8, 4), "n_items"),
    *int_probes("RecAutoencoder", lambda n: rec.RecAutoencoder(12, n, 4), "hidden", (0, 2.5, "8")),
    *int_probes("RecAutoencoder", lambda n: rec.RecAutoencoder(12, 8, n), "latent", (0, 2.5, "4")),
    *real_probes("RecAutoencoder", lambda d: rec.RecAutoencoder(12, 8, 4, dropout=d), "dropout", (math.nan, 1.0, -0.1, "0.5")),
    ("RecAutoencoder.encode: wrong width", lambda: REC.encode(torch.zeros(3, 5)), "x"),
    ("multinomial_nll: shapes differ", lambda: rec.multinomial_nll(torch.zeros(3, 12), torch.zeros(3, 5)), "x"),
    *real_probes(
        "weighted_bce",
        lambda w: rec.weighted_bce(torch.zeros(3, 12), torch.zeros(3, 12), w),
        "neg_weight",
        (math.nan, 0.0, 1.5, "0.1"),
    ),
    ("recommender_loss: likelihood", lambda: rec.recommender_loss("poisson"), "likelihood"),
    *real_probes(
        "recommender_loss", lambda w: rec.recommender_loss("bce", neg_weight=w), "neg_weight", (math.nan, 0.0, 1.5, "0.1")
    ),
    *array_probes("predict_scores", lambda v: rec.predict_scores(REC, v), "X", UI.toarray(), sparse_ok=True),
    ("predict_scores: sparse NaN", lambda: rec.predict_scores(REC, _sparse_with(np.nan)), "X"),
    ("predict_scores: sparse negative", lambda: rec.predict_scores(REC, _sparse_with(-1.0)), "X"),
    ("predict_scores: wrong width", lambda: rec.predict_scores(REC, UI[:, :5]), "X"),
    *int_probes("predict_scores", lambda b: rec.predict_scores(REC, UI, batch_size=b), "batch_size", (0, -1, 2.5, "8")),
    ("train_recommender: wrong width", lambda: rec.train_recommender(REC, UI[:, :5], epochs=1), "X_train"),
    ("train_recommender: sparse NaN", lambda: rec.train_recommender(REC, _sparse_with(np.nan), epochs=1), "X_train"),
    ("train_recommender: sparse negative", lambda: rec.train_recommender(REC, _sparse_with(-1.0), epochs=1), "X_train"),
    *int_probes("train_recommender", lambda e: rec.train_recommender(REC, UI, epochs=e), "epochs", (0, -1, 2.5, "1")),
    *int_probes(
        "train_recommender", lambda b: rec.train_recommender(REC, UI, epochs=1, batch_size=b), "batch_size", (0, 2.5, "8")
    ),
    *int_probes(
        "train_recommender", lambda a: rec.train_recommender(REC, UI, epochs=1, anneal_epochs=a), "anneal_epochs", (-1, 2.5, "1")
    ),
    *int_probes("train_recommender", lambda k: rec.train_recommender(REC, UI, epochs=1, k=k), "k", (0, 2.5, "5")),
    *int_probes("train_recommender", lambda s: rec.train_recommender(REC, UI, epochs=1, seed=s), "seed", (-1, 0.5, "0")),
    *real_probes("train_recommender", lambda b: rec.train_recommender(REC, UI, epochs=1, beta_cap=b), "beta_cap"),
    *real_probes(
        "train_recommender", lambda lr: rec.train_recommender(REC, UI, epochs=1, lr=lr), "lr", (math.nan, 0.0, -1e-3, "1e-3")
    ),
    ("train_recommender: val shapes", lambda: rec.train_recommender(REC, UI, epochs=1, val=(UI, UI[:, :5])), "val"),
    ("train_recommender: val one matrix", lambda: rec.train_recommender(REC, UI, epochs=1, val=UI), "val"),
    *int_probes("posterior_scores", lambda n: rec.posterior_scores(REC, UI, n), "n_samples", (0, -1, 2.5, "5")),
    ("posterior_scores: NaN", lambda: rec.posterior_scores(REC, _sparse_with(np.nan), 2), "X"),
    (
        "posterior_scores: not variational",
        lambda: rec.posterior_scores(rec.RecAutoencoder(12, 8, 4, variational=False), UI, 2),
        "variational",
    ),
    *int_probes("popularity_scores", lambda n: rec.popularity_scores(UI, n), "n_users", (0, -1, 2.5, "3")),
    ("popularity_scores: NaN", lambda: rec.popularity_scores(_sparse_with(np.nan), 3), "X_train"),
    ("popularity_scores: negative", lambda: rec.popularity_scores(_sparse_with(-1.0), 3), "X_train"),
    *real_probes("ease_weights", lambda lam: rec.ease_weights(UI, lam), "lam", (math.nan, math.inf, 0.0, -1.0, "100")),
    ("ease_weights: NaN", lambda: rec.ease_weights(_sparse_with(np.nan), 10.0), "X"),
    ("ease_weights: text", lambda: rec.ease_weights(UI.toarray().astype(str), 10.0), "X"),
    ("tune_ease: empty lambdas", lambda: rec.tune_ease(UI, UI, UI, []), "lambdas"),
    ("tune_ease: negative lambda", lambda: rec.tune_ease(UI, UI, UI, [-1.0]), "lambdas"),
    ("tune_ease: foldin wrong width", lambda: rec.tune_ease(UI, UI[:, :5], UI, [10.0]), "foldin"),
    *int_probes("tune_ease", lambda k: rec.tune_ease(UI, UI, UI, [10.0], k=k), "k", (0, 2.5, "5")),
    *int_probes(
        "latent_neighbour_scores", lambda n: rec.latent_neighbour_scores(REC, UI, UI, n), "n_neighbours", (0, -1, 2.5, "5", 31)
    ),
    ("latent_neighbour_scores: X_query wrong width", lambda: rec.latent_neighbour_scores(REC, UI, UI[:, :5], 5), "X_query"),
    ("latent_neighbour_scores: NaN", lambda: rec.latent_neighbour_scores(REC, _sparse_with(np.nan), UI, 5), "X_train"),
    ("cold_start_scores: how", lambda: rec.cold_start_scores(REC, "average"), "how"),
    *int_probes("cold_start_scores", lambda n: rec.cold_start_scores(REC, n_samples=n), "n_samples", (0, 2.5, "5")),
    ("profile_nll: wrong width", lambda: rec.profile_nll(REC, UI[:, :5]), "X"),
    ("profile_nll: NaN", lambda: rec.profile_nll(REC, _sparse_with(np.nan)), "X"),
    ("profile_nll: empty profile", lambda: rec.profile_nll(REC, sp.csr_matrix((2, 12))), "X"),
    *array_probes("outrank_probability", lambda v: rec.outrank_probability(v, [0, 1]), "draws", DRAWS[:, 0, :]),
    ("outrank_probability: item out of range", lambda: rec.outrank_probability(DRAWS, [0, 12]), "items"),
    ("outrank_probability: float items", lambda: rec.outrank_probability(DRAWS, [0.5, 1]), "items"),
    ("outrank_probability: NaN draws", lambda: rec.outrank_probability(DRAWS * np.nan, [0, 1]), "draws"),
    *int_probes("topk_probability", lambda k: rec.topk_probability(DRAWS, k), "k", (0, -1, 2.5, "3", 13)),
    ("topk_probability: NaN draws", lambda: rec.topk_probability(DRAWS * np.nan, 3), "draws"),
    ("topk_probability: exclude wrong shape", lambda: rec.topk_probability(DRAWS, 3, exclude=np.zeros((2, 5))), "exclude"),
    ("popularity_outlyingness: wrong width", lambda: rec.popularity_outlyingness(UI, UI[:, :5]), "profiles"),
    ("popularity_outlyingness: NaN", lambda: rec.popularity_outlyingness(UI, _sparse_with(np.nan)), "profiles"),
    ("popularity_outlyingness: negative", lambda: rec.popularity_outlyingness(_sparse_with(-1.0), UI), "X_train"),
    # recsplit ----------
    ("implicit_matrix: ndarray", lambda: rs.implicit_matrix(np.zeros((3, 3))), "ratings"),
    ("implicit_matrix: missing column", lambda: rs.implicit_matrix(pd.DataFrame({"user_id": [1], "item_id": [1]})), "rating"),
    (
        "implicit_matrix: NaN",
        lambda: rs.implicit_matrix(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [np.nan]})),
        "ratings",
    ),
    ("implicit_matrix: empty", lambda: rs.implicit_matrix(pd.DataFrame({"user_id": [], "item_id": [], "rating": []})), "ratings"),
    *int_probes(
        "implicit_matrix",
        lambda m: rs.implicit_matrix(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [5]}), min_user_items=m),
        "min_user_items",
        (0, -1, 2.5, "1"),
    ),
    *real_probes(
        "implicit_matrix",
        lambda m: rs.implicit_matrix(
            pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [5]}), min_rating=m, min_user_items=1
        ),
        "min_rating",
        (math.nan, "4"),
    ),
    ("strong_generalization_split: ndarray", lambda: rs.strong_generalization_split(UI.toarray(), 5, min_items=2), "X"),
    ("strong_generalization_split: not binary", lambda: rs.strong_generalization_split(UI * 2, 5, min_items=2), "X"),
    ("strong_generalization_split: NaN", lambda: rs.strong_generalization_split(_sparse_with(np.nan), 5, min_items=2), "X"),
    *int_probes(
        "strong_generalization_split",
        lambda n: rs.strong_generalization_split(UI, n, min_items=2),
        "n_heldout_users",
        (0, -1, 2.5, "5", 30),
    ),
    *int_probes(
        "strong_generalization_split", lambda m: rs.strong_generalization_split(UI, 5, min_items=m), "min_items", (1, 2.5, "2")
    ),
    *real_probes(
        "strong_generalization_split",
        lambda f: rs.strong_generalization_split(UI, 5, heldout_fraction=f, min_items=2),
        "heldout_fraction",
        (math.nan, 0.0, 1.0, "0.2"),
    ),
    *int_probes(
        "strong_generalization_split",
        lambda s: rs.strong_generalization_split(UI, 5, min_items=2, seed=s),
        "seed",
        (-1, 0.5, "0"),
    ),
    *int_probes("kfold_user_splits", lambda k: rs.kfold_user_splits(UI, k, 3, min_items=2), "n_folds", (1, 0, 2.5, "3", 31)),
    *int_probes("kfold_user_splits", lambda k: rs.kfold_user_splits(UI, 3, k, min_items=2), "n_val_users", (-1, 2.5, "3", 30)),
    ("temporal_split: not a RecSplit", lambda: rs.temporal_split(UI, UI), "split"),
    (
        "temporal_split: order ndarray",
        lambda: rs.temporal_split(rs.strong_generalization_split(UI, 5, min_items=2), UI.toarray()),
        "order",
    ),
    ("mask_foldin: shapes differ", lambda: rs.mask_foldin(SCORES, UI), "foldin"),
    ("mask_foldin: scores NaN", lambda: rs.mask_foldin(UI.toarray() * np.nan, UI), "scores"),
    ("mask_foldin: foldin NaN", lambda: rs.mask_foldin(UI.toarray(), _sparse_with(np.nan)), "foldin"),
    ("evaluate_ranking: unknown metric", lambda: rs.evaluate_ranking(UI.toarray(), UI, HO, (("map", 5),)), "metric"),
    ("evaluate_ranking: k zero", lambda: rs.evaluate_ranking(UI.toarray(), UI, HO, (("ndcg", 0),)), "k"),
    ("evaluate_ranking: heldout wrong shape", lambda: rs.evaluate_ranking(UI.toarray(), UI, UI[:, :5]), "heldout"),
    ("evaluate_ranking: heldout overlaps foldin", lambda: rs.evaluate_ranking(UI.toarray(), UI, UI, (("ndcg", 5),)), "heldout"),
    ("paired_table: baseline", lambda: rs.paired_table({"a": [1.0, 2.0]}, "b"), "baseline"),
    ("paired_table: lengths differ", lambda: rs.paired_table({"a": [1.0, 2.0], "b": [1.0]}, "a"), "results"),
    ("paired_table: NaN", lambda: rs.paired_table({"a": [1.0, np.nan], "b": [1.0, 2.0]}, "a"), "results"),
    ("paired_difference: lengths differ", lambda: rs.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0]), "b"),
    ("paired_difference: NaN", lambda: rs.paired_difference([1.0, np.nan, 3.0], [1.0, 2.0, 2.0]), "a"),
    ("paired_difference: one value", lambda: rs.paired_difference([1.0], [2.0]), "a"),
    (
        "paired_difference: other labels",
        lambda: rs.paired_difference(pd.Series([1.0, 2, 3]), pd.Series([1.0, 2, 3], index=[5, 1, 0])),
        "b",
    ),
    *real_probes(
        "paired_difference",
        lambda c: rs.paired_difference([1.0, 2.0, 3.0], [1.5, 2.0, 2.0], confidence=c),
        "confidence",
        (math.nan, 0.0, 1.0, 95.0, "0.95"),
    ),
    *real_probes(
        "paired_difference",
        lambda m: rs.paired_difference([1.0, 2.0, 3.0], [1.5, 2.0, 2.0], margin=m),
        "margin",
        (math.nan, 0.0, -0.1, "0.1"),
    ),
    # data: holdings, pairs market, characteristics ----------
    *int_probes("make_fund_holdings", lambda n: hold.make_fund_holdings(n, 40), "n_investors", (1, -1, 60.5, True, "60", None)),
    *int_probes("make_fund_holdings", lambda n: hold.make_fund_holdings(60, n), "n_funds", (10, 40.0, "40")),
    *int_probes("make_fund_holdings", lambda n: hold.make_fund_holdings(60, 40, min_holdings=n), "min_holdings", (0, 2.5, "5")),
    *int_probes("make_fund_holdings", lambda s: hold.make_fund_holdings(60, 40, seed=s), "seed", (-1, 0.5, "0")),
    *real_probes(
        "make_fund_holdings",
        lambda m: hold.make_fund_holdings(60, 40, mean_holdings=m),
        "mean_holdings",
        (math.nan, math.inf, 2.0, "14"),
    ),
    *real_probes("make_fund_holdings", lambda t: hold.make_fund_holdings(60, 40, theme_strength=t), "theme_strength"),
    *real_probes("make_fund_holdings", lambda t: hold.make_fund_holdings(60, 40, noise=t), "noise"),
    *real_probes(
        "make_mismatch_profiles",
        lambda s: hold.make_mismatch_profiles(FH, [0, 1, 2], share=s),
        "share",
        (math.nan, 0.0, 1.5, "0.5"),
    ),
    ("make_mismatch_profiles: candidates out of range", lambda: hold.make_mismatch_profiles(FH, [0, 999]), "candidates"),
    ("make_mismatch_profiles: float candidates", lambda: hold.make_mismatch_profiles(FH, [0.5, 1.0]), "candidates"),
    ("make_mismatch_profiles: duplicate candidates", lambda: hold.make_mismatch_profiles(FH, [0, 0, 1]), "candidates"),
    ("make_mismatch_profiles: fh", lambda: hold.make_mismatch_profiles(UI, [0, 1]), "fh"),
    *int_probes(
        "make_mismatch_profiles",
        lambda m: hold.make_mismatch_profiles(FH, list(range(60)), min_fund_risk=m),
        "min_fund_risk",
        (0, 2.5, "6", 8),
    ),
    *real_probes(
        "make_mismatch_profiles",
        lambda m: hold.make_mismatch_profiles(FH, list(range(60)), max_appetite=m),
        "max_appetite",
        (math.nan, "3"),
    ),
    *int_probes("FundHoldings.first_purchases", lambda k: FH.first_purchases(k), "k", (0, -1, 2.5, "3")),
    (
        "risk_mismatch_score: fund_risk wrong length",
        lambda: hold.risk_mismatch_score(FH.holdings, np.ones(5), np.ones(60)),
        "fund_risk",
    ),
    (
        "risk_mismatch_score: appetite wrong length",
        lambda: hold.risk_mismatch_score(FH.holdings, FH.funds["risk"].to_numpy(), np.ones(5)),
        "appetite",
    ),
    (
        "risk_mismatch_score: NaN appetite",
        lambda: hold.risk_mismatch_score(FH.holdings, FH.funds["risk"].to_numpy(), np.full(60, np.nan)),
        "appetite",
    ),
    (
        "risk_mismatch_score: profiles NaN",
        lambda: hold.risk_mismatch_score(_sparse_with(np.nan), np.ones(12), np.ones(30)),
        "profiles",
    ),
    *int_probes(
        "make_pairs_market",
        lambda n: pm.make_pairs_market(n_pairs=n, n_stocks=20, n_days=60, n_sectors=2, n_factors=2),
        "n_pairs",
        (0, -1, 2.5, True, "2", 50),
    ),
    (
        "make_pairs_market: half_life reversed",
        lambda: pm.make_pairs_market(half_life=(10.0, 2.0), n_stocks=20, n_days=60),
        "half_life",
    ),
    (
        "make_pairs_market: half_life NaN",
        lambda: pm.make_pairs_market(half_life=(math.nan, 2.0), n_stocks=20, n_days=60),
        "half_life",
    ),
    ("make_pairs_market: half_life a number", lambda: pm.make_pairs_market(half_life=5.0, n_stocks=20, n_days=60), "half_life"),
    ("make_pairs_market: beta NaN", lambda: pm.make_pairs_market(beta=(math.nan, 1.0), n_stocks=20, n_days=60), "beta"),
    ("make_pairs_market: beta reversed", lambda: pm.make_pairs_market(beta=(1.3, 0.7), n_stocks=20, n_days=60), "beta"),
    *real_probes(
        "make_pairs_market",
        lambda v: pm.make_pairs_market(spread_vol=v, n_stocks=20, n_days=60),
        "spread_vol",
        (math.nan, math.inf, 0.0, -0.01, "0.01"),
    ),
    *int_probes("make_pairs_market", lambda n: pm.make_pairs_market(n_stocks=n, n_days=60), "n_stocks", (0, 20.5, "20")),
    *int_probes("make_pairs_market", lambda s: pm.make_pairs_market(seed=s, n_stocks=20, n_days=60), "seed", (-1, 0.5, "0")),
    *int_probes(
        "make_characteristics_panel",
        lambda n: chars.make_characteristics_panel(n, 20, 4),
        "n_stocks",
        (0, 1, 20.5, True, "20", None),
    ),
    *int_probes("make_characteristics_panel", lambda n: chars.make_characteristics_panel(20, n, 4), "n_periods", (0, 20.5, "20")),
    *int_probes(
        "make_characteristics_panel", lambda n: chars.make_characteristics_panel(20, 20, n), "n_characteristics", (0, 3, 4.5, "4")
    ),
    *int_probes(
        "make_characteristics_panel", lambda s: chars.make_characteristics_panel(20, 20, 4, seed=s), "seed", (-1, 0.5, "0")
    ),
    *real_probes(
        "make_characteristics_panel",
        lambda p: chars.make_characteristics_panel(20, 20, 4, persistence=p),
        "persistence",
        (math.nan, 1.0, -0.1, "0.9"),
    ),
    *real_probes(
        "make_characteristics_panel",
        lambda v: chars.make_characteristics_panel(20, 20, 4, idio_vol=v),
        "idio_vol",
        (math.nan, math.inf, 0.0, -1.0, "1"),
    ),
    (
        "make_characteristics_panel: factor_vol NaN",
        lambda: chars.make_characteristics_panel(20, 20, 4, factor_vol=(math.nan, 1.0, 1.0)),
        "factor_vol",
    ),
    ("make_characteristics_panel: premia short", lambda: chars.make_characteristics_panel(20, 20, 4, premia=(0.4,)), "premia"),
    ("rank_normalize: inf", lambda: chars.rank_normalize(PANEL_Z * np.inf), "values"),
    ("rank_normalize: one stock", lambda: chars.rank_normalize(PANEL_Z[:, :1]), "values"),
    ("rank_normalize: text", lambda: chars.rank_normalize(PANEL_Z.astype(str)), "values"),
    ("rank_normalize: None", lambda: chars.rank_normalize(None), "values"),
    *int_probes("rank_normalize", lambda a: chars.rank_normalize(PANEL_Z, a), "axis", (3, -4, 1.5, "1")),
    *frame_probes("price_characteristics", chars.price_characteristics, "prices", PRICES),
    ("price_characteristics: short history", lambda: chars.price_characteristics(PRICES), "prices"),
    ("price_characteristics: negative prices", lambda: chars.price_characteristics(-LONGP), "prices"),
    *frame_probes("price_panel", chars.price_panel, "prices", PRICES),
    ("price_panel: freq", lambda: chars.price_panel(LONGP, "fortnight"), "freq"),
    ("price_panel: freq an int", lambda: chars.price_panel(LONGP, 5), "freq"),
]
PROBES += CHAPTER_PROBES

# Anomalies and latent space ---------------------------------------------------------------------------------------------
from course_lib import anomalies as an  # noqa: E402
from course_lib import latent as lt  # noqa: E402

GROUPS = np.array(["a", "a", "b", "b", "c"])
AN_SCORES = _rng.standard_normal(40)
AN_LABELS = np.r_[np.ones(8), np.zeros(32)].astype(int)
AN_KIND = np.array(["jump"] * 4 + ["sector"] * 4 + ["normal"] * 32, dtype=object)
with isolated_rng(0):
    MAH = an.MahalanobisDetector().fit(X)
    PCAD = an.PCAReconstructionDetector(n_components=2).fit(X)
    MAH_DF = an.MahalanobisDetector().fit(RET)
MU_LV = lt.encode(DET, X[:6])
_RET_SER = pd.Series(AN_SCORES, index=DATES)


def _inject(**kw):
    opts = dict(n_per_kind=2)
    opts.update(kw)
    return an.inject_anomalies(opts.pop("X", X), opts.pop("groups", GROUPS), **opts)


def _detector_probes(label: str, det, cls, **kw) -> list[Probe]:
    rows: list[Probe] = []
    for meth in ("calibrate", "anomaly_score", "score_samples", "decision_function", "predict"):
        rows += array_probes(f"{label}.{meth}", getattr(det, meth), "X", X)
        rows.append((f"{label}.{meth}: wrong width", lambda m=meth: getattr(det, m)(X[:, :3]), "X"))
        rows.append((f"{label}.{meth}: unfitted", lambda m=meth: getattr(cls(), m)(X), cls.__name__))
    rows += array_probes(f"{label}.fit", lambda v: cls(**kw).fit(v), "X", X)
    rows.append((f"{label}.fit: one row", lambda: cls(**kw).fit(X[:1]), "X"))
    rows += real_probes(
        f"{label}.fit",
        lambda c: cls(contamination=c, **kw).fit(X),
        "contamination",
        (math.nan, math.inf, 0.0, 0.5, -0.1, "0.05", None),
    )
    return rows


ANOMALY_PROBES: list[Probe] = [
    # inject_anomalies ----------
    *array_probes("inject_anomalies", lambda v: _inject(X=v), "X", X),
    ("inject_anomalies: groups too short", lambda: _inject(groups=GROUPS[:3]), "groups"),
    ("inject_anomalies: groups one sector", lambda: _inject(groups=["a"] * 5), "groups"),
    ("inject_anomalies: groups with None", lambda: _inject(groups=["a", None, "b", "b", "c"]), "groups"),
    ("inject_anomalies: groups NaN", lambda: _inject(groups=[0.0, np.nan, 1.0, 1.0, 2.0]), "groups"),
    ("inject_anomalies: groups None", lambda: _inject(groups=None), "groups"),
    ("inject_anomalies: groups 2-D", lambda: _inject(groups=GROUPS[None, :]), "groups"),
    (
        "inject_anomalies: groups Series on other tickers",
        lambda: _inject(X=RET, groups=pd.Series(GROUPS, index=[f"T{i}" for i in range(5)])),
        "groups",
    ),
    ("inject_anomalies: kinds unknown", lambda: _inject(kinds=("jump", "crash")), "kinds"),
    ("inject_anomalies: kinds a string", lambda: _inject(kinds="jump"), "kinds"),
    ("inject_anomalies: kinds empty", lambda: _inject(kinds=()), "kinds"),
    ("inject_anomalies: kinds repeated", lambda: _inject(kinds=("jump", "jump")), "kinds"),
    *int_probes("inject_anomalies", lambda n: _inject(n_per_kind=n), "n_per_kind", (0, -1, 2.5, True, "2", None, 11)),
    *real_probes("inject_anomalies", lambda v: _inject(jump_size=v), "jump_size", (math.nan, math.inf, 0.0, -1.0, "6", None)),
    *real_probes("inject_anomalies", lambda v: _inject(sector_size=v), "sector_size", (math.nan, 0.0, "2.5")),
    *real_probes("inject_anomalies", lambda v: _inject(break_size=v), "break_size", (math.inf, -1.0, "1.5")),
    *real_probes("inject_anomalies", lambda v: _inject(vol_multiplier=v), "vol_multiplier", (math.nan, 1.0, 0.5, "3")),
    *int_probes("inject_anomalies", lambda s: _inject(seed=s), "seed", (-1, 0.5, "0", None)),
    # precision_at_k and precision_recall_at_rate ----------
    *array_probes("precision_at_k", lambda v: an.precision_at_k(v, AN_LABELS, 3), "scores", AN_SCORES, ndim=1),
    ("precision_at_k: labels not binary", lambda: an.precision_at_k(AN_SCORES, AN_LABELS * 2, 3), "labels"),
    ("precision_at_k: labels NaN", lambda: an.precision_at_k(AN_SCORES, AN_LABELS * np.nan, 3), "labels"),
    ("precision_at_k: labels too short", lambda: an.precision_at_k(AN_SCORES, AN_LABELS[:5], 3), "labels"),
    ("precision_at_k: labels None", lambda: an.precision_at_k(AN_SCORES, None, 3), "labels"),
    ("precision_at_k: labels text", lambda: an.precision_at_k(AN_SCORES, AN_LABELS.astype(str), 3), "labels"),
    (
        "precision_at_k: Series on other dates",
        lambda: an.precision_at_k(_RET_SER, pd.Series(AN_LABELS, index=DATES + pd.Timedelta(days=1)), 3),
        "labels",
    ),
    *int_probes("precision_at_k", lambda k: an.precision_at_k(AN_SCORES, AN_LABELS, k), "k", (0, -1, 2.5, True, "3", None, 41)),
    *array_probes(
        "precision_recall_at_rate", lambda v: an.precision_recall_at_rate(v, AN_LABELS, 0.1), "scores", AN_SCORES, ndim=1
    ),
    ("precision_recall_at_rate: no positive", lambda: an.precision_recall_at_rate(AN_SCORES, AN_LABELS * 0, 0.1), "labels"),
    ("precision_recall_at_rate: labels short", lambda: an.precision_recall_at_rate(AN_SCORES, AN_LABELS[:3], 0.1), "labels"),
    *real_probes(
        "precision_recall_at_rate",
        lambda r: an.precision_recall_at_rate(AN_SCORES, AN_LABELS, r),
        "rate",
        (math.nan, math.inf, 0.0, 1.5, -0.1, "0.1", None),
    ),
    # detection tables ----------
    ("detection_table: scores empty", lambda: an.detection_table({}, AN_KIND), "scores"),
    ("detection_table: scores an array", lambda: an.detection_table(AN_SCORES, AN_KIND), "scores"),
    ("detection_table: scores NaN", lambda: an.detection_table({"m": AN_SCORES * np.nan}, AN_KIND), "scores"),
    ("detection_table: scores inf", lambda: an.detection_table({"m": _with(AN_SCORES, (0,), np.inf)}, AN_KIND), "scores"),
    ("detection_table: scores too short", lambda: an.detection_table({"m": AN_SCORES[:5]}, AN_KIND), "scores"),
    ("detection_table: scores 2-D", lambda: an.detection_table({"m": X}, AN_KIND), "scores"),
    ("detection_table: scores text", lambda: an.detection_table({"m": AN_SCORES.astype(str)}, AN_KIND), "scores"),
    ("detection_table: scores complex", lambda: an.detection_table({"m": AN_SCORES + 1j}, AN_KIND), "scores"),
    ("detection_table: scores None", lambda: an.detection_table({"m": None}, AN_KIND), "scores"),
    ("detection_table: kind all normal", lambda: an.detection_table({"m": AN_SCORES}, np.full(40, "normal")), "kind"),
    ("detection_table: kind 2-D", lambda: an.detection_table({"m": AN_SCORES}, AN_KIND[None, :]), "kind"),
    ("detection_table: kind None", lambda: an.detection_table({"m": AN_SCORES}, None), "kind"),
    ("detection_table: kind with NaN", lambda: an.detection_table({"m": AN_SCORES}, _with(AN_KIND, (0,), np.nan)), "kind"),
    (
        "detection_table: Series on other dates",
        lambda: an.detection_table({"m": _RET_SER}, pd.Series(AN_KIND, index=DATES + pd.Timedelta(days=1))),
        "kind",
    ),
    ("detection_table: include_all text", lambda: an.detection_table({"m": AN_SCORES}, AN_KIND, include_all="no"), "include_all"),
    ("bootstrap_detection_table: scores NaN", lambda: an.bootstrap_detection_table({"m": AN_SCORES * np.nan}, AN_KIND), "scores"),
    ("bootstrap_detection_table: scores empty", lambda: an.bootstrap_detection_table({}, AN_KIND), "scores"),
    ("bootstrap_detection_table: kind short", lambda: an.bootstrap_detection_table({"m": AN_SCORES}, AN_KIND[:5]), "scores"),
    *int_probes(
        "bootstrap_detection_table",
        lambda n: an.bootstrap_detection_table({"m": AN_SCORES}, AN_KIND, n_boot=n),
        "n_boot",
        (0, -1, 99, 150.5, True, "200", None),
    ),
    *real_probes(
        "bootstrap_detection_table",
        lambda v: an.bootstrap_detection_table({"m": AN_SCORES}, AN_KIND, n_boot=100, level=v),
        "level",
        (math.nan, 0.0, 1.0, 90.0, "0.9", None),
    ),
    *int_probes(
        "bootstrap_detection_table",
        lambda s: an.bootstrap_detection_table({"m": AN_SCORES}, AN_KIND, n_boot=100, seed=s),
        "seed",
        (-1, 0.5, "0", None),
    ),
    # thresholds and rates ----------
    *array_probes("conformal_threshold", lambda v: an.conformal_threshold(v, 0.1), "scores", AN_SCORES, ndim=1),
    ("conformal_threshold: 2-D scores", lambda: an.conformal_threshold(X, 0.1), "scores"),
    *real_probes(
        "conformal_threshold",
        lambda c: an.conformal_threshold(AN_SCORES, c),
        "contamination",
        (math.nan, math.inf, 0.0, 0.5, 1.0, -0.1, "0.1", None),
    ),
    *int_probes("binomial_interval", lambda k: an.binomial_interval(k, 10), "k", (-1, 11, 2.5, True, "3", None)),
    *int_probes("binomial_interval", lambda n: an.binomial_interval(0, n), "n", (0, -1, 10.0, True, "10", None)),
    *real_probes(
        "binomial_interval", lambda v: an.binomial_interval(3, 10, v), "level", (math.nan, 0.0, 1.0, 95.0, "0.95", None)
    ),
    # inputs ----------
    *[p for p in frame_probes("ewma_scale", lambda v: an.ewma_scale(v, warmup=5), "returns", RET) if "ndarray" not in p[0]],
    *array_probes("ewma_scale", lambda v: an.ewma_scale(v, warmup=5), "returns", X),
    *real_probes(
        "ewma_scale", lambda h: an.ewma_scale(X, halflife=h, warmup=5), "halflife", (math.nan, math.inf, 0.0, -1.0, "20", None)
    ),
    *int_probes("ewma_scale", lambda w: an.ewma_scale(X, warmup=w), "warmup", (0, -1, 2.5, True, "5", None, 40)),
    ("ewma_scale: a zero column", lambda: an.ewma_scale(np.c_[X, np.zeros(40)], warmup=5), "returns"),
    *array_probes("choose_n_components", an.choose_n_components, "X", X),
    ("choose_n_components: one column", lambda: an.choose_n_components(X[:, :1]), "X"),
    ("choose_n_components: two rows", lambda: an.choose_n_components(X[:2]), "X"),
    ("choose_n_components: constant column", lambda: an.choose_n_components(np.c_[X, np.ones(40)]), "X"),
    ("choose_n_components: method", lambda: an.choose_n_components(X, method="scree"), "method"),
    ("choose_n_components: method None", lambda: an.choose_n_components(X, method=None), "method"),
    *real_probes(
        "choose_n_components",
        lambda v: an.choose_n_components(X, method="variance", variance=v),
        "variance",
        (math.nan, 0.0, 1.0, 80.0, "0.8", None),
    ),
    # baseline detectors ----------
    *_detector_probes("MahalanobisDetector", MAH, an.MahalanobisDetector),
    *_detector_probes("PCAReconstructionDetector", PCAD, an.PCAReconstructionDetector, n_components=2),
    ("MahalanobisDetector.score_samples: other columns", lambda: MAH_DF.score_samples(RET.rename(columns={"S0": "Q"})), "X"),
    (
        "MahalanobisDetector.calibrate: contamination set to NaN after fit",
        lambda: an.MahalanobisDetector().fit(X).set_params(contamination=math.nan).calibrate(X),
        "contamination",
    ),
    *int_probes(
        "PCAReconstructionDetector.fit",
        lambda n: an.PCAReconstructionDetector(n_components=n).fit(X),
        "n_components",
        (0, -1, 2.5, True, "2", None, 5),
    ),
    # latent ----------
    *array_probes("encode", lambda v: lt.encode(DET, v), "X", X),
    ("encode: wrong width", lambda: lt.encode(DET, X[:, :3]), "X"),
    ("encode: unfitted", lambda: lt.encode(VAEAnomalyDetector(), X), "VAEAnomalyDetector"),
    ("encode: model an array", lambda: lt.encode(X, X), "model"),
    ("encode: model None", lambda: lt.encode(None, X), "model"),
    ("encode: model an Autoencoder", lambda: lt.encode(AE, X), "model"),
    ("encode: columns of another market", lambda: lt.encode(FAC_DF, RET.rename(columns={"S0": "Q"})), "X"),
    *array_probes("residual_std", lambda v: lt.residual_std(DET, v), "X", X),
    ("residual_std: one row", lambda: lt.residual_std(DET, X[:1]), "X"),
    ("residual_std: wrong width", lambda: lt.residual_std(DET, X[:, :2]), "X"),
    ("residual_std: unfitted", lambda: lt.residual_std(VAEFactorModel(), X), "VAEFactorModel"),
    *array_probes("decode", lambda v: lt.decode(DET, v), "Z", X[:, :2]),
    ("decode: wrong width", lambda: lt.decode(DET, X), "Z"),
    ("decode: unfitted", lambda: lt.decode(VAEAnomalyDetector(), X[:, :2]), "VAEAnomalyDetector"),
    ("decode: model a string", lambda: lt.decode("vae", X[:, :2]), "model"),
    ("decode: residual_std wrong length", lambda: lt.decode(DET, X[:, :2], residual_std=np.ones(3)), "residual_std"),
    ("decode: residual_std negative", lambda: lt.decode(DET, X[:, :2], residual_std=-0.1), "residual_std"),
    ("decode: residual_std NaN", lambda: lt.decode(DET, X[:, :2], residual_std=math.nan), "residual_std"),
    ("decode: residual_std inf", lambda: lt.decode(DET, X[:, :2], residual_std=np.full(5, np.inf)), "residual_std"),
    ("decode: residual_std text", lambda: lt.decode(DET, X[:, :2], residual_std="0.1"), "residual_std"),
    ("decode: residual_std 2-D", lambda: lt.decode(DET, X[:, :2], residual_std=np.ones((2, 5))), "residual_std"),
    ("decode: residual_std complex", lambda: lt.decode(DET, X[:, :2], residual_std=0.1 + 1j), "residual_std"),
    ("decode: residual_std a dict", lambda: lt.decode(DET, X[:, :2], residual_std={"a": 1}), "residual_std"),
    *int_probes("decode", lambda s: lt.decode(DET, X[:, :2], residual_std=0.1, seed=s), "seed", (-1, 0.5, "0", None)),
    *int_probes("vae_scenarios", lambda n: lt.vae_scenarios(DET, n), "n", (0, -1, 2.5, True, "3", None)),
    *int_probes("vae_scenarios", lambda s: lt.vae_scenarios(DET, 3, seed=s), "seed", (-1, 0.5, "0", None)),
    ("vae_scenarios: unfitted", lambda: lt.vae_scenarios(VAEFactorModel(), 3), "VAEFactorModel"),
    ("vae_scenarios: residual_std wrong length", lambda: lt.vae_scenarios(DET, 3, residual_std=np.ones(2)), "residual_std"),
    *array_probes("interpolate_latent", lambda v: lt.interpolate_latent(v, np.zeros(2)), "z_start", np.ones(2), ndim=1),
    *array_probes("interpolate_latent", lambda v: lt.interpolate_latent(np.zeros(2), v), "z_end", np.ones(2), ndim=1),
    ("interpolate_latent: lengths differ", lambda: lt.interpolate_latent(np.zeros(2), np.zeros(3)), "z_end"),
    *int_probes(
        "interpolate_latent",
        lambda n: lt.interpolate_latent(np.zeros(2), np.ones(2), n),
        "n_steps",
        (1, 0, -1, 2.5, True, "5", None),
    ),
    *array_probes("sample_near_encoding", lambda v: lt.sample_near_encoding(v, MU_LV[1]), "mu", MU_LV[0]),
    *array_probes("sample_near_encoding", lambda v: lt.sample_near_encoding(MU_LV[0], v), "logvar", MU_LV[1]),
    ("sample_near_encoding: shapes differ", lambda: lt.sample_near_encoding(MU_LV[0], MU_LV[1][:3]), "logvar"),
    (
        "sample_near_encoding: frames on other rows",
        lambda: lt.sample_near_encoding(pd.DataFrame(MU_LV[0]), pd.DataFrame(MU_LV[1], index=range(10, 16))),
        "logvar",
    ),
    ("sample_near_encoding: logvar huge", lambda: lt.sample_near_encoding(MU_LV[0], MU_LV[1] + 2000), "logvar"),
    *int_probes("sample_near_encoding", lambda n: lt.sample_near_encoding(*MU_LV, n), "n_per_row", (0, -1, 2.5, True, "3", None)),
    *real_probes(
        "sample_near_encoding",
        lambda s: lt.sample_near_encoding(*MU_LV, noise_scale=s),
        "noise_scale",
        (math.nan, math.inf, -0.5, "0.5", None),
    ),
    *int_probes("sample_near_encoding", lambda s: lt.sample_near_encoding(*MU_LV, seed=s), "seed", (-1, 0.5, "0", None)),
    *array_probes("augment_near_encodings", lambda v: lt.augment_near_encodings(DET, v, 2), "X", X[:6]),
    ("augment_near_encodings: wrong width", lambda: lt.augment_near_encodings(DET, X[:6, :3], 2), "X"),
    ("augment_near_encodings: unfitted", lambda: lt.augment_near_encodings(VAEAnomalyDetector(), X[:6], 2), "VAEAnomalyDetector"),
    *int_probes("augment_near_encodings", lambda n: lt.augment_near_encodings(DET, X[:6], n), "n_per_row", (0, 2.5, True, "3")),
    *real_probes("augment_near_encodings", lambda s: lt.augment_near_encodings(DET, X[:6], 2, noise_scale=s), "noise_scale"),
    (
        "augment_near_encodings: residual_std wrong length",
        lambda: lt.augment_near_encodings(DET, X[:6], 2, residual_std=np.ones(3)),
        "residual_std",
    ),
    *int_probes(
        "augment_near_encodings", lambda s: lt.augment_near_encodings(DET, X[:6], 2, seed=s), "seed", (-1, 0.5, "0", None)
    ),
    *array_probes("jitter_augment", lambda v: lt.jitter_augment(v, 2), "X", X),
    *int_probes("jitter_augment", lambda n: lt.jitter_augment(X, n), "n_per_row", (0, -1, 2.5, True, "3", None)),
    *real_probes(
        "jitter_augment", lambda s: lt.jitter_augment(X, 2, noise_scale=s), "noise_scale", (math.nan, math.inf, -0.5, "0.5", None)
    ),
    *int_probes("jitter_augment", lambda s: lt.jitter_augment(X, 2, seed=s), "seed", (-1, 0.5, "0", None)),
]
PROBES += ANOMALY_PROBES

#: Inputs of anomalies.py and latent.py accepted on purpose (appended to ACCEPTED below).
ANOMALY_ACCEPTED: list[tuple[str, Callable[[], object], str]] = [
    (
        "ewma_scale with a plain array",
        lambda: an.ewma_scale(X, warmup=5),
        "arrays carry no dates: their rows are taken as in time order (the notebooks stack train, val and test arrays)",
    ),
    (
        "inject_anomalies with groups as a Series in another order",
        lambda: _inject(X=RET, groups=pd.Series(GROUPS, index=RET.columns)[::-1]),
        "a Series of sectors is matched to X's columns by ticker, so the order does not matter",
    ),
    (
        "inject_anomalies with sector labels that are not strings",
        lambda: _inject(groups=[0, 0, 1, 1, 2]),
        "any hashable labels name sectors (integers from a clustering, for example)",
    ),
    (
        "detection_table with kinds outside ANOMALY_KINDS",
        lambda: an.detection_table({"m": AN_SCORES}, np.where(AN_KIND == "jump", "crash", AN_KIND)),
        "documented: other kinds are listed after the known ones (a learner's own injected anomalies)",
    ),
    (
        "conformal_threshold with too few scores for the rate",
        lambda: an.conformal_threshold(AN_SCORES[:5], 0.1),
        "documented defined result: inf (no finite threshold guarantees the rate with 5 rows), never NaN",
    ),
    (
        "scores and labels as Series on the same dates in another order",
        lambda: an.precision_at_k(_RET_SER, pd.Series(AN_LABELS, index=DATES)[::-1], 3),
        "pandas Series are paired by index label; plain arrays by position",
    ),
    (
        "detector scoring a DataFrame with its columns reordered",
        lambda: MAH_DF.score_samples(RET[RET.columns[::-1]]),
        "columns are matched by name to the training frame, so the order does not matter",
    ),
    (
        "detector fitted on a DataFrame, scoring a plain array",
        lambda: MAH_DF.score_samples(X),
        "arrays carry no labels: columns are taken by position, as in scikit-learn",
    ),
    (
        "residual_std=0 and noise_scale=0",
        lambda: lt.augment_near_encodings(DET, X[:6], 2, noise_scale=0.0, residual_std=0.0),
        "zero noise is a defined limit: the decoded encodings themselves",
    ),
]

#: Inputs accepted on purpose: (label, call, reason). They must keep working.
ACCEPTED: list[tuple[str, Callable[[], object], str]] = [
    (
        "vae_loss with NaN tensors",
        lambda: vae_loss(MU * np.nan, MU, MU, MU, 1.0),
        "runs on every batch; scanning tensors would add a device sync, and fit stops with a clear message on a non-finite loss",
    ),
    (
        "fit with BatchNorm and a last batch of one row",
        lambda: _fit(model=VAE(5, 2, (4,), batch_norm=True), X=X[:33], batch_size=32),
        "the one-row last batch is skipped (BatchNorm cannot normalise it); every other row trains",
    ),
    (
        "plain arrays paired by position",
        lambda: factor_recovery_r2(X, X[::-1]),
        "arrays carry no labels; only pandas objects are paired by label",
    ),
    (
        "DataFrame columns reordered in variance_explained",
        lambda: variance_explained(RET, RET[RET.columns[::-1]]),
        "the columns are matched by name, so the order does not matter",
    ),
    (
        "factor_recovery_r2 with a reversed index",
        lambda: factor_recovery_r2(RET, RET.iloc[::-1]),
        "rows are matched by date, so the answer is the right one (R^2 = 1)",
    ),
    (
        "integer-valued numpy arrays",
        lambda: AutoencoderEmbedder(2, (4,), epochs=1).fit(np.arange(40 * 5).reshape(40, 5) % 7),
        "integers are numbers; they are converted to float",
    ),
    (
        "VAEFactorModel.fit with random_state=None",
        lambda: VAEFactorModel(2, (4,), epochs=1, random_state=None).fit(X),
        "scikit-learn's convention: the seed comes from NumPy's global generator (so set_seed makes it repeatable)",
    ),
]
ACCEPTED += [
    (
        "compare_factor_models with X_test columns in another order",
        lambda: fac.compare_factor_models({"e": FAC_DF}, RET, RET[RET.columns[::-1]], refit=False),
        "DataFrame columns are matched by name, so the order does not matter",
    ),
    (
        "rank_normalize with NaN",
        lambda: chars.rank_normalize(np.where(PANEL_Z > 1.5, np.nan, PANEL_Z)),
        "documented: missing characteristics (the first year of price characteristics) stay NaN and are ranked around",
    ),
    (
        "annualised_stats of a strategy that never trades",
        lambda: prs.annualised_stats(np.zeros(10)),
        "documented defined result: zero spread gives a Sharpe ratio of 0 (the random-pairs baseline can be flat)",
    ),
    (
        "paired_table with one split",
        lambda: rs.paired_table({"a": [1.0], "b": [2.0]}, "a"),
        "documented: std and diff_std are NaN with one split (no spread to measure); the means are still right",
    ),
    (
        "paired_difference with Series in another order",
        lambda: rs.paired_difference(pd.Series([1.0, 2, 3]), pd.Series([1.0, 2, 4], index=[2, 1, 0])),
        "pandas Series are paired by index label; plain arrays by position",
    ),
    (
        "nonlinear_recovery_r2 with latents on a reversed index",
        lambda: fac.nonlinear_recovery_r2(RET, RET.iloc[::-1], RET, RET),
        "rows are matched by date",
    ),
    (
        "recommender functions with sparse count data",
        lambda: rec.predict_scores(REC, UI * 3),
        "implicit feedback may be counts (>= 0); sparse input is kept sparse and densified batch by batch",
    ),
]


@pytest.mark.parametrize("label, call, name", PROBES, ids=[p[0] for p in PROBES])
def test_bad_input_gets_a_clear_error(label, call, name):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert name in str(info.value), f"{label}: the message does not name {name!r}: {info.value}"


ACCEPTED += ANOMALY_ACCEPTED


@pytest.mark.parametrize("label, call, reason", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_inputs_accepted_on_purpose(label, call, reason):
    call()


def test_factor_recovery_uses_the_index_not_the_position():
    f = pd.DataFrame(X[:, :2], index=DATES)
    assert factor_recovery_r2(f, f.iloc[::-1]) == pytest.approx([1.0, 1.0])


def test_scale_splits_matches_columns_by_name():
    s = chronological_split(RET)
    shuffled = Splits(s.train, s.val[s.val.columns[::-1]], s.test[s.test.columns[::-1]])
    a, b = scale_splits(s), scale_splits(shuffled)
    pd.testing.assert_frame_equal(a.test, b.test)
    pd.testing.assert_frame_equal(a.val, b.val)


def test_type_errors_are_also_value_errors():
    assert issubclass(InputTypeError, TypeError) and issubclass(InputTypeError, ValueError)


def test_no_input_is_mutated():
    prices, x = PRICES.copy(), X.copy()
    log_returns(PRICES)
    variance_explained(X, X + 1)
    gaussian_scenarios(X, 3)
    FAC.transform(X)
    pd.testing.assert_frame_equal(prices, PRICES)
    assert np.array_equal(x, X)


def test_probe_count():
    """The table stays large: every public function of the core modules, several bad inputs each."""
    print(f"{len(PROBES)} probes raise a clear error; {len(ACCEPTED)} inputs accepted on purpose")
    assert len(PROBES) >= 300


def test_chapter_modules_do_not_mutate_inputs():
    ret, z, ui, panel = CRET.copy(), ZS.copy(), UI.copy(), PANEL_Z.copy()
    pf.stock_profiles(CRET)
    pf.portfolio_volatility(CRET, PICKS)
    pf.nearest_neighbour_pairs(ZS, NAMES)
    rec.predict_scores(REC, UI)
    rs.evaluate_ranking(np.ones((30, 12)), UI, HO, (("ndcg", 5),))
    cond.lag_characteristics(PANEL_Z, PANEL_R)
    chars.rank_normalize(PANEL_Z)
    pd.testing.assert_frame_equal(ret, CRET)
    assert np.array_equal(z, ZS) and np.array_equal(panel, PANEL_Z) and (ui != UI).nnz == 0


def test_duplicate_picks_are_refused_not_reweighted():
    """Duplicate picks used to get weight 1/size once (weights summing to < 1), a plausible wrong volatility."""
    with pytest.raises(ValueError, match="duplicate"):
        pf.portfolio_volatility(CRET, np.array([[0, 0, 1]]))


def test_reordered_columns_give_the_same_anomaly_scores():
    """A detector fitted on a DataFrame matches columns by name (they used to be taken by position)."""
    a = MAH_DF.score_samples(RET)
    b = MAH_DF.score_samples(RET[RET.columns[::-1]])
    assert np.array_equal(a, b)


def test_anomaly_functions_do_not_mutate_inputs():
    x, ret, s = X.copy(), RET.copy(), AN_SCORES.copy()
    _inject()
    an.ewma_scale(RET, warmup=5)
    an.precision_at_k(AN_SCORES, AN_LABELS, 3)
    lt.jitter_augment(X, 2)
    lt.sample_near_encoding(*MU_LV)
    assert np.array_equal(x, X) and np.array_equal(s, AN_SCORES)
    pd.testing.assert_frame_equal(ret, RET)


def test_anomaly_probe_count():
    print(f"{len(ANOMALY_PROBES)} anomalies/latent probes; {len(ANOMALY_ACCEPTED)} accepted on purpose")
    assert len(ANOMALY_PROBES) >= 500


def test_chapter_probe_count():
    print(f"{len(CHAPTER_PROBES)} chapter-module probes")
    assert len(CHAPTER_PROBES) >= 900
