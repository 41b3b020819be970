"""Strategy names, so that ``query_strategy="margin"`` can be grid-searched."""

from __future__ import annotations

from collections.abc import Callable

from skal.strategies._base import QueryStrategy
from skal.strategies.bayesian import MCDropoutSampling
from skal.strategies.committee import Committee
from skal.strategies.density import InformationDensity
from skal.strategies.diversity import BADGE, CoreSet, DiverseMiniBatch
from skal.strategies.random import RandomSampling
from skal.strategies.uncertainty import UncertaintySampling

__all__ = ["STRATEGIES", "get_strategy"]

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
}


def get_strategy(query_strategy) -> Callable:
    """Resolve a strategy name to a strategy object; callables pass through.

    Built-in strategy objects have their options validated here, so that a learner's
    ``fit`` fails at once, not at the first query.

    Raises
    ------
    ValueError
        If ``query_strategy`` is an unknown name, or a strategy object has a bad option.
    TypeError
        If it is neither a name nor a callable.
    """
    if isinstance(query_strategy, str):
        try:
            return STRATEGIES[query_strategy]()
        except KeyError:
            raise ValueError(
                f"Unknown query_strategy={query_strategy!r}; choose one of "
                f"{sorted(STRATEGIES)} or pass a callable."
            ) from None
    if isinstance(query_strategy, QueryStrategy):
        _validate(query_strategy)
    if callable(query_strategy):
        return query_strategy
    raise TypeError(
        f"query_strategy must be a strategy name or a callable, got "
        f"{type(query_strategy).__name__}."
    )


def _validate(strategy: QueryStrategy) -> None:
    """Check a built-in strategy's options: its ``_validate`` or its parameter constraints."""
    check = getattr(strategy, "_validate", None)
    if check is not None:
        check()
    elif hasattr(strategy, "_parameter_constraints"):
        strategy._validate_params()
