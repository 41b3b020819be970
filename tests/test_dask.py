"""Pools and searches on Dask: a dask-array pool gives the numpy query's indices, searches
under ``joblib.parallel_backend("dask")`` give the serial results, a dying worker never
gives a wrong answer. One 2-process LocalCluster on loopback for the whole module."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import cloudpickle  # noqa: E402  (a dependency of distributed)
import dask  # noqa: E402
import joblib  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

from skal import ActiveLearningClassifier  # noqa: E402
from skal.dask import TensorFlowThreadsPlugin, limit_tensorflow_threads  # noqa: E402
from skal.evaluation import active_learning_curve  # noqa: E402
from skal.strategies import UncertaintySampling  # noqa: E402

# Classes defined here are shipped to the workers by value (they cannot import this file).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

STRATEGIES = ["entropy", "margin", "least_confident", "random"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,  # no dashboard; its health endpoints on a free loopback port:
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def tf_threads(client):
    # Before any task runs TensorFlow on the workers; restarted workers get it too.
    return limit_tensorflow_threads(client, n_threads=1)


def logreg_learner(X, y, strategy, **kw):
    return ActiveLearningClassifier(
        LogisticRegression(max_iter=200), query_strategy=strategy, random_state=3, **kw
    ).fit(X[:150], y[:150])


@pytest.fixture(scope="module")
def pool64(digits_xy):
    # float64: the model's outputs then vary with the batch only in the last bits, which the
    # strategies' rounding turns into exact ties (as in test_pool).
    X, y = digits_xy
    X = X.astype(np.float64)
    return X, y, np.concatenate([X[150:], X[150:400]])  # duplicated rows: exact ties


# ----------------------------------------------------------------- dask-array pools
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dask_pool_query_matches_numpy(client, pool64, strategy):
    X, y, pool = pool64
    learner = logreg_learner(X, y, strategy, pool_batch_size=50)
    expected, expected_scores = learner.query(pool, 40, return_scores=True)
    n = len(pool)
    uneven = (7, 0, 300, 1, n - 308)  # includes an empty block
    for chunks in [(173, 64), (uneven, 64), (400, 16)]:  # (400, 16): columns rechunked
        got, scores = learner.query(da.from_array(pool, chunks=chunks), 40, return_scores=True)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(scores, expected_scores)
    # n_instances larger than every block, and than the pool
    np.testing.assert_array_equal(
        learner.query(da.from_array(pool, chunks=100), n + 5), learner.query(pool, n + 5)
    )


def test_dask_pool_on_local_scheduler(pool64):
    # Without a distributed client (threads or synchronous scheduler) the model is one
    # shared graph key; same answer.
    X, y, pool = pool64
    learner = logreg_learner(X, y, "random")
    with dask.config.set(scheduler="synchronous"):
        got = learner.query(da.from_array(pool, chunks=211), 30)
    np.testing.assert_array_equal(got, learner.query(pool, 30))


def test_dask_pool_on_an_in_process_cluster(pool64):
    # LocalCluster(processes=False): the scattered model is never pickled, so the block
    # tasks get the wrapper that would have unpickled as it; same answer.
    X, y, pool = pool64
    learner = logreg_learner(X, y, "margin")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        got = learner.query(da.from_array(pool, chunks=211), 30)
    np.testing.assert_array_equal(got, learner.query(pool, 30))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dask_pool_query_matches_numpy_cnn(client, tf_threads, make_cnn, digits, strategy):
    # Blocks and pool_batch_size multiples of predict_batch_size: Keras sees the same
    # batches on the workers as in this process.
    X_tr, X_te, y_tr, _ = digits
    learner = ActiveLearningClassifier(
        make_cnn(predict_batch_size=64), query_strategy=strategy, random_state=0,
        pool_batch_size=128,
    ).fit(X_tr[:200], y_tr[:200])
    pool = np.concatenate([X_te, X_te[:100]])
    expected = learner.query(pool, 30)
    got = learner.query(da.from_array(pool, chunks=(256, 64)), 30)
    np.testing.assert_array_equal(got, expected)


class CountingLogisticRegression(LogisticRegression):
    """Counts how often it is pickled (in this process)."""

    n_pickled = 0

    def __getstate__(self):
        type(self).n_pickled += 1
        return super().__getstate__()


def test_model_is_shipped_once_per_worker_not_per_block(client, pool64):
    X, y, pool = pool64
    learner = logreg_learner(X, y, "entropy")
    learner.estimator_.__class__ = CountingLogisticRegression
    CountingLogisticRegression.n_pickled = 0
    dpool = da.from_array(pool, chunks=50)
    assert dpool.numblocks[0] > 20
    got = learner.query(dpool, 20)
    np.testing.assert_array_equal(got, learner.query(pool, 20))
    assert CountingLogisticRegression.n_pickled == 1  # not per block, nor per worker


def test_dask_pool_errors(client, pool64):
    X, y, pool = pool64
    learner = logreg_learner(X, y, "entropy")
    with pytest.raises(ValueError, match="features"):
        learner.query(da.from_array(pool[:, :10], chunks=100), 5)
    unknown = da.from_array(pool, chunks=100)
    unknown = unknown[unknown[:, 0] >= 0]  # boolean mask: unknown chunk sizes
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        learner.query(unknown, 5)
    with pytest.raises(ValueError, match="2-D"):
        learner.query(da.from_array(pool[:, 0], chunks=100), 5)
    bad = pool.copy()
    bad[500, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        learner.query(da.from_array(bad, chunks=100), 5)


def first_feature_order(estimator, X_pool, n_instances, random_state):
    return np.argsort(-X_pool[:, 10], kind="stable")[:n_instances]


def test_batch_strategy_computes_the_pool_with_a_warning(client, pool64):
    X, y, pool = pool64
    learner = logreg_learner(X, y, first_feature_order)
    with pytest.warns(UserWarning, match="not score-based"):
        got = learner.query(da.from_array(pool, chunks=100), 15)
    np.testing.assert_array_equal(got, learner.query(pool, 15))


def test_import_skal_does_not_import_dask():
    code = (
        "import sys, skal, skal.strategies, skal.evaluation;"
        "from sklearn.datasets import load_digits;"
        "from sklearn.linear_model import LogisticRegression;"
        "X, y = load_digits(return_X_y=True);"
        "skal.ActiveLearningClassifier(LogisticRegression()).fit(X[:50], y[:50]).query(X, 3);"
        "print([m for m in ('dask', 'distributed') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------- searches on the cluster
def test_grid_search_on_dask_matches_serial(client, digits_xy):
    X, y = digits_xy
    X, y = X[:600], y[:600]
    search = GridSearchCV(
        ActiveLearningClassifier(
            LogisticRegression(max_iter=200), n_queries=3, n_instances=10, initial_size=20,
            random_state=0,
        ),
        {"query_strategy": STRATEGIES},
        cv=3,
    )
    serial = search.set_params(n_jobs=1).fit(X, y)
    ref_best, ref_results = serial.best_params_, serial.cv_results_
    with joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(**search.get_params(deep=False)).set_params(n_jobs=-1).fit(X, y)
    assert on_dask.best_params_ == ref_best
    for key in ["mean_test_score", "std_test_score", "rank_test_score"] + [
        f"split{i}_test_score" for i in range(3)
    ]:
        np.testing.assert_array_equal(on_dask.cv_results_[key], ref_results[key])


def test_cross_val_score_and_learning_curve_on_dask(client, digits_xy):
    X, y = digits_xy
    X, y = X[:500], y[:500]
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=200), query_strategy="margin", n_queries=3,
        n_instances=10, initial_size=20, random_state=0,
    )
    ref_scores = cross_val_score(learner, X, y, cv=3)
    ref_curve = active_learning_curve(learner, X, y, cv=3)
    with joblib.parallel_backend("dask"):
        scores = cross_val_score(learner, X, y, cv=3, n_jobs=-1)
        curve = active_learning_curve(learner, X, y, cv=3, n_jobs=-1)
    np.testing.assert_array_equal(scores, ref_scores)
    np.testing.assert_array_equal(curve[0], ref_curve[0])
    np.testing.assert_array_equal(curve[1], ref_curve[1])


def test_grid_search_cnn_on_dask_matches_serial(client, tf_threads, make_cnn, digits):
    X_tr, _, y_tr, _ = digits
    X, y = X_tr[:240], y_tr[:240]
    search = GridSearchCV(
        ActiveLearningClassifier(
            make_cnn(epochs=2), n_queries=1, n_instances=20, initial_size=40, random_state=0
        ),
        {"query_strategy": ["random", "margin"]},
        cv=2,
        refit=False,
    )
    serial = GridSearchCV(**search.get_params(deep=False)).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(**search.get_params(deep=False)).set_params(n_jobs=-1).fit(X, y)
    assert on_dask.best_params_ == serial.best_params_
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_fitted_cnn_learner_pickles_across_workers(client, tf_threads, make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    learner = ActiveLearningClassifier(make_cnn(), random_state=0).fit(X_tr[:150], y_tr[:150])
    remote = client.submit(lambda model, X: model.predict_proba(X), learner, X_te[:50]).result()
    np.testing.assert_allclose(remote, learner.predict_proba(X_te[:50]), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------- TensorFlow threads
def test_limit_tensorflow_threads(client, tf_threads):
    assert len(tf_threads) == 2
    assert set(tf_threads.values()) == {(1, 1)}
    # TensorFlow has run on the workers by now: its pools cannot change any more.
    client.run(lambda: __import__("tensorflow").constant(1.0).numpy())
    with pytest.raises(RuntimeError, match="already started"):
        limit_tensorflow_threads(client, n_threads=2)
    limit_tensorflow_threads(client, n_threads=1)  # back to the registered limit of 1


@pytest.mark.parametrize("n_threads", [0, -1, 1.5, True, "2", None])
def test_limit_tensorflow_threads_bad_value(n_threads):
    with pytest.raises(ValueError, match="n_threads"):
        limit_tensorflow_threads(None, n_threads=n_threads)
    with pytest.raises(ValueError, match="n_threads"):
        TensorFlowThreadsPlugin(n_threads)


def test_limit_tensorflow_threads_needs_a_client():
    with pytest.raises(TypeError, match="distributed.Client"):
        limit_tensorflow_threads("tcp://127.0.0.1:8786")


# ----------------------------------------------------------------- dying workers
class SlowEntropy(UncertaintySampling):
    """Entropy, with a delay per scored chunk (so a worker can die mid-query)."""

    def __init__(self, measure="entropy", delay=0.0):
        super().__init__(measure)
        self.delay = delay

    def score(self, estimator, X, rng):
        time.sleep(self.delay)
        return super().score(estimator, X, rng)


class SuicidalEntropy(UncertaintySampling):
    """Entropy, but the worker process dies on a chunk holding a row of -1s."""

    def score(self, estimator, X, rng):
        if (X == -1).all(axis=1).any():
            os._exit(1)
        return super().score(estimator, X, rng)


def _wait_for_workers(client, n, timeout=60):
    client.wait_for_workers(n, timeout=timeout)


def test_worker_dying_mid_query_gives_the_right_answer_or_a_clear_error(client, pool64):
    X, y, pool = pool64
    learner = logreg_learner(X, y, SlowEntropy(delay=0.25), pool_batch_size=100)
    expected = logreg_learner(X, y, "entropy").query(pool, 25)
    _wait_for_workers(client, 2)
    pids = client.run(os.getpid)
    with ThreadPoolExecutor(1) as ex:
        future = ex.submit(learner.query, da.from_array(pool, chunks=100), 25)  # 22 blocks
        deadline = time.monotonic() + 30
        while not any(client.processing().values()):  # wait for blocks to be scored
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        try:
            got = future.result(timeout=120)
        except RuntimeError as exc:  # allowed: a clear error, never a wrong answer
            assert "dask pool failed" in str(exc)
        else:
            np.testing.assert_array_equal(got, expected)
    assert not future.cancelled()
    _wait_for_workers(client, 2)
    assert pids[victim] not in client.run(os.getpid).values()  # it really died


def test_workers_that_keep_dying_give_a_clear_error(client, pool64):
    X, y, pool = pool64
    learner = logreg_learner(X, y, SuicidalEntropy())
    poisoned = pool.copy()
    poisoned[777] = -1
    scheduler = client.cluster.scheduler
    allowed = scheduler.allowed_failures
    scheduler.allowed_failures = 0  # the first death of a block's worker is final
    try:
        _wait_for_workers(client, 2)
        with pytest.raises(RuntimeError, match="dask pool failed.*dying"):
            learner.query(da.from_array(poisoned, chunks=200), 10)
    finally:
        scheduler.allowed_failures = allowed
    _wait_for_workers(client, 2)
