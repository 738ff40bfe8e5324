"""One training loop for every model in the course.

:func:`fit` trains an :class:`~course_lib.models.Autoencoder`, a
:class:`~course_lib.models.VAE` or any module with a custom ``loss_fn``, on a
dense array or a scipy-sparse matrix (densified one mini-batch at a time).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn
from tqdm.auto import trange

from ._runtime import get_device, isolated_rng
from ._validation import (
    as_2d_float,
    check_finite,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_schedule_value,
)
from .losses import Schedule, as_schedule, gaussian_nll, vae_loss

__all__ = ["fit", "evaluate", "default_loss", "History", "TrainingDivergedError", "LossFn", "Callback"]

#: ``loss_fn(model, x_batch, beta) -> (total, recon, kl)``, each a scalar tensor.
LossFn = Callable[[nn.Module, torch.Tensor, float], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
#: ``callback(epoch, model, history) -> stop``, called after each epoch; return True to stop training.
Callback = Callable[[int, nn.Module, "History"], "bool | None"]


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run.

    Lists have one entry per epoch run. ``val_*`` lists are empty without
    validation data. ``kl`` entries are 0 for deterministic autoencoders.
    ``best_epoch`` (counted from 0) is the epoch with the lowest validation
    loss at the final beta; its weights are restored only with early stopping
    (``patience``). Without it the model keeps its last-epoch weights.
    """

    train_loss: list[float] = field(default_factory=list)
    train_recon: list[float] = field(default_factory=list)
    train_kl: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_recon: list[float] = field(default_factory=list)
    val_kl: list[float] = field(default_factory=list)
    beta: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def add(self, part: str, values: Any) -> None:
        """Append one epoch's ``(total, recon, kl)`` to the ``train_*`` or ``val_*`` lists (``part``)."""
        for key, v in zip(("loss", "recon", "kl"), values):
            getattr(self, f"{part}_{key}").append(float(v))

    def __getitem__(self, key: str) -> list[float]:
        return getattr(self, key)

    def __len__(self) -> int:
        return len(self.train_loss)

    def to_frame(self) -> pd.DataFrame:
        """The history as a DataFrame indexed by epoch (validation columns only when present)."""
        cols = {k: getattr(self, k) for k in ("train_loss", "train_recon", "train_kl", "beta", "lr")}
        if self.val_loss:
            cols.update({k: getattr(self, k) for k in ("val_loss", "val_recon", "val_kl")})
        return pd.DataFrame(cols).rename_axis("epoch")


def default_loss(model: nn.Module, x: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """VAE loss when the model returns ``(recon, mu, logvar)``, else half the squared error."""
    out = model(x)
    if isinstance(out, tuple):
        recon, mu, logvar = out
        return vae_loss(recon, x, mu, logvar, beta)
    rec = gaussian_nll(out, x).mean()
    return rec, rec, rec.new_zeros(())


def _prepare(X: Any, name: str) -> np.ndarray | sp.csr_matrix:
    if sp.issparse(X):
        if np.iscomplexobj(X.data):
            raise ValueError(f"{name} holds complex numbers; pass real values.")
        X = sp.csr_matrix(X, dtype=np.float32)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"{name} is empty (shape {X.shape}): check the filters that produced it.")
        check_finite(X.data, name)
        return X
    return as_2d_float(X, name)


def _batch(X: np.ndarray | sp.csr_matrix | torch.Tensor, idx: np.ndarray | slice, device: torch.device) -> torch.Tensor:
    if isinstance(X, torch.Tensor):
        return X[idx] if isinstance(idx, slice) else X[torch.from_numpy(idx).to(X.device)]
    return torch.from_numpy(X[idx].toarray()).to(device)


def _to_device(A: np.ndarray | sp.csr_matrix, device: torch.device) -> torch.Tensor | sp.csr_matrix:
    """Dense data go to the device once (copied when read-only); sparse data stay on the CPU."""
    if sp.issparse(A):
        return A
    return torch.from_numpy(A if A.flags.writeable else A.copy()).to(device)


def _check_n_features(model: nn.Module, n_features: int, name: str) -> None:
    expected = getattr(model, "input_dim", None)
    if expected is not None and expected != n_features:
        raise ValueError(
            f"the model expects {expected} features but {name} has {n_features}: pass the same columns it was built for."
        )


def _holdout(X: Any, X_val: Any, val_fraction: float) -> tuple[Any, Any]:
    """Validate ``X`` (and ``X_val``), or hold out the last ``val_fraction`` of the rows of ``X`` (time order kept)."""
    if X_val is not None and val_fraction > 0:
        raise ValueError("give either X_val or val_fraction, not both: val_fraction would be ignored.")
    X = _prepare(X, "X")
    if X_val is None and val_fraction > 0:
        n_val = max(1, int(round(X.shape[0] * val_fraction)))
        if X.shape[0] - n_val < 2:
            raise ValueError(
                f"X has only {X.shape[0]} rows: too few to hold out val_fraction={val_fraction:.0%} for validation; "
                "use more rows or val_fraction=0."
            )
        return X[:-n_val], X[-n_val:]
    if X_val is not None:
        X_val = _prepare(X_val, "X_val")
        if X_val.shape[1] != X.shape[1]:
            raise ValueError(f"X_val has {X_val.shape[1]} features but X has {X.shape[1]}: pass the same columns.")
    return X, X_val


def _beta_at(schedule: Schedule, epoch: int) -> float:
    return check_schedule_value(schedule(epoch), "beta", epoch)


def _train_epoch(
    model: nn.Module,
    Xt: torch.Tensor | sp.csr_matrix,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn,
    beta: float,
    *,
    perm: np.ndarray,
    batch_size: int,
    grad_clip: float | None,
    skip_single: bool,
    device: torch.device,
    epoch: int,
) -> np.ndarray:
    """One pass over the shuffled rows; returns the row-weighted mean ``(total, recon, kl)``."""
    model.train()
    sums, seen = np.zeros(3), 0
    for start in range(0, len(perm), batch_size):
        idx = perm[start : start + batch_size]
        if skip_single and len(idx) < 2:
            continue  # BatchNorm cannot normalise a batch of one row (only a last, partial batch can be one row)
        total, rec, kl = loss_fn(model, _batch(Xt, idx, device), beta)
        if not torch.isfinite(total):
            raise TrainingDivergedError(
                f"the training loss became {total.item()} at epoch {epoch}, batch {start // batch_size}. "
                f"Likely fixes: lower the learning rate (now {opt.param_groups[0]['lr']:.3g}), set grad_clip=1.0, "
                "and check that the inputs are standardised (scale_splits)."
            )
        opt.zero_grad(set_to_none=True)
        total.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        sums += len(idx) * np.array([total.item(), rec.item(), kl.item()])
        seen += len(idx)
    return sums / seen


def _check_batchnorm(model: nn.Module, batch_size: int, n_rows: int) -> bool:
    """Whether ``model`` has BatchNorm; if so, refuse batches or data of one row (nothing would train)."""
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    if has_bn and (batch_size < 2 or n_rows < 2):
        raise ValueError(
            f"the model has BatchNorm, which needs batches of at least 2 rows; got batch_size={batch_size} "
            f"and {n_rows} training row(s). Use batch_size >= 2 and more rows, or a model without batch_norm."
        )
    return has_bn


@dataclass
class _Best:
    """Early-stopping bookkeeping: the lowest monitored loss, epochs since, and (optionally) its weights."""

    keep_weights: bool
    loss: float = math.inf
    bad_epochs: int = 0
    state: dict | None = None

    def update(self, loss: float, epoch: int, model: nn.Module) -> bool:
        """Record ``loss``; return True when it is a new best (by more than 1e-6)."""
        if loss < self.loss - 1e-6:
            self.loss, self.bad_epochs = loss, 0
            if self.keep_weights:
                self.state = copy.deepcopy(model.state_dict())
            return True
        self.bad_epochs += 1
        return False


def _check_settings(
    epochs: Any, batch_size: Any, lr: Any, weight_decay: Any, grad_clip: Any, patience: Any, val_fraction: Any, seed: Any
) -> None:
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    check_real(lr, "lr", low=0.0, low_open=True)
    check_real(weight_decay, "weight_decay", low=0.0)
    check_real(grad_clip, "grad_clip", low=0.0, low_open=True, allow_none=True)
    if patience is not None:
        check_positive_int(patience, "patience")
    check_real(val_fraction, "val_fraction", low=0.0, high=1.0, high_open=True)
    if seed is not None:
        check_nonnegative_int(seed, "seed")


def fit(
    model: nn.Module,
    X: Any,
    X_val: Any = None,
    *,
    epochs: int = 50,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    beta: float | Schedule = 1.0,
    cosine_lr: bool = False,
    grad_clip: float | None = None,
    patience: int | None = None,
    val_fraction: float = 0.0,
    loss_fn: LossFn | None = None,
    callback: Callback | None = None,
    device: torch.device | str | None = None,
    seed: int | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` with Adam on mini-batches and return its :class:`History`.

    Parameters
    ----------
    model : torch.nn.Module
        An ``Autoencoder``, a ``VAE``, or any module that ``loss_fn`` knows.
    X : array-like or scipy.sparse matrix, shape (n_samples, n_features)
        Training data. Dense data are moved to the device once; sparse data
        stay on the CPU and are densified one batch at a time.
    X_val : same type as X, optional
        Validation data. If omitted and ``val_fraction > 0``, the *last*
        ``val_fraction`` of the rows of ``X`` is held out (time order kept).
    epochs, batch_size : int
        Positive integers; rows are reshuffled every epoch.
    lr, weight_decay : float
        Adam's learning rate (> 0) and weight decay (>= 0).
    beta : float or callable epoch -> float
        KL weight, fixed or a schedule such as
        :func:`~course_lib.losses.linear_anneal`; every value must be finite and >= 0.
    cosine_lr : bool
        Cosine decay of the learning rate from ``lr`` to 0 over ``epochs``.
    grad_clip : float, optional
        Clip the gradient norm at this value (> 0).
    patience : int, optional
        Early stopping: stop after this many epochs without improvement of the
        validation loss (measured at the final beta, so annealing does not
        count as getting worse) and restore the best weights.
    val_fraction : float
        In [0, 1); see ``X_val``.
    loss_fn : callable, optional
        ``loss_fn(model, x_batch, beta) -> (total, recon, kl)``; defaults to
        :func:`default_loss`.
    callback : callable, optional
        ``callback(epoch, model, history)``, called after each epoch (after
        validation) with epochs counted from 0, for custom monitoring such as
        ranking metrics on validation users. Returning ``True`` stops training.
    device : torch.device or str, optional
        Defaults to :func:`course_lib.get_device`.
    seed : int, optional
        Seeds shuffling and sampling noise, for repeatable runs. The caller's
        global random state is left exactly as it was (see
        :func:`course_lib.isolated_rng`). Without a seed, training draws from
        (and advances) PyTorch's global generator, like any PyTorch loop.
    progress : bool
        Show a ``tqdm.auto`` progress bar.

    Returns
    -------
    History
        The model is left trained, on ``device``, in evaluation mode.

    Raises
    ------
    ValueError, TypeError
        On NaN/inf or badly shaped inputs, or invalid settings (for example a
        float ``epochs``, a negative ``grad_clip``, or BatchNorm with batches of one row).
    TrainingDivergedError
        When the loss turns NaN or infinite; the message lists likely fixes.
    """
    _check_settings(epochs, batch_size, lr, weight_decay, grad_clip, patience, val_fraction, seed)
    device = torch.device(device) if device is not None else get_device()
    schedule = as_schedule(beta)
    beta_final = _beta_at(schedule, epochs - 1)
    loss_fn = loss_fn or default_loss
    X, X_val = _holdout(X, X_val, val_fraction)
    _check_n_features(model, X.shape[1], "X")
    has_bn = _check_batchnorm(model, batch_size, X.shape[0])
    Xt, Vt = _to_device(X, device), None if X_val is None else _to_device(X_val, device)

    with isolated_rng(seed) if seed is not None else contextlib.nullcontext():
        model.to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine_lr else None
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        hist, best = History(), _Best(keep_weights=patience is not None)
        # Only pass `disable` when turning the bar off, so TQDM_DISABLE=1 in the environment can also
        # silence it (`make outputs` does, so stored notebooks carry no frozen progress bars).
        bar = trange(epochs, desc=desc, leave=True, **({} if progress else {"disable": True}))
        for epoch in bar:
            b = _beta_at(schedule, epoch)
            perm = torch.randperm(X.shape[0], generator=gen).numpy()
            train = _train_epoch(
                model, Xt, opt, loss_fn, b, perm=perm, batch_size=batch_size, grad_clip=grad_clip,
                skip_single=has_bn, device=device, epoch=epoch,
            )  # fmt: skip
            hist.add("train", train)
            hist.beta.append(b)
            hist.lr.append(opt.param_groups[0]["lr"])
            if sched is not None:
                sched.step()
            postfix = {"loss": f"{train[0]:.4g}"}
            if Vt is not None:
                v = evaluate(model, Vt, b, loss_fn=loss_fn, device=device)
                hist.add("val", v)
                postfix["val"] = f"{v[0]:.4g}"
                if best.update(v[1] + beta_final * v[2], epoch, model):  # monitored at the final beta
                    hist.best_epoch = epoch
            bar.set_postfix(postfix)
            stop = bool(callback(epoch, model, hist)) if callback is not None else False
            if stop or (patience is not None and best.bad_epochs >= patience):
                hist.stopped_early = True
                break
        bar.close()
    if best.state is not None:
        model.load_state_dict(best.state)
    model.eval()
    return hist


@torch.no_grad()
def evaluate(
    model: nn.Module,
    X: Any,
    beta: float = 1.0,
    *,
    loss_fn: LossFn | None = None,
    device: torch.device | str | None = None,
    batch_size: int = 4096,
) -> tuple[float, float, float]:
    """Mean ``(total, recon, kl)`` loss of ``model`` on ``X`` of shape (n_samples, n_features), in evaluation mode.

    ``X`` is checked like :func:`fit`'s (finite, 2-D, non-empty, the model's
    feature count); ``beta`` must be a finite number >= 0.
    """
    loss_fn = loss_fn or default_loss
    beta = check_real(beta, "beta", low=0.0)
    check_positive_int(batch_size, "batch_size")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    if not isinstance(X, torch.Tensor):
        X = _to_device(_prepare(X, "X"), device)
    elif X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D tensor (n_samples, n_features), got shape {tuple(X.shape)}.")
    _check_n_features(model, X.shape[1], "X")
    was_training = model.training
    model.eval()
    sums, n = np.zeros(3), X.shape[0]
    for start in range(0, n, batch_size):
        xb = _batch(X, slice(start, start + batch_size), device)
        total, rec, kl = loss_fn(model, xb, beta)
        sums += xb.shape[0] * np.array([total.item(), rec.item(), kl.item()])
    model.train(was_training)
    return tuple(float(s / n) for s in sums)  # type: ignore[return-value]
