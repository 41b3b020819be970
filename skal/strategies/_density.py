"""Information density: uncertainty weighted by how representative a sample is."""

from __future__ import annotations

from functools import partial
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal._pool import iter_chunks, pool_length
from skal.strategies._base import ChunkScorer, QueryStrategy
from skal.strategies._features import NUMBERS_ALTERNATIVE, InputFeatures, predict_proba_2d
from skal.strategies._measures import UNCERTAINTY_MEASURES

__all__ = ["InformationDensity"]


def _unit_rows(chunk) -> np.ndarray:
    """Rows flattened and scaled to unit length (zero rows stay zero), float64."""
    X = np.asarray(chunk, dtype=np.float64).reshape(len(chunk), -1)
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    return X / np.where(norms > 0, norms, 1.0)[:, None]


def _density_scores(estimator, X, *, measure, beta, unit_sum, n_pool, features) -> np.ndarray:
    """Uncertainty times the mean cosine similarity to the pool, to the power ``beta``."""
    uncertainty = UNCERTAINTY_MEASURES[measure](predict_proba_2d(estimator, X))
    similarity = np.maximum(_unit_rows(features(X)) @ unit_sum / n_pool, 0.0)
    return uncertainty * similarity ** float(beta)


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
    ``predict_proba`` and does not change as the model trains. Raw features that are not
    numbers (a DataFrame with a string column) are read through the Pipeline's own
    preprocessing instead, ``pipeline[:-1].transform(X)`` (e.g. a ``ColumnTransformer``
    with a ``OneHotEncoder``), densified; a bare estimator given such features is an error
    that says so. A negative mean similarity (possible when features take both signs)
    counts as 0.

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confident"}, default="entropy"
        Uncertainty measure of the predicted probabilities.
    beta : float, default=1.0
        Weight of the density term (finite, >= 0); 0 gives plain uncertainty sampling.

    References
    ----------
    Settles, B. & Craven, M. (2008). An Analysis of Active Learning Strategies for Sequence
    Labeling Tasks. EMNLP.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.strategies import InformationDensity
    >>> learner = ActiveLearningClassifier(
    ...     LogisticRegression(), query_strategy=InformationDensity("margin", beta=2))
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions(set(UNCERTAINTY_MEASURES))],
        "beta": [Interval(Real, 0, None, closed="left")],
    }
    requires = ("predict_proba",)

    def __init__(self, measure: str = "entropy", beta: float = 1.0) -> None:
        self.measure = measure
        self.beta = beta

    def select(self, estimator, X_pool, n_instances, context):
        """The best samples by uncertainty times density, best first."""
        if pool_length(X_pool) is None:  # one-shot iterable: keep the chunks
            X_pool = [
                np.asarray(chunk) for _, chunk in iter_chunks(X_pool, context.pool_batch_size)
            ]
        features = InputFeatures(estimator, f"query_strategy={self!r}", NUMBERS_ALTERNATIVE)
        unit_sum, n_pool = None, 0
        for _, chunk in iter_chunks(X_pool, context.pool_batch_size):
            if context.check_chunk is not None:
                chunk = context.check_chunk(chunk)
            if len(chunk) == 0:
                continue
            part = _unit_rows(features(chunk)).sum(axis=0)
            unit_sum = part if unit_sum is None else unit_sum + part
            n_pool += len(chunk)
        scorer = ChunkScorer(partial(
            _density_scores, measure=self.measure, beta=self.beta, unit_sum=unit_sum,
            n_pool=n_pool, features=features,
        ))
        return scorer.select(estimator, X_pool, n_instances, context)
