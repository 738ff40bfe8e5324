"""What every checker shares: a one-line pass, a clean failure in IPython, hints in two levels."""

from __future__ import annotations

import pytest
import torch

import course_lib.checks as checks
from course_lib.checks import CheckFailed, check_kl_normal, hint


def _kl_ok(mu, lv):
    return 0.5 * (mu**2 + lv.exp() - lv - 1).sum(1)


def _kl_no_half(mu, lv):
    return (mu**2 + lv.exp() - lv - 1).sum(1)


def test_a_passing_checker_says_so_in_one_line(capsys):
    check_kl_normal(_kl_ok)
    out = capsys.readouterr().out
    assert out == "check_kl_normal: passed.\n"


def test_a_failing_checker_names_the_mistake_and_offers_the_next_level():
    with pytest.raises(CheckFailed, match="twice too large") as info:
        check_kl_normal(_kl_no_half)
    assert isinstance(info.value, AssertionError), "pytest and nbgrader see an ordinary failed assertion"
    assert "hint('kl_normal', level=2)" in str(info.value)


def test_in_ipython_the_failure_shows_the_hint_and_the_learners_line_only(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(check_kl_normal=check_kl_normal, torch=torch)
    shell.run_cell("def kl(mu, lv):\n    return (mu**2 + lv.exp() - lv - 1).sum(1)\n")
    shell.run_cell("check_kl_normal(kl)")
    out = capsys.readouterr().out
    assert "twice too large" in out and "check_kl_normal(kl)" in out
    assert "_common.py" not in out and "raise" not in out, "the checker's wrapper frame must not show"
    assert "kl_divergence" not in out, "the checker's reference computation must not show"


def test_every_checker_has_two_levels_of_hints_and_level_one_shows_no_code():
    assert set(checks.HINTS) == set(checks._CHECKERS)
    for h in checks.HINTS.values():
        assert h.concept and h.shape and h.concept != h.shape
        for code_marker in ("np.", "torch.", ".sum(", "=="):
            assert code_marker not in h.concept, f"{h.checker}: level 1 names the concept, not code ({code_marker!r})"


def test_hint_accepts_the_exercise_the_checker_or_its_name(capsys):
    assert hint("kl_normal") is None, "hint prints its text; returning it too would show it twice in a notebook"
    one = capsys.readouterr().out
    assert "level 1" in one and "variance" in one and one.count("kl_normal (hint level 1)") == 1
    hint(check_kl_normal, level=2)
    assert "logvar.exp()" in capsys.readouterr().out
    hint("check_train_only_scaler", level=2)
    assert capsys.readouterr().out.startswith("scale (hint level 2)")
    with pytest.raises(ValueError, match="one of"):
        hint("no_such_exercise")
    with pytest.raises(ValueError, match="level must be 1"):
        hint("kl_normal", level=3)


def test_hint_shows_once_in_ipython(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(hint=hint)
    shell.run_cell("hint('kl_normal')")  # the last expression of a cell: IPython would echo a returned value as Out
    out = capsys.readouterr().out
    assert out.count("kl_normal (hint level 1)") == 1, out


def test_checkers_leave_the_global_random_state_alone():
    import numpy as np

    torch.manual_seed(123)
    np.random.seed(123)
    t_before, n_before = torch.random.get_rng_state().clone(), np.random.get_state()[1].copy()
    check_kl_normal(_kl_ok)
    checks.check_reparameterize(lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn_like(mu))
    with pytest.raises(AssertionError):
        checks.check_reparameterize(lambda mu, lv: mu)
    assert torch.equal(torch.random.get_rng_state(), t_before), "a checker reseeded or advanced the global torch generator"
    assert np.array_equal(np.random.get_state()[1], n_before), "a checker changed the global numpy random state"
