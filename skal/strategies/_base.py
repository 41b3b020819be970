"""The two kinds of built-in strategy.

A strategy is called as ``strategy(estimator, X_pool, n_instances, random_state, **context)``
and returns pool indices, most informative first -- the same protocol as a user's callable.
Built-ins subclass :class:`sklearn.base.BaseEstimator` only to get ``get_params``, so a
learner holding one clones and grid-searches like any parameter.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from skal._pool import DEFAULT_POOL_BATCH_SIZE, is_dask_collection, top_k

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

    A ``dask.array.Array`` pool is scored block by block where the blocks live (see
    ``skal._dask``), with the same result. ``score`` gets one random generator whose stream
    is consumed in pool order; on a dask block it is that stream advanced by one draw per
    preceding sample, which reproduces the in-memory selection exactly when ``score`` draws
    one double per sample (as :class:`~skal.strategies.RandomSampling` does).
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
        if is_dask_collection(X_pool):  # blocks scored on the workers; dask is optional
            from skal._dask import dask_top_k

            idx, scores = dask_top_k(
                self, estimator, X_pool, n_instances, random_state,
                pool_batch_size=pool_batch_size, check_chunk=check_chunk,
            )
            return (idx, scores) if return_scores else idx
        rng = np.random.default_rng(random_state)
        idx, scores = top_k(
            lambda chunk: self._chunk_scores(estimator, chunk, rng),
            X_pool,
            n_instances,
            chunk_size=pool_batch_size,
            check_chunk=check_chunk,
        )
        return (idx, scores) if return_scores else idx

    def _chunk_scores(self, estimator, chunk, rng) -> np.ndarray:
        # A model's output can differ in the last bits with the batch it is computed in
        # (BLAS blocking); rounding makes such near-ties exact ties, broken by pool index,
        # so the selection does not depend on pool_batch_size (or on dask's blocks).
        return np.round(self.score(estimator, chunk, rng), SCORE_DECIMALS)
