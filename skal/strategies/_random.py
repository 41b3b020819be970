"""Random sampling: the baseline every active-learning strategy must beat."""

from __future__ import annotations

import numpy as np

from skal.strategies._base import ScoreStrategy

__all__ = ["RandomSampling"]


class RandomSampling(ScoreStrategy):
    """Pick samples uniformly at random, without looking at the model.

    Scores are i.i.d. uniform draws consumed in pool order, so chunked scoring gives the same
    selection as scoring the pool at once, and the same ``random_state`` the same batch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import QueryContext, RandomSampling, select_batch
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> idx, _ = select_batch(RandomSampling(), model, X, 3, QueryContext(random_state=0))
    >>> idx
    array([9, 5, 4])
    >>> idx2, _ = select_batch(RandomSampling(), model, X, 3, QueryContext(random_state=0))
    >>> idx2.tolist() == idx.tolist()  # the same seed, the same batch
    True
    """

    _parameter_constraints: dict = {}
    requires = ()

    def score(self, estimator, X, rng) -> np.ndarray:
        return rng.random(len(X))
