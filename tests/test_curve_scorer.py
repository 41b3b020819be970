"""make_curve_scorer: selecting query strategies by label efficiency inside GridSearchCV."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score, make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal import ActiveLearningClassifier
from skal.evaluation import active_learning_curve
from skal.metrics import (
    area_under_learning_curve,
    curves_from_cv_results,
    labels_to_reach,
    make_curve_scorer,
)

STRATEGIES = ["random", "margin"]
CV = StratifiedKFold(3)


def _learner(estimator=None, **kw):
    params = dict(n_queries=4, n_instances=15, initial_size=20, random_state=0,
                  store_round_estimators=True)
    params.update(kw)
    return ActiveLearningClassifier(
        LogisticRegression(max_iter=300) if estimator is None else estimator, **params
    )


@pytest.fixture(scope="module")
def small_digits(digits_xy):
    X, y = digits_xy
    return X[:450], y[:450]


def _search(learner, X, y, scoring, cv=CV, **kw):
    return GridSearchCV(learner, {"query_strategy": STRATEGIES}, cv=cv, scoring=scoring,
                        **kw).fit(X, y)


def _split_scores(search, name="score"):
    n_splits = search.n_splits_
    return np.array([[search.cv_results_[f"split{k}_test_{name}"][i] for k in range(n_splits)]
                     for i in range(len(STRATEGIES))])


def _expected_aulcs(learner, X, y, cv=CV, scoring=None):
    out = []
    for strategy in STRATEGIES:
        n_labeled, scores = active_learning_curve(
            clone(learner).set_params(query_strategy=strategy), X, y, cv=cv, scoring=scoring
        )
        out.append(area_under_learning_curve(n_labeled, scores))
    return np.array(out)


def test_grid_search_aulc_equals_active_learning_curve_logistic(small_digits):
    X, y = small_digits
    learner = _learner()
    search = _search(learner, X, y, make_curve_scorer())
    np.testing.assert_allclose(_split_scores(search), _expected_aulcs(learner, X, y), rtol=1e-12)
    assert search.best_params_ == {"query_strategy": "margin"}  # margin beats random here


def test_grid_search_aulc_equals_active_learning_curve_cnn(make_cnn, small_digits):
    X, y = small_digits[0][:300], small_digits[1][:300]
    learner = _learner(make_cnn(), n_queries=1, n_instances=20)
    cv = StratifiedKFold(2)
    search = _search(learner, X, y, make_curve_scorer(), cv=cv)
    np.testing.assert_allclose(
        _split_scores(search), _expected_aulcs(learner, X, y, cv=cv), rtol=1e-6
    )


def test_n_jobs_2_gives_the_scores_of_n_jobs_1(small_digits):
    X, y = small_digits
    one = _search(_learner(), X, y, make_curve_scorer(), n_jobs=1)
    two = _search(_learner(), X, y, make_curve_scorer(), n_jobs=2)
    np.testing.assert_array_equal(_split_scores(one), _split_scores(two))


def test_any_metric_with_its_options(small_digits):
    X, y = small_digits
    learner = _learner()
    search = _search(learner, X, y, make_curve_scorer(f1_score, average="macro"))
    expected = _expected_aulcs(learner, X, y, scoring=make_scorer(f1_score, average="macro"))
    np.testing.assert_allclose(_split_scores(search), expected, rtol=1e-12)
    named = _search(learner, X, y, make_curve_scorer("balanced_accuracy"))
    by_function = _search(learner, X, y, make_curve_scorer(balanced_accuracy_score))
    np.testing.assert_allclose(_split_scores(named), _split_scores(by_function), rtol=1e-12)


def test_labels_to_target_and_its_never_reached_value(small_digits):
    X, y = small_digits
    learner = _learner(query_strategy="margin")
    n_labeled, scores = active_learning_curve(learner, X, y, cv=CV)
    target = float(np.median(scores[-1]))  # reached on some splits, not on others
    needed = labels_to_reach(n_labeled, scores, target)
    assert np.isinf(needed).any() and np.isfinite(needed).any()
    expected = np.where(np.isinf(needed), -(n_labeled[-1] + learner.n_instances), -needed)
    result = cross_validate(learner, X, y, cv=CV, scoring=make_curve_scorer(
        kind="labels_to_target", target=target))
    # ties are broken by the curve: half its AULC, less than one label
    aulc = [area_under_learning_curve(n_labeled, scores[:, k]) for k in range(scores.shape[1])]
    np.testing.assert_allclose(result["test_score"], expected + np.asarray(aulc) / 2)
    assert np.array_equal(np.floor(result["test_score"]), expected)


def test_in_a_dict_of_scorers_with_refit(small_digits):
    X, y = small_digits
    scoring = {"aulc": make_curve_scorer(), "final": "accuracy"}
    search = _search(_learner(), X, y, scoring, refit="aulc")
    assert {"mean_test_aulc", "mean_test_final"} <= set(search.cv_results_)
    assert search.best_params_ == {"query_strategy": "margin"}
    # the final model's accuracy is the last point of the curve, below its area's bound
    assert np.all(search.cv_results_["mean_test_final"] >= search.cv_results_["mean_test_aulc"])


def test_curves_land_in_cv_results(small_digits):
    X, y = small_digits
    learner = _learner()
    search = _search(learner, X, y, make_curve_scorer(kind="curve"), refit="aulc")
    n_labeled, scores = curves_from_cv_results(search.cv_results_, [0, 1])
    for strategy in STRATEGIES:
        expected_n, expected = active_learning_curve(
            clone(learner).set_params(query_strategy=strategy), X, y, cv=CV)
        name = f"query_strategy={strategy}"
        np.testing.assert_array_equal(n_labeled[name], expected_n)
        np.testing.assert_allclose(scores[name], expected, rtol=1e-12)
    best_n, best = curves_from_cv_results(search.cv_results_)
    assert list(best) == ["query_strategy=margin"]


def test_rounds_not_run_are_nan_in_cv_results(small_digits):
    X, y = small_digits
    learner = _learner(max_labels=50)  # 20 initial + 15 + 15: 3 fits, the last batch cut
    result = cross_validate(learner, X, y, cv=CV, scoring=make_curve_scorer(kind="curve"))
    assert np.all(result["test_n_labeled_round_2"] == 50)
    assert "test_score_round_3" not in result  # planned rounds respect max_labels


def test_pipeline_and_pickle(small_digits):
    X, y = small_digits
    pipe = make_pipeline(StandardScaler(), _learner()).fit(X[:300], y[:300])
    scorer = make_curve_scorer()
    value = scorer(pipe, X[300:], y[300:])
    learner = pipe[-1]
    n_labeled, scores = scorer.curve(pipe, X[300:], y[300:])
    assert n_labeled.tolist() == [row["n_labeled"] for row in learner.history_]
    assert value == area_under_learning_curve(n_labeled, scores)
    assert scorer(pickle.loads(pickle.dumps(pipe)), X[300:], y[300:]) == value
    assert pickle.loads(pickle.dumps(scorer))(pipe, X[300:], y[300:]) == value
    assert clone(learner).get_params()["store_round_estimators"] is True


def test_round_models_are_each_rounds_own(small_digits):
    X, y = small_digits
    learner = _learner(warm_start=True, estimator=LogisticRegression(max_iter=300))
    learner.fit(X, y)
    models = learner.round_estimators_
    assert len(models) == len(learner.history_) == learner.n_queries + 1
    assert len({id(m) for m in models}) == len(models)
    for m, row in zip(models, learner.history_):  # kept models are not warm-started further
        seen = np.unique(learner.y_labeled_[: row["n_labeled"]])
        assert m.coef_.shape[0] == len(seen) and row["n_labeled"] >= 20
    refit = clone(LogisticRegression(max_iter=300)).fit(
        learner.X_labeled_[:20], learner.y_labeled_[:20])
    np.testing.assert_allclose(models[0].coef_, refit.coef_)
    assert _learner(store_round_estimators=False).fit(X, y).round_estimators_ == []


BAD_SCORERS = [  # (kwargs of make_curve_scorer, exception, message fragment)
    (dict(kind="auc"), ValueError, "kind must be one of"),
    (dict(kind="labels_to_target"), ValueError, "needs a target"),
    (dict(kind="labels_to_target", target="0.9"), TypeError, "target must be a real"),
    (dict(target=float("nan")), TypeError, "target must be a real"),
    (dict(score_func=3), TypeError, "score_func must be"),
    (dict(score_func="accuracyy"), ValueError, "accuracyy"),
    (dict(score_func="accuracy", average="macro"), TypeError, "pass the metric function"),
    (dict(target=0.9), ValueError, 'kind="aulc" .* has no use for target=0.9'),
    (dict(kind="aulc", target=0), ValueError, "drop target"),
]


@pytest.mark.parametrize("kwargs, exc, fragment", BAD_SCORERS)
def test_bad_scorer_options(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        make_curve_scorer(**kwargs)


BAD_ESTIMATORS = [  # (what is scored, exception, message fragment)
    (lambda X, y: LogisticRegression(max_iter=300).fit(X, y), TypeError,
     "not an active learner"),
    (lambda X, y: _learner(store_round_estimators=False).fit(X, y), ValueError,
     "store_round_estimators=True"),
    (lambda X, y: make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), TypeError,
     "not an active learner"),
    # Unfitted: the cause is the missing fit, not the option it was created with.
    (lambda X, y: _learner(), NotFittedError,
     r"^this ActiveLearningClassifier is not fitted.*Fit it \(with n_queries > 0\) before"),
    (lambda X, y: _learner(store_round_estimators=False), NotFittedError,
     r"not fitted.*Fit it \(with n_queries > 0 and store_round_estimators=True\)"),
    (lambda X, y: make_pipeline(_learner()), NotFittedError,
     "this ActiveLearningClassifier is not fitted"),
    (lambda X, y: _learner(store_round_estimators=False).fit(X, y).set_params(
        store_round_estimators=True), ValueError, "fitted before the option was set"),
]


@pytest.mark.parametrize("make, exc, fragment", BAD_ESTIMATORS)
def test_scorer_on_what_it_cannot_score(make, exc, fragment, small_digits):
    X, y = small_digits
    with pytest.raises(exc, match=fragment):
        make_curve_scorer()(make(X, y), X, y)


def test_search_over_a_non_active_estimator_is_a_clear_error(small_digits):
    X, y = small_digits
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0]}, cv=2,
                          scoring=make_curve_scorer(), error_score="raise")
    with pytest.raises(TypeError, match="not an active learner"):
        search.fit(X, y)


def test_curves_from_cv_results_refuses_other_results(small_digits):
    X, y = small_digits
    search = _search(_learner(), X, y, "accuracy")
    with pytest.raises(ValueError, match='kind="curve"'):
        curves_from_cv_results(search.cv_results_)
    curve_search = _search(_learner(), X, y, make_curve_scorer(kind="curve"), refit="aulc")
    for bad in ([5], [-1], ["a"]):
        with pytest.raises(ValueError, match="candidates must be row numbers"):
            curves_from_cv_results(curve_search.cv_results_, bad)


def test_teach_with_warm_start_leaves_the_kept_round_models_alone(small_digits):
    X, y = small_digits
    learner = _learner(warm_start=True).fit(X[:300], y[:300])
    last = learner.round_estimators_[-1]
    coef = last.coef_.copy()
    learner.teach(X[300:320], y[300:320])
    np.testing.assert_array_equal(last.coef_, coef)
    assert learner.estimator_ is not last
