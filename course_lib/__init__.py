"""course_lib: the small, tested helper library of *Autoencoders in Finance*.

The package top holds the two things every notebook calls first:

- :func:`set_seed` seeds Python, NumPy and PyTorch so CPU runs repeat exactly;
- :func:`get_device` picks CUDA when it is available, else the CPU.

Importing the package also fixes PyTorch's CPU thread count (see
:func:`configure_threads`): one thread by default, because the course's models
are small and extra threads mostly add contention (measured on a 2-core
machine with the other core busy: 10x slower on 2 threads than on 1). Set the
environment variable ``COURSE_NUM_THREADS`` before starting Jupyter to change it.

Everything else lives in one module per concern (core modules never import
chapter modules):

Core
    ``models`` (MLP autoencoder and VAE), ``losses`` (KL, Gaussian NLL, beta
    schedules), ``train`` (the one training loop :func:`~course_lib.train.fit`),
    ``estimators`` (scikit-learn-style wrappers), ``metrics`` (variance
    explained, factor recovery, ranking), ``scenarios`` (baseline scenario
    generators and how to judge them), ``plots`` (shared figures).
Data
    ``data`` with ``data.market`` (a synthetic factor market), ``data.prices``
    (shipped S&P 500 prices), ``data.features`` (look-ahead-free features,
    splits, scaling), ``data.pairs_market`` (planted cointegrated pairs), ``data.holdings`` (generated fund holdings) and
    ``data.movielens`` (MovieLens-100k from a local file).
Chapters
    ``portfolio`` and ``pairs`` (Chapter 1), ``factors`` and ``risk`` (Chapter 2),
    ``conditional`` (Chapter 2b), ``recommend`` and ``recsplit`` (Chapter 3),
    ``anomalies`` (detection) and ``latent`` (a VAE's latent space: encode, decode,
    interpolate, augment, scenarios) (Chapter 4).
Exercises
    ``checks`` (one checker module per chapter) and ``exercises`` (builds
    ``exercises/`` from ``solutions/``).
Internals
    ``_runtime`` (seeding, device, threads, :func:`isolated_rng`) and
    ``_validation`` (the input checks every public function uses).

No library call changes the caller's global random state (Python, NumPy,
PyTorch): functions take a ``seed`` or ``random_state`` and draw from their own
generators (:func:`isolated_rng`).
"""

from __future__ import annotations

from ._runtime import configure_threads, get_device, isolated_rng, set_seed

__all__ = ["set_seed", "get_device", "configure_threads", "isolated_rng", "__version__"]
__version__ = "0.1.0"

configure_threads()
