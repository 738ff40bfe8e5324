"""Small helpers shared by the checkers: conversions, the learner-facing failure, and hint levels."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

__all__ = ["to_numpy", "close", "call", "Hint", "HINTS", "register_hints", "hint", "CheckFailed", "hide_internals"]

_CHECKS_DIR = os.path.dirname(os.path.abspath(__file__))


def to_numpy(x: Any, what: str) -> np.ndarray:
    """Convert a tensor/array-like result to a float64 array, or fail with a hint."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should return numbers (a tensor or an array), got {type(x).__name__}.") from None


def close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """True when shapes match and values agree within tolerance."""
    return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _snapshot(x: Any) -> Any:
    """A copy of an array-like argument to compare after the call (None for anything else, e.g. a model)."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, (np.ndarray, pd.DataFrame, pd.Series)) or sp.issparse(x):
        return x.copy()
    return None


def _unchanged(before: Any, after: Any) -> bool:
    if isinstance(before, torch.Tensor):
        return before.shape == after.shape and bool(
            torch.equal(before, after.detach()) or torch.allclose(before, after.detach(), equal_nan=True)
        )
    if isinstance(before, (pd.DataFrame, pd.Series)):
        return before.equals(after)
    if sp.issparse(before):
        return before.shape == after.shape and (before != after).nnz == 0
    return before.shape == after.shape and bool(np.array_equal(before, after, equal_nan=before.dtype.kind == "f"))


def call(fn: Any, *args: Any, what: str) -> Any:
    """Call the learner's function: a stub gets a friendly message, and changing an input in place is a mistake.

    A function that edits its inputs (``prices -= ...``, ``scores[mask] = ...``, ``x.add_(...)``) can return the
    right numbers and still break the next cell, which reads the same object.
    """
    before = [_snapshot(a) for a in args]
    try:
        out = fn(*args)
    except NotImplementedError:
        raise AssertionError(f"{what} still raises NotImplementedError: replace the stub with your code.") from None
    for i, (b, a) in enumerate(zip(before, args)):
        if b is not None and not _unchanged(b, a):
            raise AssertionError(
                f"{what} changed the caller's input in place (argument {i + 1}, a {type(a).__name__}): the numbers it "
                "returns may be right, but the caller's data are now altered and the next cell reads them. "
                "Work on a copy and leave the inputs as they were."
            )
    return out


# ---- hint levels -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hint:
    """Two levels of help for one exercise.

    Parameters
    ----------
    checker : str
        The checker's name (``"check_kl_normal"``).
    exercise : str
        The name of the function the learner writes (``"kl_normal"``).
    concept : str
        Level 1: the idea and where to look in the chapter, no code.
    shape : str
        Level 2: the shape of the formula or code, shown only on request.
    """

    checker: str
    exercise: str
    concept: str
    shape: str


HINTS: dict[str, Hint] = {}  # checker name -> its hints


def register_hints(*hints: Hint) -> None:
    """Add a checker module's hints to the registry."""
    for h in hints:
        HINTS[h.checker] = h


def _find_hint(exercise: Any) -> Hint:
    name = getattr(exercise, "__name__", exercise)
    if not isinstance(name, str):
        raise ValueError(f"exercise must be a name such as 'kl_normal' or a checker, got {type(exercise).__name__}.")
    for h in HINTS.values():
        if name in (h.exercise, h.checker):
            return h
    known = ", ".join(sorted(h.exercise for h in HINTS.values()))
    raise ValueError(f"no hints for {name!r}; pass the name of the function you write, one of: {known}.")


def hint(exercise: Any, level: int = 1) -> None:
    """Print a hint for an exercise (once: it returns None, so a notebook shows no second copy as the cell's Out).

    Parameters
    ----------
    exercise : str or callable
        The function you write (``"kl_normal"``), its checker's name or the checker itself.
    level : int
        1 names the concept and where to read about it; 2 shows the shape of the formula or code.
    """
    if level not in (1, 2):
        raise ValueError(f"level must be 1 (the concept) or 2 (the shape of the code), got {level!r}.")
    h = _find_hint(exercise)
    text = h.concept if level == 1 else h.shape
    print(f"{h.exercise} (hint level {level}): {text}")


# ---- the learner-facing failure ------------------------------------------------------------------
class CheckFailed(AssertionError):
    """A checker's verdict on a wrong answer.

    In IPython/Jupyter it shows the hint and the learner's own frames only (through IPython's
    ``_render_traceback_`` protocol), not the checker's code, which holds the reference answer.
    """

    def _render_traceback_(self) -> list[str]:
        frames = [f for f in traceback.extract_tb(self.__traceback__) if not os.path.abspath(f.filename).startswith(_CHECKS_DIR)]
        out = []
        for f in frames:
            where = (
                f"Cell, line {f.lineno}"
                if re.search(r"ipykernel_\d+|<ipython-input", f.filename)
                else f"{f.filename}, line {f.lineno}"
            )
            out.append(f"  {where}:  {(f.line or '').strip()}")
        return [*out, f"{type(self).__name__}: {self}"]


F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _global_random_state_kept() -> Iterator[None]:
    """Run a checker without changing the caller's global torch and numpy random state.

    Checkers seed their own data (and the learner's function may draw from the global generator, as
    ``torch.randn_like`` does); afterwards the learner's stream continues exactly where it was.
    """
    np_state = np.random.get_state()  # noqa: NPY002  (saving the legacy global state is the point)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002


def hide_internals(checker: F) -> F:
    """Wrap a checker: a wrong answer raises :class:`CheckFailed` from the caller's line; a right one prints one line.

    A learner then sees the hint and the line of their own notebook, not the checker's source
    (which would show the reference computation); a pass is never silent.
    """

    @functools.wraps(checker)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest: hide this frame too
        try:
            with _global_random_state_kept():
                out = checker(*args, **kwargs)
        except AssertionError as exc:
            h = HINTS.get(checker.__name__)
            more = f"\nStill stuck? hint({h.exercise!r}, level=2) shows the shape of the code." if h else ""
            raise CheckFailed(f"{exc}{more}") from None
        print(f"{checker.__name__}: passed.")
        return out

    return wrapper  # type: ignore[return-value]
