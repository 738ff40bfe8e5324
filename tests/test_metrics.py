import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from course_lib.metrics import (
    active_units,
    factor_recovery_r2,
    ndcg_at_k,
    recall_at_k,
    subspace_similarity,
    variance_explained,
)


def test_variance_explained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    assert variance_explained(X, X) == 1.0
    assert variance_explained(X, np.tile(X.mean(0), (100, 1))) == pytest.approx(0.0)
    assert variance_explained(X, X + rng.normal(size=X.shape)) < 0.2
    # the benchmark matters: predicting the (test) mean explains nothing around the test mean,
    # but a lot against a fixed training centre of 0 when the data have shifted
    shifted_mean = np.tile((X + 3).mean(0), (100, 1))
    assert variance_explained(X + 3, shifted_mean) == pytest.approx(0.0)
    assert variance_explained(X + 3, shifted_mean, center=0) > 0.8
    with pytest.raises(ValueError, match="shape"):
        variance_explained(X, X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        variance_explained(X, X * np.nan)


def test_factor_recovery_is_rotation_invariant():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(500, 3))
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Z = F @ Q * np.array([2.0, -1.0, 0.5]) + 1.0
    assert np.allclose(factor_recovery_r2(F, Z), 1.0)
    # column-by-column correlation would say otherwise
    assert np.abs(np.corrcoef(F[:, 0], Z[:, 0])[0, 1]) < 0.999
    # a latent set that misses a factor scores 0 on it
    r2 = factor_recovery_r2(F, F[:, :2] + 0.01 * rng.normal(size=(500, 2)))
    assert r2[0] > 0.99 and r2[1] > 0.99 and r2[2] < 0.02


def test_factor_recovery_out_of_sample():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(400, 2))
    Z = F @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(400, 5))
    oos = factor_recovery_r2(F[:300], Z[:300], F[300:], Z[300:])
    ins = factor_recovery_r2(F, Z)
    assert oos.shape == (2,) and (oos > 0.8).all() and (oos <= ins.max() + 0.05).all()
    noise = factor_recovery_r2(F[:300], rng.normal(size=(300, 5)), F[300:], rng.normal(size=(100, 5)))
    assert (noise < 0.05).all()
    with pytest.raises(ValueError, match="same days"):
        factor_recovery_r2(F, Z[:10])
    with pytest.raises(ValueError, match="both"):
        factor_recovery_r2(F, Z, F)


def test_subspace_similarity():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 3))
    assert subspace_similarity(A, A @ rng.normal(size=(3, 3))) == pytest.approx(1.0)
    e = np.eye(4)
    assert subspace_similarity(e[:, :2], e[:, 2:]) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="rows"):
        subspace_similarity(A, A[:5])


def test_active_units():
    rng = np.random.default_rng(0)
    mu = np.column_stack([rng.normal(size=200), 0.05 * rng.normal(size=200), np.zeros(200)])
    assert active_units(mu) == 1
    assert active_units(mu, threshold=1e-4) == 2


def test_ndcg_matches_scikit_learn():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(50, 40))
    H = (rng.random((50, 40)) < 0.15).astype(int)
    H[:, 0] = 1
    for k in (1, 5, 10, 40):
        ref = [ndcg_score(H[i : i + 1], S[i : i + 1], k=k) for i in range(len(S))]
        assert np.allclose(ndcg_at_k(S, H, k), ref)
        assert np.mean(ndcg_at_k(S, H, k)) == pytest.approx(ndcg_score(H, S, k=k))


def test_ndcg_and_recall_hand_worked():
    S = np.array([[0.9, 0.8, 0.7, 0.1, -np.inf]])
    H = np.array([[0, 1, 0, 1, 0]])
    # hits at ranks 2 and 4; ideal: ranks 1, 2
    dcg = 1 / np.log2(3) + 1 / np.log2(5)
    assert ndcg_at_k(S, H, 4) == pytest.approx(dcg / (1 + 1 / np.log2(3)))
    assert ndcg_at_k(S, H, 2) == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    assert recall_at_k(S, H, 2) == pytest.approx(0.5)
    assert recall_at_k(S, H, 4) == pytest.approx(1.0)
    # recall divides by min(k, n_heldout): one hit at rank 1 of 3 held out, k=1
    assert recall_at_k(np.array([[3.0, 2, 1]]), np.array([[1, 1, 1]]), 1) == pytest.approx(1.0)


def test_ranking_metrics_accept_sparse_and_return_one_value_per_user():
    rng = np.random.default_rng(2)
    S = rng.normal(size=(6, 12))
    H = np.eye(6, 12, dtype=int)
    out = ndcg_at_k(S, sp.csr_matrix(H), 5)
    assert out.shape == (6,) and np.allclose(out, ndcg_at_k(S, H, 5))
    assert recall_at_k(S, sp.csr_matrix(H), 5).shape == (6,)


@pytest.mark.parametrize(
    "S, H, k, match",
    [
        (np.ones((2, 3)), np.array([[1, 0, 0], [0, 0, 0]]), 2, "no held-out"),
        (np.ones((2, 3)), np.ones((2, 2)), 2, "shape"),
        (np.ones(3), np.ones(3), 2, "2-D"),
        (np.array([[np.nan, 1, 2]]), np.array([[1, 0, 0]]), 2, "NaN"),
        (np.array([[-np.inf, 1, 2]]), np.array([[1, 0, 0]]), 2, "overlaps"),
        (np.ones((1, 3)), np.array([[2, 0, 0]]), 2, "binary"),
        (np.ones((1, 3)), np.array([[1, 0, 0]]), 0, "positive"),
    ],
)
def test_ranking_metrics_reject_bad_input(S, H, k, match):
    for fn in (ndcg_at_k, recall_at_k):
        with pytest.raises(ValueError, match=match):
            fn(S, H, k)
