"""Benchmarks of the course (``make bench``; not part of ``make test``).

- :mod:`benchmarks.ml100k`: Chapter 3's MovieLens-100k table over several random
  strong-generalisation user splits (means, standard deviations, paired differences against EASE).
- :mod:`benchmarks.scale`: one epoch of Mult-VAE on a generated sparse matrix of
  MovieLens-20M size, never densifying more than one mini-batch.

Results are written as text and JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
