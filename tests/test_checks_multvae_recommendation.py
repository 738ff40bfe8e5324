"""Chapter 3 checkers: each passes a right answer and catches typical wrong ones with its own hint."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from course_lib.checks import check_ease_weights, check_fund_ndcg, check_mask_foldin, check_multinomial_nll, check_ndcg_at_k
from course_lib.data import make_fund_holdings
from course_lib.metrics import ndcg_at_k
from course_lib.recommend import ease_weights, multinomial_nll, popularity_scores
from course_lib.recsplit import mask_foldin, strong_generalization_split


# multinomial NLL ------------------------------------------------------------
def test_multinomial_nll_accepts_library_and_plain_answers():
    check_multinomial_nll(multinomial_nll)
    check_multinomial_nll(lambda f, x: -(torch.log_softmax(f, dim=1) * x).sum(dim=1))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda f, x: -(F.log_softmax(f, 1) * x).sum(1).mean(), "one number"),
        (lambda f, x: -(F.log_softmax(f, 1) * x), r"shape \(n_users, n_items\)"),
        (lambda f, x: (F.log_softmax(f, 1) * x).sum(1), "sign"),
        (lambda f, x: -(F.log_softmax(f, 0) * x).sum(1), "dim=0"),
        (lambda f, x: -(torch.softmax(f, 1) * x).sum(1), "probabilities"),
        (lambda f, x: -(f * x).sum(1), "raw logits"),
        (lambda f, x: -(F.logsigmoid(f) * x).sum(1), "sigmoid"),
        (lambda f, x: -(F.log_softmax(f, 1) * x).mean(1), "averaged over items: sum over items instead"),
        (lambda f, x: F.binary_cross_entropy_with_logits(f, x, reduction="none").sum(1), "Bernoulli likelihood per item"),
        (lambda f, x: -(F.log_softmax(f, 1) * x).sum(1) / x.sum(1), "divided"),
        (lambda f, x: -F.log_softmax(f, 1).sum(1), "weight them by x"),
        (lambda f, x: -(torch.log(torch.softmax(f, 1)) * x).sum(1), "overflow"),
    ],
)
def test_multinomial_nll_catches_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_multinomial_nll(wrong)


def test_multinomial_nll_stub_gets_friendly_message():
    def stub(f, x):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_multinomial_nll(stub)


# EASE -----------------------------------------------------------------------
def _G(X):
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return X.T @ X, X.shape[1]


def test_ease_accepts_library_answer():
    check_ease_weights(ease_weights)


def _rows(X, lam):
    G, n = _G(X)
    P = np.linalg.inv(G + lam * np.eye(n))
    return np.eye(n) - P / np.diag(P)[:, None]


def _no_lambda(X, lam):
    G, n = _G(X)
    P = np.linalg.pinv(G)
    return np.eye(n) - P / np.diag(P)


def _lam_everywhere(X, lam):
    G, n = _G(X)
    P = np.linalg.inv(G + lam)
    return np.eye(n) - P / np.diag(P)


def _plus(X, lam):
    G, n = _G(X)
    P = np.linalg.inv(G + lam * np.eye(n))
    return np.eye(n) + P / np.diag(P)


def _no_identity(X, lam):
    G, n = _G(X)
    P = np.linalg.inv(G + lam * np.eye(n))
    return P / np.diag(P)


def _user_gram(X, lam):
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    G = X @ X.T
    P = np.linalg.inv(G + lam * np.eye(len(G)))
    return np.eye(len(G)) - P / np.diag(P)


def _dense_only(X, lam):
    X = np.asarray(X)
    if X.dtype == object:
        raise TypeError("cannot invert a sparse matrix")
    G = X.T @ X
    P = np.linalg.inv(G + lam * np.eye(len(G)))
    return np.eye(len(G)) - P / np.diag(P)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_rows, "each row"),
        (_no_lambda, "lambda is missing"),
        (_lam_everywhere, "every entry"),
        (_plus, "sign error"),
        (_no_identity, "diagonal of B must be 0"),
        (_user_gram, "n_users, n_users"),
    ],
)
def test_ease_catches_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_ease_weights(wrong)


def test_ease_requires_sparse_support():
    with pytest.raises((AssertionError, TypeError)):
        check_ease_weights(_dense_only)


def _inv_sparse_gram(X, lam):
    n = X.shape[1]
    G = X.T @ X + lam * sp.eye(n)  # sparse when X is sparse
    P = np.linalg.inv(G)
    return np.eye(n) - P / np.diag(P)


def _setdiag(X, lam):
    G = sp.csr_matrix(X.T @ X) if sp.issparse(X) else X.T @ X
    G.setdiag(G.diagonal() + lam)  # a dense ndarray has no setdiag
    P = np.linalg.inv(G.toarray())
    return np.eye(G.shape[0]) - P / np.diag(P)


def _crash_on_sparse(X, lam):
    if sp.issparse(X):
        raise KeyError("boom")
    return ease_weights(X, lam)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_inv_sparse_gram, r"np.linalg.inv cannot take a sparse matrix; convert G = X.T @ X with .toarray\(\) first"),
        (_setdiag, r"X may also be a dense array: build G densely"),
        (_crash_on_sparse, r"scipy-sparse X.*KeyError: 'boom'"),
    ],
)
def test_ease_crash_becomes_hint(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_ease_weights(wrong)


def test_ease_stub_gets_friendly_message():
    def stub(X, lam):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_ease_weights(stub)


# fold-in mask -----------------------------------------------------------------
def test_mask_accepts_library_answer():
    check_mask_foldin(mask_foldin)


def _in_place(scores, foldin):
    f = foldin.toarray() if sp.issparse(foldin) else foldin
    scores[f != 0] = -np.inf
    return scores


def _zero(scores, foldin):
    f = foldin.toarray() if sp.issparse(foldin) else foldin
    return np.where(f != 0, 0.0, scores)


def _complement(scores, foldin):
    f = foldin.toarray() if sp.issparse(foldin) else foldin
    return np.where(f == 0, -np.inf, scores)


def _big_negative(scores, foldin):
    f = foldin.toarray() if sp.issparse(foldin) else foldin
    return np.where(f != 0, -1e9, scores)


def _pos_inf(scores, foldin):
    f = foldin.toarray() if sp.issparse(foldin) else foldin
    return np.where(f != 0, np.inf, scores)


def _multiply_inf(scores, foldin):
    f = foldin.toarray() if sp.issparse(foldin) else np.asarray(foldin)
    with np.errstate(invalid="ignore"):
        return scores + f * -np.inf  # 0 * -inf is NaN


def _dense_mask_only(scores, foldin):
    out = scores.copy()
    out[np.asarray(foldin) != 0] = -np.inf
    return out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_in_place, "in place"),
        (_zero, "not enough"),
        (_complement, "does NOT have"),
        (_big_negative, "use -np.inf: that is this course's convention"),
        (_pos_inf, r"\+inf ranks masked items FIRST"),
        (_multiply_inf, r"inf \* 0 gives NaN"),
        (_dense_mask_only, "sparse"),
    ],
)
def test_mask_catches_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_mask_foldin(wrong)


# Exercise 5: popularity vs EASE on fund holdings ------------------------------------
def _mean(S, foldin, heldout, mask=True):
    return float(ndcg_at_k(mask_foldin(S, foldin) if mask else S, heldout, 10).mean())


def _pipeline(split, *, fit_on=None, mask=True):
    """The exercise's pipeline; ``fit_on`` replaces split.train for EASE (a leak), ``mask=False`` skips the mask."""
    X = split.train if fit_on is None else fit_on
    val = {
        lam: _mean(split.val_foldin @ ease_weights(X, lam), split.val_foldin, split.val_heldout, mask) for lam in [10, 100, 1000]
    }
    lam = max(val, key=val.get)
    n = split.test_foldin.shape[0]
    ease = _mean(split.test_foldin @ ease_weights(X, lam), split.test_foldin, split.test_heldout, mask)
    pop = _mean(popularity_scores(split.train, n), split.test_foldin, split.test_heldout, mask)
    return pop, ease


@pytest.fixture(scope="module", params=[0, 1])
def fund_split(request):
    fh = make_fund_holdings(1000, 300, seed=request.param)
    split = strong_generalization_split(fh.holdings, 150, seed=request.param)
    return fh, split


def test_fund_ndcg_accepts_clean_pipeline(fund_split):
    _, split = fund_split
    check_fund_ndcg(*_pipeline(split), split)


def test_fund_ndcg_accepts_other_tie_order(fund_split):
    _, split = fund_split
    n = split.test_foldin.shape[0]
    rev = np.arange(split.n_items)[::-1]  # popularity ties broken the other way
    S = mask_foldin(popularity_scores(split.train, n), split.test_foldin)[:, rev]
    pop = float(ndcg_at_k(S, split.test_heldout[:, rev], 10).mean())
    check_fund_ndcg(pop, _pipeline(split)[1], split)


def test_fund_ndcg_catches_ease_fitted_on_all_investors(fund_split):
    fh, split = fund_split
    X_all = sp.csr_matrix(fh.holdings)[:, split.items]
    with pytest.raises(AssertionError, match="fit on split.train only"):
        check_fund_ndcg(*_pipeline(split, fit_on=X_all), split)


def test_fund_ndcg_catches_missing_mask(fund_split):
    _, split = fund_split
    with pytest.raises(AssertionError, match="mask the fold-in items with mask_foldin"):
        check_fund_ndcg(*_pipeline(split, mask=False), split)


def test_fund_ndcg_catches_unmasked_popularity_only(fund_split):
    _, split = fund_split
    pop, ease = _pipeline(split)
    pop_unmasked = _mean(
        popularity_scores(split.train, split.test_foldin.shape[0]), split.test_foldin, split.test_heldout, mask=False
    )
    with pytest.raises(AssertionError, match="mask the fold-in items"):
        check_fund_ndcg(pop_unmasked, ease, split)


def test_fund_ndcg_catches_unmasked_ease_only(fund_split):
    _, split = fund_split
    pop, _ = _pipeline(split)
    _, ease_unmasked = _pipeline(split, mask=False)
    with pytest.raises(AssertionError, match="mask the fold-in items"):
        check_fund_ndcg(pop, ease_unmasked, split)


def test_fund_ndcg_catches_popularity_leak(fund_split):
    _, split = fund_split
    pop, ease = _pipeline(split)
    with pytest.raises(AssertionError, match="popularity .*fit on split.train only"):
        check_fund_ndcg(pop + 0.05, ease, split)


@pytest.mark.parametrize("bad, hint", [(np.array([0.1, 0.2]), "must be a float"), (1.5, r"outside \[0, 1\]")])
def test_fund_ndcg_rejects_non_float_or_out_of_range(fund_split, bad, hint):
    _, split = fund_split
    with pytest.raises(AssertionError, match=hint):
        check_fund_ndcg(bad, 0.2, split)


# ---- NDCG ------------------------------------------------------------------------------------
def _ndcg_builder(discount_offset=2, normalise=True, ideal_min=True, descending=True, per_user=True, dense_only=False, extra=0):
    def fn(scores, heldout, k):
        if not dense_only and hasattr(heldout, "toarray"):
            heldout = heldout.toarray()
        H = np.asarray(heldout)
        order = np.argsort(-scores if descending else scores, axis=1)[:, : k + extra]
        hits = np.take_along_axis(H, order, axis=1)
        disc = 1.0 / np.log2(np.arange(discount_offset, k + extra + discount_offset))
        dcg = hits @ disc
        n = H.sum(1)
        m = np.minimum(n, k) if ideal_min else n
        idcg = np.array([(1.0 / np.log2(np.arange(discount_offset, mm + discount_offset))).sum() for mm in m])
        out = dcg / idcg if normalise else dcg
        return out if per_user else out.mean()

    return fn


@pytest.mark.parametrize(
    "kwargs, hint",
    [
        ({"discount_offset": 1}, "(non-finite|off by one)"),
        ({"discount_offset": 3}, "off by one"),
        ({"discount_offset": 1, "normalise": False}, "non-finite"),
        ({"normalise": False}, "above 1: divide the DCG by the ideal"),
        ({"ideal_min": False}, "min\\(k, number held out\\)"),
        ({"descending": False}, "descending"),
        ({"per_user": False}, "one value per user"),
        ({"dense_only": True}, "scipy sparse"),
        ({"extra": 1}, "only the top k items count"),
    ],
)
def test_check_ndcg_catches(kwargs, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(AssertionError, match=hint):
            check_ndcg_at_k(_ndcg_builder(**kwargs))


def test_check_ndcg_passes_right_answers():
    check_ndcg_at_k(ndcg_at_k)
    check_ndcg_at_k(_ndcg_builder())
