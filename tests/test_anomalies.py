"""Tests of course_lib.anomalies and of the VAEAnomalyDetector it is used with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from course_lib.anomalies import (
    ANOMALY_KINDS,
    MahalanobisDetector,
    PCAReconstructionDetector,
    augment_near_encodings,
    decode,
    detection_table,
    encode,
    inject_anomalies,
    interpolate_latent,
    jitter_augment,
    precision_at_k,
    residual_std,
    sample_near_encoding,
    vae_scenarios,
)
from course_lib.estimators import VAEAnomalyDetector
from course_lib.models import VAE


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    B = rng.normal(size=(12, 2))
    X = rng.normal(size=(600, 2)) @ B.T + 0.3 * rng.normal(size=(600, 12))
    groups = np.repeat(["a", "b", "c", "d"], 3)
    return X, groups


@pytest.fixture(scope="module")
def small_vae(data):
    X, _ = data
    torch.manual_seed(0)
    return VAEAnomalyDetector(
        latent_dim=2, hidden_dims=(16,), epochs=15, warmup_epochs=3, batch_size=64, lr=3e-3, random_state=0
    ).fit(X)


# inject_anomalies ---------------------------------------------------------------
def test_inject_labels_and_changes_only_anomalous_rows(data):
    X, g = data
    inj = inject_anomalies(X, g, n_per_kind=10, seed=1)
    assert inj.X.shape == X.shape and inj.kind.shape == (len(X),)
    counts = pd.Series(inj.kind).value_counts()
    assert all(counts[k] == 10 for k in ANOMALY_KINDS) and counts["normal"] == len(X) - 40
    changed = ~np.isclose(inj.X, X).all(axis=1)
    assert np.array_equal(changed, inj.is_anomaly)
    assert len(inj.detail) == 40
    assert np.array_equal(inject_anomalies(X, g, n_per_kind=10, seed=1).X, inj.X)  # same seed, same result
    assert not np.array_equal(inject_anomalies(X, g, n_per_kind=10, seed=2).kind, inj.kind)


def test_inject_each_kind_does_what_it_says(data):
    X, g = data
    inj = inject_anomalies(X, g, n_per_kind=5, jump_size=7.0, sector_size=2.0, break_size=1.5, vol_multiplier=3.0, seed=0)
    diff = inj.X - X
    for r in np.flatnonzero(inj.kind == "jump"):
        nz = np.flatnonzero(~np.isclose(diff[r], 0))
        assert len(nz) == 1 and np.isclose(abs(diff[r, nz[0]]), 7.0)
    for r in np.flatnonzero(inj.kind == "sector"):
        nz = ~np.isclose(diff[r], 0)
        assert len(set(g[nz])) == 1 and nz.sum() == 3 and np.allclose(np.abs(diff[r, nz]), 2.0)
        assert len(set(np.sign(diff[r, nz]))) == 1
    for r in np.flatnonzero(inj.kind == "correlation_break"):
        assert np.allclose(np.abs(diff[r]), 1.5) and (diff[r] > 0).sum() == 6  # half of 4 sectors x 3 stocks up
        for s in set(g):
            assert len(set(np.sign(diff[r, g == s]))) == 1  # whole sectors move together
    for r in np.flatnonzero(inj.kind == "vol_burst"):
        assert np.allclose(inj.X[r], 3.0 * X[r])


def test_inject_subset_of_kinds(data):
    X, g = data
    inj = inject_anomalies(X, g, kinds=["jump"], n_per_kind=3)
    assert set(inj.kind) == {"normal", "jump"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kinds=["spike"]), "subset"),
        (dict(kinds=[]), "subset"),
        (dict(kinds=["jump", "jump"]), "twice"),
        (dict(n_per_kind=0), "n_per_kind"),
        (dict(n_per_kind=200), "lower n_per_kind"),
        (dict(jump_size=-1.0), "jump_size"),
        (dict(vol_multiplier=0.5), "exceed 1"),
    ],
)
def test_inject_bad_settings(data, kwargs, match):
    X, g = data
    with pytest.raises(ValueError, match=match):
        inject_anomalies(X, g, **kwargs)


def test_inject_bad_inputs(data):
    X, g = data
    with pytest.raises(ValueError, match="one sector label per column"):
        inject_anomalies(X, g[:-1])
    with pytest.raises(ValueError, match="2 distinct sectors"):
        inject_anomalies(X, np.zeros(X.shape[1]))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        inject_anomalies(bad, g)
    with pytest.raises(ValueError, match="2-D"):
        inject_anomalies(X[0], g)


# precision_at_k and detection_table ----------------------------------------------
def test_precision_at_k_values():
    s = np.array([0.9, 0.1, 0.8, 0.3, 0.7])
    y = np.array([1, 1, 0, 0, 1])
    assert precision_at_k(s, y, 1) == 1.0
    assert precision_at_k(s, y, 2) == 0.5
    assert precision_at_k(s, y, 3) == pytest.approx(2 / 3)
    assert precision_at_k(s, y, 5) == pytest.approx(0.6)
    assert precision_at_k(s, y.astype(bool), 3) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "scores, labels, k, match",
    [
        ([0.1, 0.2], [1, 0], 0, "between 1 and n"),
        ([0.1, 0.2], [1, 0], 3, "between 1 and n"),
        ([0.1, np.nan], [1, 0], 1, "NaN"),
        ([0.1, 0.2], [1, 0, 1], 1, "same length"),
        ([0.1, 0.2], [1, 2], 1, "binary"),
        ([], [], 1, "empty"),
    ],
)
def test_precision_at_k_bad_input(scores, labels, k, match):
    with pytest.raises(ValueError, match=match):
        precision_at_k(scores, labels, k)


def test_detection_table_perfect_random_and_inverted():
    rng = np.random.default_rng(0)
    kind = np.array(["normal"] * 80 + ["jump"] * 10 + ["vol_burst"] * 10, dtype=object)
    is_anom = kind != "normal"
    perfect = is_anom + 0.01 * rng.random(100)
    tab = detection_table({"perfect": perfect, "inverted": -perfect, "noise": rng.random(100)}, kind)
    assert list(tab.index.get_level_values("kind").unique()) == ["jump", "vol_burst", "all"]
    assert tab.loc[("all", "perfect"), "roc_auc"] == 1.0 and tab.loc[("jump", "perfect"), "precision_at_k"] == 1.0
    assert tab.loc[("all", "perfect"), "pr_auc"] == pytest.approx(1.0)
    assert tab.loc[("all", "inverted"), "roc_auc"] == 0.0 and tab.loc[("all", "inverted"), "precision_at_k"] == 0.0
    assert tab.loc[("jump", "noise"), "n_anomalies"] == 10 and tab.loc[("jump", "noise"), "base_rate"] == pytest.approx(10 / 90)
    assert tab.loc[("all", "noise"), "n_anomalies"] == 20


def test_detection_table_per_kind_uses_only_that_kind():
    kind = np.array(["normal"] * 6 + ["jump"] * 2 + ["sector"] * 2, dtype=object)
    s = np.array([0, 0, 0, 0, 0, 0, 5, 5, -1, -1], dtype=float)  # finds jumps, misses sector shocks
    tab = detection_table({"m": s}, kind)
    assert tab.loc[("jump", "m"), "roc_auc"] == 1.0
    assert tab.loc[("sector", "m"), "roc_auc"] == 0.0
    assert "all" in tab.index.get_level_values("kind")
    assert "all" not in detection_table({"m": s}, kind, include_all=False).index.get_level_values("kind")


def test_detection_table_bad_input():
    kind = np.array(["normal", "jump", "normal"], dtype=object)
    with pytest.raises(ValueError, match="empty"):
        detection_table({}, kind)
    with pytest.raises(ValueError, match="both normal rows and anomalies"):
        detection_table({"m": [1, 2, 3]}, np.array(["normal"] * 3, dtype=object))
    with pytest.raises(ValueError, match="same length"):
        detection_table({"m": [1, 2]}, kind)
    with pytest.raises(ValueError, match="NaN"):
        detection_table({"m": [1, np.nan, 2]}, kind)


# baseline detectors -------------------------------------------------------------
@pytest.mark.parametrize("Det", [MahalanobisDetector, PCAReconstructionDetector])
def test_baselines_sklearn_contract(data, Det):
    X, g = data
    kw = {"n_components": 2} if Det is PCAReconstructionDetector else {}
    det = Det(contamination=0.1, **kw).fit(X)
    clone(det)
    s = det.score_samples(X)
    assert s.shape == (len(X),)
    pred = det.predict(X)
    assert set(np.unique(pred)) <= {-1, 1}
    assert abs((pred == -1).mean() - 0.1) < 0.02  # the threshold is the training quantile
    assert np.allclose(det.decision_function(X), s - det.offset_)
    inj = inject_anomalies(X[:200], g, kinds=["jump"], jump_size=8.0, n_per_kind=10, seed=0)
    auc = detection_table({"d": det.anomaly_score(inj.X)}, inj.kind).loc[("jump", "d"), "roc_auc"]
    assert auc > 0.95  # an 8-sd jump off the factor structure is easy for both
    with pytest.raises(ValueError, match="features"):
        det.score_samples(X[:, :5])
    with pytest.raises(ValueError, match="contamination"):
        Det(contamination=0.7, **kw).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        det.score_samples(np.full((2, X.shape[1]), np.nan))


def test_mahalanobis_matches_formula(data):
    X, _ = data
    det = MahalanobisDetector().fit(X)
    D = X[:5] - det.location_
    assert np.allclose(det.anomaly_score(X[:5]), np.diag(D @ det.precision_ @ D.T))
    assert 0 <= det.shrinkage_ <= 1


def test_pca_detector_zero_error_in_subspace_and_bad_components(data):
    X, _ = data
    det = PCAReconstructionDetector(n_components=2).fit(X)
    inside = det.pca_.inverse_transform(np.array([[1.0, -2.0]]))
    assert det.anomaly_score(inside)[0] == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="n_components"):
        PCAReconstructionDetector(n_components=12).fit(X)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MahalanobisDetector().score_samples(np.zeros((2, 3)))


# VAEAnomalyDetector -------------------------------------------------------------
def test_vae_detector_parts_threshold_and_jumps(data, small_vae):
    X, g = data
    vae = small_vae
    p = vae.score_parts(X[:50])
    assert set(p) == {"recon", "kl"} and p["recon"].shape == (50,)
    assert (p["recon"] >= 0).all() and (p["kl"] >= 0).all()
    assert np.allclose(vae.anomaly_score(X[:50]), p["recon"] + 0.1 * p["kl"], rtol=1e-5)
    assert abs((vae.predict(X) == -1).mean() - 0.05) < 0.02
    inj = inject_anomalies(X[:200], g, kinds=["jump"], jump_size=8.0, n_per_kind=10, seed=0)
    assert detection_table({"v": vae.anomaly_score(inj.X)}, inj.kind).loc[("jump", "v"), "roc_auc"] > 0.9


def test_vae_detector_bad_contamination(data):
    X, _ = data
    with pytest.raises(ValueError, match="contamination"):
        VAEAnomalyDetector(contamination=0.0, epochs=1).fit(X)


# latent helpers ----------------------------------------------------------------
def test_interpolate_latent():
    path = interpolate_latent([0.0, 0.0], [1.0, -2.0], n_steps=5)
    assert path.shape == (5, 2)
    assert np.allclose(path[0], [0, 0]) and np.allclose(path[-1], [1, -2]) and np.allclose(path[2], [0.5, -1])
    with pytest.raises(ValueError, match="n_steps"):
        interpolate_latent([0.0], [1.0], n_steps=1)
    with pytest.raises(ValueError, match="same length"):
        interpolate_latent([0.0, 1.0], [1.0], n_steps=3)
    with pytest.raises(ValueError, match="NaN"):
        interpolate_latent([np.nan], [1.0])


def test_sample_near_encoding_moments_and_order():
    mu = np.array([[1.0, -2.0], [5.0, 0.0]])
    std = np.array([[1.0, 2.0], [0.5, 1.0]])
    Z = sample_near_encoding(mu, 2 * np.log(std), 20000, noise_scale=0.5, seed=0)
    assert Z.shape == (40000, 2)
    assert np.allclose(Z[:20000].mean(0), mu[0], atol=0.05) and np.allclose(Z[20000:].mean(0), mu[1], atol=0.05)
    assert np.allclose(Z[:20000].std(0), 0.5 * std[0], rtol=0.03)
    assert np.allclose(sample_near_encoding(mu, np.zeros_like(mu), 3, noise_scale=0.0), np.repeat(mu, 3, axis=0))
    with pytest.raises(ValueError, match="same shape"):
        sample_near_encoding(mu, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_per_row"):
        sample_near_encoding(mu, mu, 0)
    with pytest.raises(ValueError, match="noise_scale"):
        sample_near_encoding(mu, mu, 2, noise_scale=-1.0)


def test_encode_decode_residual_and_scenarios(data, small_vae):
    X, _ = data
    model = small_vae.model_
    mu, lv = encode(model, X[:10])
    assert mu.shape == (10, 2) and lv.shape == (10, 2)
    rec = decode(model, mu)
    assert rec.shape == (10, 12)
    assert np.allclose(0.5 * ((X[:10] - rec) ** 2).sum(1), small_vae.score_parts(X[:10])["recon"], rtol=1e-4, atol=1e-4)
    r = residual_std(model, X)
    assert r.shape == (12,) and (r > 0).all()
    noisy = decode(model, np.zeros((4000, 2)), residual_std=r, seed=0)
    assert np.allclose(noisy.std(0), r, rtol=0.1)
    S = vae_scenarios(model, 300, seed=0)
    assert S.shape == (300, 12)
    assert np.array_equal(S, vae_scenarios(model, 300, seed=0))
    assert vae_scenarios(model, 300, residual_std=r, seed=0).std() > S.std()  # noise adds spread
    with pytest.raises(ValueError, match="latent_dim"):
        decode(model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="residual_std"):
        decode(model, np.zeros((2, 2)), residual_std=-np.ones(12))
    with pytest.raises(ValueError, match="features"):
        encode(model, X[:, :3])
    with pytest.raises(ValueError, match="VAE"):
        encode(object(), X)
    with pytest.raises(ValueError, match="positive integer"):
        vae_scenarios(model, 0)


def test_augment_near_encodings_and_jitter(data, small_vae):
    X, _ = data
    model = small_vae.model_
    A = augment_near_encodings(model, X[:4], 5, noise_scale=0.5, seed=0)
    assert A.shape == (20, 12)
    assert np.allclose(
        augment_near_encodings(model, X[:4], 5, noise_scale=0.0),
        np.repeat(decode(model, encode(model, X[:4])[0]), 5, axis=0),
        atol=1e-5,
    )
    An = augment_near_encodings(model, X[:4], 5, noise_scale=0.0, residual_std=1.0, seed=0)
    assert not np.allclose(An, np.repeat(decode(model, encode(model, X[:4])[0]), 5, axis=0))
    J = jitter_augment(X[:4], 3, noise_scale=0.0)
    assert np.allclose(J, np.repeat(X[:4], 3, axis=0))
    J = jitter_augment(np.zeros((1, 3)), 20000, noise_scale=0.5, seed=0)
    assert np.allclose(J.std(0), 0.5, rtol=0.03)
    with pytest.raises(ValueError, match="noise_scale"):
        jitter_augment(X, 2, noise_scale=np.nan)
    with pytest.raises(ValueError, match="n_per_row"):
        jitter_augment(X, 0)


def test_vae_model_training_mode_is_restored(small_vae):
    model = small_vae.model_
    model.train()
    encode(model, np.zeros((2, 12)))
    decode(model, np.zeros((2, 2)))
    assert model.training
    model.eval()


def test_helpers_accept_a_raw_vae():
    torch.manual_seed(0)
    model = VAE(6, 2, (8,))
    X = np.random.default_rng(0).normal(size=(20, 6))
    assert augment_near_encodings(model, X[:2], 3).shape == (6, 6)
