r"""The evaluation protocol of Liang et al. (2018) for recommenders: implicit feedback and strong generalisation.

- :func:`implicit_matrix` turns ratings into a binary user x item matrix
  (ratings >= 4, users with at least 5 such items).
- :func:`strong_generalization_split` holds out whole *users* (validation and
  test); for each of them 80 % of the items are the fold-in input and 20 % are
  scored. Items never seen by a training user are dropped.
- :func:`mask_foldin` sets the fold-in items' scores to :math:`-\infty`, so a
  model is never credited for recommending what the user already has.
- :func:`evaluate_ranking` gives NDCG@k and Recall@k per user, and
  :func:`paired_table` summarises several random splits with paired
  differences against a baseline (split-to-split noise is larger than most
  gaps between models, so one split proves little).
- :func:`kfold_user_splits` scores every non-validation user exactly once
  (K folds of test users, one fixed validation group), and
  :func:`paired_difference` gives the mean per-user difference between two
  models with a t confidence interval, a verdict that names a winner only when
  the interval excludes zero, and an optional equivalence test (TOST).
- :func:`temporal_split` turns a split's held-out users into a next-purchase
  protocol: fold in the earlier purchases, score the last ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from ._validation import (
    InputTypeError,
    align_index,
    as_1d_float,
    check_positive_int,
    check_probability,
    check_real,
    check_seed,
    check_sparse,
)
from .metrics import ndcg_at_k, recall_at_k

__all__ = [
    "Interactions",
    "implicit_matrix",
    "RecSplit",
    "strong_generalization_split",
    "mask_foldin",
    "evaluate_ranking",
    "paired_table",
    "kfold_user_splits",
    "temporal_split",
    "PairedDifference",
    "paired_difference",
]


@dataclass
class Interactions:
    """A binary user x item matrix and the original ids of its rows and columns.

    Attributes
    ----------
    X : scipy.sparse.csr_matrix, shape (n_users, n_items), float32
    user_ids : numpy.ndarray, shape (n_users,)
    item_ids : numpy.ndarray, shape (n_items,)
    """

    X: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray


def implicit_matrix(
    ratings: pd.DataFrame,
    *,
    min_rating: float = 4.0,
    min_user_items: int = 5,
    user_col: str = "user_id",
    item_col: str = "item_id",
    rating_col: str = "rating",
) -> Interactions:
    """Binarise explicit ratings: keep ratings >= ``min_rating`` and users with >= ``min_user_items`` of them.

    Parameters
    ----------
    ratings : pandas.DataFrame, shape (n_ratings, >= 3)
        One row per rating, with user, item and rating columns.

    Returns
    -------
    Interactions
        ``X`` has a 1 for every kept (user, item) pair; duplicates count once.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise InputTypeError(
            f"ratings must be a pandas DataFrame with user, item and rating columns, got {type(ratings).__name__}."
        )
    check_real(min_rating, "min_rating")
    min_user_items = check_positive_int(min_user_items, "min_user_items")
    missing = {user_col, item_col, rating_col} - set(ratings.columns)
    if missing:
        raise ValueError(f"ratings lacks the column(s) {sorted(missing)}; pass user_col/item_col/rating_col to name them.")
    if ratings.empty:
        raise ValueError("ratings is empty: load the data first (e.g. load_movielens_100k()).")
    if ratings[[user_col, item_col, rating_col]].isna().any().any():
        raise ValueError("ratings holds NaN; drop those rows explicitly first (ratings.dropna()).")
    kept = ratings.loc[ratings[rating_col] >= min_rating, [user_col, item_col]].drop_duplicates()
    counts = kept[user_col].value_counts()
    kept = kept[kept[user_col].isin(counts.index[counts >= min_user_items])]
    if kept.empty:
        raise ValueError(f"no user has {min_user_items} ratings >= {min_rating}: lower min_rating or min_user_items.")
    users, u = np.unique(kept[user_col].to_numpy(), return_inverse=True)
    items, i = np.unique(kept[item_col].to_numpy(), return_inverse=True)
    X = sp.csr_matrix((np.ones(len(kept), np.float32), (u, i)), shape=(len(users), len(items)))
    return Interactions(X, users, items)


@dataclass
class RecSplit:
    """One strong-generalisation split. All matrices share the kept item columns.

    Attributes
    ----------
    train : csr_matrix, shape (n_train, n_items)
        Complete histories of the training users.
    val_foldin, val_heldout : csr_matrix, shape (n_val, n_items)
        Validation users' input (80 %) and scored items (20 %).
    test_foldin, test_heldout : csr_matrix, shape (n_test, n_items)
    items : ndarray, shape (n_items,)
        Column indices, in the input matrix, of the kept items.
    train_users, val_users, test_users : ndarray
        Row indices, in the input matrix, of each group.
    """

    train: sp.csr_matrix
    val_foldin: sp.csr_matrix
    val_heldout: sp.csr_matrix
    test_foldin: sp.csr_matrix
    test_heldout: sp.csr_matrix
    items: np.ndarray
    train_users: np.ndarray
    val_users: np.ndarray
    test_users: np.ndarray

    @property
    def n_items(self) -> int:
        return self.train.shape[1]


def _foldin_heldout(X: sp.csr_matrix, heldout_fraction: float, rng: np.random.Generator) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    X = X.tocsr()
    fin_r, fin_c, out_r, out_c = [], [], [], []
    for u in range(X.shape[0]):
        items = X.indices[X.indptr[u] : X.indptr[u + 1]]
        n_out = max(1, int(round(heldout_fraction * len(items))))
        out = rng.choice(len(items), size=n_out, replace=False)
        is_out = np.zeros(len(items), bool)
        is_out[out] = True
        fin_r.append(np.full((~is_out).sum(), u))
        fin_c.append(items[~is_out])
        out_r.append(np.full(n_out, u))
        out_c.append(items[is_out])

    def build(r: list, c: list) -> sp.csr_matrix:
        r, c = np.concatenate(r), np.concatenate(c)
        return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=X.shape)

    return build(fin_r, fin_c), build(out_r, out_c)


def _check_split_args(X: Any, heldout_fraction: float, min_items: int) -> sp.csr_matrix:
    if not sp.issparse(X):
        raise ValueError("X must be a scipy.sparse matrix (users x items); build it with implicit_matrix().")
    check_sparse(X, "X", nonnegative=True)
    X = sp.csr_matrix(X, dtype=np.float32)
    heldout_fraction = check_probability(heldout_fraction, "heldout_fraction")
    min_items = check_positive_int(min_items, "min_items", minimum=2)
    if not np.isin(X.data, (0.0, 1.0)).all():
        raise ValueError("X must be binary (0/1); binarise ratings with implicit_matrix().")
    return X


def _build_split(
    X: sp.csr_matrix,
    train_u: np.ndarray,
    val_u: np.ndarray,
    test_u: np.ndarray,
    heldout_fraction: float,
    min_items: int,
    rng: np.random.Generator,
) -> RecSplit:
    train_u = np.sort(train_u)
    items = np.flatnonzero(np.asarray(X[train_u].sum(axis=0)).ravel() > 0)
    Xi = X[:, items]
    groups = []
    for users in (val_u, test_u):
        users = np.sort(users)
        users = users[np.asarray(Xi[users].sum(axis=1)).ravel() >= min_items]
        if len(users) == 0:
            raise ValueError(f"no held-out user keeps {min_items} items; lower min_items.")
        groups.append((users, *_foldin_heldout(Xi[users], heldout_fraction, rng)))
    (vu, vf, vh), (tu, tf, th) = groups
    return RecSplit(Xi[train_u], vf, vh, tf, th, items, train_u, vu, tu)


def strong_generalization_split(
    X: Any,
    n_heldout_users: int,
    *,
    heldout_fraction: float = 0.2,
    min_items: int = 5,
    seed: int = 0,
) -> RecSplit:
    """Split users into train, validation and test groups and split each held-out user's items.

    Parameters
    ----------
    X : scipy.sparse matrix, shape (n_users, n_items)
        Binary interactions.
    n_heldout_users : int
        Number of validation users, and of test users.
    heldout_fraction : float
        Share of a held-out user's items that are scored (at least one); the rest are the fold-in input.
    min_items : int
        Held-out users with fewer items than this, after dropping items no training user has, are
        removed (they would have nothing to fold in or nothing to score).
    seed : int

    Returns
    -------
    RecSplit
    """
    X = _check_split_args(X, heldout_fraction, min_items)
    n_users = X.shape[0]
    n_heldout_users = check_positive_int(n_heldout_users, "n_heldout_users")
    if n_heldout_users < 1 or 2 * n_heldout_users >= n_users:
        raise ValueError(f"n_heldout_users={n_heldout_users} must be >= 1 and leave training users among {n_users}.")
    rng = np.random.default_rng(check_seed(seed))
    perm = rng.permutation(n_users)
    val_u, test_u, train_u = perm[:n_heldout_users], perm[n_heldout_users : 2 * n_heldout_users], perm[2 * n_heldout_users :]
    return _build_split(X, train_u, val_u, test_u, heldout_fraction, min_items, rng)


def kfold_user_splits(
    X: Any,
    n_folds: int,
    n_val_users: int,
    *,
    heldout_fraction: float = 0.2,
    min_items: int = 5,
    seed: int = 0,
) -> list[RecSplit]:
    """K-fold strong generalisation: one fixed validation group, and every other user is a test user exactly once.

    The users outside the validation group are cut into ``n_folds`` disjoint test groups; fold ``k`` trains on
    all users that are neither validation users nor in test group ``k``. Pooling the per-user metrics of all
    folds scores every non-validation user once, which gives several times more test users than one split
    (and paired per-user differences between models, see :func:`paired_difference`).

    Parameters
    ----------
    X : scipy.sparse matrix, shape (n_users, n_items)
        Binary interactions.
    n_folds : int
        Number of test groups, >= 2.
    n_val_users : int
        Size of the validation group (shared by all folds: hyper-parameters are chosen on it only).
    heldout_fraction, min_items, seed
        As in :func:`strong_generalization_split`.

    Returns
    -------
    list of RecSplit, length n_folds
        The ``test_users`` of the folds are disjoint; together with ``val_users`` they cover every user
        (minus held-out users dropped for having fewer than ``min_items`` items).
    """
    X = _check_split_args(X, heldout_fraction, min_items)
    n_users = X.shape[0]
    n_folds = check_positive_int(n_folds, "n_folds", minimum=2)
    n_val_users = check_positive_int(n_val_users, "n_val_users")
    seed = check_seed(seed)
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2 (for a single split use strong_generalization_split), got {n_folds}.")
    if n_val_users < 1 or n_val_users + 2 * n_folds > n_users:
        raise ValueError(
            f"n_val_users={n_val_users} and n_folds={n_folds}: n_val_users must be >= 1 and leave at least 2 users per fold "
            f"for {n_folds} folds among {n_users} users."
        )
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_users)
    val_u, rest = perm[:n_val_users], perm[n_val_users:]
    groups = np.array_split(rest, n_folds)
    out = []
    for k in range(n_folds):
        train_u = np.concatenate([g for j, g in enumerate(groups) if j != k])
        out.append(_build_split(X, train_u, val_u, groups[k], heldout_fraction, min_items, np.random.default_rng([seed, k])))
    return out


def temporal_split(split: RecSplit, order: Any, *, heldout_fraction: float = 0.2) -> RecSplit:
    """Next-purchase protocol: each held-out user folds in their earlier purchases and is scored on the last ones.

    The training users, the items and the number of scored items per user (``max(1, round(heldout_fraction * n))``)
    are those of a random split, so the two protocols differ only in *which* items are hidden.

    Parameters
    ----------
    split : RecSplit
        A split of the same users x items matrix that ``order`` describes.
    order : scipy.sparse matrix, shape (n_users, n_all_items)
        Purchase order in the original (unsplit) columns: the value is the purchase rank (1 = first bought),
        nonzero exactly where the user holds the item (``FundHoldings.purchase_order``).
    heldout_fraction : float
        Share of each held-out user's items that are scored: the most recent ones.

    Returns
    -------
    RecSplit
        Same ``train``, ``items`` and users; ``val_*`` and ``test_*`` fold-in/held-out matrices rebuilt by time.
    """
    if not isinstance(split, RecSplit):
        raise InputTypeError(f"split must be a RecSplit (from strong_generalization_split), got {type(split).__name__}.")
    if not sp.issparse(order):
        raise ValueError("order must be a scipy.sparse matrix of purchase ranks (e.g. FundHoldings.purchase_order).")
    heldout_fraction = check_probability(heldout_fraction, "heldout_fraction")
    order = sp.csr_matrix(order, dtype=np.float64)
    n_all = order.shape[1]
    if (
        split.items.max(initial=-1) >= n_all
        or max(split.val_users.max(initial=-1), split.test_users.max(initial=-1)) >= order.shape[0]
    ):
        raise ValueError(
            f"order {order.shape} does not cover the split's users and items: pass the matrix the split was made from."
        )
    if order.data.size and (not np.isfinite(order.data).all() or (order.data <= 0).any()):
        raise ValueError("order must hold positive finite purchase ranks where an item is held (and nothing else).")

    def rebuild(users: np.ndarray, foldin: sp.csr_matrix, heldout: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        O = order[users][:, split.items].tocsr()
        held = (foldin + heldout).tocsr()
        if ((O != 0) != (held != 0)).nnz:
            raise ValueError("order does not match the split's interactions: pass the matrix the split was made from.")
        fin_r, fin_c, out_r, out_c = [], [], [], []
        for u in range(len(users)):
            items = O.indices[O.indptr[u] : O.indptr[u + 1]]
            ranks = O.data[O.indptr[u] : O.indptr[u + 1]]
            n_out = max(1, int(round(heldout_fraction * len(items))))
            by_time = items[np.argsort(ranks, kind="stable")]
            fin_r.append(np.full(len(items) - n_out, u))
            fin_c.append(by_time[:-n_out])
            out_r.append(np.full(n_out, u))
            out_c.append(by_time[-n_out:])

        def build(r: list, c: list) -> sp.csr_matrix:
            r, c = np.concatenate(r).astype(int), np.concatenate(c).astype(int)
            return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=foldin.shape)

        return build(fin_r, fin_c), build(out_r, out_c)

    vf, vh = rebuild(split.val_users, split.val_foldin, split.val_heldout)
    tf, th = rebuild(split.test_users, split.test_foldin, split.test_heldout)
    return replace(split, val_foldin=vf, val_heldout=vh, test_foldin=tf, test_heldout=th)


def mask_foldin(scores: Any, foldin: Any) -> np.ndarray:
    """Return a float64 copy of ``scores`` with the fold-in items set to ``-inf``.

    Parameters
    ----------
    scores : array-like, shape (n_users, n_items)
    foldin : array-like or scipy.sparse matrix, shape (n_users, n_items)
        Nonzero where the user already has the item.

    Returns
    -------
    numpy.ndarray, shape (n_users, n_items)
    """
    S = np.array(scores, dtype=np.float64)
    F = foldin.toarray() if sp.issparse(foldin) else np.asarray(foldin)
    if F.dtype.kind in "fc" and not np.isfinite(F).all():
        raise ValueError("foldin holds NaN or infinite values; it must be 0/1 (nonzero = already held).")
    if S.ndim != 2 or S.shape != F.shape:
        raise ValueError(f"scores {S.shape} and foldin {F.shape} must be 2-D arrays of the same shape (users x items).")
    if np.isnan(S).any():
        raise ValueError("scores hold NaN; fix the model output before ranking.")
    S[F != 0] = -np.inf
    return S


def evaluate_ranking(
    scores: Any, foldin: Any, heldout: Any, ks: Sequence[tuple[str, int]] = (("ndcg", 100), ("recall", 20), ("recall", 50))
) -> dict[str, np.ndarray]:
    """Mask the fold-in items, then compute each ranking metric per user.

    Parameters
    ----------
    scores, foldin, heldout : shape (n_users, n_items)
    ks : sequence of (metric, k)
        ``metric`` is ``"ndcg"`` or ``"recall"``.

    Returns
    -------
    dict
        ``{"ndcg@100": array (n_users,), ...}``.
    """
    S = mask_foldin(scores, foldin)
    H = heldout.toarray() if sp.issparse(heldout) else np.asarray(heldout)
    F = foldin.toarray() if sp.issparse(foldin) else np.asarray(foldin)
    if H.shape == F.shape and ((H != 0) & (F != 0)).any():
        raise ValueError(
            "heldout overlaps foldin: an item the user already has cannot be recommended, so it would count as a miss; "
            "pass disjoint fold-in and held-out matrices (as strong_generalization_split makes)."
        )
    fns = {"ndcg": ndcg_at_k, "recall": recall_at_k}
    out = {}
    for name, k in ks:
        if name not in fns:
            raise ValueError(f"unknown metric {name!r}; use 'ndcg' or 'recall'.")
        out[f"{name}@{k}"] = fns[name](S, heldout, k)
    return out


def paired_table(results: Mapping[str, Sequence[float]], baseline: str) -> pd.DataFrame:
    """Mean and spread over splits, and paired differences against ``baseline``.

    Parameters
    ----------
    results : mapping model name -> sequence of floats, one per split (same splits for every model)
    baseline : str
        The model every other one is compared with, split by split.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``mean``, ``std`` (over splits), ``diff`` (mean of model minus baseline),
        ``diff_std``, ``wins`` (splits where the model beats the baseline) and ``n_splits``.
        With a single split ``std`` and ``diff_std`` are NaN by definition (no spread to measure).
    """
    if baseline not in results:
        raise ValueError(f"baseline {baseline!r} is not among the models {list(results)}.")
    base = as_1d_float(results[baseline], f"results[{baseline!r}]")
    rows = {}
    for name, vals in results.items():
        v = as_1d_float(vals, f"results[{name!r}]")
        if v.shape != base.shape:
            raise ValueError(f"results[{name!r}] has {v.shape} values but {baseline!r} has {base.shape}: use the same splits.")
        d = v - base
        sd = lambda a: float(a.std(ddof=1)) if len(a) > 1 else float("nan")  # noqa: E731
        rows[name] = {
            "mean": v.mean(),
            "std": sd(v),
            "diff": d.mean(),
            "diff_std": sd(d),
            "wins": int((d > 0).sum()),
            "n_splits": len(v),
        }
    return pd.DataFrame(rows).T.astype({"wins": int, "n_splits": int})


@dataclass
class PairedDifference:
    """Mean per-user difference ``a - b`` between two models scored on the same users, with its interval.

    Attributes
    ----------
    mean, se : float
        Mean of the per-user differences and its standard error (sd / sqrt(n)).
    low, high : float
        Two-sided ``confidence`` t interval for the mean difference.
    n : int
        Number of users.
    confidence : float
    margin : float or None
        Pre-declared equivalence margin; when given, ``equivalent`` is the TOST result: two one-sided tests
        at level ``1 - confidence`` each, i.e. the ``2 * confidence - 1`` interval (90 % for 0.95) lies
        inside ``(-margin, margin)``.
    equivalent : bool or None
    share_positive : float
        Share of users with a strictly positive difference.
    """

    mean: float
    se: float
    low: float
    high: float
    n: int
    confidence: float
    margin: float | None = None
    equivalent: bool | None = None
    share_positive: float = float("nan")

    def verdict(self, a: str = "A", b: str = "B") -> str:
        """``"a ahead"`` or ``"b ahead"`` only when the interval excludes zero, else no detectable difference."""
        if self.low > 0:
            return f"{a} ahead"
        if self.high < 0:
            return f"{b} ahead"
        if self.equivalent:
            return f"equivalent within +-{self.margin:g}"
        return "no detectable difference at this sample size"

    def __str__(self) -> str:
        return f"{self.mean:+.4f} ({self.confidence:.0%} CI {self.low:+.4f} to {self.high:+.4f}, n = {self.n})"


def paired_difference(a: Any, b: Any, *, confidence: float = 0.95, margin: float | None = None) -> PairedDifference:
    """Paired per-user comparison of two models: mean difference ``a - b`` with a t confidence interval.

    Parameters
    ----------
    a, b : array-like, shape (n_users,)
        A per-user metric (e.g. NDCG@k from :func:`evaluate_ranking`) of two models on the same users, same order.
    confidence : float
        Level of the two-sided interval, in (0, 1).
    margin : float, optional
        Equivalence margin declared *before* looking at the data. When given, the two models are called
        equivalent (TOST: two one-sided tests at level ``1 - confidence`` each) when the
        ``2 * confidence - 1`` interval (90 % for 0.95) lies inside ``(-margin, margin)``.

    Returns
    -------
    PairedDifference

    Notes
    -----
    The interval is over users for *fixed* trained models: it captures which users were tested, not the
    randomness of training. Pool users over K folds (:func:`kfold_user_splits`) to make it narrow.
    """
    a, b = align_index(a, b, ("a", "b"))
    x, y = as_1d_float(a, "a"), as_1d_float(b, "b")
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"a {x.shape} and b {y.shape} must be 1-D arrays of the same length (one value per user).")
    if len(x) < 3:
        raise ValueError(f"a and b: need at least 3 users for an interval, got {len(x)}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("a and b must be finite: drop users with NaN metrics (e.g. nothing held out) first.")
    confidence = check_probability(confidence, "confidence")
    if margin is not None:
        margin = check_real(margin, "margin", low=0.0, low_open=True)
    if margin is not None and not (np.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be a finite number > 0 (or None), got {margin}.")
    d = x - y
    n = len(d)
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(n))
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    equivalent = None
    if margin is not None:
        t1 = float(stats.t.ppf(confidence, n - 1))  # one-sided, i.e. the (2 * confidence - 1) two-sided interval
        equivalent = bool(mean - t1 * se > -margin and mean + t1 * se < margin)
    return PairedDifference(mean, se, mean - t * se, mean + t * se, n, confidence, margin, equivalent, float((d > 0).mean()))
