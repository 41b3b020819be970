"""Information density: uncertainty weighted by how representative a sample is."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal._pool import DEFAULT_POOL_BATCH_SIZE, iter_chunks, pool_length
from skal.strategies._base import QueryStrategy, ScoreStrategy
from skal.strategies._features import predict_proba_2d
from skal.strategies.uncertainty import _MEASURES as _UNCERTAINTY

__all__ = ["InformationDensity"]


def _unit_rows(chunk) -> np.ndarray:
    """Rows flattened and scaled to unit length (zero rows stay zero), float64."""
    X = np.asarray(chunk, dtype=np.float64).reshape(len(chunk), -1)
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    return X / np.where(norms > 0, norms, 1.0)[:, None]


class _DensityScorer(ScoreStrategy):
    """Scores chunks once the pool's sum of unit vectors is known (not public)."""

    requires = ()

    def __init__(self, measure, beta, unit_sum=None, n_pool=None):
        self.measure = measure
        self.beta = beta
        self.unit_sum = unit_sum
        self.n_pool = n_pool

    def score(self, estimator, X, rng) -> np.ndarray:
        uncertainty = _UNCERTAINTY[self.measure](predict_proba_2d(estimator, X))
        similarity = np.maximum(_unit_rows(X) @ self.unit_sum / self.n_pool, 0.0)
        return uncertainty * similarity ** float(self.beta)


class InformationDensity(QueryStrategy):
    """Information density (Settles & Craven 2008): uncertain *and* typical samples.

    ``score(x) = uncertainty(x) * (mean_{u in pool} cos(x, u)) ** beta``. Uncertainty
    sampling alone is drawn to outliers; weighting by the mean cosine similarity to the
    pool favours samples in dense regions, which stand for many others.

    The mean similarity is computed without an n x n matrix:
    ``mean_u cos(x, u) = <x/|x|, sum_u u/|u|> / n``, so the strategy makes two passes over
    the pool, the first summing its unit vectors, the second scoring chunk by chunk with a
    running top-k: memory O(pool_batch_size x n_features). A pool given as an iterable of
    chunks can be read only once, so its chunks are kept in memory: O(pool x n_features).

    Similarity is measured on the samples *as given to the learner* (the raw input
    features, flattened; before any Pipeline step), so it works with any classifier with
    ``predict_proba`` and does not change as the model trains. A negative mean similarity
    (possible when features take both signs) counts as 0.

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confident"}, default="entropy"
        Uncertainty measure of the predicted probabilities.
    beta : float, default=1.0
        Weight of the density term; 0 gives plain uncertainty sampling.

    References
    ----------
    Settles, B. & Craven, M. (2008). An Analysis of Active Learning Strategies for Sequence
    Labeling Tasks. EMNLP.
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions(set(_UNCERTAINTY))],
        "beta": [Interval(Real, 0, None, closed="left")],
    }
    requires = ("predict_proba",)

    def __init__(self, measure: str = "entropy", beta: float = 1.0) -> None:
        self.measure = measure
        self.beta = beta

    def __call__(
        self,
        estimator,
        X_pool,
        n_instances,
        random_state=None,
        *,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
        check_chunk=None,
        **context,
    ):
        self._validate_params()
        if pool_length(X_pool) is None:  # one-shot iterable: keep the chunks
            X_pool = [np.asarray(chunk) for _, chunk in iter_chunks(X_pool, pool_batch_size)]
        unit_sum, n_pool = None, 0
        for _, chunk in iter_chunks(X_pool, pool_batch_size):
            if check_chunk is not None:
                chunk = check_chunk(chunk)
            if len(chunk) == 0:
                continue
            part = _unit_rows(chunk).sum(axis=0)
            unit_sum = part if unit_sum is None else unit_sum + part
            n_pool += len(chunk)
        if n_pool == 0:
            raise ValueError("X_pool is empty: there is nothing to query.")
        scorer = _DensityScorer(self.measure, self.beta, unit_sum, n_pool)
        return scorer(
            estimator, X_pool, n_instances, random_state, pool_batch_size=pool_batch_size,
            check_chunk=check_chunk, **context,
        )
