"""The built-in stopping criteria: stabilizing predictions, overall and max uncertainty."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import cohen_kappa_score
from sklearn.utils._param_validation import Interval

from skal.stopping._base import StoppingCriterion, StopSignal
from skal.strategies import entropy

__all__ = ["MaxUncertainty", "OverallUncertainty", "StabilizingPredictions"]


def normalised_entropy(proba: np.ndarray) -> np.ndarray:
    """Entropy of each row of class probabilities over its maximum, ``log(n_classes)``."""
    proba = np.asarray(proba, dtype=float)
    if proba.shape[1] < 2:
        return np.zeros(len(proba))
    return entropy(proba) / np.log(proba.shape[1])


class StabilizingPredictions(StoppingCriterion):
    """Stop when successive models agree on the stop set (Bloodgood & Vijay-Shanker 2009).

    After each fit, the new model's predictions on the stop set are compared with the
    previous model's by Cohen's kappa; labeling stops once kappa has reached ``threshold``
    ``window`` times in a row. The stop set needs no label: it is a fixed random sample of
    the pool. The paper's defaults: kappa 0.99, 3 rounds, a stop set of 2,000 (1,000 here:
    a quarter of the cost, the same decision on digits). With few labels per round, stable
    predictions can come early; a larger ``window`` waits longer.

    Parameters
    ----------
    threshold : float in (0, 1], default=0.99
        Agreement (Cohen's kappa) that counts as stable.
    window : int >= 1, default=3
        Stable rounds in a row before stopping.
    stop_set_size : int, default=1000
        Pool samples whose predictions are compared.

    Attributes
    ----------
    kappas_ : list of float
        The agreement after each fit (NaN for the first).

    References
    ----------
    M. Bloodgood and K. Vijay-Shanker, "A Method for Stopping Active Learning Based on
    Stabilizing Predictions and the Need for User-Adjustable Stopping", CoNLL 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import StabilizingPredictions
    >>> X = np.linspace(0, 1, 50)[:, None]
    >>> stable = StabilizingPredictions(window=2)
    >>> model = LogisticRegression().fit(X[[0, 49]], [0, 1])
    >>> [stable.check(model, X, random_state=0).stop for _ in range(3)]
    [False, False, True]
    >>> stable.kappas_
    [nan, 1.0, 1.0]
    """

    _parameter_constraints: dict = {
        **StoppingCriterion._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="right")],
        "window": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, threshold: float = 0.99, window: int = 3,
                 stop_set_size: int = 1000) -> None:
        super().__init__(stop_set_size=stop_set_size)
        self.threshold = threshold
        self.window = window

    def check_predictions(self, estimator, X_stop) -> StopSignal:
        predicted = np.asarray(estimator.predict(X_stop))
        previous = getattr(self, "previous_", None)
        self.kappas_ = getattr(self, "kappas_", [])
        if previous is None:
            kappa = float("nan")
        elif np.array_equal(previous, predicted):
            kappa = 1.0  # kappa is undefined when both agree on a single class
        else:
            kappa = float(cohen_kappa_score(previous, predicted))
        self.previous_ = predicted
        self.kappas_.append(kappa)
        run = 0
        for k in reversed(self.kappas_):
            if not k >= self.threshold:
                break
            run += 1
        progress = f"predictions stable for {min(run, self.window)} of {self.window} rounds" + (
            "" if kappa != kappa else f" (kappa {kappa:.3f})")
        return StopSignal(run >= self.window, progress, "stabilizing predictions")


class OverallUncertainty(StoppingCriterion):
    """Stop when the model is confident about the pool on average (Zhu et al. 2008).

    The mean normalised entropy (entropy over ``log(n_classes)``, 0 = certain, 1 = uniform)
    of the model's class probabilities on the stop set must fall below ``threshold``.

    Parameters
    ----------
    threshold : float in (0, 1), default=0.1
        The mean normalised entropy below which labeling stops.
    stop_set_size : int, default=1000
        Pool samples averaged over.

    References
    ----------
    J. Zhu, H. Wang, E. Hovy and M. Ma, "Confidence-based stopping criteria for active
    learning for data annotation", ACM TSLP 6(3), 2010 (and COLING 2008).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import OverallUncertainty
    >>> X = np.r_[np.zeros(20), np.ones(20)][:, None] * 10
    >>> model = LogisticRegression().fit(X, np.r_[np.zeros(20), np.ones(20)])
    >>> OverallUncertainty(threshold=0.1).check(model, X, random_state=0).stop
    True
    """

    _parameter_constraints: dict = {
        **StoppingCriterion._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, threshold: float = 0.1, stop_set_size: int = 1000) -> None:
        super().__init__(stop_set_size=stop_set_size)
        self.threshold = threshold

    def check_predictions(self, estimator, X_stop) -> StopSignal:
        value = float(normalised_entropy(estimator.predict_proba(X_stop)).mean())
        return StopSignal(value < self.threshold,
                          f"mean uncertainty {value:.3f} (stops below {self.threshold})",
                          "overall uncertainty")


class MaxUncertainty(StoppingCriterion):
    """Stop when even the most uncertain stop-set sample is certain enough (Zhu et al. 2008).

    The largest normalised entropy of the model's class probabilities on the stop set must
    fall below ``threshold`` (the max-confidence criterion, applied to a fixed stop set
    rather than the batch just chosen, so every round is measured on the same samples).

    Parameters
    ----------
    threshold : float in (0, 1), default=0.5
        The largest normalised entropy below which labeling stops.
    stop_set_size : int, default=1000
        Pool samples looked at.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import MaxUncertainty
    >>> X = np.linspace(0, 1, 21)[:, None]
    >>> model = LogisticRegression().fit(X[[0, 20]], [0, 1])
    >>> MaxUncertainty(threshold=0.5).check(model, X, random_state=0).stop  # 0.5 is a coin
    False
    """

    _parameter_constraints: dict = {
        **StoppingCriterion._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, threshold: float = 0.5, stop_set_size: int = 1000) -> None:
        super().__init__(stop_set_size=stop_set_size)
        self.threshold = threshold

    def check_predictions(self, estimator, X_stop) -> StopSignal:
        value = float(normalised_entropy(estimator.predict_proba(X_stop)).max())
        return StopSignal(value < self.threshold,
                          f"largest uncertainty {value:.3f} (stops below {self.threshold})",
                          "max uncertainty")
