"""Strategy names, so that ``query_strategy="margin"`` can be grid-searched."""

from __future__ import annotations

from collections.abc import Callable

from skal.strategies._base import QueryStrategy
from skal.strategies.random import RandomSampling
from skal.strategies.uncertainty import UncertaintySampling

__all__ = ["STRATEGIES", "get_strategy"]

# name -> factory of a strategy with default options.
STRATEGIES: dict[str, Callable[[], QueryStrategy]] = {
    "entropy": lambda: UncertaintySampling("entropy"),
    "margin": lambda: UncertaintySampling("margin"),
    "least_confident": lambda: UncertaintySampling("least_confident"),
    "random": RandomSampling,
}


def get_strategy(query_strategy) -> Callable:
    """Resolve a strategy name to a strategy object; callables pass through.

    Raises
    ------
    ValueError
        If ``query_strategy`` is an unknown name.
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
    if callable(query_strategy):
        return query_strategy
    raise TypeError(
        f"query_strategy must be a strategy name or a callable, got "
        f"{type(query_strategy).__name__}."
    )
