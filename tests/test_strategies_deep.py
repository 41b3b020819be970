"""Deep strategies on the Keras CNN: properties of every registered strategy (hypothesis),
MC-dropout determinism, chunking, Pipelines, campaigns and a grid search over all names."""

import pickle

import keras
import numpy as np
import pytest
from conftest import tiny_cnn  # a plain function: usable by the module-scoped fixture
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skal import ActiveLearningClassifier, KerasClassifier
from skal.strategies import (
    Committee,
    MCDropoutSampling,
    QueryContext,
    get_strategy,
    names_for_task,
    resolve_strategy,
    select_batch,
)

DEEP = ["bald", "variation_ratios", "mc_entropy", "vote_entropy", "kl_divergence", "coreset",
        "badge", "density", "diverse_margin"]
# their scores are not sorted: the order is the selection order
# batch strategies: the order is theirs (greedy picks, round-robin over classes), the
# scores are each pick's own, so they need not fall
BATCH = {"coreset", "badge", "typiclust", "auto", "rare_class"}


@pytest.fixture(scope="module")
def fitted(digits):
    X_tr, X_te, y_tr, _ = digits
    learner = ActiveLearningClassifier(
        tiny_cnn(predict_batch_size=64), random_state=0
    ).fit(X_tr[:200], y_tr[:200])
    return learner, X_te


# ---------------------------------------------------------------- properties
@pytest.mark.parametrize("name", names_for_task("classification"))
@settings(max_examples=6, deadline=None)
@given(
    rows=st.lists(st.integers(0, 539), min_size=1, max_size=40),  # repeats: duplicates
    n_instances=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_strategy_returns_distinct_in_range_deterministic_batches(
    fitted, name, rows, n_instances, seed
):
    learner, X_te = fitted
    pool = X_te[rows]
    context = QueryContext(random_state=seed, X_labeled=learner.X_labeled_,
                           y_labeled=learner.y_labeled_)
    idx, scores = select_batch(resolve_strategy(name), learner.estimator_, pool, n_instances,
                               context)
    assert idx.dtype == np.intp and scores.dtype == float
    assert len(idx) == min(n_instances, len(pool)) == len(scores)
    assert len(np.unique(idx)) == len(idx)
    assert idx.min() >= 0 and idx.max() < len(pool)
    assert not np.isnan(scores).any()
    if name not in BATCH:
        assert np.all(np.diff(scores) <= 0)  # most informative first
    again = get_strategy(name)(learner.estimator_, pool, n_instances, context=context)
    np.testing.assert_array_equal(again, idx)


@pytest.mark.parametrize("name", DEEP)
def test_chunked_and_iterable_pools_give_the_whole_pool_batch(fitted, name):
    # pool_batch_size a multiple of predict_batch_size: Keras sees the same batches
    learner, X_te = fitted
    learner.set_params(query_strategy=name, pool_batch_size=10**6)
    pool = np.concatenate([X_te, X_te[:100]])  # duplicated rows
    expected = learner.query(pool, 20)
    learner.set_params(pool_batch_size=128)
    np.testing.assert_array_equal(learner.query(pool, 20), expected)
    chunks = (pool[i : i + 128] for i in range(0, len(pool), 128))
    np.testing.assert_array_equal(learner.query(chunks, 20), expected)
    learner.set_params(query_strategy="entropy", pool_batch_size=10**6)


# ---------------------------------------------------------------- MC dropout passes
def test_predict_proba_samples_same_seed_same_passes_whatever_the_batches(fitted):
    learner, X_te = fitted
    cnn = learner.estimator_
    a = cnn.predict_proba_samples(X_te, 8, random_state=1)
    assert a.shape == (8, len(X_te), 10)
    np.testing.assert_allclose(a.sum(axis=2), 1, rtol=1e-5)
    np.testing.assert_array_equal(cnn.predict_proba_samples(X_te, 8, random_state=1), a)
    parts = [cnn.predict_proba_samples(X_te[i : i + 50], 8, random_state=1)
             for i in range(0, len(X_te), 50)]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), a, atol=1e-6)
    b = cnn.predict_proba_samples(X_te, 8, random_state=2)
    assert np.abs(a - b).max() > 0.01  # another seed, other masks
    assert np.abs(a - a[0]).max() > 0.01  # passes differ from each other
    # the passes scatter around the deterministic prediction
    assert np.abs(a.mean(0) - cnn.predict_proba(X_te)).mean() < 0.05
    # no global random state is involved: an unrelated draw in between changes nothing
    keras.random.uniform((3,))
    np.random.default_rng().random()
    np.testing.assert_array_equal(cnn.predict_proba_samples(X_te, 8, random_state=1), a)
    restored = pickle.loads(pickle.dumps(cnn))
    np.testing.assert_array_equal(restored.predict_proba_samples(X_te, 8, random_state=1), a)


def _mlp(meta, dropout=None):
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(16, activation="relu")(inputs)
    if dropout == "spatial":
        x = keras.layers.Reshape((4, 4))(x)
        x = keras.layers.SpatialDropout1D(0.5)(x)
        x = keras.layers.Flatten()(x)
    elif dropout == "noise_shape":
        x = keras.layers.Reshape((4, 4))(x)
        x = keras.layers.Dropout(0.5, noise_shape=(None, 1, 4))(x)
        x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(loss="sparse_categorical_crossentropy")
    return model


def test_predict_proba_samples_with_user_models(digits):
    X_tr, X_te, y_tr, _ = digits
    for kind in ("spatial", "noise_shape"):
        model = KerasClassifier(_mlp, model__dropout=kind, epochs=1, verbose=0).fit(X_tr, y_tr)
        a = model.predict_proba_samples(X_te[:30], 4, random_state=0)
        np.testing.assert_array_equal(model.predict_proba_samples(X_te[:30], 4, random_state=0), a)
        assert np.abs(a - a[0]).max() > 0
    plain = KerasClassifier(_mlp, epochs=1, verbose=0).fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="Dropout"):
        plain.predict_proba_samples(X_te[:5], 3)
    learner = ActiveLearningClassifier(plain, query_strategy="bald").fit(X_tr[:50], y_tr[:50])
    with pytest.raises(ValueError, match="Dropout"):
        learner.query(X_te)
    for bad in (0, 2.5, "3"):
        with pytest.raises(ValueError, match="n_samples"):
            model.predict_proba_samples(X_te[:5], bad)


# ---------------------------------------------------------------- behaviour on digits
def test_badge_and_coreset_batches_have_no_duplicates_top_k_entropy_has(fitted):
    learner, X_te = fitted
    learner.set_params(query_strategy="entropy")
    top3 = learner.query(X_te, 3)
    pool = np.concatenate([X_te[:300], np.repeat(X_te[top3], 10, axis=0)])

    def n_duplicates(idx):
        return len(idx) - len(np.unique(pool[idx], axis=0))

    assert n_duplicates(learner.query(pool, 12)) >= 9  # entropy takes every copy
    for name in ("coreset", "badge"):
        learner.set_params(query_strategy=name)
        assert n_duplicates(learner.query(pool, 12)) == 0
    learner.set_params(query_strategy="entropy")


def test_strategies_through_a_pipeline_see_the_transformed_samples(digits):
    X_tr, X_te, y_tr, _ = digits
    scale = FunctionTransformer(lambda X: X / 2.0)
    piped = ActiveLearningClassifier(make_pipeline(scale, tiny_cnn(epochs=2)), random_state=0)
    bare = ActiveLearningClassifier(tiny_cnn(epochs=2), random_state=0)
    piped.fit(X_tr[:150], y_tr[:150])
    bare.fit(X_tr[:150] / 2.0, y_tr[:150])
    for strategy in ("bald", "vote_entropy", "coreset", "badge", MCDropoutSampling(n_samples=5)):
        piped.set_params(query_strategy=strategy)
        bare.set_params(query_strategy=strategy)
        np.testing.assert_array_equal(piped.query(X_te, 10), bare.query(X_te / 2.0, 10))


# ---------------------------------------------------------------- campaigns
@pytest.mark.parametrize("strategy", [*DEEP, Committee(n_members=2)], ids=str)
def test_campaign_runs_with_every_deep_strategy(digits, strategy):
    X_tr, _, y_tr, _ = digits
    learner = ActiveLearningClassifier(
        tiny_cnn(epochs=1), query_strategy=strategy, n_queries=2, n_instances=6,
        initial_size=20, warm_start=True, random_state=0,
    ).fit(X_tr[:150], y_tr[:150])
    assert learner.n_labeled_ == 32
    assert len(np.unique(learner.labeled_indices_)) == 32
    assert [len(q) for q in learner.queried_indices_] == [6, 6]


def test_grid_search_over_every_strategy_name_with_cnn(digits):
    X_tr, _, y_tr, _ = digits
    X, y = X_tr[:300], y_tr[:300]
    # warm_start: the round's refit continues the model instead of re-tracing a new one
    learner = ActiveLearningClassifier(
        tiny_cnn(epochs=2), n_queries=1, n_instances=10, initial_size=30, warm_start=True,
        random_state=0,
    )
    names = names_for_task("classification")
    one_split = [(np.arange(150), np.arange(150, 300))]  # every name once, not twice
    search = GridSearchCV(learner, {"query_strategy": names}, cv=one_split, error_score="raise")
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == len(names)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.n_labeled_ == 40
