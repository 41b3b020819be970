"""Labels: the unlabeled marker, one answer cleaner and one label-array tidier."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets

__all__ = [
    "UNLABELED", "check_two_classes", "check_y", "clean_label", "plain_labels", "unlabeled_mask",
]

UNLABELED = -1


def unlabeled_mask(y: np.ndarray) -> np.ndarray:
    """Where ``y`` is ``-1`` (unlabeled), whatever its dtype."""
    if y.dtype.kind in "iuf":
        return y == UNLABELED
    if y.dtype.kind == "O":
        return np.array([isinstance(v, Real) and v == UNLABELED for v in y], dtype=bool)
    return np.zeros(len(y), dtype=bool)


def clean_label(label):
    """An oracle's answer as a plain Python label, None for a skip (None, -1 or NaN)."""
    if isinstance(label, np.generic):
        label = label.item()
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return None
    if isinstance(label, Real) and not isinstance(label, bool) and label == UNLABELED:
        return None
    return label


def plain_labels(labels) -> np.ndarray:
    """Labels as a plain array (ints stay ints, strings strings); mixed types stay objects."""
    if isinstance(labels, np.ndarray) and (labels.dtype != object or not len(labels)):
        return labels
    values = [v.item() if isinstance(v, np.generic) else v for v in list(labels)]
    if not values:
        return np.empty(0)
    if len({type(v) for v in values}) == 1:
        return np.asarray(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def check_y(y, n: int) -> np.ndarray:
    """``y`` as a 1-D array of ``n`` labels (``-1`` = unknown) of a classification task."""
    y = column_or_1d(np.asarray(y) if isinstance(y, list) else y, warn=True)
    if len(y) != n:
        raise ValueError(f"y has {len(y)} labels but X has {n} samples.")
    known = y[~unlabeled_mask(y)]
    if len(known):
        check_classification_targets(known)
    return y


def check_two_classes(labels) -> None:
    """A classifier needs at least two classes among its labels."""
    if len(np.unique(labels)) < 2:
        what = "only one class among its labeled samples" if len(labels) else "no labels"
        raise ValueError(f"y has {what}; a classifier needs at least two classes.")

