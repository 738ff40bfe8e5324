"""course_lib.recommend (models, losses, baselines) and course_lib.recsplit (protocol)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from course_lib.recommend import (
    RecAutoencoder,
    cold_start_scores,
    ease_weights,
    latent_neighbour_scores,
    multinomial_nll,
    popularity_scores,
    posterior_scores,
    predict_scores,
    profile_nll,
    recommender_loss,
    train_recommender,
    tune_ease,
    weighted_bce,
)
from course_lib.recsplit import evaluate_ranking, implicit_matrix, mask_foldin, paired_table, strong_generalization_split


def _clustered(n_users=300, n_items=60, seed=0):
    """Two taste groups: users hold items of their own half."""
    rng = np.random.default_rng(seed)
    group = rng.integers(2, size=n_users)
    p = np.where(group[:, None] == (np.arange(n_items) >= n_items // 2)[None, :], 0.3, 0.01)
    X = (rng.random((n_users, n_items)) < p).astype(np.float32)
    X[:, 0] = np.maximum(X[:, 0], group == 0)
    X[np.arange(n_users), n_items // 2 + np.arange(n_users) % (n_items // 2)] = 1
    return sp.csr_matrix(X), group


# protocol ---------------------------------------------------------------------
def test_implicit_matrix_filters_ratings_and_users():
    df = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3], "item_id": [10, 11, 12, 10, 11, 12], "rating": [5, 4, 3, 4, 5, 5]})
    inter = implicit_matrix(df, min_user_items=2)
    assert inter.X.shape == (2, 2) and list(inter.user_ids) == [1, 2] and list(inter.item_ids) == [10, 11]
    assert inter.X.toarray().tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError, match="lacks the column"):
        implicit_matrix(df.drop(columns="rating"))
    with pytest.raises(ValueError, match="no user"):
        implicit_matrix(df, min_user_items=10)
    with pytest.raises(ValueError, match="NaN"):
        implicit_matrix(df.assign(rating=[np.nan, 4, 4, 4, 4, 4]))


def test_strong_generalization_split_is_disjoint_and_complete():
    X, _ = _clustered()
    s = strong_generalization_split(X, 40, seed=1)
    assert len(set(s.train_users) & set(s.val_users)) == 0 and len(set(s.val_users) & set(s.test_users)) == 0
    assert s.train.shape[1] == s.n_items == len(s.items)
    # items kept are exactly those some training user has
    assert (np.asarray(s.train.sum(0)).ravel() > 0).all()
    for fin, out, users in [(s.val_foldin, s.val_heldout, s.val_users), (s.test_foldin, s.test_heldout, s.test_users)]:
        assert fin.multiply(out).nnz == 0, "fold-in and held-out items overlap"
        full = X[users][:, s.items]
        assert ((fin + out) != full).nnz == 0, "fold-in + held-out must give back the user's items"
        n_out, n_all = np.asarray(out.sum(1)).ravel(), np.asarray(full.sum(1)).ravel()
        assert (n_out >= 1).all() and np.allclose(n_out / n_all, 0.2, atol=0.11)
    s2 = strong_generalization_split(X, 40, seed=1)
    assert (s2.test_heldout != s.test_heldout).nnz == 0, "same seed, same split"


def test_split_rejects_bad_input():
    X, _ = _clustered()
    with pytest.raises(ValueError, match="sparse"):
        strong_generalization_split(X.toarray(), 10)
    with pytest.raises(ValueError, match="n_heldout_users"):
        strong_generalization_split(X, 150)
    with pytest.raises(ValueError, match="binary"):
        strong_generalization_split(X * 2, 10)


def test_mask_foldin_and_evaluate_ranking():
    S = np.array([[3.0, 2.0, 1.0, 0.0]])
    F = sp.csr_matrix([[1, 0, 0, 0]])
    H = np.array([[0, 1, 0, 0]])
    masked = mask_foldin(S, F)
    assert masked[0, 0] == -np.inf and S[0, 0] == 3.0
    out = evaluate_ranking(S, F, H, (("ndcg", 2), ("recall", 1)))
    assert out["ndcg@2"][0] == pytest.approx(1.0) and out["recall@1"][0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        mask_foldin(S, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        mask_foldin(np.array([[np.nan, 1, 2, 3]]), F)
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_ranking(S, F, H, (("map", 2),))


def test_paired_table():
    t = paired_table({"A": [0.5, 0.6, 0.7], "B": [0.4, 0.6, 0.8]}, baseline="A")
    assert t.loc["B", "diff"] == pytest.approx(0.0) and t.loc["B", "wins"] == 1 and t.loc["A", "diff"] == 0
    assert t.loc["B", "std"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="baseline"):
        paired_table({"A": [1.0]}, baseline="C")
    with pytest.raises(ValueError, match="same splits"):
        paired_table({"A": [1.0, 2.0], "B": [1.0]}, baseline="A")


# losses -----------------------------------------------------------------------
def test_multinomial_nll_matches_hand_value():
    logits = torch.zeros(1, 4)
    x = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    assert multinomial_nll(logits, x).item() == pytest.approx(2 * np.log(4))
    with pytest.raises(ValueError, match="must both be"):
        multinomial_nll(torch.zeros(2, 3), torch.zeros(2, 4))


def test_weighted_bce_downweights_negatives():
    logits = torch.zeros(1, 3)
    x = torch.tensor([[1.0, 0.0, 0.0]])
    assert weighted_bce(logits, x, 0.1).item() == pytest.approx(np.log(2) * (1 + 0.2))
    assert weighted_bce(logits, x, 1.0).item() == pytest.approx(3 * np.log(2))
    with pytest.raises(ValueError, match="neg_weight"):
        weighted_bce(logits, x, 0.0)


@pytest.mark.parametrize("lik", ["multinomial", "bce", "gaussian"])
def test_recommender_loss_parts(lik):
    torch.manual_seed(0)
    m = RecAutoencoder(10, 8, 4)
    x = (torch.rand(6, 10) < 0.4).float()
    total, rec, kl = recommender_loss(lik)(m, x, 0.5)
    assert total.item() == pytest.approx(rec.item() + 0.5 * kl.item(), rel=1e-5) and kl.item() >= 0
    dae = RecAutoencoder(10, 8, 4, variational=False)
    assert recommender_loss(lik)(dae, x, 0.5)[2].item() == 0.0
    with pytest.raises(ValueError, match="likelihood"):
        recommender_loss("poisson")


# models ---------------------------------------------------------------------------
def test_rec_autoencoder_shapes_and_eval_is_deterministic():
    m = RecAutoencoder(12, 8, 3).eval()
    x = (torch.rand(5, 12) < 0.5).float()
    mu, logvar = m.encode(x)
    assert mu.shape == logvar.shape == (5, 3) and m(x).shape == (5, 12)
    assert torch.equal(m(x), m(x)), "evaluation mode uses z = mu"
    assert RecAutoencoder(12, 8, 3, variational=False).encode(x)[1] is None
    with pytest.raises(ValueError, match="shape"):
        m.encode(torch.zeros(5, 11))
    with pytest.raises(ValueError, match="dropout"):
        RecAutoencoder(12, dropout=1.0)


def test_training_learns_taste_groups_and_beats_popularity():
    torch.manual_seed(0)
    X, _ = _clustered()
    s = strong_generalization_split(X, 40, seed=0)
    m = RecAutoencoder(s.n_items, 32, 8)
    res = train_recommender(
        m, s.train, val=(s.val_foldin, s.val_heldout), epochs=20, batch_size=64, lr=3e-3, eval_every=2, seed=0, device="cpu"
    )
    assert len(res.history) == 20 and res.best_epoch in res.val_epochs and res.val_epochs[-1] == 20
    assert res.history.beta[0] == 0.0 and res.history.beta[-1] == pytest.approx(0.2)
    vae = evaluate_ranking(predict_scores(m, s.test_foldin), s.test_foldin, s.test_heldout)["ndcg@100"].mean()
    pop = evaluate_ranking(popularity_scores(s.train, 40), s.test_foldin, s.test_heldout)["ndcg@100"].mean()
    assert vae > pop + 0.1
    # the restored weights are the best validation ones
    val = evaluate_ranking(predict_scores(m, s.val_foldin), s.val_foldin, s.val_heldout, (("ndcg", 100),))["ndcg@100"].mean()
    assert val == pytest.approx(max(res.val_ndcg), abs=1e-6)


def test_train_recommender_rejects_bad_input():
    m = RecAutoencoder(10, 8, 4)
    with pytest.raises(ValueError, match="items"):
        train_recommender(m, sp.random(20, 11, density=0.3, format="csr"), epochs=1)
    bad = sp.csr_matrix(np.where(np.eye(20, 10) > 0, np.nan, 0.0))
    with pytest.raises(ValueError, match="NaN"):
        train_recommender(m, bad, epochs=1)
    with pytest.raises(ValueError, match="empty"):
        predict_scores(m, sp.csr_matrix((0, 10)))


def test_posterior_scores_and_cold_start():
    torch.manual_seed(0)
    m = RecAutoencoder(10, 8, 4).eval()
    X = sp.csr_matrix((np.random.default_rng(0).random((3, 10)) < 0.5).astype(np.float32))
    P = posterior_scores(m, X, 7, seed=1)
    assert P.shape == (7, 3, 10) and np.allclose(P.sum(-1), 1, atol=1e-5) and P.std(0).max() > 0
    assert np.array_equal(P, posterior_scores(m, X, 7, seed=1))
    with pytest.raises(ValueError, match="variational"):
        posterior_scores(RecAutoencoder(10, 8, 4, variational=False), X)
    for how in ("prior", "empty"):
        c = cold_start_scores(m, how)
        assert c.shape == (10,) and c.sum() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="how"):
        cold_start_scores(m, "mean")


def test_latent_neighbours_and_profile_nll():
    torch.manual_seed(0)
    X, _ = _clustered(100, 20)
    m = RecAutoencoder(20, 16, 4)
    train_recommender(m, X, epochs=5, batch_size=32, device="cpu")
    S = latent_neighbour_scores(m, X, X[:5], n_neighbours=10)
    assert S.shape == (5, 20) and (S >= 0).all()
    with pytest.raises(ValueError, match="n_neighbours"):
        latent_neighbour_scores(m, X, X[:5], n_neighbours=0)
    nll = profile_nll(m, X[:5])
    assert nll.shape == (5,) and (nll > 0).all()
    with pytest.raises(ValueError, match="empty"):
        profile_nll(m, sp.csr_matrix((2, 20), dtype=np.float32))


# baselines ----------------------------------------------------------------------------
def test_ease_weights_closed_form_and_zero_diagonal():
    rng = np.random.default_rng(0)
    X = (rng.random((50, 8)) < 0.3).astype(np.float64)
    B = ease_weights(sp.csr_matrix(X), 2.0)
    assert np.allclose(np.diag(B), 0)
    # B solves the constrained ridge problem: off-diagonal gradient of ||X - XB||^2 + lam ||B||^2 is zero
    grad = -X.T @ (X - X @ B) + 2.0 * B
    off = ~np.eye(8, dtype=bool)
    assert np.allclose(grad[off], 0, atol=1e-8)
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="lam must be a finite number > 0"):
            ease_weights(X, bad)


def test_tune_ease_matches_direct_computation():
    X, _ = _clustered()
    s = strong_generalization_split(X, 40, seed=0)
    best, grid = tune_ease(s.train, s.val_foldin, s.val_heldout, [1.0, 30.0, 1000.0])
    for lam, v in grid.items():
        S = s.val_foldin @ ease_weights(s.train, lam)
        direct = evaluate_ranking(S, s.val_foldin, s.val_heldout, (("ndcg", 100),))["ndcg@100"].mean()
        assert v == pytest.approx(direct, abs=1e-9)
    assert grid[best] == max(grid.values())
    for bad in ([], [30.0, np.nan], [np.inf], [0.0]):
        with pytest.raises(ValueError, match="lambdas"):
            tune_ease(s.train, s.val_foldin, s.val_heldout, bad)


def test_popularity_scores():
    X = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0]], dtype=np.float32))
    assert popularity_scores(X, 2).tolist() == [[2, 0, 1], [2, 0, 1]]
    with pytest.raises(ValueError, match="n_users"):
        popularity_scores(X, 0)


def test_benchmark_generator_is_sparse_binary_and_sized():
    from benchmarks.scale import make_ml20m_like

    X = make_ml20m_like(n_users=2000, n_items=500, n_interactions=40_000, seed=0)
    assert sp.isspmatrix_csr(X) and X.shape == (2000, 500)
    assert set(np.unique(X.data)) == {1.0}
    assert 0.9 * 40_000 < X.nnz < 1.15 * 40_000
    counts = np.sort(np.asarray(X.sum(0)).ravel())[::-1]
    assert counts[:50].sum() > 0.2 * counts.sum(), "item popularity is long-tailed"


def test_train_recommender_raises_when_validation_ndcg_is_never_finite(monkeypatch):
    import course_lib.recommend as rec

    X, _ = _clustered(80, 20)
    s = strong_generalization_split(X, 20, seed=0)
    monkeypatch.setattr(rec, "ndcg_at_k", lambda scores, heldout, k: np.full(scores.shape[0], np.nan))
    with pytest.raises(ValueError, match="never finite"):
        train_recommender(
            RecAutoencoder(s.n_items, 8, 4), s.train, val=(s.val_foldin, s.val_heldout), epochs=2, eval_every=1, device="cpu"
        )


def _posterior_reference(m, X, n_samples, seed):
    """The one-shot version: the whole matrix densified, every draw decoded at once."""
    with torch.no_grad():
        mu, logvar = m.encode(torch.from_numpy(X.toarray()))
        eps = torch.randn((n_samples, *mu.shape), generator=torch.Generator().manual_seed(seed))
        z = mu + torch.exp(0.5 * logvar) * eps
        return torch.softmax(m.decode(z.reshape(-1, m.latent)), dim=1).reshape(n_samples, X.shape[0], -1).numpy()


def test_posterior_scores_batched_equals_one_shot():
    torch.manual_seed(0)
    X, _ = _clustered(37, 20)
    m = RecAutoencoder(20, 16, 4).eval()
    ref = _posterior_reference(m, X, 5, 3)
    for bs in (1, 8, 37, 1000):
        P = posterior_scores(m, X, 5, seed=3, batch_size=bs)
        assert P.shape == (5, 37, 20) and P.dtype == np.float32
        np.testing.assert_allclose(P, ref, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="batch_size"):
        posterior_scores(m, X, 5, batch_size=0)
    with pytest.raises(ValueError, match="items"):
        posterior_scores(m, X[:, :10], 5)


def test_latent_neighbours_batched_equals_dense_reference():
    torch.manual_seed(0)
    X, _ = _clustered(100, 20)
    m = RecAutoencoder(20, 16, 4)
    train_recommender(m, X, epochs=3, batch_size=32, device="cpu")
    Xq = X[:13]
    with torch.no_grad():  # dense reference: all users encoded at once, dense weights times the dense matrix
        enc = lambda A: torch.nn.functional.normalize(m.encode(torch.from_numpy(A.toarray()))[0], dim=1).numpy()  # noqa: E731
        sim = enc(Xq) @ enc(X).T
    idx = np.argsort(-sim, axis=1)[:, :10]
    W = np.zeros_like(sim)
    np.put_along_axis(W, idx, np.maximum(np.take_along_axis(sim, idx, axis=1), 0.0), axis=1)
    ref = W @ X.toarray()
    for bs in (1, 5, 2048):
        S = latent_neighbour_scores(m, X, Xq, n_neighbours=10, batch_size=bs)
        assert S.shape == (13, 20) and S.dtype == np.float64
        np.testing.assert_allclose(S, ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        latent_neighbour_scores(m, X, Xq, batch_size=0)
    with pytest.raises(ValueError, match="items"):
        latent_neighbour_scores(m, X, Xq[:, :10])


# rank uncertainty, unusual profiles, early stopping -----------------------------
def test_outrank_probability_counts_draws_and_is_complementary():
    from course_lib.recommend import outrank_probability

    D = np.array([[3.0, 2.0, 1.0, 0.0], [1.0, 2.0, 3.0, 0.0], [3.0, 1.0, 2.0, 0.0], [2.0, 2.0, 0.0, 1.0]])
    P = outrank_probability(D, np.array([0, 1, 2]))
    assert P.shape == (3, 3) and np.isnan(np.diag(P)).all()
    # item 0 beats item 1 in draws 0 and 2, loses in 1, ties in 3 (a half)
    assert P[0, 1] == pytest.approx(2.5 / 4) and P[1, 0] == pytest.approx(1.5 / 4)
    off = ~np.eye(3, dtype=bool)
    assert np.allclose((P + P.T)[off], 1.0)
    # scores that move together (one shared shift per draw) keep their order in every draw
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 5, (200, 1)) + np.array([[0.3, 0.2, 0.1]])
    assert outrank_probability(shared, np.array([0, 2]))[0, 1] == 1.0
    with pytest.raises(ValueError, match="one user"):
        outrank_probability(np.zeros((2, 3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match="distinct"):
        outrank_probability(D, np.array([0, 0]))
    with pytest.raises(ValueError, match="at least 2"):
        outrank_probability(D, np.array([0]))
    with pytest.raises(ValueError, match="NaN"):
        outrank_probability(np.full((2, 3), np.nan), np.array([0, 1]))


def test_topk_probability_shares_and_exclusion():
    from course_lib.recommend import topk_probability

    D = np.array([[3.0, 2.0, 1.0, 0.0], [1.0, 2.0, 3.0, 0.0]])
    assert topk_probability(D, 2).tolist() == [0.5, 1.0, 0.5, 0.0]
    p = topk_probability(D, 2, exclude=np.array([0, 1, 0, 0]))
    assert p.tolist() == [1.0, 0.0, 1.0, 0.0]
    rng = np.random.default_rng(1)
    D3 = rng.normal(size=(50, 4, 20))
    E = np.zeros((4, 20))
    E[:, :3] = 1
    p3 = topk_probability(D3, 5, exclude=sp.csr_matrix(E))
    assert p3.shape == (4, 20) and np.allclose(p3.sum(1), 5) and (p3[:, :3] == 0).all()
    with pytest.raises(ValueError, match="k must"):
        topk_probability(D, 4)
    with pytest.raises(ValueError, match="exclude"):
        topk_probability(D, 2, exclude=np.zeros(3))
    with pytest.raises(ValueError, match="fewer than k"):
        topk_probability(D, 2, exclude=np.array([1, 1, 1, 0]))


def test_popularity_outlyingness_flags_niche_profiles():
    from course_lib.recommend import popularity_outlyingness

    Xt = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0]], dtype=np.float32))
    prof = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    s = popularity_outlyingness(Xt, prof)
    assert s[1] > s[0] and np.isfinite(s).all()
    assert s[0] == pytest.approx(-(np.log(3.5 / 4) + np.log(2.5 / 4)) / 2)
    with pytest.raises(ValueError, match="empty"):
        popularity_outlyingness(Xt, sp.csr_matrix((1, 4)))
    with pytest.raises(ValueError, match="same items"):
        popularity_outlyingness(Xt, prof[:, :3])


def test_train_recommender_early_stopping_stops_and_keeps_best():
    X, _ = _clustered(seed=2)
    s = strong_generalization_split(X, 40, seed=0)
    torch.manual_seed(0)
    m = RecAutoencoder(s.n_items, 32, 8)
    # a huge learning rate makes validation NDCG stall quickly; patience 2 must stop well before 60 epochs
    r = train_recommender(
        m, s.train, val=(s.val_foldin, s.val_heldout), epochs=60, eval_every=1, patience=2, k=5, seed=0, lr=3e-2
    )
    assert len(r.val_epochs) < 60 and r.history.stopped_early
    assert r.best_epoch == r.val_epochs[int(np.argmax(r.val_ndcg))]
    assert r.val_epochs[-1] - r.best_epoch == 2, "stops after exactly `patience` evaluations without improvement"
    with pytest.raises(ValueError, match="patience"):
        train_recommender(m, s.train, epochs=2, patience=2)
    with pytest.raises(ValueError, match="patience"):
        train_recommender(m, s.train, val=(s.val_foldin, s.val_heldout), epochs=2, patience=0)
