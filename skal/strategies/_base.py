"""The two kinds of built-in strategy.

A strategy is called as ``strategy(estimator, X_pool, n_instances, random_state, **context)``
and returns pool indices, most informative first -- the same protocol as a user's callable.
Built-ins subclass :class:`sklearn.base.BaseEstimator` only to get ``get_params``, so a
learner holding one clones and grid-searches like any parameter.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from skal._pool import DEFAULT_POOL_BATCH_SIZE, top_k

__all__ = ["QueryStrategy", "ScoreStrategy"]

SCORE_DECIMALS = 9


class QueryStrategy(BaseEstimator):
    """Base class of built-in strategies.

    ``requires`` names the estimator methods the strategy calls, so the learner can give a
    clear error before scoring.
    """

    requires: tuple[str, ...] = ("predict_proba",)

    def __call__(self, estimator, X_pool, n_instances, random_state=None, **context):
        raise NotImplementedError


class ScoreStrategy(QueryStrategy):
    """A strategy that scores each pool sample on its own (higher = more informative).

    The pool is scored in chunks of ``pool_batch_size`` with a running top-k, so memory is
    O(pool_batch_size x n_classes) whatever the pool size.
    """

    def score(self, estimator, X, rng: np.random.Generator) -> np.ndarray:
        """Score a chunk of samples; higher is picked first."""
        raise NotImplementedError

    def __call__(
        self,
        estimator,
        X_pool,
        n_instances,
        random_state=None,
        *,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
        check_chunk=None,
        return_scores: bool = False,
        **context,
    ):
        rng = np.random.default_rng(random_state)

        def score_chunk(chunk):
            # A model's output can differ in the last bits with the batch it is computed
            # in (BLAS blocking); rounding makes such near-ties exact ties, broken by pool
            # index, so the selection does not depend on pool_batch_size.
            return np.round(self.score(estimator, chunk, rng), SCORE_DECIMALS)

        idx, scores = top_k(
            score_chunk,
            X_pool,
            n_instances,
            chunk_size=pool_batch_size,
            check_chunk=check_chunk,
        )
        return (idx, scores) if return_scores else idx
