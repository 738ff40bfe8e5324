"""MovieLens-100k, the standard small recommendation benchmark, read from a local file.

The GroupLens licence forbids redistributing MovieLens, so the course does not
ship it. Two local sources are accepted:

- the RecBole 1.2.1 wheel, which carries ``recbole/dataset_example/ml-100k/ml-100k.inter``
  (install it without its dependencies: ``pip install --no-deps recbole==1.2.1``;
  the Makefile does this). Its path is found through ``importlib``; RecBole is
  never imported.
- GroupLens's own ``u.data`` (tab-separated user, item, rating, timestamp, no
  header), from https://grouplens.org/datasets/movielens/100k/.

Nothing here touches the network.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from .._validation import InputTypeError

__all__ = ["load_movielens_100k", "movielens_100k_path"]

_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
_HOW_TO_GET = (
    "MovieLens-100k was not found. Get it in one of two ways: (1) `pip install --no-deps recbole==1.2.1` "
    "(the course's `make` set-up does this; only the data file inside the wheel is used), or (2) download "
    "ml-100k.zip from https://grouplens.org/datasets/movielens/100k/, unzip it and pass "
    "path='.../ml-100k/u.data' to load_movielens_100k."
)


def movielens_100k_path() -> Path:
    """Path of ``ml-100k.inter`` inside the installed RecBole wheel (RecBole is not imported).

    Raises
    ------
    FileNotFoundError
        When RecBole is not installed or its copy of the file is missing; the message says how to get it.
    """
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(_HOW_TO_GET)
    for root in spec.submodule_search_locations:
        path = Path(root) / "dataset_example" / "ml-100k" / "ml-100k.inter"
        if path.is_file():
            return path
    raise FileNotFoundError(_HOW_TO_GET)


def load_movielens_100k(path: str | Path | None = None) -> pd.DataFrame:
    """Load the 100,000 MovieLens-100k ratings.

    Parameters
    ----------
    path : str or Path, optional
        A RecBole ``ml-100k.inter`` file (typed header ``user_id:token`` ...) or
        GroupLens's ``u.data`` (no header). Defaults to the copy inside the
        installed RecBole wheel (:func:`movielens_100k_path`).

    Returns
    -------
    pandas.DataFrame
        Shape (n_ratings, 4), columns ``user_id`` (int), ``item_id`` (int),
        ``rating`` (float, 1 to 5), ``timestamp`` (int, Unix seconds), sorted by
        user then time. The same for both sources.

    Raises
    ------
    FileNotFoundError
        When no data file can be found (the message says how to get one).
    ValueError
        When the file is empty or does not have the four expected columns.
    """
    if path is not None and not isinstance(path, (str, Path)):
        raise InputTypeError(f"path must be a str or pathlib.Path to ml-100k.inter or u.data, got {type(path).__name__}.")
    path = movielens_100k_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist. " + _HOW_TO_GET)
    with open(path, encoding="latin-1") as fh:
        first = fh.readline()
    has_header = "user_id" in first
    df = pd.read_csv(path, sep="\t", header=0 if has_header else None, encoding="latin-1")
    if df.shape[1] != 4:
        raise ValueError(
            f"{path} has {df.shape[1]} tab-separated columns; expected 4 (user, item, rating, timestamp) as in "
            "ml-100k.inter or u.data. Pass one of those files."
        )
    df.columns = _COLUMNS
    if df.empty:
        raise ValueError(f"{path} holds no ratings; pass a complete ml-100k.inter or u.data file.")
    if df.isna().any().any():
        raise ValueError(f"{path} has missing values in {int(df.isna().sum().sum())} cells; the file looks damaged.")
    df = df.astype({"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "int64"})
    return df.sort_values(["user_id", "timestamp", "item_id"], kind="stable").reset_index(drop=True)
