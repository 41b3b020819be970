"""ActiveLearningClassifier: an active learner that is a scikit-learn meta-estimator."""

from __future__ import annotations

import os
import time
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from skal._campaign import run_campaign
from skal._labelling import (
    UNLABELED,
    merge_journal,
    plain_labels,
    start_campaign,
    unlabeled_mask,
)
from skal._pool import (
    DEFAULT_POOL_BATCH_SIZE,
    check_pool_chunk,
    is_dask_collection,
    pool_length,
)
from skal.io.journal import LabelJournal, pool_fingerprint
from skal.strategies._base import QueryStrategy, ScoreStrategy
from skal.strategies._features import has_method, last_step
from skal.strategies._registry import get_strategy

__all__ = ["ActiveLearningClassifier"]

def _estimator_has(attr: str):
    """Check the fitted estimator if there is one, else the unfitted one."""

    def check(self) -> bool:
        if hasattr(self, "estimator_"):
            getattr(self.estimator_, attr)
        elif self.estimator is not None:
            getattr(self.estimator, attr)
        return True  # the default CNN has predict_proba

    return check


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
    oracle : callable, object with ``label`` or None, default=None
        Who labels the samples :meth:`fit` queries when their ``y`` is ``-1``: a callable
        ``oracle(X_batch, indices) -> labels`` or an object with a ``label(X_batch,
        indices)`` method (see :mod:`skal.oracles`), returning ``-1``/None for a skipped
        sample (not trained on, not asked again); it may raise
        :class:`skal.oracles.StopLabelling` to end the campaign early. With an oracle and
        ``n_queries > 0``, samples whose ``y`` is known are revealed from ``y``; the initial
        set is drawn among them when there are enough, else the oracle labels random samples
        (more, until two classes are seen). ``None``: ``y`` must be complete for a campaign.
    journal : str, path-like, LabelJournal or None, default=None
        A label journal (:class:`skal.LabelJournal`, SQLite) that records, durably, every
        label the learner is given -- in :meth:`fit`'s campaign (as it is answered) and in
        :meth:`teach` (before refitting) -- with the sample id, label, time, round,
        strategy and score; skipped samples are recorded with label ``-1``. It is tied to
        the pool ``X`` given to :meth:`fit` (a journal of another pool is refused), and
        labels it already holds count as known: they take precedence over ``y``, are all
        trained on, and are not asked again, so re-running ``fit`` resumes a campaign.
        See also :meth:`from_journal`.

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
        "oracle": [callable, HasMethods(["label"]), None],
        "journal": [str, os.PathLike, LabelJournal, None],
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

    # ------------------------------------------------------------------ fitting
    def _base_estimator(self):
        if self.estimator is not None:
            return self.estimator
        from skal.keras import CNNClassifier  # lazy: imports TensorFlow

        return CNNClassifier()

    def _fit_estimator(self, X, y, previous=None, *, discard_previous=False):
        """Fit on exactly (X, y): continue ``previous`` when warm-starting, else a clone.

        ``discard_previous=True`` (inside a campaign, where the previous round's estimator is
        dropped) lets a Keras clone reuse the previous network's compiled training step; its
        weights are reset to the clone's own fresh initialisation, so results are unchanged.
        """
        if self.warm_start and previous is not None:
            key = _warm_start_param(previous)
            known = getattr(previous, "classes_", None)
            if key and known is not None and np.isin(np.unique(y), known).all():
                previous.set_params(**{key: True})
                return previous.fit(X, y)
        estimator = clone(self._base_estimator())
        if discard_previous and previous is not None and hasattr(estimator, "_reuse_model_of"):
            estimator._reuse_model_of(previous)
        return estimator.fit(X, y)

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
            trained on. With ``n_queries > 0``, ``y`` is the oracle and must be complete,
            unless an ``oracle`` is given: it labels the samples whose ``y`` is ``-1``.

        Returns
        -------
        self : ActiveLearningClassifier
            The fitted learner.
        """
        return self._fit(X, y)

    def _fit(self, X, y, on_round=None, campaign=None):
        """``fit`` with a hook called after each round; shared with skal.evaluation.

        ``campaign=False`` fits on the labelled samples whatever ``n_queries`` is.
        """
        X, y = validate_data(self, X, y, allow_nd=True, dtype=None, ensure_all_finite=True)
        if X.dtype.kind not in "iufb":
            X = X.astype(np.float64)
        check_classification_targets(y)
        strategy = get_strategy(self.query_strategy)
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        unlabeled = unlabeled_mask(y)
        journal = self._open_journal(X)
        skipped = journal_ids = np.empty(0, dtype=np.intp)
        in_journal = np.zeros(len(y), dtype=bool)
        if journal is not None:
            y, journal_ids, skipped = merge_journal(
                y, journal, self.__dict__.get("_journal_keys")
            )
            in_journal[journal_ids] = True
            unlabeled = unlabeled_mask(y)
        start = time.perf_counter()
        if not (self.n_queries > 0 if campaign is None else campaign):
            # the journal's samples first, in the order they were labelled
            labeled = np.concatenate([journal_ids, np.flatnonzero(~unlabeled & ~in_journal)])
            self._check_two_classes(y[labeled])
            if journal is not None:
                new = labeled[~in_journal[labeled]]
                journal.append(
                    new.tolist(), plain_labels(y[new]).tolist(), round=journal.n_rounds,
                    strategy="given",
                )
            self.estimator_ = self._fit_estimator(X[labeled], plain_labels(y[labeled]))
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
            if self.oracle is None:
                missing = unlabeled.copy()
                missing[skipped] = False
                if missing.any():
                    raise ValueError(
                        "y contains -1 (unlabelled) but n_queries > 0 runs a simulated campaign "
                        "in which y is the oracle: every sample needs its label (or pass an "
                        "oracle= to label them)."
                    )
                self._check_two_classes(y[~unlabeled])
            else:
                y = y.astype(object)  # filled in as the oracle answers
            reveal, initial, n_rounds = start_campaign(
                X, y, unlabeled, journal_ids, skipped, journal, oracle=self.oracle,
                initial_size=self.initial_size, n_instances=self.n_instances,
                n_queries=self.n_queries, seed=self._seed, strategy_name=self._strategy_name(),
            )
            result = run_campaign(
                n_samples=len(X),
                initial=initial,
                n_queries=n_rounds,
                n_instances=self.n_instances,
                reveal=reveal,
                reveal_context=True,
                skipped=skipped,
                fit=lambda idx, labels, prev: self._fit_estimator(
                    X[idx], labels, prev, discard_previous=True
                ),
                query=lambda est, cand, labeled, n, r: self._select(
                    strategy, est, X[cand], n, r, X_labeled=X[labeled], y_labeled=y[labeled],
                    return_scores=True,
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
        self.y_labeled_ = plain_labels(y[labeled])
        self.n_labeled_ = len(labeled)
        self.classes_ = self._classes_of(self.estimator_, self.y_labeled_)
        return self

    @staticmethod
    def _check_two_classes(y) -> None:
        if len(np.unique(y)) < 2:
            what = "only one class among its labelled samples" if len(y) else "no labels"
            raise ValueError(f"y has {what}; a classifier needs at least two classes.")

    @staticmethod
    def _classes_of(estimator, y) -> np.ndarray:
        classes = getattr(estimator, "classes_", None)
        return np.asarray(classes) if classes is not None else np.unique(y)

    # ------------------------------------------------------------------ oracle and journal
    def _strategy_name(self) -> str:
        qs = self.query_strategy
        if isinstance(qs, str):
            return qs
        name = getattr(qs, "name", None) or getattr(qs, "__name__", None)
        return name if isinstance(name, str) else type(qs).__name__

    def _journal_handle(self, fingerprint: str | None = None) -> LabelJournal | None:
        """The open journal (opened from a path once), checked against ``fingerprint``."""
        journal = self.journal
        if journal is None:
            return None
        if not isinstance(journal, LabelJournal):
            cached = self.__dict__.get("_journal")
            if cached is None or cached.closed or cached.path != os.fspath(journal):
                self._journal = LabelJournal(journal, pool_fingerprint=fingerprint)
                return self._journal  # the constructor checked the fingerprint
            journal = cached
        if fingerprint is not None:
            stored = journal.fingerprint
            if stored is None:  # record the pool, through a second short-lived connection
                LabelJournal(journal.path, pool_fingerprint=fingerprint).close()
            elif stored != fingerprint:
                raise ValueError(
                    f"label journal {journal.path!r} belongs to another pool: it was recorded "
                    f"on pool {stored!r}, but this pool's fingerprint is {fingerprint!r}."
                )
        return journal

    def _open_journal(self, X) -> LabelJournal | None:
        if self.journal is None:
            return None
        self._pool_fingerprint = pool_fingerprint(X)
        return self._journal_handle(self._pool_fingerprint)

    @classmethod
    def from_journal(
        cls, journal, X_pool, /, *, keys=None, **params
    ) -> ActiveLearningClassifier:
        """Rebuild a learner from a label journal and the pool it was recorded on.

        The learner is fitted on exactly the journal's labelled samples (the last label of
        each; skipped samples are left out), so it has the same labelled set and classes as
        the learner or labelling session that wrote the journal. It keeps the journal, so
        labels taught next are recorded in it too.

        Parameters
        ----------
        journal : str, path-like or LabelJournal
            The journal.
        X_pool : array-like of shape (n_samples, n_features)
            The pool the journal's sample ids refer to. Its fingerprint must match the one
            stored in the journal.
        keys : array-like of shape (n_samples,) or None, default=None
            The user key of each pool sample, for journals whose sample ids are keys
            (strings) rather than pool indices.
        **params
            Parameters of the learner (``estimator``, ``query_strategy``, ...). Its
            ``journal`` is the given journal unless ``journal=`` says otherwise (``None``:
            record nothing from now on).

        Returns
        -------
        learner : ActiveLearningClassifier
            Fitted; ``labeled_indices_`` are the journal's samples as pool rows, in
            first-labelled order, and ``labeled_round_`` their recorded rounds.

        Raises
        ------
        ValueError
            If the journal was recorded on another pool (fingerprint mismatch), holds ids
            that are not rows of ``X_pool``, or labels fewer than two classes.
        """
        if journal is None:
            raise ValueError("journal must be a path or a LabelJournal, got None.")
        keep = params.pop("journal", journal)
        learner = cls(**params, journal=journal)
        learner._validate_params()
        X = np.asarray(X_pool) if isinstance(X_pool, list) else X_pool
        if keys is not None:
            keys = list(np.asarray(keys).tolist())
            if len(keys) != len(X):
                raise ValueError(f"keys has {len(keys)} entries but X_pool has {len(X)} rows.")
            learner._journal_keys = keys
        learner._fit(X, np.full(len(X), UNLABELED), campaign=False)
        rows = None if keys is None else {k: i for i, k in enumerate(keys)}
        rounds = {}  # the round of each sample's current label
        for rec in learner._journal_handle().records():
            sid = rec["sample_id"]
            rounds[rows[sid] if isinstance(sid, str) else sid] = rec["round"] or 0
        labeled_round = np.full(len(X), -1, dtype=np.intp)
        labeled = learner.labeled_indices_
        labeled_round[labeled] = [rounds[i] for i in labeled.tolist()]
        learner.labeled_round_ = labeled_round
        if keep is not journal:
            learner.journal = keep
        return learner

    def save(self, path) -> os.PathLike:
        """Save the fitted learner to one file, without pickle; see :func:`skal.load`.

        The file (a zip archive) holds ``params.json`` (the learner's parameters and the
        estimator's, as JSON), ``state.npz`` (labelled set, history, seed, classes) and the
        Keras model in Keras' native ``.keras`` format. It is written to a temporary file in
        the same folder, flushed to disk, then renamed over ``path``: a crash during
        ``save`` leaves any previous save at ``path`` intact.

        Parameters
        ----------
        path : str or path-like
            The file to write (``.skal`` is a good suffix).

        Returns
        -------
        path : pathlib.Path
            The file written.

        Raises
        ------
        TypeError
            If the estimator is not a :class:`skal.KerasClassifier` (e.g.
            :class:`skal.CNNClassifier`), or ``query_strategy`` is not a registered name:
            only those can be described without pickle.
        """
        from skal.io.persist import save_learner

        return save_learner(self, path)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_journal", None)  # an open SQLite connection; reopened from the path
        return state

    # ------------------------------------------------------------------ querying
    def _select(
        self, strategy, estimator, X_pool, n_instances, round_, *, X_labeled, y_labeled=None,
        return_scores=False,
    ):
        if y_labeled is None and X_labeled is getattr(self, "X_labeled_", None):
            y_labeled = self.y_labeled_  # query(): the fitted labelled set
        for method in getattr(strategy, "requires", ()):
            # a Pipeline lacks its last step's extra methods (embed, ...): ask that step
            if not has_method(estimator, method):
                raise TypeError(
                    f"query_strategy={self.query_strategy!r} needs the estimator's "
                    f"{method}(), which {type(last_step(estimator)).__name__} does not have."
                )
        seed = self._round_seed(round_)
        if is_dask_collection(X_pool) and not isinstance(strategy, ScoreStrategy):
            from skal._dask import materialize_pool  # needs the whole pool: warns first

            X_pool = materialize_pool(X_pool, self.query_strategy)
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
                y_labeled=y_labeled,
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
        X_pool : array-like of shape (n_pool, n_features), iterable of chunks or dask array
            Unlabelled candidates. Sliceable arrays (numpy, ``np.memmap``, h5py) and
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
        return self._select(
            get_strategy(self.query_strategy),
            self.estimator_,
            X_pool,
            int(n_instances),
            len(self.history_),
            X_labeled=self.X_labeled_,
            return_scores=return_scores,
        )

    def teach(self, X, y, *, sample_ids=None, scores=None):
        """Add labelled samples to the labelled set and refit.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
            Newly labelled samples.
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
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=None, ensure_all_finite=True)
        if X.dtype.kind not in "iufb":
            X = X.astype(np.float64)
        y = column_or_1d(y, warn=True)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels.")
        ids = self._check_sample_ids(sample_ids, len(y))
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
            raise ValueError("y contains -1 (unlabelled); teach only labelled samples.")
        check_classification_targets(y)
        if journal is not None:  # durable before refitting: a crash in fit loses no label
            journal.append(
                ids, y.tolist(), round=journal.n_rounds, strategy=self._strategy_name(),
                scores=None if scores is None else scores.tolist(),
            )
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

    @staticmethod
    def _check_sample_ids(sample_ids, n: int) -> list | None:
        if sample_ids is None:
            return None
        ids = np.asarray(sample_ids)
        if ids.ndim != 1 or len(ids) != n:
            raise ValueError(
                f"sample_ids must give one id per sample: got shape {ids.shape} for {n} "
                "samples."
            )
        if len(ids) and ids.dtype.kind not in "iuU":
            raise TypeError(
                f"sample_ids must be ints (pool indices) or strings (keys), got {ids.dtype}."
            )
        return ids.tolist()

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

