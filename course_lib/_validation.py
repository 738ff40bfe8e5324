"""One validation layer for the whole library: clear errors instead of silent surprises.

Every public entry point checks its inputs with these helpers, so a bad input
gets the same kind of message everywhere: the argument's name, what was wrong,
and what to do. Errors are ``ValueError`` for a bad value and
:class:`InputTypeError` (a ``TypeError`` that is also a ``ValueError``) for a
wrong kind of object.

Arrays
    :func:`as_2d_float`, :func:`as_1d_float` (finite, real, numeric, the
    documented number of dimensions, non-empty, enough rows),
    :func:`check_finite`, :func:`check_no_constant_columns`.
pandas
    :func:`check_frame` (a sorted, unique ``DatetimeIndex`` where time order
    matters), :func:`align_columns` and :func:`align_index` (pair arguments by
    label, or say why they cannot be paired).
Scalars
    :func:`check_positive_int`, :func:`check_nonnegative_int`,
    :func:`check_real` (finite, within bounds), :func:`check_probability`,
    :func:`check_schedule_value`, :func:`check_seed`.
Chapter modules
    :func:`check_sparse` (scipy.sparse: shape, finite, non-negative for
    implicit feedback), :func:`check_index_array` (integer positions, in range,
    no duplicate picks), :func:`check_unique_names`, :func:`as_nd_float`
    (panels of any number of dimensions).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "InputTypeError",
    "as_2d_float",
    "as_1d_float",
    "check_finite",
    "check_no_constant_columns",
    "check_frame",
    "align_columns",
    "align_index",
    "check_positive_int",
    "check_nonnegative_int",
    "check_real",
    "check_probability",
    "check_schedule_value",
    "check_seed",
    "check_sparse",
    "check_index_array",
    "check_unique_names",
    "as_nd_float",
]


class InputTypeError(TypeError, ValueError):
    """A wrong kind of input (a float where an integer is meant, text where numbers are).

    Both a ``TypeError`` and a ``ValueError``, so code that catches either (as
    scikit-learn's checks and older course code do) still catches it.
    """


# Arrays -------------------------------------------------------------------
def _to_numeric(X: Any, name: str, dtype: Any) -> np.ndarray:
    if sp.issparse(X):
        raise InputTypeError(f"{name} is a scipy.sparse matrix, which this function does not support; pass {name}.toarray().")
    if isinstance(X, (str, bytes, dict, set)) or X is None:
        raise InputTypeError(f"{name} must be array-like (a NumPy array, DataFrame or nested list), got {type(X).__name__}.")
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy()
    if hasattr(X, "detach") and hasattr(X, "cpu"):  # a torch.Tensor, without importing torch here
        X = X.detach().cpu().numpy()
    raw = np.asarray(X)
    if np.iscomplexobj(raw):
        raise ValueError(f"{name} holds complex numbers; pass real values (for example np.real({name}) if that is meant).")
    if raw.dtype.kind in "USV":
        raise InputTypeError(f"{name} holds text (dtype {raw.dtype}); pass numbers, e.g. after pd.to_numeric.")
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{name} must be numeric; converting it to {np.dtype(dtype).name} failed: {exc}") from None


def as_2d_float(X: Any, name: str = "X", *, min_rows: int = 1, dtype: Any = np.float32) -> np.ndarray:
    """Return ``X`` as a finite float array of shape (n_samples, n_features).

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        A NumPy array, DataFrame, nested list or torch tensor.
    name : str
        The argument's name, used in error messages.
    min_rows : int, default 1
        The fewest rows accepted.
    dtype : numpy dtype, default float32

    Raises
    ------
    TypeError
        If ``X`` is sparse, text, or not numeric.
    ValueError
        If ``X`` is complex, not 2-D, has fewer than ``min_rows`` rows or no
        columns, or holds NaN or infinite values.
    """
    arr = _to_numeric(X, name, dtype)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}. "
            f"Reshape a single sample with {name}.reshape(1, -1) or a single feature with {name}.reshape(-1, 1)."
        )
    if arr.shape[0] < min_rows or arr.shape[1] == 0:
        raise ValueError(
            f"{name} has shape {arr.shape}: need at least {min_rows} row(s) and one column. "
            "Check the date range or filters that produced it."
        )
    check_finite(arr, name)
    return arr


def as_1d_float(x: Any, name: str = "x", *, min_len: int = 1, dtype: Any = np.float64) -> np.ndarray:
    """Return ``x`` as a finite 1-D float array of length >= ``min_len`` (errors as in :func:`as_2d_float`)."""
    arr = _to_numeric(x, name, dtype)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n,), got shape {arr.shape}; flatten it with np.ravel({name}) if that is meant.")
    if arr.shape[0] < min_len:
        raise ValueError(f"{name} has {arr.shape[0]} value(s); need at least {min_len}.")
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str = "X") -> None:
    """Raise a ``ValueError`` naming the count and first position of NaN/inf values."""
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s) (first at index {first}). "
            "Drop or fill them explicitly before calling this function, e.g. with "
            "df.dropna() or df.ffill(); nothing is dropped silently."
        )


def check_no_constant_columns(arr: np.ndarray, name: str = "X", columns: Any = None) -> None:
    """Raise a ``ValueError`` when a column of the 2-D ``arr`` has zero variance (names up to 5 of them)."""
    const = np.flatnonzero(np.ptp(arr, axis=0) == 0) if len(arr) else np.arange(arr.shape[1])
    if const.size:
        labels = [columns[i] for i in const[:5]] if columns is not None else const[:5].tolist()
        raise ValueError(
            f"{name} has {const.size} constant column(s) (zero variance), e.g. {labels}: they cannot be "
            "standardised or correlated; drop them, or use more rows."
        )


# pandas -------------------------------------------------------------------
def check_frame(df: Any, name: str, *, min_rows: int = 1) -> pd.DataFrame:
    """Check that ``df`` is a non-empty numeric DataFrame on a sorted, unique DatetimeIndex with finite values."""
    if not isinstance(df, pd.DataFrame):
        raise InputTypeError(f"{name} must be a pandas DataFrame (dates x tickers), got {type(df).__name__}.")
    if df.empty:
        raise ValueError(f"{name} is empty: check the date range or tickers you selected.")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise ValueError(f"{name} must have a DatetimeIndex; use pd.to_datetime on the index first.")
    if not df.index.is_monotonic_increasing:
        raise ValueError(f"{name} must be sorted by date (oldest first); call .sort_index() first.")
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()][0]
        raise ValueError(
            f"{name} has duplicate dates (first: {dup.date()}); keep one row per date, e.g. df[~df.index.duplicated()]."
        )
    if len(df) < min_rows:
        raise ValueError(f"{name} has {len(df)} row(s); need at least {min_rows}. Use a longer date range.")
    bad = [c for c, t in df.dtypes.items() if not (pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t))]
    if bad:
        raise InputTypeError(f"{name} has non-numeric column(s) {bad[:5]}; convert them with pd.to_numeric or drop them.")
    if any(pd.api.types.is_complex_dtype(t) for t in df.dtypes):
        raise ValueError(f"{name} holds complex numbers; pass real values.")
    check_finite(df.to_numpy(dtype=float), name)
    return df


def align_columns(part: pd.DataFrame, columns: pd.Index, name: str, reference: str) -> pd.DataFrame:
    """Return ``part`` with its columns in the order of ``columns``, matched by label.

    Raises
    ------
    ValueError
        When ``part`` lacks some of ``columns`` or has others (the message lists them).
    """
    if part.columns.equals(columns):
        return part
    missing = columns.difference(part.columns)
    extra = part.columns.difference(columns)
    if len(missing) or len(extra) or not part.columns.is_unique:
        raise ValueError(
            f"{name}'s columns do not match {reference}'s: missing {list(missing[:5])}, unexpected {list(extra[:5])}. "
            f"Select the same columns in both, e.g. {name}[{reference}.columns]."
        )
    return part[columns]


def align_index(a: Any, b: Any, names: tuple[str, str]) -> tuple[Any, Any]:
    """Pair two pandas objects by index label (``b`` reordered to ``a``'s index); arrays pass through.

    When only one is a pandas object, or both are plain arrays, nothing is
    reordered: positions are taken as given (and row counts are checked by the caller).

    Raises
    ------
    ValueError
        When both carry an index and the labels differ (the message counts what is missing).
    """
    ia = getattr(a, "index", None)
    ib = getattr(b, "index", None)
    if not isinstance(ia, pd.Index) or not isinstance(ib, pd.Index) or ia.equals(ib):
        return a, b
    if not ia.is_unique or not ib.is_unique:
        raise ValueError(f"{names[0]} and {names[1]} must have unique index labels to be paired; drop duplicates first.")
    only_a, only_b = ia.difference(ib), ib.difference(ia)
    if len(only_a) or len(only_b):
        raise ValueError(
            f"{names[0]} and {names[1]} have different index labels ({len(only_a)} only in {names[0]}, "
            f"{len(only_b)} only in {names[1]}, e.g. {list(only_a[:2]) + list(only_b[:2])}); "
            f"select the common rows, e.g. with {names[0]}.index.intersection({names[1]}.index)."
        )
    return a, b.loc[ia]


# Scalars ------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` >= ``minimum``; floats (even ``3.0``) and bools are refused."""
    kind = {1: "a positive integer (>= 1)", 0: "a non-negative integer (>= 0)"}.get(minimum, f"an integer >= {minimum}")
    if not _is_int(value):
        hint = f" (use {int(value)})" if isinstance(value, float) and float(value).is_integer() else ""
        raise InputTypeError(f"{name} must be {kind}, got {value!r} of type {type(value).__name__}{hint}.")
    if value < minimum:
        raise ValueError(f"{name} must be {kind}, got {value}.")
    return int(value)


def check_nonnegative_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` >= 0 (floats and bools are refused)."""
    return check_positive_int(value, name, minimum=0)


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """Return ``value`` as a finite ``float`` within the given bounds (closed unless ``*_open``).

    Raises
    ------
    TypeError
        For a non-number (including bools and complex numbers).
    ValueError
        For NaN, infinity, or a value outside the bounds.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InputTypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}.")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}.")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        if low is None:
            rng = f"<{'' if high_open else '='} {high}"
        elif high is None:
            rng = f">{'' if low_open else '='} {low}"
        else:
            rng = f"in {lo}, {hi}"
        raise ValueError(f"{name} must be {rng}, got {v}.")
    return v


def check_probability(value: Any, name: str, *, open_low: bool = True, open_high: bool = True) -> float:
    """Return ``value`` as a float probability in (0, 1) (ends included on request)."""
    out = check_real(value, name, low=0.0, high=1.0, low_open=open_low, high_open=open_high)
    assert out is not None
    return out


def check_schedule_value(value: Any, name: str, epoch: int) -> float:
    """Check one value of a schedule (``epoch -> value``): a finite number >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputTypeError(f"the {name} schedule returned {value!r} at epoch {epoch}; it must return a number.") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(
            f"the {name} schedule returned {v} at epoch {epoch}; it must return a finite number >= 0. "
            "Check its parameters (for example linear_anneal(beta_max, warmup_epochs))."
        )
    return v


# Additions for the chapter modules ------------------------------------------------------------------------
def check_seed(value: Any, name: str = "seed") -> int:
    """Return ``value`` as a seed: an ``int`` >= 0 (floats, bools, text and negatives are refused)."""
    return check_nonnegative_int(value, name)


def check_sparse(X: Any, name: str = "X", *, nonnegative: bool = False) -> Any:
    """Check a 2-D scipy.sparse matrix: non-empty, finite, real stored values (and >= 0 on request).

    Returns the matrix unchanged (no copy). For implicit feedback (0/1 or counts)
    pass ``nonnegative=True``: a negative entry is then refused.
    """
    if not sp.issparse(X):
        raise InputTypeError(f"{name} must be a scipy.sparse matrix, got {type(X).__name__}.")
    if len(X.shape) != 2 or 0 in X.shape:
        raise ValueError(f"{name} must be a non-empty 2-D (users x items) matrix, got shape {X.shape}.")
    data = X.data if hasattr(X, "data") else X.tocsr().data
    if np.iscomplexobj(data):
        raise ValueError(f"{name} holds complex numbers; pass real values.")
    if data.dtype.kind not in "biuf":
        raise InputTypeError(f"{name} must hold numbers, got dtype {data.dtype}.")
    check_finite(data, name)
    if nonnegative and data.size and data.min() < 0:
        raise ValueError(f"{name} holds negative values; implicit feedback must be >= 0 (0/1 or counts).")
    return X


def check_index_array(
    value: Any, name: str, n: int, *, ndim: int | None = None, unique: bool = False, what: str = "positions"
) -> np.ndarray:
    """Return ``value`` as an integer array of positions in ``[0, n)`` (optionally of ``ndim`` dims, unique per row)."""
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise InputTypeError(f"{name} must be an array of integer positions, got {type(value).__name__}.")
    arr = np.asarray(value)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InputTypeError(f"{name} must hold integer {what}, got dtype {arr.dtype}.")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}.")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{name} must hold integer {what} in [0, {n - 1}], got values in [{arr.min()}, {arr.max()}].")
    if unique:
        rows = np.sort(arr.reshape(-1, arr.shape[-1]), axis=-1)
        if (np.diff(rows, axis=-1) == 0).any():
            raise ValueError(f"{name} repeats a position within a row; each entry must be distinct (no duplicate picks).")
    return arr


def check_unique_names(names: Any, name: str = "names") -> list:
    """Return ``names`` as a list, refusing duplicates (they would make pairs or weights ambiguous)."""
    if isinstance(names, (str, bytes)) or names is None:
        raise InputTypeError(f"{name} must be a sequence of labels, got {type(names).__name__}.")
    out = list(names)
    if len(set(out)) != len(out):
        dup = pd.Index(out)[pd.Index(out).duplicated()][0]
        raise ValueError(f"{name} has duplicates (first: {dup!r}); every label must be unique.")
    return out


def as_nd_float(x: Any, name: str, *, ndim: int | None = None, dtype: Any = np.float64) -> np.ndarray:
    """Return ``x`` as a finite, non-empty float array (of ``ndim`` dimensions when given); errors as :func:`as_2d_float`."""
    arr = _to_numeric(x, name, dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    check_finite(arr, name)
    return arr
