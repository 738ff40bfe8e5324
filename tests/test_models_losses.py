import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_lib.losses import (
    as_schedule,
    cyclical_anneal,
    gaussian_nll,
    kl_normal,
    linear_anneal,
    vae_loss,
)
from course_lib.models import VAE, Autoencoder, mlp


def test_kl_normal_matches_torch_distributions():
    mu, logvar = torch.randn(7, 4), torch.randn(7, 4)
    ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    out = kl_normal(mu, logvar)
    assert out.shape == (7,)
    assert torch.allclose(out, ref, atol=1e-5)
    assert torch.allclose(kl_normal(torch.zeros(3, 2), torch.zeros(3, 2)), torch.zeros(3))


def test_kl_normal_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        kl_normal(torch.zeros(3, 2), torch.zeros(3, 3))


def test_vae_loss_is_recon_plus_beta_kl():
    x, recon = torch.randn(5, 3), torch.randn(5, 3)
    mu, logvar = torch.randn(5, 2), torch.randn(5, 2)
    total, rec, kl = vae_loss(recon, x, mu, logvar, beta=0.3)
    assert torch.isclose(rec, (0.5 * (recon - x) ** 2).sum(1).mean())
    assert torch.isclose(kl, kl_normal(mu, logvar).mean())
    assert torch.isclose(total, rec + 0.3 * kl)
    with pytest.raises(ValueError, match="beta"):
        vae_loss(recon, x, mu, logvar, beta=-1)
    with pytest.raises(ValueError, match="shape"):
        gaussian_nll(recon[:, :2], x)


def test_reparameterize_has_the_right_mean_and_variance_and_gradients():
    torch.manual_seed(0)
    mu = torch.tensor([[1.0, -2.0]]).repeat(50000, 1).requires_grad_(True)
    logvar = torch.log(torch.tensor([[0.25, 4.0]])).repeat(50000, 1).requires_grad_(True)
    z = VAE.reparameterize(mu, logvar)
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.03)
    assert torch.allclose(z.std(0), torch.tensor([0.5, 2.0]), rtol=0.02)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))
    assert logvar.grad.abs().sum() > 0


def test_vae_shapes_train_and_eval_modes():
    m = VAE(10, 3, (16, 8))
    x = torch.randn(4, 10)
    recon, mu, logvar = m(x)
    assert recon.shape == (4, 10) and mu.shape == logvar.shape == (4, 3)
    m.eval()
    r1, mu1, _ = m(x)
    assert torch.allclose(r1, m.decode(mu1)), "evaluation mode decodes z = mu"
    s = m.sample(6, generator=torch.Generator().manual_seed(0))
    assert s.shape == (6, 10)
    assert torch.allclose(s, m.sample(6, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError):
        m.sample(0)


def test_gradients_flow_through_every_vae_parameter():
    m = VAE(6, 2, (5,), batch_norm=True)
    x = torch.randn(8, 6)
    total, _, _ = vae_loss(*m(x)[:1], x, *m(x)[1:], beta=1.0)
    total.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


def test_autoencoder_without_activation_is_linear():
    m = Autoencoder(5, 2, (4,), activation=None)
    a, b = torch.randn(3, 5), torch.randn(3, 5)
    # affine maps satisfy f(a) + f(b) - f(0) = f(a + b)
    assert torch.allclose(m(a) + m(b) - m(torch.zeros(3, 5)), m(a + b), atol=1e-5)
    nl = Autoencoder(5, 2, (4,), activation="relu")
    assert not any(isinstance(layer, torch.nn.ReLU) for layer in m.modules())
    assert any(isinstance(layer, torch.nn.ReLU) for layer in nl.modules())
    assert m.encode(a).shape == (3, 2)


def test_mlp_validates_its_arguments():
    with pytest.raises(ValueError, match="activation"):
        mlp([3, 2], "swish")
    with pytest.raises(ValueError, match="sizes"):
        mlp([3])
    with pytest.raises(ValueError, match="dropout"):
        mlp([3, 2], dropout=1.0)
    layers = mlp([4, 3, 2], "tanh", batch_norm=True, dropout=0.1)
    kinds = [type(x).__name__ for x in layers]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]


def test_annealing_schedules():
    s = linear_anneal(0.1, 50)
    assert s(0) == 0 and np.isclose(s(25), 0.05) and s(50) == s(80) == pytest.approx(0.1)
    assert linear_anneal(1.0, 0)(0) == 1.0
    c = cyclical_anneal(1.0, 10, 0.5)
    assert c(0) == 0 and c(5) == 1.0 and c(9) == 1.0 and c(10) == 0 and np.isclose(c(12), 0.4)
    assert as_schedule(0.3)(99) == 0.3 and as_schedule(s) is s
    with pytest.raises(ValueError):
        as_schedule(-0.1)
    with pytest.raises(ValueError):
        linear_anneal(-1, 3)
