"""Query by committee: ask where the members disagree.

A committee is a stack of class-probability predictions, one per member, of shape
(n_members, n_samples, n_classes), scored by vote entropy or KL divergence to the consensus
(:mod:`skal.strategies._measures`). By default the members are MC-dropout passes of the
model itself (Gal et al. 2017); :class:`Committee` can instead fit an explicit committee of
estimators (bootstrap clones of the learner's estimator, or estimators you give) on the
labeled set at every query.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skal.strategies._base import ChunkScorer, QueryStrategy
from skal.strategies._features import last_step, mc_scores, predict_proba_2d, query_seed
from skal.strategies._measures import COMMITTEE_MEASURES

__all__ = ["Committee"]


class _EstimatorList(HasMethods):
    """A list of at least two estimators with ``fit`` and ``predict_proba``.

    A ``HasMethods`` (checked on each item), as scikit-learn accepts only its own
    constraint classes.
    """

    def __init__(self) -> None:
        super().__init__(["fit", "predict_proba"])

    def is_satisfied_by(self, val) -> bool:
        return (
            isinstance(val, list)
            and len(val) >= 2
            and all(super(_EstimatorList, self).is_satisfied_by(est) for est in val)
        )

    def __str__(self) -> str:
        return "a list of at least 2 estimators with fit and predict_proba"


def _set_random_states(estimator, seed: int) -> None:
    """Give every ``random_state`` parameter (nested ones too) the seed."""
    params = estimator.get_params(deep=True)
    keys = [k for k in params if k == "random_state" or k.endswith("__random_state")]
    if keys:
        estimator.set_params(**dict.fromkeys(keys, seed))


def _stratified_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bootstrap resample drawn within each class: every class keeps its count."""
    parts = [
        rng.choice(members, size=len(members), replace=True)
        for members in (np.flatnonzero(y == c) for c in np.unique(y))
    ]
    return rng.permutation(np.concatenate(parts))


def _member_scores(estimator, X, *, measure, members, classes) -> np.ndarray:
    """``measure`` of the fitted members' predictions of ``X``, aligned on ``classes``."""
    stack = np.zeros((len(members), len(X), len(classes)))
    for m, member in enumerate(members):
        cols = np.searchsorted(classes, last_step(member).classes_)
        stack[m][:, cols] = predict_proba_2d(member, X)
    return measure(stack)


class Committee(QueryStrategy):
    """Query by committee (Seung, Opper & Sompolinsky 1992): ask where the members disagree.

    Disagreement is measured by :func:`vote_entropy` or :func:`kl_divergence` (McCallum &
    Nigam 1998). The committee is, in order of precedence:

    * ``estimators``: these estimators, each cloned and fitted on the labeled set (a
      bootstrap resample of it when ``bootstrap``) at every query;
    * ``n_members``: that many clones of the learner's own estimator, fitted likewise,
      each with its own ``random_state`` (nested ``random_state`` parameters included);
    * neither (the default): ``n_samples`` MC-dropout passes of the fitted model itself
      (Gal et al. 2017), which needs ``predict_proba_samples`` (:class:`skal.CNNClassifier`,
      :class:`skal.KerasClassifier` with dropout) and fits nothing.

    Bootstrap resamples are drawn within each class, so every member knows every class.
    An explicit committee needs the labeled set, which :class:`skal.ActiveLearningClassifier`
    passes in the :class:`~skal.strategies.QueryContext` (``X_labeled``, ``y_labeled``). The
    pool is scored in chunks with a running top-k; memory is
    O(pool_batch_size x n_members x n_classes) plus the members.

    Parameters
    ----------
    measure : {"vote_entropy", "kl_divergence"}, default="vote_entropy"
        Disagreement measure.
    estimators : list of estimators or None, default=None
        An explicit committee (unfitted templates, at least 2; each needs ``fit`` and
        ``predict_proba``).
    n_members : int or None, default=None
        Size of a committee of clones of the learner's estimator (at least 2).
    bootstrap : bool, default=True
        Fit each member of an explicit committee on a bootstrap resample of the labeled
        set (bagging, Abe & Mamitsuka 1998) instead of on all of it.
    n_samples : int, default=20
        Number of MC-dropout passes of the default committee (at least 2).

    References
    ----------
    Seung, H. S., Opper, M. & Sompolinsky, H. (1992). Query by Committee. COLT.
    McCallum, A. & Nigam, K. (1998). Employing EM and Pool-Based Active Learning for Text
    Classification. ICML.
    Abe, N. & Mamitsuka, H. (1998). Query Learning Strategies Using Boosting and Bagging.
    ICML.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.strategies import Committee
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(), query_strategy=Committee("vote_entropy", n_members=5))
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions(set(COMMITTEE_MEASURES))],
        "estimators": [_EstimatorList(), None],
        "n_members": [Interval(Integral, 2, None, closed="left"), None],
        "bootstrap": ["boolean"],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        measure: str = "vote_entropy",
        estimators=None,
        n_members: int | None = None,
        bootstrap: bool = True,
        n_samples: int = 20,
    ) -> None:
        self.measure = measure
        self.estimators = estimators
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.n_samples = n_samples

    @property
    def requires(self) -> tuple[str, ...]:
        if self.estimators is None and self.n_members is None:
            return ("predict_proba_samples",)
        return () if self.estimators is not None else ("predict_proba",)

    def select(self, estimator, X_pool, n_instances, context):
        """The samples the committee disagrees on most, most disagreed-on first."""
        seed = query_seed(context.random_state)
        measure = COMMITTEE_MEASURES[self.measure]
        if self.estimators is None and self.n_members is None:
            score_fn = partial(mc_scores, measure=measure, n_samples=int(self.n_samples),
                               seed=seed, strategy=repr(self))
        else:
            members, classes = self._fit_members(estimator, context, seed)
            score_fn = partial(_member_scores, measure=measure, members=members,
                               classes=classes)
        context = replace(context, random_state=seed)
        return ChunkScorer(score_fn).select(estimator, X_pool, n_instances, context)

    def _fit_members(self, estimator, context, seed):
        X_labeled, y_labeled = context.X_labeled, context.y_labeled
        if X_labeled is None or y_labeled is None or len(X_labeled) == 0:
            raise ValueError(
                f"{self!r} fits its members on the labeled set, but the query context has "
                "no X_labeled/y_labeled (ActiveLearningClassifier passes them)."
            )
        X_labeled, y_labeled = np.asarray(X_labeled), np.asarray(y_labeled)
        if len(X_labeled) != len(y_labeled):
            raise ValueError(
                f"X_labeled has {len(X_labeled)} samples but y_labeled has {len(y_labeled)}."
            )
        templates = (
            list(self.estimators)
            if self.estimators is not None
            else [estimator] * int(self.n_members)
        )
        seeds = np.random.SeedSequence(seed).generate_state(len(templates) + 1)
        rng = np.random.default_rng(seeds[-1])
        classes = np.unique(y_labeled)
        members = []
        for template, member_seed in zip(templates, seeds[:-1]):
            member = clone(template)
            _set_random_states(member, int(member_seed) & 0x7FFFFFFF)
            rows = (
                _stratified_bootstrap(y_labeled, rng)
                if self.bootstrap
                else np.arange(len(y_labeled))
            )
            members.append(member.fit(X_labeled[rows], y_labeled[rows]))
        return members, classes
