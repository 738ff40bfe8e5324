"""The few figure helpers the chapters share. Each ``plot_*`` function returns the matplotlib ``Axes``.

The intuition figures at the end (VAE diagram, curved market, strong-generalisation split, NDCG by hand)
come with the small functions that compute their numbers (:func:`curved_market_toy`,
:func:`ndcg_worked_example`), so a notebook can assert what its figure shows.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._validation import InputTypeError, as_2d_float, check_nonnegative_int, check_positive_int, check_real
from .train import History

__all__ = [
    "plot_training_curves",
    "plot_latent_scatter",
    "plot_correlation_heatmap",
    "plot_vae_diagram",
    "curved_market_toy",
    "plot_curved_market_toy",
    "plot_strong_generalization_split",
    "ndcg_worked_example",
    "plot_ndcg_worked_example",
]


def _check_length(values: Any, n: int, name: str) -> None:
    if values is not None and len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but Z has {n} rows: give one per row of Z.")


def plot_training_curves(history: History, ax: Axes | None = None, *, title: str = "Training curves", parts: bool = True) -> Axes:
    """Train and validation loss per epoch; with ``parts``, reconstruction and KL apart (KL on a right axis).

    Parameters
    ----------
    history : History
        From :func:`course_lib.train.fit` (or an estimator's ``history_``).
    """
    if not isinstance(history, History):
        raise InputTypeError(f"history must be a History (from fit, or an estimator's history_), got {type(history).__name__}.")
    if len(history) == 0:
        raise ValueError("history is empty: train for at least one epoch before plotting.")
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    epochs = np.arange(1, len(history) + 1)
    has_kl = any(v != 0 for v in history.train_kl)
    key = "recon" if parts and has_kl else "loss"
    ax.plot(epochs, history[f"train_{key}"], label=f"train {key}")
    if history.val_loss:
        ax.plot(epochs, history[f"val_{key}"], label=f"validation {key}")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch + 1, color="grey", ls=":", label="best validation epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction loss" if key == "recon" else "loss")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if parts and has_kl:
        ax2 = ax.twinx()
        ax2.plot(epochs, history.train_kl, color="C3", ls="--", label="train KL")
        if history.val_kl:
            ax2.plot(epochs, history.val_kl, color="C4", ls="--", label="validation KL")
        ax2.set_ylabel("KL (nats)")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if len(handles) > 3:  # with the KL curves on a second axis, a legend inside would cover them: put it below
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small", frameon=False)
    else:
        ax.legend(handles, labels, loc="best", fontsize="small")
    return ax


def plot_latent_scatter(
    Z: Any, labels: Any = None, ax: Axes | None = None, *, title: str = "Latent space", annotate: Any = None
) -> Axes:
    """Scatter of 2-D points (the first two principal components if ``Z`` has more columns), coloured by label.

    Parameters
    ----------
    Z : array-like, shape (n, d)
    labels : array-like, shape (n,), optional
        Categories for colour and legend.
    annotate : sequence of str, optional
        Text placed next to each point (for example tickers).
    """
    Z = as_2d_float(Z, "Z", dtype=np.float64)
    if Z.shape[1] < 2:
        raise ValueError(f"Z must have shape (n, d) with d >= 2, got {Z.shape}; a 1-D code needs another plot (a histogram).")
    _check_length(labels, len(Z), "labels")
    _check_length(annotate, len(Z), "annotate")
    xlabel, ylabel = "dimension 1", "dimension 2"
    if Z.shape[1] > 2:
        from sklearn.decomposition import PCA

        Z = PCA(2).fit_transform(Z)
        xlabel, ylabel = "PC 1 of the latents", "PC 2 of the latents"
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    if labels is None:
        ax.scatter(Z[:, 0], Z[:, 1], s=18, alpha=0.8, label="samples")
    else:
        labels = np.asarray(labels)
        for i, lab in enumerate(pd.unique(labels)):
            m = labels == lab
            ax.scatter(Z[m, 0], Z[m, 1], s=18, alpha=0.8, color=plt.cm.tab10(i % 10), label=str(lab))
    if annotate is not None:
        for (x, y), text in zip(Z[:, :2], annotate):
            ax.annotate(str(text), (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small", loc="best", markerscale=1.2)
    return ax


def plot_correlation_heatmap(
    corr: Any, ax: Axes | None = None, *, title: str = "Correlation matrix", ticklabels: bool = True
) -> Axes:
    """Heatmap of a correlation matrix on a fixed [-1, 1] colour scale, with a colour bar.

    Parameters
    ----------
    corr : pandas.DataFrame or array-like, shape (n, n)
        Correlations: finite, in [-1, 1] (a covariance matrix is refused; convert it with ``df.corr()``).
    """
    C = as_2d_float(corr, "corr", dtype=np.float64)
    if C.shape[0] != C.shape[1]:
        raise ValueError(f"corr must be square, got shape {C.shape}.")
    if np.abs(C).max() > 1 + 1e-6:
        raise ValueError(
            f"corr has values up to {np.abs(C).max():.3g} in absolute value, outside [-1, 1]: it looks like a covariance; "
            "pass a correlation matrix (df.corr() or np.corrcoef)."
        )
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    im = ax.imshow(C, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.figure.colorbar(im, ax=ax, label="correlation")
    if ticklabels and isinstance(corr, pd.DataFrame) and len(corr) <= 30:
        ax.set_xticks(range(len(corr)), corr.columns, rotation=90, fontsize=7)
        ax.set_yticks(range(len(corr)), corr.index, fontsize=7)
    else:
        ax.set_xlabel("asset")
        ax.set_ylabel("asset")
    ax.set_title(title)
    return ax


# Intuition figures (issue 15, item 3) -------------------------------------
# Each draws one idea a reader would rather look at than read: the VAE's data flow, why a curve beats a line,
# the strong-generalisation split, and NDCG/Recall worked by hand. All randomness is local (default_rng(seed)).

_VAE_COLOURS = {
    "data": "#cfe2f3",
    "neural network": "#d9ead3",
    "latent code": "#fff2cc",
    "random noise (no gradient)": "#eeeeee",
    "loss term": "#f4cccc",
}


def _check_ax(ax: Any) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise InputTypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, kind: str, fontsize: float = 10) -> None:
    """A rounded box centred on (x, y), filled with the colour of ``kind``, with ``text`` in it."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.15",
            facecolor=_VAE_COLOURS[kind],
            edgecolor="0.3",
            linewidth=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], **kw: Any) -> None:
    props = dict(arrowstyle="-|>", color="0.2", lw=1.4, shrinkA=0, shrinkB=0)
    props.update(kw)
    ax.annotate("", xy=end, xytext=start, arrowprops=props)


def plot_vae_diagram(ax: Axes | None = None, *, title: str = "The variational autoencoder (VAE): data flow and loss") -> Axes:
    r"""Block diagram of a VAE: encoder, the reparameterisation :math:`z = \mu + \sigma \odot \varepsilon`, decoder, losses.

    The input :math:`x` (shape (n_features,), for example one day of returns) goes through the encoder to
    the mean :math:`\mu` and log-variance :math:`\log\sigma^2` of :math:`q(z\mid x)` (each shape
    (latent_dim,)); a sample :math:`z = \mu + \sigma \odot \varepsilon` with
    :math:`\varepsilon \sim \mathcal N(0, I)` drawn as a side input (so gradients flow through
    :math:`\mu` and :math:`\sigma`, not through the random draw) goes through the decoder to
    :math:`\hat x`. The two loss terms are annotated: reconstruction (compare :math:`\hat x` with
    :math:`x`) and the KL divergence of :math:`q(z\mid x)` from the prior :math:`\mathcal N(0, I)`.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Where to draw; a new 8 x 4 inch figure by default. Its axis frame is switched off.
    title : str

    Returns
    -------
    matplotlib.axes.Axes
        With a legend of the box kinds (data, neural network, latent code, random noise, loss term).
    """
    _check_ax(ax)
    if not isinstance(title, str):
        raise InputTypeError(f"title must be a str, got {type(title).__name__}.")
    from matplotlib.patches import Patch

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 8.6)
    ax.axis("off")
    y = 5.0
    # main row: x -> encoder -> (mu, log sigma^2) -> z -> decoder -> x_hat
    _box(ax, 1.0, y, 1.5, 1.3, "input\n$x$", "data")
    _box(ax, 3.5, y, 2.0, 1.6, "encoder\n$q_\\phi(z\\mid x)$", "neural network")
    _box(ax, 6.3, y, 1.9, 1.9, "$\\mu$\n\n$\\log\\sigma^2$", "latent code", fontsize=11)
    _box(ax, 9.1, y, 2.1, 1.3, "$z = \\mu + \\sigma\\,\\varepsilon$", "latent code")
    _box(ax, 12.0, y, 2.0, 1.6, "decoder\n$p_\\theta(x\\mid z)$", "neural network")
    _box(ax, 14.9, y, 1.5, 1.3, "output\n$\\hat x$", "data")
    for a, b in ((1.75, 2.5), (4.5, 5.35), (7.25, 8.05), (10.15, 11.0), (13.0, 14.15)):
        _arrow(ax, (a, y), (b, y))
    # the side input epsilon
    _box(ax, 9.1, 2.45, 2.1, 1.1, "$\\varepsilon \\sim \\mathcal{N}(0, I)$", "random noise (no gradient)")
    _arrow(ax, (9.1, 3.0), (9.1, 4.35))
    ax.text(9.35, 3.68, "reparameterisation:\nrandomness enters here", fontsize=8, va="center", ha="left", color="0.25")
    # KL term under (mu, log sigma^2)
    _box(ax, 5.3, 1.15, 5.6, 1.1, "KL loss: $\\mathrm{KL}(q_\\phi(z\\mid x)\\,\\|\\,\\mathcal{N}(0, I))$", "loss term", 9)
    _arrow(ax, (6.3, 4.05), (6.3, 1.7), ls="--")
    # reconstruction term joining x and x_hat over the top
    _box(
        ax,
        8.0,
        7.85,
        9.6,
        0.9,
        "reconstruction loss: $-\\log p_\\theta(x\\mid z)$  (compares $\\hat x$ with $x$)",
        "loss term",
        9,
    )
    # the dashed arrows end at the box's edges (x = 8.0 -/+ 9.6 / 2), outside its text
    _arrow(ax, (1.0, 5.65), (3.2, 7.85), ls="--", connectionstyle="angle,angleA=90,angleB=0,rad=0")
    _arrow(ax, (14.9, 5.65), (12.8, 7.85), ls="--", connectionstyle="angle,angleA=90,angleB=180,rad=0")
    ax.text(13.3, 1.15, "loss = reconstruction + $\\beta$ $\\cdot$ KL", fontsize=9, ha="center", va="center")
    handles = [Patch(facecolor=c, edgecolor="0.3", label=k) for k, c in _VAE_COLOURS.items()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5, fontsize=7.5, frameon=False)
    ax.set_title(title)
    return ax


def curved_market_toy(n: int = 300, seed: int = 0, *, noise: float = 0.15, curvature: float = 0.6) -> dict[str, Any]:
    r"""Two asset returns driven by one latent factor through a curved map, and their best 1-D reconstructions.

    With a factor :math:`f_t \sim \mathcal N(0, 1)`, asset A is linear in it and asset B is convex
    (like the ``"squared"`` market of :func:`course_lib.data.make_factor_market`):

    .. math:: r_{A,t} = f_t + e_{A,t}, \qquad r_{B,t} = 0.5 f_t + c\,(f_t^2 - 1) + e_{B,t}, \qquad e \sim \mathcal N(0, s^2 I).

    Two 1-D reconstructions are compared: PCA's first component (the best *linear* 1-D reconstruction:
    the orthogonal projection onto a line through the mean) and the orthogonal projection onto the true
    curve :math:`f \mapsto (f, 0.5 f + c (f^2 - 1))` (what a non-linear 1-D model can reach at best).

    Parameters
    ----------
    n : int, default 300
        Number of days (points), at least 10.
    seed : int, default 0
        Seed of the local generator; the global random state is not touched.
    noise : float, default 0.15
        Standard deviation :math:`s` of the idiosyncratic noise, >= 0.
    curvature : float, default 0.6
        :math:`c`, the convex exposure of asset B, >= 0 (0 gives a linear market).

    Returns
    -------
    dict
        ``X`` (n, 2) the returns; ``X_pca`` (n, 2) and ``X_curve`` (n, 2) the reconstructions;
        ``mse_pca`` and ``mse_curve`` (floats, mean over points and both assets of the squared error);
        ``curve`` (m, 2) points of the true curve in plotting order; ``pc1`` (2,) the unit first
        principal direction and ``mean`` (2,) the sample mean.
    """
    n = check_positive_int(n, "n", minimum=10)
    seed = check_nonnegative_int(seed, "seed")
    noise = check_real(noise, "noise", low=0.0)
    curvature = check_real(curvature, "curvature", low=0.0)
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)

    def curve_at(t: np.ndarray) -> np.ndarray:
        return np.column_stack([t, 0.5 * t + curvature * (t**2 - 1.0)])

    X = curve_at(f) + noise * rng.standard_normal((n, 2))
    mean = X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    pc1 = Vt[0]
    X_pca = mean + np.outer((X - mean) @ pc1, pc1)
    # nearest point of the true curve, on a fine grid of the factor (vectorised: n x grid)
    lo, hi = float(X[:, 0].min()) - 1.0, float(X[:, 0].max()) + 1.0
    grid = curve_at(np.linspace(lo, hi, 2001))
    d2 = ((X[:, None, :] - grid[None, :, :]) ** 2).sum(axis=2)
    X_curve = grid[d2.argmin(axis=1)]
    return {
        "X": X,
        "X_pca": X_pca,
        "X_curve": X_curve,
        "mse_pca": float(((X - X_pca) ** 2).mean()),
        "mse_curve": float(((X - X_curve) ** 2).mean()),
        "curve": curve_at(np.linspace(float(f.min()), float(f.max()), 200)),
        "pc1": pc1,
        "mean": mean,
    }


def plot_curved_market_toy(
    n: int = 300,
    seed: int = 0,
    ax: Axes | None = None,
    *,
    noise: float = 0.15,
    curvature: float = 0.6,
    title: str = "A curved market: one factor, two assets",
) -> Axes:
    """Scatter of the toy of :func:`curved_market_toy`, with PCA's line and the true curve drawn over the points.

    The legend gives each 1-D reconstruction's mean squared error: the line (PCA, the best linear 1-D
    model) misses the bend, the curve (what a non-linear 1-D model such as an autoencoder with one
    latent can reach) leaves only the noise.

    Parameters
    ----------
    n, seed, noise, curvature
        As in :func:`curved_market_toy`.
    ax : matplotlib Axes, optional
        A new 8 x 4 inch figure by default.
    title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_ax(ax)
    toy = curved_market_toy(n, seed, noise=noise, curvature=curvature)
    X, mean, pc1 = toy["X"], toy["mean"], toy["pc1"]
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    ax.scatter(X[:, 0], X[:, 1], s=10, alpha=0.45, color="0.45", label=f"daily returns ({len(X)} days)")
    # the line, clipped to the box that holds the points
    lo, hi = X.min(axis=0), X.max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ends = np.sort(np.stack([(lo - mean) / pc1, (hi - mean) / pc1]), axis=0)
    seg = mean + np.outer([np.nanmax(ends[0]), np.nanmin(ends[1])], pc1)
    ax.plot(seg[:, 0], seg[:, 1], color="C0", lw=2.2, label=f"PCA line (best linear 1-D model): MSE {toy['mse_pca']:.3f}")
    ax.plot(
        toy["curve"][:, 0],
        toy["curve"][:, 1],
        color="C3",
        lw=2.2,
        label=f"true curve (what a non-linear 1-D model can reach): MSE {toy['mse_curve']:.3f}",
    )
    ax.set_xlabel("asset A return (linear in the factor)")
    ax.set_ylabel("asset B return (convex)")
    ax.set_title(title)
    top, bottom = float(X[:, 1].max()), float(X[:, 1].min())
    ax.set_ylim(bottom - 0.08 * (top - bottom), top + 0.3 * (top - bottom))  # room for the legend above the points
    ax.legend(loc="upper center", fontsize=8)
    return ax


_SPLIT_COLOURS = (
    ("no interaction", "#ffffff"),
    ("training user: all items (used to fit)", "#6b8fbf"),
    ("validation user: fold-in (model input)", "#93c47d"),
    ("validation user: held-out (scored)", "#38761d"),
    ("test user: fold-in (model input)", "#f6b26b"),
    ("test user: held-out (scored)", "#b45f06"),
)


def _toy_interactions(n_users: int, n_items: int, rng: np.random.Generator) -> Any:
    import scipy.sparse as sp

    pop = 1.0 / np.arange(1, n_items + 1) ** 0.7  # a few popular items, a long tail
    pop = pop[rng.permutation(n_items)]
    pop /= pop.sum()
    rows, cols = [], []
    for u in range(n_users):
        c = int(rng.integers(5, max(6, min(n_items, 13))))
        cols.append(rng.choice(n_items, size=min(c, n_items), replace=False, p=pop))
        rows.append(np.full(len(cols[-1]), u))
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n_users, n_items))


def plot_strong_generalization_split(
    split: Any = None,
    *,
    n_users: int = 30,
    n_items: int = 30,
    n_heldout_users: int = 5,
    seed: int = 0,
    max_train_users: int = 30,
    max_items: int = 60,
    ax: Axes | None = None,
    title: str = "Strong generalisation: whole users are held out",
) -> Axes:
    """Users x items picture of the strong-generalisation protocol of :func:`course_lib.recsplit.strong_generalization_split`.

    Rows are users grouped by role: training users (every interaction is used to fit), then validation
    and test users, whose interactions are split into a fold-in part (what the model sees) and a held-out
    part (what it is scored on). Each kind of cell has its own colour.

    Parameters
    ----------
    split : RecSplit, optional
        A split to draw (for example the chapter's own). Without it, a small random interaction matrix
        of ``n_users`` x ``n_items`` (5 to 12 items per user, popular items more often) is split with
        ``n_heldout_users`` validation and test users each.
    n_users, n_items, n_heldout_users : int
        Size of the toy (ignored when ``split`` is given); ``2 * n_heldout_users < n_users``, ``n_items >= 10``.
    seed : int
        Seed of the toy and of its split (local generator).
    max_train_users : int, default 30
        Draw at most this many training users (the first ones) and this many validation and test users each.
    max_items : int, default 60
        Draw at most this many items: those with the most interactions among the drawn users.
    ax : matplotlib Axes, optional
        A new 8 x 4 inch figure by default.
    title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    import scipy.sparse as sp
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from .recsplit import RecSplit, strong_generalization_split

    _check_ax(ax)
    max_train_users = check_positive_int(max_train_users, "max_train_users")
    max_items = check_positive_int(max_items, "max_items", minimum=2)
    if split is None:
        n_users = check_positive_int(n_users, "n_users", minimum=5)
        n_items = check_positive_int(n_items, "n_items", minimum=10)
        n_heldout_users = check_positive_int(n_heldout_users, "n_heldout_users")
        seed = check_nonnegative_int(seed, "seed")
        if 2 * n_heldout_users >= n_users:
            raise ValueError(
                f"n_heldout_users={n_heldout_users} leaves no training users among n_users={n_users}: "
                "need 2 * n_heldout_users < n_users."
            )
        rng = np.random.default_rng(seed)
        split = strong_generalization_split(_toy_interactions(n_users, n_items, rng), n_heldout_users, seed=seed)
    elif not isinstance(split, RecSplit):
        raise InputTypeError(f"split must be a RecSplit (from strong_generalization_split) or None, got {type(split).__name__}.")
    m = max_train_users
    blocks = [
        (split.train[:m], 1),
        (split.val_foldin[:m], 2),
        (split.val_heldout[:m], 3),
        (split.test_foldin[:m], 4),
        (split.test_heldout[:m], 5),
    ]
    n_tr, n_va, n_te = blocks[0][0].shape[0], blocks[1][0].shape[0], blocks[3][0].shape[0]
    codes = np.zeros((n_tr + n_va + n_te, split.n_items), dtype=int)
    offsets = {1: 0, 2: n_tr, 3: n_tr, 4: n_tr + n_va, 5: n_tr + n_va}
    for M, code in blocks:
        r, c = sp.coo_matrix(M).nonzero()
        codes[r + offsets[code], c] = code
    shown_items = np.arange(split.n_items)
    if split.n_items > max_items:
        shown_items = np.sort(np.argsort(-(codes > 0).sum(axis=0), kind="stable")[:max_items])
        codes = codes[:, shown_items]
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    cmap = ListedColormap([c for _, c in _SPLIT_COLOURS])
    ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=5.5, aspect="auto", interpolation="nearest")
    # thin grid between cells, thick lines between the user groups
    ax.set_xticks(np.arange(-0.5, codes.shape[1], 1), minor=True)
    ax.set_yticks(np.arange(-0.5, codes.shape[0], 1), minor=True)
    ax.grid(which="minor", color="0.9", lw=0.4)
    ax.tick_params(which="minor", length=0)
    for edge in (n_tr - 0.5, n_tr + n_va - 0.5):
        ax.axhline(edge, color="black", lw=1.6)
    n_all = (len(split.train_users), len(split.val_users), len(split.test_users))
    names = ("training\nusers", "validation\nusers", "test\nusers")
    centres = (n_tr / 2 - 0.5, n_tr + n_va / 2 - 0.5, n_tr + n_va + n_te / 2 - 0.5)
    shown = (n_tr, n_va, n_te)
    ax.set_yticks(centres, [f"{nm}\n({s} of {a})" if s < a else nm for nm, s, a in zip(names, shown, n_all)], fontsize=8)
    ax.set_xticks([])
    more = f" ({len(shown_items)} of {split.n_items} shown)" if len(shown_items) < split.n_items else ""
    ax.set_xlabel(f"items{more}")
    ax.set_ylabel("users, grouped by role")
    handles = [Patch(facecolor=c, edgecolor="0.5", label=lab) for lab, c in _SPLIT_COLOURS[1:]]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)
    note = (
        "The model is fitted on the training rows.\n"
        "To evaluate it, it reads a held-out user's\n"
        "fold-in cells and ranks every other item;\n"
        "the held-out cells are the right answers.\n"
        "Validation users pick the settings, test\n"
        "users give the reported score."
    )
    ax.text(1.025, 0.62, note, transform=ax.transAxes, ha="left", va="top", fontsize=7.5, color="0.25")
    ax.set_title(title)
    return ax


def ndcg_worked_example(ranked_items: Any, relevant: Any, k: int = 10) -> dict[str, Any]:
    r"""NDCG@k and Recall@k of one ranked list, term by term (the conventions of :mod:`course_lib.metrics`).

    A hit at rank :math:`r` earns the discount :math:`1/\log_2(r+1)` (1 at rank 1, 0.63 at rank 2,
    0.5 at rank 3, ...). DCG@k sums the discounts of the hits in the top ``k``; the ideal DCG puts
    :math:`m = \min(k, n_{rel})` hits at ranks 1..m; NDCG@k = DCG / IDCG; Recall@k = hits / m.

    Parameters
    ----------
    ranked_items : sequence, length >= k
        Item labels (str or int), best first, no duplicates.
    relevant : collection
        The held-out (relevant) items, at least one; they need not be in ``ranked_items``.
    k : int, default 10

    Returns
    -------
    dict
        ``top`` (list of the k items), ``hits`` (bool array, shape (k,)), ``discounts`` (shape (k,)),
        ``dcg``, ``idcg``, ``ndcg``, ``recall`` (floats), ``n_hits`` and ``m`` (ints).
    """
    k = check_positive_int(k, "k")
    if isinstance(ranked_items, (str, bytes)) or not hasattr(ranked_items, "__len__"):
        raise InputTypeError(
            f"ranked_items must be a sequence of item labels (list or array), got {type(ranked_items).__name__}."
        )
    ranked = list(ranked_items)
    if len(ranked) < k:
        raise ValueError(f"ranked_items has {len(ranked)} item(s) but k={k}: pass at least k ranked items or lower k.")
    if len(set(ranked)) != len(ranked):
        raise ValueError("ranked_items holds duplicates: a ranking lists each item once.")
    if isinstance(relevant, (str, bytes)) or not hasattr(relevant, "__iter__"):
        raise InputTypeError(f"relevant must be a collection of item labels (set or list), got {type(relevant).__name__}.")
    rel = set(relevant)
    if not rel:
        raise ValueError("relevant is empty: NDCG and Recall are undefined for a user with no held-out items.")
    top = ranked[:k]
    hits = np.array([item in rel for item in top])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    m = min(k, len(rel))
    dcg = float(discounts[hits].sum())
    idcg = float(discounts[:m].sum())
    return {
        "top": top,
        "hits": hits,
        "discounts": discounts,
        "dcg": dcg,
        "idcg": idcg,
        "ndcg": dcg / idcg,
        "recall": int(hits.sum()) / m,
        "n_hits": int(hits.sum()),
        "m": m,
    }


def plot_ndcg_worked_example(
    ranked_items: Any,
    relevant: Any,
    k: int = 10,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    r"""NDCG@k and Recall@k worked by hand for one user (an investor): the top-k list, hits, discounts, totals.

    One bar per rank :math:`r = 1..k` of height :math:`1/\log_2(r+1)`: filled for a hit (a held-out
    item), hatched for a miss (the discount it would have earned). Diamonds mark the ideal ranking
    (all :math:`\min(k, n_{rel})` relevant items first). A box gives DCG@k, the ideal DCG, NDCG@k and
    Recall@k, with the same values as :func:`course_lib.metrics.ndcg_at_k` and
    :func:`course_lib.metrics.recall_at_k` (see :func:`ndcg_worked_example`).

    Parameters
    ----------
    ranked_items : sequence, length >= k
        Item labels, best first (for example fund names ranked by a model, fold-in items removed).
    relevant : collection
        The user's held-out items.
    k : int, default 10
    ax : matplotlib Axes, optional
        A new 8 x 4 inch figure by default.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_ax(ax)
    w = ndcg_worked_example(ranked_items, relevant, k)
    k = len(w["top"])
    ranks = np.arange(1, k + 1)
    hits, disc = w["hits"], w["discounts"]
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    ax.bar(ranks[hits], disc[hits], color="C2", edgecolor="black", label="hit: discount $1/\\log_2(r+1)$ earned")
    ax.bar(ranks[~hits], disc[~hits], color="none", edgecolor="0.6", hatch="//", label="miss: nothing earned")
    ax.plot(ranks[: w["m"]], disc[: w["m"]], "D", color="C1", ms=5, label=f"ideal ranking ({w['m']} relevant at the top)")
    for r, d, h in zip(ranks, disc, hits):
        if h:
            ax.text(r, d + 0.04, f"{d:.2f}", ha="center", va="bottom", fontsize=7.5)
    width = max(6, int(110 / k))  # characters per line of an item label, so that k labels fit side by side

    def short(item: Any) -> str:
        lines = textwrap.wrap(str(item), width, break_long_words=False) or [""]  # whole words only
        return "\n".join(lines[:3]) + ("…" if len(lines) > 3 else "")

    ax.set_xticks(ranks, [f"{r}\n{short(item)}" for r, item in zip(ranks, w["top"])], fontsize=7 if k > 8 else 8)
    for lab, h in zip(ax.get_xticklabels(), hits):
        if h:
            lab.set_color("C2")
            lab.set_fontweight("bold")
    ax.set_xlim(0.4, k + 0.6)
    ax.set_ylim(0, 1.55)
    ax.set_xlabel(f"rank r in the top {k} (item)")
    ax.set_ylabel("discount $1/\\log_2(r+1)$")

    def total(ds: np.ndarray) -> str:
        if len(ds) == 0:
            return "0"
        if len(ds) > 4:
            return f"sum of {len(ds)} discounts"
        return " + ".join(f"{d:.3f}" for d in ds)

    n_rel = len(set(relevant))
    text = (
        f"DCG@{k} = {total(disc[hits])} = {w['dcg']:.3f}\n"
        f"ideal DCG@{k} = {total(disc[: w['m']])} = {w['idcg']:.3f}\n"
        f"NDCG@{k} = DCG / ideal DCG = {w['ndcg']:.3f}\n"
        f"Recall@{k} = {w['n_hits']} hits / min({k}, {n_rel} relevant) = {w['recall']:.3f}"
    )
    ax.text(
        0.985,
        0.97,
        text,
        transform=ax.transAxes,
        ha="right",
        va="top",
        multialignment="left",
        fontsize=8,
        family="monospace",
        bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.6"),
    )
    ax.legend(loc="upper left", fontsize=7.5)
    ax.set_title(title or f"NDCG@{k} and Recall@{k} by hand: {w['n_hits']} of {n_rel} held-out items in the top {k}")
    return ax
