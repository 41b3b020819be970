"""Labels: the unlabeled marker, one answer cleaner and one label-array tidier.

How an unlabeled sample is marked, by the dtype of ``y``:

* integers: ``-1``;
* floats: ``-1`` or NaN;
* objects (e.g. string class names in an object array, a pandas Series): ``None``, NaN,
  ``pd.NA`` or the integer ``-1``;
* fixed-width strings (``dtype('<U…')``): nothing can be marked -- a ``"-1"`` there is
  refused as ambiguous; use an object array with ``None``.

Regression targets (``task="regression"``) are floats, and ``-1`` is a target like any
other: only NaN, ``None`` and ``pd.NA`` mark an unlabeled sample there.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from skal._label_sets import MULTILABEL, check_indicator_y, label_set_kind

__all__ = [
    "CLASSIFICATION", "MULTILABEL", "REGRESSION", "TASKS", "UNLABELED", "answer_kind",
    "check_label_kind", "check_targets", "check_two_classes", "check_y", "classes_of",
    "clean_label", "is_missing", "plain_labels", "refuse_bool_classes", "unlabeled_mask",
]

UNLABELED = -1

#: The kinds of task a campaign learns: its labels are class names, or numbers.
CLASSIFICATION, REGRESSION = "classification", "regression"
TASKS = (CLASSIFICATION, REGRESSION, MULTILABEL)  # multi-label: see skal._label_sets


def is_missing(value, *, task: str = CLASSIFICATION) -> bool:
    """Whether one label value marks an unlabeled sample: None, NaN, pd.NA or (classes
    only) -1."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    return task != REGRESSION and value == UNLABELED


def unlabeled_mask(y: np.ndarray, *, task: str = CLASSIFICATION) -> np.ndarray:
    """Where ``y`` marks an unlabeled sample (see the module docstring), whatever its dtype."""
    marker = task != REGRESSION  # -1 marks classes only; it is a regression target
    if y.dtype.kind in "iu":
        return (y == UNLABELED) if marker else np.zeros(len(y), dtype=bool)
    if y.dtype.kind == "f":
        return ((y == UNLABELED) & marker) | np.isnan(y)
    if y.dtype.kind == "O":
        return np.fromiter((is_missing(v, task=task) for v in y), dtype=bool, count=len(y))
    return np.zeros(len(y), dtype=bool)


def clean_label(label, *, task: str = CLASSIFICATION):
    """An oracle's answer as a plain Python label, None for a skip (None, NaN, pd.NA, and
    for classes -1). A regression target that is a number becomes a float."""
    if isinstance(label, np.generic):
        label = label.item()
    if is_missing(label, task=task):
        return None
    if task == MULTILABEL and isinstance(label, list | tuple | np.ndarray):
        values = np.asarray(label, dtype=object).reshape(-1).tolist()
        return tuple(v.item() if isinstance(v, np.generic) else v for v in values)
    if task == REGRESSION and isinstance(label, int) and not isinstance(label, bool):
        return float(label)
    return label


def plain_labels(labels) -> np.ndarray:
    """Labels as a plain array (ints stay ints, strings strings); mixed types stay objects."""
    if isinstance(labels, np.ndarray) and (labels.dtype != object or not len(labels)):
        return labels
    values = [v.item() if isinstance(v, np.generic) else v for v in list(labels)]
    if not values:
        return np.empty(0)
    types = {type(v) for v in values}
    if len(types) == 1 or types == {int, float}:  # ints among floats: float classes
        return np.asarray(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def check_y(y, n: int, *, task: str = CLASSIFICATION) -> np.ndarray:
    """``y`` as a 1-D array of ``n`` labels of a classification task, unknown ones marked.

    A list keeps its items' types (``["cat", -1]`` is a class and a marker, not two
    strings). Ambiguous markers are errors, never silently a class or a gap. With
    ``task="regression"``: :func:`check_targets`.
    """
    if task == REGRESSION:
        return check_targets(y, n)
    if task == MULTILABEL:  # one tuple of 0/1 (or None) per sample
        return check_indicator_y(y, n)
    if isinstance(y, list | tuple):
        items = list(y)
        y = np.empty(len(items), dtype=object)
        y[:] = items
    _refuse_2d(y)
    y = column_or_1d(y, warn=True)
    if len(y) != n:
        raise ValueError(f"y has {len(y)} labels but X has {n} samples.")
    if y.dtype.kind in "US" and (y == y.dtype.type("-1")).any():
        raise ValueError(
            "y is an array of strings that contains '-1': is it a class or an unlabeled "
            "sample? Mark unlabeled samples with None in an object array (np.array(y, "
            "dtype=object)) or a pandas Series, and keep '-1' out of string class names."
        )
    known = plain_labels(y[~unlabeled_mask(y)])
    if y.dtype.kind in "iuf" and (y == UNLABELED).any() and set(np.unique(known)) == {1}:
        raise ValueError(
            "y holds only -1 and 1: in skal -1 marks an unlabeled sample, so this would be a "
            "one-class task. If -1 is a class (a +-1 task), encode the classes as 0/1 or as "
            "strings, and mark unlabeled samples with NaN (float y) or None (object y)."
        )
    if known.dtype == object and len(known):
        kinds = sorted({type(v).__name__ for v in known.tolist()})
        raise ValueError(
            f"y mixes label types {kinds}; give every class the same type (all strings or "
            "all numbers); None, NaN or -1 mark unlabeled samples."
        )
    if len(known):
        check_classification_targets(known)
    return y


def refuse_bool_classes(y: np.ndarray) -> None:
    """A classifier's ``y`` of booleans, refused at fit with the fix (each would otherwise
    be refused later as an answer, a message about answers that names no fix for ``y``)."""
    if y.dtype.kind == "b" or y.dtype == object and any(
        isinstance(v, bool | np.bool_) for v in y.tolist()
    ):
        raise TypeError(
            "y holds booleans (True/False); classes must be ints or strings: pass "
            "y.astype(int) (or strings such as 'yes'/'no'); -1 or None marks an unlabeled "
            "sample."
        )


def check_targets(y, n: int) -> np.ndarray:
    """``y`` as a float array of ``n`` regression targets, NaN where unlabeled.

    NaN, ``None`` and ``pd.NA`` mark unlabeled samples (``-1`` is a target). Strings,
    booleans, infinities and several columns are refused with what to do instead.
    """
    values = np.asarray(y, dtype=object) if isinstance(y, list | tuple) else np.asarray(y)
    if values.ndim == 2 and values.shape[1] != 1:
        raise ValueError(
            f"y has {values.shape[1]} columns (shape {values.shape}): a regressor takes one "
            "target per sample (a 1-D y); several outputs are not supported yet."
        )
    values = column_or_1d(values, warn=True)
    if len(values) != n:
        raise ValueError(f"y has {len(values)} targets but X has {n} samples.")
    if values.dtype.kind == "b" or values.dtype.kind in "USO" and any(
        isinstance(v, bool | np.bool_ | str | bytes) for v in values.tolist()
    ):
        bad = next((v for v in values.tolist() if isinstance(v, bool | np.bool_ | str | bytes)),
                   values[0] if len(values) else None)
        raise ValueError(
            f"y holds {type(bad).__name__} values such as {bad!r}, but a regressor's targets "
            "are numbers (floats): convert y with np.asarray(y, dtype=float), mark unlabeled "
            "samples with NaN, or use ActiveLearningClassifier for class names."
        )
    missing = unlabeled_mask(values, task=REGRESSION)
    out = np.full(len(values), np.nan)
    try:
        out[~missing] = np.asarray(values[~missing], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "y holds values that are not numbers; a regressor's targets are floats (NaN, "
            "None or pd.NA mark unlabeled samples)."
        ) from None
    if np.isinf(out).any():
        raise ValueError(
            f"y holds {int(np.isinf(out).sum())} infinite target(s); a regressor needs finite "
            "targets (mark unlabeled samples with NaN, not inf)."
        )
    return out


def _refuse_2d(y) -> None:
    """A 2-D ``y`` with several columns: one-hot targets or several labels per sample."""
    values = np.asarray(y)  # np.shape would refuse some array-likes
    shape = values.shape
    if len(shape) != 2 or shape[1] < 2:
        return
    binary = values.dtype.kind in "biuf" and np.isin(values, (0, 1)).all()
    if binary and (values.sum(axis=1) == 1).all():
        raise ValueError(
            f"y is one-hot encoded (shape {shape}): skal's classifiers take one label per "
            "sample, as scikit-learn's do. Pass y.argmax(axis=1) (or the class names); a "
            "Keras model gets its one-hot targets from the wrapper."
        )
    raise ValueError(
        f"y has {shape[1]} columns (shape {shape}): this is a single-label task (one class "
        "per sample, a 1-D y). Several labels per sample is a multi-label campaign: fit a "
        "new learner on the 2-D 0/1 y (values 0/1 only; a row of -1, NaN or None marks an "
        "unlabeled sample)."
    )


def check_label_kind(new, classes, name: str = "y") -> None:
    """New labels must have the classes' kind (numbers or strings): no silent retyping."""
    def kind(values):
        values = plain_labels(values)
        return "strings" if values.dtype.kind in "USO" else "numbers"

    if len(new) and len(classes) and kind(new) != kind(classes):
        raise TypeError(
            f"{name} holds {kind(new)} but the learner's classes are {kind(classes)} "
            f"({list(np.asarray(classes)[:5])}...); give labels of the same type."
        )


def answer_kind(labels, kind: str | None, ids=None, *, task: str = CLASSIFICATION) -> str | None:
    """The kind (``"int"``, ``"float"`` or ``"str"``) of a campaign's labels after these
    answers (cleaned: ``None`` is a skip), or a clear error for one that does not fit.

    ``kind`` is the campaign's so far (None before its first label). A label is a class
    name: an int, a finite float or a str, never a bool or a container; once a campaign
    has ints, a float is refused (3.0 would silently turn every class into a float, 2.5
    is no class), once it has strings, a number is refused, and the other way round.
    ``ids`` name the samples in the message. With ``task="regression"`` a label is a
    finite number (an int or a float; the kind is ``"float"``), never a str or a bool.
    """
    if task == REGRESSION:
        return _target_kind(labels, ids)
    if task == MULTILABEL:
        return label_set_kind(labels, kind, ids)
    for k, label in enumerate(labels):
        if label is None:
            continue
        who = f"the answer {label!r}" + ("" if ids is None else f" for sample {ids[k]!r}")
        if isinstance(label, bool) or not isinstance(label, int | float | str):
            raise TypeError(
                f"{who} is a {type(label).__name__}; a label is a class name: an int or a "
                "str (None or -1 skips the sample)" + (
                    "; several labels per sample need a multi-label campaign (a 2-D 0/1 y)."
                    if isinstance(label, tuple | list | set | frozenset) else ".")
            )
        if isinstance(label, float) and not math.isfinite(label):
            raise ValueError(f"{who} is not a class: give a finite number or a str.")
        mine = "str" if isinstance(label, str) else "int" if isinstance(label, int) else "float"
        if kind is None or kind == mine or (kind == "float" and mine == "int"):
            kind = kind or mine
            continue
        theirs = {"str": "strings", "int": "integers", "float": "numbers"}[kind]
        raise TypeError(
            f"{who} is a {type(label).__name__} but this campaign's classes are {theirs}; "
            + ("answer an int (3, not 3.0); nothing was recorded." if kind == "int"
               and mine == "float" else "give labels of the same type (skal label: --classes "
               "fixes the class names); nothing was recorded.")
        )
    return kind


def _target_kind(labels, ids) -> str | None:
    """:func:`answer_kind` of a regression campaign: every answer a finite number."""
    kind = None
    for k, label in enumerate(labels):
        if label is None:
            continue
        who = f"the answer {label!r}" + ("" if ids is None else f" for sample {ids[k]!r}")
        if isinstance(label, bool) or not isinstance(label, int | float):
            raise TypeError(
                f"{who} is a {type(label).__name__}, but this is a regression campaign: its "
                "labels are numbers (a float target; None or NaN skips the sample); nothing "
                "was recorded."
            )
        if not math.isfinite(label):
            raise ValueError(f"{who} is not a finite number; nothing was recorded.")
        kind = "float"
    return kind


def check_two_classes(labels) -> None:
    """A classifier needs at least two classes among its labels."""
    if len(np.unique(labels)) < 2:
        what = "only one class among its labeled samples" if len(labels) else "no labels"
        raise ValueError(f"y has {what}; a classifier needs at least two classes.")



def classes_of(estimator, y) -> np.ndarray:
    """The fitted estimator's ``classes_``, else the classes found in ``y``."""
    classes = getattr(estimator, "classes_", None)
    return np.asarray(classes) if classes is not None else np.unique(y)
