"""Seeding, device choice, thread settings, and keeping the caller's random state untouched."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._validation import InputTypeError, check_positive_int

__all__ = ["set_seed", "get_device", "configure_threads", "isolated_rng", "seed_from_random_state"]

_ENV_THREADS = "COURSE_NUM_THREADS"
_ENV_DEVICE = "COURSE_DEVICE"


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and CUDA).

    With the same seed, the same code gives the same numbers on the CPU, to the
    last digit. CUDA kernels may still differ in the last digits between runs;
    the course's claims are checked with tolerances, so that is harmless.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Returns
    -------
    None
        Nothing, so a notebook cell ending in ``set_seed(SEED)`` prints nothing.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (set_seed's job is the global state)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return None


@contextlib.contextmanager
def isolated_rng(seed: int | None = None) -> Iterator[None]:
    """Run a block (or, as a decorator, a function) without changing the caller's global random state.

    The global generators of Python's ``random``, NumPy and PyTorch (CPU, and
    CUDA when it is in use) are saved on entry and restored on exit, even on
    error. With ``seed``, PyTorch's global generator is seeded inside the
    block, so code that draws from it (``torch.randn_like`` in a VAE's
    reparameterisation, weight initialisation) repeats for a given seed,
    whatever the caller's stream.

    Parameters
    ----------
    seed : int, optional
        A non-negative integer; ``None`` leaves the generators as they are
        inside the block (their draws are still undone on exit).

    Examples
    --------
    >>> import torch
    >>> before = torch.random.get_rng_state()
    >>> with isolated_rng(0):
    ...     _ = torch.randn(3)
    >>> bool((torch.random.get_rng_state() == before).all())
    True
    """
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 (saving the global state is the point)
    cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=cuda_devices):
        try:
            if seed is not None:
                torch.random.default_generator.manual_seed(int(seed))
                if cuda_devices:
                    torch.cuda.manual_seed_all(int(seed))
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002


def seed_from_random_state(random_state: Any, name: str = "random_state") -> int:
    """Turn a scikit-learn ``random_state`` into a seed for :func:`isolated_rng`.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
        An integer is used as the seed itself (so results repeat for it). A
        ``RandomState`` or ``Generator`` gives one draw from it (advancing it,
        as in scikit-learn). ``None`` draws from NumPy's global generator, as
        :func:`sklearn.utils.check_random_state` does: the one case that
        advances the caller's global stream, on purpose, so that
        ``set_seed(SEED)`` makes such calls repeatable.

    Returns
    -------
    int
        A seed in [0, 2**31 - 1).
    """
    if isinstance(random_state, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be an int, a numpy RandomState/Generator or None, got {random_state!r}.")
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0 or random_state >= 2**32:
            raise ValueError(f"{name} must lie in [0, 2**32), got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if random_state is not None and not isinstance(random_state, np.random.RandomState):
        raise InputTypeError(f"{name} must be an int, a numpy RandomState/Generator or None, got {type(random_state).__name__}.")
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def get_device(prefer: str | None = None) -> torch.device:
    """Return the device to train on: CUDA if available, else CPU.

    Parameters
    ----------
    prefer : {"cpu", "cuda"}, optional
        Force a device. Defaults to the environment variable ``COURSE_DEVICE``
        when set, else CUDA when ``torch.cuda.is_available()``.

    Returns
    -------
    torch.device
    """
    if prefer is not None and not isinstance(prefer, str):
        raise InputTypeError(f"prefer must be 'cpu', 'cuda' or None, got {type(prefer).__name__}.")
    choice = prefer or os.environ.get(_ENV_DEVICE)
    if choice is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    choice = choice.lower()
    if choice not in {"cpu", "cuda"}:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {choice!r}.")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "CUDA was requested but torch.cuda.is_available() is False: install a CUDA "
            "build of PyTorch, or unset COURSE_DEVICE to use the CPU."
        )
    return torch.device(choice)


def configure_threads(n: int | None = None) -> int:
    """Set the number of CPU threads of PyTorch, BLAS and OpenMP, and return it.

    Parameters
    ----------
    n : int, optional
        Number of threads. Defaults to ``COURSE_NUM_THREADS`` from the
        environment, else 1. One thread is the deliberate default: the
        course's networks are small, so more threads add more synchronisation
        than speed, and they fight with anything else running on the machine.

    Returns
    -------
    int
        The thread count now in force.
    """
    if n is None:
        raw = os.environ.get(_ENV_THREADS, "1")
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"{_ENV_THREADS} must be a positive integer, got {raw!r}.") from None
    n = check_positive_int(n, "n (the number of threads)")
    torch.set_num_threads(n)
    # The same limit for BLAS (numpy, scipy) and OpenMP (scikit-learn's k-means, gradient boosting).
    # Their runtimes must be loaded for the limit to reach them, hence the imports.
    import sklearn.cluster  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    return n
