"""_BaseActiveLearner: the body every active learner shares -- parameters, fit, query, teach.

The task-specific learners (:class:`skal.ActiveLearningClassifier` in ``_learner``,
:class:`skal.ActiveLearningRegressor` in ``_regressor``) add their scikit-learn mixin, their
default strategy, their checks of new labels and their ``score``. Each learner's state is one
:class:`skal.Campaign`; its task reaches the campaign through the learner's scikit-learn tags
(``CampaignSpec.task``), never through a learner attribute.
"""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context
from sklearn.exceptions import NotFittedError
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
from skal._labels import (
    CLASSIFICATION,
    MULTILABEL,
    REGRESSION,
    check_y,
    plain_labels,
    refuse_bool_classes,
    unlabeled_mask,
)
from skal._params import StrictParamsMixin, check_count
from skal._persistence import PersistenceMixin
from skal._pool import DEFAULT_POOL_BATCH_SIZE, check_pool_shape, is_frame, take_rows
from skal.campaign import Campaign, CampaignSpec
from skal.io.journal import LabelJournal

__all__ = ["_BaseActiveLearner"]


def _as_objects(values) -> np.ndarray:
    """A list of answers as a 1-D object array (tuples stay whole)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _is_fitted(estimator) -> bool:
    if estimator is None:
        return False
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


class _BaseActiveLearner(
    StrictParamsMixin, PersistenceMixin, DelegationMixin, MetaEstimatorMixin, BaseEstimator,
):
    """The shared body of skal's active learners; not for direct use.

    A subclass sets ``_task`` (``"classification"`` or ``"regression"``: how ``y`` is
    checked and what marks an unlabeled sample), extends ``_parameter_constraints`` and
    implements ``_check_new_labels`` (labels given to :meth:`teach`) and ``_score``.
    See :class:`skal.ActiveLearningClassifier` for the parameters.
    """

    _task = CLASSIFICATION

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
        query_strategy="auto",
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
        self : object
            The fitted learner.
        """
        X = self._check_X(X, reset=True)
        spec = CampaignSpec.from_estimator(self).for_targets(y)  # a 2-D 0/1 y: multi-label
        y = check_y(y, len(X), task=spec.task)
        if spec.task == CLASSIFICATION:
            refuse_bool_classes(y)
        if self.n_queries > 0:
            campaign = Campaign(spec, X, y, journal=self._journal_handle())
            campaign.run(self.n_queries)
        else:
            campaign = Campaign(spec, X, journal=self._journal_handle())
            known = ~unlabeled_mask(y, task=spec.task)
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

    @classmethod
    def from_campaign(cls, campaign: Campaign):
        """A fitted learner that takes over a campaign: its model, labeled set and history.

        Parameters
        ----------
        campaign : Campaign
            A campaign that has fitted a model (after :meth:`Campaign.run` or
            :meth:`Campaign.refit`).

        Returns
        -------
        learner : object
            A learner of this class with the campaign's parameters (:attr:`Campaign.spec`), fitted:
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
        task = cls._task
        if campaign.spec.task != task and (task, campaign.spec.task) != (CLASSIFICATION,
                                                                          MULTILABEL):
            raise ValueError(
                f"the campaign learns {campaign.spec.task}, but {cls.__name__} learns {task}: "
                "adopt it with the learner of its task."
            )
        learner = cls(**campaign.spec.learner_params())
        learner._check_X(campaign.X, reset=True)
        learner._adopt(campaign)
        return learner

    # ------------------------------------------------------------------ querying
    def query(self, X_pool, n_instances: int | None = None, *, return_scores: bool = False):
        """Indices of the pool samples most worth labeling next.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, n_features), iterable of chunks or dask array
            Candidates, always 2-D (one sample ``x`` is ``x.reshape(1, -1)``) with the
            features seen in ``fit`` (images: their shape, or flat rows of their size).
            In a numpy array or DataFrame, rows equal to an answered sample of
            the learner's pool (labeled or skipped: ``fit``'s ``X`` and what was taught)
            are never returned; a memmap, an iterable or a dask array is not read twice to
            find them: give those the unlabeled rows only. Sliceable arrays (numpy,
            ``np.memmap``, h5py) and iterables of chunks are scored ``pool_batch_size`` rows
            at a time; indices count the chunks' rows in order. A list (or tuple) is of
            chunks when its items are DataFrames or have one axis more than a sample of
            ``fit``'s ``X`` (2-D arrays, for rows of features); a list of rows (lists of
            numbers) or of samples is one array. A dask
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
                                  "n_instances", caller=f"{type(self).__name__}.query")
        chunks = isinstance(X_pool, list | tuple) and self._holds_chunks(X_pool)
        if isinstance(X_pool, list | tuple) and not chunks:
            X_pool = np.asarray(X_pool)
        if sparse.issparse(X_pool):
            raise TypeError(
                f"X_pool is a sparse matrix, which {type(self).__name__} does not take (as "
                "in fit): pass X_pool.toarray(), or a chunk iterable of dense blocks."
            )
        if is_frame(X_pool):  # names checked as predict checks them, then chunk by chunk
            validate_data(self, X_pool.iloc[:0], reset=False, skip_check_array=True)
        elif chunks:  # in memory: every chunk's shape now, as below
            for chunk in X_pool:
                if not is_frame(chunk):
                    check_pool_shape(np.shape(chunk), self.n_features_in_)
        elif getattr(X_pool, "shape", None) is not None and tuple(X_pool.shape) != (0,):
            # Before any strategy: one that embeds the pool first (auto, ProbCover) failed
            # in its own scaler, with the feature counts reversed. ([] is "X_pool is empty".)
            check_pool_shape(X_pool.shape, self.n_features_in_)
        return self.campaign_.query(X_pool, n_instances, strategy=self.query_strategy,
                                    return_scores=return_scores)

    def _holds_chunks(self, X_pool) -> bool:
        """Whether a list is of chunks: DataFrames, or arrays with one axis more than a
        sample of fit's ``X`` (2-D blocks of rows of features); else it is of samples."""
        if not len(X_pool):
            return False
        first = X_pool[0]
        return is_frame(first) or np.ndim(first) > len(self.campaign_.X.shape) - 1

    def teach(self, X, y, *, sample_ids=None, scores=None):
        """Add labeled samples to the labeled set and refit.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
            Newly labeled samples.
        y : array-like of shape (n_new,)
            Their labels (no unlabeled marker). A classifier learns a class never seen
            before; a regressor takes numbers.
        sample_ids : array-like of shape (n_new,) or None, default=None
            The samples' ids in the learner's ``journal``: pool indices (ints) or user keys
            (strings). Required when the learner has a journal; then the labels are
            appended to it, durably, before the model is refit, and a sample taught again
            is relabeled. Without ``sample_ids``, a row equal to a sample of the learner's
            pool (compared by content) answers that sample -- an unanswered one first,
            else it relabels it -- and other rows join the pool.
        scores : array-like of shape (n_new,) or None, default=None
            The query strategy's score of each sample (see ``query(...,
            return_scores=True)``), recorded in the journal.

        Returns
        -------
        self : object
            The learner, refit on every label taught so far -- the refit of its campaign, so
            ``semi_supervised`` applies as in ``fit``. If validation or refitting fails,
            the learner is left as it was (labels already written to the journal stay
            there).
        """
        check_is_fitted(self)
        campaign = self.campaign_
        task = campaign.spec.task
        if task == MULTILABEL:  # rows or sets of labels, as the campaign's tuples
            many = isinstance(y, list | tuple | np.ndarray) or hasattr(y, "toarray")
            y = _as_objects(campaign.check_answers(y if many else _as_objects([y])))
        elif not isinstance(y, str):  # the campaign's gate: a label of its kind, or nothing
            campaign.check_answers(np.asarray(y, dtype=object).reshape(-1))
        X = self._check_X(X)
        y = check_y(y, len(X), task=task)
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
        if unlabeled_mask(y, task=task).any():
            raise ValueError(
                "y contains an unlabeled marker ("
                + ("-1, " if task != REGRESSION else "")
                + "None or NaN); teach only labeled samples."
            )
        self._check_new_labels(y)
        if rows is None:  # a sample of the pool is answered in place, a new one joins it
            rows = campaign.pool_rows(X)
            new = np.flatnonzero(rows < 0)
            if len(new):
                rows[new] = campaign.add_samples(take_rows(X, new))
            if len(new) and self.__dict__.get("_pool_ids") is not None:  # a loaded save
                new_ids = self._n_pool + np.arange(len(new))
                self._pool_ids = np.concatenate([self._pool_ids, new_ids])
                self._n_pool += len(new)
        campaign.teach(rows, plain_labels(y), reason=campaign.strategy_name, scores=scores)
        return self

    def _check_new_labels(self, y) -> None:
        """Raise for labels :meth:`teach` must not take (beyond the campaign's gate)."""

    def _score(self, y_true, y_pred, sample_weight) -> float:
        raise NotImplementedError

    def score(self, X, y, sample_weight=None) -> float:
        """The learner's score on the labeled rows of ``(X, y)``; markers are left out.

        A partly unlabeled ``y`` is scored on its labeled rows only, so ``cross_val_score``
        with the default scoring never counts a marker; for other scorers use
        :class:`skal.model_selection.LabeledTestSplit`.

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
            Accuracy (a classifier) or R² (a regressor) of ``predict`` on the labeled rows.
        """
        task = self.campaign_.spec.task if "campaign_" in self.__dict__ else self._task
        y = check_y(y, _num_samples(X), task=task)
        keep = np.flatnonzero(~unlabeled_mask(y, task=task))
        if not len(keep):
            raise ValueError("y has no labeled rows to score: every sample is marked unlabeled.")
        weights = None if sample_weight is None else np.asarray(sample_weight)[keep]
        predicted = self.predict(_safe_indexing(X, keep))
        return float(self._score(plain_labels(y[keep]), predicted, weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
