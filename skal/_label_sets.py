"""Multi-label answers: one sample's set of labels as a 0/1 row, checked and tidied.

A multi-label ``y`` is scikit-learn's 0/1 indicator of shape (n_samples, n_labels) (what
``MultiLabelBinarizer`` gives); its class names are the column positions ``0 .. n_labels -
1``. How an unlabeled sample is marked: a row of markers only -- all ``-1`` (int or float
``y``), all NaN, or all ``None``/``pd.NA`` (object ``y``). A row that mixes markers and 0/1
is refused (a label is never half given), as are values other than 0/1 (``True``/``False``
are 1/0).

One sample's answer, in memory and in the journal, is a tuple of 0/1 ints, one per label:
``(0, 0, 0)`` is "none of these" and differs from a skip (``None``). An answer may also be
given as a ``set``/``frozenset`` of the positions that apply (``{0, 2}``; ``set()`` is none
of these). A list, tuple or array is always a 0/1 row, never a set of positions.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = [
    "MULTILABEL", "as_label_set", "check_indicator_y", "check_not_one_hot",
    "check_two_label_sets", "is_indicator", "label_counts", "label_set_kind", "label_sets_of",
    "tidy_label_set", "width_of_kind",
]

#: The task of a campaign whose samples each have a set of labels.
MULTILABEL = "multilabel"


def _is_marker(value) -> bool:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    return (isinstance(value, float) and math.isnan(value)) or value == -1


def is_indicator(y) -> bool:
    """Whether ``y`` is 2-D with several columns (a sparse matrix included)."""
    shape = getattr(y, "shape", None)
    if shape is None and isinstance(y, list | tuple) and len(y):
        first = y[0]
        return isinstance(first, list | tuple | np.ndarray) and len(first) > 1
    return shape is not None and len(shape) == 2 and shape[1] > 1


def _dense(y) -> np.ndarray:
    if hasattr(y, "toarray"):  # a scipy sparse matrix (MultiLabelBinarizer(sparse_output))
        y = y.toarray()
    values = np.asarray(y, dtype=object) if isinstance(y, list | tuple) else np.asarray(y)
    if values.ndim != 2:
        raise ValueError(f"a multi-label y is 2-D (n_samples, n_labels), got shape "
                         f"{values.shape}.")
    return values


def check_indicator_y(y, n: int) -> np.ndarray:
    """A multi-label ``y`` as a 1-D object array: a tuple of 0/1 ints or None per sample.

    Parameters
    ----------
    y : array-like or sparse matrix of shape (n, n_labels)
        The 0/1 indicator; unlabeled rows all markers (see the module docstring). A 1-D
        object array of such tuples and None (this function's own result) is taken as it is.
    n : int
        The number of samples of X.
    """
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype == object:
        if len(y) != n:
            raise ValueError(f"y has {len(y)} rows but X has {n} samples.")
        width = next((len(v) for v in y.tolist() if isinstance(v, tuple)), None)
        out = np.full(n, None, dtype=object)
        for r, v in enumerate(y.tolist()):
            out[r] = None if v is None or _is_marker(v) else \
                _row(v, width or len(v), f"y row {r}")
        return out
    values = _dense(y)
    if len(values) != n:
        raise ValueError(f"y has {len(values)} rows but X has {n} samples.")
    width = values.shape[1]
    marks = np.vectorize(_is_marker, otypes=[bool])(values) if values.size else \
        np.zeros(values.shape, dtype=bool)
    partly = np.flatnonzero(marks.any(axis=1) & ~marks.all(axis=1))
    if len(partly):
        r = int(partly[0])
        raise ValueError(
            f"y row {r} is partly marked unlabeled ({values[r].tolist()}): a multi-label row "
            "is all 0/1 (labeled) or all markers (-1, NaN or None: unlabeled); give the "
            "whole row, or mark the whole row."
        )
    out = np.full(n, None, dtype=object)
    for r in np.flatnonzero(~marks.all(axis=1)).tolist():
        out[r] = _row(values[r], width, f"y row {r}")
    return out


def check_not_one_hot(y) -> None:
    """Refuse a ``y`` whose labeled rows all hold exactly one 1: one class per sample, or
    sets of labels that all happen to be singletons? Both fixes are in the message."""
    rows = [row for row in y.tolist() if row is not None]
    if rows and all(sum(row) == 1 for row in rows):
        raise ValueError(
            f"y is one-hot encoded (shape ({len(y)}, {len(rows[0])}), exactly one 1 in every "
            "labeled row): is it one class per sample, or sets of labels that are all "
            "singletons? For one class per sample pass y.argmax(axis=1) (or the class "
            "names); for multi-label say so: Campaign(CampaignSpec.from_estimator(learner)"
            ".replace(task='multilabel'), X, y)."
        )


def _row(values, width: int, who: str) -> tuple:
    """One labeled row as a tuple of 0/1 ints; ValueError naming ``who`` if it is not."""
    row = [v.item() if isinstance(v, np.generic) else v for v in values]
    if len(row) != width:
        raise ValueError(f"{who} has {len(row)} entries; this campaign has {width} labels: "
                         "give one 0/1 per label.")
    out = []
    for v in row:
        if not isinstance(v, int | float) or v not in (0, 1):  # a bool is an int
            raise ValueError(
                f"{who} holds {v!r}: a multi-label answer is a row of 0/1 (1: the label "
                "applies), or a set of the label positions that apply."
            )
        out.append(int(v))
    return tuple(out)


def width_of_kind(kind: str | None) -> int | None:
    """The number of labels a multi-label campaign's answer kind says (None: not known)."""
    return None if kind is None else int(kind.split(":")[1])


def as_label_set(label, width: int, who: str = "the answer") -> tuple:
    """One answer (a 0/1 row, or a set of positions) as the tuple of 0/1 ints."""
    if isinstance(label, set | frozenset):
        unknown = sorted((v for v in label if isinstance(v, bool) or not isinstance(
            v, int | np.integer) or not 0 <= v < width), key=repr)
        if unknown:
            raise ValueError(
                f"{who} names {unknown[0]!r}, which is not a label of this campaign: its "
                f"labels are the positions 0..{width - 1}; nothing was recorded."
            )
        return tuple(int(j in label) for j in range(width))
    return _row(label, width, who)


def label_set_kind(labels, kind: str | None, ids=None) -> str | None:
    """:func:`skal._labels.answer_kind` of a multi-label campaign: ``"multilabel:<width>"``.

    Every answer (not None) must be a 0/1 row of the campaign's width or a set of its
    label positions; the first row fixes the width when nothing else has.
    """
    for k, label in enumerate(labels):
        if label is None:
            continue
        who = f"the answer {label!r}" + ("" if ids is None else f" for sample {ids[k]!r}")
        if isinstance(label, set | frozenset):
            if kind is None:
                raise ValueError(
                    f"{who} is a set of label positions, but this campaign does not know "
                    "its number of labels yet: give the first answer as a 0/1 row (or a y); "
                    "nothing was recorded."
                )
            as_label_set(label, width_of_kind(kind), who)
            continue
        if not isinstance(label, tuple | list | np.ndarray):
            raise TypeError(
                f"{who} is a {type(label).__name__}, but this campaign is multi-label: "
                "answer a 0/1 row (one entry per label) or a set of the label positions "
                "that apply (set() for none; None skips the sample); nothing was recorded."
            )
        width = width_of_kind(kind) or len(label)
        _row(label, width, who)
        kind = f"{MULTILABEL}:{width}"
    return kind


def label_sets_of(label, k: int) -> list:
    """The answers of ``k`` samples from one answer (given to all) or one per sample."""
    if label is None or isinstance(label, set | frozenset) or np.ndim(label) == 0:
        return [label] * k
    items = label.tolist() if isinstance(label, np.ndarray) else list(label)
    objects = isinstance(label, np.ndarray) and label.dtype == object  # one entry a sample
    per_sample = np.ndim(label) == 2 or objects or (len(items) == k and any(
        v is None or isinstance(v, set | frozenset | tuple | list | np.ndarray)
        for v in items))
    if not per_sample:
        if k != 1:
            raise ValueError(
                f"label is one 0/1 row for {k} indices: give one answer per index (a 2-D "
                "array or a list of rows/sets)."
            )
        return [tuple(items)]
    if len(items) != k:
        raise ValueError(f"label has {len(items)} answers for {k} indices.")
    return [tuple(v) if isinstance(v, list) else v for v in items]


def label_counts(labels) -> list[list]:
    """``[[position, samples with it], ...]`` of 2-D 0/1 labels (plain data: JSON-able)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or not len(labels):
        return []
    return [[j, int(c)] for j, c in enumerate(labels.sum(axis=0).tolist())]


def tidy_label_set(label, kind: str | None):
    """An answer as the campaign's tuple of 0/1 ints where it is one (a row or a set of
    positions, of the width ``kind`` says); anything else unchanged, for the gate."""
    if not isinstance(label, tuple | list | np.ndarray | set | frozenset):
        return label
    width = width_of_kind(kind)
    if width is None and isinstance(label, set | frozenset):
        return label
    try:
        return as_label_set(label, width if width is not None else len(label))
    except (TypeError, ValueError):
        return tuple(label) if isinstance(label, list | np.ndarray) else label


def check_two_label_sets(labels) -> None:
    """A multi-label campaign needs labeled rows of at least two different label sets."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or len(np.unique(labels, axis=0)) < 2:
        what = "one label set only" if len(labels) else "no labels"
        raise ValueError(
            f"y has {what} among its labeled samples; a multi-label classifier needs at "
            "least two different sets of labels."
        )
