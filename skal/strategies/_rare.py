"""Rare classes first: a class-balanced batch over the predicted classes, fewest labels first."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions

from skal._pool import iter_chunks
from skal.strategies._base import QueryStrategy
from skal.strategies._measures import UNCERTAINTY_MEASURES

__all__ = ["RareClassSampling"]


class RareClassSampling(QueryStrategy):
    """Seek the classes the labeled set under-represents: a batch balanced over them.

    Uncertainty sampling asks about the majority class when one class dominates the pool
    (its boundary holds most samples); a rare class may then wait hundreds of labels for a
    second example. This strategy fills the batch round-robin over the *predicted* classes,
    the class with the fewest labels first; within a class it takes the most uncertain
    samples first (``measure``). A class the model predicts for no pool sample is skipped;
    one it has never seen cannot be predicted -- seed it with a few given labels
    (``Campaign.answer`` or ``y``) so the model knows it. This is class-balanced batch
    selection in the spirit of Aggarwal et al. (2020), with the rarest predicted classes
    served first rather than a fixed quota.

    Parameters
    ----------
    measure : {"margin", "entropy", "least_confident"}, default="margin"
        Uncertainty that orders the samples within a predicted class.

    References
    ----------
    .. [1] U. Aggarwal, A. Popescu and C. Hudelot, "Active learning for imbalanced datasets",
       WACV 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import QueryContext, RareClassSampling, select_batch
    >>> X = np.r_[np.zeros(40), np.ones(4) * 3][:, None] + np.linspace(0, 0.5, 44)[:, None]
    >>> y = np.r_[np.zeros(40, int), np.ones(4, int)]
    >>> labeled = [0, 1, 2, 40]  # three of the majority class, one rare
    >>> model = LogisticRegression().fit(X[labeled], y[labeled])
    >>> context = QueryContext(random_state=0, X_labeled=X[labeled], y_labeled=y[labeled])
    >>> idx, _ = select_batch(RareClassSampling(), model, X, 2, context)
    >>> y[idx]  # the rare class first, then the majority
    array([1, 0])
    """

    _parameter_constraints: dict = {"measure": [StrOptions(set(UNCERTAINTY_MEASURES))]}
    requires = ("predict_proba",)

    def __init__(self, measure: str = "margin") -> None:
        self.measure = measure

    def select(self, estimator, X_pool, n_instances, context):
        predicted, uncertainty = [], []
        for _, chunk in iter_chunks(X_pool, context.pool_batch_size):
            if context.check_chunk is not None:
                chunk = context.check_chunk(chunk)
            proba = np.asarray(estimator.predict_proba(chunk))
            predicted.append(proba.argmax(axis=1))
            uncertainty.append(UNCERTAINTY_MEASURES[self.measure](proba))
        predicted, uncertainty = np.concatenate(predicted), np.concatenate(uncertainty)
        classes = np.asarray(getattr(estimator, "classes_", np.arange(predicted.max() + 1)))
        labels = np.asarray([] if context.y_labeled is None else context.y_labeled)
        counts = np.array([int(np.sum(labels == c)) for c in classes])
        queues = []
        for c in np.argsort(counts, kind="stable"):  # fewest labels first
            members = np.flatnonzero(predicted == c)
            order = np.lexsort((members, -np.round(uncertainty[members], 12)))
            queues.append(members[order].tolist())
        picked: list[int] = []
        while len(picked) < min(n_instances, len(predicted)):
            for queue in queues:
                if queue and len(picked) < n_instances:
                    picked.append(queue.pop(0))
        idx = np.asarray(picked, dtype=np.intp)
        return idx, uncertainty[idx]
