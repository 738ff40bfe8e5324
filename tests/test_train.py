import numpy as np
import pytest
import scipy.sparse as sp
import torch

from course_lib.losses import linear_anneal
from course_lib.models import VAE, Autoencoder
from course_lib.train import History, TrainingDivergedError, evaluate, fit


def _data(n=256, d=8, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 2))
    return (Z @ rng.normal(size=(2, d)) + 0.1 * rng.normal(size=(n, d))).astype(np.float32)


def test_fit_lowers_the_loss_and_records_history():
    X = _data()
    m = Autoencoder(8, 2, (16,))
    h = fit(m, X[:200], X[200:], epochs=30, batch_size=32, lr=3e-3, progress=False, seed=0)
    assert isinstance(h, History) and len(h) == 30
    assert h.train_loss[-1] < 0.3 * h.train_loss[0]
    assert len(h.val_loss) == 30 and h.val_loss[-1] < h.val_loss[0]
    assert all(k == 0 for k in h.train_kl)
    df = h.to_frame()
    assert {"train_loss", "val_loss", "beta", "lr"} <= set(df.columns)
    assert not m.training, "fit leaves the model in evaluation mode"


def test_vae_history_keeps_recon_and_kl_apart_and_follows_the_schedule():
    X = _data()
    h = fit(VAE(8, 2, (16,)), X, epochs=10, beta=linear_anneal(1.0, 5), val_fraction=0.2, progress=False, seed=0)
    assert h.beta[:6] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert np.allclose(np.array(h.train_loss), np.array(h.train_recon) + np.array(h.beta) * np.array(h.train_kl), rtol=1e-4)
    assert min(h.train_kl) > 0
    assert len(h.val_recon) == 10


def test_cosine_lr_and_grad_clip():
    X = _data()
    h = fit(Autoencoder(8, 2, (8,)), X, epochs=5, lr=1e-2, cosine_lr=True, grad_clip=0.5, progress=False)
    assert h.lr[0] == pytest.approx(1e-2) and h.lr[-1] < h.lr[1] < h.lr[0]


def test_early_stopping_restores_the_best_weights():
    X = _data(120)
    m = Autoencoder(8, 2, (64, 64))
    h = fit(m, X[:40], X[40:], epochs=300, lr=1e-2, patience=5, progress=False, seed=0)
    assert h.stopped_early and len(h) < 300
    val_now = evaluate(m, X[40:])[0]
    assert val_now == pytest.approx(min(h.val_loss), rel=1e-4)


def test_sparse_input_is_densified_per_batch():
    X = sp.random(100, 30, density=0.1, format="csr", random_state=0, dtype=np.float32)
    h = fit(Autoencoder(30, 3, (8,)), X, X[:20], epochs=3, batch_size=16, progress=False)
    assert len(h.val_loss) == 3 and np.isfinite(h.train_loss).all()


def test_divergence_raises_with_the_likely_fix():
    X = _data() * 1e6
    with pytest.raises(TrainingDivergedError, match="lower the learning rate"):
        fit(VAE(8, 2, (16,)), X, epochs=20, lr=10.0, progress=False)


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (np.full((10, 8), np.nan, dtype=np.float32), {}, "NaN"),
        (np.zeros((10,), dtype=np.float32), {}, "2-D"),
        (np.zeros((0, 8), dtype=np.float32), {}, "at least"),
        (np.zeros((10, 5), dtype=np.float32), {}, "expects 8 features"),
        (np.zeros((10, 8), dtype=np.float32), {"epochs": 0}, "epochs"),
        (np.zeros((10, 8), dtype=np.float32), {"lr": 0}, "lr"),
        (np.zeros((10, 8), dtype=np.float32), {"patience": 0}, "patience"),
        (np.zeros((2, 8), dtype=np.float32), {"val_fraction": 0.5}, "too few"),
        (np.zeros((10, 8), dtype=np.float32), {"val_fraction": -0.1}, "val_fraction"),
        (np.zeros((10, 8), dtype=np.float32), {"val_fraction": 1.0}, "val_fraction"),
    ],
)
def test_bad_input_raises_value_error(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(Autoencoder(8, 2), X, progress=False, **kwargs)


def test_runs_on_the_chosen_device():
    X = _data(64)
    m = Autoencoder(8, 2, (8,))
    fit(m, X, epochs=1, device="cpu", progress=False)
    assert next(m.parameters()).device == torch.device("cpu")


def test_callback_sees_every_epoch_and_can_stop_training():
    X = _data(64)
    seen = []

    def cb(epoch, model, history):
        seen.append((epoch, len(history)))
        return epoch == 3

    h = fit(Autoencoder(8, 2, (8,)), X, epochs=10, callback=cb, progress=False)
    assert seen == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert len(h) == 4 and h.stopped_early


def test_x_val_and_val_fraction_together_are_an_error():
    X = _data(40)
    with pytest.raises(ValueError, match="not both"):
        fit(Autoencoder(8, 2), X, X[:10], val_fraction=0.2, progress=False)


def test_without_patience_the_last_weights_are_kept():
    X = _data(120)
    m = Autoencoder(8, 2, (64, 64))
    h = fit(m, X[:40], X[40:], epochs=60, lr=1e-2, progress=False, seed=0)
    assert h.best_epoch is not None and not h.stopped_early
    assert evaluate(m, X[40:])[0] == pytest.approx(h.val_loss[-1], rel=1e-4)
