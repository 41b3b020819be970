"""Query strategies: which pool samples are most worth labeling next.

A strategy is a :class:`QueryStrategy` (or a plain callable) asked through
:func:`select_batch` with a :class:`QueryContext` -- the round's seed, the labeled set and
how to chunk the pool -- for pool indices, most informative first, and their scores. Use a
name (``"entropy"``) or an object (``UncertaintySampling("margin")``) as
``ActiveLearningClassifier(query_strategy=...)``; :func:`resolve_strategy` turns either into
a checked strategy object. Calling a strategy object,
``strategy(estimator, X_pool, n_instances, random_state)``, returns the indices.

Per-sample scores (chunked, memory independent of the pool size): ``"entropy"``,
``"margin"``, ``"least_confident"``, ``"random"``, ``"density"`` (Settles & Craven 2008);
from MC-dropout passes (Gal et al. 2017): ``"bald"``, ``"variation_ratios"``,
``"mc_entropy"``, and the committee measures ``"vote_entropy"``, ``"kl_divergence"``.
Batch-aware, on embeddings: ``"coreset"`` (Sener & Savarese 2018), ``"badge"`` (Ash et al.
2020), ``"diverse_margin"`` (Zhdanov 2019). Cold start, on a PCA of the raw features that
needs no label: ``"typiclust"`` (Hacohen et al. 2022), ``"probcover"`` (Yehuda et al. 2022);
``"auto"``: {auto}. The measures are public functions (:func:`entropy`, :func:`bald`,
...). Regression (:class:`skal.ActiveLearningRegressor`): ``"variance"``
(:class:`VarianceSampling`: the estimator's ``return_std``, MC-dropout passes or bootstrap
clones), ``"greedy"`` (:class:`GreedySampling`, iGS of Wu et al. 2019) and ``"random"``.
"""

from skal.strategies._auto import AUTO_SUMMARY, AutoStrategy
from skal.strategies._base import QueryContext, QueryStrategy, ScoreStrategy, select_batch
from skal.strategies._bayesian import MCDropoutSampling
from skal.strategies._committee import Committee
from skal.strategies._density import InformationDensity
from skal.strategies._diversity import BADGE, CoreSet, DiverseMiniBatch
from skal.strategies._measures import (
    bald,
    entropy,
    kl_divergence,
    least_confident,
    margin,
    mc_entropy,
    variation_ratios,
    vote_entropy,
)
from skal.strategies._multilabel import (
    MULTILABEL_MEASURES,
    MultilabelUncertainty,
    as_label_probabilities,
    binary_minimum,
    label_probabilities,
    max_loss,
    mean_label_entropy,
    mean_max_loss,
)
from skal.strategies._random import RandomSampling
from skal.strategies._rare import RareClassSampling
from skal.strategies._registry import (
    MULTILABEL_STRATEGIES,
    REGRESSION_STRATEGIES,
    STRATEGIES,
    check_strategy_task,
    get_strategy,
    names_for_task,
    resolve_strategy,
    strategy_name,
)
from skal.strategies._regression import GreedySampling, VarianceSampling, variance_source
from skal.strategies._typical import ProbCover, TypiClust
from skal.strategies._uncertainty import UncertaintySampling

__doc__ = __doc__.replace("{auto}", AUTO_SUMMARY)

__all__ = [
    "AUTO_SUMMARY",
    "BADGE",
    "MULTILABEL_MEASURES",
    "MULTILABEL_STRATEGIES",
    "REGRESSION_STRATEGIES",
    "STRATEGIES",
    "AutoStrategy",
    "Committee",
    "CoreSet",
    "DiverseMiniBatch",
    "GreedySampling",
    "InformationDensity",
    "MCDropoutSampling",
    "MultilabelUncertainty",
    "ProbCover",
    "QueryContext",
    "QueryStrategy",
    "RandomSampling",
    "RareClassSampling",
    "ScoreStrategy",
    "TypiClust",
    "UncertaintySampling",
    "VarianceSampling",
    "as_label_probabilities",
    "bald",
    "binary_minimum",
    "check_strategy_task",
    "names_for_task",
    "entropy",
    "get_strategy",
    "kl_divergence",
    "label_probabilities",
    "least_confident",
    "margin",
    "max_loss",
    "mean_label_entropy",
    "mean_max_loss",
    "mc_entropy",
    "resolve_strategy",
    "select_batch",
    "strategy_name",
    "variance_source",
    "variation_ratios",
    "vote_entropy",
]
