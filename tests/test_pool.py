"""Chunked scoring gives exactly the indices of scoring the pool at once."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier
from skal._pool import select_top_k, top_k
from skal.strategies import STRATEGIES


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
PROBA_ONLY = [s for s in sorted(STRATEGIES) if set(STRATEGIES[s]().requires) <= {"predict_proba"}]


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
