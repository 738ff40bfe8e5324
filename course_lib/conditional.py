"""Conditional factor models: betas that depend on characteristics (Chapter 2b).

Panels are NumPy arrays: characteristics ``Z`` of shape (T, N, P) and returns ``R`` of shape (T, N), **already
aligned without look-ahead**: ``Z[t]`` was known before the returns ``R[t]`` (build the pairs with
:func:`lag_characteristics`). Three models share one interface (``fit``, ``betas``, ``factors``, ``fitted``,
``predicted``, ``premia_``):

- :class:`StaticPCA`: PCA on the training returns; each stock keeps one beta vector for ever;
- :class:`LinearConditional`: betas linear in the characteristics, ``beta_{i,t} = Gamma' [1, z_{i,t}]``,
  fitted by alternating least squares (IPCA, Kelly, Pruitt and Su 2019);
- :class:`ConditionalAutoencoder`: a beta network on the characteristics and a factor network on the
  characteristic-managed portfolios (Gu, Kelly and Xiu 2021).

Scores: :func:`total_r2` (realised factors) and :func:`predictive_r2` (betas times the factor means estimated on
the training periods), both against the raw sum of squared returns, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ._validation import InputTypeError, _to_numeric, as_nd_float, check_positive_int, check_real, check_seed

__all__ = [
    "lag_characteristics",
    "managed_portfolios",
    "total_r2",
    "predictive_r2",
    "StaticPCA",
    "LinearConditional",
    "ConditionalAutoencoder",
    "CAENet",
    "evaluate",
    "paired_r2_difference",
]


# --------------------------------------------------------------------------- checks
def _check_panel(Z: Any, R: Any, *, min_periods: int = 2, z_name: str = "Z", r_name: str = "R") -> tuple[np.ndarray, np.ndarray]:
    Z = _to_numeric(Z, z_name, np.float64)
    R = _to_numeric(R, r_name, np.float64)
    if Z.ndim != 3:
        raise ValueError(f"{z_name} must be 3-D (periods, stocks, characteristics), got shape {Z.shape}.")
    if R.ndim != 2:
        raise ValueError(f"{r_name} must be 2-D (periods, stocks), got shape {R.shape}.")
    if Z.shape[:2] != R.shape:
        raise ValueError(
            f"{z_name} has (periods, stocks) = {Z.shape[:2]} but {r_name} has shape {R.shape}: "
            "align them first (lag_characteristics pairs characteristics[t-1] with returns[t])."
        )
    if R.shape[0] < min_periods or R.shape[1] < 2:
        raise ValueError(f"{r_name} has shape {R.shape}: need at least {min_periods} periods and 2 stocks.")
    for name, a in ((z_name, Z), (r_name, R)):
        bad = ~np.isfinite(a)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} holds {int(bad.sum())} NaN or infinite value(s) (first at {first}): "
                "drop the periods without full history (e.g. the first year of price characteristics) first."
            )
    return Z, R


def _with_constant(Z: np.ndarray) -> np.ndarray:
    return np.concatenate([np.ones(Z.shape[:2] + (1,)), Z], axis=2)


# --------------------------------------------------------------------------- panel helpers
def lag_characteristics(characteristics: Any, returns: Any) -> tuple[np.ndarray, np.ndarray]:
    """Pair the characteristics known at the end of ``t - 1`` with the returns of ``t``.

    Parameters
    ----------
    characteristics : array, shape (T, N, P)
        ``characteristics[t]`` is known at the end of period ``t``.
    returns : array, shape (T, N)
        Returns of period ``t``.

    Returns
    -------
    Z_lag : ndarray, shape (T - 1, N, P)
        ``characteristics[:-1]``.
    R : ndarray, shape (T - 1, N)
        ``returns[1:]``.
    """
    Z, R = _check_panel(characteristics, returns, z_name="characteristics", r_name="returns")
    return Z[:-1], R[1:]


def managed_portfolios(characteristics: Any, returns: Any) -> np.ndarray:
    """Characteristic-managed portfolio returns ``x_t = Z_{t-1}' r_t / N``.

    Parameters
    ----------
    characteristics : array, shape (T, N, P)
        Known at the end of each period (not yet lagged).
    returns : array, shape (T, N)

    Returns
    -------
    ndarray, shape (T - 1, P)
        Row ``s`` is the return in period ``s + 1`` of the P portfolios weighted by the characteristics
        at the end of period ``s``.
    """
    Z, R = lag_characteristics(characteristics, returns)
    return np.einsum("tnp,tn->tp", Z, R) / R.shape[1]


def total_r2(returns: Any, fitted: Any) -> float:
    """Total R^2 = 1 - sum (r - r_hat)^2 / sum r^2 over all stocks and periods (no demeaning).

    Parameters
    ----------
    returns, fitted : array, same shape (any)
    """
    r, f = as_nd_float(returns, "returns"), as_nd_float(fitted, "fitted")
    if r.shape != f.shape:
        raise ValueError(f"fitted has shape {f.shape} but returns has {r.shape}: they must match.")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(f))):
        raise ValueError("returns and fitted must be finite (no NaN): drop the periods without data first.")
    denom = float((r**2).sum())
    if denom == 0:
        raise ValueError("returns are all zero: the R^2 is undefined.")
    return 1.0 - float(((r - f) ** 2).sum()) / denom


def predictive_r2(returns: Any, betas: Any, premia: Any) -> float:
    """Predictive R^2 = 1 - sum (r_{i,t} - beta_{i,t}' lambda)^2 / sum r_{i,t}^2.

    Parameters
    ----------
    returns : array, shape (T, N)
    betas : array, shape (T, N, K)
        Betas known before period t (from lagged characteristics).
    premia : array, shape (K,)
        Factor means estimated on the **training** periods (never the test periods' realised factors).
    """
    b, lam = as_nd_float(betas, "betas"), as_nd_float(premia, "premia").reshape(-1)
    if b.ndim != 3 or b.shape[2] != lam.shape[0]:
        raise ValueError(f"betas must have shape (T, N, K) with K = len(premia) = {lam.shape[0]}, got {b.shape}.")
    return total_r2(returns, b @ lam)


# --------------------------------------------------------------------------- models
class _Model:
    n_factors: int
    premia_: np.ndarray

    def _check_k(self, n_factors: int) -> None:
        check_positive_int(n_factors, "n_factors")

    def betas(self, Z: Any) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def factors(self, Z: Any, R: Any) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def fitted(self, Z: Any, R: Any) -> np.ndarray:
        """``betas[t] @ factors[t]`` with factors from the same periods' returns, shape (T, N)."""
        return np.einsum("tnk,tk->tn", self.betas(Z), self.factors(Z, R))

    def predicted(self, Z: Any) -> np.ndarray:
        """``betas[t] @ premia_`` (training factor means), shape (T, N): a forecast made before period t."""
        return self.betas(Z) @ self.premia_


class StaticPCA(_Model):
    """PCA betas: one loading vector per stock, fixed in time, from the (uncentred) training returns.

    ``R_train = U S V'``; betas are the first K columns of V (N, K); factors are ``R @ V_K``.
    Characteristics are ignored (only their shape is checked).
    """

    def __init__(self, n_factors: int = 3) -> None:
        self._check_k(n_factors)
        self.n_factors = int(n_factors)

    def fit(self, Z: Any, R: Any) -> StaticPCA:
        """Fit on training arrays ``Z`` (T, N, P) and ``R`` (T, N)."""
        Z, R = _check_panel(Z, R, min_periods=self.n_factors + 1)
        if self.n_factors > R.shape[1]:
            raise ValueError(f"n_factors={self.n_factors} exceeds the number of stocks {R.shape[1]}.")
        _, _, vt = np.linalg.svd(R, full_matrices=False)
        self.loadings_ = vt[: self.n_factors].T
        self.premia_ = self.factors(Z, R).mean(axis=0)
        return self

    def betas(self, Z: Any) -> np.ndarray:
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 3 or Z.shape[1] != self.loadings_.shape[0]:
            raise ValueError(f"Z must have shape (T, {self.loadings_.shape[0]}, P) (the same stocks), got {Z.shape}.")
        return np.broadcast_to(self.loadings_, (Z.shape[0],) + self.loadings_.shape)

    def factors(self, Z: Any, R: Any) -> np.ndarray:
        Z, R = _check_panel(Z, R, min_periods=1)
        return R @ self.loadings_


class LinearConditional(_Model):
    """Betas linear in the characteristics (IPCA): ``r_{i,t} = [1, z_{i,t}]' Gamma f_t + e_{i,t}``.

    Alternating least squares: given ``Gamma``, each period's factors are a cross-sectional regression of
    ``r_t`` on the betas ``Z_t Gamma``; given the factors, ``Gamma`` solves one pooled least-squares problem.

    Parameters
    ----------
    n_factors : int
    max_iter : int
        At most this many ALS rounds.
    tol : float
        Stop when the relative change of the training sum of squared errors is below ``tol``.
    """

    def __init__(self, n_factors: int = 3, max_iter: int = 200, tol: float = 1e-8) -> None:
        self._check_k(n_factors)
        max_iter = check_positive_int(max_iter, "max_iter")
        tol = check_real(tol, "tol", low=0.0, low_open=True)
        self.n_factors, self.max_iter, self.tol = int(n_factors), int(max_iter), float(tol)

    @staticmethod
    def _solve_factors(ZZ: np.ndarray, Zr: np.ndarray, G: np.ndarray) -> np.ndarray:
        A = np.einsum("lk,tlm,mj->tkj", G, ZZ, G)
        b = Zr @ G
        return np.linalg.solve(A + 1e-10 * np.eye(G.shape[1]), b[..., None])[..., 0]

    def fit(self, Z: Any, R: Any) -> LinearConditional:
        """Fit on training arrays ``Z`` (T, N, P) and ``R`` (T, N)."""
        Z, R = _check_panel(Z, R, min_periods=self.n_factors + 1)
        Zc = _with_constant(Z)
        L, K = Zc.shape[2], self.n_factors
        if K > L:
            raise ValueError(f"n_factors={K} exceeds the number of characteristics + 1 = {L}.")
        ZZ = np.einsum("tnl,tnm->tlm", Zc, Zc)
        Zr = np.einsum("tnl,tn->tl", Zc, R)
        _, _, vt = np.linalg.svd(Zr, full_matrices=False)
        G = vt[:K].T
        sse_old = np.inf
        self.n_iter_ = 0
        for it in range(self.max_iter):
            F = self._solve_factors(ZZ, Zr, G)
            M = np.einsum("tlm,tj,tk->lkmj", ZZ, F, F).reshape(L * K, L * K)
            rhs = np.einsum("tl,tk->lk", Zr, F).reshape(L * K)
            G = np.linalg.solve(M + 1e-10 * np.eye(L * K), rhs).reshape(L, K)
            G, _ = np.linalg.qr(G)
            F = self._solve_factors(ZZ, Zr, G)
            sse = float(((R - np.einsum("tnl,lk,tk->tn", Zc, G, F)) ** 2).sum())
            self.n_iter_ = it + 1
            if abs(sse_old - sse) <= self.tol * max(sse, 1e-300):
                break
            sse_old = sse
        self.gamma_ = G
        self.premia_ = F.mean(axis=0)
        return self

    def betas(self, Z: Any) -> np.ndarray:
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 3 or Z.shape[2] + 1 != self.gamma_.shape[0]:
            raise ValueError(f"Z must have shape (T, N, {self.gamma_.shape[0] - 1}), got {Z.shape}.")
        return _with_constant(Z) @ self.gamma_

    def factors(self, Z: Any, R: Any) -> np.ndarray:
        Z, R = _check_panel(Z, R, min_periods=1)
        Zc = _with_constant(Z)
        return self._solve_factors(np.einsum("tnl,tnm->tlm", Zc, Zc), np.einsum("tnl,tn->tl", Zc, R), self.gamma_)


class CAENet(nn.Module):
    """The conditional autoencoder's two networks.

    - beta network: characteristics (T, N, P) -> hidden ReLU layers -> betas (T, N, K);
    - factor network: managed portfolios ``x_t = [1, Z_t]' r_t / N`` (T, P + 1) -> linear -> factors (T, K).

    ``forward(Z, R)`` returns the fitted returns ``betas[t] @ factors[t]``, shape (T, N).
    """

    def __init__(self, n_characteristics: int, n_factors: int, hidden: tuple[int, ...] = (32,)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_characteristics
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_factors))
        self.beta_net = nn.Sequential(*layers)
        self.factor_net = nn.Linear(n_characteristics + 1, n_factors, bias=False)

    def betas(self, Z: torch.Tensor) -> torch.Tensor:
        return self.beta_net(Z)

    def factors(self, Z: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        Zc = torch.cat([torch.ones_like(Z[..., :1]), Z], dim=-1)
        x = torch.einsum("tnp,tn->tp", Zc, R) / R.shape[1]
        return self.factor_net(x)

    def forward(self, Z: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        return torch.einsum("tnk,tk->tn", self.betas(Z), self.factors(Z, R))


@dataclass
class _History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


class ConditionalAutoencoder(_Model):
    """Gu-Kelly-Xiu conditional autoencoder, trained full-batch with Adam and early stopping.

    Parameters
    ----------
    n_factors : int
    hidden : tuple of int
        Hidden widths of the beta network ((32,) is the paper's CA1).
    epochs : int
        Maximum number of full-batch Adam steps.
    lr : float
        Adam learning rate.
    l1 : float
        L1 penalty on the weights of both networks (as in the paper).
    patience : int
        Stop when the validation loss has not improved for this many epochs (needs validation data);
        the weights of the best validation epoch are kept.
    seed : int
        Seed of the weight initialisation (a forked generator: the global torch state is not touched).
    device : str or torch.device
    """

    def __init__(
        self,
        n_factors: int = 3,
        hidden: tuple[int, ...] = (32,),
        *,
        epochs: int = 300,
        lr: float = 1e-2,
        l1: float = 1e-5,
        patience: int = 30,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        self._check_k(n_factors)
        epochs = check_positive_int(epochs, "epochs")
        patience = check_positive_int(patience, "patience")
        seed = check_seed(seed)
        for nm, v in (("lr", lr), ("l1", l1)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
                raise InputTypeError(f"{nm} must be a finite number, got {v!r}.")
        if not lr > 0 or l1 < 0:
            raise ValueError(f"need epochs >= 1, lr > 0, l1 >= 0 and patience >= 1, got {epochs}, {lr}, {l1}, {patience}.")
        if isinstance(hidden, (int, np.integer, str)) or not hasattr(hidden, "__iter__"):
            raise InputTypeError(f"hidden must be a tuple of layer widths, e.g. (32,), got {hidden!r}.")
        hidden = tuple(check_positive_int(h, f"hidden[{i}]") for i, h in enumerate(hidden))
        self.n_factors, self.hidden = int(n_factors), tuple(int(h) for h in hidden)
        self.epochs, self.lr, self.l1, self.patience, self.seed = int(epochs), float(lr), float(l1), int(patience), int(seed)
        self.device = torch.device(device)

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=self.device)

    def fit(self, Z: Any, R: Any, Z_val: Any = None, R_val: Any = None) -> ConditionalAutoencoder:
        """Fit on training arrays ``Z`` (T, N, P), ``R`` (T, N); early-stop on ``Z_val``, ``R_val`` if given."""
        Z, R = _check_panel(Z, R, min_periods=self.n_factors + 1)
        has_val = Z_val is not None or R_val is not None
        if has_val:
            Z_val, R_val = _check_panel(Z_val, R_val, min_periods=1, z_name="Z_val", r_name="R_val")
            if Z_val.shape[1:] != Z.shape[1:]:
                raise ValueError(f"Z_val has (stocks, characteristics) {Z_val.shape[1:]} but Z has {Z.shape[1:]}.")
        self.scale_ = float(np.sqrt((R**2).mean()))  # a global scale leaves every R^2 unchanged
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = CAENet(Z.shape[2], self.n_factors, self.hidden).to(self.device)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        Zt, Rt = self._t(Z), self._t(R / self.scale_)
        if has_val:
            Zv, Rv = self._t(Z_val), self._t(R_val / self.scale_)
        weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
        self.history_ = _History()
        best, best_state, since = np.inf, None, 0
        for _ in range(self.epochs):
            net.train()
            opt.zero_grad()
            mse = ((net(Zt, Rt) - Rt) ** 2).mean()
            loss = mse + self.l1 * sum(w.abs().sum() for w in weights)
            loss.backward()
            opt.step()
            self.history_.train_loss.append(float(mse.detach()))
            if has_val:
                with torch.no_grad():
                    v = float(((net(Zv, Rv) - Rv) ** 2).mean())
                self.history_.val_loss.append(v)
                if v < best - 1e-7:
                    best, since = v, 0
                    best_state = {k: t.detach().clone() for k, t in net.state_dict().items()}
                else:
                    since += 1
                    if since >= self.patience:
                        break
        if best_state is not None:
            net.load_state_dict(best_state)
        if not np.isfinite(self.history_.train_loss[-1]):
            raise ValueError("training diverged (non-finite loss): lower lr.")
        self.best_epoch_ = int(np.argmin(self.history_.val_loss)) + 1 if has_val else len(self.history_.train_loss)
        self.net_ = net.eval()
        self.premia_ = self.factors(Z, R).mean(axis=0)
        return self

    def betas(self, Z: Any) -> np.ndarray:
        if not hasattr(self, "net_"):
            raise ValueError("this ConditionalAutoencoder is not fitted yet: call fit(Z, R) first.")
        Z = as_nd_float(Z, "Z")
        if Z.ndim != 3 or not np.all(np.isfinite(Z)):
            raise ValueError(f"Z must be a finite 3-D array (T, N, P), got shape {Z.shape}.")
        with torch.no_grad():
            return self.net_.betas(self._t(Z)).cpu().double().numpy()

    def factors(self, Z: Any, R: Any) -> np.ndarray:
        Z, R = _check_panel(Z, R, min_periods=1)
        with torch.no_grad():
            return self.net_.factors(self._t(Z), self._t(R / self.scale_)).cpu().double().numpy() * self.scale_


def evaluate(model: _Model, Z: Any, R: Any) -> dict[str, float]:
    """Total and predictive R^2 of a fitted model on (usually test) arrays ``Z`` (T, N, P), ``R`` (T, N)."""
    if not isinstance(model, _Model):
        raise InputTypeError(
            f"model must be a fitted StaticPCA, LinearConditional or ConditionalAutoencoder, got {type(model).__name__}."
        )
    return {"total_r2": total_r2(R, model.fitted(Z, R)), "predictive_r2": total_r2(R, model.predicted(Z))}


def paired_r2_difference(returns: Any, fit_a: Any, fit_b: Any) -> tuple[float, float]:
    """R^2 of ``fit_a`` minus R^2 of ``fit_b`` on the same returns, with a standard error over periods.

    Both R^2 share the denominator ``S = sum r^2``, so the difference is ``sum_t d_t`` with
    ``d_t = sum_i (e_b^2 - e_a^2) / S``; its standard error treats the periods as independent,
    ``sqrt(T) * std(d_t)``.

    Parameters
    ----------
    returns, fit_a, fit_b : array, shape (T, N)

    Returns
    -------
    (difference, standard_error) : tuple of float
    """
    r, a, b = (as_nd_float(x, nm) for x, nm in ((returns, "returns"), (fit_a, "fit_a"), (fit_b, "fit_b")))
    if r.ndim != 2 or a.shape != r.shape or b.shape != r.shape:
        raise ValueError(f"returns, fit_a and fit_b must share one 2-D shape (T, N), got {r.shape}, {a.shape}, {b.shape}.")
    if r.shape[0] < 3:
        raise ValueError(f"returns needs at least 3 periods for a standard error, got {r.shape[0]}.")
    total_r2(r, a), total_r2(r, b)  # finiteness and non-zero checks
    d = (((r - b) ** 2) - ((r - a) ** 2)).sum(axis=1) / float((r**2).sum())
    return float(d.sum()), float(np.sqrt(len(d)) * d.std(ddof=1))
