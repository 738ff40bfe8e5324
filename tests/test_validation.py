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
    # data ----------------------------------------------------------------------------------------------------------
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
    # metrics -------------------------------------------------------------------------------------------------------
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
    # losses and schedules ------------------------------------------------------------------------------------------
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
    # models ----------------------------------------------------------------------------------------------------------
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
    # train -----------------------------------------------------------------------------------------------------------
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
    # estimators --------------------------------------------------------------------------------------------------------
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
    # scenarios -----------------------------------------------------------------------------------------------------------
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
    # plots ---------------------------------------------------------------------------------------------------------------
    *array_probes("plot_latent_scatter", plot_latent_scatter, "Z", X),
    ("plot_latent_scatter: one column", lambda: plot_latent_scatter(X[:, :1]), "Z"),
    ("plot_latent_scatter: labels too short", lambda: plot_latent_scatter(X, labels=["a"] * 3), "labels"),
    ("plot_latent_scatter: annotate too long", lambda: plot_latent_scatter(X, annotate=["a"] * 41), "annotate"),
    ("plot_correlation_heatmap: a covariance", lambda: plot_correlation_heatmap(np.cov(X, rowvar=False) * 4), "corr"),
    ("plot_correlation_heatmap: not square", lambda: plot_correlation_heatmap(X), "corr"),
    ("plot_correlation_heatmap: NaN", lambda: plot_correlation_heatmap(np.full((3, 3), np.nan)), "corr"),
    ("plot_training_curves: a dict", lambda: plot_training_curves({"train_loss": [1.0]}), "history"),
    ("plot_training_curves: empty", lambda: plot_training_curves(History()), "history"),
    # runtime -------------------------------------------------------------------------------------------------------------
    *int_probes("set_seed", set_seed, "seed", (-1, 2.5, True, "0", None)),
    ("get_device: tpu", lambda: get_device("tpu"), "device"),
    ("get_device: an int", lambda: get_device(0), "prefer"),
    *int_probes("configure_threads", configure_threads, "threads", (0, -2, 1.5, True, "2")),
    *int_probes("isolated_rng", lambda s: isolated_rng(s).__enter__(), "seed", (-1, 0.5, "1")),
    ("align_columns: other labels", lambda: align_columns(RET.rename(columns={"S0": "Q"}), RET.columns, "test", "train"), "test"),
    ("align_index: other labels", lambda: align_index(RET, RET.shift(1, freq="D"), ("a", "b")), "a"),
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


@pytest.mark.parametrize("label, call, name", PROBES, ids=[p[0] for p in PROBES])
def test_bad_input_gets_a_clear_error(label, call, name):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert name in str(info.value), f"{label}: the message does not name {name!r}: {info.value}"


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
