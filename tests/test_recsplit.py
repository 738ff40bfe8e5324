"""course_lib.recsplit: K-fold user splits, the temporal (next-purchase) split, paired differences with intervals."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from course_lib.data.holdings import make_fund_holdings
from course_lib.recsplit import kfold_user_splits, paired_difference, strong_generalization_split, temporal_split


def _binary(n_users=200, n_items=50, p=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n_users, n_items)) < p).astype(np.float32)
    X[:, :5] = 1  # every user has at least 5 items
    return sp.csr_matrix(X)


def test_kfold_scores_every_non_validation_user_once():
    X = _binary()
    folds = kfold_user_splits(X, 4, 30, seed=3)
    assert len(folds) == 4
    val = folds[0].val_users
    assert all((f.val_users == val).all() for f in folds), "one shared validation group"
    tests = np.concatenate([f.test_users for f in folds])
    assert len(tests) == len(np.unique(tests)) == X.shape[0] - 30, "every other user is tested exactly once"
    assert not np.intersect1d(tests, val).size
    for f in folds:
        assert not np.intersect1d(f.train_users, f.test_users).size and not np.intersect1d(f.train_users, f.val_users).size
        assert len(f.train_users) + len(f.test_users) + len(f.val_users) == X.shape[0]
        full = X[f.test_users][:, f.items]
        assert ((f.test_foldin + f.test_heldout) != full).nnz == 0 and f.test_foldin.multiply(f.test_heldout).nnz == 0
    again = kfold_user_splits(X, 4, 30, seed=3)
    assert all((a.test_heldout != b.test_heldout).nnz == 0 for a, b in zip(folds, again)), "same seed, same folds"


def test_kfold_rejects_bad_input():
    X = _binary(20)
    with pytest.raises(ValueError, match="n_folds"):
        kfold_user_splits(X, 1, 5)
    with pytest.raises(ValueError, match="n_val_users"):
        kfold_user_splits(X, 5, 15)
    with pytest.raises(ValueError, match="sparse"):
        kfold_user_splits(X.toarray(), 2, 5)
    with pytest.raises(ValueError, match="binary"):
        kfold_user_splits(X * 3, 2, 5)


def test_strong_generalization_split_unchanged_by_refactor():
    # the same seed still gives the same users and the same hidden items (stored notebooks depend on it)
    X = _binary()
    a, b = strong_generalization_split(X, 30, seed=7), strong_generalization_split(X, 30, seed=7)
    assert (a.test_users == b.test_users).all() and (a.test_heldout != b.test_heldout).nnz == 0
    assert len(a.val_users) == len(a.test_users) == 30


def test_temporal_split_holds_out_the_last_purchases():
    fh = make_fund_holdings(300, 120, seed=0)
    s = strong_generalization_split(fh.holdings, 40, seed=1)
    t = temporal_split(s, fh.purchase_order)
    assert (t.train != s.train).nnz == 0 and (t.items == s.items).all() and (t.test_users == s.test_users).all()
    # same items per user, same number hidden, nothing overlaps
    assert ((t.test_foldin + t.test_heldout) != (s.test_foldin + s.test_heldout)).nnz == 0
    assert (np.asarray(t.test_heldout.sum(1)) == np.asarray(s.test_heldout.sum(1))).all()
    assert t.test_foldin.multiply(t.test_heldout).nnz == 0
    O = fh.purchase_order[s.test_users][:, s.items].tocsr()
    for u in range(len(s.test_users)):
        ranks_in = O[u].toarray().ravel()[t.test_foldin[u].indices]
        ranks_out = O[u].toarray().ravel()[t.test_heldout[u].indices]
        assert ranks_out.min() > ranks_in.max(), "every hidden purchase comes after every fold-in purchase"
    # the random split hides early purchases too; the temporal one never does
    assert (s.test_heldout.multiply(O).max(axis=1).toarray() < O.max(axis=1).toarray()).any()


def test_temporal_split_rejects_bad_input():
    fh = make_fund_holdings(200, 80, seed=0)
    s = strong_generalization_split(fh.holdings, 30, seed=0)
    with pytest.raises(ValueError, match="sparse"):
        temporal_split(s, fh.purchase_order.toarray())
    with pytest.raises(ValueError, match="heldout_fraction"):
        temporal_split(s, fh.purchase_order, heldout_fraction=1.5)
    with pytest.raises(ValueError, match="does not (cover|match)"):
        temporal_split(s, fh.purchase_order[:, :40])
    other = make_fund_holdings(200, 80, seed=5).purchase_order
    with pytest.raises(ValueError, match="does not match"):
        temporal_split(s, other)
    bad = fh.purchase_order.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="positive finite"):
        temporal_split(s, bad)


def test_paired_difference_matches_t_interval_and_names_a_winner_only_when_sure():
    rng = np.random.default_rng(0)
    b = rng.random(400)
    a = b + 0.05 + rng.normal(0, 0.1, 400)
    d = paired_difference(a, b)
    diff = a - b
    se = diff.std(ddof=1) / np.sqrt(400)
    half = stats.t.ppf(0.975, 399) * se
    assert d.mean == pytest.approx(diff.mean()) and d.se == pytest.approx(se)
    assert d.low == pytest.approx(diff.mean() - half) and d.high == pytest.approx(diff.mean() + half)
    assert d.verdict("A", "B") == "A ahead" and d.n == 400
    assert paired_difference(b, a).verdict("A", "B") == "B ahead"
    # noise only: no winner named
    c = b + rng.normal(0, 0.1, 400)
    c -= (c - b).mean()  # exact zero mean difference
    nd = paired_difference(c, b)
    assert nd.low < 0 < nd.high and nd.verdict() == "no detectable difference at this sample size"
    assert "CI" in str(nd)


def test_paired_difference_equivalence_tost():
    rng = np.random.default_rng(1)
    b = rng.random(2000)
    a = b + rng.normal(0, 0.05, 2000)
    a -= (a - b).mean() - 0.001
    eq = paired_difference(a, b, margin=0.02)
    assert eq.equivalent and eq.verdict() == "equivalent within +-0.02"
    # the 90 % interval (2 * 0.95 - 1) must lie inside the margin: a tiny margin fails
    assert not paired_difference(a, b, margin=0.001).equivalent
    assert paired_difference(a, b).equivalent is None


def test_paired_difference_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 3"):
        paired_difference([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        paired_difference([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], confidence=95)
    with pytest.raises(ValueError, match="margin"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], margin=-1)
