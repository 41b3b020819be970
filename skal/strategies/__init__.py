"""Query strategies: pure scoring functions and the strategy objects built on them.

Every strategy is callable as ``strategy(estimator, X_pool, n_instances, random_state)`` and
returns indices into ``X_pool``, most informative first. Use a name (``"entropy"``) or an
object (``UncertaintySampling("margin")``) as ``ActiveLearningClassifier(query_strategy=...)``.

Per-sample scores (chunked, memory independent of the pool size): ``"entropy"``,
``"margin"``, ``"least_confident"``, ``"random"``, ``"density"`` (Settles & Craven 2008);
from MC-dropout passes (Gal et al. 2017): ``"bald"``, ``"variation_ratios"``,
``"mc_entropy"``, and the committee measures ``"vote_entropy"``, ``"kl_divergence"``.
Batch-aware, on embeddings: ``"coreset"`` (Sener & Savarese 2018), ``"badge"`` (Ash et al.
2020), ``"diverse_margin"`` (Zhdanov 2019).
"""

from skal.strategies._base import QueryStrategy, ScoreStrategy
from skal.strategies._registry import STRATEGIES, get_strategy
from skal.strategies.bayesian import MCDropoutSampling, bald, mc_entropy, variation_ratios
from skal.strategies.committee import Committee, kl_divergence, vote_entropy
from skal.strategies.density import InformationDensity
from skal.strategies.diversity import BADGE, CoreSet, DiverseMiniBatch
from skal.strategies.random import RandomSampling
from skal.strategies.uncertainty import UncertaintySampling, entropy, least_confident, margin

__all__ = [
    "BADGE",
    "STRATEGIES",
    "Committee",
    "CoreSet",
    "DiverseMiniBatch",
    "InformationDensity",
    "MCDropoutSampling",
    "QueryStrategy",
    "RandomSampling",
    "ScoreStrategy",
    "UncertaintySampling",
    "bald",
    "entropy",
    "get_strategy",
    "kl_divergence",
    "least_confident",
    "margin",
    "mc_entropy",
    "variation_ratios",
    "vote_entropy",
]
