"""Strategy names, so that ``query_strategy="margin"`` can be grid-searched."""

from __future__ import annotations

from collections.abc import Callable

from skal.strategies._auto import AutoStrategy
from skal.strategies._base import QueryStrategy
from skal.strategies._bayesian import MCDropoutSampling
from skal.strategies._committee import Committee
from skal.strategies._density import InformationDensity
from skal.strategies._diversity import BADGE, CoreSet, DiverseMiniBatch
from skal.strategies._random import RandomSampling
from skal.strategies._rare import RareClassSampling
from skal.strategies._typical import ProbCover, TypiClust
from skal.strategies._uncertainty import UncertaintySampling

__all__ = ["STRATEGIES", "get_strategy", "resolve_strategy", "strategy_name"]

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
}


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
