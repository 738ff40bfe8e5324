"""The Chapter 2 checkers pass right answers and catch typical wrong ones with their specific hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.checks import check_beta_schedule, check_kl_normal, check_recovery_r2, check_reparameterize
from course_lib.checks import vae_factors_vs_pca as factors_checks


def test_checkers_are_exported() -> None:
    import course_lib.checks as checks

    for name in ("check_beta_schedule", "check_recovery_r2"):
        assert name in checks.__all__ and name in factors_checks.__all__


# --- beta schedule -----------------------------------------------------------
def beta_right(epoch: int, beta_max: float, warmup_epochs: int) -> float:
    if warmup_epochs == 0:
        return beta_max
    return beta_max * min(1.0, epoch / warmup_epochs)


def test_beta_schedule_right_answer_passes() -> None:
    check_beta_schedule(beta_right)


def test_beta_schedule_numpy_scalar_is_fine() -> None:
    check_beta_schedule(lambda e, b, w: np.float32(beta_right(e, b, w)) if w else np.float64(b))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda e, b, w: min(1.0, e / w) if w else 1.0, "ends at 1 instead of beta_max"),
        (lambda e, b, w: b - b * min(1.0, e / w) if w else b, "beta falls over training"),
        (lambda e, b, w: b * min(1, e // w) if w else b, "integer division"),
        (lambda e, b, w: b * e / w if w else b, "keeps growing after the warm-up"),
        (lambda e, b, w: b * min(1.0, (e + 1) / w) if w else b, "exactly 0 at epoch 0"),
        (lambda e, b, w: b * min(1.0, e / (w - 1)) if w > 1 else b, "not warmup_epochs - 1"),
        (lambda e, b, w: b * min(1.0, e / w), "not a division by zero"),
        (lambda e, b, w: b * min(1.0, e / w) if w else 0.0, "no warm-up"),
        (lambda e, b, w: 0.5 * min(1.0, e / 10) if w else b, "do not hard-code"),
        (lambda e, b, w: b * min(1.0, (e / w) ** 2) if w else b, "not linear"),
        (lambda e, b, w: [beta_right(e, b, w)] * 2, "return one number"),
        (lambda e, b, w: torch.tensor(beta_right(e, b, w)), "return a Python float \\(float\\(...\\)\\), not a tensor"),
        (lambda e, b, w: b * torch.clamp(torch.tensor(e / w), max=1.0) if w else torch.tensor(b), "not a tensor"),
        (lambda e, b, w: torch.tensor(beta_right(e, b, w), dtype=torch.float64), "not a tensor"),
        (lambda e, b, w: np.array([beta_right(e, b, w)]), "return a Python float \\(float\\(...\\)\\), not a NumPy array"),
    ],
)
def test_beta_schedule_wrong_answers_are_caught(wrong, hint: str) -> None:
    with pytest.raises(AssertionError, match=hint):
        check_beta_schedule(wrong)


def test_beta_schedule_tensor_gets_the_type_hint_not_a_warm_up_hint() -> None:
    with pytest.raises(AssertionError) as info:
        check_beta_schedule(lambda e, b, w: torch.tensor(beta_right(e, b, w)))
    assert "warm" not in str(info.value)


def test_beta_schedule_stub_is_reported() -> None:
    def stub(e, b, w):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_beta_schedule(stub)


# --- recovery R^2 ------------------------------------------------------------
def recovery_right(factors: np.ndarray, latents: np.ndarray) -> np.ndarray:
    A = np.column_stack([np.ones(len(latents)), latents])
    coef, *_ = np.linalg.lstsq(A, factors, rcond=None)
    resid = factors - A @ coef
    return 1 - (resid**2).sum(0) / ((factors - factors.mean(0)) ** 2).sum(0)


def test_recovery_right_answer_passes() -> None:
    check_recovery_r2(recovery_right)


def test_recovery_sklearn_answer_passes() -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    def sk(F, Z):
        pred = LinearRegression().fit(Z, F).predict(Z)
        return r2_score(F, pred, multioutput="raw_values")

    check_recovery_r2(sk)


def _no_intercept(F, Z):
    coef, *_ = np.linalg.lstsq(Z, F, rcond=None)
    return 1 - ((F - Z @ coef) ** 2).sum(0) / ((F - F.mean(0)) ** 2).sum(0)


def _raw_sst(F, Z):
    A = np.column_stack([np.ones(len(Z)), Z])
    coef, *_ = np.linalg.lstsq(A, F, rcond=None)
    return 1 - ((F - A @ coef) ** 2).sum(0) / (F**2).sum(0)


def _per_column(F, Z):
    return np.array([np.corrcoef(F[:, k], Z[:, k])[0, 1] ** 2 for k in range(F.shape[1])])


def _wrong_direction(F, Z):
    return recovery_right(Z, F)


def _fitted_vs_fitted(F, Z):
    return np.ones(F.shape[1])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda F, Z: recovery_right(F, Z).mean(), "not their mean"),
        (_wrong_direction, "one per latent"),
        (_per_column, "factor k with latent k only"),
        (lambda F, Z: np.sqrt(recovery_right(F, Z)), "correlation R, not R\\^2"),
        (_no_intercept, "no intercept"),
        (_raw_sst, "deviations from each factor's mean"),
        (_fitted_vs_fitted, "every R\\^2 is 1"),
        (lambda F, Z: recovery_right(F, Z[:, :1]), "ONE latent"),
    ],
)
def test_recovery_wrong_answers_are_caught(wrong, hint: str) -> None:
    with pytest.raises(AssertionError, match=hint):
        check_recovery_r2(wrong)


def test_recovery_hardcoded_shape_is_caught() -> None:
    calls = {"n": 0}

    def only_first_problem(F, Z):
        calls["n"] += 1
        return recovery_right(F, Z) if calls["n"] == 1 else np.array([1.0, 1.0])

    with pytest.raises(AssertionError, match="rotation of the factors"):
        check_recovery_r2(only_first_problem)


# ---- reparameterisation ------------------------------------------------------------------
def reparam_ok(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mu, lv: mu, "forgot the noise"),
        (lambda mu, lv: torch.exp(0.5 * lv) * torch.randn_like(mu), "forget to add mu"),
        (lambda mu, lv: mu + torch.exp(lv) * torch.randn_like(mu), "the variance"),
        (lambda mu, lv: mu + torch.randn_like(mu), "scale the noise"),
        (lambda mu, lv: mu + lv * torch.randn_like(mu), "logvar is the log of the variance"),
        (lambda mu, lv: torch.normal(mu, torch.exp(0.5 * lv)), "no gradient reaches mu"),
        (lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach(), "no gradient"),
        (lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape[1]), "same noise"),
        (
            lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(0)),
            "two calls returned the same draws",
        ),
        (lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach().numpy(), "torch.Tensor"),
    ],
)
def test_check_reparameterize_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_reparameterize(wrong)


def test_check_reparameterize_passes_right_answers():
    check_reparameterize(reparam_ok)
    check_reparameterize(lambda mu, lv: mu + torch.sqrt(torch.exp(lv)) * torch.randn_like(lv))


def test_checker_reports_unfinished_stub():
    def stub(mu, logvar):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_reparameterize(stub)


# ---- KL --------------------------------------------------------------------------------------
def kl_ok(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mu, lv: (mu**2 + lv.exp() - lv - 1).sum(1), "twice too large: did you drop the 1/2"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).mean(1), "latent_dim times too small"),
        (lambda mu, lv: -0.5 * (mu**2 + lv.exp() - lv - 1).sum(1), "wrong sign"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv).sum(1), "forgot the -1"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1).sum(), "one number for the whole batch"),
        (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv - 1), "sum over the latent dimensions"),
        (lambda mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 0.5 * lv - 1).sum(1), "sigma where sigma\\^2 belongs"),
        (lambda mu, lv: 0.5 * (lv.exp() - lv - 1).sum(1), "torch.distributions"),
    ],
)
def test_check_kl_normal_catches(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_kl_normal(wrong)


def test_check_kl_normal_passes_right_answers():
    check_kl_normal(kl_ok)
    dist = torch.distributions
    check_kl_normal(lambda mu, lv: dist.kl_divergence(dist.Normal(mu, (0.5 * lv).exp()), dist.Normal(0.0, 1.0)).sum(-1))
