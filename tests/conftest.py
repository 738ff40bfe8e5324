"""Shared fixtures. Plots render off-screen; every test starts from a fixed seed."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from course_lib import set_seed  # noqa: E402
from course_lib.data import make_factor_market  # noqa: E402


@pytest.fixture(autouse=True)
def _seed() -> None:
    set_seed(0)


@pytest.fixture(scope="session")
def market():
    """A small linear factor market (300 days x 40 stocks, 3 factors, 4 sectors)."""
    return make_factor_market(n_stocks=40, n_days=300, n_factors=3, n_sectors=4, seed=0)
