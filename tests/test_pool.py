"""Chunked scoring gives exactly the indices of scoring the pool at once."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier
from skal._pool import chunk_slices, iter_chunks, select_top_k, top_k
from skal.strategies import (
    STRATEGIES,
    QueryContext,
    names_for_task,
    resolve_strategy,
    select_batch,
)


def reference_top_k(scores, k):
    order = np.lexsort((np.arange(len(scores)), -scores))
    return order[:k]


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.integers(0, 4), min_size=1, max_size=60),  # many ties
    k=st.integers(1, 70),
    chunk=st.integers(1, 25),
)
def test_running_top_k_equals_full_sort_with_ties(scores, k, chunk):
    scores = np.asarray(scores, dtype=float)
    X = np.arange(len(scores))[:, None]
    idx, got_scores = top_k(lambda c: scores[c[:, 0]], X, k, chunk_size=chunk)
    np.testing.assert_array_equal(idx, reference_top_k(scores, k))
    np.testing.assert_array_equal(got_scores, scores[idx])


def test_select_top_k_breaks_ties_by_index():
    idx, _ = select_top_k(np.array([1.0, 2, 2, 2, 0]), np.array([9, 7, 3, 5, 1]), 2)
    np.testing.assert_array_equal(idx, [3, 5])


def test_nan_scores_never_win():
    scores = np.array([np.nan, 0.1, np.nan, 0.2])
    idx, _ = top_k(lambda c: scores[c[:, 0]], np.arange(4)[:, None], 2, chunk_size=1)
    np.testing.assert_array_equal(idx, [3, 1])


# Strategies that need only predict_proba run on LogisticRegression; the deep ones are
# checked for chunk invariance with a CNN in test_strategies_deep.py.
PROBA_ONLY = [s for s in names_for_task("classification")
              if set(STRATEGIES[s]().requires) <= {"predict_proba"}]


@pytest.mark.parametrize("strategy", PROBA_ONLY)
@pytest.mark.parametrize("pool_batch_size", [1, 7, 64, 5000])
def test_chunked_query_matches_whole_pool_for_each_strategy(digits_xy, strategy, pool_batch_size):
    # float64: the model's outputs then vary with the batch only in the last bits, which
    # the strategies' rounding turns into exact ties (float32 models: see the Keras test).
    X, y = digits_xy
    X = X.astype(np.float64)
    whole = ActiveLearningClassifier(
        LogisticRegression(max_iter=200), query_strategy=strategy, random_state=3,
        pool_batch_size=10**6,
    ).fit(X[:150], y[:150])
    pool = np.concatenate([X[150:], X[150:400]])  # duplicated rows: exact score ties
    expected = whole.query(pool, 40)
    whole.set_params(pool_batch_size=pool_batch_size)
    np.testing.assert_array_equal(whole.query(pool, 40), expected)


def test_memmap_pool(tmp_path, digits_xy):
    X, y = digits_xy
    path = tmp_path / "pool.dat"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=X[150:].shape)
    mm[:] = X[150:]
    mm.flush()
    ro = np.memmap(path, dtype=np.float32, mode="r", shape=X[150:].shape)
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=200), pool_batch_size=100
    ).fit(X[:150], y[:150])
    np.testing.assert_array_equal(learner.query(ro, 25), learner.query(X[150:], 25))


def test_keras_chunked_query_matches_whole_pool(make_cnn, digits):
    # With pool_batch_size a multiple of predict_batch_size, Keras sees the same batches.
    X_tr, X_te, y_tr, _ = digits
    learner = ActiveLearningClassifier(
        make_cnn(predict_batch_size=64), pool_batch_size=10**6
    ).fit(X_tr[:200], y_tr[:200])
    pool = np.concatenate([X_te, X_te[:100]])
    expected = learner.query(pool, 30)
    learner.set_params(pool_batch_size=128)
    np.testing.assert_array_equal(learner.query(pool, 30), expected)


# ---------------------------------------------------------------- one chunk iterator
@pytest.mark.parametrize("n, size", [(0, 3), (1, 3), (9, 3), (10, 3), (5, 100)])
def test_chunk_slices_and_iter_chunks_cover_the_pool_in_order(n, size):
    slices = list(chunk_slices(n, size))
    assert [i for sl in slices for i in range(n)[sl]] == list(range(n))
    assert all(0 < sl.stop - sl.start <= size for sl in slices)
    X = np.arange(2 * n).reshape(n, 2)
    offsets, chunks = zip(*iter_chunks(X, size)) if n else ((), ())
    assert list(offsets) == [sl.start for sl in slices]
    assert all(np.array_equal(c, X[sl]) for c, sl in zip(chunks, slices))


def test_top_k_of_an_empty_pool_is_empty():
    idx, scores = top_k(lambda c: c[:, 0], np.empty((0, 3)), 5)
    assert idx.dtype == np.intp and len(idx) == 0 and len(scores) == 0


# ---------------------------------------------------------------- select_batch and pools
@pytest.fixture(scope="module")
def logreg(digits_xy):
    X, y = digits_xy
    return LogisticRegression(max_iter=200).fit(X[:150], y[:150])


def first_two(estimator, X_pool, n_instances, random_state):
    return [0, 1]


def empty_pools(X):
    import dask.array as da

    return {
        "array": X[:0],
        "list": [],
        "chunks of nothing": [X[:0], X[:0]],
        "generator": (c for c in []),
        "generator of empty chunks": (X[:0] for _ in range(3)),
        "dask": da.from_array(X[:0], chunks=(10, 64)),
    }


@pytest.mark.parametrize("strategy", ["entropy", "random", "density", first_two],
                         ids=lambda s: getattr(s, "__name__", s))
def test_an_empty_pool_is_one_error_for_every_strategy(digits_xy, logreg, strategy):
    import warnings

    X, _ = digits_xy
    for pool in empty_pools(X).values():
        with warnings.catch_warnings(), pytest.raises(ValueError, match="X_pool is empty"):
            warnings.simplefilter("ignore")  # an empty dask pool computed for non-score ones
            select_batch(resolve_strategy(strategy), logreg, pool, 5, QueryContext())


@pytest.mark.parametrize("strategy", ["entropy", "random", "density", "margin", first_two],
                         ids=lambda s: getattr(s, "__name__", s))
def test_a_one_shot_pool_with_empty_chunks_gives_the_array_batch(digits_xy, logreg, strategy):
    X, _ = digits_xy
    pool = X[150:400]
    context = QueryContext(random_state=4, pool_batch_size=16)
    expected = select_batch(resolve_strategy(strategy), logreg, pool, 12, context)
    parts = [pool[:0], pool[:0], *(pool[i : i + 16] for i in range(0, len(pool), 16)), pool[:0]]
    for chunks in (iter(parts), parts):
        got = select_batch(resolve_strategy(strategy), logreg, chunks, 12, context)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


def test_a_pool_must_be_iterable(logreg):
    with pytest.raises(TypeError, match="X_pool must be"):
        select_batch(resolve_strategy("entropy"), logreg, 5, 3, QueryContext())


def test_a_dask_pool_is_computed_with_a_warning_only_for_non_score_strategies(digits_xy, logreg):
    import warnings

    import dask.array as da

    X, _ = digits_xy
    pool = X[150:600]
    dpool = da.from_array(pool, chunks=(100, 64))
    context = QueryContext(random_state=2, pool_batch_size=32)
    for strategy in ("entropy", "random"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # scored block by block: nothing computed here
            got = select_batch(resolve_strategy(strategy), logreg, dpool, 10, context)
        expected = select_batch(resolve_strategy(strategy), logreg, pool, 10, context)
        np.testing.assert_array_equal(got[0], expected[0])
    for strategy in ("density", first_two):
        with pytest.warns(UserWarning, match="not score-based"):
            got = select_batch(resolve_strategy(strategy), logreg, dpool, 10, context,
                               name=strategy if isinstance(strategy, str) else None)
        expected = select_batch(resolve_strategy(strategy), logreg, pool, 10, context)
        np.testing.assert_array_equal(got[0], expected[0])
