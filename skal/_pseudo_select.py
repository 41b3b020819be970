"""Selecting pseudo-labels: the candidates drawn, the caps, class balance (pure helpers)."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from skal._pool import chunk_slices, flat_features, pool_length, take_rows

__all__ = ["CONFIDENCE_DECIMALS", "balanced", "check_count", "flat_rows", "prepare"]

# Confidences are rounded before they are ranked: a model's output can differ in the last bits
# with the batch it is computed in, and rounding makes such near-ties exact ties, broken by
# pool index, so the selection does not depend on pool_batch_size.
CONFIDENCE_DECIMALS = 9


def prepare(options, X, candidates, n_labeled, n_classes, random_state, *, max_total=None):
    """The pool as rows, the candidates (at most ``max_pool``), the per-class and total caps
    (the total at most ``max_total``, a ``max_pseudo_labels`` option, when given)."""
    n_labeled = check_count(n_labeled, "n_labeled", 0)
    if isinstance(X, list | tuple):
        X = np.asarray(X)
    n_pool = pool_length(X)
    if n_pool is None:
        raise TypeError(
            "X must be a pool that can be indexed by row (an array, a memmap or a "
            f"DataFrame), got {type(X).__name__}."
        )
    rows = _check_candidates(candidates, n_pool)
    if options.max_pool is not None and len(rows) > options.max_pool:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(rows, size=options.max_pool, replace=False))
    per_class = _whole(options.max_ratio * n_labeled / n_classes, math.ceil)
    total = _whole(options.max_ratio * n_labeled, math.floor)
    if max_total is not None:
        total = min(total, int(max_total))
    return X, rows, per_class, total


def flat_rows(X, rows, pool_batch_size: int, who: str) -> np.ndarray:
    """Rows of the pool as a float matrix, one flattened sample per row, read in chunks."""
    alternative = "use semi_supervised='pseudo_labels' (the model's own predictions)"
    return np.concatenate([flat_features(take_rows(X, rows[part]), who, alternative)
                           for part in chunk_slices(len(rows), pool_batch_size)])


def balanced(idx, confidence, predicted, *, per_class: int, total: int) -> np.ndarray:
    """Positions kept: the ``per_class`` most confident of each class (ties: lower index),
    then at most ``total`` of those, the first of every class before the second of any."""
    order = np.lexsort((idx, -confidence, predicted))
    ranked = predicted[order]
    rank = np.arange(len(order)) - np.searchsorted(ranked, ranked, side="left")
    order, rank = order[rank < per_class], rank[rank < per_class]
    if len(order) > total:
        order = order[np.lexsort((idx[order], -confidence[order], rank))[:total]]
    return order


def _whole(value: float, rounding) -> int:
    """``ceil``/``floor`` of a ratio, blind to the last bits (0.28 * 75 / 3 is 7, not 8)."""
    return int(rounding(round(value, 9)))


def check_count(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


def _check_candidates(candidates, n_pool: int) -> np.ndarray:
    """The candidates as sorted distinct row indices of the pool."""
    rows = np.asarray(candidates)
    if rows.ndim != 1:
        raise ValueError(f"candidates must be a 1-D array of row indices, got shape {rows.shape}.")
    if len(rows) == 0:
        return rows.astype(np.intp)
    if rows.dtype.kind not in "iu":
        raise TypeError(f"candidates must be integer row indices, got dtype {rows.dtype}.")
    outside = rows[(rows < 0) | (rows >= n_pool)]
    if len(outside):
        raise ValueError(
            f"candidates has indices outside the pool (of {n_pool} rows): "
            f"{outside[:5].tolist()}."
        )
    unique = np.unique(rows).astype(np.intp)
    if len(unique) != len(rows):
        raise ValueError(f"candidates has {len(rows) - len(unique)} repeated indices.")
    return unique


