"""course_lib: the small, tested helper library of *Autoencoders in Finance*.

The package top holds the two things every notebook calls first:

- :func:`set_seed` seeds Python, NumPy and PyTorch so CPU runs repeat exactly;
- :func:`get_device` picks CUDA when it is available, else the CPU.

Importing the package also fixes PyTorch's CPU thread count (see
:func:`configure_threads`): one thread by default, because the course's models
are small and extra threads mostly add contention (measured on a 2-core
machine with the other core busy: 10x slower on 2 threads than on 1). Set the
environment variable ``COURSE_NUM_THREADS`` before starting Jupyter to change it.

Everything else lives in one module per concern: ``data``, ``models``,
``losses``, ``train``, ``estimators``, ``metrics``, ``plots`` and ``checks``.
"""

from __future__ import annotations

from ._runtime import configure_threads, get_device, isolated_rng, set_seed

__all__ = ["set_seed", "get_device", "configure_threads", "isolated_rng", "__version__"]
__version__ = "0.1.0"

configure_threads()
