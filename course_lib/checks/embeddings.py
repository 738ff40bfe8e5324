"""Checkers for Chapter 1 (autoencoder embeddings of stocks): each one repairs a mistake of the tutorial.

- :func:`check_train_step`: one optimisation step (``zero_grad``, ``backward``, ``step``);
- :func:`check_encoder`: an encoder with activations between its layers (and none after the last);
- :func:`check_embed_in_order`: embeddings collected from every batch, in the original row order, on the encoder's device;
- :func:`check_adjusted_rand`: the adjusted Rand index from the contingency table.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import adjusted_rand_score, rand_score
from torch import nn

from .._runtime import isolated_rng
from ._common import call, close, to_numpy

__all__ = ["check_train_step", "check_encoder", "check_embed_in_order", "check_adjusted_rand"]


@isolated_rng()  # seeds inside, leaves the learner's random state as it was
def _tiny_autoencoder() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 3), nn.Tanh(), nn.Linear(3, 6))


def _reference_steps(model: nn.Module, x: torch.Tensor, n: int, *, zero_grad: bool = True) -> tuple[list[float], nn.Module]:
    model = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(n):
        if zero_grad:
            opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, model


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> bool:
    return all(torch.allclose(p, q, rtol=1e-5, atol=1e-7) for p, q in zip(a, b))


def check_train_step(fn: Callable[[nn.Module, torch.optim.Optimizer, torch.Tensor], float]) -> None:
    """Check ``fn(model, optimizer, x) -> float``: one step on the mean squared reconstruction error.

    The function must clear old gradients, compute ``mse_loss(model(x), x)``, back-propagate, take an
    optimiser step and return the loss (before the step) as a Python float.
    """
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 6, generator=g)
    base = _tiny_autoencoder()
    model = copy.deepcopy(base)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _params(model)
    backward_calls = []
    handle = next(model.parameters()).register_hook(lambda grad: backward_calls.append(1))
    out = call(fn, model, opt, x, what="train_step")
    handle.remove()
    if isinstance(out, torch.Tensor):
        raise AssertionError("return loss.item(), a Python float, not a tensor (loss and loss.detach() are both tensors).")
    assert isinstance(out, (float, np.floating)), f"return the loss as a float, got {type(out).__name__}."
    ref_losses, ref_model = _reference_steps(base, x, 1)
    if _same(before, _params(model)):
        if not backward_calls:
            raise AssertionError(
                "the weights did not move and no gradient was computed: call loss.backward() "
                "(after optimizer.zero_grad(), before optimizer.step())."
            )
        if all(p.grad is None or not p.grad.abs().any() for p in model.parameters()):
            raise AssertionError("the gradients were cleared before the step: the order is zero_grad(), backward(), step().")
        raise AssertionError("the weights did not move: call optimizer.step() after loss.backward().")
    if not np.isclose(out, ref_losses[0], rtol=1e-4):
        with torch.no_grad():
            summed = float(((base(x) - x) ** 2).sum())
        if np.isclose(out, summed, rtol=1e-4):
            raise AssertionError("the loss is a sum: use the mean squared error, nn.functional.mse_loss(model(x), x).")
        raise AssertionError(
            f"the returned loss {out:.5f} is not the reconstruction error before the step ({ref_losses[0]:.5f}): "
            "compute loss = mse_loss(model(x), x) first, then step, and return loss.item()."
        )
    assert _same(_params(model), _params(ref_model)), (
        "after one step the weights differ from a plain zero_grad/backward/step update with the mean squared error."
    )
    # A second step shows whether old gradients pile up.
    model2 = copy.deepcopy(base)
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.1)
    call(fn, model2, opt2, x, what="train_step")
    call(fn, model2, opt2, x, what="train_step")
    _, ref2 = _reference_steps(base, x, 2)
    _, acc2 = _reference_steps(base, x, 2, zero_grad=False)
    if _same(_params(model2), _params(acc2)) and not _same(_params(ref2), _params(acc2)):
        raise AssertionError(
            "gradients pile up from one step to the next: call optimizer.zero_grad() at the start of every step."
        )
    assert _same(_params(model2), _params(ref2)), (
        "after two steps the weights differ from two clean zero_grad/backward/step updates."
    )


def _linear_layers(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


@isolated_rng()  # seeds inside, leaves the learner's random state as it was
def check_encoder(fn: Callable[[int, int, Sequence[int]], nn.Module]) -> None:
    """Check ``fn(input_dim, latent_dim, hidden_dims) -> nn.Module``: Linear layers with activations between them.

    Widths ``[input_dim, *hidden_dims, latent_dim]``, a non-linear activation after every hidden layer and
    none after the last layer (codes must be free to take any real value).
    """
    try:
        enc = call(fn, 20, 3, (16, 8), what="make_encoder")
    except TypeError as exc:
        msg = str(exc)
        if "is not a Module subclass" in msg:
            raise AssertionError(
                f"instantiate the activation: nn.ReLU(), not nn.ReLU (layers are module objects, not classes) ({msg})."
            ) from None
        if "empty()" in msg and ("tuple" in msg or "list" in msg):
            raise AssertionError(
                "a layer width is a tuple or list: unpack hidden_dims, sizes = [input_dim, *hidden_dims, latent_dim], "
                f"so every nn.Linear(a, b) gets two integers ({msg})."
            ) from None
        raise AssertionError(
            f"make_encoder(20, 3, (16, 8)) raised TypeError: build nn.Linear(a, b) with integer widths and instantiated "
            f"activations such as nn.ReLU() ({msg})."
        ) from None
    assert isinstance(enc, nn.Module), f"return a torch.nn.Module (for example nn.Sequential), got {type(enc).__name__}."
    lins = _linear_layers(enc)
    widths = [(m.in_features, m.out_features) for m in lins]
    want = [(20, 16), (16, 8), (8, 3)]
    if widths != want:
        raise AssertionError(f"the Linear layers should map 20 -> 16 -> 8 -> 3 (input, hidden..., latent); got {widths}.")
    torch.manual_seed(0)
    x = torch.randn(256, 20) * 3
    with torch.no_grad():
        enc.eval()
        z = enc(x)
        assert z.shape == (256, 3), f"the codes should have shape (n, latent_dim) = (256, 3), got {tuple(z.shape)}."
        y = torch.randn(256, 20) * 3
        affine_gap = (enc(x + y) - enc(x) - enc(y) + enc(torch.zeros(1, 20))).abs().max().item()
    if affine_gap < 1e-4:
        raise AssertionError(
            "the encoder is a linear map: put an activation such as nn.ReLU() between the Linear layers. "
            "Without it, stacked Linear layers collapse into one matrix and the autoencoder is PCA at best."
        )
    children = [m for m in enc.modules() if not list(m.children())]
    if not isinstance(children[-1], nn.Linear):
        raise AssertionError(
            f"the last layer is {type(children[-1]).__name__}: end with the Linear layer, no activation after it, "
            "so the code can take any real value."
        )
    acts = [m for m in children if not isinstance(m, (nn.Linear, nn.Dropout, nn.BatchNorm1d, nn.LayerNorm))]
    if len(acts) < 2:
        raise AssertionError(f"found {len(acts)} activation(s); put one after each of the 2 hidden Linear layers.")


def _accelerator() -> torch.device | None:
    """A device other than the CPU when this machine has one (CUDA, then Apple MPS), else None."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return None


@isolated_rng()  # seeds inside, leaves the learner's random state as it was
def check_embed_in_order(fn: Callable[[nn.Module, np.ndarray, int], np.ndarray]) -> None:
    """Check ``fn(encoder, X, batch_size) -> numpy.ndarray``: codes of every row of X, in the order of X.

    The codes must come from the encoder in evaluation mode (no dropout), from every batch, in row order,
    as a NumPy array of shape (n_rows, latent_dim). When the machine has a GPU (CUDA or MPS), the function is also
    run with the encoder on it while X stays a CPU array: each batch must be moved to the encoder's device and the
    codes brought back to the CPU. On a CPU-only machine that part cannot be checked.
    """
    torch.manual_seed(0)
    enc = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    enc.train()
    base = copy.deepcopy(enc)
    X = np.random.default_rng(0).normal(size=(150, 5)).astype(np.float32)
    ref_model = copy.deepcopy(enc).eval()
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(X)).numpy()
    out = call(fn, enc, X.copy(), 64, what="embed_in_order")
    if isinstance(out, torch.Tensor):
        raise AssertionError("return a NumPy array: torch.cat(codes).cpu().numpy().")
    assert isinstance(out, np.ndarray), f"return a NumPy array, got {type(out).__name__}."
    if out.shape in ((64, 2), (150 - 128, 2)):
        raise AssertionError(
            f"got {out.shape[0]} rows out of 150: you kept only one batch. Append each batch's codes to a list "
            "and concatenate them after the loop."
        )
    assert out.shape == ref.shape, f"expected codes of shape (n_rows, latent_dim) = {ref.shape}, got {out.shape}."
    out = out.astype(np.float64)
    if not close(out, ref, rtol=1e-4, atol=1e-5):
        row_match = np.abs(out[:, None, :] - ref[None, :, :]).max(-1) < 1e-4
        if row_match.any(1).all():
            raise AssertionError(
                "the codes are right but the rows are out of order: iterate with DataLoader(..., shuffle=False)."
            )
        raise AssertionError(
            "the codes differ from the encoder's output in evaluation mode: call encoder.eval() first "
            "(dropout and batch norm behave differently in training mode) and run it under torch.no_grad()."
        )
    acc = _accelerator()
    if acc is None:
        return
    try:
        out_acc = call(fn, base.to(acc), X.copy(), 64, what="embed_in_order")
    except RuntimeError as exc:
        if "device" not in str(exc):
            raise
        raise AssertionError(
            f"with the encoder on the {acc.type} device the batches stayed on the CPU: move each batch to the encoder's "
            f"device, xb.to(next(encoder.parameters()).device) ({exc})."
        ) from None
    except TypeError as exc:
        if "numpy" not in str(exc):
            raise
        raise AssertionError(
            f"bring the codes back to the CPU before converting: torch.cat(codes).cpu().numpy() ({exc})."
        ) from None
    if isinstance(out_acc, torch.Tensor):
        raise AssertionError("return a NumPy array on the CPU: torch.cat(codes).cpu().numpy().")
    assert isinstance(out_acc, np.ndarray) and close(np.asarray(out_acc, dtype=np.float64), ref, rtol=1e-3, atol=1e-4), (
        f"with the encoder on the {acc.type} device the codes differ from those on the CPU."
    )


def _ari_parts(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float]:
    """Pair counts of the contingency table: index, sum over rows, sum over columns, expected index E."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)

    def comb2(v: np.ndarray) -> float:
        return float((v * (v - 1) / 2).sum())

    index, rows, cols = comb2(table), comb2(table.sum(1)), comb2(table.sum(0))
    return index, rows, cols, rows * cols / comb2(np.array([len(a)]))


def _ari_mistakes(got: float, a: np.ndarray, b: np.ndarray) -> None:
    """Raise the hint of a known slip in the ARI formula when ``got`` matches it (and not the right value)."""
    index, rows, cols, expected = _ari_parts(a, b)
    if np.isclose(got, adjusted_rand_score(a, b), atol=1e-9):
        return
    no_e = (
        "the expected index E is missing: ARI = (index - E) / (max index - E), with "
        "E = sum_k C(a_k, 2) * sum_l C(b_l, 2) / C(n, 2) subtracted in the numerator AND the denominator."
    )
    slips = [
        (
            "did you drop the 1/2 in the denominator? The max index is (1/2) * [sum_k C(a_k, 2) + sum_l C(b_l, 2)], "
            "so ARI = (index - E) / (0.5 * (rows + cols) - E).",
            (index - expected) / (rows + cols - expected),
        ),
        (no_e, index / (0.5 * (rows + cols))),
        (no_e, index / (0.5 * (rows + cols) - expected)),
        (no_e, (index - expected) / (0.5 * (rows + cols))),
    ]
    for hint, value in slips:
        if np.isfinite(value) and np.isclose(got, value, atol=1e-9):
            raise AssertionError(f"got {got:.4f}: {hint}")


def check_adjusted_rand(fn: Callable[[Any, Any], float]) -> None:
    """Check ``fn(labels_true, labels_pred) -> float``: the adjusted Rand index (as sklearn's ``adjusted_rand_score``)."""

    def run(a: Any, b: Any) -> float:
        out = to_numpy(call(fn, a, b, what="adjusted_rand"), "adjusted_rand")
        assert out.size == 1, f"return a single number, got shape {out.shape}."
        return float(out.reshape(()))

    a0 = np.array([0, 0, 1, 1, 2, 2])
    same = run(a0, a0.copy())
    _ari_mistakes(same, a0, a0)
    assert np.isclose(same, 1.0), f"identical clusterings must score 1, got {same:.4f}."
    perm = run(np.array([0, 0, 1, 1, 2, 2]), np.array([2, 2, 0, 0, 1, 1]))
    if not np.isclose(perm, 1.0):
        raise AssertionError(
            f"renaming the clusters changed the score to {perm:.4f}: the ARI compares pairs of points "
            "(same group or not), never the label names. Build it from the contingency table."
        )
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 60), rng.integers(0, 5, 60)
    got = run(a, b)
    ref = adjusted_rand_score(a, b)
    if np.isclose(got, rand_score(a, b), atol=1e-6):
        raise AssertionError(
            "that is the unadjusted Rand index, which is far above 0 for random labels: "
            "subtract the expected index and divide by (max index - expected index)."
        )
    if np.isclose(got, float(np.mean(a == b)), atol=1e-9):
        raise AssertionError(
            "that is the share of equal labels (accuracy), which depends on the names of the clusters: use pair counts."
        )
    _ari_mistakes(got, a, b)
    assert np.isclose(got, ref, atol=1e-6), f"on random labels the ARI should be {ref:.4f} (about 0: chance), got {got:.4f}."
    names = np.array(["Energy", "Energy", "Utilities", "Utilities", "Financials", "Energy"])
    try:
        got_s = run(names, np.array([1, 1, 0, 0, 2, 2]))
    except (TypeError, ValueError, IndexError) as exc:
        raise AssertionError(
            f"the labels may be strings such as sector names; map them to integers first, e.g. with "
            f"np.unique(labels, return_inverse=True) ({type(exc).__name__}: {exc})."
        ) from None
    ref_s = adjusted_rand_score(names, [1, 1, 0, 0, 2, 2])
    assert np.isclose(got_s, ref_s, atol=1e-6), f"with sector names as labels the ARI should be {ref_s:.4f}, got {got_s:.4f}."
