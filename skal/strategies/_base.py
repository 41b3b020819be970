"""The strategy protocol: a query context, the base classes, and the one way to ask for a batch.

A strategy answers ``select(estimator, X_pool, n_instances, context)`` with pool indices,
most informative first, and their scores. :class:`QueryContext` carries everything else a
strategy may use (the round's seed, the labeled set, how to chunk and check the pool), so a
user's strategy gets exactly what the built-in ones get. :func:`select_batch` is the single
entry point of the learner and the campaign: it checks the estimator, the pool and the
answer, whatever the strategy. Built-ins subclass :class:`sklearn.base.BaseEstimator` for
``get_params`` and for their one validation path, ``_parameter_constraints``, so a learner
holding one clones and grid-searches like any parameter.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from skal._params import StrictParamsMixin, check_count
from skal._pool import (
    DEFAULT_POOL_BATCH_SIZE,
    is_dask_collection,
    is_frame,
    iter_chunks,
    pool_length,
    take_rows,
    top_k,
)
from skal.strategies._features import has_method, last_step

__all__ = ["QueryContext", "QueryStrategy", "ScoreStrategy", "select_batch"]

SCORE_DECIMALS = 9

# What to tell a user whose estimator lacks a method a strategy requires.
_REQUIRES_HINT = {
    "predict_proba_samples": (
        "stochastic (MC-dropout) forward passes: use skal.CNNClassifier or "
        "skal.KerasClassifier with a Dropout layer; with any classifier, a committee of "
        "bootstrap clones does the same job (skal.strategies.Committee(n_members=5), and "
        "its measure='kl_divergence'), or a strategy that needs only predict_proba "
        "(e.g. 'entropy')"
    ),
    "predict_proba": (
        "class probabilities: give the classifier probabilities (SVC(probability=True), "
        "or wrap it in sklearn.calibration.CalibratedClassifierCV), or use "
        "query_strategy='random'"
    ),
    "embed": (
        "embeddings of the pool: use skal.CNNClassifier or skal.KerasClassifier "
        "(penultimate layer, or embedding_layer=...)"
    ),
}


@dataclass(frozen=True, eq=False)
class QueryContext:
    """What a strategy may use besides the model and the pool.

    Built-in strategies and user callables (those accepting ``context=``) get the same
    context from :func:`select_batch`.

    Parameters
    ----------
    random_state : int, Generator or None, default=None
        The seed of this query. Strategies make their random generator from it, so the same
        seed gives the same batch.
    X_labeled : array-like of shape (n_labeled, n_features) or None, default=None
        The labeled samples so far, in labeling order.
    y_labeled : array-like of shape (n_labeled,) or None, default=None
        Their labels.
    pool_batch_size : int, default=16384
        Pool rows scored (or embedded) at once: bounds the memory of a query.
    check_chunk : callable or None, default=None
        Validates (and may convert) each chunk of the pool before it is scored, e.g. its
        number of features. None: no check.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.strategies import QueryContext
    >>> context = QueryContext(random_state=0, X_labeled=np.zeros((2, 3)),
    ...                        y_labeled=np.array([0, 1]), pool_batch_size=1024)
    >>> context.random_state, context.pool_batch_size, len(context.X_labeled)
    (0, 1024, 2)
    """

    random_state: Any = None
    X_labeled: Any = None
    y_labeled: Any = None
    pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE
    check_chunk: Callable | None = None

    def __post_init__(self) -> None:
        check_count(self.pool_batch_size, "pool_batch_size", caller="QueryContext")
        if self.check_chunk is not None and not callable(self.check_chunk):
            raise TypeError(f"check_chunk must be callable or None, got {self.check_chunk!r}.")


class QueryStrategy(StrictParamsMixin, BaseEstimator):
    """Base class of query strategies: implement :meth:`select`.

    A subclass lists its options as ``__init__`` parameters (stored unchanged, as for any
    scikit-learn estimator) with their ``_parameter_constraints``, which
    :func:`~skal.strategies.resolve_strategy` checks -- so a bad option fails at the
    learner's ``fit``, not at the first query. ``requires`` names the estimator methods the
    strategy calls; :func:`select_batch` checks them before scoring. A strategy that scores
    each sample on its own should subclass :class:`ScoreStrategy` and implement ``score``.

    Instead of a subclass, a plain callable
    ``fn(estimator, X_pool, n_instances, random_state)`` returning indices also works; give
    it a ``context`` keyword parameter to receive the same :class:`QueryContext`.

    Examples
    --------
    A strategy that picks the pool samples farthest from the labeled set:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import QueryContext, QueryStrategy, select_batch
    >>> class Farthest(QueryStrategy):
    ...     requires = ()  # it does not ask the model anything
    ...     def select(self, estimator, X_pool, n_instances, context):
    ...         X = np.asarray(X_pool, dtype=float)
    ...         d = np.abs(X[:, None, 0] - context.X_labeled[None, :, 0]).min(axis=1)
    ...         idx = np.argsort(-d, kind="stable")[:n_instances]
    ...         return idx, d[idx]
    >>> X = np.array([[0.0], [1.0], [5.0], [9.0], [2.0]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> context = QueryContext(X_labeled=X[:2], y_labeled=np.array([0, 1]))
    >>> select_batch(Farthest(), model, X[2:], 2, context)
    (array([1, 0]), array([8., 4.]))

    The same as a plain callable, which gets the context through its ``context`` keyword
    (a callable has no scores: they are NaN):

    >>> def farthest(estimator, X_pool, n_instances, random_state, *, context):
    ...     d = np.abs(X_pool[:, None, 0] - context.X_labeled[None, :, 0]).min(axis=1)
    ...     return np.argsort(-d, kind="stable")[:n_instances]
    >>> select_batch(farthest, model, X[2:], 2, context)
    (array([1, 0]), array([nan, nan]))

    Either can be a learner's ``query_strategy``:
    ``ActiveLearningClassifier(query_strategy=Farthest())``.
    """

    _parameter_constraints: dict = {}
    requires: tuple[str, ...] = ("predict_proba",)

    def select(self, estimator, X_pool, n_instances: int, context: QueryContext):
        """Choose a batch from the pool.

        Parameters
        ----------
        estimator : estimator object
            The fitted model (possibly a Pipeline).
        X_pool : array-like, iterable of chunks or dask array
            The pool; not empty. Pass each chunk through ``context.check_chunk``.
        n_instances : int
            Size of the batch (fewer if the pool is smaller).
        context : QueryContext
            Seed, labeled set and chunking of this query.

        Returns
        -------
        indices : ndarray of shape (n_selected,)
            Distinct indices into ``X_pool``, most informative first, at most
            ``n_instances``.
        scores : ndarray of shape (n_selected,)
            Their scores (float; NaN where the strategy has none).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement select().")

    def __call__(self, estimator, X_pool, n_instances, random_state=None, *, context=None):
        """Query directly: the indices of :func:`select_batch` with this strategy.

        The options are validated first. Without ``context``, the query has only a seed
        (``QueryContext(random_state=random_state)``: no labeled set, default chunking);
        with it, ``random_state`` must be left out (it is ``context.random_state``).
        For the scores too, call :func:`select_batch`.
        """
        if context is None:
            context = QueryContext(random_state=random_state)
        elif random_state is not None:
            raise TypeError("Give the seed as context.random_state, not also as random_state.")
        self._validate_params()
        return select_batch(self, estimator, X_pool, n_instances, context)[0]


class ScoreStrategy(QueryStrategy):
    """A strategy that scores each pool sample on its own (higher = more informative).

    The pool is scored in chunks of ``context.pool_batch_size`` with a running top-k, so
    memory is O(pool_batch_size x n_classes) whatever the pool size.

    A ``dask.array.Array`` pool is scored block by block where the blocks live (see
    ``skal._dask``), with the same result. ``score`` gets one random generator whose stream
    is consumed in pool order; on a dask block it is that stream advanced by one draw per
    preceding sample, which reproduces the in-memory selection exactly when ``score`` draws
    one double per sample (as :class:`~skal.strategies.RandomSampling` does).

    Examples
    --------
    A strategy that picks the samples with the largest first feature:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import QueryContext, ScoreStrategy, select_batch
    >>> class LargestFirst(ScoreStrategy):
    ...     requires = ()  # it does not ask the model anything
    ...     def score(self, estimator, X, rng):
    ...         return np.asarray(X, dtype=float)[:, 0]
    >>> X = np.array([[0.3], [2.0], [1.0], [5.0]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> select_batch(LargestFirst(), model, X, 2, QueryContext(random_state=0))
    (array([3, 1]), array([5., 2.]))
    """

    def score(self, estimator, X, rng: np.random.Generator) -> np.ndarray:
        """Score a chunk of samples; higher is picked first."""
        raise NotImplementedError(f"{type(self).__name__} must implement score().")

    def select(self, estimator, X_pool, n_instances: int, context: QueryContext):
        """The ``n_instances`` best-scored samples, best first (ties: lowest index)."""
        if is_dask_collection(X_pool):  # blocks scored on the workers; dask is optional
            from skal._dask import dask_top_k

            return dask_top_k(
                self, estimator, X_pool, n_instances, context.random_state,
                pool_batch_size=context.pool_batch_size, check_chunk=context.check_chunk,
            )
        rng = np.random.default_rng(context.random_state)
        return top_k(
            lambda chunk: self.score_chunk(estimator, chunk, rng),
            X_pool,
            n_instances,
            chunk_size=context.pool_batch_size,
            check_chunk=context.check_chunk,
        )

    def score_chunk(self, estimator, chunk, rng) -> np.ndarray:
        """:meth:`score` of one chunk of the pool, rounded for a ranking that does not
        depend on how the pool is chunked (what ``select`` and dask's blocks rank)."""
        # A model's output can differ in the last bits with the batch it is computed in
        # (BLAS blocking); rounding makes such near-ties exact ties, broken by pool index,
        # so the selection does not depend on pool_batch_size (or on dask's blocks).
        return np.round(self.score(estimator, chunk, rng), SCORE_DECIMALS)


class ChunkScorer(ScoreStrategy):
    """Scores chunks with ``score_fn(estimator, X)``: a strategy's scorer for one query.

    Strategies that first compute something for the whole query (a dropout seed, fitted
    committee members, the pool's density) bind it into ``score_fn`` (a picklable
    ``functools.partial``, so dask can ship it) and rank the pool with this.
    """

    requires = ()

    def __init__(self, score_fn=None) -> None:
        self.score_fn = score_fn

    def score(self, estimator, X, rng) -> np.ndarray:
        return self.score_fn(estimator, X)


# ---------------------------------------------------------------- select_batch
def select_batch(strategy, estimator, X_pool, n_instances: int, context: QueryContext, *,
                 name=None) -> tuple[np.ndarray, np.ndarray]:
    """Ask a strategy for a batch: the one way the learner and the campaign query.

    Checks that the estimator has the methods the strategy requires and that the pool is
    not empty, computes a dask pool into memory (with a warning) for a strategy that is not
    score-based, asks the strategy, and checks a callable's answer.

    Parameters
    ----------
    strategy : QueryStrategy or callable
        A strategy object (see :func:`~skal.strategies.resolve_strategy`), or a callable
        ``fn(estimator, X_pool, n_instances, random_state)`` returning indices. A callable
        with a ``context`` keyword parameter (or ``**kwargs``) also gets ``context=``. It
        sees the pool as one array, checked by ``context.check_chunk``. A modAL-style
        answer ``(indices, X_pool[indices])`` is accepted, and so is a modAL query function
        itself (``fn(classifier, X, n_instances=1, ...)``, no ``random_state`` parameter):
        it is called as ``fn(estimator, X_pool, n_instances=n_instances)``.
    estimator : estimator object
        The fitted model; for a Pipeline, its last step is asked for required methods.
    X_pool : array-like, iterable of chunks or dask array
        The pool.
    n_instances : int
        Size of the batch (fewer if the pool is smaller).
    context : QueryContext
        Seed, labeled set and chunking of this query.
    name : object, optional
        The user's ``query_strategy`` value, for error messages.

    Returns
    -------
    indices : ndarray of shape (n_selected,), dtype intp
        Distinct indices into ``X_pool``, most informative first.
    scores : ndarray of shape (n_selected,), dtype float
        Their scores; NaN for a callable.

    Raises
    ------
    TypeError
        If the estimator lacks a required method, or a callable returns non-integer indices
        or an unrecognised tuple.
    ValueError
        If the pool is empty, or a callable returns no index, repeated indices, more than
        ``n_instances`` or indices outside the pool.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import QueryContext, resolve_strategy, select_batch
    >>> X = np.array([[0.0], [1.0], [0.45], [0.9], [0.55]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> idx, scores = select_batch(resolve_strategy("margin"), model, X[2:], 2,
    ...                            QueryContext(random_state=0), name="margin")
    >>> idx
    array([0, 2])
    """
    who = _describe(strategy, name)
    _check_requires(strategy, estimator, who)
    check_count(n_instances, "n_instances", caller="select_batch")
    if is_dask_collection(X_pool) and not isinstance(strategy, ScoreStrategy):
        from skal._dask import materialize_pool  # needs the whole pool: warns first

        X_pool = materialize_pool(X_pool, who)
    X_pool = _check_not_empty(X_pool)
    _check_pool_head(X_pool, context)
    if isinstance(strategy, QueryStrategy):
        idx, scores = strategy.select(estimator, X_pool, int(n_instances), context)
        return np.asarray(idx, dtype=np.intp), np.asarray(scores, dtype=float)
    return _select_with_callable(strategy, estimator, X_pool, int(n_instances), context, who)


def _describe(strategy, name) -> str:
    """``query_strategy=...`` as the user gave it, for error messages."""
    value = strategy if name is None else name
    if isinstance(value, str | QueryStrategy):
        return f"query_strategy={value!r}"
    return f"query_strategy={getattr(value, '__name__', type(value).__name__)}"


def _check_requires(strategy, estimator, who: str) -> None:
    for method in getattr(strategy, "requires", ()):
        # a Pipeline lacks its last step's extra methods (embed, ...): ask that step
        if not has_method(estimator, method):
            hint = _REQUIRES_HINT.get(method)
            raise TypeError(
                f"{who} needs the estimator's {method}(), which "
                f"{type(last_step(estimator)).__name__} does not have"
                + (f"; it needs {hint}." if hint else ".")
            )


def _check_not_empty(X_pool):
    """The pool, or ValueError if it has no sample; a one-shot iterable is peeked at."""
    n = pool_length(X_pool)
    if n is None and not is_dask_collection(X_pool):  # an iterable of chunks
        if not isinstance(X_pool, list | tuple):
            try:
                chunks = iter(X_pool)
            except TypeError:
                raise TypeError(
                    "X_pool must be an array-like, an iterable of chunks or a dask array, "
                    f"got {type(X_pool).__name__}."
                ) from None
            seen = []
            for chunk in chunks:
                seen.append(chunk)
                if len(np.asarray(chunk)):
                    return itertools.chain(seen, chunks)  # what was read, then the rest
            X_pool = seen
        n = sum(len(np.asarray(chunk)) for chunk in X_pool)
    if n == 0:
        raise ValueError("X_pool is empty: there is nothing to query.")
    return X_pool


def _check_pool_head(X_pool, context: QueryContext) -> None:
    """A sliceable pool's shape (and first row) through ``context.check_chunk`` before any
    strategy reads it: one that samples or embeds the pool first (auto's embedding check,
    ProbCover) would otherwise fail deep in its own steps on a pool of the wrong width."""
    if context.check_chunk is None or pool_length(X_pool) is None or \
            is_dask_collection(X_pool):
        return  # chunks are checked as they are read, a dask pool before it is shipped
    if isinstance(X_pool, list | tuple):
        head = np.asarray(X_pool[:1] if np.ndim(X_pool[0]) else X_pool)
    else:  # a 1-D pool whole, so that the message shows its shape
        head = X_pool if len(X_pool.shape) < 2 else take_rows(X_pool, slice(0, 1))
    context.check_chunk(head if is_frame(head) else np.asarray(head))


def _select_with_callable(fn, estimator, X_pool, n_instances, context, who):
    if pool_length(X_pool) is None:  # chunks: a callable sees the whole pool at once
        X_pool = np.concatenate([c for _, c in iter_chunks(X_pool, context.pool_batch_size)])
    X_pool = X_pool if is_frame(X_pool) else np.asarray(X_pool)
    if context.check_chunk is not None:
        X_pool = context.check_chunk(X_pool)
    if _is_modal_style(fn):  # modAL's (classifier, X, n_instances=1, ...): no seed, no context
        answer = fn(estimator, X_pool, n_instances=n_instances)
    else:
        kwargs = {"context": context} if _accepts_context(fn) else {}
        answer = fn(estimator, X_pool, n_instances, context.random_state, **kwargs)
    idx = _check_indices(_indices_of(answer, who), len(X_pool), n_instances, who)
    return idx, np.full(len(idx), np.nan)


def _is_modal_style(fn) -> bool:
    """modAL's query functions take ``n_instances`` as a keyword with a default and no
    ``random_state``; skal's callables take ``(estimator, X_pool, n_instances, random_state)``.
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    n = params.get("n_instances")
    return "random_state" not in params and n is not None and \
        n.default is not inspect.Parameter.empty


def _accepts_context(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD or (p.name == "context" and p.kind in keyword)
        for p in params
    )


def _indices_of(answer, who: str):
    """A callable's indices; from a modAL-style ``(indices, samples)`` tuple, the first."""
    if answer is None:
        raise TypeError(f"{who} returned None; it must return the indices of its batch.")
    if isinstance(answer, tuple) and len(answer) == 2 and hasattr(answer[1], "__len__"):
        idx = np.asarray(answer[0])
        if idx.ndim == 1 and idx.dtype.kind in "iu" and len(idx) == len(answer[1]):
            return idx  # modAL: (query_idx, X_pool[query_idx])
        raise TypeError(
            f"{who} returned a tuple of two arrays; it must return the indices of its "
            "batch only. To use a modAL query function, wrap it: lambda estimator, X_pool, "
            "n_instances, random_state: query(estimator, X_pool, n_instances=n_instances)[0]"
        )
    return answer


def _check_indices(idx, n_pool: int, n_instances: int, who: str) -> np.ndarray:
    idx = np.asarray(idx).reshape(-1)
    if len(idx) == 0:
        raise ValueError(
            f"{who} returned no index: it must pick at least one of the {n_pool} pool samples."
        )
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{who} returned {idx.dtype} indices; expected integers.")
    n_distinct = len(np.unique(idx))
    if n_distinct != len(idx) or len(idx) > n_instances:
        raise ValueError(
            f"{who} must return at most {n_instances} distinct indices, "
            f"got {len(idx)} ({n_distinct} distinct)."
        )
    if idx.min() < 0 or idx.max() >= n_pool:
        raise ValueError(
            f"{who} returned indices outside X_pool (of {n_pool} samples): "
            f"{idx[(idx < 0) | (idx >= n_pool)][:5].tolist()}."
        )
    return idx.astype(np.intp, copy=False)
