"""ActiveLearningClassifier: an active learner that is a scikit-learn meta-estimator."""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from skal._campaign import initial_indices, run_campaign
from skal._pool import DEFAULT_POOL_BATCH_SIZE, check_pool_chunk, pool_length
from skal.strategies._base import QueryStrategy
from skal.strategies._registry import get_strategy

__all__ = ["ActiveLearningClassifier"]

UNLABELED = -1


def _estimator_has(attr: str):
    """Check the fitted estimator if there is one, else the unfitted one."""

    def check(self) -> bool:
        if hasattr(self, "estimator_"):
            getattr(self.estimator_, attr)
        elif self.estimator is not None:
            getattr(self.estimator, attr)
        return True  # the default CNN has predict_proba

    return check


def _unlabeled_mask(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind in "iuf":
        return y == UNLABELED
    if y.dtype.kind == "O":
        return np.array([isinstance(v, Real) and v == UNLABELED for v in y], dtype=bool)
    return np.zeros(len(y), dtype=bool)


def _warm_start_param(estimator) -> str | None:
    """Name of the parameter that makes ``fit`` continue from the current weights."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        inner = _warm_start_param(last)
        return f"{name}__{inner}" if inner else None
    return "warm_start" if "warm_start" in estimator.get_params(deep=False) else None


class ActiveLearningClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Pool-based active learning around any classifier with ``predict_proba``.

    The learner keeps a labelled set and a fitted model. :meth:`query` asks which pool
    samples are most worth labelling, :meth:`teach` adds labels and refits. :meth:`fit` with
    ``n_queries > 0`` runs a whole simulated campaign in which ``y`` plays the oracle, so
    ``cross_val_score`` and ``GridSearchCV`` measure model quality at a labelling budget.

    Parameters
    ----------
    estimator : estimator object or None, default=None
        The classifier to train; cloned before fitting. ``None`` means
        :class:`skal.CNNClassifier` with its defaults.
    query_strategy : str or callable, default="entropy"
        A registered name (``"entropy"``, ``"margin"``, ``"least_confident"``, ``"random"``,
        see :data:`skal.strategies.STRATEGIES`), a strategy object such as
        ``skal.strategies.UncertaintySampling("margin")``, or a callable
        ``(estimator, X_pool, n_instances, random_state) -> indices``.
    n_instances : int, default=10
        Samples queried per round (and the default of :meth:`query`).
    n_queries : int, default=0
        Rounds of the simulated campaign run by :meth:`fit`. ``0`` fits on the labelled
        samples of ``y`` (``-1`` marks unlabelled ones) without querying.
    initial_size : int or float, default=10
        Labels drawn (stratified, at least one per class where possible) before the first
        round of a campaign: a count, or a fraction of the samples in (0, 1).
    warm_start : bool, default=False
        When True, each refit continues from the current weights (the estimator's own
        ``warm_start``) instead of training from scratch; a refit that sees a new class
        always starts from scratch.
    pool_batch_size : int, default=16384
        Pool samples scored at once by score-based strategies; bounds query memory.
    verbose : int, default=0
        Print one line per round of a campaign when > 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial set and the strategies: the same seed gives the same queries.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted classifier, trained on exactly the labelled set.
    classes_ : ndarray of shape (n_classes,)
        Classes known to the fitted classifier.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    X_labeled_ : ndarray of shape (n_labeled, n_features)
        The labelled samples, in the order they were labelled.
    y_labeled_ : ndarray of shape (n_labeled,)
        Their labels.
    n_labeled_ : int
        Size of the labelled set.
    labeled_indices_ : ndarray of shape (n_labeled_in_fit,)
        Indices into the ``X`` given to :meth:`fit` of the samples labelled there, in order.
    labeled_round_ : ndarray of shape (n_samples,)
        Round in which each sample of ``fit``'s ``X`` was labelled: 0 for the initial set,
        ``-1`` for never.
    queried_indices_ : list of ndarray
        The batch queried in each round of :meth:`fit`, indices into its ``X``.
    history_ : list of dict
        One entry per round (``fit``'s rounds, then one per :meth:`teach`): ``round``,
        ``n_labeled``, ``query_time`` and ``fit_time`` in seconds.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(max_iter=500), n_queries=5, initial_size=20, random_state=0
    ... ).fit(X, y)
    >>> learner.n_labeled_
    70
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "query_strategy": [str, callable],
        "n_instances": [Interval(Integral, 1, None, closed="left")],
        "n_queries": [Interval(Integral, 0, None, closed="left")],
        "initial_size": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "warm_start": ["boolean"],
        "pool_batch_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        query_strategy="entropy",
        n_instances: int = 10,
        n_queries: int = 0,
        initial_size: int | float = 10,
        warm_start: bool = False,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
        verbose: int = 0,
        random_state=None,
    ) -> None:
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.n_instances = n_instances
        self.n_queries = n_queries
        self.initial_size = initial_size
        self.warm_start = warm_start
        self.pool_batch_size = pool_batch_size
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _base_estimator(self):
        if self.estimator is not None:
            return self.estimator
        from skal.keras import CNNClassifier  # lazy: imports TensorFlow

        return CNNClassifier()

    def _fit_estimator(self, X, y, previous=None):
        """Fit on exactly (X, y): continue ``previous`` when warm-starting, else a clone."""
        if self.warm_start and previous is not None:
            key = _warm_start_param(previous)
            known = getattr(previous, "classes_", None)
            if key and known is not None and np.isin(np.unique(y), known).all():
                previous.set_params(**{key: True})
                return previous.fit(X, y)
        return clone(self._base_estimator()).fit(X, y)

    def _round_seed(self, round_: int) -> int:
        return int(np.random.SeedSequence([self._seed, round_]).generate_state(1)[0])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit on the labelled samples, or run a simulated labelling campaign.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples. Arrays with more dimensions (images) pass through to the estimator.
        y : array-like of shape (n_samples,)
            Labels. With ``n_queries == 0``, ``-1`` marks unlabelled samples, which are not
            trained on. With ``n_queries > 0``, ``y`` is the oracle and must be complete.

        Returns
        -------
        self : ActiveLearningClassifier
            The fitted learner.
        """
        return self._fit(X, y)

    def _fit(self, X, y, on_round=None):
        """``fit`` with a hook called after each round; shared with skal.evaluation."""
        X, y = validate_data(self, X, y, allow_nd=True, dtype=None, ensure_all_finite=True)
        if X.dtype.kind not in "iufb":
            X = X.astype(np.float64)
        check_classification_targets(y)
        strategy = get_strategy(self.query_strategy)
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        unlabeled = _unlabeled_mask(y)
        start = time.perf_counter()
        if self.n_queries == 0:
            labeled = np.flatnonzero(~unlabeled)
            self._check_two_classes(y[labeled])
            self.estimator_ = self._fit_estimator(X[labeled], y[labeled])
            if on_round is not None:
                on_round(0, self.estimator_, labeled)
            self.labeled_indices_ = labeled
            self.labeled_round_ = np.where(unlabeled, -1, 0)
            self.queried_indices_ = []
            self.history_ = [
                {"round": 0, "n_labeled": len(labeled), "query_time": 0.0,
                 "fit_time": time.perf_counter() - start}
            ]
        else:
            if unlabeled.any():
                raise ValueError(
                    "y contains -1 (unlabelled) but n_queries > 0 runs a simulated campaign in "
                    "which y is the oracle: every sample needs its label."
                )
            self._check_two_classes(y)
            initial = initial_indices(
                y, self.initial_size, np.random.SeedSequence([self._seed, 0xA11])
            )
            result = run_campaign(
                n_samples=len(X),
                initial=initial,
                n_queries=self.n_queries,
                n_instances=self.n_instances,
                reveal=lambda idx: y[idx],
                fit=lambda idx, labels, prev: self._fit_estimator(X[idx], labels, prev),
                query=lambda est, cand, labeled, n, r: self._select(
                    strategy, est, X[cand], n, r, X_labeled=X[labeled], return_scores=True
                ),
                on_round=on_round,
                verbose=self.verbose,
            )
            labeled = result.labeled_indices
            self.estimator_ = result.estimator
            self.labeled_indices_ = labeled
            self.labeled_round_ = result.labeled_round
            self.queried_indices_ = result.queried_indices
            self.history_ = result.history
        self.X_labeled_ = X[labeled]
        self.y_labeled_ = y[labeled]
        self.n_labeled_ = len(labeled)
        self.classes_ = self._classes_of(self.estimator_, self.y_labeled_)
        return self

    @staticmethod
    def _check_two_classes(y) -> None:
        if len(np.unique(y)) < 2:
            raise ValueError(
                "y has only one class among its labelled samples; a classifier needs at "
                "least two classes."
            )

    @staticmethod
    def _classes_of(estimator, y) -> np.ndarray:
        classes = getattr(estimator, "classes_", None)
        return np.asarray(classes) if classes is not None else np.unique(y)

    # ------------------------------------------------------------------ querying
    def _select(
        self, strategy, estimator, X_pool, n_instances, round_, *, X_labeled, return_scores=False
    ):
        for method in getattr(strategy, "requires", ()):
            if not hasattr(estimator, method):
                raise TypeError(
                    f"query_strategy={self.query_strategy!r} needs the estimator's "
                    f"{method}(), which {type(estimator).__name__} does not have."
                )
        seed = self._round_seed(round_)
        n_pool = pool_length(X_pool)
        if n_pool == 0:
            raise ValueError("X_pool is empty: there is nothing to query.")

        def check_chunk(chunk):
            return check_pool_chunk(chunk, self.n_features_in_)

        if isinstance(strategy, QueryStrategy):
            idx, scores = strategy(
                estimator,
                X_pool,
                n_instances,
                seed,
                pool_batch_size=self.pool_batch_size,
                check_chunk=check_chunk,
                return_scores=True,
                X_labeled=X_labeled,
            )
        else:
            X_pool = check_chunk(np.asarray(X_pool))
            idx = strategy(estimator, X_pool, n_instances, seed)
            idx = self._check_indices(idx, X_pool, n_instances)
            scores = np.full(len(idx), np.nan)
        idx = np.asarray(idx, dtype=np.intp)
        return (idx, np.asarray(scores, dtype=float)) if return_scores else idx

    @staticmethod
    def _check_indices(idx, X_pool, n_instances) -> np.ndarray:
        idx = np.asarray(idx).reshape(-1)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"query_strategy returned {idx.dtype} indices; expected integers.")
        if len(np.unique(idx)) != len(idx) or len(idx) > n_instances:
            raise ValueError(
                f"query_strategy must return at most {n_instances} distinct indices, "
                f"got {len(idx)} ({len(np.unique(idx))} distinct)."
            )
        if len(idx) and (idx.min() < 0 or idx.max() >= len(X_pool)):
            raise ValueError("query_strategy returned indices outside X_pool.")
        return idx

    def query(self, X_pool, n_instances: int | None = None, *, return_scores: bool = False):
        """Indices of the pool samples most worth labelling next.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, n_features) or iterable of such chunks
            Unlabelled candidates. Sliceable arrays (numpy, ``np.memmap``, h5py) and
            iterables of chunks are scored ``pool_batch_size`` rows at a time.
        n_instances : int or None, default=None
            Batch size; ``None`` uses the ``n_instances`` parameter.
        return_scores : bool, default=False
            Also return each chosen sample's score (NaN for a user callable).

        Returns
        -------
        indices : ndarray of shape (min(n_instances, n_pool),)
            Distinct indices into ``X_pool``, most informative first. The same fitted state
            and ``random_state`` give the same indices.
        scores : ndarray of shape (min(n_instances, n_pool),)
            Only when ``return_scores`` is True.
        """
        check_is_fitted(self)
        n_instances = self.n_instances if n_instances is None else n_instances
        bad = isinstance(n_instances, bool) or not isinstance(n_instances, Integral)
        if bad or n_instances < 1:
            raise ValueError(f"n_instances must be an int >= 1, got {n_instances!r}.")
        if isinstance(X_pool, list):
            X_pool = np.asarray(X_pool)
        return self._select(
            get_strategy(self.query_strategy),
            self.estimator_,
            X_pool,
            int(n_instances),
            len(self.history_),
            X_labeled=self.X_labeled_,
            return_scores=return_scores,
        )

    def teach(self, X, y):
        """Add labelled samples to the labelled set and refit.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
            Newly labelled samples.
        y : array-like of shape (n_new,)
            Their labels (no ``-1``). A class never seen before is learnt.

        Returns
        -------
        self : ActiveLearningClassifier
            The learner, refit on every label taught so far. If validation or refitting
            fails, the learner is left as it was.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=None, ensure_all_finite=True)
        if X.dtype.kind not in "iufb":
            X = X.astype(np.float64)
        y = column_or_1d(y, warn=True)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels.")
        if len(y) == 0:
            return self
        if _unlabeled_mask(y).any():
            raise ValueError("y contains -1 (unlabelled); teach only labelled samples.")
        check_classification_targets(y)
        start = time.perf_counter()
        X_all = np.concatenate([self.X_labeled_, X.astype(self.X_labeled_.dtype, copy=False)])
        y_all = np.concatenate([self.y_labeled_, y])
        estimator = self._fit_estimator(X_all, y_all, self.estimator_)
        self.estimator_ = estimator
        self.X_labeled_, self.y_labeled_ = X_all, y_all
        self.n_labeled_ = len(y_all)
        self.classes_ = self._classes_of(estimator, y_all)
        self.history_.append(
            {"round": len(self.history_), "n_labeled": self.n_labeled_, "query_time": 0.0,
             "fit_time": time.perf_counter() - start}
        )
        return self

    # ------------------------------------------------------------------ delegation
    def predict(self, X):
        """Predict classes with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=None, ensure_all_finite=True)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=None, ensure_all_finite=True)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=None, ensure_all_finite=True)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As returned by the estimator.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=None, ensure_all_finite=True)
        return self.estimator_.decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

