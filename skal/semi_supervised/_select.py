"""Selecting pseudo-labels: the candidates drawn, the caps, class balance (pure helpers)."""

from __future__ import annotations

import math

import numpy as np

from skal._labels import plain_labels, unlabeled_mask
from skal._params import check_count
from skal._pool import chunk_slices, flat_features, pool_length, take_rows

__all__ = ["CONFIDENCE_DECIMALS", "balanced", "check_labeled", "check_pool",
           "check_rows", "check_seed", "draw_rows", "flat_rows", "prepare"]

# Confidences are rounded before they are ranked: a model's output can differ in the last bits
# with the batch it is computed in, and rounding makes such near-ties exact ties, broken by
# pool index, so the selection does not depend on pool_batch_size.
CONFIDENCE_DECIMALS = 9


def prepare(options, X, candidates, n_labeled, n_classes, random_state, *, pool_batch_size,
            max_total=None, labeled=None):
    """The pool as rows, the candidates (at most ``max_pool``), the per-class and total caps
    (the total at most ``max_total``, a ``max_pseudo_labels`` option, when given). The
    ``labeled`` rows, when given, must be in the pool and none of them a candidate."""
    n_labeled = check_count(n_labeled, "n_labeled", low=0, caller="pseudo-label selection")
    check_count(pool_batch_size, "pool_batch_size", caller="pseudo-label selection")
    check_seed(random_state)
    X, n_pool = check_pool(X)
    rows = check_rows(candidates, n_pool, "candidates")
    if labeled is not None:
        shared = np.intersect1d(check_rows(labeled, n_pool, "labeled"), rows)
        if len(shared):
            raise ValueError(
                f"labeled and candidates share {len(shared)} row(s) ({shared[:5].tolist()}): "
                "a labeled sample cannot be a candidate for a pseudo-label; give the "
                "unlabeled rows as candidates."
            )
    rows = draw_rows(rows, options.max_pool, random_state)
    per_class = _whole(options.max_ratio * n_labeled / max(n_classes, 1), math.ceil)
    total = _whole(options.max_ratio * n_labeled, math.floor)
    if max_total is not None:
        total = min(total, int(max_total))
    return X, rows, per_class, total


def check_pool(X):
    """``(X, n_pool)``: the pool (a list or tuple as an array) and its length; TypeError for
    what cannot be indexed by row."""
    if isinstance(X, list | tuple):
        X = np.asarray(X)
    n_pool = pool_length(X)
    if n_pool is None:
        raise TypeError(
            "X must be a pool that can be indexed by row (an array, a memmap or a "
            f"DataFrame), got {type(X).__name__}."
        )
    return X, n_pool


def draw_rows(rows, max_pool, random_state) -> np.ndarray:
    """At most ``max_pool`` of the sorted ``rows`` (None: all), drawn with ``random_state``."""
    if max_pool is not None and len(rows) > max_pool:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(rows, size=max_pool, replace=False))
    return rows


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


def check_labeled(labeled, labels) -> tuple[np.ndarray, np.ndarray]:
    """The labeled rows (1-D integers) and their labels: 1-D, one per row, none missing, of
    one type (in the rows' order; the rows are checked against the pool by ``prepare``)."""
    if labeled is None or labels is None:
        raise TypeError("labeled= and labels= are needed: the labeled rows of X and their "
                        "labels, which spread to the candidates.")
    rows = _integer_rows(labeled, "labeled")
    if isinstance(labels, list | tuple):
        items, labels = list(labels), np.empty(len(labels), dtype=object)
        labels[:] = items
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, one class label per labeled row, got shape "
                         f"{labels.shape}; give class labels, not one-hot rows.")
    if len(rows) != len(labels):
        raise ValueError(f"labeled has {len(rows)} rows but labels {len(labels)}.")
    missing = unlabeled_mask(labels)
    if missing.any():
        raise ValueError(
            f"labels hold {int(missing.sum())} missing value(s) (None, NaN or -1 mark an "
            "unlabeled sample); give only the labeled rows, each with its class."
        )
    labels = plain_labels(labels)
    if labels.dtype == object and len(labels):
        kinds = sorted({type(v).__name__ for v in labels.tolist()})
        raise ValueError(f"labels mix label types {kinds}; give every class the same type.")
    return rows.astype(np.intp), labels


def check_seed(random_state) -> None:
    try:
        np.random.default_rng(random_state)
    except (TypeError, ValueError):
        raise TypeError(f"random_state must be None, an int >= 0 or a numpy Generator, got "
                        f"{random_state!r}.") from None


def _integer_rows(values, name: str) -> np.ndarray:
    """``values`` as a 1-D integer array (empty allowed)."""
    rows = np.asarray(values)
    if rows.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of row indices, got shape {rows.shape}.")
    if len(rows) and rows.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer row indices, got dtype {rows.dtype}.")
    return rows.astype(np.intp)


def check_rows(values, n_pool: int, name: str) -> np.ndarray:
    """``values`` as sorted distinct row indices of the pool."""
    rows = _integer_rows(values, name)
    outside = rows[(rows < 0) | (rows >= n_pool)]
    if len(outside):
        raise ValueError(
            f"{name} has indices outside the pool (of {n_pool} rows): {outside[:5].tolist()}."
        )
    unique = np.unique(rows)
    if len(unique) != len(rows):
        raise ValueError(f"{name} has {len(rows) - len(unique)} repeated indices.")
    return unique


