"""The Chapter 2b checkers pass right answers and catch typical wrong ones with their specific hint."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from course_lib.checks import check_managed_portfolios, check_r2_scores, check_rank_normalize
from course_lib.checks import conditional_autoencoder as cae_checks


def test_checkers_are_exported() -> None:
    import course_lib.checks as checks

    for name in ("check_managed_portfolios", "check_rank_normalize", "check_r2_scores"):
        assert name in checks.__all__ and name in cae_checks.__all__


# --- managed portfolios ------------------------------------------------------
def managed_right(Z: np.ndarray, R: np.ndarray) -> np.ndarray:
    return np.einsum("tnp,tn->tp", Z[:-1], R[1:]) / R.shape[1]


def managed_loop(Z: np.ndarray, R: np.ndarray) -> np.ndarray:
    return np.stack([Z[t - 1].T @ R[t] / R.shape[1] for t in range(1, len(R))])


def test_managed_portfolios_right_answers_pass() -> None:
    check_managed_portfolios(managed_right)
    check_managed_portfolios(managed_loop)
    check_managed_portfolios(lambda Z, R: torch.einsum("tnp,tn->tp", torch.tensor(Z[:-1]), torch.tensor(R[1:])) / R.shape[1])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda Z, R: np.einsum("tnp,tn->tp", Z, R) / R.shape[1], "look-ahead"),
        (lambda Z, R: np.einsum("tnp,tn->tp", Z[1:], R[1:]) / R.shape[1], "look-ahead"),
        (lambda Z, R: np.einsum("tnp,tn->tp", Z[:-1], R[:-1]) / R.shape[1], "look-ahead"),
        (lambda Z, R: np.einsum("tnp,tn->tp", Z[1:], R[:-1]) / R.shape[1], "wrong way"),
        (lambda Z, R: np.einsum("tnp,tn->tp", Z[:-1], R[1:]), "N = 7 times too large"),
        (lambda Z, R: managed_right(Z, R).T, "transpose"),
        (lambda Z, R: np.einsum("tnp,tn->tp", Z[:-1], R[1:]) / Z.shape[2], "not by the number of characteristics"),
        (lambda Z, R: managed_right(Z, R).mean(0, keepdims=True).repeat(len(R) - 1, 0), "averaged over periods"),
        (lambda Z, R: managed_right(Z, R) * 2, "expected row 0"),
        (lambda Z, R: np.einsum("tnp,tn->tp", Z[:-1], R[1:]) / 7, "second panel"),
        (lambda Z, R: managed_right(Z, R)[1:], "expected shape"),
    ],
)
def test_managed_portfolios_wrong_answers_are_caught(wrong, hint: str) -> None:
    with pytest.raises(AssertionError, match=hint):
        check_managed_portfolios(wrong)


def test_managed_portfolios_stub_is_reported() -> None:
    def stub(Z, R):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_managed_portfolios(stub)


# --- rank normalisation ------------------------------------------------------
def rank_right(values: np.ndarray) -> np.ndarray:
    ranks = values.argsort(axis=1).argsort(axis=1)
    return ranks / (values.shape[1] - 1) - 0.5


def test_rank_normalize_right_answers_pass() -> None:
    import pandas as pd

    check_rank_normalize(rank_right)
    check_rank_normalize(lambda v: (pd.DataFrame(v).rank(axis=1).to_numpy() - 1) / (v.shape[1] - 1) - 0.5)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda v: v.argsort(axis=0).argsort(axis=0) / (v.shape[0] - 1) - 0.5, "over time"),
        (lambda v: rank_right(v) + 0.5, r"\[0, 1\]"),
        (lambda v: v.argsort(axis=1).argsort(axis=1).astype(float), "raw ranks"),
        (lambda v: v.argsort(axis=1).argsort(axis=1) + 1.0, "raw ranks"),
        (lambda v: v.argsort(axis=1).argsort(axis=1) / v.shape[1] - 0.5, "not N"),
        (lambda v: (v.argsort(axis=1).argsort(axis=1) + 1) / v.shape[1] - 0.5, "not N"),
        (lambda v: -rank_right(v), "reversed"),
        (lambda v: (v - v.mean(1, keepdims=True)) / v.std(1, keepdims=True), "standardised"),
        (lambda v: rank_right(v)[:, ::-1], "expected"),
        (lambda v: v.argsort(axis=1) / (v.shape[1] - 1) - 0.5, "argsort once"),  # the common slip: positions, not ranks
        (lambda v: np.argsort(v, axis=1) / (v.shape[1] - 1) - 0.5, "not each value's rank"),
        (lambda v: v.argsort(axis=1).argsort(axis=1) / 4 - 0.5, "second array"),
        (lambda v: rank_right(v)[:-1], "same shape"),
    ],
)
def test_rank_normalize_wrong_answers_are_caught(wrong, hint: str) -> None:
    with pytest.raises(AssertionError, match=hint):
        check_rank_normalize(wrong)


def test_rank_normalize_failure_shows_a_row_that_differs() -> None:
    def off_in_one_row(v: np.ndarray) -> np.ndarray:
        out = rank_right(v).astype(float)
        out[3] = out[3, ::-1]
        return out

    with pytest.raises(AssertionError, match=r"row 3 \(period 3\): expected") as info:
        check_rank_normalize(off_in_one_row)
    expected, got = re.search(r"expected (\[[^\]]*\]), got (\[[^\]]*\])", str(info.value)).groups()
    assert expected != got, "the message must show a row where the answer is wrong"


# --- total and predictive R^2 ------------------------------------------------
def r2_right(returns, betas, factors, train_factors):
    sst = (returns**2).sum()
    total = 1 - ((returns - np.einsum("tnk,tk->tn", betas, factors)) ** 2).sum() / sst
    pred = 1 - ((returns - betas @ train_factors.mean(0)) ** 2).sum() / sst
    return float(total), float(pred)


def _r2(R, fit, demean=False):
    den = ((R - R.mean()) ** 2).sum() if demean else (R**2).sum()
    return 1 - ((R - fit) ** 2).sum() / den


def test_r2_scores_right_answers_pass() -> None:
    check_r2_scores(r2_right)
    check_r2_scores(lambda R, B, F, F0: tuple(torch.tensor(v) for v in r2_right(R, B, F, F0)))
    check_r2_scores(lambda R, B, F, F0: np.array(r2_right(R, B, F, F0)))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda R, B, F, F0: r2_right(R, B, F, F0)[::-1], "swapped"),
        (
            lambda R, B, F, F0: (_r2(R, np.einsum("tnk,tk->tn", B, F), True), r2_right(R, B, F, F0)[1]),
            "total R\\^2 uses a demeaned",
        ),
        (lambda R, B, F, F0: (r2_right(R, B, F, F0)[0],) * 2, "realised factors"),
        (lambda R, B, F, F0: (r2_right(R, B, F, F0)[0], _r2(R, B @ F.mean(0))), "test-period factors"),
        (lambda R, B, F, F0: (r2_right(R, B, F, F0)[0], _r2(R, B @ F0.mean(0), True)), "predictive R\\^2 uses a demeaned"),
        (lambda R, B, F, F0: (r2_right(R, B, F, F0)[0], _r2(R, B @ F0.mean(0)) + 0.1), "predictive R\\^2: expected"),
        (lambda R, B, F, F0: (0.5, r2_right(R, B, F, F0)[1]), "total R\\^2: expected"),
        (lambda R, B, F, F0: r2_right(R, B, F, F0)[0], "two numbers"),
    ],
)
def test_r2_scores_wrong_answers_are_caught(wrong, hint: str) -> None:
    with pytest.raises(AssertionError, match=hint):
        check_r2_scores(wrong)


def test_a_failing_check_hides_the_reference_traceback() -> None:
    with pytest.raises(AssertionError) as info:
        check_r2_scores(lambda R, B, F, F0: r2_right(R, B, F, F0)[::-1])
    assert info.value.__cause__ is None and info.value.__suppress_context__
