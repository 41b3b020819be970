"""Query strategies: pure scoring functions and the strategy objects built on them.

Every strategy is callable as ``strategy(estimator, X_pool, n_instances, random_state)`` and
returns indices into ``X_pool``, most informative first. Use a name (``"entropy"``) or an
object (``UncertaintySampling("margin")``) as ``ActiveLearningClassifier(query_strategy=...)``.
"""

from skal.strategies._base import QueryStrategy, ScoreStrategy
from skal.strategies._registry import STRATEGIES, get_strategy
from skal.strategies.random import RandomSampling
from skal.strategies.uncertainty import UncertaintySampling, entropy, least_confident, margin

__all__ = [
    "STRATEGIES",
    "QueryStrategy",
    "RandomSampling",
    "ScoreStrategy",
    "UncertaintySampling",
    "entropy",
    "get_strategy",
    "least_confident",
    "margin",
]
