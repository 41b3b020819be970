"""Summary metrics for active-learning curves.

An active-learning curve is a score (accuracy, F1, ...) measured after each labeling
round, against the number of labeled samples at that round. The functions here reduce
such a curve to a single number so that query strategies can be compared:

- :func:`area_under_learning_curve` -- the normalised area under the curve (AULC);
- :func:`labels_to_reach` -- the label budget needed to reach a target score;
- :func:`make_curve_scorer` -- either of them as a scikit-learn scorer of an active learner,
  so that ``GridSearchCV`` selects query strategies by label efficiency.

Both accept ``scores`` of shape ``(n_rounds,)`` for one curve, or
``(n_rounds, n_splits)`` for one curve per column (e.g. per cross-validation split, as
returned by :func:`skal.evaluation.active_learning_curve`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.base import is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_is_fitted

from skal._labels import (
    CLASSIFICATION,
    MULTILABEL,
    REGRESSION,
    check_y,
    plain_labels,
    unlabeled_mask,
)

__all__ = [
    "CurveScorer", "area_under_learning_curve", "curves_from_cv_results", "labels_to_reach",
    "make_curve_scorer",
]

_KINDS = ("aulc", "labels_to_target", "curve")


def _check_curve(n_labeled, scores) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a learning curve to float arrays."""
    n_labeled = np.asarray(n_labeled)
    scores = np.asarray(scores)
    if n_labeled.ndim != 1:
        raise ValueError(
            f"n_labeled must be a 1-D array, got an array with shape {n_labeled.shape}."
        )
    if n_labeled.size == 0:
        raise ValueError("n_labeled must contain at least one value, got an empty array.")
    if n_labeled.dtype.kind not in "iuf":
        raise ValueError(f"n_labeled must be numeric, got dtype {n_labeled.dtype}.")
    n_labeled = n_labeled.astype(float)
    if not np.all(np.isfinite(n_labeled)):
        raise ValueError("n_labeled must contain only finite values.")
    if np.any(np.diff(n_labeled) <= 0):
        raise ValueError(f"n_labeled must be strictly increasing, got {n_labeled.tolist()}.")
    if scores.ndim not in (1, 2):
        raise ValueError(
            "scores must be of shape (n_rounds,) or (n_rounds, n_splits), got an array "
            f"with shape {scores.shape}."
        )
    if scores.shape[0] != n_labeled.shape[0]:
        raise ValueError(
            f"scores must have one row per entry of n_labeled: got {scores.shape[0]} rows "
            f"in scores for {n_labeled.shape[0]} values in n_labeled."
        )
    try:
        scores = scores.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scores must be numeric, got dtype {scores.dtype}.") from exc
    return n_labeled, scores


def area_under_learning_curve(n_labeled, scores) -> float | np.ndarray:
    """Normalised area under an active-learning curve (AULC).

    The area is computed with the trapezoid rule over ``n_labeled`` and divided by the
    width of the label range, ``n_labeled[-1] - n_labeled[0]``. The result is thus the
    average score over the labeling budget: it lies in ``[0, 1]`` whenever the scores
    do, and a constant curve at ``c`` has an AULC of exactly ``c``. Rounds need not be
    evenly spaced; each segment is weighted by the number of labels it spans.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Number of labeled samples at each round. Must be strictly increasing.

    scores : array-like of shape (n_rounds,) or (n_rounds, n_splits)
        Score at each round. With 2-D input each column is a separate curve (e.g. one
        cross-validation split), sharing the same ``n_labeled``.

    Returns
    -------
    aulc : float or ndarray of shape (n_splits,)
        The normalised area: a float for 1-D ``scores``, one value per column for 2-D
        ``scores``. With a single round (``n_rounds == 1``) the area is undefined and
        the score of that round is returned instead. NaN scores propagate to the
        result of their column.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not 1-D, empty or not strictly increasing, or if ``scores``
        is not 1-D/2-D or its length differs from that of ``n_labeled``.

    See Also
    --------
    labels_to_reach : Label budget needed to reach a target score.

    Examples
    --------
    >>> from skal.metrics import area_under_learning_curve
    >>> area_under_learning_curve([10, 20, 30], [0.5, 0.7, 0.9])
    0.7
    >>> area_under_learning_curve([10, 20, 30], [[0.5, 1.0], [0.7, 1.0], [0.9, 1.0]])
    array([0.7, 1. ])
    """
    x, y = _check_curve(n_labeled, scores)
    if x.shape[0] == 1:
        aulc = y[0]
    else:
        dx = np.diff(x)
        mid = (y[1:] + y[:-1]) / 2.0
        if y.ndim == 2:
            dx = dx[:, np.newaxis]
        aulc = np.sum(dx * mid, axis=0) / (x[-1] - x[0])
    return float(aulc) if y.ndim == 1 else np.asarray(aulc, dtype=float)


def labels_to_reach(n_labeled, scores, target) -> float | np.ndarray:
    """Number of labeled samples needed to first reach a target score.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Number of labeled samples at each round. Must be strictly increasing.

    scores : array-like of shape (n_rounds,) or (n_rounds, n_splits)
        Score at each round. With 2-D input each column is a separate curve.

    target : float
        Score to reach. A round reaches it when its score is ``>= target`` (equality
        counts).

    Returns
    -------
    n_labels : float or ndarray of shape (n_splits,)
        The ``n_labeled`` value of the first round whose score is ``>= target``, as a
        float; ``np.inf`` when no round reaches the target (NaN scores never do). A
        float for 1-D ``scores``, one value per column for 2-D ``scores``.

    Raises
    ------
    ValueError
        If the curve is malformed (see :func:`area_under_learning_curve`) or ``target``
        is not a real number.

    See Also
    --------
    area_under_learning_curve : Normalised area under the learning curve.

    Examples
    --------
    >>> from skal.metrics import labels_to_reach
    >>> labels_to_reach([10, 20, 30], [0.5, 0.8, 0.9], target=0.8)
    20.0
    >>> labels_to_reach([10, 20, 30], [0.5, 0.8, 0.9], target=0.95)
    inf
    """
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise ValueError(f"target must be a real number, got {target!r}.")
    if np.isnan(target):
        raise ValueError("target must not be NaN.")
    x, y = _check_curve(n_labeled, scores)
    reached = y >= target
    first = np.argmax(reached, axis=0)
    result = np.where(np.any(reached, axis=0), x[first], np.inf)
    return float(result) if y.ndim == 1 else np.asarray(result, dtype=float)


def make_curve_scorer(
    score_func=None, *, kind: str = "aulc", target: float | None = None,
    response_method="predict", greater_is_better: bool = True, **kwargs,
):
    """A scorer of an active learner's whole campaign, for ``scoring=`` in scikit-learn.

    ``GridSearchCV(learner, ..., scoring=make_curve_scorer())`` runs each candidate's
    campaign on a training split (``fit`` with ``n_queries > 0``), then scores the model of
    *every round* on the held-out split and reduces that learning curve to one number, so
    the search picks the strategy that needs the fewest labels, not merely the best final
    model. The learner must keep its round models: ``store_round_estimators=True``.
    Held-out rows whose label is an unlabeled marker (``-1``, None, NaN, ``pd.NA``; for a
    regressor NaN, None and ``pd.NA`` only) are left out, as the learner's ``score`` does.

    Parameters
    ----------
    score_func : callable, str or None, default=None
        The score of one round: a metric ``score_func(y_true, y_pred, **kwargs)`` such as
        :func:`sklearn.metrics.f1_score`, or the name of a scikit-learn scorer
        (``"balanced_accuracy"``, ``"f1_macro"``). ``None`` means the learner's own score,
        decided when scoring: accuracy for a classifier, R² for a regressor
        (:func:`sklearn.base.is_regressor` on the learner); name the metric to pass it
        ``greater_is_better``, ``response_method`` or keyword arguments.
    kind : {"aulc", "labels_to_target", "curve"}, default="aulc"
        ``"aulc"``: the normalised area under the learning curve
        (:func:`area_under_learning_curve`). ``"labels_to_target"``: minus the labels needed
        to reach ``target`` (:func:`labels_to_reach`); a campaign that never reaches it
        scores minus (its labels plus one round of ``n_instances``). Ties -- the same labels,
        or the same never-reached value -- are broken by the curve, reached or not: with
        ``a`` its AULC (in the greater-is-better units of the round scores),
        ``(1 + a / (1 + |a|)) / 4`` is added. That is strictly increasing in ``a`` and lies
        in ``(0, 1/2)`` for any finite score, so the order by labels never changes, whatever
        the metric's range (an error, a negative R²). ``"curve"``: a dict --
        ``"aulc"``, ``"labels_to_target"`` (with a ``target``), and ``"score_round_<r>"``
        and ``"n_labeled_round_<r>"`` for every planned round (NaN for rounds not run) -- to
        pass as the whole ``scoring`` (with ``refit="aulc"``), so that the curves land in
        ``cv_results_`` (see ``ActiveLearningCurveDisplay.from_cv_results``); every
        candidate must then plan as many rounds (same ``n_queries``, ``n_instances`` and
        ``max_labels``).
    target : float or None, default=None
        The score to reach, in the units of ``score_func``; required by
        ``kind="labels_to_target"``, optional with ``kind="curve"`` and refused with
        ``kind="aulc"`` (which has no use for it). For a metric function it is the
        metric's own value: with ``greater_is_better=True`` a round reaches it when its
        score is ``>= target``; with ``greater_is_better=False`` (an error or a loss) when
        its value is ``<= target`` -- ``make_curve_scorer(mean_squared_error,
        greater_is_better=False, kind="labels_to_target", target=3300)`` asks for an MSE of
        at most 3300 (the sign is handled inside, as ``make_scorer`` negates the score). For
        a scorer name it is that scorer's value, already greater-is-better:
        ``"neg_mean_squared_error"`` takes ``target=-3300``.
    response_method : str or list of str, default="predict"
        What ``score_func`` takes, as in :func:`sklearn.metrics.make_scorer`
        (``"predict_proba"`` for ``log_loss``). Ignored when ``score_func`` is a name.
    greater_is_better : bool, default=True
        As in :func:`sklearn.metrics.make_scorer`; False negates each round's score (the
        AULC and the round scores of ``kind="curve"`` are then negated too, so that greater
        is better, as scikit-learn's searches expect).
    **kwargs
        Passed to ``score_func`` (e.g. ``average="macro"``).

    Returns
    -------
    scorer : CurveScorer
        Callable as ``scorer(estimator, X, y)`` on a fitted
        :class:`skal.ActiveLearningClassifier` or :class:`skal.ActiveLearningRegressor`
        (or a Pipeline ending in one).

    Raises
    ------
    TypeError
        If ``score_func=None`` is given ``greater_is_better``, ``response_method`` or
        keyword arguments (they need a named metric), or options of the wrong type.
    ValueError
        If ``kind`` is unknown, or ``target`` is missing or of no use for ``kind``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skal import ActiveLearningClassifier
    >>> from skal.metrics import make_curve_scorer
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(max_iter=300), n_queries=4, n_instances=20, initial_size=20,
    ...     random_state=0, store_round_estimators=True)
    >>> search = GridSearchCV(learner, {"query_strategy": ["random", "margin"]}, cv=2,
    ...                       scoring=make_curve_scorer()).fit(X[:600], y[:600])
    >>> search.best_params_
    {'query_strategy': 'margin'}
    >>> make_curve_scorer(kind="labels_to_target", target=0.9)(
    ...     search.best_estimator_, X[600:], y[600:]) <= -20
    True

    A loss, with its target in its own units (an MSE of at most 3300), on a regressor:

    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sklearn.metrics import mean_squared_error
    >>> from skal import ActiveLearningRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> regressor = ActiveLearningRegressor(
    ...     BayesianRidge(), n_queries=3, initial_size=10, random_state=0,
    ...     store_round_estimators=True).fit(X[:300], y[:300])
    >>> scorer = make_curve_scorer(mean_squared_error, greater_is_better=False,
    ...                            kind="labels_to_target", target=3300)
    >>> import math
    >>> math.floor(scorer(regressor, X[300:], y[300:]))  # MSE <= 3300 after 30 labels
    -30
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}.")
    if target is not None and not _is_real(target):
        raise TypeError(f"target must be a real number or None, got {target!r}.")
    if kind == "labels_to_target" and target is None:
        raise ValueError('kind="labels_to_target" needs a target score, e.g. target=0.9.')
    if kind == "aulc" and target is not None:
        raise ValueError(
            f'kind="aulc" scores the area under the whole learning curve and has no use for '
            f'target={target!r}: pass kind="labels_to_target" to score the labels needed to '
            f'reach it, kind="curve" for both, or drop target.'
        )
    from sklearn.metrics import get_scorer, make_scorer

    if score_func is None:
        options = ([f"greater_is_better={greater_is_better!r}"] if not greater_is_better else [])
        options += ([f"response_method={response_method!r}"]
                    if response_method != "predict" else []) + sorted(kwargs)
        if options:
            raise TypeError(
                f"score_func=None scores with the learner's own score (accuracy for a "
                f"classifier, R² for a regressor), which takes no options: name the metric "
                f"to pass {', '.join(options)}, e.g. make_curve_scorer(accuracy_score, ...)."
            )
        round_scorer = None  # chosen per learner when scoring: its estimator type
    elif isinstance(score_func, str):
        if kwargs:
            raise TypeError(f"keyword arguments {sorted(kwargs)} cannot go to the named scorer "
                            f"{score_func!r}; pass the metric function instead.")
        round_scorer = get_scorer(score_func)  # a ValueError listing the valid names
    elif callable(score_func):
        round_scorer = make_scorer(score_func, response_method=response_method,
                                   greater_is_better=greater_is_better, **kwargs)
        if target is not None and not greater_is_better:
            target = -target  # the metric's own units in, make_scorer's negated ones inside
    else:
        raise TypeError(
            f"score_func must be a metric function, a scorer name or None, got {score_func!r}."
        )
    return CurveScorer(round_scorer, kind=kind, target=target)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(
        float(value))


class CurveScorer:
    """The scorer :func:`make_curve_scorer` returns: a learner's campaign, on given data.

    Parameters
    ----------
    round_scorer : callable or None
        A scikit-learn scorer ``round_scorer(model, X, y)`` of one round's model; None: the
        learner's own score, accuracy for a classifier and R² for a regressor.
    kind : {"aulc", "labels_to_target", "curve"}
        What the curve is reduced to (see :func:`make_curve_scorer`).
    target : float or None
        The score to reach, for ``"labels_to_target"``, in the units of ``round_scorer``
        (greater is better: a round reaches it when its score is ``>= target``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.metrics import make_curve_scorer
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(max_iter=300), n_queries=2, initial_size=20, random_state=0,
    ...     store_round_estimators=True).fit(X[:500], y[:500])
    >>> n_labeled, scores = make_curve_scorer().curve(learner, X[500:], y[500:])
    >>> n_labeled.tolist(), bool(scores[-1] > scores[0])
    ([20, 30, 40], True)
    """

    def __init__(self, round_scorer, *, kind: str, target: float | None) -> None:
        self.round_scorer = round_scorer
        self.kind = kind
        self.target = target

    def curve(self, estimator, X, y, sample_weight=None) -> tuple[np.ndarray, np.ndarray]:
        """The learning curve of ``estimator``'s campaign on ``(X, y)``.

        Rows of ``y`` that mark an unlabeled sample are left out, as by the learner's
        ``score``; a ``y`` with no labeled row is a ``ValueError``.

        Returns
        -------
        n_labeled : ndarray of shape (n_rounds,)
            Labels each round's model trained on.
        scores : ndarray of shape (n_rounds,)
            Each round's model's score on the labeled rows of ``(X, y)``.
        """
        return self._curve(estimator, X, y, sample_weight)[1:]

    def _curve(self, estimator, X, y, sample_weight):
        learner, X = _active_learner(estimator, X)
        X, y, sample_weight = _labeled_rows(learner, X, y, sample_weight)
        round_scorer = self.round_scorer
        if round_scorer is None:
            round_scorer = _own_scorer(learner)
        models = learner.round_estimators_
        n_labeled = np.asarray([row["n_labeled"] for row in learner.history_[: len(models)]])
        extra = {} if sample_weight is None else {"sample_weight": sample_weight}
        scores = np.asarray([round_scorer(m, X, y, **extra) for m in models], dtype=float)
        last = np.append(n_labeled[1:] != n_labeled[:-1], True)  # a round that added no label
        return learner, n_labeled[last], scores[last]

    def __call__(self, estimator, X, y, sample_weight=None):
        learner, n_labeled, scores = self._curve(estimator, X, y, sample_weight)
        aulc = area_under_learning_curve(n_labeled, scores)
        if self.kind == "aulc":
            return aulc
        reached = None
        if self.target is not None:
            needed = labels_to_reach(n_labeled, scores, self.target)
            reached = -float(n_labeled[-1] + learner.n_instances if math.isinf(needed) else needed)
            reached += _tie_break(aulc)
        if self.kind == "labels_to_target":
            return reached
        out = {"aulc": aulc} | ({} if reached is None else {"labels_to_target": reached})
        for r in range(_planned_rounds(learner)):
            out[f"score_round_{r}"] = float(scores[r]) if r < len(scores) else np.nan
            out[f"n_labeled_round_{r}"] = float(n_labeled[r]) if r < len(scores) else np.nan
        return out

    def __repr__(self) -> str:
        return f"make_curve_scorer({self.round_scorer!r}, kind={self.kind!r})"


def _tie_break(aulc: float) -> float:
    """``(1 + a / (1 + |a|)) / 4``: increasing in the AULC ``a``, within ``(0, 1/2)``.

    Bounded whatever the metric's range, so that it orders campaigns needing the same
    labels and never two that need different ones (label counts differ by at least 1);
    1/2, not 1, keeps it clear of the next count after float rounding.
    """
    if math.isnan(aulc):
        return aulc
    squashed = math.copysign(1.0, aulc) if math.isinf(aulc) else aulc / (1.0 + abs(aulc))
    return (1.0 + squashed) / 4.0


def _own_scorer(learner):
    """What the learner's ``score`` measures: R² for a regressor, accuracy otherwise."""
    from sklearn.metrics import accuracy_score, make_scorer, r2_score

    return make_scorer(r2_score if is_regressor(learner) else accuracy_score)


def _labeled_rows(learner, X, y, sample_weight):
    """``(X, y, sample_weight)`` without the rows whose label is a marker (learner.score's rule)."""
    campaign = learner.__dict__.get("campaign_")
    task = campaign.spec.task if campaign is not None else \
        REGRESSION if is_regressor(learner) else CLASSIFICATION
    checked = check_y(y, _num_samples(X), task=task)
    marked = unlabeled_mask(checked, task=task)
    if marked.all():
        raise ValueError("y has no labeled rows to score: every sample is marked unlabeled.")
    if not marked.any():
        return X, y, sample_weight
    keep = np.flatnonzero(~marked)
    # a multi-label y stays the 2-D indicator the round models were scored against
    y = _safe_indexing(y, keep) if task == MULTILABEL else plain_labels(checked[keep])
    weights = None if sample_weight is None else _safe_indexing(sample_weight, keep)
    return _safe_indexing(X, keep), y, weights


def _active_learner(estimator, X):
    """The active learner inside ``estimator`` (a Pipeline's last step) and X as it sees it."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X) if len(estimator) > 1 else X
        estimator = estimator[-1]
    if not hasattr(estimator, "store_round_estimators"):
        raise TypeError(
            "make_curve_scorer scores an active learner's campaign round by round; "
            f"{type(estimator).__name__} is not an active learner. Score a "
            "skal.ActiveLearningClassifier or ActiveLearningRegressor (or a Pipeline ending in "
            "one), or use an ordinary scorer such as 'accuracy'."
        )
    name = type(estimator).__name__
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise NotFittedError(
            f"this {name} is not fitted: it has no campaign and no round models yet, so its "
            "learning curve cannot be scored. Fit it (with n_queries > 0"
            + ("" if estimator.store_round_estimators else
               " and store_round_estimators=True") + ") before scoring it."
        ) from None
    if not getattr(estimator, "round_estimators_", None):
        if estimator.store_round_estimators:
            raise ValueError(
                f"this {name} has store_round_estimators=True but holds no round models: it "
                "was fitted before the option was set, or loaded from a save without them. "
                "Fit it again to score its learning curve."
            )
        raise ValueError(
            "the learner kept no round models, so its learning curve cannot be scored: "
            "create it with store_round_estimators=True (and n_queries > 0) before fitting."
        )
    return estimator, X


def _planned_rounds(learner) -> int:
    """Rounds a campaign of ``learner`` plans (the initial fit included), from its params."""
    rounds = learner.n_queries
    if learner.max_labels is not None:
        initial = learner.history_[0]["n_labeled"]
        rounds = min(rounds, math.ceil(max(0, learner.max_labels - initial) /
                                       learner.n_instances))
    return rounds + 1


def curves_from_cv_results(cv_results, candidates=None) -> tuple[dict, dict]:
    """The learning curves a search recorded with ``make_curve_scorer(kind="curve")``.

    Parameters
    ----------
    cv_results : dict
        A search's ``cv_results_``.
    candidates : int, list of int or None, default=None
        Its rows to return; None: the best one (``rank_test_aulc == 1``).

    Returns
    -------
    n_labeled : dict of str to ndarray of shape (n_rounds,)
        Per candidate (named after its parameters): the mean labels of each round run.
    scores : dict of str to ndarray of shape (n_rounds, n_splits)
        Its score after each round on each split's held-out part.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skal import ActiveLearningClassifier
    >>> from skal.metrics import curves_from_cv_results, make_curve_scorer
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(max_iter=300), n_queries=3, initial_size=20,
    ...     random_state=0, store_round_estimators=True)
    >>> search = GridSearchCV(learner, {"query_strategy": ["random", "margin"]}, cv=2,
    ...     scoring=make_curve_scorer(kind="curve"), refit="aulc").fit(X[:400], y[:400])
    >>> n_labeled, scores = curves_from_cv_results(search.cv_results_, [0, 1])
    >>> n_labeled["query_strategy=margin"].tolist(), scores["query_strategy=margin"].shape
    ([20.0, 30.0, 40.0, 50.0], (4, 2))
    """
    if not isinstance(cv_results, Mapping) or "mean_test_n_labeled_round_0" not in cv_results:
        raise ValueError(
            "cv_results holds no learning curves: search with "
            'scoring=skal.metrics.make_curve_scorer(kind="curve") and refit="aulc", then '
            "pass search.cv_results_."
        )
    n_candidates = len(cv_results["params"])
    if candidates is None:
        candidates = np.flatnonzero(np.asarray(cv_results["rank_test_aulc"]) == 1)[:1]
    candidates = np.atleast_1d(np.asarray(candidates))
    if candidates.dtype.kind not in "iu" or ((candidates < 0) | (candidates >= n_candidates)).any():
        raise ValueError(
            f"candidates must be row numbers of cv_results in [0, {n_candidates}), got "
            f"{candidates.tolist()}."
        )
    n_splits = sum(1 for key in cv_results if key.endswith("_test_aulc")
                   and key.startswith("split"))
    n_rounds = sum(1 for key in cv_results if key.startswith("mean_test_n_labeled_round_"))
    n_labeled, scores = {}, {}
    for i in candidates.tolist():
        x = np.array([cv_results[f"mean_test_n_labeled_round_{r}"][i] for r in range(n_rounds)])
        s = np.array([[cv_results[f"split{k}_test_score_round_{r}"][i] for k in range(n_splits)]
                      for r in range(n_rounds)])
        ran = np.isfinite(x)
        params = cv_results["params"][i]
        name = ", ".join(f"{k}={v}" for k, v in params.items()) or f"candidate {i}"
        n_labeled[name], scores[name] = x[ran], s[ran]
    return n_labeled, scores
