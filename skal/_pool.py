"""Pool access and chunked scoring with a running top-k.

A pool is anything with ``len``/``shape`` that supports row slicing (numpy arrays,
``np.memmap``, h5py datasets, pandas DataFrames -- whose chunks stay DataFrames, so column
names reach the estimator), or an iterable of 2-D chunks. Scores are computed chunk by
chunk and only the best ``k`` survive, so memory does not grow with the pool.

The selection order is total -- score descending, then pool index ascending -- which is what
makes the chunked result identical to scoring the whole pool at once, ties included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from sklearn.utils import check_array

__all__ = [
    "DEFAULT_POOL_BATCH_SIZE",
    "append_rows",
    "check_pool",
    "check_pool_chunk",
    "check_pool_shape",
    "chunk_slices",
    "concat_rows",
    "finite_rows",
    "flat_features",
    "is_dask_collection",
    "is_frame",
    "iter_chunks",
    "n_features_of",
    "pool_length",
    "select_top_k",
    "take_rows",
    "top_k",
]

DEFAULT_POOL_BATCH_SIZE = 16384


def pool_length(X_pool) -> int | None:
    """Number of samples of a sliceable pool, or None for an iterable of chunks.

    Also None for a dask array whose row count is unknown (NaN chunk sizes).
    """
    shape = getattr(X_pool, "shape", None)
    if shape is not None and len(shape) >= 1:
        n = shape[0]
        return None if n is None or n != n else int(n)
    if isinstance(X_pool, list | tuple) and X_pool and np.ndim(X_pool[0]) <= 1:
        return len(X_pool)  # a list of samples, not of chunks
    return None


def is_dask_collection(X) -> bool:
    """Whether ``X`` is a dask collection (array, dataframe ...), without importing dask."""
    module = type(X).__module__
    return module == "dask" or module.startswith("dask.")


def n_features_of(X) -> int:
    """Features of one sample: its flat size, so an image's features are its pixels."""
    return int(np.prod(X.shape[1:]))


def is_frame(X) -> bool:
    """Whether ``X`` is a DataFrame (pandas or alike), without importing pandas."""
    return hasattr(X, "iloc") and hasattr(X, "columns")


def take_rows(X, rows):
    """Rows of ``X`` by position: a DataFrame stays one (with its column names)."""
    return X.iloc[rows] if is_frame(X) else X[rows]


def concat_rows(first, second):
    """``second``'s rows after ``first``'s, in ``first``'s type (a DataFrame, or an array
    of ``first``'s dtype and sample shape: flat rows join shaped images of their size)."""
    if is_frame(first):
        import pandas as pd  # a DataFrame came in: pandas is there

        second = second if is_frame(second) else pd.DataFrame(second, columns=first.columns)
        return pd.concat([first, second], ignore_index=True)
    second = np.asarray(second).astype(first.dtype, copy=False)
    return np.concatenate([first, second.reshape(len(second), *first.shape[1:])])


def append_rows(first, second, room=None):
    """:func:`concat_rows`, amortised: ``(rows, room)``, where ``rows`` is ``room[:n]``.

    A stream adds its samples one at a time, and copying the whole pool for each made a
    stream of n samples cost O(n²) (20,000 rows of 64 features: 21 s). ``room`` is an array
    with spare rows after ``first`` (pass back what the last call returned): ``second``
    goes into them in place, and a full room is copied into one half as large again.
    DataFrames are concatenated as before (``room`` None).
    """
    if is_frame(first):
        return concat_rows(first, second), None
    second = np.asarray(second).astype(first.dtype, copy=False)
    n, k = len(first), len(second)
    if room is None or first.base is not room or len(room) < n + k:
        room = np.empty((n + k + (n + k) // 2, *first.shape[1:]), dtype=first.dtype)
        room[:n] = first
    room[n:n + k] = second.reshape(k, *first.shape[1:])
    return room[:n + k], room


def flat_features(chunk, who: str, alternative: str) -> np.ndarray:
    """Rows flattened to float64 (one sample a row); a clear error, naming ``who`` and the
    caller's ``alternative``, for features that are not numbers."""
    if hasattr(chunk, "toarray"):  # densifying a sparse pool could need any amount of memory
        raise TypeError(
            f"{who} reads the raw features as a dense array, but the pool is a sparse "
            f"{type(chunk).__name__}; give a dense array, or {alternative}."
        )
    return finite_rows(chunk, f"{who} reads the raw features",
                       f"give the pool as numbers, or {alternative}",
                       f"impute them first, or {alternative}")


def finite_rows(values, reads: str, to_numbers: str, to_finite: str) -> np.ndarray:
    """``values`` as flat, finite float64 rows; else a ValueError that says what ``reads``
    them and the fix (``to_numbers`` for non-numbers, ``to_finite`` for NaN or inf)."""
    try:
        X = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{reads}, which must be numbers ({exc}); {to_numbers}.") from None
    X = X.reshape(len(X), -1)
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{reads}, which must be finite, but {int(bad.sum())} sample(s) hold NaN or "
            f"infinite values; {to_finite}."
        )
    return X


def chunk_slices(n: int, chunk_size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``chunk_size`` rows covering ``range(n)``."""
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def iter_chunks(X_pool, chunk_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(offset, chunk)`` pairs covering the pool in order.

    The one way a pool is cut into chunks: a sliceable pool by :func:`chunk_slices`, an
    iterable of chunks as it comes.
    """
    n = pool_length(X_pool)
    if n is not None:
        if isinstance(X_pool, list | tuple):
            X_pool = np.asarray(X_pool)
        for rows in chunk_slices(n, chunk_size):
            chunk = take_rows(X_pool, rows)
            yield rows.start, chunk if is_frame(chunk) else np.asarray(chunk)
        return
    offset = 0
    for chunk in X_pool:
        chunk = chunk if is_frame(chunk) else np.asarray(chunk)
        yield offset, chunk
        offset += len(chunk)


def select_top_k(scores: np.ndarray, indices: np.ndarray, k: int):
    """The ``k`` best of ``(scores, indices)``: score descending, index ascending on ties.

    Linear time (``np.partition``) plus a sort of the ``k`` winners.
    """
    n = len(scores)
    if n > k:
        kth = n - k
        threshold = np.partition(scores, kth)[kth]
        above = np.flatnonzero(scores > threshold)
        tied = np.flatnonzero(scores == threshold)
        tied = tied[np.argsort(indices[tied], kind="stable")[: k - len(above)]]
        keep = np.concatenate([above, tied])
        scores, indices = scores[keep], indices[keep]
    order = np.lexsort((indices, -scores))
    return indices[order], scores[order]


def top_k(
    score_fn: Callable[[np.ndarray], np.ndarray],
    X_pool,
    k: int,
    *,
    chunk_size: int = DEFAULT_POOL_BATCH_SIZE,
    check_chunk: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``k`` highest-scoring samples of a pool, chunk by chunk.

    Parameters
    ----------
    score_fn : callable
        Maps a chunk of samples to one score per sample (higher = picked first).
    X_pool : array-like or iterable of array-like
        The pool.
    k : int
        Number of samples to return (fewer if the pool is smaller).
    chunk_size : int
        Rows scored at once for sliceable pools.
    check_chunk : callable, optional
        Validates (and may convert) each chunk before scoring.

    Returns
    -------
    indices : ndarray of shape (min(k, n_pool),)
        Pool indices, best first (empty for an empty pool).
    scores : ndarray of shape (min(k, n_pool),)
        Their scores.
    """
    best_idx = np.empty(0, dtype=np.intp)
    best_scores = np.empty(0, dtype=np.float64)
    for offset, chunk in iter_chunks(X_pool, chunk_size):
        if check_chunk is not None:
            chunk = check_chunk(chunk)
        if len(chunk) == 0:
            continue
        scores = np.asarray(score_fn(chunk), dtype=np.float64).reshape(-1)
        if len(scores) != len(chunk):
            raise ValueError(
                f"The strategy returned {len(scores)} scores for {len(chunk)} samples."
            )
        # NaN never wins: it would break the total order.
        scores = np.where(np.isnan(scores), -np.inf, scores)
        idx = np.arange(offset, offset + len(chunk), dtype=np.intp)
        best_idx, best_scores = select_top_k(
            np.concatenate([best_scores, scores]), np.concatenate([best_idx, idx]), k
        )
    return best_idx, best_scores


def check_pool_shape(shape, n_features: int | None, name: str = "X_pool") -> None:
    """Refuse a pool by its shape alone, before anything is read.

    Samples must be rows (a 2-D pool, or one of shaped samples such as images) of the
    fitted number of features.

    Parameters
    ----------
    shape : tuple of int
        The pool's (or a chunk's) shape, samples first.
    n_features : int or None
        The features the learner was fitted on (a sample's flat size); None: not checked.
    name : str, default="X_pool"
        The parameter named in the message.
    """
    shape = tuple(shape)
    if len(shape) < 2:
        if n_features is not None and shape and shape[0] == n_features:
            fix = "for one sample x pass x.reshape(1, -1) (X[[i]], not X[i], keeps a row 2-D)"
        else:
            fix = ("for one sample x pass x.reshape(1, -1); a single feature: "
                   "x.reshape(-1, 1)")
        raise ValueError(
            f"{name} must be 2-D, of shape (n_samples, n_features), but it has shape "
            f"{shape}: {fix}."
        )
    n_flat = int(np.prod(shape[1:]))  # an image's features are its pixels
    if n_features is not None and n_flat != n_features:
        each = (f"{n_flat} features per sample" if len(shape) == 2 else
                f"samples of shape {shape[1:]} ({n_flat} features each)")
        raise ValueError(
            f"{name} has {each}, but the learner was fitted on {n_features}: give "
            f"{name} the features fit saw, in the same order."
        )


def check_pool_chunk(chunk, n_features: int | None, feature_names=None):
    """Validate one chunk of a pool: finite numbers with the fitted number of features.

    A DataFrame chunk passes through unchanged once its columns are the fitted feature names
    in the fitted order (reordered or renamed columns would be scored silently wrong); its
    values are the estimator's to check (a ``ColumnTransformer`` may take strings).
    """
    if is_frame(chunk):
        columns = [str(c) for c in chunk.columns]
        if feature_names is not None and columns != [str(c) for c in feature_names]:
            missing = [c for c in feature_names if str(c) not in columns]
            raise ValueError(
                "X_pool's columns are not the feature names seen in fit"
                + (f" (missing {missing[:5]})" if missing else " (same names, other order)")
                + f": expected {list(feature_names)[:10]}, got {columns[:10]}. Select them "
                "as in fit, e.g. X_pool[learner.feature_names_in_]."
            )
    else:
        shape = getattr(chunk, "shape", None)
        shape = np.shape(chunk) if shape is None else shape
        if len(shape) < 2:  # scikit-learn's own message would not name X_pool
            check_pool_shape(shape, n_features)
        chunk = check_array(chunk, allow_nd=True, ensure_min_samples=0, input_name="X_pool")
    check_pool_shape(chunk.shape, n_features)
    return chunk


def check_pool(X):
    """The pool as an array of finite numbers, or a DataFrame as it is (its estimator,
    e.g. a ``ColumnTransformer``, checks its columns)."""
    if is_frame(X):
        if X.shape[0] == 0:
            raise ValueError(f"X has 0 sample(s) (shape {X.shape}): a campaign needs a pool.")
        return X
    X = check_array(X, allow_nd=True, dtype=None, ensure_all_finite=True, input_name="X")
    if X.dtype.kind not in "iufb":
        X = X.astype(np.float64)
    return X
