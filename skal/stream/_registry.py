"""Stream selectors by name: name -> class, and the one way to turn an option into a selector."""

from __future__ import annotations

from sklearn.base import clone

from skal.stream._base import StreamSelector
from skal.stream._selectors import (
    FixedUncertainty,
    RandomizedVariableUncertainty,
    RandomSelection,
    Split,
    VariableUncertainty,
)

__all__ = ["SELECTORS", "resolve_selector"]

SELECTORS: dict[str, type[StreamSelector]] = {
    "random": RandomSelection,
    "fixed_uncertainty": FixedUncertainty,
    "variable_uncertainty": VariableUncertainty,
    "randomized_variable_uncertainty": RandomizedVariableUncertainty,
    "split": Split,
}


def resolve_selector(selector, *, budget: float | None = None) -> StreamSelector:
    """A fresh, validated selector from a name or a selector object.

    Parameters
    ----------
    selector : str or StreamSelector
        A name of :data:`SELECTORS` (default options), or a selector, which is cloned:
        the given object keeps its state, the copy starts with nothing spent.
    budget : float or None, default=None
        Sets the copy's ``budget`` (``None``: keep it).

    Returns
    -------
    StreamSelector

    Examples
    --------
    >>> from skal.stream import resolve_selector
    >>> resolve_selector("split", budget=0.05)
    Split(budget=0.05)
    """
    if isinstance(selector, str):
        if selector not in SELECTORS:
            raise ValueError(
                f"selector={selector!r} is not a stream selector name; use one of "
                f"{sorted(SELECTORS)} or a skal.stream.StreamSelector."
            )
        fresh = SELECTORS[selector]()
    elif isinstance(selector, StreamSelector):
        fresh = clone(selector)
    else:
        raise TypeError(
            f"selector must be a name ({sorted(SELECTORS)}) or a skal.stream.StreamSelector "
            f"(e.g. skal.stream.VariableUncertainty(budget=0.1)), got {selector!r}."
        )
    if budget is not None:
        fresh.set_params(budget=budget)
    fresh._validate_params()
    return fresh
