"""The "auto" strategy: ProbCover while labels are few, then uncertainty with diversity.

Which strategy wins depends on the budget (Hacohen et al. 2022): with few labels per class,
typical samples beat uncertain ones; with many, the opposite. This module composes the
strategies of the other modules (like the registry, it may import them).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
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

__all__ = ["AUTO_SUMMARY", "AutoStrategy"]

#: What ``query_strategy="auto"`` does, in one sentence: written here only, and shown in
#: :mod:`skal.strategies`' docstring and the README (a test holds them to it).
AUTO_SUMMARY = (
    "ProbCover while there are fewer than 3 labels per class (random sampling instead when "
    "the PCA embedding it covers does not follow the classes), then diverse margin "
    "(plain margin for a model without embed)"
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
    classifiers do not. ``n_classes`` is the estimator's ``classes_``, else the number of
    distinct labels so far; with neither (no label yet) the budget is low unless
    ``low_budget_per_class`` is 0.

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

    The registry name ``"auto"`` is this strategy with its defaults. The component that
    answered the last query is ``last_choice_`` (its registry name); :meth:`choose` tells
    which one a query would use without running it. A campaign's journal and handouts
    record the strategy with its component, e.g. ``"auto:probcover"`` (the scores are the
    component's), and so does the learner's ``teach``, which answers through its campaign.

    Parameters
    ----------
    low_budget_per_class : float, default=3
        Labels per class below which the budget counts as low (>= 0; 0: never ProbCover).

    Attributes
    ----------
    last_choice_ : str
        ``"probcover"``, ``"random"``, ``"diverse_margin"`` or ``"margin"``: the component of
        the last query.

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
    }
    requires = ("predict_proba",)

    def __init__(self, low_budget_per_class: float = 3) -> None:
        self.low_budget_per_class = low_budget_per_class

    def choose(self, estimator, context, X_pool=None) -> tuple[str, QueryStrategy]:
        """The component a query with this estimator, context and pool uses: (name, strategy).

        Without ``X_pool`` (or with a pool that can be read only once) the embedding is not
        checked and counts as following the classes.
        """
        n_labels = 0 if context.y_labeled is None else len(context.y_labeled)
        k = n_classes(estimator, context.y_labeled) or 1  # nothing known: no label yet
        if n_labels < self.low_budget_per_class * k:
            if X_pool is not None and not _embedding_follows_labels(X_pool, context, estimator):
                return "random", RandomSampling()
            return "probcover", ProbCover()
        if has_method(estimator, "embed"):
            return "diverse_margin", DiverseMiniBatch()
        return "margin", UncertaintySampling("margin")

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
    n_pool = pool_length(X_pool)
    if len(counts) < 2 or counts.min() < 2 or not n_pool:
        return True  # a single label of a class cannot be hidden; a one-shot pool not reread
    seed = context.random_state if isinstance(context.random_state, Integral) else 0
    rows = np.sort(np.random.default_rng(seed).choice(n_pool, min(n_pool, _CHECK_ROWS),
                                                      replace=False))
    who, alternative = ("the auto strategy's embedding check",
                        "use query_strategy='diverse_margin' (on the model's embedding)")
    features = InputFeatures(estimator, who, alternative)  # ProbCover's: a Pipeline's if need be
    Z, Z_labeled = pca_embedding(features(take_rows(X_pool, rows)), features(L), 0)
    spread = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.2, max_iter=100)
    accuracy = held_out_accuracy(spread, np.vstack([Z_labeled, Z]), codes, len(Z), seed)
    return accuracy >= 1 / len(counts) + _ABOVE_CHANCE
