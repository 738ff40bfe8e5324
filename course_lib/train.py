"""One training loop for every model in the course.

:func:`fit` trains an :class:`~course_lib.models.Autoencoder`, a
:class:`~course_lib.models.VAE` or any module with a custom ``loss_fn``, on a
dense array or a scipy-sparse matrix (densified one mini-batch at a time).
"""

from __future__ import annotations

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

from ._runtime import get_device
from ._validation import as_2d_float, check_finite
from .losses import Schedule, as_schedule, gaussian_nll, vae_loss

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
        X = sp.csr_matrix(X, dtype=np.float32)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"{name} is empty (shape {X.shape}).")
        check_finite(X.data, name)
        return X
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    return as_2d_float(X, name)


def _batch(X: np.ndarray | sp.csr_matrix | torch.Tensor, idx: np.ndarray | slice, device: torch.device) -> torch.Tensor:
    if isinstance(X, torch.Tensor):
        return X[idx] if isinstance(idx, slice) else X[torch.from_numpy(idx).to(X.device)]
    return torch.from_numpy(X[idx].toarray()).to(device)


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
    epochs, batch_size, lr, weight_decay
        Usual settings; rows are reshuffled every epoch.
    beta : float or callable epoch -> float
        KL weight, fixed or a schedule such as
        :func:`~course_lib.losses.linear_anneal`.
    cosine_lr : bool
        Cosine decay of the learning rate from ``lr`` to 0 over ``epochs``.
    grad_clip : float, optional
        Clip the gradient norm at this value.
    patience : int, optional
        Early stopping: stop after this many epochs without improvement of the
        validation loss (measured at the final beta, so annealing does not
        count as getting worse) and restore the best weights.
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
        Seeds shuffling and sampling noise, for repeatable runs.
    progress : bool
        Show a ``tqdm.auto`` progress bar.

    Returns
    -------
    History
        The model is left trained, on ``device``, in evaluation mode.

    Raises
    ------
    ValueError
        On NaN/inf or badly shaped inputs, or inconsistent settings.
    TrainingDivergedError
        When the loss turns NaN or infinite; the message lists likely fixes.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1; got epochs={epochs}, batch_size={batch_size}.")
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr}.")
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be >= 1 or None, got {patience}.")
    device = torch.device(device) if device is not None else get_device()
    schedule = as_schedule(beta)
    beta_final = float(schedule(epochs - 1))
    loss_fn = loss_fn or default_loss

    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must lie in [0, 1), got {val_fraction}.")
    if X_val is not None and val_fraction > 0:
        raise ValueError("give either X_val or val_fraction, not both: val_fraction would be ignored.")
    X = _prepare(X, "X")
    if X_val is None and val_fraction > 0:
        n_val = max(1, int(round(X.shape[0] * val_fraction)))
        if X.shape[0] - n_val < 2:
            raise ValueError(f"X has only {X.shape[0]} rows: too few to hold out {val_fraction:.0%} for validation.")
        X, X_val = X[:-n_val], X[-n_val:]
    if X_val is not None:
        X_val = _prepare(X_val, "X_val")
        if X_val.shape[1] != X.shape[1]:
            raise ValueError(f"X_val has {X_val.shape[1]} features but X has {X.shape[1]}.")
    n_features = getattr(model, "input_dim", None)
    if n_features is not None and n_features != X.shape[1]:
        raise ValueError(f"the model expects {n_features} features but X has {X.shape[1]}.")

    def to_dev(A: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(A).to(device)

    Xt = X if sp.issparse(X) else to_dev(X)
    Vt = None if X_val is None else (X_val if sp.issparse(X_val) else to_dev(X_val))

    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine_lr else None
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    if seed is not None:
        torch.manual_seed(seed)
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())

    hist = History()
    best, best_state, bad_epochs = math.inf, None, 0
    n = X.shape[0]
    # Only pass `disable` when turning the bar off, so TQDM_DISABLE=1 in the environment can also
    # silence it (`make outputs` does, so stored notebooks carry no frozen progress bars).
    bar = trange(epochs, desc=desc, leave=True, **({} if progress else {"disable": True}))
    for epoch in bar:
        b = float(schedule(epoch))
        model.train()
        perm = torch.randperm(n, generator=gen).numpy()
        sums = np.zeros(3)
        seen = 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            if has_bn and len(idx) < 2:
                continue  # BatchNorm cannot normalise a batch of one row
            xb = _batch(Xt, idx, device)
            total, rec, kl = loss_fn(model, xb, b)
            if not torch.isfinite(total):
                raise TrainingDivergedError(
                    f"the training loss became {total.item()} at epoch {epoch}, batch {start // batch_size}. "
                    f"Likely fixes: lower the learning rate (now lr={lr}), set grad_clip=1.0, and check that "
                    "the inputs are standardised (scale_splits) and finite."
                )
            opt.zero_grad(set_to_none=True)
            total.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            k = len(idx)
            sums += k * np.array([total.item(), rec.item(), kl.item()])
            seen += k
        hist.train_loss.append(sums[0] / seen)
        hist.train_recon.append(sums[1] / seen)
        hist.train_kl.append(sums[2] / seen)
        hist.beta.append(b)
        hist.lr.append(opt.param_groups[0]["lr"])
        if sched is not None:
            sched.step()
        postfix = {"loss": f"{hist.train_loss[-1]:.4g}"}
        if Vt is not None:
            v = evaluate(model, Vt, b, loss_fn=loss_fn, device=device)
            hist.val_loss.append(v[0])
            hist.val_recon.append(v[1])
            hist.val_kl.append(v[2])
            postfix["val"] = f"{v[0]:.4g}"
            monitored = v[1] + beta_final * v[2]
            if monitored < best - 1e-6:
                best, bad_epochs, hist.best_epoch = monitored, 0, epoch
                if patience is not None:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
        bar.set_postfix(postfix)
        stop = bool(callback(epoch, model, hist)) if callback is not None else False
        if stop or (patience is not None and bad_epochs >= patience):
            hist.stopped_early = True
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
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
    """Mean ``(total, recon, kl)`` loss of ``model`` on ``X`` in evaluation mode."""
    loss_fn = loss_fn or default_loss
    device = torch.device(device) if device is not None else next(model.parameters()).device
    if not isinstance(X, torch.Tensor) and not sp.issparse(X):
        X = torch.from_numpy(_prepare(X, "X")).to(device)
    was_training = model.training
    model.eval()
    sums, n = np.zeros(3), X.shape[0]
    for start in range(0, n, batch_size):
        xb = _batch(X, slice(start, start + batch_size), device)
        total, rec, kl = loss_fn(model, xb, beta)
        sums += xb.shape[0] * np.array([total.item(), rec.item(), kl.item()])
    model.train(was_training)
    return tuple(float(s / n) for s in sums)  # type: ignore[return-value]
