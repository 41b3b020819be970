"""Uncertainty sampling (Lewis & Gale 1994; Settles 2009)."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions

from skal.strategies._base import ScoreStrategy
from skal.strategies._measures import UNCERTAINTY_MEASURES

__all__ = ["UncertaintySampling"]


class UncertaintySampling(ScoreStrategy):
    """Pick the samples the model is least sure about (uncertainty sampling).

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confident"}, default="entropy"
        Uncertainty measure of the predicted probabilities; see :func:`entropy`,
        :func:`margin` and :func:`least_confident`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.strategies import UncertaintySampling
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(), query_strategy=UncertaintySampling("margin"))
    """

    _parameter_constraints: dict = {"measure": [StrOptions(set(UNCERTAINTY_MEASURES))]}
    requires = ("predict_proba",)

    def __init__(self, measure: str = "entropy") -> None:
        self.measure = measure

    def score(self, estimator, X, rng) -> np.ndarray:
        return UNCERTAINTY_MEASURES[self.measure](estimator.predict_proba(X))
