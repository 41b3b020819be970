"""Score a ``dask.array.Array`` pool where its blocks live; imported only for dask pools.

Design
------
* The fitted model (with the strategy and the chunk check) is shipped once: scattered to
  every worker (``broadcast=True``) when a ``distributed`` client is the scheduler, else one
  shared graph key that every block task depends on. Block tasks never embed the model.
* Each block is scored in sub-chunks of ``pool_batch_size`` with the running top-k of
  :func:`skal._pool.top_k` and keeps only its own best ``k`` (with global indices).
* The per-block winners are merged in a tree (``SPLIT_EVERY`` at a time) with
  :func:`skal._pool.select_top_k`. The union of the blocks' top-k holds the global top-k,
  and the order is the same total order (score descending, index ascending), so the
  indices are those of the same pool as a numpy array.
* Randomness: a block starting at row ``o`` gets the strategy's generator advanced by ``o``
  draws, i.e. exactly the part of the stream the in-memory query would give its rows. Block
  tasks are pure functions of their inputs, so a task re-run after a worker died gives the
  same winners.
"""

from __future__ import annotations

import pickle
import uuid
import warnings
from collections.abc import Callable

import dask
import numpy as np
from dask import delayed

from skal._pool import select_top_k, top_k

__all__ = ["dask_top_k", "materialize_pool"]

SPLIT_EVERY = 8


def _distributed_client():
    """The ``distributed`` client that ``dask.compute`` would use now, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        client = default_client()
    except ValueError:  # no client
        return None
    scheduler = dask.base.get_scheduler()
    return client if getattr(scheduler, "__self__", None) is client else None


class _PickleOnce:
    """Unpickles as ``obj``, which is serialised (by cloudpickle) once however often this is.

    distributed may serialise scattered data once per worker, and retries with cloudpickle
    after a failed pickle; a Keras model would be saved again each time.
    """

    def __init__(self, obj) -> None:
        self.obj = obj
        self._blob: bytes | None = None

    def __reduce__(self):
        if self._blob is None:
            import cloudpickle

            self._blob = cloudpickle.dumps(self.obj)
        return pickle.loads, (self._blob,)


def _share(obj):
    """One handle on ``obj`` for every block task: scattered once to each worker."""
    client = _distributed_client()
    if client is not None:
        # In a list: a tuple would be scattered as one future per item.
        return client.scatter([_PickleOnce(obj)], broadcast=True, hash=False)[0]
    return delayed(obj, name=f"skal-pool-model-{uuid.uuid4().hex}", traverse=False)


def _rng_at(state: dict, offset: int) -> np.random.Generator:
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    bit_generator.advance(offset)
    return np.random.Generator(bit_generator)


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)


def _score_block(payload, block, offset: int, k: int, chunk_size: int, rng_state: dict):
    """The ``k`` best rows of one block, as global indices and scores."""
    if isinstance(payload, _PickleOnce):  # an in-process cluster never pickled it
        payload = payload.obj
    strategy, estimator, check_chunk = payload
    rng = _rng_at(rng_state, offset)
    idx, scores = top_k(
        lambda chunk: strategy.score_chunk(estimator, chunk, rng),
        block,
        k,
        chunk_size=chunk_size,
        check_chunk=check_chunk,
    )
    return idx + offset, scores


def _merge(parts, k: int):
    if not parts:
        return _empty()
    idx = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    return select_top_k(scores, idx, k)


def _check_pool(X_pool, check_chunk: Callable | None):
    import dask.array as da

    if not isinstance(X_pool, da.Array):
        raise TypeError(
            f"A dask pool must be a dask.array.Array, got {type(X_pool).__name__}; convert a "
            "dask DataFrame with .to_dask_array(lengths=True)."
        )
    if X_pool.ndim < 2:
        raise ValueError(
            f"X_pool must be 2-D (n_samples, n_features), got a {X_pool.ndim}-D dask array."
        )
    if any(np.isnan(c) for c in X_pool.chunks[0]):
        raise ValueError(
            "X_pool is a dask array with unknown chunk sizes, so blocks cannot be given "
            "global indices; call X_pool.compute_chunk_sizes() first."
        )
    if check_chunk is not None:  # the feature count, before anything is shipped
        check_chunk(np.empty((0, *X_pool.shape[1:]), dtype=X_pool.dtype))
    # One block across the features, so that every block is whole samples.
    return X_pool.rechunk({axis: -1 for axis in range(1, X_pool.ndim)})


def dask_top_k(
    strategy,
    estimator,
    X_pool,
    k: int,
    random_state=None,
    *,
    pool_batch_size: int,
    check_chunk: Callable | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``k`` best samples of a dask-array pool.

    Parameters
    ----------
    strategy : ScoreStrategy
        Scores chunks through its ``score_chunk(estimator, chunk, rng)``.
    estimator : estimator object
        The fitted model, shipped once to each worker.
    X_pool : dask.array.Array of shape (n_pool, n_features)
        The pool, chunked along rows (other axes are rechunked into one block).
    k : int
        Number of samples to return.
    random_state : int, Generator or None
        Seeds the strategy's generator as in the in-memory query.
    pool_batch_size : int
        Rows scored at once inside a block.
    check_chunk : callable, optional
        Validates each chunk (and, up front, the number of features).

    Returns
    -------
    indices : ndarray of shape (min(k, n_pool),)
        Global pool indices, best first.
    scores : ndarray of shape (min(k, n_pool),)
        Their scores.
    """
    X_pool = _check_pool(X_pool, check_chunk)
    bit_generator = np.random.default_rng(random_state).bit_generator
    if not hasattr(bit_generator, "advance"):
        raise TypeError(
            f"A dask pool needs a random generator that can jump ahead (PCG64, Philox ...) "
            f"so that every block draws its own part of the stream; got "
            f"{type(bit_generator).__name__}. Pass an int random_state."
        )
    rng_state = bit_generator.state
    payload = _share((strategy, estimator, check_chunk))
    blocks = X_pool.to_delayed().ravel()
    offsets = np.concatenate([[0], np.cumsum(X_pool.chunks[0])[:-1]]).astype(int)
    parts = [
        delayed(_score_block, pure=False)(
            payload, block, int(offset), k, pool_batch_size, rng_state
        )
        for block, offset in zip(blocks, offsets)
    ]
    while len(parts) > 1:
        parts = [
            delayed(_merge, pure=False)(parts[i : i + SPLIT_EVERY], k)
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    try:
        ((idx, scores),) = dask.compute(parts[0])
    except Exception as exc:
        # a dying worker surfaces as KilledWorker, or, when the scheduler has already
        # forgotten the task it ran, as a cancelled future (a race seen on 2 cores)
        if type(exc).__name__ in ("KilledWorker", "FutureCancelledError"):
            raise RuntimeError(
                "Scoring the dask pool failed: the workers running a block kept dying "
                f"({type(exc).__name__}: {exc}). No selection was made; check the workers' "
                "memory and logs, then query again."
            ) from exc
        raise
    return np.asarray(idx, dtype=np.intp), np.asarray(scores, dtype=np.float64)


def materialize_pool(X_pool, who: str) -> np.ndarray:
    """Compute a dask pool into memory for a strategy that needs the whole pool at once.

    Warns first (``who`` names the strategy, e.g. ``"query_strategy='coreset'"``): only
    score-based strategies score a dask pool block by block.
    """
    nbytes = getattr(X_pool, "nbytes", float("nan"))
    size = "unknown size" if nbytes != nbytes else f"{nbytes / 2**20:,.0f} MiB"
    warnings.warn(
        f"{who} is not score-based (not a ScoreStrategy): it "
        f"needs the whole pool at once, so the dask pool ({size}) is computed into this "
        "process's memory. Score-based strategies ('entropy', 'margin', 'least_confident', "
        "'random') score a dask pool block by block on the workers.",
        UserWarning,
        stacklevel=4,
    )
    return np.asarray(X_pool.compute())
