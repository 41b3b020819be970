"""ActiveLearningClassifier: an active learner that is a scikit-learn meta-estimator."""

from __future__ import annotations

import copy
import os
import time
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skal._answers import check_sample_ids
from skal._delegation import DelegationMixin
from skal._labels import check_label_kind, check_y, classes_of, plain_labels, unlabeled_mask
from skal._params import StrictParamsMixin
from skal._persistence import PersistenceMixin
from skal._pool import (
    DEFAULT_POOL_BATCH_SIZE,
    check_pool_chunk,
    concat_rows,
    is_frame,
    take_rows,
)
from skal._refit import base_estimator, fit_estimator
from skal._sampling import round_seed
from skal.campaign import Campaign
from skal.io.journal import LabelJournal, row_digests
from skal.strategies import QueryContext, resolve_strategy, select_batch, strategy_name

__all__ = ["ActiveLearningClassifier"]

class ActiveLearningClassifier(
    StrictParamsMixin, PersistenceMixin, DelegationMixin, ClassifierMixin, MetaEstimatorMixin,
    BaseEstimator,
):
    """Pool-based active learning around any classifier with ``predict_proba``.

    The learner keeps a labeled set and a fitted model. :meth:`query` asks which pool
    samples are most worth labeling, :meth:`teach` adds labels and refits. :meth:`fit` with
    ``n_queries > 0`` runs a whole simulated campaign in which ``y`` plays the oracle, so
    ``cross_val_score`` and ``GridSearchCV`` measure model quality at a labeling budget.

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
        Rounds of the simulated campaign run by :meth:`fit`. ``0`` fits on the labeled
        samples of ``y`` (``-1`` marks unlabeled ones) without querying.
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
    oracle : callable, object with ``label`` or None, default=None
        Who labels the samples :meth:`fit` queries when their ``y`` is ``-1``: a callable
        ``oracle(X_batch, indices) -> labels`` or an object with a ``label(X_batch,
        indices)`` method (see :mod:`skal.oracles`), returning ``-1``/None for a skipped
        sample (not trained on, not asked again); it may raise
        :class:`skal.oracles.StopLabeling` to end the campaign early. With an oracle and
        ``n_queries > 0``, every label ``y`` already holds is used from the first model on;
        when they are fewer than ``initial_size``, the oracle labels random samples (more,
        until two classes are seen). ``None``: ``y`` must be complete for a campaign.
    journal : str, path-like, LabelJournal or None, default=None
        A label journal (:class:`skal.LabelJournal`, SQLite) that records, durably, every
        label the learner is given -- in :meth:`fit`'s campaign (as it is answered) and in
        :meth:`teach` (before refitting) -- with the sample id, label, time, round,
        strategy and score; skipped samples are recorded with label ``-1``. It is tied to
        the pool ``X`` given to :meth:`fit` (a journal of another pool is refused), and
        labels it already holds count as known: they take precedence over ``y``, are all
        trained on, and are not asked again, so re-running ``fit`` resumes a campaign.
        See also :meth:`from_journal`.

    max_labels : int or None, default=None
        A labeling budget: a campaign stops once this many samples are answered (labels
        and skips, counting those already in the ``journal``), whatever ``n_queries`` says;
        its last batch is cut to fit. A resumed campaign never goes past it, and a grid
        search over ``n_instances`` with a fixed ``max_labels`` (and a large ``n_queries``)
        compares strategies at one budget. ``None``: no budget beyond ``n_queries``.

    semi_supervised : None, "pseudo_labels", "label_spreading", "consistency" or an object, \
            default=None
        Train on the unlabeled pool too: each refit of a campaign trains on the labeled
        samples plus pseudo-labeled pool samples, class-balanced and capped, chosen afresh
        every round and never recorded as answers. ``"label_spreading"``
        (:class:`skal.semi_supervised.LabelSpreadingPseudoLabels`): labels spread over a
        neighbour graph of the pool's raw features, up to 3 per label (its
        ``embedding="model"``: of the previous round's model embedding). ``"pseudo_labels"``
        (:class:`skal.PseudoLabels`, CEAL): the previous round's model's confident
        predictions, up to 1 per label. ``"consistency"``
        (:class:`skal.semi_supervised.ConsistencyTraining`, FixMatch; skal's Keras wrappers
        only): the network trains on the unlabeled pool itself, to give a sample and its
        perturbed copies its own confident class. The same for every query strategy. Applies to
        campaigns (``fit`` with ``n_queries > 0``, :class:`skal.Campaign`); :meth:`teach`
        trains on real labels only. ``None``: real labels only.
    store_round_estimators : bool, default=False
        Keep the model of every round of ``fit``'s campaign in ``round_estimators_``, so
        that a learning-curve scorer (:func:`skal.metrics.make_curve_scorer`) can score the
        campaign on data given later. Costs one model's memory per round (the default CNN:
        0.2 MB of weights, but 14.6 MB of process memory with TensorFlow's per-model
        state) and some time (a network is not reused across rounds: a digits search took
        1.31x as long).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted classifier, trained on exactly the labeled set.
    classes_ : ndarray of shape (n_classes,)
        Classes known to the fitted classifier.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    X_labeled_ : ndarray of shape (n_labeled, n_features)
        The labeled samples, in the order they were labeled.
    y_labeled_ : ndarray of shape (n_labeled,)
        Their labels.
    n_labeled_ : int
        Size of the labeled set.
    labeled_indices_ : ndarray of shape (n_labeled_in_fit,)
        Indices into the ``X`` given to :meth:`fit` of the samples labeled there, in order.
    labeled_round_ : ndarray of shape (n_samples,)
        Round in which each sample of ``fit``'s ``X`` was labeled: 0 for the initial set,
        ``-1`` for never.
    queried_indices_ : list of ndarray
        The batch queried in each round of :meth:`fit`, indices into its ``X``.
    history_ : list of dict
        One entry per round (``fit``'s rounds, then one per :meth:`teach`): ``round``,
        ``n_labeled``, ``n_pseudo_labeled``, ``query_time`` and ``fit_time`` in seconds.
    round_estimators_ : list of estimator
        The model fitted in each round of ``fit``'s campaign (one per history row of it);
        only with ``store_round_estimators=True``, else empty.

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
        "oracle": [callable, HasMethods(["label"]), None],
        "journal": [str, os.PathLike, LabelJournal, None],
        "max_labels": [Interval(Integral, 1, None, closed="left"), None],
        "semi_supervised": [
            StrOptions({"pseudo_labels", "label_spreading", "consistency"}),
            HasMethods(["select"]), HasMethods(["fit_params"]), None
        ],
        "store_round_estimators": ["boolean"],
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
        oracle=None,
        journal=None,
        max_labels: int | None = None,
        semi_supervised=None,
        store_round_estimators: bool = False,
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
        self.oracle = oracle
        self.journal = journal
        self.max_labels = max_labels
        self.semi_supervised = semi_supervised
        self.store_round_estimators = store_round_estimators

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit on the labeled samples, or run a labeling campaign.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples. Arrays with more dimensions (images) pass through to the estimator.
        y : array-like of shape (n_samples,)
            Labels. With ``n_queries == 0``, ``-1`` marks unlabeled samples, which are not
            trained on. With ``n_queries > 0``, ``y`` is the oracle and must be complete,
            unless an ``oracle`` is given: it labels the samples whose ``y`` is ``-1``.

        Returns
        -------
        self : ActiveLearningClassifier
            The fitted learner.
        """
        X = self._check_X(X, reset=True)
        y = check_y(y, len(X))
        if self.n_queries > 0:
            campaign = Campaign(self, X, y, journal=self._journal_handle())
            campaign.run(self.n_queries)
        else:
            campaign = Campaign(self, X, journal=self._journal_handle())
            known = np.flatnonzero(~unlabeled_mask(y) & ~campaign.answers.asked_mask())
            campaign.answer(known, y[known])
            campaign.refit()
        self._set_fitted(campaign)
        return self

    def _set_fitted(self, campaign: Campaign) -> None:
        """Take over a campaign's model and labeled set as this learner's fitted state."""
        labeled = campaign.labeled_indices_
        self._seed = campaign.seed_
        if campaign.journal_ is not None:  # lets teach check sample_ids against the pool
            self._journal_pool = {
                "digests": row_digests(campaign.X), "dtype": campaign.X.dtype,
                "keys": campaign.answers.keys,
            }
        if campaign.journal_ is not None and not isinstance(self.journal, LabelJournal):
            self._journal = campaign.journal_
        self.estimator_ = campaign.estimator_
        self.labeled_indices_ = labeled
        self.labeled_round_ = campaign.labeled_round_
        self.queried_indices_ = list(campaign.queried_indices_)
        self.history_ = [dict(row) for row in campaign.history_]
        self.round_estimators_ = list(campaign.round_estimators_)
        self.X_labeled_ = take_rows(campaign.X, labeled)
        self.y_labeled_ = campaign.labels_
        self.n_labeled_ = len(labeled)
        self.classes_ = classes_of(self.estimator_, self.y_labeled_)

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> ActiveLearningClassifier:
        """A fitted learner with a campaign's model and labeled set.

        Parameters
        ----------
        campaign : Campaign
            A campaign that has fitted a model (after :meth:`Campaign.run` or
            :meth:`Campaign.refit`).

        Returns
        -------
        learner : ActiveLearningClassifier
            A clone of the campaign's learner, fitted: ``estimator_`` is the campaign's
            newest model, ``labeled_indices_`` its answered samples.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skal import ActiveLearningClassifier, Campaign
        >>> X, y = load_digits(return_X_y=True)
        >>> campaign = Campaign(ActiveLearningClassifier(
        ...     LogisticRegression(max_iter=500), initial_size=20, random_state=0), X, y).run(2)
        >>> ActiveLearningClassifier.from_campaign(campaign).n_labeled_
        40
        """
        if not isinstance(campaign, Campaign):
            raise TypeError(f"campaign must be a skal.Campaign, got {type(campaign).__name__}.")
        if campaign.estimator_ is None:
            raise ValueError("the campaign has no fitted model yet: run or refit it first.")
        learner = clone(campaign.learner)
        learner._check_X(campaign.X, reset=True)
        learner._set_fitted(campaign)
        return learner

    # ------------------------------------------------------------------ querying
    def query(self, X_pool, n_instances: int | None = None, *, return_scores: bool = False):
        """Indices of the pool samples most worth labeling next.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, n_features), iterable of chunks or dask array
            Unlabeled candidates. Sliceable arrays (numpy, ``np.memmap``, h5py) and
            iterables of chunks are scored ``pool_batch_size`` rows at a time. A dask
            array is scored block by block where its blocks live (the fitted model is
            shipped once to each worker) and gives the same indices for score-based
            strategies; other strategies compute it into memory, with a warning.
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
        if is_frame(X_pool):  # names checked as predict checks them, then chunk by chunk
            validate_data(self, X_pool.iloc[:0], reset=False, skip_check_array=True)
        names = getattr(self, "feature_names_in_", None)
        context = QueryContext(
            random_state=round_seed(self._seed, len(self.history_)),
            X_labeled=self.X_labeled_, y_labeled=self.y_labeled_,
            pool_batch_size=self.pool_batch_size,
            check_chunk=lambda chunk: check_pool_chunk(chunk, self.n_features_in_, names),
        )
        idx, scores = select_batch(
            resolve_strategy(self.query_strategy), self.estimator_, X_pool, int(n_instances),
            context, name=self.query_strategy,
        )
        return (idx, scores) if return_scores else idx

    def teach(self, X, y, *, sample_ids=None, scores=None):
        """Add labeled samples to the labeled set and refit.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
            Newly labeled samples.
        y : array-like of shape (n_new,)
            Their labels (no ``-1``). A class never seen before is learnt.
        sample_ids : array-like of shape (n_new,) or None, default=None
            The samples' ids in the learner's ``journal``: pool indices (ints) or user keys
            (strings). Required when the learner has a journal; then the labels are
            appended to it, durably, before the model is refit.
        scores : array-like of shape (n_new,) or None, default=None
            The query strategy's score of each sample (see ``query(...,
            return_scores=True)``), recorded in the journal.

        Returns
        -------
        self : ActiveLearningClassifier
            The learner, refit on every label taught so far. If validation or refitting
            fails, the learner is left as it was (labels already written to the journal
            stay there).
        """
        check_is_fitted(self)
        X = self._check_X(X)
        y = check_y(y, len(X))
        ids = check_sample_ids(sample_ids, X, getattr(self, "_journal_pool", None))
        if scores is not None:
            scores = np.asarray(scores, dtype=float).reshape(-1)
            if len(scores) != len(y):
                raise ValueError(f"scores has {len(scores)} entries but y has {len(y)} labels.")
        journal = self._journal_handle()
        if journal is not None and ids is None:
            raise ValueError(
                "teach needs sample_ids when the learner has a journal: the journal records "
                "each label under its sample's id (pool index or key)."
            )
        if len(y) == 0:
            return self
        if unlabeled_mask(y).any():
            raise ValueError(
                "y contains an unlabeled marker (-1, None or NaN); teach only labeled samples."
            )
        check_label_kind(y, self.classes_)
        y = plain_labels(y)
        if journal is not None:  # durable before refitting: a crash in fit loses no label
            journal.append(
                ids, y.tolist(), round=journal.n_rounds,
                strategy=strategy_name(self.query_strategy),
                scores=None if scores is None else scores.tolist(),
            )
        start = time.perf_counter()
        X_all = concat_rows(self.X_labeled_, X)
        y_all = np.concatenate([self.y_labeled_, y])
        previous = self.estimator_
        if self.warm_start and any(m is previous for m in self.round_estimators_):
            previous = copy.deepcopy(previous)  # a kept round model stays that round's
        estimator = fit_estimator(
            base_estimator(self.estimator), X_all, y_all, previous, warm_start=self.warm_start
        )
        self.estimator_ = estimator
        self.X_labeled_, self.y_labeled_ = X_all, y_all
        self.n_labeled_ = len(y_all)
        self.classes_ = classes_of(estimator, y_all)
        self.history_.append(
            {"round": len(self.history_), "n_labeled": self.n_labeled_, "n_pseudo_labeled": 0,
             "query_time": 0.0, "fit_time": time.perf_counter() - start}
        )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

