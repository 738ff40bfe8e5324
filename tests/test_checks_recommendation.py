"""Chapter 3 checkers: each passes a right answer and catches typical wrong ones with its own hint."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from course_lib.checks import check_ease_weights, check_mask_foldin, check_multinomial_nll
from course_lib.recommend import ease_weights, multinomial_nll
from course_lib.recsplit import mask_foldin


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
    [(_rows, "each row"), (_no_lambda, "lambda is missing"), (_lam_everywhere, "every entry"), (_plus, "sign error"),
     (_no_identity, "diagonal of B must be 0"), (_user_gram, "n_users, n_users")],
)
def test_ease_catches_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_ease_weights(wrong)


def test_ease_requires_sparse_support():
    with pytest.raises((AssertionError, TypeError)):
        check_ease_weights(_dense_only)


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


def _dense_mask_only(scores, foldin):
    out = scores.copy()
    out[np.asarray(foldin) != 0] = -np.inf
    return out


@pytest.mark.parametrize(
    "wrong, hint",
    [(_in_place, "in place"), (_zero, "not enough"), (_complement, "does NOT have"), (_big_negative, "large negative"),
     (_dense_mask_only, "sparse")],
)
def test_mask_catches_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_mask_foldin(wrong)
