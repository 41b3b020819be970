"""ActiveLearningRegressor: active learning around any regressor, on the same Campaign."""

from __future__ import annotations

from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from skal._base_learner import _BaseActiveLearner
from skal._labels import REGRESSION
from skal._pool import DEFAULT_POOL_BATCH_SIZE

__all__ = ["ActiveLearningRegressor"]


class ActiveLearningRegressor(RegressorMixin, _BaseActiveLearner):
    """Pool-based active learning around any regressor: house prices, doses, readings.

    The same contract as :class:`skal.ActiveLearningClassifier` -- :meth:`fit` (with
    ``n_queries > 0`` a simulated campaign in which ``y`` is the oracle), :meth:`query`,
    :meth:`teach`, ``campaign_`` (a :class:`skal.Campaign`), the label journal, ``clone``,
    Pipelines and grid searches over ``query_strategy`` with regression scorers -- for
    numeric targets. Where it differs:

    * targets are floats; **NaN, None and pd.NA mark an unlabeled sample**, ``-1`` is a
      target like any other (the classifier's ``-1`` marker would hide real values). A
      string or a bool label, an infinite target and a 2-D ``y`` are refused. In a label
      journal, targets are written as floats and a skip as the integer ``-1``;
    * the initial set is random (no class to wait for, and
      ``initial_selection="stratified"`` is refused);
    * strategies: ``"variance"`` (default; :class:`skal.strategies.VarianceSampling`: the
      estimator's own ``predict(X, return_std=True)`` as a Gaussian process has, else
      MC-dropout passes of :class:`skal.CNNRegressor`/:class:`skal.keras.KerasRegressor`,
      else 5 bootstrap clones), ``"greedy"`` (:class:`skal.strategies.GreedySampling`, iGS:
      a batch spread out in input and output space) and ``"random"``; a classification
      strategy (``"entropy"``, ``"auto"``, ...) is a ValueError at ``fit``;
    * ``history_`` rows have no ``class_counts``; ``score`` is R² on the labeled rows;
      ``semi_supervised`` and ``stopping`` are not available (``None`` only).
      :meth:`save` stores a Keras estimator (:class:`skal.CNNRegressor`,
      :class:`skal.keras.KerasRegressor`) as the classifier's does, and :func:`skal.load`
      reads it back; any other regressor: keep its journal and use :meth:`from_journal`.

    Parameters
    ----------
    estimator : estimator object or None, default=None
        The regressor to train; cloned before fitting. ``None`` means
        :class:`skal.CNNRegressor` with its defaults.
    query_strategy : str or callable, default="variance"
        ``"variance"``, ``"greedy"``, ``"random"``, a strategy object (e.g.
        ``VarianceSampling(source="committee")``) or a callable
        ``(estimator, X_pool, n_instances, random_state) -> indices``.
    n_instances, n_queries, initial_size, warm_start, pool_batch_size, verbose, \
random_state, oracle, journal, max_labels, store_round_estimators
        As in :class:`skal.ActiveLearningClassifier`; an oracle answers a float (None or
        NaN skips the sample).
    initial_selection : {"random"}, default="random"
        ``"stratified"`` needs classes and is refused.
    semi_supervised : None, default=None
        Regression campaigns train on their labels only.
    stopping : None, default=None
        skal's stopping criteria read class probabilities; not available here.

    Attributes
    ----------
    campaign_ : Campaign
        The learner's one state (see the classifier).
    estimator_ : estimator object
        The fitted regressor, trained on exactly the labeled set.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    X_labeled_, y_labeled_, n_labeled_, labeled_indices_, labeled_round_, \
queried_indices_, history_, round_estimators_
        As in :class:`skal.ActiveLearningClassifier` (``y_labeled_`` holds floats).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import BayesianRidge
    >>> from skal import ActiveLearningRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> learner = ActiveLearningRegressor(  # "variance": BayesianRidge's return_std
    ...     BayesianRidge(), n_queries=3, n_instances=5, initial_size=10,
    ...     random_state=0).fit(X[:300], y[:300])
    >>> learner.n_labeled_, learner.campaign_.spec.task
    (25, 'regression')
    >>> round(learner.score(X[300:], y[300:]), 2) > 0.3
    True
    """

    _task = REGRESSION
    _parameter_constraints: dict = {**_BaseActiveLearner._parameter_constraints}

    def __init__(
        self,
        estimator=None,
        *,
        query_strategy="variance",
        n_instances: int = 10,
        n_queries: int = 0,
        initial_size: int | float = 10,
        initial_selection: str = "random",
        warm_start: bool = False,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
        verbose: int = 0,
        random_state=None,
        oracle=None,
        journal=None,
        max_labels: int | None = None,
        semi_supervised=None,
        store_round_estimators: bool = False,
        stopping=None,
    ) -> None:
        super().__init__(
            estimator, query_strategy=query_strategy, n_instances=n_instances,
            n_queries=n_queries, initial_size=initial_size,
            initial_selection=initial_selection, warm_start=warm_start,
            pool_batch_size=pool_batch_size, verbose=verbose, random_state=random_state,
            oracle=oracle, journal=journal, max_labels=max_labels,
            semi_supervised=semi_supervised, store_round_estimators=store_round_estimators,
            stopping=stopping,
        )

    def _score(self, y_true, y_pred, sample_weight) -> float:
        return r2_score(y_true, y_pred, sample_weight=sample_weight)

    # RegressorMixin.score comes first in the MRO: the learner's leaves markers out.
    score = _BaseActiveLearner.score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
