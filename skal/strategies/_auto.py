"""The "auto" strategy: ProbCover while labels are few, then uncertainty with diversity.

Which strategy wins depends on the budget (Hacohen et al. 2022): with few labels per class,
typical samples beat uncertain ones; with many, the opposite -- once the model is good enough
for its uncertainty to mean something. This module composes the strategies of the other
modules (like the registry, it may import them).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from joblib import hash as joblib_hash
from sklearn.base import clone
from sklearn.metrics import cohen_kappa_score
from sklearn.utils._param_validation import Interval

from skal._pool import pool_length, take_rows
from skal.semi_supervised._graph import held_out_accuracy
from skal.strategies._base import QueryStrategy
from skal.strategies._diversity import DiverseMiniBatch
from skal.strategies._features import InputFeatures, has_method, n_classes
from skal.strategies._random import RandomSampling
from skal.strategies._typical import ProbCover, pca_embedding
from skal.strategies._uncertainty import UncertaintySampling

# Pool rows embedded to check the embedding against the labels (the check costs ~0.1 s).
_CHECK_ROWS = 2000
# Held-out spreading accuracy, above chance (1 / n_classes), from which the embedding follows
# the classes. Measured (3 seeds, stratified labels, 10 classes): digits 0.50-0.85 at 2 labels
# per class, 0.77-0.80 at 3, 0.88-0.92 at 10; MNIST-1D 0.0-0.10, 0.17-0.23 and 0.21-0.28.
_ABOVE_CHANCE = 0.3
# The model's skill is cross-validated on the first 3 labels per class, then on the first
# 6, 12, ... (a prefix in labeling order: the same labels give the same answer, whenever the
# check runs), each on 2 folds (3 folds estimate better but cost half as much again), until it
# reaches min_skill.
_SKILL_FOLDS = 2
_SKILL_FIRST_PER_CLASS = 3

__all__ = ["AUTO_SUMMARY", "AutoStrategy"]

#: What ``query_strategy="auto"`` does, in one sentence: written here only, and shown in
#: :mod:`skal.strategies`' docstring and the README (a test holds them to it).
AUTO_SUMMARY = (
    "ProbCover while there are fewer than 3 labels per class (random sampling instead when "
    "the PCA embedding it covers does not follow the classes), then diverse margin "
    "(plain margin for a model without embed) once the model, cross-validated on the labels "
    "so far, agrees with them well enough to rank by uncertainty (random sampling until then)"
)


class AutoStrategy(QueryStrategy):
    """Choose the strategy by the labeling regime: ProbCover first, then diverse margin.

    The rule, applied at every query: while the number of labels so far
    (``len(context.y_labeled)``) is below ``low_budget_per_class * n_classes``, ask
    :class:`ProbCover` (cold start: cover the pool's PCA embedding with balls of pure
    neighbourhoods) -- provided that embedding follows the classes: label spreading over
    its 10-nearest-neighbour graph must recover the labels so far, when they are hidden
    (stratified 5-fold), at least 30 points above chance (40% for 10 classes; assumed when a
    class has a single label, which cannot be hidden),
    else random sampling, which an embedding that ignores the classes cannot beat; from
    there on, :class:`DiverseMiniBatch` (``"diverse_margin"``: the most
    uncertain by margin, spread over k-means clusters of the model's embedding) -- or plain
    margin sampling (``"margin"``) when the model has no ``embed``, as scikit-learn
    classifiers do not -- provided the model is good enough to rank by uncertainty, else
    random sampling. ``n_classes`` is the estimator's ``classes_``, else the number of
    distinct labels so far; with neither (no label yet) the budget is low unless
    ``low_budget_per_class`` is 0.

    *Good enough to rank* is measured, not assumed: two clones of the model are each fitted
    on one half of the first ``3 * n_classes`` labels (in labeling order, halves drawn at
    random) and predict the other half; Cohen's kappa between those predictions and the
    labels is the model's skill (0: no better than chance or than always answering the
    commonest class; 1: every label right).
    Below ``min_skill`` the check is repeated on the first 6, 12, 24, ... labels per class
    as they come, and the first prefix that reaches it makes the model trusted for good. A
    prefix gives the same answer whenever the check runs (its result is cached), so a resumed
    campaign asks what the uninterrupted one would. Each check costs 2 fits of the model on
    half the prefix, and there is one check per doubling of the labels at most, none once
    the model is trusted. The clones train on the labels alone, without a campaign's
    ``semi_supervised`` pool training, so a model that pool training makes skilled may be
    trusted later than it could be. A model that cannot be cloned and refitted (a
    ``FrozenEstimator``), or whose refit fails on a fold, is trusted.

    Why 3 labels per class and ProbCover, measured with the default CNN (10 paired seeds,
    ``benchmarks/label_efficiency.py --low``): on digits ProbCover leads every strategy at
    20-30 labels (mean accuracy 0.817 and 0.870, random 0.718 and 0.788, TypiClust 0.775 and
    0.827) and diverse margin leads from 40 labels on (0.908 against ProbCover's 0.892); on
    MNIST-1D, whose CNN learns well from few labels, margin sampling beats random from the
    first 100 labels on and the cold-start strategies fall behind random (AULC 0.47 against
    0.53: a Euclidean PCA embedding ignores the circular shifts that place its digits), so
    the cold start must end early and must not trust an embedding that fails the check.
    Past the switch, a budget counts as high (Hacohen et al. 2022: opposite strategies
    suit high and low budgets).

    Why a skill check: uncertainty sampling needs a model whose uncertainty means something.
    ``CNNClassifier()`` as it comes reaches only 0.2-0.44 test accuracy on MNIST-1D between
    20 and 300 labels; there margin sampling lost to random (AULC 0.315 against 0.336, 4
    paired seeds) and so did ``"auto"`` without this check, while with the same network
    margin sampling first helps from about 500 labels on (test accuracy 0.57). Measured
    kappas (2 seeds, random labels, 2 folds): the default CNN on digits 0.48-0.62 at 30
    labels and 0.70-0.78 at 60; on MNIST-1D 0.12-0.17 at 120, 0.15-0.27 at 240, 0.34-0.41
    at 480 and 0.51-0.53 at 960; the benchmark's tuned MNIST-1D network 0.13-0.14 at 60,
    0.22-0.33 at 120 and 0.33-0.39 at 240. So ``min_skill=0.25`` trusts the default CNN on
    digits at once (30 labels), the tuned network on MNIST-1D from 120-240 labels and the
    default one from 240-480.

    The registry name ``"auto"`` is this strategy with its defaults. The component that
    answered the last query is ``last_choice_`` (its registry name); :meth:`choose` tells
    which one a query would use without running it. A campaign's journal and handouts
    record the strategy with its component, e.g. ``"auto:probcover"`` (the scores are the
    component's), and so does the learner's ``teach``, which answers through its campaign.

    Parameters
    ----------
    low_budget_per_class : float, default=3
        Labels per class below which the budget counts as low (>= 0; 0: never ProbCover).
    min_skill : float, default=0.25
        Cross-validated Cohen's kappa from which the model ranks by uncertainty, in [0, 1];
        0 trusts every model without a check.

    Attributes
    ----------
    last_choice_ : str
        ``"probcover"``, ``"random"``, ``"diverse_margin"`` or ``"margin"``: the component of
        the last query.
    skill_ : dict
        The checks so far: the number of labels of each prefix checked -> the model's kappa
        on it (None where the check could not run).

    References
    ----------
    Hacohen, G., Dekel, A. & Weinshall, D. (2022). Active Learning on a Budget: Opposite
    Strategies Suit High and Low Budgets. ICML.

    Yehuda, O., Dekel, A., Hacohen, G. & Weinshall, D. (2022). Active Learning Through a
    Covering Lens. NeurIPS.

    Zhdanov, F. (2019). Diverse mini-batch Active Learning. arXiv:1901.05954.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import AutoStrategy, QueryContext, select_batch
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[:3], y[:3])
    >>> auto = AutoStrategy(low_budget_per_class=2)   # 2 classes: TypiClust below 4 labels
    >>> context = QueryContext(random_state=0, X_labeled=X[:3], y_labeled=y[:3])
    >>> _ = select_batch(auto, model, X[3:], 5, context)
    >>> auto.last_choice_
    'probcover'
    >>> context = QueryContext(random_state=0, X_labeled=X[:4], y_labeled=y[:4])
    >>> _ = select_batch(auto, model, X[4:], 5, context)
    >>> auto.last_choice_   # LogisticRegression has no embed: plain margin
    'margin'
    """

    _parameter_constraints: dict = {
        "low_budget_per_class": [Interval(Real, 0, None, closed="left")],
        "min_skill": [Interval(Real, 0, 1, closed="both")],
    }
    requires = ("predict_proba",)

    def __init__(self, low_budget_per_class: float = 3, min_skill: float = 0.25) -> None:
        self.low_budget_per_class = low_budget_per_class
        self.min_skill = min_skill

    def choose(self, estimator, context, X_pool=None) -> tuple[str, QueryStrategy]:
        """The component a query with this estimator, context and pool uses: (name, strategy).

        Without ``X_pool`` (or with a pool that can be read only once) the embedding is not
        checked and counts as following the classes. Past the low budget this runs the
        model's skill check where it has not run on these labels yet (see the class
        docstring), and records it in ``skill_``.
        """
        n_labels = 0 if context.y_labeled is None else len(context.y_labeled)
        k = n_classes(estimator, context.y_labeled) or 1  # nothing known: no label yet
        if n_labels < self.low_budget_per_class * k:
            if X_pool is not None and not _embedding_follows_labels(X_pool, context, estimator):
                return "random", RandomSampling()
            return "probcover", ProbCover()
        if not self._trusts(estimator, context, k):
            return "random", RandomSampling()
        if has_method(estimator, "embed"):
            return "diverse_margin", DiverseMiniBatch()
        return "margin", UncertaintySampling("margin")

    def _trusts(self, estimator, context, k: int) -> bool:
        """Has a prefix of the labels so far shown the model skilled enough to rank?"""
        y, L = context.y_labeled, context.X_labeled
        if not self.min_skill or y is None or L is None or k < 2:
            return True
        y = np.asarray(y)
        self.skill_ = {}
        m = _SKILL_FIRST_PER_CLASS * k
        if m > len(y):
            return True  # too few labels to check (low_budget_per_class under 3)
        while m <= len(y):
            self.skill_[m] = kappa = _cached_skill(estimator, take_rows(L, np.arange(m)), y[:m])
            if kappa is None or kappa >= self.min_skill:
                return True
            m *= 2
        return False

    def select(self, estimator, X_pool, n_instances, context):
        """The batch of the component :meth:`choose` names (recorded in ``last_choice_``)."""
        name, strategy = self.choose(estimator, context, X_pool)
        self.last_choice_ = name
        return strategy.select(estimator, X_pool, n_instances, context)


def _embedding_follows_labels(X_pool, context, estimator=None) -> bool:
    """Does label spreading on ProbCover's embedding recover the hidden labels so far?"""
    from sklearn.semi_supervised import LabelSpreading

    y, L = context.y_labeled, context.X_labeled
    if y is None or L is None or len(y) == 0:
        return True  # nothing to check against
    _, codes, counts = np.unique(np.asarray(y), return_inverse=True, return_counts=True)
    # A class's single label cannot be hidden: check on the classes with two or more.
    kept = counts[codes] >= 2
    _, codes, counts = np.unique(codes[kept], return_inverse=True, return_counts=True)
    n_pool = pool_length(X_pool)
    if len(counts) < 2 or not n_pool:
        return True  # under two classes to tell apart; a one-shot pool is not reread
    seed = context.random_state if isinstance(context.random_state, Integral) else 0
    rows = np.sort(np.random.default_rng(seed).choice(n_pool, min(n_pool, _CHECK_ROWS),
                                                      replace=False))
    who, alternative = ("the auto strategy's embedding check",
                        "use query_strategy='diverse_margin' (on the model's embedding)")
    features = InputFeatures(estimator, who, alternative)  # ProbCover's: a Pipeline's if need be
    Z, Z_labeled = pca_embedding(features(take_rows(X_pool, rows)),
                                 features(take_rows(L, np.flatnonzero(kept))), 0)
    # A small pool's graph has fewer than 11 points: kNN needs n_neighbors below that.
    n_neighbors = min(10, len(Z_labeled) + len(Z) - 1)
    spread = LabelSpreading(kernel="knn", n_neighbors=n_neighbors, alpha=0.2, max_iter=100)
    accuracy = held_out_accuracy(spread, np.vstack([Z_labeled, Z]), codes, len(Z), seed)
    return accuracy >= 1 / len(counts) + _ABOVE_CHANCE


# Skills measured in this process, by (unfitted model, labels prefix): a check costs fits,
# and fresh strategy objects (a learner's clones, a resumed campaign) ask the same again.
_SKILLS: dict[str, float | None] = {}
_SKILLS_KEPT = 256


def _cached_skill(estimator, X, y) -> float | None:
    try:
        key = joblib_hash((clone(estimator), X, y))
    except Exception:  # noqa: BLE001 -- an unpicklable model: measure, do not cache
        return model_skill(estimator, X, y)
    if key in _SKILLS:
        return _SKILLS[key]
    if len(_SKILLS) >= _SKILLS_KEPT:
        _SKILLS.pop(next(iter(_SKILLS), None), None)  # the oldest (threads may race)
    _SKILLS[key] = skill = model_skill(estimator, X, y)
    return skill


def model_skill(estimator, X, y, n_folds: int = _SKILL_FOLDS) -> float | None:
    """Cohen's kappa of clones of ``estimator`` predicting held-out folds of ``(X, y)``.

    Folds are a shuffled k-fold split seeded by ``len(y)``. None where it cannot tell: the
    estimator cannot be cloned and refitted (a ``FrozenEstimator`` is its own clone), a
    fold's fit fails (e.g. on a single class), or every label is the same.
    """
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    order = np.random.default_rng(len(y)).permutation(len(y))
    folds = np.array_split(order, n_folds)
    predicted = []
    for fold in folds:
        train = np.setdiff1d(order, fold)
        try:
            model = clone(estimator)
            if model is estimator:
                return None
            model.fit(take_rows(X, train), y[train])
            predicted.append(np.asarray(model.predict(take_rows(X, fold))))
        except (ValueError, TypeError, RuntimeError):
            return None  # the check is advice: the model stays trusted, as without it
    return float(cohen_kappa_score(y[np.concatenate(folds)], np.concatenate(predicted)))
