"""Query by committee: ask where the members disagree.

A committee is a stack of class-probability predictions, one per member, of shape
(n_members, n_samples, n_classes), scored by vote entropy or KL divergence to the consensus
(:mod:`skal.strategies._measures`). By default the members are MC-dropout passes of the
model itself (Gal et al. 2017); :class:`Committee` can instead fit an explicit committee of
estimators (bootstrap clones of the learner's estimator, or estimators you give) on the
labeled set at every query -- which it does by itself, with 5 bootstrap clones, for a model
without MC passes (any scikit-learn classifier), and so do the MC-dropout strategies.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from numbers import Integral

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skal.strategies._base import ChunkScorer, QueryStrategy
from skal.strategies._features import (
    DEFAULT_MEMBERS,
    fit_committee,
    has_method,
    mc_scores,
    member_scores,
    query_seed,
)
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


class Committee(QueryStrategy):
    """Query by committee (Seung, Opper & Sompolinsky 1992): ask where the members disagree.

    Disagreement is measured by :func:`vote_entropy` or :func:`kl_divergence` (McCallum &
    Nigam 1998). The committee is, in order of precedence:

    * ``estimators``: these estimators, each cloned and fitted on the labeled set (a
      bootstrap resample of it when ``bootstrap``) at every query;
    * ``n_members``: that many clones of the learner's own estimator, fitted likewise,
      each with its own ``random_state`` (nested ``random_state`` parameters included);
    * neither (the default): ``n_samples`` MC-dropout passes of the fitted model itself
      (Gal et al. 2017) where it has ``predict_proba_samples`` (:class:`skal.CNNClassifier`,
      :class:`skal.KerasClassifier` with dropout), which fits nothing; for any other
      model (a scikit-learn classifier, a Pipeline), 5 bootstrap clones of the learner's
      estimator, as with ``n_members=5``.

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
        Size of a committee of clones of the learner's estimator (at least 2). None (with
        no ``estimators``): MC-dropout passes where the model has them, else 5 clones.
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
        # the default: MC passes where the model has them, else clones asked predict_proba
        return () if self.estimators is not None else ("predict_proba",)

    def select(self, estimator, X_pool, n_instances, context):
        """The samples the committee disagrees on most, most disagreed-on first."""
        seed = query_seed(context.random_state)
        measure = COMMITTEE_MEASURES[self.measure]
        n_members = self.n_members
        if self.estimators is None and n_members is None:
            if has_method(estimator, "predict_proba_samples"):
                score_fn = partial(mc_scores, measure=measure, n_samples=int(self.n_samples),
                                   seed=seed, strategy=repr(self))
                context = replace(context, random_state=seed)
                return ChunkScorer(score_fn).select(estimator, X_pool, n_instances, context)
            n_members = DEFAULT_MEMBERS  # no MC passes: bootstrap clones instead
        templates = (list(self.estimators) if self.estimators is not None
                     else [estimator] * int(n_members))
        members, classes = fit_committee(templates, context, seed, bootstrap=self.bootstrap,
                                         who=repr(self))
        score_fn = partial(member_scores, measure=measure, members=members, classes=classes)
        context = replace(context, random_state=seed)
        return ChunkScorer(score_fn).select(estimator, X_pool, n_instances, context)
