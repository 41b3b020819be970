"""Strategy names, so that ``query_strategy="margin"`` can be grid-searched."""

from __future__ import annotations

from collections.abc import Callable

from skal.strategies._auto import AutoStrategy
from skal.strategies._base import QueryStrategy
from skal.strategies._bayesian import MCDropoutSampling
from skal.strategies._committee import Committee
from skal.strategies._density import InformationDensity
from skal.strategies._diversity import BADGE, CoreSet, DiverseMiniBatch
from skal.strategies._multilabel import MultilabelUncertainty
from skal.strategies._random import RandomSampling
from skal.strategies._rare import RareClassSampling
from skal.strategies._regression import GreedySampling, VarianceSampling
from skal.strategies._typical import ProbCover, TypiClust
from skal.strategies._uncertainty import UncertaintySampling

__all__ = [
    "MULTILABEL_STRATEGIES", "REGRESSION_STRATEGIES", "STRATEGIES", "check_strategy_task",
    "get_strategy", "names_for_task", "resolve_strategy", "strategy_name",
]

# name -> factory of a strategy with default options.
STRATEGIES: dict[str, Callable[[], QueryStrategy]] = {
    "entropy": lambda: UncertaintySampling("entropy"),
    "margin": lambda: UncertaintySampling("margin"),
    "least_confident": lambda: UncertaintySampling("least_confident"),
    "random": RandomSampling,
    "bald": lambda: MCDropoutSampling("bald"),
    "variation_ratios": lambda: MCDropoutSampling("variation_ratios"),
    "mc_entropy": lambda: MCDropoutSampling("mc_entropy"),
    "vote_entropy": lambda: Committee("vote_entropy"),
    "kl_divergence": lambda: Committee("kl_divergence"),
    "coreset": CoreSet,
    "badge": BADGE,
    "density": InformationDensity,
    "diverse_margin": DiverseMiniBatch,
    # cold start, on a PCA of the raw features (no label needed)
    "typiclust": TypiClust,
    "probcover": ProbCover,
    # ProbCover while fewer than 3 labels per class (AutoStrategy(low_budget_per_class=3),
    # classes from the estimator's classes_), then "diverse_margin" ("margin" for a model
    # without embed); the component of the last query is its last_choice_
    "auto": AutoStrategy,
    # rare classes first: a batch round-robin over the predicted classes, the class with
    # the fewest labels first, the most uncertain (margin) first within a class
    "rare_class": RareClassSampling,
    # regression (ActiveLearningRegressor): predictive variance, from the estimator's
    # return_std, else MC-dropout passes, else 5 bootstrap clones; greedy sampling (iGS)
    "variance": VarianceSampling,
    "greedy": GreedySampling,
    # multi-label (a 2-D 0/1 y): the per-label probabilities' mean binary entropy, the
    # binary minimum (Brinker 2006), max loss and mean max loss (Li et al. 2004, as modAL)
    "ml_entropy": lambda: MultilabelUncertainty("mean_entropy"),
    "ml_binary_minimum": lambda: MultilabelUncertainty("binary_minimum"),
    "ml_max_loss": lambda: MultilabelUncertainty("max_loss"),
    "ml_mean_max_loss": lambda: MultilabelUncertainty("mean_max_loss"),
}

#: The names a regressor takes ("random" serves both tasks); every other name is a
#: classification strategy.
REGRESSION_STRATEGIES = ("variance", "greedy", "random")
#: The names a multi-label campaign takes; there "auto" (the learner's default) is
#: "ml_binary_minimum" (the label nearest its boundary; the only multi-label strategy ahead
#: of random in benchmarks/multilabel.py) and "entropy" is "ml_entropy", read per label.
MULTILABEL_ALIASES = {"auto": "ml_binary_minimum", "entropy": "ml_entropy"}
MULTILABEL_STRATEGIES = ("ml_entropy", "ml_binary_minimum", "ml_max_loss", "ml_mean_max_loss",
                         "random", *MULTILABEL_ALIASES)


def resolve_strategy(query_strategy) -> QueryStrategy | Callable:
    """The strategy that ``query_strategy`` stands for, with its options checked.

    A name gives a fresh strategy object with default options; a :class:`QueryStrategy`
    object is validated against its ``_parameter_constraints`` (the one validation path
    of every strategy option, so a learner's ``fit`` fails at once, not at the first
    query) and returned; any other callable is returned as it is.

    Parameters
    ----------
    query_strategy : str, QueryStrategy or callable
        A name of :data:`STRATEGIES`, a strategy object, or a callable
        ``fn(estimator, X_pool, n_instances, random_state)`` returning indices.

    Returns
    -------
    strategy : QueryStrategy or callable

    Raises
    ------
    ValueError
        If ``query_strategy`` is an unknown name (the message lists the names), or a
        strategy object has a bad option (an ``InvalidParameterError``, which is both a
        ValueError and a TypeError, naming the option).
    TypeError
        If it is neither a name nor a callable.

    Examples
    --------
    >>> from skal.strategies import UncertaintySampling, resolve_strategy
    >>> resolve_strategy("margin")
    UncertaintySampling(measure='margin')
    >>> resolve_strategy(UncertaintySampling("entropyy"))
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'measure' parameter of UncertaintySampling must be a str among {...}. Got 'entropyy' instead.
    """  # noqa: E501
    if isinstance(query_strategy, str):
        try:
            return STRATEGIES[query_strategy]()
        except KeyError:
            raise ValueError(
                f"Unknown query_strategy={query_strategy!r}; choose one of "
                f"{sorted(STRATEGIES)} or pass a callable."
            ) from None
    if isinstance(query_strategy, QueryStrategy):
        query_strategy._validate_params()
        return query_strategy
    if callable(query_strategy):
        return query_strategy
    raise TypeError(
        f"query_strategy must be a strategy name, a strategy object or a callable, got "
        f"{type(query_strategy).__name__}."
    )


def _tasks_of(strategy) -> tuple[str, ...] | None:
    """The tasks a resolved strategy serves (its ``tasks``); None for a user callable."""
    tasks = getattr(strategy, "tasks", None)
    if tasks is not None:
        return tuple(tasks)
    if isinstance(strategy, RandomSampling):
        return ("classification", "regression", "multilabel")
    if isinstance(strategy, QueryStrategy):
        return ("classification",)  # the built-ins read class probabilities or classes
    return None


def names_for_task(task: str = "classification") -> list[str]:
    """The registered strategy names a campaign of ``task`` takes, sorted.

    Parameters
    ----------
    task : {"classification", "regression", "multilabel"}, default="classification"
        What the campaign learns (``campaign.spec.task``).

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skal.strategies import names_for_task
    >>> names_for_task("regression")
    ['greedy', 'random', 'variance']
    >>> "ml_entropy" in names_for_task(), "margin" in names_for_task()
    (False, True)
    """
    if task == "regression":
        return sorted(REGRESSION_STRATEGIES)
    if task == "multilabel":
        return sorted(MULTILABEL_STRATEGIES)
    if task != "classification":
        raise ValueError(f"task must be 'classification', 'regression' or 'multilabel', got "
                         f"{task!r}.")
    other = set(REGRESSION_STRATEGIES) | set(MULTILABEL_STRATEGIES)
    return sorted(set(STRATEGIES) - other | {"random", *MULTILABEL_ALIASES})


def check_strategy_task(strategy, task: str, *, name=None):
    """``strategy`` (resolved), or a ValueError when it cannot serve a ``task`` campaign.

    A classification strategy (``"entropy"``, ``"margin"``, ``"auto"``, ...) on a regressor
    and a regression one (``"variance"``, ``"greedy"``) on a classifier are refused,
    naming the names that work. A strategy object says what it serves with a ``tasks``
    attribute (skal's classification strategies: classification only); a user callable
    is not checked.

    Examples
    --------
    >>> from skal.strategies import check_strategy_task, resolve_strategy
    >>> check_strategy_task(resolve_strategy("variance"), "regression")
    VarianceSampling()
    >>> check_strategy_task(resolve_strategy("entropy"), "regression", name="entropy")
    Traceback (most recent call last):
    ...
    ValueError: query_strategy='entropy' is a classification strategy, but this campaign ...
    """
    if task == "multilabel" and isinstance(name, str) and name in MULTILABEL_ALIASES:
        return STRATEGIES[MULTILABEL_ALIASES[name]]()
    tasks = _tasks_of(strategy)
    if tasks is None or task in tasks:
        return strategy
    shown = name if name is not None else strategy
    works = names_for_task(task)
    hint = {"regression": "a regressor (ActiveLearningRegressor) takes",
            "multilabel": "a multi-label campaign (a 2-D 0/1 y) takes"}.get(
        task, "a classifier (ActiveLearningClassifier) takes")
    raise ValueError(
        f"query_strategy={shown!r} is a {tasks[0]} strategy, but this campaign learns "
        f"{task}: {hint} one of {works}, a strategy object for its task, or a callable."
    )


#: The former name of :func:`resolve_strategy`, kept for existing code.
get_strategy = resolve_strategy


def strategy_name(query_strategy) -> str:
    """A query strategy's name as journals record it: the name, or the object's name.

    Examples
    --------
    >>> from skal.strategies import UncertaintySampling, strategy_name
    >>> strategy_name("margin"), strategy_name(UncertaintySampling("margin"))
    ('margin', 'UncertaintySampling')
    """
    if isinstance(query_strategy, str):
        return query_strategy
    name = getattr(query_strategy, "name", None) or getattr(query_strategy, "__name__", None)
    return name if isinstance(name, str) else type(query_strategy).__name__
