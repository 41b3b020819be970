"""Summary metrics for active-learning curves.

An active-learning curve is a score (accuracy, F1, ...) measured after each labeling
round, against the number of labeled samples at that round. The functions here reduce
such a curve to a single number so that query strategies can be compared:

- :func:`area_under_learning_curve` -- the normalised area under the curve (AULC);
- :func:`labels_to_reach` -- the label budget needed to reach a target score.

Both accept ``scores`` of shape ``(n_rounds,)`` for one curve, or
``(n_rounds, n_splits)`` for one curve per column (e.g. per cross-validation split, as
returned by :func:`skal.evaluation.active_learning_curve`).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["area_under_learning_curve", "labels_to_reach"]


def _check_curve(n_labeled, scores) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a learning curve to float arrays."""
    n_labeled = np.asarray(n_labeled)
    scores = np.asarray(scores)
    if n_labeled.ndim != 1:
        raise ValueError(
            f"n_labeled must be a 1-D array, got an array with shape {n_labeled.shape}."
        )
    if n_labeled.size == 0:
        raise ValueError("n_labeled must contain at least one value, got an empty array.")
    if n_labeled.dtype.kind not in "iuf":
        raise ValueError(f"n_labeled must be numeric, got dtype {n_labeled.dtype}.")
    n_labeled = n_labeled.astype(float)
    if not np.all(np.isfinite(n_labeled)):
        raise ValueError("n_labeled must contain only finite values.")
    if np.any(np.diff(n_labeled) <= 0):
        raise ValueError(f"n_labeled must be strictly increasing, got {n_labeled.tolist()}.")
    if scores.ndim not in (1, 2):
        raise ValueError(
            "scores must be of shape (n_rounds,) or (n_rounds, n_splits), got an array "
            f"with shape {scores.shape}."
        )
    if scores.shape[0] != n_labeled.shape[0]:
        raise ValueError(
            f"scores must have one row per entry of n_labeled: got {scores.shape[0]} rows "
            f"in scores for {n_labeled.shape[0]} values in n_labeled."
        )
    try:
        scores = scores.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scores must be numeric, got dtype {scores.dtype}.") from exc
    return n_labeled, scores


def area_under_learning_curve(n_labeled, scores) -> float | np.ndarray:
    """Normalised area under an active-learning curve (AULC).

    The area is computed with the trapezoid rule over ``n_labeled`` and divided by the
    width of the label range, ``n_labeled[-1] - n_labeled[0]``. The result is thus the
    average score over the labeling budget: it lies in ``[0, 1]`` whenever the scores
    do, and a constant curve at ``c`` has an AULC of exactly ``c``. Rounds need not be
    evenly spaced; each segment is weighted by the number of labels it spans.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Number of labeled samples at each round. Must be strictly increasing.

    scores : array-like of shape (n_rounds,) or (n_rounds, n_splits)
        Score at each round. With 2-D input each column is a separate curve (e.g. one
        cross-validation split), sharing the same ``n_labeled``.

    Returns
    -------
    aulc : float or ndarray of shape (n_splits,)
        The normalised area: a float for 1-D ``scores``, one value per column for 2-D
        ``scores``. With a single round (``n_rounds == 1``) the area is undefined and
        the score of that round is returned instead. NaN scores propagate to the
        result of their column.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not 1-D, empty or not strictly increasing, or if ``scores``
        is not 1-D/2-D or its length differs from that of ``n_labeled``.

    See Also
    --------
    labels_to_reach : Label budget needed to reach a target score.

    Examples
    --------
    >>> from skal.metrics import area_under_learning_curve
    >>> area_under_learning_curve([10, 20, 30], [0.5, 0.7, 0.9])
    0.7
    >>> area_under_learning_curve([10, 20, 30], [[0.5, 1.0], [0.7, 1.0], [0.9, 1.0]])
    array([0.7, 1. ])
    """
    x, y = _check_curve(n_labeled, scores)
    if x.shape[0] == 1:
        aulc = y[0]
    else:
        dx = np.diff(x)
        mid = (y[1:] + y[:-1]) / 2.0
        if y.ndim == 2:
            dx = dx[:, np.newaxis]
        aulc = np.sum(dx * mid, axis=0) / (x[-1] - x[0])
    return float(aulc) if y.ndim == 1 else np.asarray(aulc, dtype=float)


def labels_to_reach(n_labeled, scores, target) -> float | np.ndarray:
    """Number of labeled samples needed to first reach a target score.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Number of labeled samples at each round. Must be strictly increasing.

    scores : array-like of shape (n_rounds,) or (n_rounds, n_splits)
        Score at each round. With 2-D input each column is a separate curve.

    target : float
        Score to reach. A round reaches it when its score is ``>= target`` (equality
        counts).

    Returns
    -------
    n_labels : float or ndarray of shape (n_splits,)
        The ``n_labeled`` value of the first round whose score is ``>= target``, as a
        float; ``np.inf`` when no round reaches the target (NaN scores never do). A
        float for 1-D ``scores``, one value per column for 2-D ``scores``.

    Raises
    ------
    ValueError
        If the curve is malformed (see :func:`area_under_learning_curve`) or ``target``
        is not a real number.

    See Also
    --------
    area_under_learning_curve : Normalised area under the learning curve.

    Examples
    --------
    >>> from skal.metrics import labels_to_reach
    >>> labels_to_reach([10, 20, 30], [0.5, 0.8, 0.9], target=0.8)
    20.0
    >>> labels_to_reach([10, 20, 30], [0.5, 0.8, 0.9], target=0.95)
    inf
    """
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise ValueError(f"target must be a real number, got {target!r}.")
    if np.isnan(target):
        raise ValueError("target must not be NaN.")
    x, y = _check_curve(n_labeled, scores)
    reached = y >= target
    first = np.argmax(reached, axis=0)
    result = np.where(np.any(reached, axis=0), x[first], np.inf)
    return float(result) if y.ndim == 1 else np.asarray(result, dtype=float)
