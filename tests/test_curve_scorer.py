"""make_curve_scorer: selecting query strategies by label efficiency inside GridSearchCV."""

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    make_scorer,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal import ActiveLearningClassifier, ActiveLearningRegressor
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
    # ties are broken by the curve: its AULC a squashed into (0, 1/2), less than one label
    aulc = np.array([area_under_learning_curve(n_labeled, scores[:, k])
                     for k in range(scores.shape[1])])
    np.testing.assert_allclose(result["test_score"], expected + (1 + aulc / (1 + aulc)) / 4)
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


# --- labels_to_target with any metric's range; the default metric; marker rows -------------


class _Round(RegressorMixin, BaseEstimator):
    """A round model off the truth by ``err``: MSE err**2, R² 1 - err**2 / var(y)."""

    def __init__(self, err=0.0):
        self.err = err

    def predict(self, X):
        return X[:, 0] + self.err


class _Campaigned(RegressorMixin, BaseEstimator):
    """What a CurveScorer reads of a fitted learner: rounds at 10, 20, 30 labels."""

    store_round_estimators, n_instances, n_queries, max_labels = True, 10, 2, None

    def __init__(self, errs=(0.0, 0.0, 0.0)):
        self.errs = errs

    def fit(self, X, y):
        self.round_estimators_ = [_Round(e) for e in self.errs]
        self.history_ = [{"n_labeled": n} for n in (10, 20, 30)]
        return self


_TRUTH_X = np.arange(4.0)[:, np.newaxis]  # var(y) = 1.25

UNBOUNDED_TIES = [  # (scorer options, target, better errs, worse errs, their floors)
    # A reaches MSE <= 1 at 20 labels after a huge first error; B only at 30: A ranks first
    (dict(score_func=mean_squared_error, greater_is_better=False), 1.0,
     (10, 1, 1), (2, 1.2, 1), (-20, -30)),
    # the same, by the scorer's name: its target is in its own (negated) units
    (dict(score_func="neg_mean_squared_error"), -1.0, (10, 1, 1), (2, 1.2, 1), (-20, -30)),
    # R² of -719 at the first round: A reaches R² >= 0.9 at 20, B at 30
    (dict(score_func=r2_score), 0.9, (30, 0.1, 0.1), (1, 0.5, 0.1), (-20, -30)),
    (dict(), 0.9, (30, 0.1, 0.1), (1, 0.5, 0.1), (-20, -30)),  # R²: the regressor's default
    # neither reaches MSE <= 0.5: both one round past the last (-40); the better curve wins
    (dict(score_func=mean_squared_error, greater_is_better=False), 0.5,
     (2, 1.2, 1), (10, 1, 1), (-40, -40)),
    # both reach at 20 labels: the better curve wins, by less than one label
    (dict(score_func=mean_squared_error, greater_is_better=False), 1.0,
     (1.5, 1, 0), (1e6, 1, 0), (-20, -20)),
]


@pytest.mark.parametrize("options, target, better, worse, floors", UNBOUNDED_TIES)
def test_labels_to_target_tie_break_never_changes_the_order_by_labels(
        options, target, better, worse, floors):
    scorer = make_curve_scorer(kind="labels_to_target", target=target, **options)
    y = _TRUTH_X[:, 0]
    values = [scorer(_Campaigned(errs).fit(_TRUTH_X, y), _TRUTH_X, y) for errs in (better, worse)]
    assert values[0] > values[1]
    assert [math.floor(v) for v in values] == list(floors)
    curve = make_curve_scorer(kind="curve", target=target, **options)
    assert curve(_Campaigned(better).fit(_TRUTH_X, y), _TRUTH_X, y)[
        "labels_to_target"] == values[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e12, 1e12), min_size=3, max_size=3),
       st.lists(st.floats(-1e12, 1e12), min_size=3, max_size=3))
def test_labels_to_target_orders_by_labels_for_any_finite_scores(first, second):
    scorer = make_curve_scorer(r2_score, kind="labels_to_target", target=0.5)
    y = _TRUTH_X[:, 0]
    values, labels = [], []
    for errs in (first, second):
        learner = _Campaigned(tuple(errs)).fit(_TRUTH_X, y)
        n_labeled, scores = scorer.curve(learner, _TRUTH_X, y)
        labels.append(labels_to_reach(n_labeled, scores, 0.5))
        values.append(scorer(learner, _TRUTH_X, y))
        assert math.isfinite(values[-1])
    if labels[0] != labels[1]:
        assert (values[0] > values[1]) == (labels[0] < labels[1])


@pytest.fixture(scope="module")
def fitted_pair():
    from sklearn.datasets import load_diabetes, load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    Xr, yr = load_diabetes(return_X_y=True)
    yr = (yr - yr.mean()) / yr.std()  # continuous targets, some near -1
    options = dict(n_queries=2, n_instances=10, initial_size=20, random_state=0,
                   store_round_estimators=True)
    return {
        "classifier": (ActiveLearningClassifier(GaussianNB(), query_strategy="margin",
                                                **options).fit(X[:200], y[:200]),
                       X[200:], y[200:]),
        "regressor": (ActiveLearningRegressor(BayesianRidge(), **options).fit(
            Xr[:300], yr[:300]), Xr[300:], yr[300:]),
    }


@pytest.mark.parametrize("which, metric", [
    ("classifier", accuracy_score),
    ("regressor", r2_score),  # was accuracy: "can't handle ... continuous targets"
])
def test_default_metric_follows_the_learner(fitted_pair, which, metric):
    learner, X, y = fitted_pair[which]
    n_labeled, scores = make_curve_scorer().curve(learner, X, y)
    expected = [metric(y, m.predict(X)) for m in learner.round_estimators_]
    np.testing.assert_allclose(scores, expected)
    assert make_curve_scorer()(learner, X, y) == area_under_learning_curve(n_labeled, expected)


NO_OPTIONS_FOR_THE_DEFAULT = [  # options that need a named metric, and how they are named
    (dict(greater_is_better=False), "greater_is_better=False"),
    (dict(response_method="predict_proba"), "response_method='predict_proba'"),
    (dict(average="macro"), "average"),
]


@pytest.mark.parametrize("kwargs, fragment", NO_OPTIONS_FOR_THE_DEFAULT)
def test_default_metric_takes_no_options(kwargs, fragment):
    with pytest.raises(TypeError, match=f"score_func=None.*{fragment}.*accuracy_score"):
        make_curve_scorer(**kwargs)


def _mark(y, rows, marker):
    out = np.asarray(y, dtype=object if marker is None or marker is pd.NA else float)
    out = out.copy()
    out[rows] = marker
    return out


MARKED_TEST_ROWS = [  # (learner, marker, rows left out, sample weights)
    ("classifier", -1, True, False),
    ("classifier", np.nan, True, False),
    ("classifier", None, True, False),
    ("classifier", pd.NA, True, True),
    ("regressor", np.nan, True, True),
    ("regressor", None, True, False),
    ("regressor", -1.0, False, False),  # a regression target, not a marker
]


@pytest.mark.parametrize("which, marker, left_out, weighted", MARKED_TEST_ROWS)
def test_curve_leaves_unlabeled_test_rows_out(fitted_pair, which, marker, left_out, weighted):
    learner, X, y = fitted_pair[which]
    marked = _mark(y, slice(None, None, 2), marker)
    keep = np.arange(len(y)) % 2 == 1 if left_out else np.ones(len(y), dtype=bool)
    expected_y = y[keep] if left_out else marked.astype(float)
    weights = np.linspace(1, 2, len(y)) if weighted else None
    kept_weights = None if weights is None else weights[keep]
    for scorer in (make_curve_scorer(), make_curve_scorer(kind="curve")):
        got = scorer(learner, X, marked, sample_weight=weights)
        expected = scorer(learner, X[keep], expected_y, sample_weight=kept_weights)
        assert got == expected
    _, scores = make_curve_scorer().curve(learner, X, marked, sample_weight=weights)
    _, clean = make_curve_scorer().curve(learner, X[keep], expected_y,
                                         sample_weight=kept_weights)
    np.testing.assert_array_equal(scores, clean)


@pytest.mark.parametrize("which, marker", [("classifier", -1), ("regressor", np.nan)])
def test_curve_of_an_all_unlabeled_test_set_is_refused(fitted_pair, which, marker):
    learner, X, y = fitted_pair[which]
    with pytest.raises(ValueError, match="no labeled rows"):
        make_curve_scorer()(learner, X, _mark(y, slice(None), marker))
