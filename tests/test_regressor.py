"""ActiveLearningRegressor: the classifier's contract on the same Campaign, for numbers.

Real models throughout (GaussianProcessRegressor, Ridge, a tiny Keras regressor), small
data; bad inputs are one table at the end.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import BayesianRidge, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearningClassifier, ActiveLearningRegressor, Campaign, LabelJournal
from skal.strategies import (
    GreedySampling,
    QueryContext,
    VarianceSampling,
    get_strategy,
    select_batch,
)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:200], y[:200]


def ridge_learner(**kw):
    params = dict(n_instances=5, initial_size=10, random_state=0)
    params.update(kw)
    return ActiveLearningRegressor(Ridge(alpha=0.1), **params)


def gp():
    kernel = RBF(length_scale=1.0, length_scale_bounds=(1e-2, 1e3)) \
        + WhiteKernel(noise_level=1, noise_level_bounds=(1e-10, 1e1))
    return GaussianProcessRegressor(kernel=kernel)


# ------------------------------------------------------------------ modAL's example
def test_modal_active_regression_example_ported():
    """modAL's examples/active_regression.py: a GP on a noisy sine, 3 initial points, 10
    queries of the pool sample of largest predicted std, one at a time."""
    rng = np.random.default_rng(0)
    X = rng.choice(np.linspace(0, 20, 10000), size=200, replace=False).reshape(-1, 1)
    y = np.sin(X) + rng.normal(scale=0.3, size=X.shape)  # a column, as modAL's
    learner = ActiveLearningRegressor(gp(), query_strategy="variance", n_instances=1,
                                      n_queries=10, initial_size=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        learner.fit(X, y.ravel())
        assert learner.n_labeled_ == 13 and learner.campaign_.spec.task == "regression"
        assert [len(q) for q in learner.queried_indices_] == [1] * 10
        # a query is the argmax of the GP's std over the pool left, as modAL's
        # GP_regression_std
        pool = np.setdiff1d(np.arange(200), learner.labeled_indices_)
        _, std = learner.estimator_.predict(X[pool], return_std=True)
        assert learner.query(X[pool], 1)[0] == np.argmax(std)
        # after 13 labels the GP follows the sine where it was asked
        grid = np.linspace(0, 20, 500)[:, None]
        rmse = np.sqrt(np.mean((learner.predict(grid) - np.sin(grid.ravel())) ** 2))
    assert rmse < 0.45, rmse
    # the max-std queries spread over the interval (random picks cluster less evenly)
    assert np.ptp(X[learner.labeled_indices_]) > 15


# ------------------------------------------------------------------ the contract
def test_fit_query_teach_share_one_campaign(diabetes):
    X, y = diabetes
    learner = ridge_learner(n_queries=3).fit(X, y)
    assert learner.n_labeled_ == 25 and learner.history_[-1]["n_labeled"] == 25
    assert "class_counts" not in learner.history_[-1]
    assert learner.y_labeled_.dtype == np.float64
    assert np.array_equal(learner.y_labeled_, y[learner.labeled_indices_])
    picked = learner.query(X, 4)
    assert len(set(picked.tolist())) == 4
    learner.teach(X[:2], [-1.0, 3.5])  # -1 is a target, not a marker
    assert learner.n_labeled_ == 27 and learner.y_labeled_[-2:].tolist() == [-1.0, 3.5]
    assert learner.history_[-1]["n_labeled"] == 27
    # score is R^2 on the labeled rows; NaN marks are left out
    y_marked = y.astype(float).copy()
    y_marked[::2] = np.nan
    keep = ~np.isnan(y_marked)
    assert learner.score(X, y_marked) == pytest.approx(
        learner.estimator_.score(X[keep], y[keep]))


def test_same_random_state_same_queries_and_clone(diabetes):
    X, y = diabetes
    for strategy in ("variance", "greedy", "random"):
        a = ridge_learner(query_strategy=strategy, n_queries=2).fit(X, y)
        b = clone(a).fit(X, y)
        assert np.array_equal(a.labeled_indices_, b.labeled_indices_), strategy
    c = ridge_learner(query_strategy="variance", n_queries=2, random_state=1).fit(X, y)
    assert not np.array_equal(a.labeled_indices_, c.labeled_indices_)


def test_variance_picks_the_std_source_and_it_matters():
    """On a GP, "variance" asks the sample of largest std; a committee on Ridge asks far
    from the labels; both differ from random."""
    X = np.linspace(0, 10, 101)[:, None]
    model = GaussianProcessRegressor().fit(X[[0, 5, 10]], [0.0, 0.5, 1.0])
    ctx = QueryContext(random_state=0, X_labeled=X[[0, 5, 10]], y_labeled=np.array([0, .5, 1]))
    idx, scores = select_batch(get_strategy("variance"), model, X, 3, ctx)
    _, std = model.predict(X, return_std=True)
    assert idx.tolist() == np.argsort(-std, kind="stable")[:3].tolist()
    np.testing.assert_allclose(scores, std[idx] ** 2, rtol=1e-6)
    ridge = Ridge().fit(X[[0, 5, 10]], [0.0, 0.5, 1.0])
    idx, _ = select_batch(VarianceSampling(source="committee"), ridge, X, 3, ctx)
    assert X[idx].min() > 50 * 0.1 + 1  # bootstrap lines fan out far from the labels at 0..1
    with pytest.raises(TypeError, match="return_std"):
        select_batch(VarianceSampling(source="std"), ridge, X, 3, ctx)


def test_greedy_sampling_spreads_a_batch_in_input_and_output_space():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [10.0], [10.1]])
    y = 2 * X.ravel()
    model = Ridge(alpha=1e-6).fit(X[:2], y[:2])
    ctx = QueryContext(X_labeled=X[:2], y_labeled=y[:2])
    # GSx: farthest from {0, 0.1} is 10.1 (pool index 3); then 10.0 is 0.1 from it, 5.0
    # is 4.9 from 0.1 and 5.1 is 5.0 from both: 5.1 (pool index 1), not 10.0 (2)
    idx, scores = select_batch(GreedySampling("x"), model, X[2:], 2, ctx)
    assert idx.tolist() == [3, 1]
    np.testing.assert_allclose(scores, [10.0, 5.0])
    # iGS: the products |dx| * |dy| (f = 2x): 10.1 -> 10 * 20; then 5.1 -> 5 * 10 = 50
    # against 5.0 -> 4.9 * 9.8 = 48.0
    idx, scores = select_batch(GreedySampling("xy"), model, X[2:], 2, ctx)
    assert idx.tolist() == [3, 1]
    np.testing.assert_allclose(scores, [200.0, 50.0], rtol=1e-3)


def test_pipeline_and_grid_search_with_a_regression_scorer(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=0.1))
    learner = ActiveLearningRegressor(pipe, n_queries=2, n_instances=5, initial_size=10,
                                      random_state=0)
    search = GridSearchCV(learner, {"query_strategy": ["variance", "greedy", "random"]},
                          scoring="neg_mean_squared_error", cv=2).fit(X, y)
    assert search.best_params_["query_strategy"] in ("variance", "greedy", "random")
    assert np.all(search.cv_results_["mean_test_score"] < 0)
    assert search.best_estimator_.n_labeled_ == 20


def test_campaign_step_by_step_and_from_campaign(diabetes):
    X, y = diabetes
    campaign = Campaign(ridge_learner(), X)
    batch = campaign.next_batch(10)
    campaign.answer(batch, y[batch])
    campaign.answer(int(np.setdiff1d(np.arange(len(X)), batch)[0]), None)  # a skip
    campaign.refit()
    assert len(campaign.labeled_indices_) == 10 and len(campaign.skipped_indices_) == 1
    learner = ActiveLearningRegressor.from_campaign(campaign)
    assert learner.n_labeled_ == 10 and len(learner.query(X, 3)) == 3
    with pytest.raises(ValueError, match="learns regression"):
        ActiveLearningClassifier.from_campaign(campaign)


def test_journal_records_floats_and_skips_and_resumes(diabetes, tmp_path):
    X, y = diabetes
    y = y.astype(float).copy()
    y[3] = -1.0  # a target, even in a journal
    path = tmp_path / "reg.sqlite"

    def oracle(X_batch, indices):
        return [None if i == 7 else y[i] for i in indices]  # sample 7 skipped

    first = ridge_learner(n_queries=1, journal=path, oracle=oracle,
                          initial_size=15).fit(X, np.full(len(y), np.nan))
    labels = LabelJournal(path).labels()
    assert all(isinstance(v, float) for k, v in labels.items() if v != -1)
    resumed = ActiveLearningRegressor.from_journal(path, X, estimator=Ridge(alpha=0.1))
    assert set(resumed.labeled_indices_.tolist()) == set(first.labeled_indices_.tolist())
    if 3 in first.labeled_indices_:
        assert resumed.y_labeled_[resumed.labeled_indices_.tolist().index(3)] == -1.0


def test_warm_start_refit_continues_a_regressor(diabetes):
    from sklearn.linear_model import SGDRegressor

    X, y = diabetes
    X = StandardScaler().fit_transform(X)
    learner = ActiveLearningRegressor(SGDRegressor(max_iter=5, tol=None, random_state=0),
                                      warm_start=True, initial_size=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        learner.fit(X, np.where(np.arange(len(y)) < 20, y, np.nan))
        first = learner.estimator_
        learner.teach(X[20:25], y[20:25])
    assert learner.estimator_ is first  # continued, not a fresh clone


def test_keras_regressor_mc_dropout_variance_campaign():
    pytest.importorskip("tensorflow")
    import keras

    from skal import CNNRegressor
    from skal.keras import KerasRegressor

    X, y = make_friedman1(150, random_state=0)
    X = X.astype(np.float32)

    def build():
        model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dropout(0.3), keras.layers.Dense(1)])
        model.compile(keras.optimizers.Adam(0.01), "mse")
        return model

    net = KerasRegressor(build, epochs=3, min_train_steps=None, batch_size=16, verbose=0,
                         random_state=0)
    learner = ActiveLearningRegressor(net, n_queries=1, n_instances=5, initial_size=20,
                                      random_state=0).fit(X, y)
    fitted = learner.estimator_
    passes = fitted.predict_samples(X, 8, random_state=3)
    assert passes.shape == (8, 150) and passes.var(axis=0).max() > 0
    chunked = np.concatenate([fitted.predict_samples(X[:70], 8, random_state=3),
                              fitted.predict_samples(X[70:], 8, random_state=3)], axis=1)
    np.testing.assert_allclose(passes, chunked, rtol=1e-5)
    # the learner's query is the top MC variance of the pool left (the same seed per query)
    assert learner.campaign_.strategy_name == "variance"
    assert fitted.predict(X.astype(np.float64)[:3]).shape == (3,)  # float64 pool: cast
    cnn = CNNRegressor(filters=(4,), dense_units=8, epochs=1, min_train_steps=None,
                       random_state=0).fit(X[:, :9], y)  # 9 features: a 3x3 image
    assert cnn.predict(X[:2, :9]).shape == (2,) and cnn.embed(X[:2, :9]).shape == (2, 8)
    assert cnn.predict_samples(X[:2, :9], 3, random_state=0).shape == (3, 2)


# ------------------------------------------------------------------ scikit-learn's checks
@parametrize_with_checks([
    ActiveLearningRegressor(Ridge()),
    ActiveLearningRegressor(Ridge(), n_queries=2, n_instances=3, initial_size=0.3),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ bad inputs
BAD = [
    # (what, learner params, y maker, error, message fragment)
    ("string y", {}, lambda y: y.astype(str), ValueError, "targets are numbers"),
    ("bool y", {}, lambda y: y > 150, ValueError, "targets are numbers"),
    ("2-D y", {}, lambda y: np.c_[y, y], ValueError, "one target per sample"),
    ("inf in y", {}, lambda y: np.r_[np.inf, y[1:]], ValueError, "infinite"),
    ("NaN in a simulation", {"n_queries": 1}, lambda y: np.r_[np.nan, y[1:]], ValueError,
     "NaN (unlabeled)"),
    ("entropy on a regressor", {"query_strategy": "entropy", "n_queries": 1}, lambda y: y,
     ValueError, "query_strategy='entropy' is a classification strategy"),
    ("auto on a regressor", {"query_strategy": "auto", "n_queries": 1}, lambda y: y,
     ValueError, "['greedy', 'random', 'variance']"),
    ("stratified initial set", {"initial_selection": "stratified", "n_queries": 1},
     lambda y: y, ValueError, "has no classes"),
    ("pseudo-labels", {"semi_supervised": "pseudo_labels"}, lambda y: y, ValueError,
     "semi_supervised=None"),
    ("unknown strategy", {"query_strategy": "variances"}, lambda y: y, ValueError,
     "Unknown query_strategy"),
]


@pytest.mark.parametrize("what,params,make_y,error,fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_fail_clearly(diabetes, what, params, make_y, error, fragment):
    X, y = diabetes
    with pytest.raises(error) as info:
        ridge_learner(**params).fit(X, make_y(y))
    assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("label,error,fragment", [
    ("12.5", TypeError, "is a str, but this is a regression campaign"),
    (True, TypeError, "is a bool"),
    (float("inf"), ValueError, "not a finite number"),
])
def test_bad_answers_are_refused_at_the_gate(diabetes, label, error, fragment):
    X, y = diabetes
    learner = ridge_learner(n_queries=1).fit(X, y)
    with pytest.raises(error, match=fragment):
        learner.campaign_.answer(int(learner.query(X, 1)[0]), label)
    n = learner.n_labeled_
    with pytest.raises((TypeError, ValueError)):
        learner.teach(X[:1], np.array([label], dtype=object))
    assert learner.n_labeled_ == n


def test_predict_passes_return_std_to_the_estimator(diabetes):
    X, y = diabetes
    learner = ActiveLearningRegressor(BayesianRidge(), n_queries=1, random_state=0).fit(X, y)
    mean, std = learner.predict(X[:5], return_std=True)
    expected = learner.estimator_.predict(X[:5], return_std=True)
    np.testing.assert_allclose(mean, expected[0])
    np.testing.assert_allclose(std, expected[1])
    classifier = ActiveLearningClassifier(LogisticRegression()).fit(X, (y > 150).astype(int))
    with pytest.raises(TypeError, match="return_std"):  # the estimator's own refusal
        classifier.predict(X[:5], return_std=True)


def test_regression_strategy_on_a_classifier_fails_at_fit(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="query_strategy='variance' is a regression strategy"):
        ActiveLearningClassifier(LogisticRegression(), query_strategy="variance",
                                 n_queries=1).fit(X, (y > 150).astype(int))


def test_pandas_na_marks_and_minus_one_is_a_target(diabetes):
    X, y = diabetes
    y_obj = pd.Series(y, dtype=object)
    y_obj[:100] = pd.NA
    y_obj[100] = -1
    learner = ridge_learner().fit(X, y_obj)
    assert learner.n_labeled_ == 100 and -1.0 in learner.y_labeled_.tolist()


def test_the_default_regressor_has_no_class_probabilities():
    # estimator=None is the CNNRegressor: predict only (was: predict_proba looked present)
    from skal import ActiveLearningClassifier

    assert not hasattr(ActiveLearningRegressor(), "predict_proba")
    assert not hasattr(ActiveLearningRegressor(), "decision_function")
    assert hasattr(ActiveLearningRegressor(), "predict")
    assert hasattr(ActiveLearningClassifier(), "predict_proba")
