"""The few figure helpers the chapters share. Each returns the matplotlib ``Axes``."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._validation import InputTypeError, as_2d_float
from .train import History

__all__ = ["plot_training_curves", "plot_latent_scatter", "plot_correlation_heatmap"]


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
    ax.legend(handles, labels, loc="upper right", fontsize="small")
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
