"""The active-learning loop as one object: score the pool, hand out a batch, take answers, refit.

:class:`Campaign` is what ``fit`` (``n_queries > 0``), ``skal.evaluation``, ``skal demo``
and ``skal label`` all run, in one of two ways that share one state:

* :meth:`Campaign.run` -- the whole loop, with ``y`` (a simulation) or an oracle answering;
* step by step, for interactive front ends -- :meth:`~Campaign.next_batch`,
  :meth:`~Campaign.answer`, :meth:`~Campaign.undo` and :meth:`~Campaign.refit`, which may run
  in a background thread while answers keep arriving.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted, check_random_state

from skal._answers import Answers, Handout, as_pairs, check_sample_ids, open_journal
from skal._asking import ask, ask_initial, check_answerable
from skal._label_sets import check_two_label_sets, label_counts
from skal._labels import (
    MULTILABEL,
    REGRESSION,
    check_two_classes,
    check_y,
    plain_labels,
    unlabeled_mask,
)
from skal._params import check_count
from skal._pool import (
    append_rows,
    check_pool,
    check_pool_chunk,
    is_frame,
    n_features_of,
    take_rows,
)
from skal._refit import PSEUDO_SALT, base_estimator, fit_estimator, training_set
from skal._sampling import EXTRA_SALT, n_initial, round_seed
from skal._spec import CampaignSpec
from skal.exceptions import StopLabeling
from skal.io.journal import row_digests
from skal.semi_supervised import resolve_semi_supervised
from skal.stopping import resolve_stopping
from skal.strategies import (
    QueryContext,
    check_strategy_task,
    resolve_strategy,
    select_batch,
    strategy_name,
)

__all__ = ["Campaign", "CampaignSpec"]

STOP_SALT = 0xA14  # of the stopping criteria's stop set


class Campaign:
    """One active-learning campaign of a learner over a pool of samples.

    Parameters
    ----------
    learner : ActiveLearningClassifier, ActiveLearningRegressor, CampaignSpec or model
        What to train (``estimator``, ``warm_start``, ``semi_supervised``), how to choose
        (``query_strategy``, ``n_instances``, ``pool_batch_size``, ``random_state``), how
        to start (``initial_size``) and when to stop (``n_queries``, ``max_labels``): a
        learner's parameters, read once into :attr:`spec` (a :class:`CampaignSpec`). The
        learner itself is not changed or kept; see
        :meth:`ActiveLearningClassifier.from_campaign` for a fitted learner. A model that
        is not a learner (e.g. ``LogisticRegression()``) is trained with the learner's
        defaults: ``Campaign(model, X)`` is ``Campaign(ActiveLearningClassifier(model), X)``
        (``ActiveLearningRegressor`` for a regressor).
    X : array-like of shape (n_samples, n_features) or (n_samples, ...)
        The pool. Its row indices are the samples' ids everywhere in the campaign.
    y : array-like of shape (n_samples,) or None, default=None
        Labels that answer for the samples without asking anybody; ``-1`` marks unknown
        ones. Without an oracle, ``y`` is the oracle of a simulation and must be complete.
        Driven step by step, a ``y`` with unknown ones holds labels already given: they
        count from the first :meth:`refit` or :meth:`next_batch` on (recorded as
        ``"given"``), and those samples are never handed out.
    oracle : callable, object with ``label`` or None, default=None
        Who answers for the samples ``y`` does not know (see :mod:`skal.oracles`); ``None``
        means the learner's ``oracle``.
    journal : str, path-like, LabelJournal or None, default=None
        Where every answer is recorded, durably, before it counts; labels already in it are
        answers of this campaign (a rerun resumes). ``None`` means the learner's
        ``journal``.
    keys : array-like of shape (n_samples,) or None, default=None
        The journal's id of each sample, for journals that record user keys (strings)
        rather than pool indices.
    callbacks : list of callable or None, default=None
        Each is called as ``callback(campaign)`` after every fit (scores, progress).

    Attributes
    ----------
    spec : CampaignSpec
        What the campaign was asked for (from the learner's parameters).
    estimator_ : estimator or None
        The newest fitted model (None before the first fit).
    labeled_indices_ : ndarray of int
        Pool indices of the answered samples, in the order they were answered.
    labels_ : ndarray
        Their labels.
    labeled_round_ : ndarray of shape (n_samples,)
        Round in which each sample was answered; ``-1`` for never (or skipped).
    skipped_indices_ : ndarray of int
        Samples answered with a skip: never trained on, never handed out again.
    queried_indices_ : list of ndarray
        The batch handed out in each round of :meth:`run`.
    query_scores_ : list of ndarray
        The strategy's scores of those batches.
    round_estimators_ : list of estimator
        The model of every fit, when the learner's ``store_round_estimators`` is True.
    history_ : list of dict
        One row per fit: ``round``, ``n_labeled``, ``n_pseudo_labeled`` (unanswered pool rows
        trained on, pseudo-labeled or unlabeled; see the learner's ``semi_supervised``),
        ``query_time``, ``fit_time`` (seconds), ``class_counts`` (``[[class, labels],
        ...]``: a rare class shows; classification only), and with stopping criteria
        ``stopping``: each
        criterion's progress (see :mod:`skal.stopping`). A model given to
        :meth:`start_from` has a row with ``"prefit": True``.
    stop_reason_ : str or None
        Why :meth:`run` ended: ``"n_queries"``, ``"max_labels"`` (the learner's budget),
        ``"pool exhausted"``, ``"oracle stopped"``, a stopping criterion's reason
        (``"stabilizing predictions"``, ...), or the reason of a callback's
        :class:`~skal.exceptions.StopLabeling` (``"callback stopped"`` if it gave none).
    seed_ : int
        The campaign's seed, drawn from the learner's ``random_state``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier, Campaign
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(max_iter=500), query_strategy="margin", n_instances=10,
    ...     initial_size=20, random_state=0)
    >>> campaign = Campaign(learner, X, y).run(n_queries=3)   # y plays the oracle
    >>> [row["n_labeled"] for row in campaign.history_], campaign.stop_reason_
    ([20, 30, 40, 50], 'n_queries')

    Step by step, as an interactive front end drives it:

    >>> live = Campaign(learner, X)           # nobody's labels yet
    >>> batch = live.next_batch(20)           # before any model: random samples
    >>> for i in batch:
    ...     live.answer(i, y[i])              # what a person would type
    >>> _ = live.refit()                      # or refit(background=True)
    >>> batch = live.next_batch(5)            # the model's choice, never one handed out
    >>> live.handout(batch[0]).rank, live.handout(batch[0]).reason
    (1, 'margin')
    """

    def __init__(
        self, learner, X, y=None, *, oracle=None, journal=None, keys=None, callbacks=None
    ) -> None:
        self.spec = spec = CampaignSpec.from_estimator(learner).for_targets(y)
        self.strategy = check_strategy_task(resolve_strategy(spec.query_strategy), spec.task,
                                            name=spec.query_strategy)
        self.X = check_pool(X)
        n = len(self.X)
        self.y = None if y is None else check_y(y, n, task=spec.task)
        # a complete y is a simulation's oracle (it answers when asked); a partial one holds
        # labels already given, which count as answers from the first step on
        self._y_given = self.y is not None and bool(self._unlabeled(self.y).any())
        self.oracle = spec.oracle if oracle is None else oracle
        self.callbacks = list(callbacks or ())
        self.seed_ = int(check_random_state(spec.random_state).randint(np.iinfo(np.int32).max))
        handle = open_journal(spec.journal if journal is None else journal, self.X)
        self._answers = Answers(n, handle, keys=keys, task=spec.task)
        if self.y is not None:  # y's labels fix the kind of answers (ints, strings)
            self._answers.expect(self.y[~self._unlabeled(self.y)])
        self._template = base_estimator(spec.estimator, spec.task)
        self._pseudo = resolve_semi_supervised(spec.semi_supervised, self._template)
        self._stopping = resolve_stopping(spec.stopping)  # fresh copies: this campaign's
        self._init_runtime()
        self._handed: dict[int, Handout] = {}
        self._n_draws = 0
        self._digests = None  # of the pool's rows, computed when sample ids are checked
        self._stop_asked: str | None = None  # the reason of a callback's StopLabeling
        self.estimator_ = None
        self.queried_indices_: list[np.ndarray] = []
        self.query_scores_: list[np.ndarray] = []
        self.history_: list[dict] = []
        self.round_estimators_: list = []
        self.stop_reason_: str | None = None

    def _unlabeled(self, y) -> np.ndarray:
        """Where ``y`` marks an unlabeled sample, for this campaign's task."""
        return unlabeled_mask(y, task=self.spec.task)

    def _init_runtime(self) -> None:
        self._lock = threading.RLock()  # the state: answers, hand-outs, the model
        self._query_lock = threading.Lock()  # one next_batch at a time, start to hand-out
        self._executor: ThreadPoolExecutor | None = None
        self._future: Future | None = None
        self._refit_again, self._fitted_version = False, -1
        self._rooms: dict = {}  # spare rows after X and y for add_samples (_pool.append_rows)

    def __getstate__(self) -> dict:
        self.wait()
        state = self.__dict__.copy()
        for name in ("_lock", "_query_lock", "_executor", "_future", "_rooms"):
            state.pop(name)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    @property
    def journal_(self):
        """The open :class:`skal.LabelJournal`, or None."""
        return self._answers.journal

    @property
    def keys(self) -> list | None:
        """The journal's id of each pool sample (user keys), or None for pool indices."""
        return self._answers.keys

    @property
    def labeled_indices_(self) -> np.ndarray:
        return self._answers.labeled_indices()

    @property
    def labels_(self) -> np.ndarray:
        return self._answers.labels()

    @property
    def labeled_round_(self) -> np.ndarray:
        return self._answers.round_of.copy()

    @property
    def skipped_indices_(self) -> np.ndarray:
        return self._answers.skipped_indices()

    @property
    def n_answered_(self) -> int:
        """Samples answered so far: labels and skips (what ``max_labels`` counts)."""
        return len(self._answers.labeled_indices()) + len(self._answers.skipped_indices())

    @property
    def strategy_name(self) -> str:
        """The strategy's name as journal and handouts record it (``"auto:probcover"``: auto's
        component of the last query, whose scores they are)."""
        choice = getattr(self.strategy, "last_choice_", None)
        return strategy_name(self.spec.query_strategy) + (f":{choice}" if choice else "")

    def _candidates(self) -> np.ndarray:
        """Samples neither answered, skipped nor handed out."""
        free = ~self._answers.asked_mask()
        if self._handed:
            free[np.fromiter(self._handed, dtype=np.intp)] = False
        return np.flatnonzero(free)

    def _take_known(self) -> None:
        """Step by step, the labels a partly labeled ``y`` holds count as given answers:
        once, so that an undo sticks. Where the journal already answered a sample, its
        answer counts (it may be a correction made since), with a warning if ``y`` differs."""
        if not self._y_given:
            return
        with self._lock:
            self._y_given = False
            given = ~self._unlabeled(self.y)
            known = np.flatnonzero(given & ~self._answers.asked_mask())
            answered = dict(zip(self.labeled_indices_.tolist(), self.labels_.tolist()))
            ys = dict(zip(np.flatnonzero(given).tolist(), plain_labels(self.y[given]).tolist()))
            differ = [i for i, label in ys.items() if i in answered and answered[i] != label]
            if differ:
                i = differ[0]
                warnings.warn(
                    f"y gives {len(differ)} sample(s) another label than the journal records "
                    f"(sample {i}: y {ys[i]!r}, the journal {answered[i]!r}); the journal's "
                    "answers count. To change one, answer it "
                    "again: campaign.answer(index, label) is recorded in the journal.",
                    UserWarning, stacklevel=3,
                )
            if len(known):
                self.answer(known, self.y[known])

    def query(self, X_pool, n: int | None = None, *, strategy=None,
              return_scores: bool = False):
        """The newest model's choice of ``n`` samples of any pool, most informative first.

        The strategy sees the campaign's labeled set and the round's seed, as
        :meth:`next_batch` does; nothing is handed out or recorded. Rows of a numpy array
        or DataFrame equal to an answered pool sample (labeled or skipped) are left out.

        Parameters
        ----------
        X_pool : array-like, iterable of chunks or dask array
            Candidates (see :meth:`ActiveLearningClassifier.query`), with the campaign
            pool's features.
        n : int or None, default=None
            Batch size; ``None`` means the spec's ``n_instances``.
        strategy : str, strategy object, callable or None, default=None
            Another strategy for this query (a learner's ``query_strategy`` changed with
            ``set_params`` after ``fit``); ``None`` means the spec's.
        return_scores : bool, default=False
            Also return the strategy's score of each chosen sample.

        Returns
        -------
        indices : ndarray of int of shape (min(n, n_pool),)
        scores : ndarray of shape (min(n, n_pool),)
            Only when ``return_scores`` is True.
        """
        n = check_count(self.spec.n_instances if n is None else n, "n", caller="Campaign.query")
        with self._lock:
            estimator, round_ = self.estimator_, len(self.history_)
            labeled, labels = self.labeled_indices_, self.labels_
            answered = np.r_[labeled, self.skipped_indices_].astype(np.intp)
        if estimator is None:
            raise ValueError("the campaign has no fitted model yet: run or refit it first.")
        keep = self._not_answered(X_pool, answered)
        if keep is not None:  # rows equal to answered pool samples are left out
            picked, scores = self._select(take_rows(X_pool, keep), n, estimator, round_,
                                          labeled, labels, strategy)
            picked = keep[picked]
        else:
            picked, scores = self._select(X_pool, n, estimator, round_, labeled, labels,
                                          strategy)
        return (picked, scores) if return_scores else picked

    def _not_answered(self, X_pool, answered: np.ndarray) -> np.ndarray | None:
        """Rows of an in-memory ``X_pool`` (an array or DataFrame) that equal no answered
        pool sample; None when all do not, or when ``X_pool`` is read in chunks (a memmap,
        an iterable, a dask array: hashing would read it twice)."""
        if not len(answered) or not (type(X_pool) is np.ndarray or is_frame(X_pool)):
            return None
        try:
            theirs = row_digests(X_pool, dtype=getattr(self.X, "dtype", None))
        except (TypeError, ValueError):  # not the pool's kind of rows: the strategy says so
            return None
        keep = np.flatnonzero(~np.isin(theirs, self._pool_digests()[answered]))
        return None if len(keep) == len(theirs) else keep

    def _pool_digests(self) -> np.ndarray:
        with self._lock:
            if self._digests is None:
                self._digests = row_digests(self.X)
            return self._digests

    def pool_rows(self, X) -> np.ndarray:
        """The pool index of the sample equal to each row of ``X`` (-1 where none is).

        Rows are compared by content (a 64-bit digest of their values, as the journal
        checks ``sample_ids``). Among equal pool samples an unanswered one comes first, and
        the rows of one call take distinct samples while there are.

        Parameters
        ----------
        X : array-like of shape (n_rows, ...)
            Rows with the pool's features.

        Returns
        -------
        indices : ndarray of int of shape (n_rows,)

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skal import Campaign
        >>> X = np.arange(12.0).reshape(6, 2)
        >>> campaign = Campaign(LogisticRegression(), X)
        >>> campaign.pool_rows(np.array([[4.0, 5.0], [0.0, 0.5]]))
        array([ 2, -1])
        """
        digests = self._pool_digests()
        theirs = row_digests(X, dtype=getattr(self.X, "dtype", None))
        order = np.argsort(digests, kind="stable")  # equal digests in pool order
        lo = np.searchsorted(digests[order], theirs, side="left")
        hi = np.searchsorted(digests[order], theirs, side="right")
        with self._lock:
            taken = set(self.labeled_indices_.tolist()) | set(self.skipped_indices_.tolist())
        out = np.full(len(theirs), -1, dtype=np.intp)
        for k in np.flatnonzero(hi > lo):
            candidates = order[lo[k]:hi[k]].tolist()
            free = [i for i in candidates if i not in taken]
            out[k] = free[0] if free else candidates[0]
            taken.add(int(out[k]))
        return out

    def _select(self, X_pool, n, estimator, round_, labeled, labels, strategy=None):
        context = QueryContext(
            random_state=round_seed(self.seed_, round_),
            X_labeled=take_rows(self.X, labeled), y_labeled=labels,
            pool_batch_size=self.spec.pool_batch_size,
            check_chunk=lambda chunk: check_pool_chunk(
                chunk, self.n_features_in_, self.feature_names_in_
            ),
        )
        name = self.spec.query_strategy
        if strategy is None or strategy is name or (isinstance(strategy, str) and strategy == name):
            return select_batch(self.strategy, estimator, X_pool, n, context, name=name)
        other = check_strategy_task(resolve_strategy(strategy), self.spec.task, name=strategy)
        return select_batch(other, estimator, X_pool, n, context, name=strategy)

    def next_batch(self, n: int | None = None) -> np.ndarray:
        """Pool indices to label next, most informative first.

        They come from the newest fitted model's query (random samples before the first
        fit) and are never samples already answered, skipped, or handed out and not yet
        answered. Safe to call from several threads: each batch is chosen and handed out
        before the next is chosen.

        Parameters
        ----------
        n : int or None, default=None
            Batch size; ``None`` means the spec's ``n_instances``.

        Returns
        -------
        indices : ndarray of int of shape (<= n,)
            Empty when no sample is left. With the spec's ``max_labels``, no more than the
            budget leaves once the samples answered and those handed out are counted (a
            person may still answer more: answers are never refused for the budget).
        """
        n = check_count(self.spec.n_instances if n is None else n, "n",
                        caller="Campaign.next_batch")
        self._take_known()
        budget = self.spec.max_labels
        if budget is not None:
            with self._lock:
                n = min(n, budget - self.n_answered_ - len(self._handed))
            if n <= 0:
                return np.empty(0, dtype=np.intp)
        return self._next_batch(n)

    def _next_batch(self, n: int) -> np.ndarray:
        with self._query_lock:
            with self._lock:
                estimator, round_ = self.estimator_, len(self.history_)
                candidates = self._candidates()
                labeled, labels = self.labeled_indices_, self.labels_
            if not len(candidates):
                return np.empty(0, dtype=np.intp)
            if estimator is None:
                self._n_draws += 1
                seeds = np.random.SeedSequence([self.seed_, EXTRA_SALT, self._n_draws])
                rng = np.random.default_rng(seeds)
                picked = rng.choice(candidates, size=min(n, len(candidates)), replace=False)
                scores = np.full(len(picked), np.nan)
            else:
                positions, scores = self._select(
                    take_rows(self.X, candidates), n, estimator, round_, labeled, labels
                )
                picked = candidates[positions]
            with self._lock:  # answered meanwhile (answer() needs no hand-out): not handed
                fresh = ~self._answers.asked_mask()[picked]
                picked, scores = picked[fresh], np.asarray(scores, float)[fresh]
                why = "initial" if estimator is None else self.strategy_name
                for rank, (i, s) in enumerate(zip(picked.tolist(), scores.tolist())):
                    self._handed[i] = Handout(round_, why, None if s != s else s, rank + 1,
                                              len(candidates))
            return picked.astype(np.intp)

    def answer(self, index, label, *, reason: str | None = None, scores=None,
               annotator: str | None = None) -> None:
        """Record the answer for one sample (or arrays of both), in the journal first.

        Parameters
        ----------
        index : int or array-like of int
            Pool index (or indices).
        label : label or array-like
            The label; ``None``, ``-1`` or NaN records a skip (the sample is not trained on
            and not handed out again). Answering a sample again relabels it.
        reason : str or None, default=None
            The strategy the journal records for samples that were not handed out (``None``:
            ``"given"``); a handed-out sample keeps the reason it was chosen for.
        scores : array-like of float or None, default=None
            The strategy's score of each sample not handed out, for the journal.
        annotator : str or None, default=None
            Who gave these answers, recorded with them in the journal (a team's agreement
            and exports read it); None: the journal's own :attr:`~skal.LabelJournal.annotator`.
            A campaign without a journal has nowhere to keep it and raises ``ValueError``.

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skal import Campaign
        >>> X, y = load_iris(return_X_y=True)
        >>> path = os.path.join(tempfile.mkdtemp(), "labels.sqlite")
        >>> campaign = Campaign(LogisticRegression(), X, journal=path)
        >>> campaign.answer([0, 50], [0, 1], annotator="ana")
        >>> campaign.answer(100, 2, annotator="ben")
        >>> [(r["sample_id"], r["annotator"]) for r in campaign.journal_.records()]
        [(0, 'ana'), (50, 'ana'), (100, 'ben')]
        """
        with self._as_annotator(annotator):
            self._answer(index, label, reason=reason, scores=scores)

    def _as_annotator(self, annotator: str | None):
        if annotator is None:
            return nullcontext()
        journal = self.journal_
        if journal is None:
            raise ValueError(
                f"annotator={annotator!r} is recorded in the label journal, and this "
                "campaign has none: pass journal= (a file path) to keep who answered, or "
                "leave annotator out."
            )
        return journal.answering_as(annotator)  # checks the name before anything is written

    def _answer(self, index, label, *, reason: str | None, scores) -> None:
        indices, labels = as_pairs(index, label, len(self.X), task=self.spec.task)
        given = [None] * len(indices) if scores is None else \
            np.asarray(scores, dtype=float).reshape(-1).tolist()
        if len(given) != len(indices):
            raise ValueError(f"scores has {len(given)} entries for {len(indices)} indices.")
        with self._lock:
            # One journal transaction per (round, reason): a bulk answer is one fsync.
            groups: dict[tuple, list[int]] = {}
            default = Handout(len(self.history_), reason or "given", None, 0, 0)
            for k, i in enumerate(indices):
                out = self._handed.get(i, default)
                groups.setdefault((out.round, out.reason), []).append(k)
            for (round_, why), ks in groups.items():
                ids = [indices[k] for k in ks]
                self._answers.record(
                    ids, [labels[k] for k in ks], round_=round_, strategy=why,
                    scores=[self._handed[i].score if i in self._handed else given[k]
                            for i, k in zip(ids, ks)],
                )
                for i in ids:
                    self._handed.pop(i, None)

    def check_answers(self, labels) -> None:
        """Raise the error :meth:`answer` would raise for these labels (of another kind
        than the campaign's: a string on integer classes, a float, a bool), recording
        nothing."""
        _, labels = as_pairs(np.arange(len(labels)), labels, max(len(labels), 1),
                             task=self.spec.task)
        labels = [self._answers.clean(v) for v in labels]
        self._answers.check(labels)
        return labels

    def add_samples(self, X_new) -> np.ndarray:
        """Append samples to the pool (no journal: a journal's pool is fixed).

        Parameters
        ----------
        X_new : array-like of shape (n_new, ...)
            Samples with the pool's features.

        Returns
        -------
        indices : ndarray of int of shape (n_new,)
            Their pool indices.
        """
        X_new = check_pool_chunk(X_new, self.n_features_in_, self.feature_names_in_)
        with self._lock:
            start = len(self.X)
            if not len(X_new):
                return np.empty(0, dtype=np.intp)
            self._answers.grow(len(X_new))
            self.X, self._rooms["X"] = append_rows(self.X, X_new, self._rooms.get("X"))
            if is_frame(self.X):  # pd.concat may change column dtypes, and so the hashes
                self._digests = None
            elif self._digests is not None:  # kept up to date: teach asks for them each time
                self._digests, self._rooms["digests"] = append_rows(
                    self._digests, row_digests(X_new, dtype=self.X.dtype),
                    self._rooms.get("digests"))
            if self.y is not None:
                blank = np.full(len(X_new), np.nan) if self.spec.task == REGRESSION else \
                    np.full(len(X_new), None, dtype=object)
                y = self.y if self.spec.task == REGRESSION else \
                    np.asarray(self.y, dtype=object)
                self.y, self._rooms["y"] = append_rows(y, blank, self._rooms.get("y"))
        return np.arange(start, start + len(X_new), dtype=np.intp)

    def rows_of(self, sample_ids, X) -> np.ndarray:
        """Pool rows of journal sample ids, checked against the samples ``X`` they name.

        Parameters
        ----------
        sample_ids : array-like of int or str
            Pool indices, or the campaign's ``keys``.
        X : array-like of shape (len(sample_ids), ...)
            The samples, which must be exactly those pool rows.
        """
        with self._lock:
            pool = {"digests": self._pool_digests(), "dtype": getattr(self.X, "dtype", None),
                    "keys": self.keys}
        ids = check_sample_ids(sample_ids, X, pool)
        if self.keys is None:
            return np.asarray(ids, dtype=np.intp)
        rows = {k: i for i, k in enumerate(self.keys)}
        return np.asarray([rows[k] if isinstance(k, str) else k for k in ids], dtype=np.intp)

    def teach(self, index, label, *, reason: str | None = None, scores=None,
              annotator: str | None = None):
        """:meth:`answer`, then :meth:`refit`: all or nothing in memory.

        If the refit fails, the campaign forgets these answers again (and samples added
        just before with :meth:`add_samples` stay in the pool unanswered); what the journal
        recorded stays there, so a resumed campaign counts it.

        Returns
        -------
        estimator
            The refit model.
        """
        with self._lock:
            before = self._answers.snapshot()
        try:
            self.answer(index, label, reason=reason, scores=scores, annotator=annotator)
            return self.refit()
        except BaseException:
            with self._lock:
                self._answers.restore(before)
            raise

    def undo(self, index, *, annotator: str | None = None) -> None:
        """Take back the answer (label or skip) of one sample: journal first.

        The sample can be handed out again. Raises ``ValueError`` if it has no answer.
        ``annotator`` names who took it back, as in :meth:`answer`.
        """
        (i,), _ = as_pairs(index, None, len(self.X))
        with self._as_annotator(annotator), self._lock:
            self._answers.retract(i, round_=len(self.history_))

    def handout(self, index) -> Handout | None:
        """Why a handed-out sample was chosen (round, reason, score, its rank in the query and
        the number of candidates), or None when it is not handed out."""
        return self._handed.get(int(index))

    def release(self, index) -> None:
        """Hand a sample back unanswered (a person closed the page): it may be handed out
        again."""
        (i,), _ = as_pairs(index, None, len(self.X))
        with self._lock:
            self._handed.pop(i, None)

    def refit(self, *, background: bool = False):
        """Retrain on every answer so far; the new model takes over when it is ready.

        Parameters
        ----------
        background : bool, default=False
            Train in a background thread and return at once. Answers may keep arriving
            meanwhile: none is lost, and a refit asked for while one runs follows it with
            the newest answers. :meth:`next_batch` uses the newest finished model.

        Returns
        -------
        estimator or concurrent.futures.Future
            The fitted model, or (``background=True``) a future of it.
        """
        self._take_known()
        if not background:
            return self._fit(discard_previous=False)
        with self._lock:
            if self._future is not None and not self._future.done():
                self._refit_again = True
                return self._future
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="skal-refit")
            self._future = self._executor.submit(self._refit_loop)
            return self._future

    def _refit_loop(self):
        while True:
            estimator = self._fit(discard_previous=False, copy_previous=True)
            with self._lock:  # again only if answers came in since this fit's snapshot
                again, self._refit_again = self._refit_again, False
                if not again or self._answers.version == self._fitted_version:
                    return estimator

    def wait(self, timeout: float | None = None):
        """The newest model (or None), once a background refit is done."""
        future = self._future
        if future is not None:
            future.result(timeout)
        return self.estimator_

    def _fit(
        self, *, discard_previous: bool, copy_previous: bool = False, start=None,
        query_time: float = 0.0,
    ):
        start = time.perf_counter() if start is None else start
        with self._lock:
            labeled, labels = self.labeled_indices_, self.labels_
            previous, self._fitted_version = self.estimator_, self._answers.version
            unlabeled = np.flatnonzero(~self._answers.asked_mask())
            X = self.X
        spec = self.spec
        if spec.task == REGRESSION:
            _check_targets_to_fit(labels)
        elif spec.task == MULTILABEL:
            check_two_label_sets(labels)
        else:
            check_two_classes(labels)
        X_fit, y_fit, n_pseudo, fit_params = training_set(
            X, labeled, labels, unlabeled, previous, self._pseudo,
            seed=round_seed(self.seed_ ^ PSEUDO_SALT, len(self.history_)),
            pool_batch_size=spec.pool_batch_size,
        )
        keep = spec.store_round_estimators  # a kept model must not be changed later
        if (copy_previous or keep) and previous is not None and spec.warm_start:
            previous = copy.deepcopy(previous)  # the current model keeps serving queries
        estimator = fit_estimator(
            self._template, X_fit, y_fit, previous,
            warm_start=spec.warm_start, discard_previous=discard_previous and not keep,
            fit_params=fit_params,
        )
        with self._lock:
            self.estimator_ = estimator
            self.round_estimators_ += [estimator] if keep else []
            row = {"round": len(self.history_), "n_labeled": len(labeled),
                   "n_pseudo_labeled": n_pseudo, "query_time": query_time,
                   "fit_time": time.perf_counter() - start,
                   **self._counts(labels)}
            self.history_.append(row)
        self._check_stopping(estimator, X, row)
        for callback in self.callbacks:
            try:
                callback(self)
            except StopLabeling as stop:  # the callback ends run() after this fit
                self._stop_asked = self.stop_reason_ = stop.reason or "callback stopped"
        return estimator

    def start_from(self, estimator) -> Campaign:
        """Take a model trained elsewhere as the campaign's first: no fit on labels needed.

        It chooses the first batch (:meth:`next_batch`, and :meth:`run` skips the initial
        set), and :meth:`refit` later trains on the answers: from its weights with the
        spec's ``warm_start=True`` (the model is copied first; yours is not changed), else a
        fresh copy of the spec's estimator. The history gets a row with ``"prefit": True``.

        Parameters
        ----------
        estimator : fitted estimator
            A classifier with the pool's features (e.g. scikit-learn's ``FrozenEstimator``
            of one, or a Keras model wrapped with ``skal.keras.attach_fitted_model``).

        Returns
        -------
        self : Campaign
        """
        try:
            check_is_fitted(estimator)
        except (NotFittedError, TypeError) as exc:
            raise ValueError(
                f"start_from needs a fitted estimator; {type(estimator).__name__} is not "
                f"fitted ({exc}). Fit it first, or let the campaign fit one on labels."
            ) from None
        model = copy.deepcopy(estimator)
        with self._lock:
            if self.estimator_ is not None:
                raise ValueError("the campaign already has a model: start_from comes first.")
            self.estimator_ = model
            labels = self.labels_
            self.history_.append({
                "round": len(self.history_), "n_labeled": len(labels), "n_pseudo_labeled": 0,
                "query_time": 0.0, "fit_time": 0.0, **self._counts(labels),
                "prefit": True,
            })
        return self

    def _counts(self, labels) -> dict:
        """The history row's ``class_counts`` (a classification campaign's only)."""
        if self.spec.task == MULTILABEL:  # samples with each label: [[position, count], ...]
            return {"class_counts": label_counts(labels)}
        return {} if self.spec.task == REGRESSION else {"class_counts": _class_counts(labels)}

    def _check_stopping(self, estimator, X, row: dict) -> None:
        """Ask the stopping criteria about the new model; the first that says stop ends run."""
        if not self._stopping:
            return
        signals = [c.check(estimator, X, random_state=round_seed(self.seed_ ^ STOP_SALT, 0))
                   for c in self._stopping]
        row["stopping"] = [s.progress for s in signals]
        stop = next((s for s in signals if s.stop), None)
        if stop is not None:
            self._stop_asked = self.stop_reason_ = stop.reason

    def restore(self, estimator, labels, *, labeled_round=None, history=(),
                round_estimators=(), queried_indices=(), seed=None) -> Campaign:
        """Take up a saved campaign (see :func:`skal.load`): every pool sample answered.

        Parameters
        ----------
        estimator : estimator
            The fitted model, trained on the pool and ``labels``.
        labels : array-like of shape (n_samples,)
            The label of every pool sample, in answer order.
        labeled_round : array-like of int or None, default=None
            The round each was answered in (``None``: 0).
        history, round_estimators, queried_indices : sequences, default=()
            The saved ``history_``, ``round_estimators_`` and ``queried_indices_``.
        seed : int or None, default=None
            The saved campaign seed (``None``: keep this one's).

        Returns
        -------
        self : Campaign
        """
        n = len(self.X)
        rounds = np.zeros(n, dtype=np.intp) if labeled_round is None else \
            np.asarray(labeled_round, dtype=np.intp)
        with self._lock:
            if self.n_answered_:
                raise ValueError("restore needs a campaign without answers.")
            values = list(np.asarray(labels, dtype=object))
            cuts = [0, *(np.flatnonzero(np.diff(rounds)) + 1).tolist(), n]
            for a, b in zip(cuts[:-1], cuts[1:]):  # answer order kept, one call per round
                self._answers.remember(np.arange(a, b), values[a:b], int(rounds[a]))
            self.estimator_ = estimator
            self.history_ = [dict(row) for row in history]
            self.round_estimators_ = list(round_estimators)
            self.queried_indices_ = [np.asarray(q, dtype=np.intp) for q in queried_indices]
            self.seed_ = self.seed_ if seed is None else int(seed)
        return self

    @property
    def n_features_in_(self) -> int:
        return n_features_of(self.X)

    @property
    def feature_names_in_(self):
        """The pool's column names when it is a DataFrame, else None."""
        return [str(c) for c in self.X.columns] if is_frame(self.X) else None

    def run(self, n_queries: int | None = None) -> Campaign:
        """Run the campaign: an initial set, then ``n_queries`` rounds of query, answer, refit.

        ``y`` answers where it knows the label, the oracle otherwise; every answer goes to
        the journal as it is given. The loop ends after ``n_queries`` rounds, when the
        spec's ``max_labels`` samples are answered (the journal's included), when no
        sample is left, when the oracle raises :class:`skal.exceptions.StopLabeling`
        (after one last fit on what was answered), or when a callback raises it after a fit.

        Parameters
        ----------
        n_queries : int or None, default=None
            Rounds after the initial set; ``None`` means the spec's ``n_queries``.

        Returns
        -------
        self : Campaign
        """
        spec = self.spec
        n_queries = check_count(spec.n_queries if n_queries is None else n_queries,
                                "n_queries", low=0, caller="Campaign.run")
        check_answerable(self.y, self.oracle, self._answers.asked_mask(), spec.task)
        budget = spec.max_labels
        if budget is not None and n_initial(spec.initial_size, len(self.X)) > budget:
            raise ValueError(
                f"initial_size={spec.initial_size!r} asks for more labels than "
                f"max_labels={budget}; lower initial_size or raise max_labels."
            )
        self._stop_asked = None
        stopped = False
        if self.estimator_ is None:
            start = time.perf_counter()
            stopped = ask_initial(
                self._answers, X=self.X, y=self.y, oracle=self.oracle,
                initial_size=spec.initial_size, n_instances=spec.n_instances,
                seed=self.seed_, selection=spec.initial_selection,
            )
            self._fit(discard_previous=True, start=start)
            self._report(n_queries)
        self.stop_reason_ = "n_queries"
        for _ in range(n_queries):
            if stopped or self._stop_asked:
                break
            n = spec.n_instances
            if budget is not None:
                n = min(n, budget - self.n_answered_)
                if n <= 0:
                    self.stop_reason_ = "max_labels"
                    break
            t0 = time.perf_counter()
            picked = self._next_batch(n)
            if not len(picked):
                self.stop_reason_ = "pool exhausted"
                break
            scores = np.array([self._handed[i].score for i in picked.tolist()], dtype=float)
            t1 = time.perf_counter()
            self.queried_indices_.append(picked)
            self.query_scores_.append(scores)
            stopped = self._ask(picked, len(self.history_), scores)
            self._fit(discard_previous=True, start=t1, query_time=t1 - t0)
            self._report(n_queries)
        if stopped:  # by an answer; the other breaks have set their reasons
            self.stop_reason_ = "oracle stopped"
        elif self._stop_asked:
            self.stop_reason_ = self._stop_asked
        return self

    def _ask(self, indices: np.ndarray, round_: int, scores) -> bool:
        stopped = ask(
            self._answers, indices.astype(np.intp), X=self.X, y=self.y, oracle=self.oracle,
            round_=round_, strategy="initial" if round_ == 0 else self.strategy_name,
            scores=scores,
        )
        for i in indices.tolist():
            self._handed.pop(i, None)
        return stopped

    def _report(self, n_queries: int) -> None:
        if self.spec.verbose > 0:
            row = self.history_[-1]
            print(
                f"[skal] round {row['round']}/{n_queries}: {row['n_labeled']} labels, "
                f"query {row['query_time']:.2f}s, fit {row['fit_time']:.2f}s",
                file=sys.stderr, flush=True,
            )

    def __repr__(self) -> str:
        return f"Campaign({len(self.X)} samples, {len(self.labeled_indices_)} labeled)"


def _check_targets_to_fit(labels) -> None:
    """A regressor needs at least one labeled target to fit."""
    if not len(labels):
        raise ValueError("y has no labels; a regressor needs at least one labeled target.")


def _class_counts(labels) -> list[list]:
    """``[[class, count], ...]`` of the labels, classes sorted (plain data: JSON-able)."""
    if not len(labels):
        return []
    classes, counts = np.unique(labels, return_counts=True)
    return [[c, int(n)] for c, n in zip(classes.tolist(), counts.tolist())]
