"""The Chapter 1 checkers pass right answers and catch typical wrong ones, each with its own hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, rand_score
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.checks import autoencoder_embeddings as checks_embeddings
from course_lib.checks import check_adjusted_rand, check_embed_in_order, check_encoder, check_train_step


# --- check_train_step -------------------------------------------------------
def step_right(model, opt, x):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    opt.step()
    return loss.item()


def step_no_zero_grad(model, opt, x):  # the tutorial's accumulation bug
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    opt.step()
    return loss.item()


def step_no_backward(model, opt, x):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    opt.step()
    return loss.item()


def step_no_step(model, opt, x):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    return loss.item()


def step_zero_grad_late(model, opt, x):
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss.item()


def step_tensor(model, opt, x):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    opt.step()
    return loss


def step_detached(model, opt, x):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x)
    loss.backward()
    opt.step()
    return loss.detach()


def step_sum(model, opt, x):
    opt.zero_grad()
    loss = ((model(x) - x) ** 2).sum()
    loss.backward()
    opt.step()
    return loss.item()


def step_stub(model, opt, x):
    raise NotImplementedError


def test_train_step_right_passes():
    check_train_step(step_right)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (step_no_zero_grad, "zero_grad\\(\\) at the start"),
        (step_no_backward, "loss.backward"),
        (step_no_step, "call optimizer.step"),
        (step_zero_grad_late, "order is zero_grad"),
        (step_tensor, "return loss.item\\(\\), a Python float, not a tensor"),
        (step_detached, "return loss.item\\(\\), a Python float, not a tensor"),
        (step_sum, "the loss is a sum"),
        (step_stub, "NotImplementedError"),
    ],
)
def test_train_step_wrong_caught(fn, hint):
    with pytest.raises(AssertionError, match=hint):
        check_train_step(fn)


def test_train_step_tensor_hint_does_not_talk_about_the_graph():
    with pytest.raises(AssertionError) as info:
        check_train_step(step_detached)
    assert "graph" not in str(info.value)


# --- check_encoder ----------------------------------------------------------
def enc_right(d, latent, hidden):
    sizes = [d, *hidden, latent]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def enc_linear(d, latent, hidden):  # the tutorial's encoder
    sizes = [d, *hidden, latent]
    return nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])


def enc_relu_last(d, latent, hidden):
    return nn.Sequential(enc_right(d, latent, hidden), nn.ReLU())


def enc_wrong_widths(d, latent, hidden):
    return enc_right(d, latent, (32, 16))


def enc_one_activation(d, latent, hidden):
    return nn.Sequential(nn.Linear(d, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.Linear(hidden[1], latent))


def enc_activation_class(d, latent, hidden):  # nn.ReLU without ()
    sizes = [d, *hidden, latent]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU)
    return nn.Sequential(*layers)


def enc_not_unpacked(d, latent, hidden):  # [input_dim, hidden_dims, latent_dim]
    sizes = [d, hidden, latent]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def enc_not_unpacked_list(d, latent, hidden):
    return enc_not_unpacked(d, latent, list(hidden))


def enc_other_type_error(d, latent, hidden):
    return nn.Sequential(nn.Linear(d, hidden[0]), nn.ReLU(inplace=1, bad=2))


def test_encoder_right_passes():
    check_encoder(enc_right)
    check_encoder(
        lambda d, l, h: nn.Sequential(nn.Linear(d, h[0]), nn.Tanh(), nn.Linear(h[0], h[1]), nn.ELU(), nn.Linear(h[1], l))
    )


@pytest.mark.parametrize(
    "fn, hint",
    [
        (enc_linear, "linear map"),
        (enc_relu_last, "the last layer is ReLU"),
        (enc_wrong_widths, "20 -> 16 -> 8 -> 3"),
        (enc_one_activation, "found 1 activation"),
        (enc_activation_class, "instantiate the activation: nn.ReLU\\(\\), not nn.ReLU"),
        (enc_not_unpacked, "unpack hidden_dims, sizes = \\[input_dim, \\*hidden_dims, latent_dim\\]"),
        (enc_not_unpacked_list, "unpack hidden_dims"),
        (enc_other_type_error, "raised TypeError.*unexpected keyword argument 'bad'"),
    ],
)
def test_encoder_wrong_caught(fn, hint):
    with pytest.raises(AssertionError, match=hint):
        check_encoder(fn)


# --- check_embed_in_order ---------------------------------------------------
def embed_right(encoder, X, batch_size):
    encoder.eval()
    loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=batch_size, shuffle=False)
    with torch.no_grad():
        codes = [encoder(xb) for (xb,) in loader]
    return torch.cat(codes).numpy()


def embed_last_batch(encoder, X, batch_size):  # the tutorial: only the last batch survives
    encoder.eval()
    loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=batch_size, shuffle=False)
    with torch.no_grad():
        for (xb,) in loader:
            codes = encoder(xb)
    return codes.numpy()


def embed_shuffled(encoder, X, batch_size):
    encoder.eval()
    torch.manual_seed(3)
    loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=batch_size, shuffle=True)
    with torch.no_grad():
        return torch.cat([encoder(xb) for (xb,) in loader]).numpy()


def embed_train_mode(encoder, X, batch_size):
    loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=batch_size, shuffle=False)
    with torch.no_grad():
        return torch.cat([encoder(xb) for (xb,) in loader]).numpy()


def embed_tensor(encoder, X, batch_size):
    encoder.eval()
    with torch.no_grad():
        return encoder(torch.from_numpy(X))


def embed_device(encoder, X, batch_size):  # what the exercise asks for: batches on the encoder's device
    encoder.eval()
    device = next(encoder.parameters()).device
    loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=batch_size, shuffle=False)
    with torch.no_grad():
        codes = [encoder(xb.to(device)) for (xb,) in loader]
    return torch.cat(codes).cpu().numpy()


def test_embed_right_passes():
    check_embed_in_order(embed_device)


@pytest.mark.skipif(checks_embeddings._accelerator() is not None, reason="on a GPU the device move is required")
def test_embed_without_device_move_passes_on_a_cpu_only_machine():
    check_embed_in_order(embed_right)  # nothing to detect when every tensor is on the CPU


@pytest.mark.skipif(checks_embeddings._accelerator() is None, reason="needs a GPU (CUDA or MPS)")
def test_embed_without_device_move_caught_on_a_gpu():
    with pytest.raises(AssertionError, match="move each batch to the encoder's device"):
        check_embed_in_order(embed_right)


@pytest.mark.skipif(checks_embeddings._accelerator() is None, reason="needs a GPU (CUDA or MPS)")
def test_embed_without_cpu_copy_caught_on_a_gpu():
    def no_cpu(encoder, X, batch_size):
        device = next(encoder.parameters()).device
        encoder.eval()
        with torch.no_grad():
            return encoder(torch.from_numpy(X).to(device)).numpy()

    with pytest.raises(AssertionError, match="cpu\\(\\).numpy"):
        check_embed_in_order(no_cpu)


def test_embed_device_hint_when_batches_stay_on_the_cpu(monkeypatch):
    # No GPU is needed to exercise the hint: parameters on the "meta" device reject CPU inputs the same way.
    monkeypatch.setattr(checks_embeddings, "_accelerator", lambda: torch.device("meta"))
    with pytest.raises(AssertionError, match="move each batch to the encoder's device"):
        check_embed_in_order(embed_right)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (embed_last_batch, "only one batch"),
        (embed_shuffled, "out of order"),
        (embed_train_mode, "encoder.eval"),
        (embed_tensor, "NumPy array"),
    ],
)
def test_embed_wrong_caught(fn, hint):
    with pytest.raises(AssertionError, match=hint):
        check_embed_in_order(fn)


# --- check_adjusted_rand ----------------------------------------------------
def ari_right(a, b):
    _, a = np.unique(np.asarray(a), return_inverse=True)
    _, b = np.unique(np.asarray(b), return_inverse=True)
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(v):
        return (v * (v - 1) / 2).sum()

    index, rows, cols = pairs(table), pairs(table.sum(1)), pairs(table.sum(0))
    expected = rows * cols / pairs(np.array([len(a)]))
    return (index - expected) / (0.5 * (rows + cols) - expected)


def _ari_formula(a, b, *, half=True, e_num=True, e_den=True):
    _, a = np.unique(np.asarray(a), return_inverse=True)
    _, b = np.unique(np.asarray(b), return_inverse=True)
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(v):
        return (v * (v - 1) / 2).sum()

    index, rows, cols = pairs(table), pairs(table.sum(1)), pairs(table.sum(0))
    expected = rows * cols / pairs(np.array([len(a)]))
    top = index - expected if e_num else index
    bottom = (0.5 if half else 1.0) * (rows + cols) - (expected if e_den else 0.0)
    return top / bottom


def ari_accuracy(a, b):
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def ari_unadjusted(a, b):
    return rand_score(a, b)


def ari_no_strings(a, b):
    a = np.asarray(a).astype(int)
    return adjusted_rand_score(a, b)


def test_adjusted_rand_right_passes():
    check_adjusted_rand(ari_right)
    check_adjusted_rand(_ari_formula)
    check_adjusted_rand(adjusted_rand_score)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (ari_accuracy, "renaming the clusters"),
        (ari_unadjusted, "unadjusted Rand index"),
        (ari_no_strings, "sector names"),
        (lambda a, b: 0.5, "identical clusterings must score 1"),
        (lambda a, b: _ari_formula(a, b, half=False), "did you drop the 1/2 in the denominator"),
        (lambda a, b: _ari_formula(a, b, e_num=False, e_den=False), "expected index E is missing"),
        (lambda a, b: _ari_formula(a, b, e_num=False), "expected index E is missing"),
        (lambda a, b: _ari_formula(a, b, e_den=False), "expected index E is missing"),
    ],
)
def test_adjusted_rand_wrong_caught(fn, hint):
    with pytest.raises(AssertionError, match=hint):
        check_adjusted_rand(fn)


def test_adjusted_rand_dropped_half_scores_identical_clusterings_0_4444():
    same = np.array([0, 0, 1, 1, 2, 2])
    assert np.isclose(_ari_formula(same, same, half=False), 0.4444, atol=1e-4)
    with pytest.raises(AssertionError, match="0.4444: did you drop the 1/2"):
        check_adjusted_rand(lambda a, b: _ari_formula(a, b, half=False))
