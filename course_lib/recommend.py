r"""Autoencoders for implicit-feedback recommendation, and the baselines they must beat.

Models
------
:class:`RecAutoencoder` is Mult-VAE (``variational=True``) or Mult-DAE
(``variational=False``) of Liang, Krishnan, Hoffman and Jebara (WWW 2018):
``[n_items -> 600 -> 200 -> 600 -> n_items]``, tanh, the input L2-normalised
and dropped out (p = 0.5) in training, :math:`z = \mu` at prediction.

Likelihoods (:func:`recommender_loss`), per user with click vector :math:`x` and decoder logits :math:`f`:

.. math::
   \text{multinomial: } -\sum_j x_j \log \operatorname{softmax}(f)_j, \qquad
   \text{weighted BCE: } -\sum_j w_j\,[x_j \log\sigma(f_j) + (1-x_j)\log(1-\sigma(f_j))],
   \ w_j = 1 \text{ if } x_j \text{ else } w_0,

   \text{Gaussian: } \tfrac12 \sum_j (x_j - f_j)^2 .

Baselines: :func:`popularity_scores` and EASE (Steck 2019),
:math:`B = I - P / \operatorname{diag}(P)`, :math:`P = (X^\top X + \lambda I)^{-1}`
(:func:`ease_weights`, tuned by :func:`tune_ease`).

Training goes through :func:`course_lib.train.fit` with a custom ``loss_fn``;
the sparse matrix is densified one mini-batch at a time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import (
    InputTypeError,
    as_2d_float,
    as_nd_float,
    check_nonnegative_int,
    check_positive_int,
    check_probability,
    check_real,
    check_seed,
    check_sparse,
)
from .losses import kl_normal, linear_anneal
from .metrics import ndcg_at_k
from .models import eval_mode
from .recsplit import mask_foldin
from .train import History, fit

__all__ = [
    "RecAutoencoder",
    "multinomial_nll",
    "weighted_bce",
    "recommender_loss",
    "TrainResult",
    "train_recommender",
    "predict_scores",
    "posterior_scores",
    "popularity_scores",
    "ease_weights",
    "tune_ease",
    "latent_neighbour_scores",
    "cold_start_scores",
    "profile_nll",
    "outrank_probability",
    "topk_probability",
    "popularity_outlyingness",
]


def _as_sparse(X: Any, name: str) -> sp.csr_matrix:
    if sp.issparse(X):
        check_sparse(X, name, nonnegative=True)
        X = sp.csr_matrix(X, dtype=np.float32)
    else:
        A = as_2d_float(X, name)
        if (A < 0).any():
            raise ValueError(f"{name} holds negative values; implicit feedback must be >= 0 (0/1 or counts).")
        X = sp.csr_matrix(A)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}).")
    if not np.isfinite(X.data).all():
        raise ValueError(f"{name} holds NaN or infinite values; interactions must be finite (0/1).")
    return X


class RecAutoencoder(nn.Module):
    """Mult-VAE or Mult-DAE over a user's item vector.

    Parameters
    ----------
    n_items : int
    hidden : int, default 600
    latent : int, default 200
    variational : bool, default True
        True: Mult-VAE (Gaussian encoder). False: Mult-DAE (deterministic code, tanh like the paper's code).
    dropout : float, default 0.5
        Input dropout in training (the "denoising").

    Shapes: ``encode`` (n, n_items) -> ``(mu, logvar)`` each (n, latent) (``logvar`` is None for the DAE);
    ``decode`` (n, latent) -> logits (n, n_items); ``forward`` (n, n_items) -> logits (n, n_items).
    """

    def __init__(
        self, n_items: int, hidden: int = 600, latent: int = 200, *, variational: bool = True, dropout: float = 0.5
    ) -> None:
        super().__init__()
        n_items = check_positive_int(n_items, "n_items")
        hidden = check_positive_int(hidden, "hidden")
        latent = check_positive_int(latent, "latent")
        dropout = check_real(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.n_items, self.latent, self.variational = int(n_items), int(latent), bool(variational)
        self.drop = nn.Dropout(dropout)
        self.enc = nn.Linear(n_items, hidden)
        self.head = nn.Linear(hidden, 2 * latent if variational else latent)
        self.dec = nn.Linear(latent, hidden)
        self.out = nn.Linear(hidden, n_items)
        for lin in (self.enc, self.head, self.dec, self.out):  # Xavier init, small biases, as in the paper's code
            nn.init.xavier_uniform_(lin.weight)
            nn.init.normal_(lin.bias, std=0.001)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Posterior ``(mu, logvar)`` of shape (n, latent) each; ``logvar`` is None for the DAE."""
        if x.dim() != 2 or x.shape[1] != self.n_items:
            raise ValueError(f"x must have shape (n, {self.n_items}), got {tuple(x.shape)}.")
        h = self.drop(F.normalize(x, dim=1))
        h = self.head(torch.tanh(self.enc(h)))
        if not self.variational:
            return torch.tanh(h), None
        return h[:, : self.latent], h[:, self.latent :]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Item logits, shape (n, n_items)."""
        return self.out(torch.tanh(self.dec(z)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (n, n_items): a posterior draw in training mode, ``z = mu`` in evaluation mode."""
        mu, logvar = self.encode(x)
        if logvar is not None and self.training:
            mu = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(mu)


def _check_pair(logits: torch.Tensor, x: torch.Tensor) -> None:
    if logits.shape != x.shape or logits.dim() != 2:
        raise ValueError(f"logits {tuple(logits.shape)} and x {tuple(x.shape)} must both be (n_users, n_items).")


def multinomial_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""Per-user multinomial negative log-likelihood :math:`-\sum_j x_j \log\operatorname{softmax}(f)_j`, shape (n_users,)."""
    _check_pair(logits, x)
    return -(F.log_softmax(logits, dim=1) * x).sum(dim=1)


def weighted_bce(logits: torch.Tensor, x: torch.Tensor, neg_weight: float = 0.1) -> torch.Tensor:
    """Per-user binary cross-entropy with unobserved items weighted by ``neg_weight``, shape (n_users,)."""
    _check_pair(logits, x)
    neg_weight = check_probability(neg_weight, "neg_weight", open_high=False)
    w = x + neg_weight * (1 - x)
    return (w * F.binary_cross_entropy_with_logits(logits, x, reduction="none")).sum(dim=1)


def recommender_loss(
    likelihood: str = "multinomial", *, neg_weight: float = 0.1
) -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """A ``loss_fn(model, x, beta) -> (total, recon, kl)`` for :func:`course_lib.train.fit`.

    Parameters
    ----------
    likelihood : {"multinomial", "bce", "gaussian"}
    neg_weight : float
        Weight of unobserved items in the BCE (the text suggests 0.01 to 0.1).
    """
    if likelihood not in ("multinomial", "bce", "gaussian"):
        raise ValueError(f"likelihood must be 'multinomial', 'bce' or 'gaussian', got {likelihood!r}.")
    neg_weight = check_probability(neg_weight, "neg_weight", open_high=False)

    def loss_fn(model: RecAutoencoder, x: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = model.encode(x)
        z = mu
        if logvar is not None and model.training:
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = model.decode(z)
        if likelihood == "multinomial":
            rec = multinomial_nll(logits, x).mean()
        elif likelihood == "bce":
            rec = weighted_bce(logits, x, neg_weight).mean()
        else:
            rec = 0.5 * (logits - x).pow(2).sum(dim=1).mean()
        kl = kl_normal(mu, logvar).mean() if logvar is not None else rec.new_zeros(())
        return rec + beta * kl, rec, kl

    return loss_fn


@torch.no_grad()
def predict_scores(model: RecAutoencoder, X: Any, *, batch_size: int = 2048) -> np.ndarray:
    """Decoder logits with ``z = mu`` for each user's input, shape (n_users, n_items), densified batch by batch."""
    X = _as_sparse(X, "X")
    if X.shape[1] != model.n_items:
        raise ValueError(f"X has {X.shape[1]} items but the model expects {model.n_items}.")
    batch_size = check_positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    with eval_mode(model):
        out = [
            model(torch.from_numpy(X[s : s + batch_size].toarray()).to(device)).cpu().numpy()
            for s in range(0, X.shape[0], batch_size)
        ]
    return np.concatenate(out).astype(np.float64)


class _ValidationTracker:
    """A :func:`course_lib.train.fit` callback scoring the validation users every ``every`` epochs.

    It measures mean NDCG@k on the validation users after every ``every``-th
    epoch and after the last one, and keeps the weights of the best.
    """

    def __init__(
        self, foldin: sp.csr_matrix, heldout: sp.csr_matrix, k: int, every: int, epochs: int, patience: int | None = None
    ) -> None:
        self.foldin, self.heldout, self.k, self.every, self.n_epochs = foldin, heldout, k, every, epochs
        self.patience, self.bad = patience, 0
        self.epochs: list[int] = []
        self.ndcg: list[float] = []
        self.best, self.best_epoch, self.best_state = -np.inf, 0, None

    def __call__(self, epoch: int, model: RecAutoencoder, history: History) -> bool:
        done = epoch + 1  # completed epochs
        if done % self.every and done != self.n_epochs:
            return False
        s = mask_foldin(predict_scores(model, self.foldin), self.foldin)
        v = float(ndcg_at_k(s, self.heldout, self.k).mean())
        self.epochs.append(done)
        self.ndcg.append(v)
        if v > self.best:
            self.best, self.best_epoch, self.bad = v, done, 0
            self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.bad += 1
        return self.patience is not None and self.bad >= self.patience  # True stops fit (early stopping)


@dataclass
class TrainResult:
    """What :func:`train_recommender` returns.

    Attributes
    ----------
    history : course_lib.train.History
    val_epochs, val_ndcg : list
        Epochs (counted as completed epochs) at which the validation users were scored, and their mean NDCG@k.
    best_epoch : int
        Completed epochs of the weights kept (chosen on validation users only).
    """

    history: History
    val_epochs: list[int] = field(default_factory=list)
    val_ndcg: list[float] = field(default_factory=list)
    best_epoch: int = 0


def train_recommender(
    model: RecAutoencoder,
    X_train: Any,
    *,
    val: tuple[Any, Any] | None = None,
    epochs: int = 100,
    beta_cap: float = 0.2,
    anneal_epochs: int | None = None,
    likelihood: str = "multinomial",
    neg_weight: float = 0.1,
    batch_size: int = 128,
    lr: float = 1e-3,
    k: int = 100,
    eval_every: int = 5,
    patience: int | None = None,
    seed: int | None = None,
    device: torch.device | str | None = None,
) -> TrainResult:
    """Train a :class:`RecAutoencoder` with :func:`course_lib.train.fit`, choosing the epoch on validation users.

    Parameters
    ----------
    model : RecAutoencoder
    X_train : scipy.sparse matrix, shape (n_train_users, n_items)
        Kept sparse; fit densifies one batch at a time.
    val : (foldin, heldout), optional
        Validation users' input and scored items, each (n_val, n_items). When given, NDCG@k is
        measured every ``eval_every`` epochs and the best weights are restored.
    epochs : int
    beta_cap, anneal_epochs : float, int
        The KL weight rises linearly from 0 to ``beta_cap`` over ``anneal_epochs`` epochs
        (default: 80 % of ``epochs``), an epoch-based version of the paper's update-based schedule.
        Ignored for the DAE (no KL term).
    likelihood, neg_weight : see :func:`recommender_loss`.
    patience : int, optional
        Early stopping (needs ``val``): stop after this many validation evaluations (every ``eval_every``
        epochs) without a better NDCG@k; the best weights are restored either way.

    Returns
    -------
    TrainResult
    """
    X_train = _as_sparse(X_train, "X_train")
    if X_train.shape[1] != model.n_items:
        raise ValueError(f"X_train has {X_train.shape[1]} items but the model expects {model.n_items}.")
    epochs = check_positive_int(epochs, "epochs")
    beta_cap = check_real(beta_cap, "beta_cap", low=0.0)
    eval_every = check_positive_int(eval_every, "eval_every")
    k = check_positive_int(k, "k")
    if anneal_epochs is not None:
        anneal_epochs = check_nonnegative_int(anneal_epochs, "anneal_epochs")
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    if val is not None and (not isinstance(val, (tuple, list)) or len(val) != 2):
        raise InputTypeError("val must be a tuple (foldin, heldout) of two (n_val, n_items) matrices.")
    if patience is not None and (patience < 1 or val is None):
        raise ValueError(f"patience must be >= 1 and needs val=(foldin, heldout) to monitor; got patience={patience}.")
    anneal = max(1, int(0.8 * epochs)) if anneal_epochs is None else anneal_epochs
    schedule = linear_anneal(beta_cap if model.variational else 0.0, anneal)
    tracker = None
    if val is not None:
        foldin, heldout = _as_sparse(val[0], "val foldin"), _as_sparse(val[1], "val heldout")
        if foldin.shape != heldout.shape or foldin.shape[1] != model.n_items:
            raise ValueError(f"val foldin {foldin.shape} and heldout {heldout.shape} must both be (n_val, {model.n_items}).")
        tracker = _ValidationTracker(foldin, heldout, k, eval_every, epochs, patience)
    hist = fit(
        model,
        X_train,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        beta=schedule,
        loss_fn=recommender_loss(likelihood, neg_weight=neg_weight),
        callback=tracker,
        seed=seed,
        device=device,
        progress=False,
    )
    if tracker is None:
        return TrainResult(hist, best_epoch=epochs)
    if tracker.best_state is None:
        raise ValueError(
            f"validation NDCG@{k} was never finite (values {tracker.ndcg}): training diverged or the validation users "
            "have no held-out items; lower lr, check X_train and val for empty rows, or train without val."
        )
    model.load_state_dict(tracker.best_state)
    model.eval()
    return TrainResult(hist, tracker.epochs, tracker.ndcg, tracker.best_epoch)


@torch.no_grad()
def posterior_scores(model: RecAutoencoder, X: Any, n_samples: int = 100, *, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    r"""Item probabilities :math:`\operatorname{softmax}(f(z))` for ``n_samples`` draws :math:`z \sim q(z \mid x)`.

    Parameters
    ----------
    model : RecAutoencoder
        Must be variational.
    X : array-like or sparse, shape (n_users, n_items)
    n_samples : int
    seed : int
        Seed of the posterior noise (drawn once for all users, so results do not depend on ``batch_size``).
    batch_size : int
        Users densified and decoded at a time; the output array (n_samples, n_users, n_items) is the only full-size object.

    Returns
    -------
    numpy.ndarray
        Shape (n_samples, n_users, n_items), float32.
    """
    if not model.variational:
        raise ValueError("posterior sampling needs a variational model (RecAutoencoder(variational=True)).")
    n_samples = check_positive_int(n_samples, "n_samples")
    seed = check_seed(seed)
    X = _as_sparse(X, "X")
    if X.shape[1] != model.n_items:
        raise ValueError(f"X has {X.shape[1]} items but the model expects {model.n_items}.")
    batch_size = check_positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    n = X.shape[0]
    # all noise drawn up front (n_samples, n_users, latent), so the result does not depend on batch_size
    eps_all = torch.randn((n_samples, n, model.latent), generator=torch.Generator().manual_seed(seed))
    out = np.empty((n_samples, n, model.n_items), dtype=np.float32)
    with eval_mode(model):
        for s in range(0, n, batch_size):
            mu, logvar = model.encode(torch.from_numpy(X[s : s + batch_size].toarray()).to(device))
            z = mu + torch.exp(0.5 * logvar) * eps_all[:, s : s + batch_size].to(device)
            b = mu.shape[0]
            probs = torch.softmax(model.decode(z.reshape(-1, model.latent)), dim=1)
            out[:, s : s + b] = probs.reshape(n_samples, b, -1).cpu().numpy()
    return out


def popularity_scores(X_train: Any, n_users: int) -> np.ndarray:
    """Every user gets the training users' item counts as scores, shape (n_users, n_items)."""
    X = _as_sparse(X_train, "X_train")
    n_users = check_positive_int(n_users, "n_users")
    if n_users < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}.")
    counts = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
    return np.tile(counts, (n_users, 1))


def ease_weights(X: Any, lam: float) -> np.ndarray:
    r"""EASE item-item weights :math:`B = I - P\,/\operatorname{diag}(P)`, :math:`P = (X^\top X + \lambda I)^{-1}`.

    Parameters
    ----------
    X : array-like or sparse, shape (n_users, n_items)
    lam : float
        L2 penalty, > 0.

    Returns
    -------
    numpy.ndarray
        Shape (n_items, n_items) with a zero diagonal (an item may not predict itself).
        Scores are ``X_foldin @ B``.
    """
    X = _as_sparse(X, "X")
    if isinstance(lam, (bool, np.bool_, str, bytes)) or lam is None:
        raise InputTypeError(f"lam must be a finite number > 0 (e.g. 100, or tune it with tune_ease), got {lam!r}.")
    if not (np.isfinite(lam) and lam > 0):
        raise ValueError(f"lam must be a finite number > 0 (e.g. 100, or tune it with tune_ease), got {lam}.")
    G = (X.T @ X).toarray().astype(np.float64)
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B


def tune_ease(
    X_train: Any, foldin: Any, heldout: Any, lambdas: Sequence[float], *, k: int = 100
) -> tuple[float, dict[float, float]]:
    """Choose EASE's lambda by validation NDCG@k, with one eigendecomposition for the whole grid.

    With :math:`X^\\top X = V \\operatorname{diag}(s) V^\\top`,
    :math:`P(\\lambda) = V \\operatorname{diag}(1/(s+\\lambda)) V^\\top`,
    so each lambda costs only products with the validation users' rows.

    Returns
    -------
    (best_lambda, {lambda: mean validation NDCG@k})
    """
    X = _as_sparse(X_train, "X_train")
    Fv, H = _as_sparse(foldin, "foldin"), _as_sparse(heldout, "heldout")
    if Fv.shape[1] != X.shape[1] or Fv.shape != H.shape:
        raise ValueError(f"foldin {Fv.shape}/heldout {H.shape} must be (n_val, {X.shape[1]}).")
    k = check_positive_int(k, "k")
    lambdas = [check_real(v, "lambdas[i]") for v in lambdas]
    if len(lambdas) == 0 or not all(np.isfinite(v) and v > 0 for v in lambdas):
        raise ValueError(f"lambdas must be a non-empty list of finite positive numbers, got {list(lambdas)}.")
    s, V = np.linalg.eigh((X.T @ X).toarray().astype(np.float64))
    FV = Fv.toarray() @ V
    V2 = V**2
    Fd = Fv.toarray()
    scores = {}
    for lam in lambdas:
        inv = 1.0 / (s + lam)
        FP = (FV * inv) @ V.T  # Fv @ P
        dP = V2 @ inv  # diag(P)
        # B = -P / diag(P) with its diagonal (-1) set to 0, so Fv @ B = -Fv @ P / diag(P) + Fv
        S = Fd - FP / dP[None, :]
        scores[float(lam)] = float(ndcg_at_k(mask_foldin(S, Fv), H, k).mean())
    best = max(scores, key=scores.get)
    return best, scores


@torch.no_grad()
def latent_neighbour_scores(
    model: RecAutoencoder, X_train: Any, X_query: Any, n_neighbours: int = 50, *, batch_size: int = 2048
) -> np.ndarray:
    """Score items by how many of a user's nearest training users (cosine of ``mu``) hold them.

    Both matrices stay sparse: users are encoded ``batch_size`` at a time, and the neighbour weights are a sparse
    (batch, n_train) matrix multiplied with the sparse training matrix.

    Returns
    -------
    numpy.ndarray
        Shape (n_query, n_items): similarity-weighted counts over the ``n_neighbours`` nearest training users.
    """
    Xt, Xq = _as_sparse(X_train, "X_train"), _as_sparse(X_query, "X_query")
    n_neighbours = check_positive_int(n_neighbours, "n_neighbours")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not 1 <= n_neighbours <= Xt.shape[0]:
        raise ValueError(f"n_neighbours must lie in [1, {Xt.shape[0]}], got {n_neighbours}.")
    if Xq.shape[1] != Xt.shape[1] or Xt.shape[1] != model.n_items:
        raise ValueError(f"X_train {Xt.shape} and X_query {Xq.shape} must both have the model's {model.n_items} items.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    device = next(model.parameters()).device

    def enc(A: sp.csr_matrix) -> np.ndarray:  # unit-norm posterior means, densifying one batch of rows at a time
        return np.concatenate(
            [
                F.normalize(model.encode(torch.from_numpy(A[s : s + batch_size].toarray()).to(device))[0], dim=1).cpu().numpy()
                for s in range(0, A.shape[0], batch_size)
            ]
        )

    with eval_mode(model):
        Mq, Mt = enc(Xq), enc(Xt)  # (n_query, latent), (n_train, latent): small
    out = np.empty((Xq.shape[0], Xt.shape[1]), dtype=np.float64)
    for s in range(0, Xq.shape[0], batch_size):
        sim = Mq[s : s + batch_size] @ Mt.T  # (batch, n_train)
        idx = np.argpartition(-sim, n_neighbours - 1, axis=1)[:, :n_neighbours]
        w = np.maximum(np.take_along_axis(sim, idx, axis=1), 0.0)
        rows = np.repeat(np.arange(sim.shape[0]), n_neighbours)
        W = sp.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=sim.shape)  # n_neighbours non-zeros per row
        out[s : s + batch_size] = (W @ Xt).toarray()  # sparse x sparse, then one dense batch of scores
    return out


@torch.no_grad()
def cold_start_scores(model: RecAutoencoder, how: str = "prior", *, n_samples: int = 200, seed: int = 0) -> np.ndarray:
    """Item scores for a user with no history, shape (n_items,).

    ``how="prior"``: mean of softmax(decode(z)) over ``n_samples`` draws z ~ N(0, I).
    ``how="empty"``: softmax of the decoder at the encoder's output for an all-zero input.
    """
    if how not in ("prior", "empty"):
        raise ValueError(f"how must be 'prior' or 'empty', got {how!r}.")
    n_samples = check_positive_int(n_samples, "n_samples")
    seed = check_seed(seed)
    device = next(model.parameters()).device
    with eval_mode(model):
        if how == "prior":
            z = torch.randn(n_samples, model.latent, generator=torch.Generator().manual_seed(seed)).to(device)
            out = torch.softmax(model.decode(z), dim=1).mean(dim=0)
        else:
            out = torch.softmax(model(torch.zeros(1, model.n_items, device=device)), dim=1)[0]
    return out.cpu().numpy().astype(np.float64)


@torch.no_grad()
def profile_nll(model: RecAutoencoder, X: Any) -> np.ndarray:
    """Multinomial NLL per held item of each profile reconstructed through ``z = mu``, shape (n_users,).

    High values flag profiles the model finds unusual. Users with no items raise ``ValueError``.
    """
    X = _as_sparse(X, "X")
    if X.shape[1] != model.n_items:
        raise ValueError(f"X has {X.shape[1]} items but the model expects {model.n_items}.")
    n = np.asarray(X.sum(axis=1)).ravel()
    if (n == 0).any():
        raise ValueError(f"X: {int((n == 0).sum())} profile(s) are empty; drop them before scoring.")
    logits = torch.from_numpy(predict_scores(model, X)).float()
    return multinomial_nll(logits, torch.from_numpy(X.toarray())).numpy().astype(np.float64) / n


def _draws_array(draws: Any) -> np.ndarray:
    D = as_nd_float(draws, "draws")
    if D.ndim not in (2, 3) or D.shape[0] < 1 or D.shape[-1] < 1:
        raise ValueError(f"draws must have shape (n_draws, n_items) or (n_draws, n_users, n_items), got {D.shape}.")
    if np.isnan(D).any():
        raise ValueError("draws hold NaN; fix the model output (posterior_scores) before ranking.")
    return D


def outrank_probability(draws: Any, items: Any) -> np.ndarray:
    r"""Share of posterior draws in which item ``items[a]`` outranks item ``items[b]``, for one user.

    All items of one draw are decoded from the same latent sample :math:`z^{(s)}`, so their scores move
    together: two items whose marginal intervals overlap can still keep their order in almost every draw.
    This matrix measures the order directly: :math:`P_{ab} = \frac1S \sum_s \mathbb 1[\pi_a(z^{(s)}) > \pi_b(z^{(s)})]`
    (ties count one half).

    Parameters
    ----------
    draws : array-like, shape (n_draws, n_items)
        Item scores of one user in each posterior draw (e.g. ``posterior_scores(model, X)[:, u]``).
    items : array-like of int, shape (k,)
        The items to compare (e.g. the user's top 10), distinct.

    Returns
    -------
    numpy.ndarray, shape (k, k)
        ``P[a, b] + P[b, a] = 1`` off the diagonal; the diagonal is NaN.
    """
    D = _draws_array(draws)
    if D.ndim != 2:
        raise ValueError(f"draws must be (n_draws, n_items) for one user, got {D.shape}; pass draws[:, u] for user u.")
    idx = np.asarray(items)
    if idx.ndim != 1 or len(idx) < 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"items must be a 1-D array of at least 2 integer item indices, got {idx!r}.")
    if idx.min() < 0 or idx.max() >= D.shape[1] or len(np.unique(idx)) != len(idx):
        raise ValueError(f"items must be distinct indices in [0, {D.shape[1]}).")
    V = D[:, idx]  # (S, k)
    P = (V[:, :, None] > V[:, None, :]).mean(0) + 0.5 * (V[:, :, None] == V[:, None, :]).mean(0)
    np.fill_diagonal(P, np.nan)
    return P


def topk_probability(draws: Any, k: int, *, exclude: Any = None) -> np.ndarray:
    """Each item's probability of being in the top ``k``: the share of posterior draws whose top k contains it.

    Parameters
    ----------
    draws : array-like, shape (n_draws, n_items) or (n_draws, n_users, n_items)
        Item scores per posterior draw (:func:`posterior_scores`).
    k : int
        List length, 1 <= k < n_items.
    exclude : array-like or sparse, shape (n_items,) or (n_users, n_items), optional
        Nonzero for items that may not be recommended (the fold-in items): they get probability 0.

    Returns
    -------
    numpy.ndarray, shape (n_items,) or (n_users, n_items)
        Values in [0, 1]; each row sums to ``k`` (when at least k items are allowed).
    """
    D = _draws_array(draws)
    n_items = D.shape[-1]
    k = check_positive_int(k, "k")
    if not 1 <= k < n_items:
        raise ValueError(f"k must lie in [1, {n_items}), got {k}.")
    if exclude is not None:
        E = exclude.toarray() if sp.issparse(exclude) else np.asarray(exclude)
        if E.shape != D.shape[1:]:
            raise ValueError(f"exclude {E.shape} must match one draw, {D.shape[1:]} (users x items).")
        D = np.where(E[None] != 0, -np.inf, D)
        if ((E != 0).sum(axis=-1) > n_items - k).any():
            raise ValueError(f"some user has fewer than k={k} items left after exclude; lower k.")
    top = np.argpartition(-D, k - 1, axis=-1)[..., :k]  # (S, [n_users,] k)
    hit = np.zeros(D.shape, dtype=np.float32)
    np.put_along_axis(hit, top, 1.0, axis=-1)
    return hit.mean(axis=0).astype(np.float64)


def popularity_outlyingness(X_train: Any, profiles: Any) -> np.ndarray:
    """How unusual a profile's items are by popularity alone: mean of -log(share of training users holding each item).

    A simple baseline for flagging unusual profiles: a profile of niche items scores high.

    Parameters
    ----------
    X_train : array-like or sparse, shape (n_train, n_items)
    profiles : array-like or sparse, shape (n_profiles, n_items)
        Each profile must hold at least one item.

    Returns
    -------
    numpy.ndarray, shape (n_profiles,)
    """
    Xt, Pr = _as_sparse(X_train, "X_train"), _as_sparse(profiles, "profiles")
    if Xt.shape[1] != Pr.shape[1]:
        raise ValueError(f"X_train {Xt.shape} and profiles {Pr.shape} must have the same items (columns).")
    n = np.asarray((Pr != 0).sum(axis=1)).ravel()
    if (n == 0).any():
        raise ValueError(f"{int((n == 0).sum())} profile(s) are empty; drop them before scoring.")
    share = (np.asarray((Xt != 0).sum(axis=0)).ravel() + 0.5) / (Xt.shape[0] + 1.0)  # +0.5: items no one holds stay finite
    return np.asarray((Pr != 0).astype(np.float64) @ -np.log(share)).ravel() / n
