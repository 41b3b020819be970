"""ActiveLearningClassifier: an active learner that is a scikit-learn meta-estimator."""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from skal._delegation import DelegationMixin
from skal._labels import check_label_kind, check_y, classes_of, plain_labels, unlabeled_mask
from skal._params import StrictParamsMixin, check_count
from skal._persistence import PersistenceMixin
from skal._pool import DEFAULT_POOL_BATCH_SIZE, is_frame, take_rows
from skal.campaign import Campaign
from skal.io.journal import LabelJournal

__all__ = ["ActiveLearningClassifier"]

def _is_fitted(estimator) -> bool:
    if estimator is None:
        return False
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


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
        Labels asked for before the first round of a campaign: a count, or a fraction of
        the samples in (0, 1). Drawn as ``initial_selection`` says; if they hold a single
        class, random samples are asked (``n_instances`` at a time) until a second one.
    initial_selection : {"random", "stratified"}, default="random"
        How the initial set is drawn. ``"random"``: uniformly among the samples nobody
        answered, looking at no label -- what a person starting a campaign can do.
        ``"stratified"``: at least one sample per class of ``y`` where possible, which
        peeks at the labels of a simulation before they are asked for; it exists only to
        reproduce papers whose protocol gives every class a free label (skal's benchmark
        tables before December 2026 used it). With an oracle, the samples ``y`` does not
        know are drawn at random either way.
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

    semi_supervised : None, False, "pseudo_labels", "label_spreading", "consistency" or \
            an object with ``augment``, default=None
        Train on the unlabeled pool too (``None`` or ``False``: labels only). An object with
        ``augment`` (a :class:`skal.semi_supervised.PoolTraining`, or any object with its
        protocol) chooses the pool rows and fit parameters itself. The built-in kinds: each
        refit of a campaign trains on the labeled
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
        every refit of the learner's campaign (:meth:`fit`, :meth:`teach`,
        :class:`skal.Campaign`); the pool is ``fit``'s ``X`` less its answered samples.
        ``None``: real labels only.
    store_round_estimators : bool, default=False
        Keep the model of every round of ``fit``'s campaign in ``round_estimators_``, so
        that a learning-curve scorer (:func:`skal.metrics.make_curve_scorer`) can score the
        campaign on data given later. Costs one model's memory per round (the default CNN:
        0.2 MB of weights, but 14.6 MB of process memory with TensorFlow's per-model
        state) and some time (a network is not reused across rounds: a digits search took
        1.31x as long).
    stopping : None, a criterion or a list of criteria, default=None
        When to stop labeling before the budget (see :mod:`skal.stopping`, e.g.
        ``skal.stopping.StabilizingPredictions()``): after each fit of a campaign every
        criterion's progress is recorded in ``history_`` (``"stopping"``), and the first
        that says stop ends the campaign with its reason as ``campaign_.stop_reason_``.
        Each campaign checks its own copies. Not stored by :meth:`save` (pass it to
        :func:`skal.load` again). ``None``: stop at ``n_queries`` or ``max_labels`` only.

    Attributes
    ----------
    campaign_ : Campaign
        The learner's one state: its pool (``fit``'s ``X``, then the samples taught), the
        labeled set, the model and the history. :meth:`query` and :meth:`teach` are calls
        on it, and the fitted attributes below are read from it.
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
    labeled_indices_ : ndarray of shape (n_labeled,)
        Pool indices of the labeled samples, in order: rows of the ``X`` given to
        :meth:`fit`, then of the samples :meth:`teach` added (numbered on after it). After
        :func:`skal.load` the pool is the labeled set (the rest of it is not saved).
    labeled_round_ : ndarray of shape (n_pool,)
        Round in which each pool sample was labeled: 0 for the initial set, ``-1`` for
        never.
    queried_indices_ : list of ndarray
        The batch queried in each round of :meth:`fit`, indices into its ``X``.
    history_ : list of dict
        One entry per fit (``fit``'s rounds, then one per :meth:`teach`): ``round``,
        ``n_labeled``, ``n_pseudo_labeled``, ``query_time`` and ``fit_time`` in seconds.
    round_estimators_ : list of estimator
        The model of every fit, one per ``history_`` row (``fit``'s rounds, then each
        :meth:`teach`); only with ``store_round_estimators=True``, else empty.

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
        "initial_selection": [StrOptions({"random", "stratified"})],
        "warm_start": ["boolean"],
        "pool_batch_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "oracle": [callable, HasMethods(["label"]), None],
        "journal": [str, os.PathLike, LabelJournal, None],
        "max_labels": [Interval(Integral, 1, None, closed="left"), None],
        "semi_supervised": [
            StrOptions({"pseudo_labels", "label_spreading", "consistency"}),
            HasMethods(["augment"]), Options(bool, {False}), None,
        ],
        "store_round_estimators": ["boolean"],
        "stopping": [HasMethods(["check"]), list, None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        query_strategy="entropy",
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
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.n_instances = n_instances
        self.n_queries = n_queries
        self.initial_size = initial_size
        self.initial_selection = initial_selection
        self.warm_start = warm_start
        self.pool_batch_size = pool_batch_size
        self.verbose = verbose
        self.random_state = random_state
        self.oracle = oracle
        self.journal = journal
        self.max_labels = max_labels
        self.semi_supervised = semi_supervised
        self.store_round_estimators = store_round_estimators
        self.stopping = stopping

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
            trained on (but are the pool of ``semi_supervised`` training). A ``y`` with no
            label at all and an ``estimator`` that is already fitted (e.g.
            ``sklearn.frozen.FrozenEstimator(model)``): that model is the learner's first,
            taken as it is (:meth:`Campaign.start_from`), so :meth:`query` works at once and
            :meth:`teach` trains from it (from its weights with ``warm_start=True``). With
            ``n_queries > 0``, ``y`` is the oracle and must be complete, unless an
            ``oracle`` is given: it labels the samples whose ``y`` is ``-1``.

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
            known = ~unlabeled_mask(y)
            known[campaign.labeled_indices_] = known[campaign.skipped_indices_] = False
            campaign.answer(np.flatnonzero(known), y[known])
            if not len(campaign.labeled_indices_) and _is_fitted(self.estimator):
                campaign.start_from(self.estimator)  # a trained model: query without a fit
            else:
                campaign.refit()
        self._adopt(campaign)
        return self

    def _adopt(self, campaign: Campaign, pool_ids=None, n_pool: int | None = None) -> None:
        """Make ``campaign`` this learner's state: its model, labeled set and history.

        ``pool_ids`` (a loaded save's) are the indices its pool rows had in the pool of
        ``n_pool`` samples they were saved from; None: the rows are the pool's indices.
        """
        if campaign.journal_ is not None and not isinstance(self.journal, LabelJournal):
            self._journal = campaign.journal_
        self.campaign_ = campaign
        self._pool_ids = None if pool_ids is None else np.asarray(pool_ids, dtype=np.intp)
        self._n_pool = n_pool

    def _ids(self, rows: np.ndarray) -> np.ndarray:
        ids = self.__dict__.get("_pool_ids")
        return rows if ids is None else ids[rows]

    # Fitted attributes: read from the one campaign, never copied.
    estimator_ = property(lambda self: self.campaign_.estimator_,
                          doc="The newest fitted model.")
    labeled_indices_ = property(lambda self: self._ids(self.campaign_.labeled_indices_),
                                doc="Pool indices of the labeled samples, in order.")
    queried_indices_ = property(
        lambda self: [self._ids(q) for q in self.campaign_.queried_indices_],
        doc="The batch queried in each round of fit's campaign.")

    @property
    def labeled_round_(self) -> np.ndarray:
        """Round each pool sample was labeled in (-1: never)."""
        rounds = self.campaign_.labeled_round_
        if self.__dict__.get("_pool_ids") is None:
            return rounds
        out = np.full(self._n_pool, -1, dtype=np.intp)
        out[self._pool_ids] = rounds
        return out

    history_ = property(lambda self: self.campaign_.history_, doc="One row per fit.")
    round_estimators_ = property(lambda self: self.campaign_.round_estimators_,
                                 doc="The model of every round, if kept.")
    y_labeled_ = property(lambda self: self.campaign_.labels_, doc="The labels, in order.")

    @property
    def X_labeled_(self):
        """The labeled samples, in the order they were labeled."""
        return take_rows(self.campaign_.X, self.campaign_.labeled_indices_)

    @property
    def n_labeled_(self) -> int:
        """Size of the labeled set."""
        return len(self.campaign_.labeled_indices_)

    @property
    def classes_(self) -> np.ndarray:
        """Classes known to the fitted classifier."""
        return classes_of(self.campaign_.estimator_, self.campaign_.labels_)

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> ActiveLearningClassifier:
        """A fitted learner that takes over a campaign: its model, labeled set and history.

        Parameters
        ----------
        campaign : Campaign
            A campaign that has fitted a model (after :meth:`Campaign.run` or
            :meth:`Campaign.refit`).

        Returns
        -------
        learner : ActiveLearningClassifier
            A learner with the campaign's parameters (:attr:`Campaign.spec`), fitted:
            ``campaign_`` is the campaign itself, so :meth:`query` and :meth:`teach` go on
            with it (and its journal).

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
        learner = cls(**campaign.spec.params())
        learner._check_X(campaign.X, reset=True)
        learner._adopt(campaign)
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
        n_instances = check_count(self.n_instances if n_instances is None else n_instances,
                                  "n_instances", caller="ActiveLearningClassifier.query")
        if isinstance(X_pool, list):
            X_pool = np.asarray(X_pool)
        if sparse.issparse(X_pool):
            raise TypeError(
                "X_pool is a sparse matrix, which ActiveLearningClassifier does not take (as "
                "in fit): pass X_pool.toarray(), or a chunk iterable of dense blocks."
            )
        if is_frame(X_pool):  # names checked as predict checks them, then chunk by chunk
            validate_data(self, X_pool.iloc[:0], reset=False, skip_check_array=True)
        return self.campaign_.query(X_pool, n_instances, strategy=self.query_strategy,
                                    return_scores=return_scores)

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
            appended to it, durably, before the model is refit, and a sample taught again
            is relabeled. Without a journal, the samples join the learner's pool.
        scores : array-like of shape (n_new,) or None, default=None
            The query strategy's score of each sample (see ``query(...,
            return_scores=True)``), recorded in the journal.

        Returns
        -------
        self : ActiveLearningClassifier
            The learner, refit on every label taught so far -- the refit of its campaign, so
            ``semi_supervised`` applies as in ``fit``. If validation or refitting fails,
            the learner is left as it was (labels already written to the journal stay
            there).
        """
        check_is_fitted(self)
        campaign = self.campaign_
        if not isinstance(y, str):  # the campaign's gate: a label of its kind, or nothing
            campaign.check_answers(np.asarray(y, dtype=object).reshape(-1))
        X = self._check_X(X)
        y = check_y(y, len(X))
        if scores is not None:
            scores = np.asarray(scores, dtype=float).reshape(-1)
            if len(scores) != len(y):
                raise ValueError(f"scores has {len(scores)} entries but y has {len(y)} labels.")
        if campaign.journal_ is not None and sample_ids is None:
            raise ValueError(
                "teach needs sample_ids when the learner has a journal: the journal records "
                "each label under its sample's id (pool index or key)."
            )
        rows = None
        if sample_ids is not None:
            rows = campaign.rows_of(sample_ids, X)
        if len(y) == 0:
            return self
        if unlabeled_mask(y).any():
            raise ValueError(
                "y contains an unlabeled marker (-1, None or NaN); teach only labeled samples."
            )
        check_label_kind(y, self.classes_)
        if rows is None:
            rows = campaign.add_samples(X)
            if self.__dict__.get("_pool_ids") is not None:  # a loaded save: number on
                new_ids = self._n_pool + np.arange(len(rows))
                self._pool_ids = np.concatenate([self._pool_ids, new_ids])
                self._n_pool += len(rows)
        campaign.teach(rows, plain_labels(y), reason=campaign.strategy_name, scores=scores)
        return self

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on the labeled rows of ``(X, y)``; unlabeled markers are left out.

        A partly unlabeled ``y`` (``-1``, ``None``, NaN, ``pd.NA``) is scored on its labeled
        rows only, so ``cross_val_score`` with the default scoring never counts a marker
        as a class; for other scorers use :class:`skal.model_selection.LabeledTestSplit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            Their labels, unlabeled ones marked.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Weights of the samples.

        Returns
        -------
        score : float
            Mean accuracy of ``predict`` on the labeled rows.
        """
        y = check_y(y, _num_samples(X))
        keep = np.flatnonzero(~unlabeled_mask(y))
        if not len(keep):
            raise ValueError("y has no labeled rows to score: every sample is marked unlabeled.")
        weights = None if sample_weight is None else np.asarray(sample_weight)[keep]
        predicted = self.predict(_safe_indexing(X, keep))
        return float(accuracy_score(plain_labels(y[keep]), predicted, sample_weight=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

