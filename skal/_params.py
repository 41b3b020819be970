"""Parameter validation of skal's estimators: scikit-learn's, and no bool where a count goes."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    validate_parameter_constraints,
)

__all__ = ["StrictParamsMixin", "check_count"]


class StrictParamsMixin:
    """``_validate_params`` as scikit-learn's, then a bool refused for a count parameter.

    ``Interval(Integral, ...)`` admits ``True`` and ``False`` (bool subclasses int), so
    ``n_instances=True`` would silently ask for one sample a round and ``max_pool=True``
    score one pool sample. A parameter whose constraints take an integer interval and no
    boolean is refused a bool here, for every estimator that mixes this in before
    :class:`sklearn.base.BaseEstimator`.
    """

    def _validate_params(self) -> None:
        super()._validate_params()
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name, None)
            if isinstance(value, bool | np.bool_) and _counts_only(constraints):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be an int, not "
                    f"the bool {value!r}: pass a number."
                )


def _counts_only(constraints) -> bool:
    """Whether ``constraints`` take an integer interval and no boolean."""
    takes_int = any(isinstance(c, Interval) and c.type is Integral for c in constraints)
    takes_bool = any(c is bool or c == "boolean" for c in constraints)
    return takes_int and not takes_bool


def check_count(value, name: str, *, low: int = 1, caller: str) -> int:
    """``value`` checked as the constraint ``Interval(Integral, low, None)``, no bool.

    For counts that are method arguments rather than estimator parameters (a batch size
    given to one call); the message is scikit-learn's ``InvalidParameterError`` (a
    ``ValueError`` and a ``TypeError``).
    """
    if isinstance(value, bool | np.bool_):
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be an int, not the bool {value!r}: "
            "pass a number."
        )
    validate_parameter_constraints(
        {name: [Interval(Integral, low, None, closed="left")]}, {name: value}, caller_name=caller
    )
    return int(value)
