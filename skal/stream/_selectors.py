"""The built-in stream selectors: random, fixed, variable and randomized uncertainty, split.

All follow Žliobaitė et al. (2014), "Active learning with drifting streaming data" (IEEE
TNNLS 25(1)), with its budget gate (:class:`~skal.stream.StreamSelector`). Uncertainty is
the model's probability of its most likely class, its *confidence*: a sample is asked when
the confidence is low.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from skal.stream._base import StreamSelector

__all__ = [
    "FixedUncertainty",
    "RandomSelection",
    "RandomizedVariableUncertainty",
    "Split",
    "VariableUncertainty",
]

_STEP = [Interval(Real, 0, 1, closed="neither")]


class RandomSelection(StreamSelector):
    """Ask for each sample's label with probability ``budget`` (the baseline; reads no model).

    Parameters
    ----------
    budget : float in (0, 1], default=0.1
        The fraction of the stream that may be labeled.
    window : int >= 1 or None, default=100
        Samples over which the spent fraction is estimated (see
        :class:`~skal.stream.StreamSelector`).
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.stream import RandomSelection
    >>> selector = RandomSelection(budget=0.2, random_state=0)
    >>> asked = selector.decide(None, np.zeros((1000, 3)))
    >>> selector.n_asked_ / selector.n_seen_ <= 0.2 + 0.02
    True
    """

    needs_model = False

    def want_label(self, confidence: float, rng: np.random.RandomState) -> bool:
        return bool(rng.random_sample() < self.budget)


class FixedUncertainty(StreamSelector):
    """Ask when the model's confidence is at or below a fixed threshold (Fixed-Uncertainty).

    Žliobaitė et al. (2014), algorithm 2. Without a ``threshold``, the one of
    scikit-activeml: ``1 / n_classes + budget * (1 - 1 / n_classes)``. The rule never
    adapts: once the model is confident everywhere (right or wrong, a drift far from the
    decision boundary included), it stops asking and the budget goes unspent.

    Parameters
    ----------
    threshold : float in (0, 1] or None, default=None
        Ask for samples whose confidence is ``<= threshold``.
    budget : float in (0, 1], default=0.1
        The fraction of the stream that may be labeled.
    window : int >= 1 or None, default=100
        Samples over which the spent fraction is estimated (``None``: all of them).
    random_state : int, RandomState instance or None, default=None
        Unused (no random draw); kept for a common signature.

    Attributes
    ----------
    threshold_ : float
        The threshold in use.

    Examples
    --------
    modAL's stream example asks when ``1 - confidence >= 0.4``:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import FixedUncertainty
    >>> X = np.linspace(-3, 3, 61)[:, None]
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0)
    >>> selector = FixedUncertainty(threshold=0.6, budget=1.0)
    >>> asked = selector.decide(model, X)
    >>> bool(np.all(np.abs(X[asked, 0]) < 0.5)), selector.threshold_
    (True, 0.6)
    """

    _parameter_constraints: dict = {
        **StreamSelector._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="right"), None],
    }

    def __init__(self, threshold: float | None = None, *, budget: float = 0.1,
                 window: int | None = 100, random_state=None) -> None:
        super().__init__(budget=budget, window=window, random_state=random_state)
        self.threshold = threshold

    def want_label(self, confidence: float, rng: np.random.RandomState) -> bool:
        if self.threshold is not None:
            self.threshold_ = float(self.threshold)
        else:
            k = self.n_classes_
            self.threshold_ = 1.0 / k + self.budget * (1.0 - 1.0 / k)
        return confidence <= self.threshold_


class VariableUncertainty(StreamSelector):
    """Ask below a threshold that adapts to spend the budget (Var-Uncertainty).

    Žliobaitė et al. (2014), algorithm 3: while budget is left, a sample whose confidence
    is below ``threshold_`` is asked and the threshold shrinks by ``step`` (``threshold_
    *= 1 - step``), otherwise it grows (``*= 1 + step``). A model confident everywhere
    lets the threshold rise until it asks again, so the budget is spent over time.

    Parameters
    ----------
    step : float in (0, 1), default=0.01
        The relative change of the threshold per sample (the paper's ``s``).
    budget : float in (0, 1], default=0.1
        The fraction of the stream that may be labeled.
    window : int >= 1 or None, default=100
        Samples over which the spent fraction is estimated (``None``: all of them).
    random_state : int, RandomState instance or None, default=None
        Unused here (no random draw); the randomized and split variants draw.

    Attributes
    ----------
    threshold_ : float
        The current threshold (1.0 at the start).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import VariableUncertainty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2))
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0)
    >>> selector = VariableUncertainty(budget=0.1)
    >>> asked = selector.decide(model, X)
    >>> 0.05 < asked.mean() <= 0.11
    np.True_
    """

    _parameter_constraints: dict = {**StreamSelector._parameter_constraints, "step": _STEP}

    def __init__(self, step: float = 0.01, *, budget: float = 0.1, window: int | None = 100,
                 random_state=None) -> None:
        super().__init__(budget=budget, window=window, random_state=random_state)
        self.step = step

    def _init_state(self) -> None:
        self.threshold_ = 1.0

    def _below(self, confidence: float, rng: np.random.RandomState) -> bool:
        """The adaptive rule: ask below the threshold, then move it."""
        ask = bool(confidence < self.threshold_ * self._scale(rng))
        self.threshold_ *= (1.0 - self.step) if ask else (1.0 + self.step)
        return ask

    def _scale(self, rng: np.random.RandomState) -> float:
        return 1.0

    def want_label(self, confidence: float, rng: np.random.RandomState) -> bool:
        return self._below(confidence, rng)


class RandomizedVariableUncertainty(VariableUncertainty):
    """Variable uncertainty with a randomized threshold (Ran-Var-Uncertainty).

    Žliobaitė et al. (2014), algorithm 4: the threshold of each decision is ``threshold_ *
    eta`` with ``eta ~ N(1, delta)``, so that now and then a confident sample is asked too
    -- a change far from the decision boundary can show.

    Parameters
    ----------
    step : float in (0, 1), default=0.01
        The relative change of the threshold per sample.
    delta : float > 0, default=1.0
        The standard deviation of the threshold's random factor.
    budget : float in (0, 1], default=0.1
        The fraction of the stream that may be labeled.
    window : int >= 1 or None, default=100
        Samples over which the spent fraction is estimated (``None``: all of them).
    random_state : int, RandomState instance or None, default=None
        Seeds the random factors.

    Attributes
    ----------
    threshold_ : float
        The current threshold, before its random factor.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import RandomizedVariableUncertainty
    >>> X = np.random.default_rng(0).normal(size=(500, 2))
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0)
    >>> a = RandomizedVariableUncertainty(random_state=1).decide(model, X)
    >>> b = RandomizedVariableUncertainty(random_state=1).decide(model, X)
    >>> bool((a == b).all())
    True
    """

    _parameter_constraints: dict = {
        **VariableUncertainty._parameter_constraints,
        "delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, step: float = 0.01, delta: float = 1.0, *, budget: float = 0.1,
                 window: int | None = 100, random_state=None) -> None:
        super().__init__(step=step, budget=budget, window=window, random_state=random_state)
        self.delta = delta

    def _scale(self, rng: np.random.RandomState) -> float:
        return float(rng.normal(1.0, self.delta))


class Split(VariableUncertainty):
    """A share of the stream decided at random, the rest by variable uncertainty (Split).

    Žliobaitė et al. (2014), algorithm 6: with probability ``random_share`` a sample is
    asked with probability ``budget`` (as :class:`RandomSelection`), otherwise by
    :class:`VariableUncertainty`'s rule (whose threshold moves only on those). The random
    part keeps looking everywhere, so a change where the model is confident is found.

    Parameters
    ----------
    random_share : float in (0, 1), default=0.2
        The share of samples decided at random (the paper's ``v``; scikit-activeml's
        default is 0.1).
    step : float in (0, 1), default=0.01
        The relative change of the threshold per sample.
    budget : float in (0, 1], default=0.1
        The fraction of the stream that may be labeled.
    window : int >= 1 or None, default=100
        Samples over which the spent fraction is estimated (``None``: all of them).
    random_state : int, RandomState instance or None, default=None
        Seeds the split and the random decisions.

    Attributes
    ----------
    threshold_ : float
        The variable-uncertainty threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import Split
    >>> X = np.random.default_rng(0).normal(size=(3000, 2))
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0)
    >>> selector = Split(budget=0.1, random_state=0)
    >>> asked = selector.decide(model, X)
    >>> bool(np.abs(X[asked, 0]).max() > 1)  # some confident samples are asked too
    True
    """

    _parameter_constraints: dict = {
        **VariableUncertainty._parameter_constraints, "random_share": _STEP,
    }

    def __init__(self, random_share: float = 0.2, step: float = 0.01, *,
                 budget: float = 0.1, window: int | None = 100, random_state=None) -> None:
        super().__init__(step=step, budget=budget, window=window, random_state=random_state)
        self.random_share = random_share

    def want_label(self, confidence: float, rng: np.random.RandomState) -> bool:
        if rng.random_sample() < self.random_share:
            return bool(rng.random_sample() < self.budget)
        return self._below(confidence, rng)
