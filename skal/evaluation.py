"""Label efficiency: how good is the model after each round of a campaign?"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.metrics import check_scoring, recall_score
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _num_samples

from skal._labels import CLASSIFICATION, REGRESSION, check_y, plain_labels, unlabeled_mask
from skal._spec import as_learner
from skal.campaign import Campaign

__all__ = ["PER_CLASS_RECALL", "active_learning_curve", "campaign_scores"]


PER_CLASS_RECALL = "per_class_recall"


def _per_class_recall(classes: np.ndarray):
    """A scorer of the recall of each class of ``classes``, in that order (0 where unseen)."""

    def score(estimator, X, y):
        return recall_score(y, estimator.predict(X), labels=classes, average=None,
                            zero_division=0.0)

    return score


def _scorers(learner, scoring, classes: np.ndarray) -> tuple[dict, bool]:
    """``scoring`` as ``{name: scorer}``, and whether it was one scorer (not a list or dict)."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        named, single = {"score": scoring}, True
    elif isinstance(scoring, dict):
        named, single = dict(scoring), False
    elif isinstance(scoring, (list, tuple, set)) and all(isinstance(s, str) for s in scoring):
        named, single = {s: s for s in scoring}, False
    else:
        raise TypeError(
            "scoring must be None, a scorer name, a callable, a list of scorer names or a "
            f"dict of name -> scorer; got {type(scoring).__name__}."
        )
    if not named:
        raise ValueError("scoring is empty: give at least one scorer.")
    return {name: _scorer_of(learner, s, classes) for name, s in named.items()}, single


def _scorer_of(learner, scoring, classes: np.ndarray | None):
    """One scorer: ``"per_class_recall"`` over ``classes``, else scikit-learn's."""
    if not (isinstance(scoring, str) and scoring == PER_CLASS_RECALL):
        return check_scoring(learner, scoring=scoring)
    if classes is None:
        raise ValueError(f"scoring={PER_CLASS_RECALL!r} needs a classifier; a regressor "
                         "has no classes: use a regression scorer such as 'r2'.")
    return _per_class_recall(classes)


def _as_learner(learner):
    """``learner``, or the default learner of a plain model, as ``Campaign(model, X)`` trains it.

    ``ActiveLearningClassifier(model)``, or ``ActiveLearningRegressor(model)`` for a
    regressor; a learner is what has a ``query_strategy`` parameter.
    """
    get_params = getattr(learner, "get_params", None)
    if not callable(get_params):
        raise TypeError(
            "learner must be a skal learner (ActiveLearningClassifier or "
            "ActiveLearningRegressor) or a scikit-learn model for one to train, got "
            f"{type(learner).__name__}."
        )
    return as_learner(learner)


def campaign_scores(learner, X_train, y_train, X_test, y_test, *, scoring=None):
    """Run ``learner``'s campaign on a training set and score after every round.

    Parameters
    ----------
    learner : ActiveLearningClassifier, ActiveLearningRegressor or estimator
        Unfitted learner; a clone is fitted (its ``n_queries`` rounds are the campaign). A
        plain model (``GaussianNB()``) is what the default learner trains, as in
        :class:`skal.Campaign`: ``ActiveLearningClassifier(model)``, or
        ``ActiveLearningRegressor(model)`` for a regressor (whose default ``n_queries=0``
        gives the initial round only).
    X_train, y_train : array-like
        The pool with its labels, which play the oracle.
    X_test, y_test : array-like
        Held-out data scored after each round; its unlabeled rows (markers, as the
        learner's ``score`` reads them: for a regressor NaN, None or ``pd.NA``, ``-1``
        being a target) are left out.
    scoring : str, callable, list, dict or None, default=None
        A scikit-learn scorer (e.g. ``"balanced_accuracy"``); ``None`` uses the model's
        ``score`` (accuracy, or R² for a regressor). ``"per_class_recall"`` scores the
        recall of every class (the sorted labels of ``y_train`` and ``y_test``; 0 for a
        class the model never gets right), for campaigns on imbalanced pools. A list of
        names or a dict of name -> scorer scores them all, as
        :func:`sklearn.model_selection.cross_validate`.

    Returns
    -------
    n_labeled : ndarray of shape (n_rounds + 1,)
        Labels used after each round (round 0 is the initial set).
    scores : ndarray of shape (n_rounds + 1,), or a dict of them
        Test score after each round; ``(n_rounds + 1, n_classes)`` for
        ``"per_class_recall"``; with several scorers, a dict of name -> such an array.
    fitted : ActiveLearningClassifier or ActiveLearningRegressor
        The fitted clone (of the default learner, for a plain model);
        ``fitted.labeled_indices_`` are exactly those ``fit`` would pick.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.evaluation import campaign_scores
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(LogisticRegression(max_iter=300), n_queries=2,
    ...                                    initial_size=30, random_state=0)
    >>> n_labeled, scores, _ = campaign_scores(
    ...     learner, X[:1000], y[:1000], X[1000:], y[1000:],
    ...     scoring=["balanced_accuracy", "per_class_recall"])
    >>> n_labeled.tolist(), scores["per_class_recall"].shape
    ([30, 40, 50], (3, 10))
    """
    learner = _as_learner(learner)
    # the learner's own rule: -1 marks a class's row, but is a regression target
    task = REGRESSION if is_regressor(learner) else CLASSIFICATION
    checked = check_y(y_test, _num_samples(X_test), task=task)
    test = np.flatnonzero(~unlabeled_mask(checked, task=task))
    if not len(test):
        raise ValueError("y_test has no labeled rows to score: every sample is unlabeled.")
    X_test, y_test = _safe_indexing(X_test, test), plain_labels(checked[test])
    classes = None
    if is_classifier(learner):
        train = check_y(y_train, _num_samples(X_train))
        y_known = plain_labels(train[~unlabeled_mask(train)])
        classes = np.unique(np.concatenate([y_known, y_test]))
    scorers, single = _scorers(learner, scoring, classes)
    n_labeled, scores = [], {name: [] for name in scorers}

    def score_round(campaign):
        n_labeled.append(campaign.history_[-1]["n_labeled"])
        for name, scorer in scorers.items():
            scores[name].append(scorer(campaign.estimator_, X_test, y_test))

    campaign = Campaign(clone(learner), X_train, y_train, callbacks=[score_round]).run()
    fitted = type(learner).from_campaign(campaign)
    arrays = {name: np.asarray(values, dtype=float) for name, values in scores.items()}
    return np.asarray(n_labeled), (arrays["score"] if single else arrays), fitted


def active_learning_curve(learner, X, y, *, cv=5, scoring=None, n_jobs=None, verbose=0):
    """Score a learner's campaign after every round, on each split of a cross-validation.

    In the spirit of :func:`sklearn.model_selection.learning_curve`: for each split, the
    learner's campaign (``initial_size``, ``n_queries``, ``n_instances``,
    ``query_strategy``) runs on the training part, with its labels as the oracle, and the
    model is scored on the test part after every round.

    Parameters
    ----------
    learner : ActiveLearningClassifier, ActiveLearningRegressor or estimator
        The learner, with ``n_queries > 0`` for a curve longer than one point. A plain
        model is what the default learner trains, as in :class:`skal.Campaign` (see
        :func:`campaign_scores`); set the campaign with the learner's parameters, e.g.
        ``ActiveLearningClassifier(GaussianNB(), n_queries=5)``.
    X : array-like of shape (n_samples, n_features)
        Samples.
    y : array-like of shape (n_samples,)
        Labels (complete: they play the oracle).
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`sklearn.model_selection.cross_val_score` (stratified for classifiers).
    scoring : str, callable, list, dict or None, default=None
        Scorer; ``None`` means accuracy (R² for a regressor). As in
        :func:`campaign_scores`: e.g. ``"balanced_accuracy"``, ``"per_class_recall"``, or a
        list or dict of several.
    n_jobs : int or None, default=None
        Splits run in parallel (joblib); works with ``joblib.parallel_backend("dask")``.
    verbose : int, default=0
        joblib verbosity.

    Returns
    -------
    n_labeled : ndarray of shape (n_rounds + 1,)
        Number of labels after each round.
    scores : ndarray of shape (n_rounds + 1, n_splits), or a dict of them
        Test score after each round, one column per split; ``"per_class_recall"`` adds
        a last axis over the classes; several scorers give a dict of name -> array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.evaluation import active_learning_curve
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> learner = ActiveLearningClassifier(LogisticRegression(), initial_size=4, n_queries=2,
    ...                                    n_instances=4, random_state=0)
    >>> n_labeled, scores = active_learning_curve(learner, X, y, cv=2)
    >>> n_labeled
    array([ 4,  8, 12])
    >>> scores.shape  # (rounds + 1, splits)
    (3, 2)
    >>> scores.mean(axis=1).round(2)
    array([0.65, 0.84, 0.96])
    """
    learner = _as_learner(learner)
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
    n = min(len(r[0]) for r in results)  # a split that ran out of pool early: common rounds
    n_labeled = results[0][0][:n]

    def by_split(pick):  # rounds first, then splits (then classes, for per-class recall)
        return np.stack([pick(r[1])[:n] for r in results], axis=1)

    if isinstance(results[0][1], dict):
        return n_labeled, {name: by_split(lambda s, k=name: s[k]) for name in results[0][1]}
    return n_labeled, by_split(lambda s: s)
