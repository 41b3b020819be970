"""Multi-label query strategies: per-label probabilities, their measures, and the strategy.

A multi-label model answers, for every label, the probability that it applies. scikit-learn
gives it in two shapes -- one ``(n_samples, n_labels)`` array (``OneVsRestClassifier``, a
sigmoid Keras network) or a list of ``(n_samples, 2)`` arrays, one per label
(``MultiOutputClassifier``, ``RandomForestClassifier``, ``KNeighborsClassifier``);
:func:`label_probabilities` is the one place that turns either into ``(n_samples,
n_labels)``. The measures are pure functions of that array, higher meaning more informative,
in the style of :mod:`skal.strategies` (``_measures``):

* :func:`mean_label_entropy`: the binary entropy of each label, averaged;
* :func:`binary_minimum`: the label closest to its decision boundary (Brinker 2006; modAL's
  ``SVM_binary_minimum``), ``1 - min_l |2 p_l - 1|``;
* :func:`max_loss` and :func:`mean_max_loss`: the hinge losses of Li, Wang & Sung (2004) as
  modAL's ``multilabel.max_loss`` and ``mean_max_loss`` define them, with the label margins
  ``f = 2 p - 1`` in place of modAL's ``2 * predict - 1`` (continuous margins, so that
  samples rank by how unsure the model is rather than tie on the same hard predictions).

References
----------
Li, X., Wang, L. & Sung, E. (2004). Multilabel SVM active learning for image classification.
ICIP 2004, 2207-2210.
Brinker, K. (2006). On active learning in multi-label classification. From Data and
Information Analysis to Knowledge Engineering, 206-213.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions

from skal.strategies._base import ScoreStrategy
from skal.strategies._features import last_step

__all__ = [
    "MULTILABEL_MEASURES", "MultilabelUncertainty", "as_label_probabilities", "binary_minimum",
    "label_probabilities",
    "max_loss", "mean_label_entropy", "mean_max_loss",
]


def _positive_column(proba, classes) -> np.ndarray:
    """The probability of the class 1 from one label's ``(n, k)`` block and its classes."""
    proba = np.asarray(proba, dtype=np.float64)
    proba = proba.reshape(len(proba), -1)
    if classes is None:  # no classes_: the last column is the positive one, as 0 < 1
        return proba[:, -1] if proba.shape[1] > 1 else proba[:, 0]
    classes = np.asarray(classes).tolist()
    if 1 in classes:
        return proba[:, classes.index(1)]
    return np.zeros(len(proba))  # the label was never present in training: 0 everywhere


def label_probabilities(estimator, X) -> np.ndarray:
    """The probability of every label, ``(n_samples, n_labels)``, of a multi-label model.

    Parameters
    ----------
    estimator : fitted classifier
        Trained on a 0/1 indicator ``y`` of shape (n_samples, n_labels); its
        ``predict_proba`` returns an ``(n_samples, n_labels)`` array (``OneVsRestClassifier``,
        :class:`skal.keras.KerasClassifier` with sigmoid outputs) or a list of one
        ``(n_samples, 2)`` array per label (``MultiOutputClassifier``, random forests,
        k-nearest neighbours; a label trained on one value only has one column, read
        through the estimator's ``classes_``).
    X : array-like
        Samples.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_labels)
        The probability that each label applies.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import label_probabilities
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> Y = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    >>> model = MultiOutputClassifier(LogisticRegression()).fit(X, Y)
    >>> label_probabilities(model, X).shape
    (4, 2)
    """
    return as_label_probabilities(estimator.predict_proba(X), estimator)


def as_label_probabilities(proba, estimator) -> np.ndarray:
    """:func:`label_probabilities` of an output of ``estimator.predict_proba`` already
    computed: an (n_samples, n_labels) array, or a list of one block per label.

    Examples
    --------
    A ``MultiOutputClassifier`` gives one ``(n_samples, 2)`` block per label; this keeps the
    probability that each label applies:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> from skal.strategies import as_label_probabilities
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> Y = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    >>> model = MultiOutputClassifier(LogisticRegression()).fit(X, Y)
    >>> proba = model.predict_proba(X)
    >>> len(proba), proba[0].shape
    (2, (4, 2))
    >>> as_label_probabilities(proba, model).round(2)
    array([[0.19, 0.81],
           [0.38, 0.62],
           [0.62, 0.38],
           [0.81, 0.19]])
    """
    if isinstance(proba, list | tuple):
        classes = getattr(last_step(estimator), "classes_", None)
        per_label = classes if isinstance(classes, list | tuple) else [None] * len(proba)
        return np.column_stack([_positive_column(p, c) for p, c in zip(proba, per_label)])
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(
            f"{type(last_step(estimator)).__name__}.predict_proba returned shape "
            f"{proba.shape}; a multi-label model gives (n_samples, n_labels) or one "
            "(n_samples, 2) array per label."
        )
    return proba


def _check(proba) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(
            f"proba must be 2-D (n_samples, n_labels), got shape {proba.shape}."
        )
    return proba


def mean_label_entropy(proba) -> np.ndarray:
    """The binary entropy of each label's probability, averaged over the labels (nats).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_labels)
        The probability that each label applies.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, log 2]; higher is more uncertain.

    Examples
    --------
    >>> from skal.strategies import mean_label_entropy
    >>> mean_label_entropy([[0.5, 0.5], [1.0, 0.0]]).round(4).tolist()
    [0.6931, 0.0]
    """
    p = np.clip(_check(proba), 0.0, 1.0)
    both = np.stack([p, 1.0 - p], axis=-1)
    logp = np.log(np.where(both > 0, both, 1.0))  # 0 * log(0) counts as 0
    return -(both * logp).sum(axis=-1).mean(axis=1) + 0.0  # + 0.0: no -0.0


def binary_minimum(proba) -> np.ndarray:
    """How close the least certain label is to its boundary: ``1 - min_l |2 p_l - 1|``.

    Brinker's binary minimum (modAL's ``SVM_binary_minimum``: the smallest distance of
    any label's SVM to its boundary), with the margin ``|2 p - 1|`` of a probability.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_labels)

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, 1]; 1 when some label is a coin toss.

    Examples
    --------
    >>> from skal.strategies import binary_minimum
    >>> binary_minimum([[0.9, 0.6], [0.99, 0.01]]).round(2).tolist()
    [0.8, 0.02]
    """
    return 1.0 - np.abs(2.0 * _check(proba) - 1.0).min(axis=1)


def max_loss(proba) -> np.ndarray:
    """Li et al.'s max loss: the hinge loss if only the most probable label applied.

    As modAL's ``multilabel.max_loss``: with margins ``f = 2 p - 1`` and the hypothesis
    ``c`` (+1 for the label of highest probability, -1 for every other),
    ``sum_l max(0, 1 - c_l f_l)``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_labels)

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, 2 n_labels]; higher is a larger loss.

    Examples
    --------
    >>> from skal.strategies import max_loss
    >>> max_loss([[0.9, 0.1], [0.9, 0.9]]).round(2).tolist()
    [0.4, 2.0]
    """
    f = 2.0 * _check(proba) - 1.0
    c = -np.ones_like(f)
    c[np.arange(len(f)), f.argmax(axis=1)] = 1.0
    return np.maximum(1.0 - c * f, 0.0).sum(axis=1)


def mean_max_loss(proba) -> np.ndarray:
    """Li et al.'s mean max loss: the hinge loss of each one-label hypothesis, averaged.

    As modAL's ``multilabel.mean_max_loss``: with margins ``f = 2 p - 1`` and, for each
    label ``j``, the hypothesis ``c^j`` (+1 for ``j``, -1 for every other),
    ``mean_j max(0, 1 - sum_l c^j_l f_l)``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_labels)

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher is a larger mean loss.

    Examples
    --------
    >>> from skal.strategies import mean_max_loss
    >>> mean_max_loss([[0.9, 0.1], [0.1, 0.1]]).round(2).tolist()
    [1.3, 1.0]
    """
    f = 2.0 * _check(proba) - 1.0
    hypotheses = 2.0 * np.eye(f.shape[1]) - 1.0
    return np.maximum(1.0 - f @ hypotheses, 0.0).mean(axis=1)


#: Multi-label measure name -> function of ``(n_samples, n_labels)`` label probabilities.
MULTILABEL_MEASURES = {
    "mean_entropy": mean_label_entropy,
    "binary_minimum": binary_minimum,
    "max_loss": max_loss,
    "mean_max_loss": mean_max_loss,
}


class MultilabelUncertainty(ScoreStrategy):
    """Pick the samples whose labels the model is least sure about (multi-label).

    For :class:`skal.ActiveLearningClassifier` with a 0/1 indicator ``y`` of shape
    (n_samples, n_labels). The model's per-label probabilities
    (:func:`label_probabilities`) are scored by one of :data:`MULTILABEL_MEASURES`.

    Parameters
    ----------
    measure : {"mean_entropy", "binary_minimum", "max_loss", "mean_max_loss"}, \
            default="mean_entropy"
        See :func:`mean_label_entropy`, :func:`binary_minimum`, :func:`max_loss` and
        :func:`mean_max_loss`.

    References
    ----------
    .. [1] X. Li, L. Wang and E. Sung, "Multilabel SVM active learning for image
       classification", ICIP 2004.
    .. [2] K. Brinker, "On active learning in multi-label classification", From Data and
       Information Analysis to Knowledge Engineering, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skal import ActiveLearningClassifier
    >>> from skal.strategies import MultilabelUncertainty
    >>> X, digit = load_digits(return_X_y=True)
    >>> Y = np.column_stack([digit % 2 == 0, digit > 4]).astype(int)  # two labels each
    >>> learner = ActiveLearningClassifier(
    ...     OneVsRestClassifier(LogisticRegression(max_iter=300)),
    ...     query_strategy=MultilabelUncertainty("max_loss"), n_queries=2,
    ...     initial_size=20, random_state=0).fit(X, Y)
    >>> learner.n_labeled_, learner.predict(X[:1]).shape
    (40, (1, 2))
    """

    _parameter_constraints: dict = {"measure": [StrOptions(set(MULTILABEL_MEASURES))]}
    requires = ("predict_proba",)
    tasks = ("multilabel",)

    def __init__(self, measure: str = "mean_entropy") -> None:
        self.measure = measure

    def score(self, estimator, X, rng) -> np.ndarray:
        return MULTILABEL_MEASURES[self.measure](label_probabilities(estimator, X))
