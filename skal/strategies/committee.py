"""Query by committee: vote entropy and KL divergence to the consensus.

A committee is a stack of class-probability predictions, one per member, of shape
(n_members, n_samples, n_classes). By default the members are MC-dropout passes of the
model itself (Gal et al. 2017); :class:`Committee` can instead fit an explicit committee of
estimators (bootstrap clones of the learner's estimator, or estimators you give) on the
labelled set at every query.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skal.strategies._base import QueryStrategy, ScoreStrategy
from skal.strategies._features import (
    last_step,
    predict_proba_2d,
    query_seed,
    stochastic_error,
)
from skal.strategies.bayesian import _check_samples, _SeededMCScorer, _vote_counts
from skal.strategies.uncertainty import entropy_last_axis

__all__ = ["Committee", "kl_divergence", "vote_entropy"]


def vote_entropy(proba_samples) -> np.ndarray:
    """Vote entropy: the entropy of the committee's hard votes (Dagan & Engelson 1995).

    ``-sum_c (V(c)/M) log(V(c)/M)``, with ``V(c)`` the number of the ``M`` members whose most
    probable class is ``c``.

    Parameters
    ----------
    proba_samples : array-like of shape (n_members, n_samples, n_classes)
        Class probabilities predicted by each member.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, log(min(n_members, n_classes))], in nats; 0 when all members agree.

    References
    ----------
    Dagan, I. & Engelson, S. P. (1995). Committee-Based Sampling for Training Probabilistic
    Classifiers. ICML.
    """
    proba_samples = _check_samples(proba_samples)
    return entropy_last_axis(_vote_counts(proba_samples) / proba_samples.shape[0])


def kl_divergence(proba_samples) -> np.ndarray:
    """Mean KL divergence of each member from the consensus (McCallum & Nigam 1998).

    ``(1/M) sum_m KL(p_m || pbar)``, with ``pbar`` the members' mean. For an MC-dropout
    committee this equals :func:`skal.strategies.bald` (both are the mutual information);
    the two differ for explicit committees only in name.

    Parameters
    ----------
    proba_samples : array-like of shape (n_members, n_samples, n_classes)
        Class probabilities predicted by each member.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Non-negative, in nats; 0 when all members predict the same distribution.

    References
    ----------
    McCallum, A. & Nigam, K. (1998). Employing EM and Pool-Based Active Learning for Text
    Classification. ICML.
    """
    proba_samples = _check_samples(proba_samples)
    mean = proba_samples.mean(axis=0)
    ratio = np.where(proba_samples > 0, proba_samples / np.where(mean > 0, mean, 1.0), 1.0)
    return np.maximum((proba_samples * np.log(ratio)).sum(axis=2).mean(axis=0), 0.0)


_MEASURES = {"vote_entropy": vote_entropy, "kl_divergence": kl_divergence}


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


class _CommitteeScorer(ScoreStrategy):
    """Scores chunks with the members fitted for one query (not a public strategy)."""

    requires = ()

    def __init__(self, measure=None, members=None, classes=None):
        self.measure = measure
        self.members = members
        self.classes = classes

    def score(self, estimator, X, rng) -> np.ndarray:
        stack = np.zeros((len(self.members), len(X), len(self.classes)))
        for m, member in enumerate(self.members):
            cols = np.searchsorted(self.classes, last_step(member).classes_)
            stack[m][:, cols] = predict_proba_2d(member, X)
        return _MEASURES[self.measure](stack)


class Committee(QueryStrategy):
    """Query by committee (Seung, Opper & Sompolinsky 1992): ask where the members disagree.

    Disagreement is measured by :func:`vote_entropy` or :func:`kl_divergence` (McCallum &
    Nigam 1998). The committee is, in order of precedence:

    * ``estimators``: these estimators, each cloned and fitted on the labelled set (a
      bootstrap resample of it when ``bootstrap``) at every query;
    * ``n_members``: that many clones of the learner's own estimator, fitted likewise,
      each with its own ``random_state`` (nested ``random_state`` parameters included);
    * neither (the default): ``n_samples`` MC-dropout passes of the fitted model itself
      (Gal et al. 2017), which needs ``predict_proba_samples`` (:class:`skal.CNNClassifier`,
      :class:`skal.KerasClassifier` with dropout) and fits nothing.

    Bootstrap resamples are drawn within each class, so every member knows every class.
    An explicit committee needs the labelled set, which :class:`skal.ActiveLearningClassifier`
    passes (``X_labeled``, ``y_labeled``). The pool is scored in chunks with a running top-k;
    memory is O(pool_batch_size x n_members x n_classes) plus the members.

    Parameters
    ----------
    measure : {"vote_entropy", "kl_divergence"}, default="vote_entropy"
        Disagreement measure.
    estimators : list of estimators or None, default=None
        An explicit committee (unfitted templates; each needs ``predict_proba``).
    n_members : int or None, default=None
        Size of a committee of clones of the learner's estimator (at least 2).
    bootstrap : bool, default=True
        Fit each member of an explicit committee on a bootstrap resample of the labelled
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
        "measure": [StrOptions(set(_MEASURES))],
        "estimators": [list, None],
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

    def _validate(self) -> None:
        self._validate_params()
        if self.estimators is not None:
            if len(self.estimators) < 2:
                raise ValueError(
                    f"estimators must list at least 2 estimators, got {len(self.estimators)}."
                )
            check = HasMethods(["fit", "predict_proba"])
            for est in self.estimators:
                if not check.is_satisfied_by(est):
                    raise TypeError(
                        "estimators must be estimators with fit and predict_proba, got "
                        f"{type(est).__name__}."
                    )

    def __call__(
        self,
        estimator,
        X_pool,
        n_instances,
        random_state=None,
        *,
        X_labeled=None,
        y_labeled=None,
        **context,
    ):
        self._validate()
        seed = query_seed(random_state)
        name = repr(self)
        if self.estimators is None and self.n_members is None:
            if not hasattr(last_step(estimator), "predict_proba_samples"):
                raise TypeError(stochastic_error(last_step(estimator), name))
            scorer = _SeededMCScorer(_MEASURES[self.measure], int(self.n_samples), seed, name)
        else:
            members, classes = self._fit_members(estimator, X_labeled, y_labeled, seed)
            scorer = _CommitteeScorer(self.measure, members=members, classes=classes)
        return scorer(estimator, X_pool, n_instances, seed, **context)

    def _fit_members(self, estimator, X_labeled, y_labeled, seed):
        if X_labeled is None or y_labeled is None or len(X_labeled) == 0:
            raise ValueError(
                f"{self!r} fits its members on the labelled set, but no X_labeled/y_labeled "
                "was given (ActiveLearningClassifier passes them)."
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
