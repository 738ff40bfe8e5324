"""The intuition figures of course_lib.plots (issue 15, item 3): labelled, rendered, validated, numbers that agree."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib.data import make_fund_holdings  # noqa: E402
from course_lib.metrics import ndcg_at_k, recall_at_k  # noqa: E402
from course_lib.plots import (  # noqa: E402
    curved_market_toy,
    ndcg_worked_example,
    plot_curved_market_toy,
    plot_ndcg_worked_example,
    plot_strong_generalization_split,
    plot_vae_diagram,
)
from course_lib.recsplit import strong_generalization_split  # noqa: E402

RANKED = [f"fund {c}" for c in "ABCDEFGHIJKL"]
RELEVANT = {"fund B", "fund E", "fund J", "fund Z"}  # fund Z is held out but not ranked in the list


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _legend_texts(ax) -> list[str]:
    leg = ax.get_legend()
    assert leg is not None, "figure has no legend"
    return [t.get_text() for t in leg.get_texts()]


def _render(ax) -> None:
    ax.figure.canvas.draw()


# One zero-argument call per figure, reused by the labelling, rendering and random-state tests.
FIGURES = {
    "vae_diagram": lambda: plot_vae_diagram(),
    "curved_market": lambda: plot_curved_market_toy(n=200, seed=3),
    "split_toy": lambda: plot_strong_generalization_split(),
    "ndcg": lambda: plot_ndcg_worked_example(RANKED, RELEVANT, k=10),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_has_title_legend_and_renders(name):
    ax = FIGURES[name]()
    _render(ax)
    assert ax.get_title().strip(), f"{name} has no title"
    assert len(_legend_texts(ax)) >= 2, f"{name} needs a legend with one entry per series"
    if name != "vae_diagram":  # a diagram has no axes to label
        assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), f"{name} lacks axis labels"


@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_leaves_the_global_random_state_alone(name):
    np.random.seed(123)
    torch.manual_seed(123)
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state().clone()
    FIGURES[name]()
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:]
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_figures_draw_on_a_given_axes():
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    assert plot_vae_diagram(ax=axes[0, 0]) is axes[0, 0]
    assert plot_curved_market_toy(ax=axes[0, 1]) is axes[0, 1]
    assert plot_strong_generalization_split(ax=axes[1, 0]) is axes[1, 0]
    assert plot_ndcg_worked_example(RANKED, RELEVANT, ax=axes[1, 1]) is axes[1, 1]
    fig.canvas.draw()


def test_vae_diagram_names_every_stage_and_both_losses():
    text = " ".join(_texts(plot_vae_diagram()))
    for part in ("encoder", "decoder", "\\mu", "\\log\\sigma^2", "\\varepsilon", "reparameterisation", "KL", "reconstruction"):
        assert part in text, f"the VAE diagram does not show {part!r}"
    assert any("N}(0, I)" in t for t in _texts(plot_vae_diagram()))
    with pytest.raises(ValueError, match="ax"):
        plot_vae_diagram(ax="left")
    with pytest.raises(ValueError, match="title"):
        plot_vae_diagram(title=3)


def _legend_mse(ax) -> dict[str, float]:
    out = {}
    for t in _legend_texts(ax):
        m = re.search(r"MSE ([0-9.]+)", t)
        if m:
            out["pca" if t.startswith("PCA") else "curve"] = float(m.group(1))
    return out


@pytest.mark.parametrize("seed", [0, 1, 7, 42])
def test_curved_market_pca_line_reconstructs_worse_than_the_curve(seed):
    ax = plot_curved_market_toy(n=300, seed=seed)
    mse = _legend_mse(ax)
    assert set(mse) == {"pca", "curve"}
    toy = curved_market_toy(300, seed)
    assert mse["pca"] == pytest.approx(toy["mse_pca"], abs=5e-4) and mse["curve"] == pytest.approx(toy["mse_curve"], abs=5e-4)
    # the line misses the bend: its error is several times what the curve leaves (ratio 13 or more over seeds 0-99)
    assert mse["pca"] > 3 * mse["curve"]
    assert toy["mse_curve"] <= 0.15**2  # never worse than the noise variance: the curve point itself is a candidate


def test_curved_market_toy_is_reproducible_and_linear_without_curvature():
    a, b = curved_market_toy(100, 5), curved_market_toy(100, 5)
    assert np.array_equal(a["X"], b["X"])
    assert not np.array_equal(a["X"], curved_market_toy(100, 6)["X"])
    flat = curved_market_toy(2000, 0, curvature=0.0)
    assert flat["mse_pca"] == pytest.approx(flat["mse_curve"], rel=0.15)  # a straight market: the line is enough


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 5}, "n"),
        ({"n": 30.0}, "n"),
        ({"seed": -1}, "seed"),
        ({"noise": float("nan")}, "noise"),
        ({"curvature": -1}, "curvature"),
    ],
)
def test_curved_market_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plot_curved_market_toy(**kwargs)


def _cell_counts(ax) -> np.ndarray:
    codes = ax.images[0].get_array()
    return np.bincount(np.asarray(codes).ravel().astype(int), minlength=6)


def test_split_toy_shows_every_role_and_keeps_users_apart():
    ax = plot_strong_generalization_split(n_users=40, n_items=30, n_heldout_users=6, seed=1)
    counts = _cell_counts(ax)
    assert (counts[1:] > 0).all(), "every role (train, val fold-in/held-out, test fold-in/held-out) appears"
    assert counts[2] > counts[3] and counts[4] > counts[5]  # 80 % fold-in, 20 % held out
    codes = np.asarray(ax.images[0].get_array())
    for row in codes:  # one user has one role: train only, or validation only, or test only
        roles = {int(c) for c in row if c > 0}
        assert roles <= {1} or roles <= {2, 3} or roles <= {4, 5}
    labels = _legend_texts(ax)
    assert len(labels) == 5 and any("fold-in" in t for t in labels) and any("held-out" in t for t in labels)


def test_split_figure_draws_a_given_split_and_trims_it():
    h = make_fund_holdings(n_investors=300, n_funds=80, seed=0)
    split = strong_generalization_split(h.holdings, 40, seed=0)
    ax = plot_strong_generalization_split(split, max_train_users=20, max_items=50)
    _render(ax)
    codes = np.asarray(ax.images[0].get_array())
    assert codes.shape[0] == 20 + min(20, len(split.val_users)) + min(20, len(split.test_users))
    assert codes.shape[1] == min(50, split.n_items)
    assert "of" in ax.get_xlabel() or split.n_items <= 50
    total = split.train[:20].nnz + split.val_foldin[:20].nnz + split.val_heldout[:20].nnz
    assert (codes > 0).sum() <= total + split.test_foldin[:20].nnz + split.test_heldout[:20].nnz


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"split": "my split"}, "split"),
        ({"n_users": 10, "n_heldout_users": 5}, "n_heldout_users"),
        ({"n_items": 3}, "n_items"),
        ({"n_users": 2.5}, "n_users"),
        ({"seed": -2}, "seed"),
        ({"max_train_users": 0}, "max_train_users"),
        ({"ax": 1}, "ax"),
    ],
)
def test_split_figure_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plot_strong_generalization_split(**kwargs)


def _library_metrics(ranked: list, relevant: set, k: int) -> tuple[float, float]:
    """NDCG@k and Recall@k from course_lib.metrics for one user whose scores rank ``ranked`` first."""
    items = list(ranked) + sorted(set(relevant) - set(ranked), key=str)
    scores = np.array([len(items) - i for i in range(len(items))], dtype=float)[None, :]
    held = np.array([[item in relevant for item in items]], dtype=int)
    return float(ndcg_at_k(scores, held, k)[0]), float(recall_at_k(scores, held, k)[0])


def _printed(ax, name: str, k: int) -> float:
    for t in _texts(ax):
        m = re.search(rf"(?m)^{re.escape(name)}@{k} = .*?([0-9]+\.[0-9]+)$", t)
        if m:
            return float(m.group(1))
    raise AssertionError(f"{name}@{k} is not written on the figure: {_texts(ax)}")


@pytest.mark.parametrize(
    ("relevant", "k"),
    [
        (RELEVANT, 10),  # 3 hits, one relevant item outside the list
        ({"fund A"}, 5),  # a perfect ranking
        ({"fund L", "fund Z"}, 10),  # no hit in the top 10
        ({f"fund {c}" for c in "ACDFGHIKLZ"} | {"fund Y"}, 4),  # more relevant items than k: Recall divides by k
        ({"fund C", "fund D"}, 12),
    ],
)
def test_ndcg_figure_prints_the_library_values(relevant, k):
    ax = plot_ndcg_worked_example(RANKED, relevant, k=k)
    _render(ax)
    ndcg, recall = _library_metrics(RANKED, relevant, k)
    assert _printed(ax, "NDCG", k) == pytest.approx(ndcg, abs=5e-4)
    assert _printed(ax, "Recall", k) == pytest.approx(recall, abs=5e-4)
    w = ndcg_worked_example(RANKED, relevant, k)
    assert w["ndcg"] == pytest.approx(ndcg, abs=1e-12) and w["recall"] == pytest.approx(recall, abs=1e-12)
    assert len(ax.patches) >= k  # one bar per rank


def test_ndcg_worked_example_matches_the_library_on_random_rankings():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, k = int(rng.integers(5, 30)), int(rng.integers(1, 12))
        ranked = list(rng.permutation(n + 5)[: max(n, k)])
        relevant = set(rng.choice(n + 5, size=int(rng.integers(1, n)), replace=False).tolist())
        w = ndcg_worked_example(ranked, relevant, k)
        ndcg, recall = _library_metrics(ranked, relevant, k)
        assert w["ndcg"] == pytest.approx(ndcg, abs=1e-12) and w["recall"] == pytest.approx(recall, abs=1e-12)


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((RANKED[:3], RELEVANT), {"k": 5}, "ranked_items"),
        ((RANKED + ["fund A"], RELEVANT), {}, "duplicates"),
        ((RANKED, set()), {}, "relevant"),
        ((RANKED, RELEVANT), {"k": 0}, "k"),
        ((RANKED, RELEVANT), {"k": 2.0}, "k"),
        (("fund A", RELEVANT), {"k": 1}, "ranked_items"),
        ((RANKED, 3), {}, "relevant"),
        ((RANKED, RELEVANT), {"ax": "top"}, "ax"),
    ],
)
def test_ndcg_figure_rejects_bad_input(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        plot_ndcg_worked_example(*args, **kwargs)
