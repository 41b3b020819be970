"""The "auto" strategy: ProbCover while labels are few, then uncertainty with diversity.

Which strategy wins depends on the budget (Hacohen et al. 2022): with few labels per class,
typical samples beat uncertain ones; with many, the opposite. This module composes the
strategies of the other modules (like the registry, it may import them).
"""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from skal.strategies._base import QueryStrategy
from skal.strategies._diversity import DiverseMiniBatch
from skal.strategies._features import has_method, n_classes
from skal.strategies._typical import ProbCover
from skal.strategies._uncertainty import UncertaintySampling

__all__ = ["AutoStrategy"]


class AutoStrategy(QueryStrategy):
    """Choose the strategy by the labeling regime: ProbCover first, then diverse margin.

    The rule, applied at every query: while the number of labels so far
    (``len(context.y_labeled)``) is below ``low_budget_per_class * n_classes``, ask
    :class:`ProbCover` (cold start: cover the pool's PCA embedding with balls of pure
    neighbourhoods); from there on, :class:`DiverseMiniBatch` (``"diverse_margin"``: the most
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
    first rounds while the cold-start strategies fall behind it, so the cold start must end
    early. Past the switch, a budget counts as high (Hacohen et al. 2022: opposite strategies
    suit high and low budgets).

    The registry name ``"auto"`` is this strategy with its defaults. The component that
    answered the last query is ``last_choice_`` (its registry name); :meth:`choose` tells
    which one a query would use without running it. A campaign's journal and handouts
    record the strategy as ``"auto"``; ``campaign.strategy.last_choice_`` has the component.

    Parameters
    ----------
    low_budget_per_class : float, default=3
        Labels per class below which the budget counts as low (>= 0; 0: never ProbCover).

    Attributes
    ----------
    last_choice_ : str
        ``"probcover"``, ``"diverse_margin"`` or ``"margin"``: the component of the last
        query.

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

    def choose(self, estimator, context) -> tuple[str, QueryStrategy]:
        """The component a query with this estimator and context uses: (name, strategy)."""
        n_labels = 0 if context.y_labeled is None else len(context.y_labeled)
        k = n_classes(estimator, context.y_labeled) or 1  # nothing known: no label yet
        if n_labels < self.low_budget_per_class * k:
            return "probcover", ProbCover()
        if has_method(estimator, "embed"):
            return "diverse_margin", DiverseMiniBatch()
        return "margin", UncertaintySampling("margin")

    def select(self, estimator, X_pool, n_instances, context):
        """The batch of the component :meth:`choose` names (recorded in ``last_choice_``)."""
        name, strategy = self.choose(estimator, context)
        self.last_choice_ = name
        return strategy.select(estimator, X_pool, n_instances, context)
