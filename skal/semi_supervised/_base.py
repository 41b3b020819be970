"""The training-on-the-pool protocol: what an option is given, what it returns, and the one
way to ask it.

An option answers ``augment(X, labeled, labels, unlabeled, previous, *, random_state,
pool_batch_size)`` with a :class:`PoolTrainingResult`: pool rows to train on with their
(pseudo-)labels, and/or keyword arguments of the estimator's ``fit``. :func:`pool_training`
is the single entry point of a refit (``skal._refit.training_set``): it decides when an
option is asked at all and checks its answer, whatever the option. Built-ins subclass
:class:`PoolTraining` (a :class:`sklearn.base.BaseEstimator`) for ``get_params`` and their one
validation path, ``_parameter_constraints``, so a learner holding one clones and
grid-searches like any parameter; any object with an ``augment`` method works too.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator

from skal._params import StrictParamsMixin
from skal._pool import DEFAULT_POOL_BATCH_SIZE

__all__ = ["PoolTraining", "PoolTrainingResult", "needs_model", "pool_training"]


class PoolTrainingResult(NamedTuple):
    """What a training-on-the-pool option adds to one refit.

    Parameters
    ----------
    indices : array-like of int, default=()
        Distinct rows of the pool, among the ``unlabeled`` ones the option was given, to
        train on as if labeled (pseudo-labeled samples). They are never recorded as answers.
    labels : array-like of shape (len(indices),), default=()
        Their labels, one class label each.
    fit_params : dict or None, default=None
        Keyword arguments of the estimator's ``fit`` (e.g. ``X_unlabeled``, see
        :class:`ConsistencyTraining`); None: none.
    n_unlabeled : int >= 0, default=0
        Pool rows that ``fit_params`` hand the fit without a label. With ``indices``, they
        make the history's ``n_pseudo_labeled``.

    Examples
    --------
    >>> from skal.semi_supervised import PoolTrainingResult
    >>> PoolTrainingResult([4, 7], ["cat", "dog"])
    PoolTrainingResult(indices=[4, 7], labels=['cat', 'dog'], fit_params=None, n_unlabeled=0)
    """

    indices: Any = ()
    labels: Any = ()
    fit_params: Mapping[str, Any] | None = None
    n_unlabeled: int = 0


class PoolTraining(StrictParamsMixin, BaseEstimator):
    """Base class of the options that train on the unlabeled pool: implement :meth:`augment`.

    Before each refit of a campaign, the option is given the pool, the labeled set, the
    rows nobody labeled and the previous round's model, and says what the fit trains on
    besides the labeled rows: pool rows with labels it chose (pseudo-labels), keyword
    arguments of the estimator's ``fit``, or both (:class:`PoolTrainingResult`). Give an
    option as a learner's ``semi_supervised``; :func:`resolve_semi_supervised` accepts any
    object with an ``augment`` method, a subclass or not.

    A subclass lists its options as ``__init__`` parameters (stored unchanged, as for any
    scikit-learn estimator) with their ``_parameter_constraints``, checked before the first
    label is asked for. ``needs_model`` says whether :meth:`augment` reads the previous
    model (then it is not asked before the first fit); :meth:`check_estimator` may refuse an
    estimator early. The option's answer must not depend on anything but its arguments:
    the same ``random_state`` gives the same rows.

    Examples
    --------
    An option that gives every unlabeled sample the label of its nearest labeled one:

    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skal.semi_supervised import PoolTraining, PoolTrainingResult
    >>> class NearestLabel(PoolTraining):
    ...     needs_model = False  # it reads no model, so it helps from the first fit
    ...     def augment(self, X, labeled, labels, unlabeled, previous, *,
    ...                 random_state=None, pool_batch_size=16384):
    ...         d = ((X[unlabeled, None] - X[None, labeled]) ** 2).sum(axis=-1)
    ...         return PoolTrainingResult(unlabeled, labels[d.argmin(axis=1)])
    >>> X, y = load_digits(return_X_y=True)
    >>> labeled, unlabeled = np.arange(100), np.arange(100, 400)
    >>> extra = NearestLabel().augment(X, labeled, y[labeled], unlabeled, None)
    >>> len(extra.indices), bool(np.mean(extra.labels == y[unlabeled]) > 0.9)
    (300, True)

    As a learner's option: ``ActiveLearningClassifier(semi_supervised=NearestLabel())``.
    """

    _parameter_constraints: dict = {}
    #: Whether :meth:`augment` reads the previous round's model; if so it is not asked
    #: before the first fit (a subclass may make it a property of its options).
    needs_model: bool = True

    def augment(
        self, X, labeled, labels, unlabeled, previous, *, random_state=None,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
    ) -> PoolTrainingResult:
        """What the next fit trains on besides the labeled rows.

        Parameters
        ----------
        X : array-like, memmap or DataFrame of shape (n_pool, ...)
            The whole pool; read rows with ``skal``-style row indexing (``X[rows]``, or
            ``X.iloc[rows]`` for a DataFrame).
        labeled : ndarray of int
            Pool rows of the labeled samples, in labeling order.
        labels : ndarray of shape (len(labeled),)
            Their labels.
        unlabeled : ndarray of int
            Pool rows nobody labeled, ascending; never empty (the option is not asked
            then).
        previous : estimator object or None
            The model fitted in the previous round (None before the first fit; an option
            with ``needs_model`` is not asked then).
        random_state : int, Generator or None, default=None
            The round's seed, for any draw (e.g. a subsample of ``unlabeled``).
        pool_batch_size : int >= 1, default=16384
            Rows to predict or embed at once: bounds the memory of the option.

        Returns
        -------
        result : PoolTrainingResult
            Pool rows (of ``unlabeled``) and their labels, and/or fit parameters.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement augment().")

    def check_estimator(self, estimator) -> None:
        """Raise TypeError if this option cannot train ``estimator``; any can, by default.

        Called with the campaign's (unfitted) estimator before the first label is asked for.

        Parameters
        ----------
        estimator : estimator object
            The model the campaign trains.
        """


class PseudoLabeling(PoolTraining):
    """An option whose ``select`` picks pool rows and their pseudo-labels (built-ins)."""

    def augment(
        self, X, labeled, labels, unlabeled, previous, *, random_state=None,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
    ) -> PoolTrainingResult:
        """The rows :meth:`select` picks from ``unlabeled``, with their pseudo-labels.

        Parameters and the result are those of :meth:`PoolTraining.augment`.
        """
        indices, guesses = self.select(
            previous, X, unlabeled, len(labeled), random_state, pool_batch_size=pool_batch_size,
            labeled=labeled, labels=labels,
        )
        return PoolTrainingResult(indices, guesses)


def needs_model(option) -> bool:
    """Whether ``option`` reads the previous round's model (True unless it says otherwise)."""
    return bool(getattr(option, "needs_model", True))


def pool_training(
    option, X, labeled, labels, unlabeled, previous, *, random_state=None,
    pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
) -> PoolTrainingResult:
    """What ``option`` adds to a refit's training, checked: the one way to ask an option.

    The option is not asked (the result is empty) when it is None, when no pool row is
    unlabeled, or when it reads the previous model and there is none yet.

    Parameters
    ----------
    option : PoolTraining, an object with ``augment``, or None
        A resolved ``semi_supervised`` option (:func:`resolve_semi_supervised`).
    X, labeled, labels, unlabeled, previous, random_state, pool_batch_size
        As in :meth:`PoolTraining.augment`.

    Returns
    -------
    result : PoolTrainingResult
        ``indices`` as an integer array, ``fit_params`` a dict, ``n_unlabeled`` an int.

    Raises
    ------
    TypeError, ValueError
        If the option's answer is not a :class:`PoolTrainingResult` of distinct unlabeled
        rows, one label each, a dict of parameter names and a count.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.semi_supervised import PoolTraining, PoolTrainingResult, pool_training
    >>> class FirstTwo(PoolTraining):
    ...     needs_model = False
    ...     def augment(self, X, labeled, labels, unlabeled, previous, **kw):
    ...         return PoolTrainingResult(unlabeled[:2], [labels[0]] * 2)
    >>> pool_training(FirstTwo(), np.eye(5), np.array([0]), np.array([7]),
    ...               np.arange(1, 5), None).indices
    array([1, 2])
    >>> len(pool_training(FirstTwo(), np.eye(5), np.array([0]), np.array([7]),
    ...                   np.arange(1, 1), None).indices)  # nothing unlabeled: not asked
    0
    """
    if option is None or len(unlabeled) == 0 or (previous is None and needs_model(option)):
        return PoolTrainingResult(np.empty(0, np.intp), np.empty(0), {}, 0)
    result = option.augment(X, labeled, labels, unlabeled, previous, random_state=random_state,
                            pool_batch_size=pool_batch_size)
    return _checked(result, f"{type(option).__name__}.augment", unlabeled)


def _checked(result, who: str, unlabeled) -> PoolTrainingResult:
    """``result`` as a PoolTrainingResult of plain types; TypeError/ValueError naming ``who``."""
    if not isinstance(result, tuple) or not 2 <= len(result) <= 4:
        raise TypeError(f"{who} must return a PoolTrainingResult(indices, labels, fit_params, "
                        f"n_unlabeled), got {type(result).__name__}.")
    indices, labels, fit_params, n_unlabeled = PoolTrainingResult(*result)
    indices = np.asarray(indices)
    if len(indices) == 0:
        indices = np.empty(0, np.intp)
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise TypeError(f"{who} returned indices of shape {indices.shape} and dtype "
                        f"{indices.dtype}; give a 1-D array of pool row indices.")
    outside = indices[~np.isin(indices, unlabeled)]
    if len(outside):
        raise ValueError(f"{who} returned rows that are not unlabeled pool rows: "
                         f"{outside[:5].tolist()}; give rows of the unlabeled ones it is given.")
    if len(np.unique(indices)) != len(indices):
        raise ValueError(f"{who} returned {len(indices) - len(np.unique(indices))} repeated "
                         "indices; give each unlabeled row at most once.")
    if np.ndim(labels) != 1 or len(labels) != len(indices):
        raise ValueError(f"{who} returned {len(indices)} indices but labels of shape "
                         f"{np.shape(labels)}; give one label per index.")
    fit_params = {} if fit_params is None else fit_params
    if not isinstance(fit_params, Mapping) or not all(isinstance(k, str) for k in fit_params):
        raise TypeError(f"{who} returned fit_params={fit_params!r}; give a dict of keyword "
                        "arguments of the estimator's fit, or None.")
    if isinstance(n_unlabeled, bool) or not isinstance(n_unlabeled, Integral) or n_unlabeled < 0:
        raise ValueError(f"{who} returned n_unlabeled={n_unlabeled!r}; give an int >= 0.")
    return PoolTrainingResult(indices.astype(np.intp, copy=False), labels, dict(fit_params),
                              int(n_unlabeled))
