"""The stopping protocol: a criterion's check of the newest model on a fixed stop set."""

from __future__ import annotations

from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import Interval

from skal._params import StrictParamsMixin
from skal._pool import take_rows

__all__ = ["StopSignal", "StoppingCriterion", "resolve_stopping"]


class StopSignal(NamedTuple):
    """A criterion's answer after one fit.

    Attributes
    ----------
    stop : bool
        Whether labeling can stop now.
    progress : str
        How close it is, for people (``"predictions stable for 2 of 3 rounds (kappa
        0.995)"``).
    reason : str
        Why it stops, as the campaign's ``stop_reason_`` records it.

    Examples
    --------
    What a criterion's ``check`` returns, a named tuple:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import OverallUncertainty
    >>> X = np.r_[np.zeros(20), np.ones(20)][:, None] * 10
    >>> model = LogisticRegression().fit(X, np.r_[np.zeros(20), np.ones(20)])
    >>> signal = OverallUncertainty(threshold=0.1).check(model, X, random_state=0)
    >>> signal
    StopSignal(stop=True, progress='mean uncertainty 0.047 (stops below 0.1)',
               reason='overall uncertainty')
    >>> stop, progress, reason = signal
    >>> stop
    True
    """

    stop: bool
    progress: str
    reason: str


class StoppingCriterion(StrictParamsMixin, BaseEstimator):
    """Base class of stopping criteria: a stop set drawn once, then ``check`` per fit.

    Subclasses implement :meth:`check_predictions`, which sees the newest model and the
    stop set's rows. The campaign calls :meth:`check` after every fit with the pool and the
    campaign's seed; a criterion keeps what it needs between fits (the previous
    predictions) in attributes ending with ``_``, so each campaign uses a clone.

    Parameters
    ----------
    stop_set_size : int, default=1000
        Pool samples in the stop set (all of them when the pool is smaller).

    Examples
    --------
    A criterion of your own -- stop once the model predicts one class for at most half of
    the stop set (a made-up rule):

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import StoppingCriterion, StopSignal
    >>> class MajorityBelowHalf(StoppingCriterion):
    ...     def check_predictions(self, estimator, X_stop):
    ...         share = np.unique(estimator.predict(X_stop), return_counts=True)[1].max()
    ...         share = share / len(X_stop)
    ...         return StopSignal(bool(share <= 0.5), f"majority share {share:.2f}",
    ...                           "balanced")
    >>> X = np.array([[0.0], [1.0], [0.2], [0.9], [0.6], [0.4]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> MajorityBelowHalf().check(model, X, random_state=0)
    StopSignal(stop=True, progress='majority share 0.50', reason='balanced')
    """

    _parameter_constraints: dict = {
        "stop_set_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, stop_set_size: int = 1000) -> None:
        self.stop_set_size = stop_set_size

    def check(self, estimator, X_pool, *, random_state=None) -> StopSignal:
        """The signal after one fit: the stop set (drawn on the first call) checked.

        Parameters
        ----------
        estimator : estimator
            The newest fitted model.
        X_pool : array-like
            The campaign's pool; the stop set is drawn from its first rows' indices once.
        random_state : int, Generator or None, default=None
            Seeds the stop set's draw.

        Returns
        -------
        StopSignal
        """
        if not hasattr(self, "stop_set_"):
            self._validate_params()
            n = len(X_pool)
            rng = np.random.default_rng(random_state)
            size = min(self.stop_set_size, n)
            self.stop_set_ = np.sort(rng.choice(n, size=size, replace=False))
        signal = self.check_predictions(estimator, take_rows(X_pool, self.stop_set_))
        return StopSignal(bool(signal.stop), signal.progress, signal.reason)

    def check_predictions(self, estimator, X_stop) -> StopSignal:
        """The signal, from the model and the stop set's rows (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement check_predictions.")


def resolve_stopping(stopping) -> list:
    """The ``stopping`` option as a list of fresh criteria (clones: one state per campaign).

    Parameters
    ----------
    stopping : None, a criterion or a list of criteria
        Any object with ``check(estimator, X_pool, *, random_state)`` returning a
        :class:`StopSignal` is a criterion.

    Returns
    -------
    list
        Unfitted copies, in the given order.

    Examples
    --------
    >>> from skal.stopping import StabilizingPredictions, resolve_stopping
    >>> resolve_stopping(StabilizingPredictions(window=2))
    [StabilizingPredictions(window=2)]
    >>> resolve_stopping(None)
    []
    """
    if stopping is None:
        return []
    items = list(stopping) if isinstance(stopping, list | tuple) else [stopping]
    for item in items:
        if isinstance(item, type) or not callable(getattr(item, "check", None)):
            raise TypeError(
                f"stopping must be a criterion (an object with check(), such as "
                f"skal.stopping.StabilizingPredictions()) or a list of them, got {item!r}."
            )
    fresh = [clone(item) if hasattr(item, "get_params") else item for item in items]
    for item in fresh:  # options checked when the campaign starts, not at its first fit
        if callable(getattr(item, "_validate_params", None)):
            item._validate_params()
    return fresh
