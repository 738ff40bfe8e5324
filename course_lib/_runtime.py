"""Seeding, device choice and thread settings."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

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
    if n < 1:
        raise ValueError(f"the number of threads must be at least 1, got {n}.")
    torch.set_num_threads(n)
    # The same limit for BLAS (numpy, scipy) and OpenMP (scikit-learn's k-means, gradient boosting).
    # Their runtimes must be loaded for the limit to reach them, hence the imports.
    import sklearn.cluster  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    return n
