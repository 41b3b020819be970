"""Does a neighbour graph of the pool follow the classes? Label spreading, checked (pure)."""

from __future__ import annotations

import numpy as np

__all__ = ["held_out_accuracy", "held_out_precision", "spread_labels"]


def spread_labels(spread, Z, y) -> np.ndarray:
    """Label distributions of every node of ``Z`` (``y == -1``: unlabeled), fitted by ``spread``
    (a :class:`sklearn.semi_supervised.LabelSpreading`); columns in ``spread.classes_`` order."""
    with np.errstate(divide="ignore", invalid="ignore"):  # an isolated node: no label
        return np.nan_to_num(spread.fit(Z, y).label_distributions_, nan=0.0)


def _stratified_folds(codes, seed, n_folds: int):
    """Stratified folds of the labeled nodes: the labels of a class go to different folds, so
    a class with two labels keeps one whichever is hidden."""
    n = len(codes)
    order = np.random.default_rng(seed).permutation(n)
    order = order[np.argsort(codes[order], kind="stable")]
    rank = np.arange(n) - np.searchsorted(codes[order], codes[order], side="left")
    offset = np.searchsorted(np.unique(codes[order]), codes[order])  # classes start apart
    fold_of = np.empty(n, dtype=np.intp)
    fold_of[order] = (rank + offset) % min(n_folds, n)
    return [np.flatnonzero(fold_of == f) for f in range(min(n_folds, n))]


def held_out_accuracy(spread, Z, codes, n_unlabeled: int, seed, n_folds: int = 5) -> float:
    """How often spreading recovers a hidden label: stratified k-fold over the labeled nodes.

    ``Z`` holds the labeled nodes first (their class codes in ``codes``), then
    ``n_unlabeled`` unlabeled ones. A hidden label whose class has no other label counts as
    missed.
    """
    n = len(codes)
    hits = 0
    for fold in _stratified_folds(codes, seed, n_folds):
        y = np.concatenate([codes, np.full(n_unlabeled, -1)])
        y[fold] = -1
        if len(np.unique(y[y >= 0])) < 2:
            continue  # one class left: nothing to tell apart, the fold counts as missed
        dist = spread_labels(spread, Z, y)[fold]
        guessed = spread.classes_[dist.argmax(axis=1)]
        hits += int(((dist.max(axis=1) > 0) & (guessed == codes[fold])).sum())
    return hits / max(n, 1)


def held_out_precision(spread, Z, codes, n_unlabeled: int, seed, n_folds: int = 5) -> float:
    """How often spreading is right where it gives a label: stratified k-fold over the
    labeled nodes, as :func:`held_out_accuracy`, scored as the pseudo-labels will be used.

    A hidden label whose class keeps another label counts when spreading reaches it (right
    or wrong) and not when it stays unreached: an unreached node is never pseudo-labeled, so
    a graph of separate clusters (t-SNE) is not blamed for the clusters no label reaches. A
    hidden label whose class has no other label (one label per class, as a campaign often
    starts) cannot be recovered; it counts as right when spreading leaves it unreached and as
    wrong when another class's label reaches it: a graph that follows the classes does not
    carry labels into a class none of whose samples is labeled. A fold that leaves one class
    counts as wrong; 0 when nothing counts.
    """
    right = counted = 0
    for fold in _stratified_folds(codes, seed, n_folds):
        y = np.concatenate([codes, np.full(n_unlabeled, -1)])
        y[fold] = -1
        kept = y[y >= 0]
        if len(np.unique(kept)) < 2:
            counted += len(fold)  # nothing to tell apart: wrong
            continue
        dist = spread_labels(spread, Z, y)[fold]
        reached = dist.max(axis=1) > 0
        correct = spread.classes_[dist.argmax(axis=1)] == codes[fold]
        recoverable = np.isin(codes[fold], kept)
        right += int((reached & recoverable & correct).sum() + (~reached & ~recoverable).sum())
        counted += int((reached | ~recoverable).sum())
    return right / counted if counted else 0.0
