"""Label efficiency: how good is the model after each round of a campaign?"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _num_samples

from skal._labels import check_y, plain_labels, unlabeled_mask
from skal.campaign import Campaign

__all__ = ["active_learning_curve", "campaign_scores"]


def campaign_scores(learner, X_train, y_train, X_test, y_test, *, scoring=None):
    """Run ``learner``'s campaign on a training set and score after every round.

    Parameters
    ----------
    learner : ActiveLearningClassifier
        Unfitted learner; a clone is fitted (its ``n_queries`` rounds are the campaign).
    X_train, y_train : array-like
        The pool with its labels, which play the oracle.
    X_test, y_test : array-like
        Held-out data scored after each round (its unlabeled rows left out).
    scoring : str, callable or None, default=None
        A scikit-learn scorer; ``None`` uses the learner's ``score`` (accuracy).

    Returns
    -------
    n_labeled : ndarray of shape (n_rounds + 1,)
        Labels used after each round (round 0 is the initial set).
    scores : ndarray of shape (n_rounds + 1,)
        Test score after each round.
    fitted : ActiveLearningClassifier
        The fitted clone; ``fitted.labeled_indices_`` are exactly those ``fit`` would pick.
    """
    scorer = check_scoring(learner, scoring=scoring)
    test = np.flatnonzero(~unlabeled_mask(check_y(y_test, _num_samples(X_test))))
    if not len(test):
        raise ValueError("y_test has no labeled rows to score: every sample is unlabeled.")
    X_test, y_test = _safe_indexing(X_test, test), plain_labels(np.asarray(y_test)[test])
    n_labeled, scores = [], []

    def score_round(campaign):
        n_labeled.append(campaign.history_[-1]["n_labeled"])
        scores.append(scorer(campaign.estimator_, X_test, y_test))

    campaign = Campaign(clone(learner), X_train, y_train, callbacks=[score_round]).run()
    fitted = type(learner).from_campaign(campaign)
    return np.asarray(n_labeled), np.asarray(scores, dtype=float), fitted


def active_learning_curve(learner, X, y, *, cv=5, scoring=None, n_jobs=None, verbose=0):
    """Score a learner's campaign after every round, on each split of a cross-validation.

    In the spirit of :func:`sklearn.model_selection.learning_curve`: for each split, the
    learner's campaign (``initial_size``, ``n_queries``, ``n_instances``,
    ``query_strategy``) runs on the training part, with its labels as the oracle, and the
    model is scored on the test part after every round.

    Parameters
    ----------
    learner : ActiveLearningClassifier
        The learner, with ``n_queries > 0`` for a curve longer than one point.
    X : array-like of shape (n_samples, n_features)
        Samples.
    y : array-like of shape (n_samples,)
        Labels (complete: they play the oracle).
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`sklearn.model_selection.cross_val_score` (stratified for classifiers).
    scoring : str, callable or None, default=None
        Scorer; ``None`` means accuracy.
    n_jobs : int or None, default=None
        Splits run in parallel (joblib); works with ``joblib.parallel_backend("dask")``.
    verbose : int, default=0
        joblib verbosity.

    Returns
    -------
    n_labeled : ndarray of shape (n_rounds + 1,)
        Number of labels after each round.
    scores : ndarray of shape (n_rounds + 1, n_splits)
        Test score after each round, one column per split.
    """
    X, y = indexable(X, y)
    cv = check_cv(cv, y, classifier=is_classifier(learner))
    splits = list(cv.split(X, y))
    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(campaign_scores)(
            learner,
            _safe_indexing(X, train),
            _safe_indexing(y, train),
            _safe_indexing(X, test),
            _safe_indexing(y, test),
            scoring=scoring,
        )
        for train, test in splits
    )
    lengths = {len(r[0]) for r in results}
    if len(lengths) != 1:  # a split ran out of pool early; keep the common rounds
        n = min(lengths)
        results = [(a[:n], b[:n], f) for a, b, f in results]
    n_labeled = results[0][0]
    scores = np.column_stack([r[1] for r in results])
    return n_labeled, scores
