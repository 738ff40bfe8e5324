"""Mult-VAE at MovieLens-20M size: one training epoch on a generated sparse matrix.

The matrix (about 136k users x 20k items, 10M interactions, long-tailed item
popularity and user activity) stays a scipy CSR matrix; ``course_lib.train.fit``
densifies one mini-batch at a time, so memory stays near the model, the CSR
matrix and one dense batch, far below the 10.9 GB a dense float32 copy would need.
"""

from __future__ import annotations

import json
import resource
import time

import numpy as np
import scipy.sparse as sp
import torch

from course_lib import set_seed
from course_lib.losses import linear_anneal
from course_lib.recommend import RecAutoencoder, recommender_loss
from course_lib.train import fit

from . import RESULTS


def make_ml20m_like(
    n_users: int = 136_677, n_items: int = 20_108, n_interactions: int = 10_000_000, seed: int = 0, oversample: float = 1.12
) -> sp.csr_matrix:
    """A binary CSR matrix with ML-20M's shape and density (Zipf-like items, lognormal user activity).

    ``oversample`` draws a few more pairs than wanted because repeated pairs collapse to one.
    """
    rng = np.random.default_rng(seed)
    activity = rng.lognormal(0.0, 1.0, n_users) + 0.05
    counts = np.maximum(5, np.round(activity / activity.sum() * n_interactions * oversample)).astype(np.int64)
    counts = np.minimum(counts, n_items // 2)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.75
    pop = pop[rng.permutation(n_items)]
    pop /= pop.sum()
    rows = np.repeat(np.arange(n_users), counts)
    cols = rng.choice(n_items, size=len(rows), p=pop)
    X = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    X.data[:] = 1.0  # duplicates collapse to one interaction
    return X


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports kB


def run(batch_size: int = 500, seed: int = 0) -> dict:
    """Generate the matrix, train Mult-VAE [20k-600-200-600-20k] for one epoch, report time and memory."""
    set_seed(seed)
    t0 = time.perf_counter()
    X = make_ml20m_like(seed=seed)
    gen_s = time.perf_counter() - t0
    rss_data = _peak_rss_mb()
    model = RecAutoencoder(X.shape[1])
    loss = recommender_loss("multinomial")
    n_batches = -(-X.shape[0] // batch_size)
    progress = RESULTS / "scale_progress.tmp"
    calls = [0]

    def timed_loss(m, x, beta):  # the Mult-VAE loss, plus a progress line every 20 batches
        calls[0] += 1
        if calls[0] % 20 == 0:
            progress.write_text(f"{calls[0]}/{n_batches} batches after {time.perf_counter() - t0:.0f} s\n")
        return loss(m, x, beta)

    t0 = time.perf_counter()
    hist = fit(
        model,
        X,
        epochs=1,
        batch_size=batch_size,
        lr=1e-3,
        beta=linear_anneal(0.2, 1),
        loss_fn=timed_loss,
        seed=seed,
        device="cpu",
        progress=False,
    )
    epoch_s = time.perf_counter() - t0
    progress.unlink(missing_ok=True)
    out = {
        "n_users": int(X.shape[0]),
        "n_items": int(X.shape[1]),
        "n_interactions": int(X.nnz),
        "batch_size": batch_size,
        "torch_threads": torch.get_num_threads(),
        "device": "cpu",
        "generate_seconds": round(gen_s, 1),
        "seconds_per_epoch": round(epoch_s, 1),
        "train_loss": round(hist.train_loss[-1], 2),
        "peak_rss_mb_after_generation": round(rss_data, 0),
        "peak_rss_mb": round(_peak_rss_mb(), 0),
        "csr_matrix_mb": round((X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20, 0),
        "dense_float32_mb_avoided": round(X.shape[0] * X.shape[1] * 4 / 2**20, 0),
    }
    return out


def main() -> dict:
    out = run()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale_ml20m.json").write_text(json.dumps(out, indent=2) + "\n")
    text = "\n".join(f"{k:32s} {v}" for k, v in out.items())
    (RESULTS / "scale_ml20m.txt").write_text(
        "Mult-VAE, one epoch at MovieLens-20M size (generated sparse matrix)\n" + text + "\n"
    )
    print(text)
    return out


if __name__ == "__main__":
    main()
