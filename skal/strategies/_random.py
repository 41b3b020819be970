"""Random sampling: the baseline every active-learning strategy must beat."""

from __future__ import annotations

import numpy as np

from skal.strategies._base import ScoreStrategy

__all__ = ["RandomSampling"]


class RandomSampling(ScoreStrategy):
    """Pick samples uniformly at random, without looking at the model.

    Scores are i.i.d. uniform draws consumed in pool order, so chunked scoring gives the same
    selection as scoring the pool at once, and the same ``random_state`` the same batch.
    """

    _parameter_constraints: dict = {}
    requires = ()

    def score(self, estimator, X, rng) -> np.ndarray:
        return rng.random(len(X))
