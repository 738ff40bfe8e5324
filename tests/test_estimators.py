import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course_lib.estimators import AutoencoderEmbedder, VAEAnomalyDetector, VAEFactorModel
from course_lib.metrics import factor_recovery_r2, variance_explained


@pytest.fixture(scope="module")
def X(market):
    return ((market.returns - market.returns.mean()) / market.returns.std()).to_numpy()


def test_embedder_round_trip_and_pipeline(X):
    emb = AutoencoderEmbedder(latent_dim=3, hidden_dims=(16,), epochs=40, lr=3e-3, random_state=0)
    Z = emb.fit(X).transform(X)
    assert Z.shape == (len(X), 3)
    X_hat = emb.inverse_transform(Z)
    assert X_hat.shape == X.shape
    assert variance_explained(X, X_hat) > 0.3
    pipe = make_pipeline(StandardScaler(), clone(emb))
    assert pipe.fit_transform(X).shape == (len(X), 3)
    assert emb.get_params()["latent_dim"] == 3
    assert emb.set_params(latent_dim=4).latent_dim == 4


def test_embedder_is_repeatable_for_a_random_state(X):
    a = AutoencoderEmbedder(2, (8,), epochs=5, random_state=1).fit(X).transform(X)
    b = AutoencoderEmbedder(2, (8,), epochs=5, random_state=1).fit(X).transform(X)
    c = AutoencoderEmbedder(2, (8,), epochs=5, random_state=2).fit(X).transform(X)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_linear_autoencoder_matches_pca(X):
    lin = AutoencoderEmbedder(3, (), activation=None, epochs=150, lr=1e-2, batch_size=64, random_state=0).fit(X)
    pca = PCA(3).fit(X)
    ev_lin = variance_explained(X, lin.inverse_transform(lin.transform(X)))
    ev_pca = variance_explained(X, pca.inverse_transform(pca.transform(X)))
    assert ev_lin == pytest.approx(ev_pca, abs=0.02)


def test_vae_factor_model_recovers_factors(market, X):
    vae = VAEFactorModel(n_components=3, hidden_dims=(32,), epochs=60, warmup_epochs=20, random_state=0).fit(X)
    Z = vae.transform(X)
    assert Z.shape == (len(X), 3)
    r2 = factor_recovery_r2(market.factors, Z)
    assert r2[:2].min() > 0.8, "the two strongest factors are recovered (up to rotation)"
    mu, std = vae.posterior(X[:5])
    assert mu.shape == std.shape == (5, 3) and (std > 0).all()
    assert vae.inverse_transform(Z).shape == X.shape
    s = vae.sample(7, random_state=0)
    assert s.shape == (7, X.shape[1]) and np.allclose(s, vae.sample(7, random_state=0))
    assert vae.history_.beta[-1] == pytest.approx(0.1)
    assert clone(vae).get_params() == vae.get_params()


def test_anomaly_detector_flags_the_contamination_share_and_real_outliers(X):
    det = VAEAnomalyDetector(latent_dim=3, hidden_dims=(32,), epochs=40, contamination=0.1, random_state=0).fit(X)
    pred = det.predict(X)
    assert set(np.unique(pred)) == {-1, 1}
    assert np.mean(pred == -1) == pytest.approx(0.1, abs=0.01)
    rng = np.random.default_rng(0)
    outliers = X[:20] + rng.choice([-8.0, 8.0], size=(20, X.shape[1])) * (rng.random((20, X.shape[1])) < 0.2)
    assert (det.predict(outliers) == -1).mean() > 0.9
    parts = det.score_parts(X[:4])
    assert np.allclose(det.anomaly_score(X[:4]), parts["recon"] + 0.1 * parts["kl"], rtol=1e-5)
    assert np.allclose(det.score_samples(X[:4]), -det.anomaly_score(X[:4]))
    assert np.allclose(det.decision_function(X[:4]), det.score_samples(X[:4]) - det.offset_)
    with pytest.raises(ValueError, match="contamination"):
        VAEAnomalyDetector(contamination=0.7).fit(X)


@pytest.mark.parametrize("Est", [AutoencoderEmbedder, VAEFactorModel, VAEAnomalyDetector])
def test_estimators_give_clear_errors(Est, X):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Est().transform(X) if hasattr(Est, "transform") else Est().score_samples(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est(epochs=1).fit(bad)
    fitted = Est(epochs=1).fit(X)
    with pytest.raises(ValueError, match="features"):
        (fitted.transform if hasattr(fitted, "transform") else fitted.score_samples)(X[:, :5])


# scikit-learn's own estimator checks, on tiny settings so they stay fast -----------------------------
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from course_lib.estimators import EXPECTED_FAILED_CHECKS  # noqa: E402

_TINY = dict(hidden_dims=(4,), epochs=2, batch_size=16)


@parametrize_with_checks(
    [
        AutoencoderEmbedder(latent_dim=2, **_TINY),
        VAEFactorModel(n_components=2, warmup_epochs=1, **_TINY),
        VAEAnomalyDetector(latent_dim=2, warmup_epochs=1, **_TINY),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
