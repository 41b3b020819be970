"""Pseudo-labels from the previous model's confident predictions (public as
:class:`skal.semi_supervised.PseudoLabels`)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval

from skal._pool import DEFAULT_POOL_BATCH_SIZE, chunk_slices, take_rows
from skal.semi_supervised._base import PseudoLabeling
from skal.semi_supervised._select import CONFIDENCE_DECIMALS, balanced, prepare

__all__ = ["PseudoLabels"]


class PseudoLabels(PseudoLabeling):
    """Pseudo-labels for the pool samples the model is confident about (CEAL).

    Each round, the model fitted in the previous round predicts the unlabeled pool; the
    samples whose highest class probability reaches ``threshold`` get that class as a
    pseudo-label, and the next fit trains on the labeled set plus these pseudo-labeled
    samples. Pseudo-labels are not answers: the latest model chooses them afresh each round.
    This is the high-confidence sample selection of CEAL (Wang et al. 2016), i.e.
    pseudo-labeling (Lee 2013) on the pool; it is applied the same way whatever the query
    strategy, which only decides what a person labels.

    The selection is class-balanced and capped: at most ``ceil(max_ratio * n_labeled /
    n_classes)`` samples per predicted class, the most confident first, and at most
    ``floor(max_ratio * n_labeled)`` in all (then the first of each class before the second
    of any). So a class the model finds easy cannot flood the fit, and the next fit sees at
    most ``(1 + max_ratio)`` times the samples of the labeled-only fit: a fit whose cost grows
    with its samples (a network's epochs) costs at most ``(1 + max_ratio)`` times as much.
    Scoring adds one prediction of at most ``max_pool`` pool samples per round. As a
    :class:`PoolTraining` option, its :meth:`augment` is :meth:`select` on the unlabeled rows.

    Parameters
    ----------
    threshold : float in (0, 1], default=0.95
        Lowest highest-class probability of a pseudo-labeled sample; lower admits more, and
        more wrong, pseudo-labels. (CEAL thresholds the prediction's entropy instead, and
        lowers that threshold round by round.)
    max_ratio : float > 0, default=1.0
        Pseudo-labels per labeled sample, at most (see above).
    max_pool : int >= 1 or None, default=10000
        Unlabeled samples scored per round, drawn at random (with the round's seed) when the
        pool has more; None scores them all.

    See Also
    --------
    resolve_semi_supervised : what a ``semi_supervised`` option stands for.

    References
    ----------
    .. [1] K. Wang, D. Zhang, Y. Li, R. Zhang and L. Lin, "Cost-Effective Active Learning
       for Deep Image Classification", IEEE TCSVT 27(12), 2016 (CEAL).
    .. [2] D.-H. Lee, "Pseudo-Label: The Simple and Efficient Semi-Supervised Learning Method
       for Deep Neural Networks", ICML 2013 Workshop on Challenges in Representation
       Learning.

    Examples
    --------
    A model fitted on two labeled samples pseudo-labels the pool samples it is sure of, at
    most one per class for two labels (``max_ratio=1``):

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.semi_supervised import PseudoLabels
    >>> X = np.array([[-3.0], [3.0], [-2.5], [0.2], [2.0], [-1.0], [2.5]])
    >>> model = LogisticRegression(C=100).fit(X[:2], ["cat", "dog"])
    >>> pseudo = PseudoLabels(threshold=0.9)
    >>> idx, labels = pseudo.select(model, X, candidates=np.arange(2, 7), n_labeled=2)
    >>> idx, labels
    (array([2, 6]), array(['cat', 'dog'], dtype='<U3'))

    A larger ``max_ratio`` admits more of the confident samples (-1.0 and 0.2 are not):

    >>> PseudoLabels(threshold=0.9, max_ratio=2).select(model, X, np.arange(2, 7), 2)[0]
    array([2, 4, 6])

    The next fit trains on the labeled and the pseudo-labeled samples:

    >>> model = LogisticRegression(C=100).fit(
    ...     np.concatenate([X[:2], X[idx]]), np.concatenate([["cat", "dog"], labels]))
    """

    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0, 1, closed="right")],
        "max_ratio": [Interval(Real, 0, None, closed="neither")],
        "max_pool": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self, threshold: float = 0.95, max_ratio: float = 1.0, max_pool: int | None = 10_000
    ) -> None:
        self.threshold = threshold
        self.max_ratio = max_ratio
        self.max_pool = max_pool

    @property
    def needs_model(self) -> bool:
        """Whether :meth:`select` reads the previous round's model: always (its predictions)."""
        return True

    def select(
        self, estimator, X, candidates, n_labeled: int, random_state=None, *,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE, labeled=None, labels=None,
    ):
        """The candidates to pseudo-label, and their pseudo-labels.

        Parameters
        ----------
        estimator : estimator object
            The model fitted in the previous round, with ``predict_proba`` and ``classes_``
            (possibly a Pipeline).
        X : array-like, memmap or DataFrame of shape (n_pool, ...)
            The whole pool; only the rows in ``candidates`` are read.
        candidates : array-like of int
            Distinct row indices of ``X`` that are not labeled (in any order).
        n_labeled : int >= 0
            Size of the labeled set, which bounds the number of pseudo-labels.
        random_state : int, Generator or None, default=None
            Seed of the ``max_pool`` draw (:func:`numpy.random.default_rng`).
        pool_batch_size : int >= 1, default=16384
            Rows predicted at once: bounds the memory of the scoring.
        labeled, labels : array-like or None, default=None
            The labeled rows of ``X`` and their labels; not needed here (the model knows
            them), taken for the same call as :class:`LabelSpreadingPseudoLabels`.

        Returns
        -------
        indices : ndarray of shape (n_selected,), dtype intp
            The selected row indices of ``X``, ascending; empty when none qualifies.
        labels : ndarray of shape (n_selected,)
            Their pseudo-labels (the predicted class), of ``estimator.classes_``'s dtype.

        Raises
        ------
        TypeError
            If the estimator has no ``predict_proba``, ``X`` cannot be indexed by row, or
            ``candidates`` are not integers.
        ValueError
            If an option is bad (an ``InvalidParameterError``, also a TypeError, naming
            it), or ``candidates``, ``n_labeled`` or ``pool_batch_size`` are.
        NotFittedError
            If the estimator has no ``classes_``.
        """
        self._validate_params()
        classes = _check_estimator(estimator)
        X, rows, per_class, total = prepare(self, X, candidates, n_labeled, len(classes),
                                             random_state, pool_batch_size=pool_batch_size)
        if total == 0:  # nothing may be kept: the pool is not even scored
            rows = rows[:0]
        idx, confidence, predicted = self._confident(estimator, X, rows, len(classes),
                                                     pool_batch_size)
        keep = balanced(idx, confidence, predicted, per_class=per_class, total=total)
        keep = keep[np.argsort(idx[keep], kind="stable")]
        return idx[keep], classes[predicted[keep]]

    def _confident(self, estimator, X, rows, n_classes, pool_batch_size):
        """Rows whose highest probability reaches the threshold: index, confidence, class."""
        found = [(np.empty(0, np.intp), np.empty(0), np.empty(0, np.intp))]
        for part in chunk_slices(len(rows), pool_batch_size):
            idx = rows[part]
            proba = np.asarray(estimator.predict_proba(take_rows(X, idx)), dtype=np.float64)
            if proba.shape != (len(idx), n_classes):
                raise ValueError(
                    f"predict_proba returned shape {proba.shape} for {len(idx)} samples of "
                    f"{n_classes} classes; expected ({len(idx)}, {n_classes})."
                )
            confidence = proba.max(axis=1)
            sure = confidence >= self.threshold  # NaN never is
            found.append((idx[sure], np.round(confidence[sure], CONFIDENCE_DECIMALS),
                          proba[sure].argmax(axis=1)))
        return tuple(np.concatenate(column) for column in zip(*found, strict=True))


def _check_estimator(estimator) -> np.ndarray:
    """The fitted estimator's classes; it must have predict_proba."""
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"Pseudo-labels need the estimator's predict_proba(), which "
            f"{type(estimator).__name__} does not have: use a classifier with probabilities "
            "(e.g. SVC(probability=True)), or semi_supervised=None."
        )
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise NotFittedError(
            f"Pseudo-labels come from a fitted model; this {type(estimator).__name__} has "
            "no classes_: fit it first."
        )
    return np.asarray(classes)
