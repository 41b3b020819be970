"""ActiveLearningClassifier: an active learner that is a scikit-learn meta-estimator."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score

from skal._base_learner import _BaseActiveLearner
from skal._labels import check_label_kind, classes_of

__all__ = ["ActiveLearningClassifier"]


class ActiveLearningClassifier(ClassifierMixin, _BaseActiveLearner):
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
    query_strategy : str or callable, default="auto"
        A registered name (``"auto"``, ``"entropy"``, ``"margin"``, ``"random"``,
        ``"rare_class"``, ... see :data:`skal.strategies.STRATEGIES`), a strategy object such as
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

    _parameter_constraints: dict = {**_BaseActiveLearner._parameter_constraints}

    @property
    def classes_(self) -> np.ndarray:
        """Classes known to the fitted classifier (multi-label: the label positions)."""
        labels = self.campaign_.labels_
        if labels.ndim == 2:  # a multi-label campaign: columns 0 .. n_labels - 1
            return np.arange(labels.shape[1])
        return classes_of(self.campaign_.estimator_, labels)

    def _check_new_labels(self, y) -> None:
        check_label_kind(y, self.classes_)

    def _score(self, y_true, y_pred, sample_weight) -> float:
        return accuracy_score(y_true, y_pred, sample_weight=sample_weight)

    # ClassifierMixin.score comes first in the MRO: the learner's leaves markers out.
    score = _BaseActiveLearner.score
