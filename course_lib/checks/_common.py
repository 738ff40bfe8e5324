"""Small helpers shared by the checkers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch


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


def call(fn: Any, *args: Any, what: str) -> Any:
    """Call the learner's function, turning NotImplementedError into a friendly message."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(f"{what} still raises NotImplementedError: replace the stub with your code.") from None


F = TypeVar("F", bound=Callable[..., Any])


def hide_internals(checker: F) -> F:
    """Re-raise a checker's ``AssertionError`` from the checker's entry point only.

    A learner then sees the hint and the line of their own notebook, not the
    checker's source (which would show the reference computation).
    """

    @functools.wraps(checker)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest: hide this frame too
        try:
            return checker(*args, **kwargs)
        except AssertionError as exc:
            raise AssertionError(str(exc)) from None

    return wrapper  # type: ignore[return-value]
