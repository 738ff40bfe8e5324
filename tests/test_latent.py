"""Tests of course_lib.latent (and of course_lib.models.eval_mode, which it relies on)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.estimators import VAEAnomalyDetector, VAEFactorModel
from course_lib.latent import (
    augment_near_encodings,
    decode,
    encode,
    interpolate_latent,
    jitter_augment,
    residual_std,
    sample_near_encoding,
    vae_scenarios,
)
from course_lib.models import VAE, eval_mode


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    B = rng.normal(size=(12, 2))
    return rng.normal(size=(600, 2)) @ B.T + 0.3 * rng.normal(size=(600, 12))


@pytest.fixture(scope="module")
def small_vae(data):
    return VAEAnomalyDetector(
        latent_dim=2, hidden_dims=(16,), epochs=15, warmup_epochs=3, batch_size=64, lr=3e-3, random_state=0
    ).fit(data)


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
    X = data
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
    X = data
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


def test_eval_mode_restores_the_mode_even_on_error():
    m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    m.train()
    with eval_mode(m) as inner:
        assert inner is m and not m.training
    assert m.training
    m.eval()
    with pytest.raises(RuntimeError):
        with eval_mode(m):
            m.train()  # whatever happens inside, the previous mode (eval) comes back
            raise RuntimeError("boom")
    assert not m.training


def test_latent_functions_accept_a_fitted_estimator(data, small_vae):
    X = data
    mu_est, lv_est = encode(small_vae, X[:5])
    mu_raw, lv_raw = encode(small_vae.model_, X[:5])
    assert np.array_equal(mu_est, mu_raw) and np.array_equal(lv_est, lv_raw)
    assert np.array_equal(decode(small_vae, mu_est), decode(small_vae.model_, mu_est))
    assert np.array_equal(vae_scenarios(small_vae, 5, seed=1), vae_scenarios(small_vae.model_, 5, seed=1))
    assert np.array_equal(residual_std(small_vae, X), residual_std(small_vae.model_, X))
    assert augment_near_encodings(small_vae, X[:2], 3).shape == (6, 12)
    with pytest.raises(ValueError, match="not fitted"):
        encode(VAEFactorModel(), X)


def test_latent_functions_leave_the_global_random_state_alone(small_vae):
    np.random.seed(123)
    torch.manual_seed(123)
    np_state, torch_state = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    vae_scenarios(small_vae, 10, residual_std=0.5, seed=0)
    augment_near_encodings(small_vae, np.zeros((2, 12)), 3, residual_std=0.5, seed=0)
    jitter_augment(np.zeros((2, 12)), 3, seed=0)
    assert np.array_equal(np.random.get_state()[1], np_state) and torch.equal(torch.get_rng_state(), torch_state)
